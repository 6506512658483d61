#!/usr/bin/env node
// Kubernetes API stand-in for the dbtree tests. See README.md.
//
//   node tests/k8s/server.mjs --port PORT [--token TOKEN] [--host 127.0.0.1]
//                             [--field-validation Warn|Strict|Ignore]
//                             [--continue-ttl-ms MS]
//                             [--service-node-port-range MIN-MAX] [--quiet]
//
// Prints "k8s stand-in listening on http://HOST:PORT" once it accepts
// connections (--port 0 picks a free port).

import http from "node:http";
import crypto from "node:crypto";
import YAML from "yaml";

import {
  ApiError,
  alreadyExists,
  applyConflict,
  badRequest,
  conflict,
  continueExpired,
  fe,
  internalError,
  invalid,
  methodNotAllowed,
  notFound,
  routeNotFound,
  serviceUnavailable,
  tooLarge,
  tooManyRequests,
  unauthorized,
  unsupportedMediaType,
} from "./lib/errors.mjs";
import { schemaCheck, DECODE_KEYWORDS, describeSchemaError } from "./lib/schema.mjs";
import { applyDefaults, validateKind, validateMetadata, allocateService, setNodePortRange } from "./lib/rules.mjs";
import { parseLabelSelector, matchRequirements, parseFieldSelector, matchFields, labelSelectorToRequirements } from "./lib/selector.mjs";
import { ssaApply, recordUpdate, pruneOwners, ownersView, mergePatch, jsonPatch, newOwners } from "./lib/patch.mjs";
import { reconcileStatefulSets, reconcileJobs } from "./lib/workloads.mjs";
import { clone, deepEqual, deletePath, fieldPath, getPath, isObj, nowIso } from "./lib/util.mjs";

// ------------------------------------------------------------------ options

function parseArgs(argv) {
  const o = { port: 6443, host: "127.0.0.1", token: undefined, fieldValidation: "Warn", quiet: false, continueTtlMs: 5 * 60 * 1000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--port") o.port = Number(val());
    else if (a === "--host") o.host = val();
    else if (a === "--token") o.token = val();
    else if (a === "--field-validation") o.fieldValidation = val();
    else if (a === "--quiet") o.quiet = true;
    else if (a === "--continue-ttl-ms") o.continueTtlMs = Number(val());
    else if (a === "--service-node-port-range") o.nodePortRange = val();
    else if (a === "--help" || a === "-h") {
      console.log("usage: node server.mjs --port PORT [--token TOKEN] [--host 127.0.0.1] [--field-validation Warn|Strict|Ignore] [--continue-ttl-ms MS] [--service-node-port-range MIN-MAX] [--quiet]");
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new Error("--port must be 0..65535");
  if (!(o.continueTtlMs > 0)) throw new Error("--continue-ttl-ms must be > 0");
  if (o.nodePortRange !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(o.nodePortRange);
    if (!m) throw new Error("--service-node-port-range must be MIN-MAX");
    setNodePortRange(Number(m[1]), Number(m[2]));
  }
  if (!["Warn", "Strict", "Ignore"].includes(o.fieldValidation)) throw new Error("--field-validation must be Warn, Strict or Ignore");
  return o;
}

// ---------------------------------------------------------------- resources

const RESOURCES = [
  { plural: "secrets", kind: "Secret", group: "", version: "v1", namespaced: true, shortNames: [] },
  { plural: "configmaps", kind: "ConfigMap", group: "", version: "v1", namespaced: true, shortNames: ["cm"] },
  { plural: "services", kind: "Service", group: "", version: "v1", namespaced: true, statusSub: true, allowCreateOnUpdate: true, shortNames: ["svc"] },
  { plural: "pods", kind: "Pod", group: "", version: "v1", namespaced: true, statusSub: true, readOnly: true, shortNames: ["po"] },
  { plural: "persistentvolumeclaims", kind: "PersistentVolumeClaim", group: "", version: "v1", namespaced: true, statusSub: true, shortNames: ["pvc"] },
  { plural: "namespaces", kind: "Namespace", group: "", version: "v1", namespaced: false, statusSub: true, shortNames: ["ns"] },
  { plural: "statefulsets", kind: "StatefulSet", group: "apps", version: "v1", namespaced: true, statusSub: true, scaleSub: true, generation: true, shortNames: ["sts"] },
  { plural: "networkpolicies", kind: "NetworkPolicy", group: "networking.k8s.io", version: "v1", namespaced: true, generation: true, shortNames: ["netpol"] },
  // status written by clients, as the Job controller and kubelet would (tests)
  { plural: "jobs", kind: "Job", group: "batch", version: "v1", namespaced: true, statusSub: true, statusWrite: true, generation: true, shortNames: [] },
  // cert-manager's CRD: served as a custom resource (crd: schema errors are 422)
  { plural: "certificates", kind: "Certificate", group: "cert-manager.io", version: "v1", namespaced: true, statusSub: true, statusWrite: true, generation: true, crd: true, shortNames: ["cert", "certs"] },
];
for (const r of RESOURCES) r.apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
const byPlural = Object.fromEntries(RESOURCES.map((r) => [r.plural, r]));
const byGroupVersion = new Map();
for (const r of RESOURCES) {
  if (!byGroupVersion.has(r.apiVersion)) byGroupVersion.set(r.apiVersion, {});
  byGroupVersion.get(r.apiVersion)[r.plural] = r;
}
const kindKnown = (apiVersion, kind) => RESOURCES.find((r) => r.apiVersion === apiVersion && r.kind === kind);

// -------------------------------------------------------------------- store

// apiVersion, kind, metadata first, like the real API server's output
function ordered(o) {
  const { apiVersion, kind, metadata, spec, ...rest } = o;
  const out = { apiVersion, kind, metadata };
  if (spec !== undefined) out.spec = spec;
  return Object.assign(out, rest);
}

class Store {
  constructor() {
    this.objects = new Map(); // "plural/ns/name" -> object
    this.byPlural = new Map(); // plural -> Map(key -> object): lists stay cheap with thousands of objects
    this.owners = new Map(); // same key -> SSA ownership
    this.sorted = new Map(); // plural -> [[key, object]] in key order, until the next write of that plural
    this.rv = 1000;
  }
  key(plural, ns, name) {
    return `${plural}/${ns ?? ""}/${name}`;
  }
  get(plural, ns, name) {
    return this.objects.get(this.key(plural, ns, name));
  }
  put(plural, k, o) {
    this.sorted.delete(plural);
    this.objects.set(k, o);
    if (!this.byPlural.has(plural)) this.byPlural.set(plural, new Map());
    this.byPlural.get(plural).set(k, o);
  }
  // In key order ("plural/ns/name"), byte by byte, as etcd keeps them: a
  // plain comparison (localeCompare made every controller pass slow).
  inOrder(plural) {
    if (!this.sorted.has(plural)) this.sorted.set(plural, [...(this.byPlural.get(plural) ?? [])].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
    return this.sorted.get(plural);
  }
  list(plural, ns) {
    const all = ns === undefined || ns === null;
    return this.inOrder(plural).filter((e) => all || e[1].metadata.namespace === ns).map((e) => e[1]);
  }
  // [key, object] pairs of plural in key order after the key after ("":
  // from the first), lazily
  *after(plural, after) {
    const arr = this.inOrder(plural);
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (arr[mid][0] <= after) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < arr.length; i++) yield arr[i];
  }
  all() {
    const out = [];
    for (const [plural, m] of this.byPlural) for (const obj of m.values()) out.push({ plural, obj });
    return out;
  }
  nextRV() {
    this.rv += 1;
    return String(this.rv);
  }
  // stores a new object, filling server-managed metadata
  create(res, obj) {
    const o = clone(obj);
    o.apiVersion = res.apiVersion;
    o.kind = res.kind;
    o.metadata.uid ??= crypto.randomUUID(); // a Job's is chosen earlier (its selector names it)
    o.metadata.creationTimestamp = nowIso();
    if (res.generation) o.metadata.generation ??= 1;
    o.metadata.resourceVersion = this.nextRV();
    const stored = ordered(o);
    this.put(res.plural, this.key(res.plural, o.metadata.namespace, o.metadata.name), stored);
    return stored;
  }
  update(res, obj) {
    const o = ordered(clone(obj));
    o.metadata.resourceVersion = this.nextRV();
    this.put(res.plural, this.key(res.plural, o.metadata.namespace, o.metadata.name), o);
    return o;
  }
  remove(res, ns, name) {
    const k = this.key(res.plural, ns, name);
    const o = this.objects.get(k);
    this.objects.delete(k);
    this.byPlural.get(res.plural)?.delete(k);
    this.sorted.delete(res.plural);
    this.owners.delete(k);
    return o;
  }
  ownersOf(res, ns, name) {
    const k = this.key(res.plural, ns, name);
    if (!this.owners.has(k)) this.owners.set(k, newOwners());
    return this.owners.get(k);
  }
  setOwners(res, ns, name, owners) {
    this.owners.set(this.key(res.plural, ns, name), owners);
  }
  wipe() {
    this.objects.clear();
    this.byPlural.clear();
    this.owners.clear();
    this.sorted.clear();
  }
}

const cloneOwners = (m) => new Map([...m].map(([k, e]) => [k, { path: e.path, managers: new Set(e.managers) }]));

// ------------------------------------------------------------------- server

export function createServer(options = {}) {
  const opts = { token: undefined, fieldValidation: "Warn", quiet: false, continueTtlMs: 5 * 60 * 1000, ...options };
  const store = new Store();
  const stsState = new Map(); // sts uid -> {ready, fail}
  let autoReady = false;
  let faults = [];
  let expireContinue = 0; // list requests with a continue token to answer 410
  let stats;
  let randState = 0x2545f491;
  const rand = () => {
    // xorshift32: deterministic node port allocation
    randState ^= randState << 13;
    randState >>>= 0;
    randState ^= randState >>> 17;
    randState ^= randState << 5;
    randState >>>= 0;
    return randState / 2 ** 32;
  };
  const ipState = {};
  const resetStats = () => {
    stats = { requests: 0, byVerb: {}, byPath: {}, byStatus: {}, expired: 0, warnings: [], recent: [] };
  };
  resetStats();

  const log = (line) => {
    if (!opts.quiet) process.stdout.write(`${line}\n`);
  };

  const stateOf = (sts) => {
    if (!stsState.has(sts.metadata.uid)) stsState.set(sts.metadata.uid, { ready: false, fail: null });
    return stsState.get(sts.metadata.uid);
  };

  // ------------------------------------------------------------ deletion

  function dependentsOf(owner) {
    return store.all().filter(({ obj }) => (obj.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid));
  }

  // Deletes (or starts deleting) one object. Returns {deleted: bool, obj}
  function deleteObject(res, obj, policy) {
    const ns = obj.metadata.namespace;
    const name = obj.metadata.name;
    if (policy === "Orphan") {
      for (const { plural, obj: d } of dependentsOf(obj)) {
        const next = clone(d);
        next.metadata.ownerReferences = next.metadata.ownerReferences.filter((r) => r.uid !== obj.metadata.uid);
        if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
        store.update(byPlural[plural], next);
      }
    }
    if (res.plural === "namespaces") {
      for (const { plural, obj: o } of store.all()) if (o.metadata.namespace === name) store.remove(byPlural[plural], o.metadata.namespace, o.metadata.name);
    }
    const finalizers = [...(obj.metadata.finalizers ?? [])];
    if (policy === "Foreground" && !finalizers.includes("foregroundDeletion")) finalizers.push("foregroundDeletion");
    if (finalizers.length === 0) {
      store.remove(res, ns, name);
      return { deleted: true, obj };
    }
    if (obj.metadata.deletionTimestamp && deepEqual(finalizers, obj.metadata.finalizers ?? [])) return { deleted: false, obj };
    const next = clone(obj);
    next.metadata.deletionTimestamp ??= nowIso();
    next.metadata.deletionGracePeriodSeconds ??= 0;
    next.metadata.finalizers = finalizers;
    return { deleted: false, obj: store.update(res, next) };
  }

  function processFinalizers() {
    for (const { plural, obj } of store.all()) {
      if (!obj.metadata.deletionTimestamp) continue;
      const res = byPlural[plural];
      let fins = [...(obj.metadata.finalizers ?? [])];
      if (fins.includes("kubernetes.io/pvc-protection")) {
        const used = store
          .list("pods", obj.metadata.namespace)
          .some((p) => (p.spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === obj.metadata.name));
        if (!used) fins = fins.filter((f) => f !== "kubernetes.io/pvc-protection");
      }
      if (fins.includes("foregroundDeletion") && dependentsOf(obj).length === 0) fins = fins.filter((f) => f !== "foregroundDeletion");
      if (fins.length === 0) store.remove(res, obj.metadata.namespace, obj.metadata.name);
      else if (!deepEqual(fins, obj.metadata.finalizers)) {
        const next = clone(obj);
        next.metadata.finalizers = fins;
        store.update(res, next);
      }
    }
  }

  // Owner-reference garbage collection (synchronous).
  function gcSweep() {
    const byUid = new Map(store.all().map(({ obj }) => [obj.metadata.uid, obj]));
    for (const { plural, obj } of store.all()) {
      const refs = obj.metadata.ownerReferences ?? [];
      if (refs.length === 0) continue;
      if (!store.get(plural, obj.metadata.namespace, obj.metadata.name)) continue; // removed earlier in this sweep
      const res = byPlural[plural];
      let solid = 0;
      let waiting = 0;
      let deleting = 0;
      const dangling = [];
      for (const r of refs) {
        const ownerRes = kindKnown(r.apiVersion, r.kind);
        if (!ownerRes) {
          waiting++; // kind we do not serve: the real GC could not resolve it either
          continue;
        }
        const o = byUid.get(r.uid);
        const sameScope = o && (!ownerRes.namespaced || o.metadata.namespace === obj.metadata.namespace);
        const present = o && sameScope && o.kind === r.kind && store.get(ownerRes.plural, o.metadata.namespace, o.metadata.name);
        if (!present) dangling.push(r);
        else if ((o.metadata.finalizers ?? []).includes("foregroundDeletion")) deleting++;
        else solid++;
      }
      if (solid === 0 && waiting === 0 && (dangling.length > 0 || deleting > 0)) {
        if (!obj.metadata.deletionTimestamp) deleteObject(res, obj, "Background");
      } else if (dangling.length > 0) {
        const next = clone(obj);
        next.metadata.ownerReferences = refs.filter((r) => !dangling.includes(r));
        store.update(res, next);
      }
    }
  }

  const controllerApi = {
    list: (plural, ns) => store.list(plural, ns),
    get: (plural, ns, name) => store.get(plural, ns, name),
    create: (plural, obj) => {
      const res = byPlural[plural];
      const o = store.create(res, obj);
      if (plural !== "pods") recordUpdate(undefined, o, "kube-controller-manager", store.ownersOf(res, o.metadata.namespace, o.metadata.name));
      return o;
    },
    update: (plural, obj) => store.update(byPlural[plural], obj),
    remove: (plural, ns, name) => {
      const o = store.get(plural, ns, name);
      if (o) deleteObject(byPlural[plural], o, "Background");
    },
    state: stateOf,
    autoReady: () => autoReady,
  };

  // Runs the controllers until nothing changes.
  function settle() {
    for (let i = 0; i < 20; i++) {
      const before = store.rv;
      const n = store.objects.size;
      processFinalizers();
      gcSweep();
      reconcileStatefulSets(controllerApi);
      reconcileJobs(controllerApi);
      if (store.rv === before && store.objects.size === n) return;
    }
  }

  // ------------------------------------------------------ object pipeline

  function checkTypeMeta(res, obj, apply) {
    if (apply) {
      if (!obj.apiVersion || !obj.kind)
        throw badRequest(`invalid object type: ${obj.apiVersion ?? ""}, Kind=${obj.kind ?? ""}: apiVersion and kind must be set in an apply patch`);
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== res.apiVersion)
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${res.apiVersion})`);
    if (obj.kind !== undefined && obj.kind !== res.kind) throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${res.kind})`);
    obj.apiVersion = res.apiVersion;
    obj.kind = res.kind;
  }

  // Schema check of a request body. Decoding errors -> 400; unknown fields per
  // fieldValidation; returns the schema errors that are 422-worthy.
  function decode(res, obj, ctx, { partial = false } = {}) {
    const { errors, unknown } = schemaCheck(res.kind, obj);
    const decodeErrs = res.crd ? [] : errors.filter((e) => DECODE_KEYWORDS.has(e.keyword));
    if (decodeErrs.length)
      throw badRequest(
        `${res.kind} in version "${res.version}" cannot be handled as a ${res.kind}: ${decodeErrs.map(describeSchemaError).join("; ")}`,
        decodeErrs.map((e) => ({ reason: "FieldValueInvalid", message: e.message, field: fieldPath(e.path) })),
      );
    if (unknown.length) {
      const names = unknown.map((p) => `unknown field "${fieldPath(p)}"`);
      if (ctx.fieldValidation === "Strict")
        throw badRequest(`${res.kind} in version "${res.version}" cannot be handled as a ${res.kind}: strict decoding error: ${names.join(", ")}`, names.map((n, i) => ({ reason: "FieldValueInvalid", message: n, field: fieldPath(unknown[i]) })));
      for (const p of unknown) deletePath(obj, p);
      if (ctx.fieldValidation === "Warn") {
        ctx.warnings.push(...names);
        stats.warnings.push(...names.map((n) => `${res.kind} ${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}: ${n}`));
        if (stats.warnings.length > 500) stats.warnings.splice(0, stats.warnings.length - 500);
      }
    }
    if (partial) return [];
    if (res.crd) return errors.map((e) => crdCause(obj, e));
    return errors
      .filter((e) => !DECODE_KEYWORDS.has(e.keyword))
      .map((e) => (e.keyword === "required" ? fe.required(fieldPath(e.path)) : fe.invalid(fieldPath(e.path), undefined, e.message)));
  }

  // A CRD's OpenAPI validation error, worded as the apiextensions server does.
  function crdCause(obj, e) {
    const field = fieldPath(e.path);
    const value = getPath(obj, e.path);
    if (e.keyword === "required") return fe.required(field);
    if (e.keyword === "enum") return fe.notSupported(field, value, e.params.allowedValues ?? []);
    if (e.keyword === "type") return fe.invalid(field, typeof value, `${field} in body must be of type ${e.params.type}: ${JSON.stringify(typeof value)}`);
    return fe.invalid(field, value, `${field} in body ${e.message}`);
  }

  // Turns a candidate object into the object to store: schema, defaults,
  // validation, allocation, server-managed metadata. Throws ApiError.
  function prepare(res, cand, old, ctx) {
    const md = (cand.metadata = isObj(cand.metadata) ? cand.metadata : {});
    delete md.managedFields;
    delete md.selfLink;
    if (old) {
      if (md.uid && md.uid !== old.metadata.uid) throw conflict(res, old.metadata.name, `Precondition failed: UID in precondition: ${md.uid}, UID in object meta: ${old.metadata.uid}`);
      md.uid = old.metadata.uid;
      md.creationTimestamp = old.metadata.creationTimestamp;
      md.resourceVersion = old.metadata.resourceVersion;
      if (old.metadata.generation !== undefined) md.generation = old.metadata.generation;
      else delete md.generation;
      if (old.metadata.deletionTimestamp) {
        md.deletionTimestamp = old.metadata.deletionTimestamp;
        md.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
      } else {
        delete md.deletionTimestamp;
        delete md.deletionGracePeriodSeconds;
      }
    } else {
      for (const k of ["uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"]) delete md[k];
      if (res.kind === "Job") md.uid = crypto.randomUUID(); // the generated selector names it
    }
    const schemaCauses = decode(res, cand, ctx);
    if (res.statusSub) {
      if (old) cand.status = clone(old.status);
      else if (res.kind === "StatefulSet") cand.status = { replicas: 0, availableReplicas: 0 };
      else if (res.kind === "PersistentVolumeClaim") cand.status = { phase: "Pending" };
      else delete cand.status;
      if (cand.status === undefined) delete cand.status;
    }
    applyDefaults(res.kind, cand, old);
    if (res.kind === "PersistentVolumeClaim" && !old) {
      md.finalizers = [...new Set([...(md.finalizers ?? []), "kubernetes.io/pvc-protection"])];
    }
    const causes = [...schemaCauses];
    validateMetadata(res, cand, old, causes);
    validateKind(res.kind, cand, old, causes);
    if (causes.length) throw invalid(res, md.name ?? "", causes);
    if (res.kind === "Service") {
      const self = old ? store.key(res.plural, old.metadata.namespace, old.metadata.name) : null;
      const usedNodePorts = new Set();
      const usedClusterIPs = new Set();
      for (const s of store.list("services")) {
        if (self && store.key("services", s.metadata.namespace, s.metadata.name) === self) continue;
        for (const p of s.spec?.ports ?? []) if (p.nodePort) usedNodePorts.add(p.nodePort);
        if (s.spec?.clusterIP && s.spec.clusterIP !== "None") usedClusterIPs.add(s.spec.clusterIP);
      }
      const allocCauses = [];
      allocateService(cand, old, { usedNodePorts, usedClusterIPs, rand, get nextIP() { return ipState.next; }, set nextIP(v) { ipState.next = v; } }, allocCauses);
      if (allocCauses.length) throw invalid(res, md.name, allocCauses);
    }
    if (res.generation) {
      if (!old) md.generation = 1;
      else if (!deepEqual(old.spec, cand.spec)) md.generation = (old.metadata.generation ?? 1) + 1;
    }
    return cand;
  }

  function commit(res, cand, old, ctx, owners) {
    const ns = cand.metadata.namespace;
    const name = cand.metadata.name;
    if (old && deepEqual(old, cand)) {
      // no-op write: no new resourceVersion
      if (owners && !ctx.dryRun) store.setOwners(res, ns, name, owners);
      return old;
    }
    if (ctx.dryRun) {
      const o = clone(cand);
      if (!old) {
        o.metadata.uid = crypto.randomUUID();
        o.metadata.creationTimestamp = nowIso();
      }
      return o;
    }
    const stored = old ? store.update(res, cand) : store.create(res, cand);
    if (owners) {
      pruneOwners(stored, owners);
      store.setOwners(res, ns, name, owners);
    }
    if (stored.metadata.deletionTimestamp && (stored.metadata.finalizers ?? []).length === 0) store.remove(res, ns, name);
    return stored;
  }

  // --------------------------------------------------------------- verbs

  // limit and continue as the API server has them: a page ends with a
  // continue token naming the last key it held; the next page starts after
  // that key (the real server reads it from the first page's snapshot; this
  // one from the current state).  A token older than continueTtlMs, or one
  // met while expireContinue > 0 (/_control/expire-continue), is 410
  // Expired; one that does not decode is 400.
  function pageToken(key) {
    return Buffer.from(JSON.stringify({ key, rv: store.rv, at: Date.now() })).toString("base64");
  }

  function pageStart(res, q) {
    if (!q.get("continue")) return "";
    let tok;
    try {
      tok = JSON.parse(Buffer.from(q.get("continue"), "base64").toString());
    } catch {
      throw badRequest("continue key is not valid: illegal base64 data");
    }
    if (!isObj(tok) || typeof tok.key !== "string" || !tok.key.startsWith(`${res.plural}/`)) throw badRequest("continue key is not valid: not a continue token for this list");
    if (expireContinue > 0 || Date.now() - Number(tok.at) > opts.continueTtlMs) {
      if (expireContinue > 0) expireContinue -= 1;
      stats.expired += 1;
      throw continueExpired(pageToken(tok.key));
    }
    return tok.key;
  }

  function verbList(res, ns, q) {
    const reqs = parseLabelSelector(q.get("labelSelector") ?? "");
    const freqs = parseFieldSelector(q.get("fieldSelector") ?? "", res.kind);
    const after = pageStart(res, q);
    const meta = { resourceVersion: String(store.rv) };
    const limit = q.get("limit") ? parseInt(q.get("limit"), 10) : 0;
    const selected = q.get("labelSelector") || q.get("fieldSelector");
    const inNs = (o) => !res.namespaced || ns === undefined || ns === null || o.metadata.namespace === ns;
    let items = [];
    let lastKey = "";
    let more = 0;
    for (const [k, o] of store.after(res.plural, after)) {
      if (!inNs(o) || !matchRequirements(reqs, o.metadata.labels) || !matchFields(freqs, o)) continue;
      if (limit > 0 && items.length === limit) {
        more += 1;
        // the real server counts what is left only without selectors
        if (selected) break;
        continue;
      }
      items.push(o);
      lastKey = k;
    }
    if (more > 0) {
      meta.continue = pageToken(lastKey);
      if (!selected) meta.remainingItemCount = more;
    }
    return {
      kind: `${res.kind}List`,
      apiVersion: res.apiVersion,
      metadata: meta,
      // shallow copies: the answer is serialised at once and nothing
      // writes to it (a deep copy of 10,000 StatefulSets a pass was most
      // of this server's time)
      items: items.map(({ kind, apiVersion, ...rest }) => rest),
    };
  }

  function verbCreate(res, ns, body, ctx) {
    if (res.readOnly) throw methodNotAllowed(`${res.plural} are read-only in the k8s stand-in: they are created by the StatefulSet controller`);
    const obj = parseJson(body, res);
    if (!isObj(obj)) throw badRequest(`the object provided is unrecognized (must be of type ${res.kind})`);
    checkTypeMeta(res, obj, false);
    obj.metadata = isObj(obj.metadata) ? obj.metadata : {};
    if (res.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== ns) throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      obj.metadata.namespace = ns;
    } else delete obj.metadata.namespace;
    if (obj.metadata.resourceVersion) throw internalError("resourceVersion should not be set on objects to be created");
    if (!obj.metadata.name && obj.metadata.generateName) {
      const alphabet = "bcdfghjklmnpqrstvwxz2456789";
      let suffix = "";
      for (let i = 0; i < 5; i++) suffix += alphabet[crypto.randomInt(alphabet.length)];
      obj.metadata.name = `${obj.metadata.generateName}${suffix}`;
    }
    const cand = prepare(res, obj, undefined, ctx);
    if (store.get(res.plural, cand.metadata.namespace, cand.metadata.name)) throw alreadyExists(res, cand.metadata.name);
    const owners = newOwners();
    recordUpdate(undefined, cand, ctx.manager, owners);
    return { code: 201, body: commit(res, cand, undefined, ctx, owners) };
  }

  function verbReplace(res, ns, name, body, ctx) {
    if (res.readOnly) throw methodNotAllowed(`${res.plural} are read-only in the k8s stand-in`);
    const obj = parseJson(body, res);
    if (!isObj(obj)) throw badRequest(`the object provided is unrecognized (must be of type ${res.kind})`);
    checkTypeMeta(res, obj, false);
    obj.metadata = isObj(obj.metadata) ? obj.metadata : {};
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    if (res.namespaced && obj.metadata.namespace && obj.metadata.namespace !== ns) throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    obj.metadata.name = name;
    if (res.namespaced) obj.metadata.namespace = ns;
    const old = store.get(res.plural, ns, name);
    if (!old) {
      if (!res.allowCreateOnUpdate) throw notFound(res, name);
      delete obj.metadata.resourceVersion;
      const cand = prepare(res, obj, undefined, ctx);
      const owners = newOwners();
      recordUpdate(undefined, cand, ctx.manager, owners);
      return { code: 201, body: commit(res, cand, undefined, ctx, owners) };
    }
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict(res, name);
    const cand = prepare(res, obj, old, ctx);
    const owners = cloneOwners(store.ownersOf(res, ns, name));
    recordUpdate(old, cand, ctx.manager, owners);
    return { code: 200, body: commit(res, cand, old, ctx, owners) };
  }

  function verbPatch(res, ns, name, body, contentType, ctx, q) {
    if (res.readOnly) throw methodNotAllowed(`${res.plural} are read-only in the k8s stand-in`);
    const ct = (contentType ?? "").split(";")[0].trim().toLowerCase();
    const isApply = ct === "application/apply-patch+yaml" || ct === "application/apply-patch+cbor";
    if (ct === "application/strategic-merge-patch+json")
      throw new ApiError(415, "UnsupportedMediaType", "strategic merge patch is not implemented by the k8s stand-in: use application/apply-patch+yaml or application/merge-patch+json");
    if (!isApply && ct !== "application/merge-patch+json" && ct !== "application/json-patch+json") throw unsupportedMediaType(ct);
    const force = q.get("force");
    if (force !== null && !isApply) throw new ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch', { name: "", group: "meta.k8s.io", kind: "PatchOptions", causes: [fe.forbidden("force", "may not be specified for non-apply patch")] });
    const old = store.get(res.plural, ns, name);

    if (isApply) {
      if (!q.get("fieldManager"))
        throw new ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', { name: "", group: "meta.k8s.io", kind: "PatchOptions", causes: [fe.required("fieldManager", "is required for apply patch")] });
      let cfg;
      const text = body.toString("utf8");
      try {
        cfg = JSON.parse(text);
      } catch {
        try {
          cfg = YAML.parse(text);
        } catch (e) {
          throw badRequest(`error decoding YAML: ${e.message}`);
        }
      }
      if (!isObj(cfg)) throw badRequest("error decoding YAML: the apply patch must be an object");
      checkTypeMeta(res, cfg, true);
      cfg.metadata = isObj(cfg.metadata) ? cfg.metadata : {};
      if (cfg.metadata.name !== undefined && cfg.metadata.name !== name) throw badRequest(`the name of the object (${cfg.metadata.name}) does not match the name on the URL (${name})`);
      if (res.namespaced && cfg.metadata.namespace && cfg.metadata.namespace !== ns) throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      decode(res, cfg, ctx, { partial: true }); // type errors and unknown fields in the apply body itself
      if (old && cfg.metadata.resourceVersion && cfg.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict(res, name);
      if (!old && cfg.metadata.resourceVersion) throw conflict(res, name, "the object has been modified; please apply your changes to the latest version and try again");
      const owners = old ? cloneOwners(store.ownersOf(res, ns, name)) : newOwners();
      const r = ssaApply(res, name, old, cfg, ctx.manager, force === "true", owners, (o) => applyDefaults(res.kind, o, old));
      if (r.conflicts.length && force !== "true") throw applyConflict(res, name, r.conflicts);
      const merged = r.result;
      merged.apiVersion = res.apiVersion;
      merged.kind = res.kind;
      merged.metadata = isObj(merged.metadata) ? merged.metadata : {};
      merged.metadata.name = name;
      if (res.namespaced) merged.metadata.namespace = ns;
      const cand = prepare(res, merged, old, ctx);
      return { code: old ? 200 : 201, body: commit(res, cand, old, ctx, owners) };
    }

    if (!old) throw notFound(res, name);
    let patch;
    try {
      patch = JSON.parse(body.toString("utf8"));
    } catch (e) {
      throw badRequest(`error decoding patch: ${e.message}`);
    }
    let patched;
    if (ct === "application/merge-patch+json") {
      if (!isObj(patch)) throw badRequest("error decoding patch: a merge patch must be a JSON object");
      patched = mergePatch(old, patch);
    } else patched = jsonPatch(old, patch);
    if (!isObj(patched)) throw badRequest("the patched object is not an object");
    if (patched.metadata?.name !== name) throw badRequest(`the name of the object (${patched.metadata?.name}) does not match the name on the URL (${name})`);
    if (res.namespaced && patched.metadata?.namespace !== ns) throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    checkTypeMeta(res, patched, false);
    // a resourceVersion in the patch is a precondition; none (or null) means unconditional
    if (patched.metadata.resourceVersion !== undefined && patched.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict(res, name);
    const cand = prepare(res, patched, old, ctx);
    const owners = cloneOwners(store.ownersOf(res, ns, name));
    recordUpdate(old, cand, ctx.manager, owners);
    return { code: 200, body: commit(res, cand, old, ctx, owners) };
  }

  function deleteOptions(body, q) {
    let o = {};
    if (body && body.length) {
      try {
        o = JSON.parse(body.toString("utf8"));
      } catch (e) {
        throw badRequest(`error decoding DeleteOptions: ${e.message}`);
      }
      if (!isObj(o)) throw badRequest("error decoding DeleteOptions: not an object");
    }
    let policy = q.get("propagationPolicy") ?? o.propagationPolicy;
    if (policy === undefined || policy === null) {
      const orphan = q.get("orphanDependents") ?? o.orphanDependents;
      if (orphan === true || orphan === "true") policy = "Orphan";
    }
    policy ??= "Background";
    if (!["Foreground", "Background", "Orphan"].includes(policy))
      throw new ApiError(422, "Invalid", `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`, {
        name: "",
        group: "meta.k8s.io",
        kind: "DeleteOptions",
        causes: [fe.notSupported("propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"])],
      });
    const dryRun = q.getAll("dryRun").concat(o.dryRun ?? []);
    return { policy, preconditions: o.preconditions ?? {}, dryRun: dryRun.includes("All") };
  }

  function verbDelete(res, ns, name, body, ctx, q) {
    const dopts = deleteOptions(body, q);
    const obj = store.get(res.plural, ns, name);
    if (!obj) throw notFound(res, name);
    const pre = dopts.preconditions;
    if (pre.uid && pre.uid !== obj.metadata.uid) throw conflict(res, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
    if (pre.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion)
      throw conflict(res, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`);
    if (dopts.dryRun || ctx.dryRun) return { code: 200, body: successStatus(res, obj) };
    const r = deleteObject(res, obj, dopts.policy);
    if (r.deleted) return { code: 200, body: successStatus(res, obj) };
    return { code: 200, body: r.obj };
  }

  function verbDeleteCollection(res, ns, body, ctx, q) {
    if (res.readOnly && res.plural !== "pods") throw methodNotAllowed(`${res.plural} are read-only`);
    const dopts = deleteOptions(body, q);
    const list = verbList(res, ns, q);
    const out = [];
    for (const item of list.items) {
      const obj = store.get(res.plural, item.metadata.namespace, item.metadata.name);
      if (!obj) continue;
      if (dopts.dryRun || ctx.dryRun) {
        out.push(item);
        continue;
      }
      const r = deleteObject(res, obj, dopts.policy);
      const c = clone(r.obj);
      delete c.kind;
      delete c.apiVersion;
      out.push(c);
    }
    return { code: 200, body: { kind: `${res.kind}List`, apiVersion: res.apiVersion, metadata: { resourceVersion: String(store.rv) }, items: out } };
  }

  function successStatus(res, obj) {
    const details = { name: obj.metadata.name };
    if (res.group) details.group = res.group;
    details.kind = res.plural;
    details.uid = obj.metadata.uid;
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details };
  }

  // PUT or PATCH (merge / JSON patch) of the status subresource: only
  // .status changes, as on the real server; the rest of the body is ignored.
  function verbStatus(method, res, old, body, contentType, ctx) {
    let next;
    if (method === "PUT") next = parseJson(body, res);
    else if (method === "PATCH") {
      const ct = (contentType ?? "").split(";")[0].trim().toLowerCase();
      let patch;
      try {
        patch = JSON.parse(body.toString("utf8"));
      } catch (e) {
        throw badRequest(`error decoding patch: ${e.message}`);
      }
      if (ct === "application/merge-patch+json") next = mergePatch(old, patch);
      else if (ct === "application/json-patch+json") next = jsonPatch(old, patch);
      else throw unsupportedMediaType(ct);
    } else throw methodNotAllowed(`${method} is not supported on the status subresource`);
    if (!isObj(next)) throw badRequest(`the object provided is unrecognized (must be of type ${res.kind})`);
    if (next.metadata?.resourceVersion && next.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict(res, old.metadata.name);
    const cand = clone(old);
    if (next.status === undefined || next.status === null) delete cand.status;
    else cand.status = next.status;
    const causes = decode(res, cand, ctx);
    if (causes.length) throw invalid(res, old.metadata.name, causes);
    const owners = cloneOwners(store.ownersOf(res, old.metadata.namespace, old.metadata.name));
    return { code: 200, body: commit(res, cand, old, ctx, owners) };
  }

  function scaleOf(sts) {
    const sel = labelSelectorToRequirements(sts.spec.selector)
      .map((r) => (r.op === "In" && r.values.length === 1 ? `${r.key}=${r.values[0]}` : r.op === "Exists" ? r.key : `${r.key} ${r.op.toLowerCase()} (${r.values.join(",")})`))
      .join(",");
    return {
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: {
        name: sts.metadata.name,
        namespace: sts.metadata.namespace,
        uid: sts.metadata.uid,
        resourceVersion: sts.metadata.resourceVersion,
        creationTimestamp: sts.metadata.creationTimestamp,
      },
      spec: { replicas: sts.spec.replicas },
      status: { replicas: sts.status?.replicas ?? 0, selector: sel },
    };
  }

  function verbScale(method, res, ns, name, body, contentType, ctx) {
    const sts = store.get(res.plural, ns, name);
    if (!sts) throw notFound(res, name);
    if (method === "GET") return { code: 200, body: scaleOf(sts) };
    let scale;
    const data = parseJson(body, { kind: "Scale" });
    if (method === "PUT") scale = data;
    else if (method === "PATCH") {
      const ct = (contentType ?? "").split(";")[0].trim();
      if (ct === "application/merge-patch+json") scale = mergePatch(scaleOf(sts), data);
      else if (ct === "application/json-patch+json") scale = jsonPatch(scaleOf(sts), data);
      else throw unsupportedMediaType(ct);
    } else throw methodNotAllowed(`${method} is not supported on the scale subresource`);
    const replicas = scale?.spec?.replicas;
    if (!Number.isInteger(replicas)) throw badRequest(`Scale in version "v1" cannot be handled as a Scale: spec.replicas: must be integer`);
    if (replicas < 0) throw invalid({ kind: "Scale", group: "autoscaling" }, name, [fe.invalid("spec.replicas", replicas, "must be greater than or equal to 0")]);
    if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== sts.metadata.resourceVersion) throw conflict(res, name);
    const next = clone(sts);
    next.spec.replicas = replicas;
    const cand = prepare(res, next, sts, ctx);
    const owners = cloneOwners(store.ownersOf(res, ns, name));
    recordUpdate(sts, cand, ctx.manager, owners);
    const stored = commit(res, cand, sts, ctx, owners);
    return { code: 200, body: scaleOf(stored) };
  }

  function parseJson(body, res) {
    const text = body.toString("utf8");
    if (text.trim() === "") throw badRequest(`the object provided is unrecognized (must be of type ${res.kind}): couldn't get version/kind; json parse error: unexpected end of JSON input`);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw badRequest(`the object provided is unrecognized (must be of type ${res.kind}): couldn't get version/kind; json parse error: ${e.message}`);
    }
  }

  // ------------------------------------------------------------ routing

  // Returns {res, ns, name, sub, collection, clusterWide} or a discovery doc, or null.
  function route(pathname) {
    const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
    let gv;
    let rest;
    if (parts[0] === "api") {
      if (parts.length === 1) return { discovery: { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1:6443" }] } };
      if (parts[1] !== "v1") return null;
      gv = "v1";
      rest = parts.slice(2);
    } else if (parts[0] === "apis") {
      if (parts.length === 1) return { discovery: apiGroupList() };
      if (parts.length < 3) return null;
      gv = `${parts[1]}/${parts[2]}`;
      rest = parts.slice(3);
    } else return null;
    const group = byGroupVersion.get(gv);
    if (!group) return null;
    if (rest.length === 0) return { discovery: resourceList(gv) };
    let ns;
    if (rest[0] === "namespaces" && rest.length === 3 && gv === "v1" && (rest[2] === "status" || rest[2] === "finalize")) {
      return { res: byPlural.namespaces, name: rest[1], sub: rest[2] };
    }
    if (rest[0] === "namespaces" && rest.length >= 3) {
      ns = rest[1];
      rest = rest.slice(2);
    } else if (rest[0] === "namespaces" && gv === "v1") {
      // /api/v1/namespaces[/{name}[/status]]
      const res = byPlural.namespaces;
      if (rest.length === 1) return { res, collection: true };
      return { res, name: rest[1], sub: rest[2] };
    }
    const res = group[rest[0]];
    if (!res) return null;
    if (!res.namespaced && ns !== undefined) return null;
    if (rest.length === 1) return { res, ns, collection: true, clusterWide: ns === undefined };
    if (ns === undefined && res.namespaced) return null;
    if (rest.length === 2) return { res, ns, name: rest[1] };
    if (rest.length === 3) return { res, ns, name: rest[1], sub: rest[2] };
    return null;
  }

  function apiGroupList() {
    const groups = new Map();
    for (const r of RESOURCES) if (r.group) groups.set(r.group, r.version);
    return {
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: [...groups].map(([name, version]) => ({
        name,
        versions: [{ groupVersion: `${name}/${version}`, version }],
        preferredVersion: { groupVersion: `${name}/${version}`, version },
      })),
    };
  }

  function resourceList(gv) {
    const resources = [];
    for (const r of Object.values(byGroupVersion.get(gv))) {
      const verbs = r.readOnly ? ["delete", "deletecollection", "get", "list"] : ["create", "delete", "deletecollection", "get", "list", "patch", "update"];
      resources.push({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs, shortNames: r.shortNames });
      if (r.statusSub) resources.push({ name: `${r.plural}/status`, singularName: "", namespaced: r.namespaced, kind: r.kind, verbs: r.statusWrite ? ["get", "patch", "update"] : ["get"] });
      if (r.scaleSub) resources.push({ name: `${r.plural}/scale`, singularName: "", namespaced: r.namespaced, group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] });
    }
    return { kind: "APIResourceList", apiVersion: "v1", groupVersion: gv, resources };
  }

  // Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1
  // (first choice): metadata only, as the real server answers it, so that a
  // client asking for it never receives a Secret's data.
  function asMetadata(body, accept) {
    const first = String(accept ?? "").split(",")[0];
    const params = Object.fromEntries(first.split(";").slice(1).map((p) => p.trim().split("=")));
    if (params.g !== "meta.k8s.io" || params.v !== "v1") return body;
    const partial = (o) => ({ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata });
    if (params.as === "PartialObjectMetadata" && body.metadata?.uid) return partial(body);
    if (params.as === "PartialObjectMetadataList" && Array.isArray(body.items))
      return { kind: "PartialObjectMetadataList", apiVersion: "meta.k8s.io/v1", metadata: body.metadata, items: body.items.map(partial) };
    return body;
  }

  function verbOf(method, r, q) {
    if (!r || r.discovery) return method;
    if (method === "GET") {
      if (q.get("watch") === "true" || q.get("watch") === "1") return "WATCH";
      return r.collection ? "LIST" : "GET";
    }
    if (method === "DELETE" && r.collection) return "DELETECOLLECTION";
    return method;
  }

  function handleApi(method, r, q, body, headers) {
    const ctx = {
      warnings: [],
      fieldValidation: q.get("fieldValidation") ?? opts.fieldValidation,
      dryRun: false,
      manager: q.get("fieldManager") || (headers["user-agent"] ?? "").split("/")[0].trim() || "unknown",
    };
    if (!["Strict", "Warn", "Ignore"].includes(ctx.fieldValidation))
      throw badRequest(`fieldValidation: Unsupported value: "${ctx.fieldValidation}": supported values: "Ignore", "Strict", "Warn"`);
    const dryRun = q.getAll("dryRun");
    for (const d of dryRun) if (d !== "All") throw badRequest(`dryRun: Unsupported value: "${d}": supported values: "All"`);
    ctx.dryRun = dryRun.includes("All");
    if (ctx.manager.length > 128) throw new ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes', { name: "", group: "meta.k8s.io", kind: "PatchOptions", causes: [fe.tooLong("fieldManager", 128)] });
    const { res, ns, name, sub } = r;
    if (q.get("watch") === "true" || q.get("watch") === "1") throw badRequest("watch is not supported by the k8s stand-in: poll with GET/LIST");

    let out;
    if (sub !== undefined) {
      if (sub === "status" && res.statusSub) {
        if (method !== "GET" && !res.statusWrite) throw methodNotAllowed("writes to the status subresource are not supported by the k8s stand-in (status is computed)");
        const o = store.get(res.plural, ns, name);
        if (!o) throw notFound(res, name);
        out = method === "GET" ? { code: 200, body: o } : verbStatus(method, res, o, body, headers["content-type"], ctx);
      } else if (sub === "scale" && res.scaleSub) out = verbScale(method, res, ns, name, body, headers["content-type"], ctx);
      else throw routeNotFound();
    } else if (r.collection) {
      if (method === "GET") out = { code: 200, body: asMetadata(verbList(res, ns, q), headers.accept) };
      else if (method === "POST") {
        if (r.clusterWide && res.namespaced) throw methodNotAllowed(`POST is not supported on the cluster-wide ${res.plural} collection`);
        out = verbCreate(res, ns, body, ctx);
      } else if (method === "DELETE") out = verbDeleteCollection(res, ns, body, ctx, q);
      else throw methodNotAllowed(`${method} is not supported on a collection`);
    } else {
      if (method === "GET") {
        const o = store.get(res.plural, ns, name);
        if (!o) throw notFound(res, name);
        out = { code: 200, body: asMetadata(o, headers.accept) };
      } else if (method === "PUT") out = verbReplace(res, ns, name, body, ctx);
      else if (method === "PATCH") out = verbPatch(res, ns, name, body, headers["content-type"], ctx, q);
      else if (method === "DELETE") out = verbDelete(res, ns, name, body, ctx, q);
      else throw methodNotAllowed(`${method} is not supported on a single ${res.kind}`);
    }
    if (method !== "GET" && !ctx.dryRun) settle();
    out.warnings = ctx.warnings;
    return out;
  }

  // For benches: objects stored as given, with defaults and Service
  // allocation (cluster IP, node ports checked against the range and each
  // other) but no schema or rule validation and no field owners, then one
  // settle for the lot (pods, claims, readiness).  A thousand instances
  // through the API pipeline take minutes; this takes a second.
  function loadObjects(items) {
    if (!Array.isArray(items)) throw badRequest("load: items must be an array of objects");
    const usedNodePorts = new Set();
    const usedClusterIPs = new Set();
    for (const s of store.list("services")) {
      for (const p of s.spec?.ports ?? []) if (p.nodePort) usedNodePorts.add(p.nodePort);
      if (s.spec?.clusterIP && s.spec.clusterIP !== "None") usedClusterIPs.add(s.spec.clusterIP);
    }
    const ctx = { usedNodePorts, usedClusterIPs, rand, get nextIP() { return ipState.next; }, set nextIP(v) { ipState.next = v; } };
    for (const obj of items) {
      const res = isObj(obj) && kindKnown(obj.apiVersion, obj.kind);
      if (!res || !isObj(obj.metadata) || !obj.metadata.name) throw badRequest("load: every item needs apiVersion, kind and metadata.name of a served kind");
      const o = clone(obj);
      const md = o.metadata;
      if (store.get(res.plural, md.namespace, md.name)) throw alreadyExists(res, md.name);
      if (res.kind === "StatefulSet") o.status = { replicas: 0, availableReplicas: 0 };
      applyDefaults(res.kind, o, undefined);
      if (res.kind === "Service") {
        const causes = [];
        allocateService(o, undefined, ctx, causes);
        if (causes.length) throw invalid(res, md.name, causes);
        for (const p of o.spec.ports ?? []) if (p.nodePort) usedNodePorts.add(p.nodePort);
        usedClusterIPs.add(o.spec.clusterIP);
      }
      if (res.generation) md.generation = 1;
      store.create(res, o);
    }
    settle();
    return items.length;
  }

  // ------------------------------------------------------------ control

  function controlBody(body) {
    if (!body || body.length === 0) return {};
    try {
      const o = JSON.parse(body.toString("utf8"));
      return isObj(o) ? o : {};
    } catch {
      throw badRequest("control endpoint: body must be JSON");
    }
  }

  function handleControl(method, pathname, q, body) {
    const what = pathname.slice("/_control/".length);
    const b = method === "POST" || method === "DELETE" ? controlBody(body) : {};
    const stsOrThrow = () => {
      const sts = store.get("statefulsets", b.namespace, b.name);
      if (!sts) throw notFound(byPlural.statefulsets, b.name ?? "");
      return sts;
    };
    switch (`${method} ${what}`) {
      case "GET health":
        return { code: 200, body: { ok: true } };
      case "POST ready": {
        const sts = stsOrThrow();
        const st = stateOf(sts);
        st.ready = b.ready !== false;
        if (st.ready) st.fail = null;
        settle();
        return { code: 200, body: store.get("statefulsets", b.namespace, b.name) };
      }
      case "POST autoready": {
        autoReady = b.on !== false;
        settle();
        return { code: 200, body: { autoReady } };
      }
      case "POST fail": {
        const sts = stsOrThrow();
        const st = stateOf(sts);
        if (!b.reason) st.fail = null;
        else {
          st.fail = { reason: String(b.reason), message: b.message, ordinals: Array.isArray(b.ordinals) ? b.ordinals : undefined };
          st.ready = false;
        }
        settle();
        return { code: 200, body: store.get("statefulsets", b.namespace, b.name) };
      }
      case "POST fault": {
        const f = {
          status: b.status === undefined || b.status === null ? undefined : Number(b.status),
          count: b.count === undefined ? 1 : Number(b.count),
          retryAfter: b.retryAfter === undefined ? 1 : Number(b.retryAfter),
          delayMs: Number(b.delayMs ?? 0),
          match: b.match ?? "",
          method: b.method ? String(b.method).toUpperCase() : undefined,
        };
        if (f.status === undefined && !f.delayMs) throw badRequest("fault needs status and/or delayMs");
        faults.push(f);
        return { code: 200, body: { faults } };
      }
      case "POST load":
        return { code: 200, body: { loaded: loadObjects(b.items) } };
      case "POST expire-continue": {
        expireContinue = b.count === undefined ? 1 : Number(b.count);
        if (!Number.isInteger(expireContinue) || expireContinue < 0) throw badRequest("expire-continue: count must be an integer >= 0");
        return { code: 200, body: { expireContinue } };
      }
      case "GET faults":
        return { code: 200, body: { faults } };
      case "DELETE faults":
      case "DELETE fault":
        faults = [];
        return { code: 200, body: { faults } };
      case "GET stats":
        return { code: 200, body: stats };
      case "POST reset-stats":
        resetStats();
        return { code: 200, body: stats };
      case "GET objects": {
        const plural = q.get("resource");
        const ns = q.get("namespace");
        const items = store
          .all()
          .filter(({ plural: p, obj }) => (!plural || p === plural) && (!ns || obj.metadata.namespace === ns))
          .map(({ obj }) => obj)
          .sort((a, b2) => `${a.kind}/${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b2.kind}/${b2.metadata.namespace}/${b2.metadata.name}`));
        const owners = {};
        for (const [k, m] of store.owners) if (m.size) owners[k] = ownersView(m);
        return { code: 200, body: { resourceVersion: String(store.rv), autoReady, items, fieldOwners: owners } };
      }
      case "DELETE objects": {
        store.wipe();
        stsState.clear();
        faults = [];
        expireContinue = 0;
        return { code: 200, body: { ok: true } };
      }
      default:
        throw new ApiError(404, "NotFound", `unknown control endpoint ${method} ${pathname}`);
    }
  }

  // ---------------------------------------------------------------- http

  function send(resp, code, body, headers = {}) {
    const noBody = code === 204;
    const data = noBody ? "" : JSON.stringify(body);
    const h = { ...headers };
    if (!noBody) {
      h["Content-Type"] = "application/json";
      h["Content-Length"] = Buffer.byteLength(data);
    }
    h["Cache-Control"] = "no-cache, private";
    resp.writeHead(code, h);
    resp.end(data);
  }

  // The API server's limit on a request body (3 MiB); the control
  // endpoints are not the API, and a bench's /_control/load of thousands
  // of objects at once is far larger (a load settles the controllers over
  // every object, so many small loads cost more than one).
  function readBody(req, limit = 3 * 1024 * 1024) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      let tooBig = false;
      req.on("data", (c) => {
        size += c.length;
        if (size > limit) tooBig = true;
        else chunks.push(c);
      });
      req.on("end", () => (tooBig ? reject(tooLarge()) : resolve(Buffer.concat(chunks))));
      req.on("error", reject);
    });
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function record(method, pathname, verb, code, headers, q) {
    stats.requests++;
    stats.byVerb[verb] = (stats.byVerb[verb] ?? 0) + 1;
    stats.byPath[pathname] = (stats.byPath[pathname] ?? 0) + 1;
    stats.byStatus[code] = (stats.byStatus[code] ?? 0) + 1;
    const entry = { method, path: pathname, verb, status: code };
    const qs = q.toString();
    if (qs) entry.query = qs;
    if (headers["content-type"]) entry.contentType = headers["content-type"];
    if (headers.accept) entry.accept = headers.accept;
    if (headers.traceparent) entry.traceparent = headers.traceparent;
    stats.recent.push(entry);
    if (stats.recent.length > 500) stats.recent.shift();
  }

  async function dispatch(req, method, pathname, url, body, meta) {
    const q = url.searchParams;
    if (["/healthz", "/livez", "/readyz"].includes(pathname)) return { code: 200, text: "ok" };
    const r = route(pathname);
    meta.verb = verbOf(method, r, q);
    if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) throw unauthorized();
    const target = `${pathname}${url.search}`;
    const fi = faults.findIndex((f) => target.includes(f.match) && (!f.method || f.method === method || f.method === meta.verb));
    if (fi >= 0) {
      const f = faults[fi];
      f.count -= 1;
      if (f.count <= 0) faults.splice(fi, 1);
      if (f.delayMs > 0) {
        meta.tag = ` (delayed ${f.delayMs}ms)`;
        await sleep(f.delayMs);
      }
      if (f.status !== undefined) {
        meta.tag = ` (injected${f.delayMs ? `, delayed ${f.delayMs}ms` : ""})`;
        if (f.status === 429) throw tooManyRequests(f.retryAfter);
        if (f.status === 503) throw serviceUnavailable("the server is currently unable to handle the request (injected fault)");
        if (f.status === 504) throw new ApiError(504, "Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request (injected fault)", { retryAfterSeconds: f.retryAfter });
        if (f.status === 500) throw internalError("injected fault");
        throw new ApiError(f.status, f.status >= 500 ? "InternalError" : "BadRequest", `injected fault ${f.status}`);
      }
    }
    if (pathname === "/version")
      return { code: 200, body: { major: "1", minor: "33", gitVersion: "v1.33.0-dbtree-standin", gitCommit: "", gitTreeState: "clean", buildDate: "", goVersion: "", compiler: "gc", platform: "linux/amd64" } };
    if (r === null) throw routeNotFound();
    if (r.discovery) return { code: 200, body: r.discovery };
    const out = handleApi(method, r, q, body, req.headers);
    const headers = {};
    if (out.warnings?.length) headers.Warning = out.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
    return { code: out.code, body: out.body, headers };
  }

  async function handler(req, resp) {
    const url = new URL(req.url, "http://standin");
    const { pathname } = url;
    const method = req.method.toUpperCase();
    const control = pathname.startsWith("/_control/");
    const meta = { verb: method, tag: "" };
    let out;
    try {
      const body = await readBody(req, control ? 1024 * 1024 * 1024 : undefined);
      out = control ? handleControl(method, pathname, url.searchParams, body) : await dispatch(req, method, pathname, url, body, meta);
    } catch (e) {
      if (e instanceof ApiError) out = { code: e.code, body: e.toStatus(), headers: e.headers };
      else {
        process.stderr.write(`k8s stand-in: internal error on ${method} ${req.url}: ${e.stack}\n`);
        out = { code: 500, body: internalError(String(e.message)).toStatus() };
      }
    }
    if (!control && !["/healthz", "/livez", "/readyz"].includes(pathname)) record(method, pathname, meta.verb, out.code, req.headers, url.searchParams);
    if (out.text !== undefined) {
      resp.writeHead(out.code, { "Content-Type": "text/plain" });
      resp.end(out.text);
    } else send(resp, out.code, out.body, out.headers ?? {});
    log(`${method} ${req.url.length > 200 ? `${req.url.slice(0, 200)}...` : req.url} ${out.code}${meta.tag}`);
  }

  const server = http.createServer((req, resp) => {
    handler(req, resp).catch((e) => {
      process.stderr.write(`k8s stand-in: ${e.stack}\n`);
      if (!resp.headersSent) send(resp, 500, internalError(String(e.message)).toStatus());
    });
  });
  server.keepAliveTimeout = 30000;
  return server;
}

// ---------------------------------------------------------------------- main

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("/server.mjs");
if (isMain) {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`server.mjs: ${e.message}`);
    process.exit(2);
  }
  const server = createServer(o);
  server.on("error", (e) => {
    console.error(`server.mjs: ${e.message}`);
    process.exit(1);
  });
  server.listen(o.port, o.host, () => {
    const a = server.address();
    console.log(`k8s stand-in listening on http://${o.host}:${a.port}`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
