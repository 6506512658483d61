// A tiny StatefulSet controller + kubelet: pods "<sts>-<ordinal>", PVCs
// "<template>-<sts>-<ordinal>", pod and StatefulSet status. No scheduling,
// no images, no probes: readiness comes from the control endpoints.

import { clone, deepEqual, isObj, nowIso, shortHash } from "./util.mjs";

const MAX_STS_NAME_FOR_PODS = 52; // longer names make the controller-revision-hash label exceed 63 chars

// The template's hash, kept per template object: the store never changes a
// stored object in place (an update stores a new copy), and every controller
// pass asks for every set's revision.
const templateHashes = new WeakMap();

export function revisionName(sts) {
  const tmpl = sts.spec?.template;
  if (!tmpl) return `${sts.metadata.name}-${shortHash("{}")}`;
  if (!templateHashes.has(tmpl)) templateHashes.set(tmpl, shortHash(JSON.stringify(tmpl)));
  return `${sts.metadata.name}-${templateHashes.get(tmpl)}`;
}

function qosClass(spec) {
  const cs = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of cs) {
    const r = c.resources ?? {};
    const req = r.requests ?? {};
    const lim = r.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const k of ["cpu", "memory"]) if (lim[k] === undefined || String(lim[k]) !== String(req[k] ?? lim[k])) guaranteed = false;
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

function condition(prev, type, status, extra = {}) {
  const old = (prev?.conditions ?? []).find((c) => c.type === type);
  const lastTransitionTime = old && old.status === status ? old.lastTransitionTime : nowIso();
  return { type, status, lastProbeTime: null, lastTransitionTime, ...extra };
}

// mode: "ready" | "starting" | {reason, message}
function podStatus(pod, mode, prev, index) {
  const spec = pod.spec;
  const created = pod.metadata.creationTimestamp;
  const base = { qosClass: qosClass(spec) };
  if (isObj(mode) && mode.reason === "Unschedulable") {
    return {
      ...base,
      phase: "Pending",
      conditions: [
        condition(prev, "PodScheduled", "False", {
          reason: "Unschedulable",
          message: mode.message ?? "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
        }),
      ],
    };
  }
  const ready = mode === "ready";
  const crash = isObj(mode) && mode.reason === "CrashLoopBackOff";
  const conds = [
    condition(prev, "PodReadyToStartContainers", "True"),
    condition(prev, "Initialized", "True"),
    condition(prev, "Ready", ready ? "True" : "False", ready ? {} : { reason: "ContainersNotReady", message: `containers with unready status: [${(spec.containers ?? []).map((c) => c.name).join(" ")}]` }),
    condition(prev, "ContainersReady", ready ? "True" : "False", ready ? {} : { reason: "ContainersNotReady", message: `containers with unready status: [${(spec.containers ?? []).map((c) => c.name).join(" ")}]` }),
    condition(prev, "PodScheduled", "True"),
  ];
  const containerStatuses = (spec.containers ?? []).map((c) => {
    const cs = {
      name: c.name,
      image: c.image,
      imageID: "",
      containerID: "",
      ready,
      restartCount: 0,
      started: false,
      state: {},
      lastState: {},
    };
    if (ready) {
      cs.imageID = `docker.io/library/${c.image}@sha256:${"0".repeat(64)}`;
      cs.containerID = `containerd://${shortHash(`${pod.metadata.uid}/${c.name}`)}${"0".repeat(54)}`;
      cs.started = true;
      cs.state = { running: { startedAt: created } };
    } else if (crash) {
      cs.imageID = `docker.io/library/${c.image}@sha256:${"0".repeat(64)}`;
      cs.containerID = `containerd://${shortHash(`${pod.metadata.uid}/${c.name}`)}${"0".repeat(54)}`;
      cs.restartCount = 5;
      cs.state = { waiting: { reason: "CrashLoopBackOff", message: mode.message ?? `back-off 2m40s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})` } };
      cs.lastState = { terminated: { exitCode: 1, reason: "Error", startedAt: created, finishedAt: created, containerID: cs.containerID } };
    } else if (isObj(mode)) {
      const msg =
        mode.message ??
        (mode.reason === "ImagePullBackOff"
          ? `Back-off pulling image "${c.image}"`
          : mode.reason === "ErrImagePull"
            ? `failed to pull and unpack image "${c.image}": not found`
            : `${mode.reason}`);
      cs.state = { waiting: { reason: mode.reason, message: msg } };
    } else {
      cs.state = { waiting: { reason: "ContainerCreating" } };
    }
    return cs;
  });
  const st = {
    ...base,
    phase: ready || crash ? "Running" : "Pending",
    conditions: conds,
    hostIP: "172.18.0.2",
    hostIPs: [{ ip: "172.18.0.2" }],
    podIP: `10.244.0.${10 + (index % 240)}`,
    podIPs: [{ ip: `10.244.0.${10 + (index % 240)}` }],
    startTime: created,
    containerStatuses,
  };
  return st;
}

function ordinalOf(pod, stsName) {
  const m = new RegExp(`^${stsName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(\\d+)$`).exec(pod.metadata.name);
  return m ? Number(m[1]) : -1;
}

const controlledBy = (obj, owner) => (obj.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.controller === true);

// api: {list(plural, ns), get(plural, ns, name), create(plural, obj), update(plural, obj), remove(plural, ns, name), state(sts), autoReady()}
export function reconcileStatefulSets(api) {
  let podIndex = 0;
  // every pod once, grouped by its controller's uid (not a list per set)
  const podsByOwner = new Map();
  for (const p of api.list("pods")) {
    for (const r of p.metadata.ownerReferences ?? []) {
      if (r.controller !== true) continue;
      if (!podsByOwner.has(r.uid)) podsByOwner.set(r.uid, []);
      podsByOwner.get(r.uid).push(p);
    }
  }
  for (const sts of api.list("statefulsets")) {
    if (sts.metadata.deletionTimestamp) continue;
    const ns = sts.metadata.namespace;
    const name = sts.metadata.name;
    const spec = sts.spec;
    const st = api.state(sts);
    const replicas = spec.replicas ?? 1;
    const start = spec.ordinals?.start ?? 0;
    const rev = revisionName(sts);
    const tmpl = spec.template ?? {};
    const canCreatePods = name.length <= MAX_STS_NAME_FOR_PODS;
    const ordered = spec.podManagementPolicy !== "Parallel";
    const modeFor = (ord) => {
      if (st.fail && (st.fail.ordinals === undefined || st.fail.ordinals.includes(ord))) return { reason: st.fail.reason, message: st.fail.message };
      return st.ready || api.autoReady() ? "ready" : "starting";
    };

    const pods = (podsByOwner.get(sts.metadata.uid) ?? []).filter((p) => p.metadata.namespace === ns && controlledBy(p, sts));
    // scale down
    for (const p of pods) {
      const ord = ordinalOf(p, name);
      if (ord < start || ord >= start + replicas) {
        api.remove("pods", ns, p.metadata.name);
        if (spec.persistentVolumeClaimRetentionPolicy?.whenScaled === "Delete")
          for (const t of spec.volumeClaimTemplates ?? []) api.remove("persistentvolumeclaims", ns, `${t.metadata.name}-${name}-${ord}`);
      }
    }
    // scale up / keep
    for (let ord = start; ord < start + replicas; ord++) {
      for (const t of spec.volumeClaimTemplates ?? []) {
        const pvcName = `${t.metadata.name}-${name}-${ord}`;
        if (api.get("persistentvolumeclaims", ns, pvcName)) continue;
        const pvc = {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: {
            name: pvcName,
            namespace: ns,
            labels: { ...(t.metadata.labels ?? {}), ...(spec.selector?.matchLabels ?? {}) },
            annotations: { ...(t.metadata.annotations ?? {}), "pv.kubernetes.io/bind-completed": "yes", "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path" },
            finalizers: ["kubernetes.io/pvc-protection"],
          },
          spec: { ...clone(t.spec), storageClassName: t.spec?.storageClassName ?? "standard" },
          status: {},
        };
        if (spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === "Delete")
          pvc.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "StatefulSet", name, uid: sts.metadata.uid, controller: true, blockOwnerDeletion: true }];
        const created = api.create("persistentvolumeclaims", pvc);
        created.spec.volumeName = `pvc-${created.metadata.uid}`;
        created.status = { phase: "Bound", accessModes: clone(created.spec.accessModes ?? []), capacity: { storage: created.spec.resources?.requests?.storage } };
        api.update("persistentvolumeclaims", created);
      }
      if (!canCreatePods) continue;
      const podName = `${name}-${ord}`;
      let pod = api.get("pods", ns, podName);
      if (pod && !controlledBy(pod, sts)) continue; // orphaned or foreign pod with that name
      if (!pod) {
        if (ordered && ord > start) {
          // OrderedReady: the next pod only once all lower ordinals are
          // Running and Ready (the first has none: no list of every pod,
          // which made creating N sets quadratic)
          const lowerNotReady = api
            .list("pods", ns)
            .filter((p) => controlledBy(p, sts))
            .some((p) => ordinalOf(p, name) < ord && !(p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"));
          if (lowerNotReady) break;
        }
        const podSpec = clone(tmpl.spec ?? {});
        podSpec.hostname = podName;
        if (spec.serviceName) podSpec.subdomain = spec.serviceName;
        podSpec.volumes = [
          ...(spec.volumeClaimTemplates ?? []).map((t) => ({ name: t.metadata.name, persistentVolumeClaim: { claimName: `${t.metadata.name}-${name}-${ord}` } })),
          ...(podSpec.volumes ?? []).filter((v) => !(spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === v.name)),
        ];
        podSpec.enableServiceLinks ??= true;
        podSpec.priority ??= 0;
        podSpec.preemptionPolicy ??= "PreemptLowerPriority";
        podSpec.tolerations ??= [
          { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
          { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        ];
        pod = api.create("pods", {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: podName,
            generateName: `${name}-`,
            namespace: ns,
            labels: { ...(tmpl.metadata?.labels ?? {}), "apps.kubernetes.io/pod-index": String(ord), "controller-revision-hash": rev, "statefulset.kubernetes.io/pod-name": podName },
            ...(tmpl.metadata?.annotations ? { annotations: clone(tmpl.metadata.annotations) } : {}),
            ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name, uid: sts.metadata.uid, controller: true, blockOwnerDeletion: true }],
          },
          spec: podSpec,
          status: { phase: "Pending", qosClass: qosClass(podSpec) },
        });
      }
      // template change: update the pod in place (a real rollout recreates it).
      // A shallow copy: next's metadata and spec are its own, whatever they
      // hold is replaced, never changed, and the store copies what it keeps.
      const next = { ...pod, metadata: { ...pod.metadata }, spec: { ...pod.spec } };
      if (pod.metadata.labels?.["controller-revision-hash"] !== rev) {
        next.metadata.labels = { ...(tmpl.metadata?.labels ?? {}), "apps.kubernetes.io/pod-index": String(ord), "controller-revision-hash": rev, "statefulset.kubernetes.io/pod-name": podName };
        const keep = { hostname: pod.spec.hostname, subdomain: pod.spec.subdomain, volumes: pod.spec.volumes, nodeName: pod.spec.nodeName };
        next.spec = { ...pod.spec, ...clone(tmpl.spec ?? {}), ...keep };
        next.spec.volumes = [
          ...(pod.spec.volumes ?? []).filter((v) => v.persistentVolumeClaim),
          ...((tmpl.spec?.volumes ?? []).filter((v) => !(spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === v.name))),
        ];
      }
      const mode = modeFor(ord);
      if (isObj(mode) && mode.reason === "Unschedulable") delete next.spec.nodeName;
      else next.spec.nodeName = "standin-node";
      next.status = podStatus(next, mode, pod.status, podIndex++);
      if (!deepEqual(next, pod)) api.update("pods", next);
    }

    // status: the set's pods as they are now (the ones it had, and the ones
    // it may just have made), looked up by name: listing every pod in the
    // namespace for each set made a pass quadratic in the number of sets
    const names = new Set(pods.map((p) => p.metadata.name));
    if (canCreatePods) for (let ord = start; ord < start + replicas; ord++) names.add(`${name}-${ord}`);
    const mine = [...names]
      .sort()
      .map((n) => api.get("pods", ns, n))
      .filter((p) => p && controlledBy(p, sts));
    const readyCount = mine.filter((p) => (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")).length;
    const status = { observedGeneration: sts.metadata.generation, replicas: mine.length };
    if (readyCount) status.readyReplicas = readyCount;
    if (mine.length) {
      status.currentReplicas = mine.length;
      status.updatedReplicas = mine.length;
    }
    status.currentRevision = rev;
    status.updateRevision = rev;
    status.collisionCount = 0;
    status.availableReplicas = readyCount;
    if (!deepEqual(status, sts.status)) {
      const next = clone(sts);
      next.status = status;
      api.update("statefulsets", next);
    }
  }
}

// The Job controller, only as far as status goes: a new Job is started
// (startTime, one active pod) and stays so until a client writes its
// status through the status subresource, as the real controller would once
// its pod ends (tests write Complete or Failed conditions there). No pods
// are made, and ttlSecondsAfterFinished and activeDeadlineSeconds are not
// acted on.
export function reconcileJobs(api) {
  for (const job of api.list("jobs")) {
    if (job.metadata.deletionTimestamp || job.status?.startTime) continue;
    if (job.spec?.suspend === true) continue;
    const next = clone(job);
    next.status = { ...(job.status ?? {}), startTime: nowIso(), active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} };
    api.update("jobs", next);
  }
}
