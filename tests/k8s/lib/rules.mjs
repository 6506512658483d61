// The API server's own defaulting and validation (pkg/apis/*/validation and
// the registry strategies), for the fields that matter to dbtree. Everything
// here runs after the upstream OpenAPI schema check in schema.mjs.

import { fe } from "./errors.mjs";
import { clone, deepEqual, isObj, parseQuantity } from "./util.mjs";
import {
  dns1123Label,
  dns1123Subdomain,
  dns1035Label,
  qualifiedName,
  labelValue,
  configKey,
  ianaSvcName,
  envVarName,
} from "./names.mjs";
import { labelSelectorToRequirements, matchRequirements, selectorIsEmpty } from "./selector.mjs";

// the API server's --service-node-port-range (default 30000-32767)
export let NODE_PORT_MIN = 30000;
export let NODE_PORT_MAX = 32767;
export function setNodePortRange(min, max) {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) throw new Error("node port range must be MIN-MAX within 1-65535");
  NODE_PORT_MIN = min;
  NODE_PORT_MAX = max;
}
export const SERVICE_CIDR = "10.96.0.0/12";
const PROTOCOLS = ["SCTP", "TCP", "UDP"];

// ---------------------------------------------------------------- metadata

export function nameValidator(kind) {
  switch (kind) {
    case "Service":
      return dns1035Label;
    case "StatefulSet":
    case "Namespace":
      return dns1123Label;
    default:
      return dns1123Subdomain;
  }
}

function validateLabels(labels, fp, causes) {
  if (!isObj(labels)) return;
  for (const [k, v] of Object.entries(labels)) {
    for (const e of qualifiedName(k)) causes.push(fe.invalid(fp, k, e));
    for (const e of labelValue(v)) causes.push(fe.invalid(fp, v, e));
  }
}

export function validateMetadata(res, obj, old, causes) {
  const md = obj.metadata ?? {};
  if (!md.name) causes.push(fe.required("metadata.name", "name or generateName is required"));
  else for (const e of nameValidator(res.kind)(md.name)) causes.push(fe.invalid("metadata.name", md.name, e));
  validateLabels(md.labels, "metadata.labels", causes);
  if (isObj(md.annotations)) {
    let size = 0;
    for (const [k, v] of Object.entries(md.annotations)) {
      for (const e of qualifiedName(k.toLowerCase())) causes.push(fe.invalid("metadata.annotations", k, e));
      size += k.length + String(v).length;
    }
    if (size > 262144) causes.push(fe.tooLong("metadata.annotations", 262144));
  }
  const refs = md.ownerReferences ?? [];
  const controllers = refs.filter((r) => r.controller === true);
  if (controllers.length > 1)
    causes.push(
      fe.invalid("metadata.ownerReferences", refs, `Only one reference can have Controller set to true. Found "true" in references for ${controllers.map((r) => `${r.kind}/${r.name}`).join(" and ")}`),
    );
  refs.forEach((r, i) => {
    if (!r.uid) causes.push(fe.invalid(`metadata.ownerReferences[${i}].uid`, r.uid ?? "", "uid must not be empty"));
    if (!r.name) causes.push(fe.invalid(`metadata.ownerReferences[${i}].name`, r.name ?? "", "name must not be empty"));
    if (!r.apiVersion) causes.push(fe.invalid(`metadata.ownerReferences[${i}].apiVersion`, "", "version must not be empty"));
    if (!r.kind) causes.push(fe.invalid(`metadata.ownerReferences[${i}].kind`, "", "kind must not be empty"));
  });
  (md.finalizers ?? []).forEach((f, i) => {
    for (const e of qualifiedName(f)) causes.push(fe.invalid(`metadata.finalizers[${i}]`, f, e));
  });
  if (old && old.metadata.deletionTimestamp) {
    const oldF = new Set(old.metadata.finalizers ?? []);
    for (const f of md.finalizers ?? []) if (!oldF.has(f)) causes.push(fe.forbidden("metadata.finalizers", `no new finalizers can be added if the object is being deleted, found new finalizers ["${f}"]`));
  }
}

// ------------------------------------------------------------- selectors

function validateLabelSelector(sel, fp, causes) {
  if (!isObj(sel)) return;
  validateLabels(sel.matchLabels, `${fp}.matchLabels`, causes);
  (sel.matchExpressions ?? []).forEach((e, i) => {
    const p = `${fp}.matchExpressions[${i}]`;
    for (const m of qualifiedName(e.key ?? "")) causes.push(fe.invalid(`${p}.key`, e.key ?? "", m));
    const vals = e.values ?? [];
    switch (e.operator) {
      case "In":
      case "NotIn":
        if (vals.length === 0) causes.push(fe.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case "Exists":
      case "DoesNotExist":
        if (vals.length > 0) causes.push(fe.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        causes.push(fe.invalid(`${p}.operator`, e.operator ?? "", "not a valid selector operator"));
    }
    vals.forEach((v) => {
      for (const m of labelValue(v)) causes.push(fe.invalid(`${p}.values`, v, m));
    });
  });
}

// ----------------------------------------------------------------- pods

function imagePullPolicyDefault(image) {
  if (typeof image !== "string") return "IfNotPresent";
  const last = image.split("/").pop();
  if (last.includes("@")) return "IfNotPresent";
  const tag = last.includes(":") ? last.split(":").pop() : "";
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent";
}

function probeDefaults(p) {
  if (!isObj(p)) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (isObj(p.httpGet)) p.httpGet.scheme ??= "HTTP";
}

function containerDefaults(c) {
  if (!isObj(c)) return;
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  c.imagePullPolicy ??= imagePullPolicyDefault(c.image);
  for (const p of c.ports ?? []) if (isObj(p)) p.protocol ??= "TCP";
  probeDefaults(c.livenessProbe);
  probeDefaults(c.readinessProbe);
  probeDefaults(c.startupProbe);
  if (isObj(c.resources) && isObj(c.resources.limits)) {
    // requests default to limits
    c.resources.requests ??= {};
    for (const [k, v] of Object.entries(c.resources.limits)) if (!(k in c.resources.requests)) c.resources.requests[k] = v;
  }
  for (const e of c.env ?? []) {
    if (isObj(e?.valueFrom?.fieldRef)) e.valueFrom.fieldRef.apiVersion ??= "v1";
  }
}

export function podSpecDefaults(spec) {
  if (!isObj(spec)) return;
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= "default-scheduler";
  spec.securityContext ??= {};
  for (const c of spec.containers ?? []) containerDefaults(c);
  for (const c of spec.initContainers ?? []) containerDefaults(c);
  for (const v of spec.volumes ?? []) {
    if (!isObj(v)) continue;
    if (isObj(v.configMap)) v.configMap.defaultMode ??= 420;
    if (isObj(v.secret)) v.secret.defaultMode ??= 420;
    if (isObj(v.emptyDir)) v.emptyDir = v.emptyDir ?? {};
  }
}

function validatePort(v, fp, causes, allowName = true) {
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 1 || v > 65535) causes.push(fe.invalid(fp, v, "must be between 1 and 65535, inclusive"));
  } else if (typeof v === "string") {
    if (!allowName) causes.push(fe.invalid(fp, v, "must be a number"));
    else for (const e of ianaSvcName(v)) causes.push(fe.invalid(fp, v, e));
  }
}

function validateProbe(p, fp, causes) {
  if (!isObj(p)) return;
  const handlers = ["exec", "httpGet", "tcpSocket", "grpc"].filter((h) => p[h] !== undefined && p[h] !== null);
  if (handlers.length === 0) causes.push(fe.required(fp, "must specify a handler type"));
  if (handlers.length > 1) causes.push(fe.forbidden(`${fp}.${handlers[1]}`, "may not specify more than 1 handler type"));
  if (isObj(p.tcpSocket)) validatePort(p.tcpSocket.port, `${fp}.tcpSocket.port`, causes);
  if (isObj(p.httpGet)) validatePort(p.httpGet.port, `${fp}.httpGet.port`, causes);
  for (const k of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]) {
    if (typeof p[k] === "number" && p[k] < 0) causes.push(fe.invalid(`${fp}.${k}`, p[k], "must be greater than or equal to 0"));
  }
  if (fp.endsWith("livenessProbe") || fp.endsWith("startupProbe")) {
    if (p.successThreshold !== undefined && p.successThreshold !== 1) causes.push(fe.invalid(`${fp}.successThreshold`, p.successThreshold, "must be 1"));
  }
}

const STANDARD_RESOURCES = ["cpu", "memory", "ephemeral-storage", "storage"];

function validateResources(r, fp, causes) {
  if (!isObj(r)) return;
  const req = r.requests ?? {};
  const lim = r.limits ?? {};
  for (const [section, m] of [["requests", req], ["limits", lim]]) {
    for (const [k, v] of Object.entries(m)) {
      if (!STANDARD_RESOURCES.includes(k) && !k.startsWith("hugepages-") && !k.includes("/"))
        causes.push(fe.invalid(`${fp}.${section}[${k}]`, k, "must be a standard resource type or fully qualified"));
      const q = parseQuantity(v);
      if (Number.isNaN(q)) causes.push(fe.invalid(`${fp}.${section}[${k}]`, v, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
      else if (q < 0) causes.push(fe.invalid(`${fp}.${section}[${k}]`, v, "must be greater than or equal to 0"));
      else if (k === "cpu" && q > 0 && q < 0.001) causes.push(fe.invalid(`${fp}.${section}[${k}]`, v, "must be greater than or equal to 1m"));
    }
  }
  for (const [k, v] of Object.entries(req)) {
    if (k in lim) {
      const a = parseQuantity(v);
      const b = parseQuantity(lim[k]);
      if (!Number.isNaN(a) && !Number.isNaN(b) && a > b) causes.push(fe.invalid(`${fp}.requests`, v, `must be less than or equal to ${k} limit of ${lim[k]}`));
    }
  }
}

function validateContainers(list, fp, volumeNames, causes, required) {
  if (!Array.isArray(list)) return;
  if (required && list.length === 0) causes.push(fe.required(fp));
  const names = new Set();
  list.forEach((c, i) => {
    const p = `${fp}[${i}]`;
    if (!isObj(c)) return;
    if (!c.name) causes.push(fe.required(`${p}.name`));
    else {
      for (const e of dns1123Label(c.name)) causes.push(fe.invalid(`${p}.name`, c.name, e));
      if (names.has(c.name)) causes.push(fe.duplicate(`${p}.name`, c.name));
      names.add(c.name);
    }
    if (!c.image || String(c.image).trim() === "") causes.push(fe.required(`${p}.image`));
    else if (c.image !== c.image.trim()) causes.push(fe.invalid(`${p}.image`, c.image, "must not have leading or trailing whitespace"));
    if (c.imagePullPolicy !== undefined && !["Always", "IfNotPresent", "Never"].includes(c.imagePullPolicy))
      causes.push(fe.notSupported(`${p}.imagePullPolicy`, c.imagePullPolicy, ["Always", "IfNotPresent", "Never"]));
    const portNames = new Set();
    (c.ports ?? []).forEach((pt, j) => {
      const pp = `${p}.ports[${j}]`;
      validatePort(pt.containerPort, `${pp}.containerPort`, causes, false);
      if (pt.hostPort !== undefined && pt.hostPort !== 0) validatePort(pt.hostPort, `${pp}.hostPort`, causes, false);
      if (pt.protocol !== undefined && !PROTOCOLS.includes(pt.protocol)) causes.push(fe.notSupported(`${pp}.protocol`, pt.protocol, PROTOCOLS));
      if (pt.name) {
        for (const e of ianaSvcName(pt.name)) causes.push(fe.invalid(`${pp}.name`, pt.name, e));
        if (portNames.has(pt.name)) causes.push(fe.duplicate(`${pp}.name`, pt.name));
        portNames.add(pt.name);
      }
    });
    (c.env ?? []).forEach((e, j) => {
      const ep = `${p}.env[${j}]`;
      if (!isObj(e)) return;
      for (const m of envVarName(e.name ?? "")) causes.push(e.name ? fe.invalid(`${ep}.name`, e.name, m) : fe.required(`${ep}.name`));
      if (e.valueFrom !== undefined && e.valueFrom !== null) {
        if (e.value) causes.push(fe.invalid(`${ep}.valueFrom`, "", "may not be specified when `value` is not empty"));
        const srcs = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef"].filter((k) => e.valueFrom[k]);
        if (srcs.length === 0) causes.push(fe.invalid(`${ep}.valueFrom`, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
        if (srcs.length > 1) causes.push(fe.invalid(`${ep}.valueFrom`, "", "may not have more than one field specified at a time"));
        for (const k of ["configMapKeyRef", "secretKeyRef"]) {
          const ref = e.valueFrom[k];
          if (!isObj(ref)) continue;
          if (!ref.key) causes.push(fe.required(`${ep}.valueFrom.${k}.key`));
          else for (const m of configKey(ref.key)) causes.push(fe.invalid(`${ep}.valueFrom.${k}.key`, ref.key, m));
          if (!ref.name) causes.push(fe.required(`${ep}.valueFrom.${k}.name`));
        }
      }
    });
    const mountPaths = new Set();
    (c.volumeMounts ?? []).forEach((m, j) => {
      const mp = `${p}.volumeMounts[${j}]`;
      if (!m.name) causes.push(fe.required(`${mp}.name`));
      else if (!volumeNames.has(m.name)) causes.push(fe.notFound(`${mp}.name`, m.name));
      if (!m.mountPath) causes.push(fe.required(`${mp}.mountPath`));
      else {
        if (mountPaths.has(m.mountPath)) causes.push(fe.invalid(`${mp}.mountPath`, m.mountPath, "must be unique"));
        mountPaths.add(m.mountPath);
      }
    });
    validateResources(c.resources, `${p}.resources`, causes);
    validateProbe(c.livenessProbe, `${p}.livenessProbe`, causes);
    validateProbe(c.readinessProbe, `${p}.readinessProbe`, causes);
    validateProbe(c.startupProbe, `${p}.startupProbe`, causes);
  });
}

const VOLUME_SOURCES = [
  "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi", "glusterfs",
  "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap",
  "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos",
  "csi", "ephemeral", "image",
];

// A secret or configMap volume's defaultMode and items (ValidateKeyToPath).
function validateKeyToPaths(src, fp, causes) {
  const modeOk = (m) => m === undefined || (Number.isInteger(m) && m >= 0 && m <= 0o777);
  const modeMsg = "must be a number between 0 and 0777 (octal), both inclusive";
  if (!modeOk(src.defaultMode)) causes.push(fe.invalid(`${fp}.defaultMode`, src.defaultMode, modeMsg));
  (src.items ?? []).forEach((it, i) => {
    const ip = `${fp}.items[${i}]`;
    if (!it?.key) causes.push(fe.required(`${ip}.key`));
    if (!it?.path) causes.push(fe.required(`${ip}.path`));
    else if (it.path.startsWith("/")) causes.push(fe.invalid(`${ip}.path`, it.path, "must be a relative path"));
    else if (it.path.split("/").includes("..")) causes.push(fe.invalid(`${ip}.path`, it.path, "must not contain '..'"));
    if (!modeOk(it?.mode)) causes.push(fe.invalid(`${ip}.mode`, it.mode, modeMsg));
  });
}

export function validatePodSpec(spec, fp, causes, { extraVolumeNames = [], allowedRestartPolicies } = {}) {
  if (!isObj(spec)) return;
  const volNames = new Set(extraVolumeNames);
  const seen = new Set();
  (spec.volumes ?? []).forEach((v, i) => {
    const vp = `${fp}.volumes[${i}]`;
    if (!isObj(v)) return;
    if (!v.name) causes.push(fe.required(`${vp}.name`));
    else {
      for (const e of dns1123Label(v.name)) causes.push(fe.invalid(`${vp}.name`, v.name, e));
      if (seen.has(v.name)) causes.push(fe.duplicate(`${vp}.name`, v.name));
      seen.add(v.name);
      volNames.add(v.name);
    }
    const srcs = VOLUME_SOURCES.filter((s) => v[s] !== undefined && v[s] !== null);
    if (srcs.length === 0) causes.push(fe.required(vp, "must specify a volume type"));
    if (srcs.length > 1) causes.push(fe.forbidden(`${vp}.${srcs[1]}`, "may not specify more than 1 volume type"));
    if (isObj(v.configMap) && !v.configMap.name) causes.push(fe.required(`${vp}.configMap.name`));
    if (isObj(v.secret) && !v.secret.secretName) causes.push(fe.required(`${vp}.secret.secretName`));
    if (isObj(v.secret)) validateKeyToPaths(v.secret, `${vp}.secret`, causes);
    if (isObj(v.persistentVolumeClaim) && !v.persistentVolumeClaim.claimName) causes.push(fe.required(`${vp}.persistentVolumeClaim.claimName`));
  });
  validateContainers(spec.containers, `${fp}.containers`, volNames, causes, true);
  validateContainers(spec.initContainers, `${fp}.initContainers`, volNames, causes, false);
  const rp = spec.restartPolicy;
  const allowed = allowedRestartPolicies ?? ["Always", "OnFailure", "Never"];
  if (rp !== undefined && !allowed.includes(rp)) causes.push(fe.notSupported(`${fp}.restartPolicy`, rp, allowed));
  const dp = spec.dnsPolicy;
  const dnsPolicies = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
  if (dp !== undefined && !dnsPolicies.includes(dp)) causes.push(fe.notSupported(`${fp}.dnsPolicy`, dp, dnsPolicies));
  if (typeof spec.terminationGracePeriodSeconds === "number" && spec.terminationGracePeriodSeconds < 0)
    causes.push(fe.invalid(`${fp}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, "must be greater than or equal to 0"));
  validateLabels(spec.nodeSelector, `${fp}.nodeSelector`, causes);
}

// ------------------------------------------------------------------ PVC

const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];

function pvcSpecDefaults(spec) {
  if (!isObj(spec)) return;
  spec.volumeMode ??= "Filesystem";
}

function validatePVCSpec(spec, fp, causes) {
  if (!isObj(spec)) {
    causes.push(fe.required(`${fp}.accessModes`, "at least 1 access mode is required"));
    causes.push(fe.required(`${fp}.resources[storage]`));
    return;
  }
  const modes = spec.accessModes ?? [];
  if (modes.length === 0) causes.push(fe.required(`${fp}.accessModes`, "at least 1 access mode is required"));
  for (const m of modes) if (!ACCESS_MODES.includes(m)) causes.push(fe.notSupported(`${fp}.accessModes`, m, ACCESS_MODES));
  if (modes.includes("ReadWriteOncePod") && modes.length > 1)
    causes.push(fe.forbidden(`${fp}.accessModes`, "may not use ReadWriteOncePod with other access modes"));
  const st = spec.resources?.requests?.storage;
  if (st === undefined) causes.push(fe.required(`${fp}.resources[storage]`));
  else {
    const q = parseQuantity(st);
    if (!(q > 0)) causes.push(fe.invalid(`${fp}.resources[storage]`, st, "must be greater than zero"));
  }
  if (spec.volumeMode !== undefined && !["Block", "Filesystem"].includes(spec.volumeMode))
    causes.push(fe.notSupported(`${fp}.volumeMode`, spec.volumeMode, ["Block", "Filesystem"]));
}

// ---------------------------------------------------------- defaulting

// Applied before validation to every create/update of the kind.
export function applyDefaults(kind, obj, old) {
  switch (kind) {
    case "Secret": {
      obj.type ??= old?.type ?? "Opaque";
      if (isObj(obj.stringData)) {
        obj.data = isObj(obj.data) ? obj.data : {};
        for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v), "utf8").toString("base64");
      }
      delete obj.stringData;
      break;
    }
    case "Service": {
      const spec = (obj.spec = isObj(obj.spec) ? obj.spec : {});
      spec.type ??= "ClusterIP";
      spec.sessionAffinity ??= "None";
      const external = spec.type === "NodePort" || spec.type === "LoadBalancer";
      if (spec.type !== "ExternalName") spec.internalTrafficPolicy ??= "Cluster";
      if (external) spec.externalTrafficPolicy ??= "Cluster";
      for (const p of spec.ports ?? []) {
        if (!isObj(p)) continue;
        p.protocol ??= "TCP";
        if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === "") p.targetPort = p.port;
        if (p.nodePort === 0) delete p.nodePort;
      }
      if (old) {
        const ospec = old.spec ?? {};
        // patchAllocatedValues: keep allocated IP and node ports the client did not send
        if (spec.type !== "ExternalName" && ospec.type !== "ExternalName") {
          if (!spec.clusterIP && ospec.clusterIP) spec.clusterIP = ospec.clusterIP;
          if (!spec.clusterIPs && ospec.clusterIPs && spec.clusterIP === ospec.clusterIP) spec.clusterIPs = clone(ospec.clusterIPs);
          if (!spec.ipFamilies && ospec.ipFamilies) spec.ipFamilies = clone(ospec.ipFamilies);
          if (!spec.ipFamilyPolicy && ospec.ipFamilyPolicy) spec.ipFamilyPolicy = ospec.ipFamilyPolicy;
        }
        const oldExternal = ospec.type === "NodePort" || ospec.type === "LoadBalancer";
        if (external && oldExternal) {
          for (const p of spec.ports ?? []) {
            if (!isObj(p) || p.nodePort) continue;
            const op = (ospec.ports ?? []).find((o) => o.port === p.port && (o.protocol ?? "TCP") === p.protocol && o.nodePort);
            if (op) p.nodePort = op.nodePort;
          }
        }
        if (!external && oldExternal) {
          // dropTypeDependentFields: node ports the client left unchanged go away
          for (const p of spec.ports ?? []) {
            const op = (ospec.ports ?? []).find((o) => o.port === p.port && (o.protocol ?? "TCP") === p.protocol);
            if (op && p.nodePort === op.nodePort) delete p.nodePort;
          }
          if (spec.externalTrafficPolicy === ospec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
        }
      }
      obj.status ??= { loadBalancer: {} };
      break;
    }
    case "StatefulSet": {
      const spec = (obj.spec = isObj(obj.spec) ? obj.spec : {});
      spec.replicas ??= 1;
      spec.podManagementPolicy ??= "OrderedReady";
      if (!isObj(spec.updateStrategy)) spec.updateStrategy = { type: "RollingUpdate" };
      spec.updateStrategy.type ??= "RollingUpdate";
      if (spec.updateStrategy.type === "RollingUpdate") {
        spec.updateStrategy.rollingUpdate ??= {};
        spec.updateStrategy.rollingUpdate.partition ??= 0;
      }
      spec.revisionHistoryLimit ??= 10;
      if (!isObj(spec.persistentVolumeClaimRetentionPolicy)) spec.persistentVolumeClaimRetentionPolicy = {};
      spec.persistentVolumeClaimRetentionPolicy.whenDeleted ??= "Retain";
      spec.persistentVolumeClaimRetentionPolicy.whenScaled ??= "Retain";
      if (isObj(spec.template)) {
        spec.template.metadata ??= {};
        podSpecDefaults(spec.template.spec);
      }
      for (const t of spec.volumeClaimTemplates ?? []) {
        if (!isObj(t)) continue;
        t.apiVersion ??= "v1";
        t.kind ??= "PersistentVolumeClaim";
        pvcSpecDefaults(t.spec);
        t.status ??= { phase: "Pending" };
      }
      break;
    }
    case "PersistentVolumeClaim": {
      obj.spec = isObj(obj.spec) ? obj.spec : {};
      pvcSpecDefaults(obj.spec);
      // DefaultStorageClass admission: only on create
      if (!old) obj.spec.storageClassName ??= "standard";
      break;
    }
    case "NetworkPolicy": {
      const spec = (obj.spec = isObj(obj.spec) ? obj.spec : {});
      if (!spec.policyTypes) {
        spec.policyTypes = ["Ingress"];
        if (spec.egress !== undefined) spec.policyTypes.push("Egress");
      }
      for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) for (const p of rule?.ports ?? []) if (isObj(p)) p.protocol ??= "TCP";
      break;
    }
    case "Job": {
      jobDefaults(obj, old);
      break;
    }
    case "Namespace": {
      obj.spec ??= { finalizers: ["kubernetes"] };
      obj.status = { phase: obj.metadata?.deletionTimestamp ? "Terminating" : "Active" };
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), "kubernetes.io/metadata.name": obj.metadata.name };
      break;
    }
    default:
      break;
  }
}

// The Job strategy's PrepareForCreate and SetDefaults_Job: a generated
// selector on the uid, the labels that go with it, the counts and policies.
const JOB_UID_LABEL = "batch.kubernetes.io/controller-uid";

function jobDefaults(obj, old) {
  const spec = (obj.spec = isObj(obj.spec) ? obj.spec : {});
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= "NonIndexed";
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= "TerminatingOrFailed";
  if (isObj(spec.template)) {
    spec.template.metadata = isObj(spec.template.metadata) ? spec.template.metadata : {};
    podSpecDefaults(spec.template.spec);
  }
  if (old || spec.manualSelector === true || !obj.metadata?.uid) return;
  const uid = obj.metadata.uid;
  const name = obj.metadata.name;
  spec.selector = { matchLabels: { [JOB_UID_LABEL]: uid } };
  if (isObj(spec.template))
    spec.template.metadata.labels = {
      ...(spec.template.metadata.labels ?? {}),
      [JOB_UID_LABEL]: uid,
      "batch.kubernetes.io/job-name": name,
      "controller-uid": uid,
      "job-name": name,
    };
}

// ------------------------------------------------------------ validation

const STS_MUTABLE = ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

function validateStatefulSet(obj, old, causes) {
  const spec = obj.spec ?? {};
  if (typeof spec.replicas === "number" && spec.replicas < 0) causes.push(fe.invalid("spec.replicas", spec.replicas, "must be greater than or equal to 0"));
  if (typeof spec.minReadySeconds === "number" && spec.minReadySeconds < 0) causes.push(fe.invalid("spec.minReadySeconds", spec.minReadySeconds, "must be greater than or equal to 0"));
  if (typeof spec.revisionHistoryLimit === "number" && spec.revisionHistoryLimit < 0)
    causes.push(fe.invalid("spec.revisionHistoryLimit", spec.revisionHistoryLimit, "must be greater than or equal to 0"));
  if (spec.ordinals && typeof spec.ordinals.start === "number" && spec.ordinals.start < 0)
    causes.push(fe.invalid("spec.ordinals.start", spec.ordinals.start, "must be greater than or equal to 0"));
  if (!["OrderedReady", "Parallel"].includes(spec.podManagementPolicy))
    causes.push(fe.invalid("spec.podManagementPolicy", spec.podManagementPolicy, "must be 'OrderedReady' or 'Parallel'"));
  const us = spec.updateStrategy ?? {};
  if (!["RollingUpdate", "OnDelete"].includes(us.type)) causes.push(fe.invalid("spec.updateStrategy", us.type, "must be 'RollingUpdate' or 'OnDelete'"));
  if (us.type === "OnDelete" && us.rollingUpdate) causes.push(fe.invalid("spec.updateStrategy.rollingUpdate", us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
  if (us.rollingUpdate && typeof us.rollingUpdate.partition === "number" && us.rollingUpdate.partition < 0)
    causes.push(fe.invalid("spec.updateStrategy.rollingUpdate.partition", us.rollingUpdate.partition, "must be greater than or equal to 0"));
  const pol = spec.persistentVolumeClaimRetentionPolicy ?? {};
  for (const k of ["whenDeleted", "whenScaled"])
    if (!["Retain", "Delete"].includes(pol[k])) causes.push(fe.notSupported(`spec.persistentVolumeClaimRetentionPolicy.${k}`, pol[k], ["Retain", "Delete"]));

  if (spec.selector !== undefined) {
    validateLabelSelector(spec.selector, "spec.selector", causes);
    if (selectorIsEmpty(spec.selector)) causes.push(fe.invalid("spec.selector", spec.selector, "empty selector is invalid for statefulset"));
    else {
      const labels = spec.template?.metadata?.labels ?? {};
      if (!matchRequirements(labelSelectorToRequirements(spec.selector), labels))
        causes.push(fe.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"));
    }
  }
  if (isObj(spec.template)) {
    validateLabels(spec.template.metadata?.labels, "spec.template.metadata.labels", causes);
    const claimNames = (spec.volumeClaimTemplates ?? []).map((t) => t?.metadata?.name).filter(Boolean);
    validatePodSpec(spec.template.spec, "spec.template.spec", causes, { extraVolumeNames: claimNames, allowedRestartPolicies: ["Always"] });
  }
  const tnames = new Set();
  (spec.volumeClaimTemplates ?? []).forEach((t, i) => {
    const fp = `spec.volumeClaimTemplates[${i}]`;
    const n = t?.metadata?.name;
    if (!n) causes.push(fe.required(`${fp}.metadata.name`, "name or generateName is required"));
    else {
      for (const e of dns1123Subdomain(n)) causes.push(fe.invalid(`${fp}.metadata.name`, n, e));
      if (tnames.has(n)) causes.push(fe.duplicate(`${fp}.metadata.name`, n));
      tnames.add(n);
    }
    validateLabels(t?.metadata?.labels, `${fp}.metadata.labels`, causes);
    validatePVCSpec(t?.spec, `${fp}.spec`, causes);
  });
  if (spec.serviceName) for (const e of dns1123Label(spec.serviceName)) causes.push(fe.invalid("spec.serviceName", spec.serviceName, e));

  if (old) {
    const a = clone(spec);
    const b = clone(old.spec ?? {});
    for (const k of STS_MUTABLE) {
      delete a[k];
      delete b[k];
    }
    if (!deepEqual(a, b))
      causes.push(
        fe.forbidden(
          "spec",
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ),
      );
  }
}

function validateService(obj, old, causes) {
  const spec = obj.spec ?? {};
  const TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
  const type = spec.type;
  if (!TYPES.includes(type)) causes.push(fe.notSupported("spec.type", type, TYPES));
  const external = type === "NodePort" || type === "LoadBalancer";
  const ports = spec.ports ?? [];
  const headless = spec.clusterIP === "None";
  if (type === "ExternalName") {
    if (!spec.externalName) causes.push(fe.required("spec.externalName"));
  } else if (ports.length === 0 && !headless) causes.push(fe.required("spec.ports"));
  if (!["ClientIP", "None"].includes(spec.sessionAffinity)) causes.push(fe.notSupported("spec.sessionAffinity", spec.sessionAffinity, ["ClientIP", "None"]));
  const names = new Set();
  const keys = new Set();
  const nodePorts = new Set();
  ports.forEach((p, i) => {
    const fp = `spec.ports[${i}]`;
    if (!isObj(p)) return;
    if (ports.length > 1 && !p.name) causes.push(fe.required(`${fp}.name`));
    if (p.name) {
      for (const e of dns1123Label(p.name)) causes.push(fe.invalid(`${fp}.name`, p.name, e));
      if (names.has(p.name)) causes.push(fe.duplicate(`${fp}.name`, p.name));
      names.add(p.name);
    }
    validatePort(p.port, `${fp}.port`, causes, false);
    if (!PROTOCOLS.includes(p.protocol)) causes.push(fe.notSupported(`${fp}.protocol`, p.protocol, PROTOCOLS));
    validatePort(p.targetPort, `${fp}.targetPort`, causes, true);
    const key = `${p.port}/${p.protocol}`;
    if (keys.has(key)) causes.push(fe.duplicate(fp, { port: p.port, protocol: p.protocol }));
    keys.add(key);
    if (p.nodePort !== undefined) {
      if (!external) causes.push(fe.forbidden(`${fp}.nodePort`, `may not be used when \`type\` is '${type}'`));
      else if (!Number.isInteger(p.nodePort) || p.nodePort < NODE_PORT_MIN || p.nodePort > NODE_PORT_MAX)
        causes.push(fe.invalid(`${fp}.nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`));
      else {
        const nk = `${p.nodePort}/${p.protocol}`;
        if (nodePorts.has(nk)) causes.push(fe.duplicate(`${fp}.nodePort`, p.nodePort));
        nodePorts.add(nk);
      }
    }
  });
  if (spec.clusterIP !== undefined && spec.clusterIP !== "" && spec.clusterIP !== "None") {
    if (!isIPv4(spec.clusterIP)) causes.push(fe.invalid("spec.clusterIPs[0]", spec.clusterIP, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
    else if (!old || old.spec?.clusterIP !== spec.clusterIP) {
      if (!inServiceCIDR(spec.clusterIP))
        causes.push(fe.invalid("spec.clusterIPs", [spec.clusterIP], `failed to allocate IP ${spec.clusterIP}: provided IP is not in the valid range. The range of valid IPs is ${SERVICE_CIDR}`));
    }
  }
  if (headless && external) causes.push(fe.invalid("spec.clusterIPs[0]", "None", `may not be set to 'None' for ${type} services`));
  if (type === "ExternalName" && spec.clusterIP) causes.push(fe.forbidden("spec.clusterIP", "may not be set for ExternalName services"));
  if (!external && spec.externalTrafficPolicy)
    causes.push(fe.invalid("spec.externalTrafficPolicy", spec.externalTrafficPolicy, "may only be set for externally-accessible services"));
  if (external && !["Cluster", "Local"].includes(spec.externalTrafficPolicy))
    causes.push(fe.notSupported("spec.externalTrafficPolicy", spec.externalTrafficPolicy, ["Cluster", "Local"]));
  validateLabels(spec.selector, "spec.selector", causes);
  if (old && old.spec?.clusterIP && spec.clusterIP && spec.clusterIP !== old.spec.clusterIP && type !== "ExternalName" && old.spec.type !== "ExternalName")
    causes.push(fe.invalid("spec.clusterIP", spec.clusterIP, "field is immutable"));
}

function validateSecret(obj, old, causes) {
  const data = obj.data ?? {};
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const e of configKey(k)) causes.push(fe.invalid("data", k, e));
    size += Buffer.from(String(v ?? ""), "base64").length;
  }
  if (size > 1048576) causes.push(fe.tooLong("data", 1048576));
  const required = {
    "kubernetes.io/service-account-token": [],
    "kubernetes.io/dockercfg": [".dockercfg"],
    "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
    "kubernetes.io/basic-auth": [],
    "kubernetes.io/ssh-auth": ["ssh-privatekey"],
    "kubernetes.io/tls": ["tls.crt", "tls.key"],
  }[obj.type];
  for (const k of required ?? []) if (!(k in data)) causes.push(fe.required(`data[${k}]`));
  if (obj.type === "kubernetes.io/basic-auth" && !("username" in data) && !("password" in data))
    causes.push(fe.required("data[username]", "either username or password is required for basic auth"));
  if (old) {
    if (old.type !== obj.type) causes.push(fe.invalid("type", obj.type, "field is immutable"));
    if (old.immutable === true) {
      if (obj.immutable !== true) causes.push(fe.forbidden("immutable", "field is immutable when `immutable` is set"));
      if (!deepEqual(old.data ?? {}, obj.data ?? {})) causes.push(fe.forbidden("data", "field is immutable when `immutable` is set"));
    }
  }
}

function validateConfigMap(obj, old, causes) {
  let size = 0;
  const keys = new Set();
  for (const section of ["data", "binaryData"]) {
    for (const [k, v] of Object.entries(obj[section] ?? {})) {
      for (const e of configKey(k)) causes.push(fe.invalid(section, k, e));
      if (keys.has(k)) causes.push(fe.invalid(section, k, "duplicate of key present in binaryData"));
      keys.add(k);
      size += String(v).length;
    }
  }
  if (size > 1048576) causes.push(fe.tooLong("", 1048576));
  if (old && old.immutable === true) {
    if (obj.immutable !== true) causes.push(fe.forbidden("immutable", "field is immutable when `immutable` is set"));
    if (!deepEqual(old.data ?? {}, obj.data ?? {})) causes.push(fe.forbidden("data", "field is immutable when `immutable` is set"));
  }
}

function validatePVC(obj, old, causes) {
  validatePVCSpec(obj.spec, "spec", causes);
  if (old) {
    const a = clone(obj.spec ?? {});
    const b = clone(old.spec ?? {});
    for (const x of [a, b]) {
      delete x.resources;
      delete x.volumeAttributesClassName;
      if (x.storageClassName === undefined) delete x.storageClassName;
    }
    if (b.storageClassName !== undefined && a.storageClassName === undefined) a.storageClassName = b.storageClassName;
    if (b.volumeName !== undefined && a.volumeName === undefined) a.volumeName = b.volumeName;
    if (!deepEqual(a, b)) causes.push(fe.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"));
    const ns = parseQuantity(obj.spec?.resources?.requests?.storage);
    const os = parseQuantity(old.spec?.resources?.requests?.storage);
    if (ns < os) causes.push(fe.forbidden("spec.resources.requests.storage", "field can not be less than status.capacity"));
  }
}

function isIPv4(s) {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return !!m && m.slice(1).every((x) => Number(x) <= 255 && String(Number(x)) === x);
}
export const ipToInt = (s) => s.split(".").reduce((a, x) => a * 256 + Number(x), 0);
export const intToIp = (n) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
const inServiceCIDR = (ip) => (ipToInt(ip) >>> 20) === (ipToInt("10.96.0.0") >>> 20);

function isCIDR(s) {
  const m = /^(.+)\/(\d{1,2})$/.exec(s ?? "");
  return !!m && isIPv4(m[1]) && Number(m[2]) <= 32;
}

function validateNetworkPolicy(obj, old, causes) {
  const spec = obj.spec ?? {};
  validateLabelSelector(spec.podSelector, "spec.podSelector", causes);
  const types = spec.policyTypes ?? [];
  if (types.length > 2) causes.push(fe.tooMany("spec.policyTypes", 2));
  for (const t of types) if (!["Ingress", "Egress"].includes(t)) causes.push(fe.notSupported("spec.policyTypes", t, ["Egress", "Ingress"]));
  for (const [dir, peersKey] of [["ingress", "from"], ["egress", "to"]]) {
    (spec[dir] ?? []).forEach((rule, i) => {
      const fp = `spec.${dir}[${i}]`;
      (rule?.ports ?? []).forEach((p, j) => {
        const pp = `${fp}.ports[${j}]`;
        if (p.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) causes.push(fe.notSupported(`${pp}.protocol`, p.protocol, PROTOCOLS));
        if (p.port !== undefined) validatePort(p.port, `${pp}.port`, causes, true);
        if (p.endPort !== undefined) {
          if (typeof p.port !== "number") causes.push(fe.required(`${pp}.port`, "must be specified when endPort is specified"));
          else if (p.endPort < p.port) causes.push(fe.invalid(`${pp}.endPort`, p.endPort, "must be greater than or equal to `port`"));
        }
      });
      (rule?.[peersKey] ?? []).forEach((peer, j) => {
        const pp = `${fp}.${peersKey}[${j}]`;
        const n = ["podSelector", "namespaceSelector", "ipBlock"].filter((k) => peer?.[k]);
        if (n.length === 0) causes.push(fe.required(pp, "must specify a peer"));
        if (peer?.ipBlock && n.length > 1) causes.push(fe.forbidden(pp, "may not specify both ipBlock and another peer"));
        if (peer?.podSelector) validateLabelSelector(peer.podSelector, `${pp}.podSelector`, causes);
        if (peer?.namespaceSelector) validateLabelSelector(peer.namespaceSelector, `${pp}.namespaceSelector`, causes);
        if (peer?.ipBlock) {
          if (!isCIDR(peer.ipBlock.cidr)) causes.push(fe.invalid(`${pp}.ipBlock.cidr`, peer.ipBlock.cidr ?? "", "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
          (peer.ipBlock.except ?? []).forEach((c, k) => {
            if (!isCIDR(c)) causes.push(fe.invalid(`${pp}.ipBlock.except[${k}]`, c, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
          });
        }
      });
    });
  }
}

const JOB_MUTABLE = ["parallelism", "activeDeadlineSeconds", "suspend", "backoffLimit", "backoffLimitPerIndex", "maxFailedIndexes", "ttlSecondsAfterFinished", "podFailurePolicy", "successPolicy", "managedBy"];

function validateJob(obj, old, causes) {
  const spec = obj.spec ?? {};
  if ((obj.metadata?.name ?? "").length > 63) causes.push(fe.invalid("metadata.name", obj.metadata.name, "must be no more than 63 characters"));
  for (const k of ["parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished"])
    if (typeof spec[k] === "number" && spec[k] < 0) causes.push(fe.invalid(`spec.${k}`, spec[k], "must be greater than or equal to 0"));
  if (typeof spec.activeDeadlineSeconds === "number" && spec.activeDeadlineSeconds <= 0)
    causes.push(fe.invalid("spec.activeDeadlineSeconds", spec.activeDeadlineSeconds, "must be greater than 0"));
  if (!["NonIndexed", "Indexed"].includes(spec.completionMode)) causes.push(fe.notSupported("spec.completionMode", spec.completionMode, ["NonIndexed", "Indexed"]));
  if (spec.selector === undefined) causes.push(fe.required("spec.selector"));
  else {
    validateLabelSelector(spec.selector, "spec.selector", causes);
    const labels = spec.template?.metadata?.labels ?? {};
    if (!matchRequirements(labelSelectorToRequirements(spec.selector), labels))
      causes.push(fe.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"));
  }
  if (!isObj(spec.template)) causes.push(fe.required("spec.template"));
  else {
    validateLabels(spec.template.metadata?.labels, "spec.template.metadata.labels", causes);
    validatePodSpec(spec.template.spec, "spec.template.spec", causes, { allowedRestartPolicies: ["OnFailure", "Never"] });
  }
  if (old) {
    const a = clone(spec);
    const b = clone(old.spec ?? {});
    for (const k of JOB_MUTABLE) {
      delete a[k];
      delete b[k];
    }
    if (!deepEqual(a.template, b.template)) causes.push(fe.invalid("spec.template", spec.template, "field is immutable"));
    if (!deepEqual(a.selector, b.selector)) causes.push(fe.invalid("spec.selector", spec.selector, "field is immutable"));
    if (a.completions !== b.completions) causes.push(fe.invalid("spec.completions", spec.completions, "field is immutable"));
  }
}

// cert-manager's validating webhook (internal/apis/certmanager/validation),
// the rules beyond the CRD schema that matter here.
function validateCertificate(obj, old, causes) {
  const spec = obj.spec ?? {};
  const ids = ["commonName", "dnsNames", "uris", "ipAddresses", "emailAddresses", "literalSubject", "otherNames"];
  if (!ids.some((k) => (Array.isArray(spec[k]) ? spec[k].length > 0 : !!spec[k])))
    causes.push(fe.invalid("spec", "", "at least one of commonName (from the commonName field or from a literalSubject), dnsNames, uriSANs, ipAddresses, emailSANs or otherNames must be set"));
  (spec.ipAddresses ?? []).forEach((ip, i) => {
    if (!isIPv4(ip) && !isIPv6(ip)) causes.push(fe.invalid(`spec.ipAddresses[${i}]`, ip, "invalid IP address"));
  });
  if (spec.secretName) for (const e of dns1123Subdomain(spec.secretName)) causes.push(fe.invalid("spec.secretName", spec.secretName, e));
  const kind = spec.issuerRef?.kind;
  const group = spec.issuerRef?.group;
  if ((!group || group === "cert-manager.io") && kind && !["Issuer", "ClusterIssuer"].includes(kind))
    causes.push(fe.invalid("spec.issuerRef.kind", kind, "must be one of Issuer or ClusterIssuer"));
}

function isIPv6(s) {
  if (typeof s !== "string" || !s.includes(":") || !/^[0-9a-fA-F:.]+$/.test(s)) return false;
  const dbl = s.split("::");
  if (dbl.length > 2) return false;
  const groups = s.split(":").filter((g) => g !== "");
  return groups.length <= 8 && groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g) || isIPv4(g));
}

export function validateKind(kind, obj, old, causes) {
  switch (kind) {
    case "Job":
      return validateJob(obj, old, causes);
    case "Certificate":
      return validateCertificate(obj, old, causes);
    case "StatefulSet":
      return validateStatefulSet(obj, old, causes);
    case "Service":
      return validateService(obj, old, causes);
    case "Secret":
      return validateSecret(obj, old, causes);
    case "ConfigMap":
      return validateConfigMap(obj, old, causes);
    case "PersistentVolumeClaim":
      return validatePVC(obj, old, causes);
    case "NetworkPolicy":
      return validateNetworkPolicy(obj, old, causes);
    default:
      return undefined;
  }
}

// ------------------------------------------------------- allocation

// ctx: {usedNodePorts: Set<number>, usedClusterIPs: Set<string>, rand: () => number}
export function allocateService(obj, old, ctx, causes) {
  const spec = obj.spec;
  const external = spec.type === "NodePort" || spec.type === "LoadBalancer";
  if (spec.type !== "ExternalName") {
    if (!spec.clusterIP) {
      spec.clusterIP = allocateClusterIP(ctx);
    } else if (spec.clusterIP !== "None" && (!old || old.spec?.clusterIP !== spec.clusterIP) && ctx.usedClusterIPs.has(spec.clusterIP)) {
      causes.push(fe.invalid("spec.clusterIPs", [spec.clusterIP], `failed to allocate IP ${spec.clusterIP}: provided IP is already allocated`));
    }
    spec.clusterIPs = [spec.clusterIP];
    if (spec.clusterIP !== "None") spec.ipFamilies ??= ["IPv4"];
    else spec.ipFamilies ??= ["IPv4"];
    spec.ipFamilyPolicy ??= "SingleStack";
  } else {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  }
  if (!external) return;
  const own = new Set();
  const oldPorts = new Set((old?.spec?.ports ?? []).map((p) => p.nodePort).filter(Boolean));
  (spec.ports ?? []).forEach((p, i) => {
    if (p.nodePort === undefined) return;
    if (ctx.usedNodePorts.has(p.nodePort) && !oldPorts.has(p.nodePort))
      causes.push(fe.invalid(`spec.ports[${i}].nodePort`, p.nodePort, "provided port is already allocated"));
    own.add(p.nodePort);
  });
  for (const p of spec.ports ?? []) {
    if (p.nodePort !== undefined) continue;
    const port = allocateNodePort(ctx, own);
    if (port === undefined) {
      causes.push(fe.invalid("spec.ports", p.port, "failed to allocate a nodePort: range is full"));
      return;
    }
    p.nodePort = port;
    own.add(port);
  }
}

function allocateClusterIP(ctx) {
  const base = ipToInt("10.96.0.0");
  for (let i = 0; i < 1 << 20; i++) {
    ctx.nextIP = ((ctx.nextIP ?? 9) + 1) % (1 << 20);
    if (ctx.nextIP < 10) continue; // .1 is the kubernetes service, keep the first few free
    const ip = intToIp(base + ctx.nextIP);
    if (ip.endsWith(".0") || ip.endsWith(".255")) continue;
    if (!ctx.usedClusterIPs.has(ip)) return ip;
  }
  throw new Error("service CIDR exhausted");
}

function allocateNodePort(ctx, own) {
  // Dynamic allocations prefer the upper band of the range (KEP-3668), leaving the
  // lower band (30000-30085 for the default range) for static node ports.
  const size = NODE_PORT_MAX - NODE_PORT_MIN + 1;
  const band = Math.min(Math.max(16, Math.floor(size / 32)), 128);
  const free = (p) => !ctx.usedNodePorts.has(p) && !own.has(p);
  const upper = [];
  for (let p = NODE_PORT_MIN + band; p <= NODE_PORT_MAX; p++) if (free(p)) upper.push(p);
  if (upper.length) return upper[Math.floor(ctx.rand() * upper.length)];
  for (let p = NODE_PORT_MIN; p < NODE_PORT_MIN + band; p++) if (free(p)) return p;
  return undefined;
}
