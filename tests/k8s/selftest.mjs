#!/usr/bin/env node
// Self-check of the Kubernetes API stand-in: starts server.mjs on a free port
// and exercises every rule it claims to implement. Not part of the product
// tests. Prints "N passed, N failed"; exit code 1 when something failed.
//
//   node tests/k8s/selftest.mjs [--verbose]

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import assert from "node:assert/strict";

const here = path.dirname(fileURLToPath(import.meta.url));
const verbose = process.argv.includes("--verbose");
const TOKEN = "selftest-token";

// ------------------------------------------------------------ server process

const logLines = [];
let base;
const child = spawn(process.execPath, [path.join(here, "server.mjs"), "--port", "0", "--token", TOKEN], { stdio: ["ignore", "pipe", "pipe"] });
const started = new Promise((resolve, reject) => {
  let buf = "";
  const timer = setTimeout(() => reject(new Error("server did not start within 10 s")), 10000);
  child.stdout.on("data", (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      logLines.push(line);
      if (verbose) process.stdout.write(`  [server] ${line}\n`);
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    }
  });
  child.stderr.on("data", (d) => process.stderr.write(`[server stderr] ${d}`));
  child.on("exit", (code) => reject(new Error(`server exited early with ${code}`)));
});

// ------------------------------------------------------------------- client

async function req(method, p, body, { ct, token = TOKEN, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let data;
  if (body !== undefined) {
    data = typeof body === "string" ? body : JSON.stringify(body);
    h["Content-Type"] = ct ?? "application/json";
  }
  const t0 = Date.now();
  const r = await fetch(base + p, { method, headers: h, body: data });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, json, text, ms: Date.now() - t0 };
}

const get = (p, o) => req("GET", p, undefined, o);
const post = (p, b, o) => req("POST", p, b, o);
const put = (p, b, o) => req("PUT", p, b, o);
const del = (p, b, o) => req("DELETE", p, b, o);
const apply = (p, b, manager = "dbtree", extra = "") =>
  req("PATCH", `${p}?fieldManager=${manager}${extra}`, b, { ct: "application/apply-patch+yaml" });
const mpatch = (p, b) => req("PATCH", p, b, { ct: "application/merge-patch+json" });
const jpatch = (p, b) => req("PATCH", p, b, { ct: "application/json-patch+json" });
const ctl = (method, what, b) => req(method, `/_control/${what}`, b, { token: null });

function expectStatus(r, code, reason) {
  assert.equal(r.status, code, `expected HTTP ${code}, got ${r.status}: ${r.text.slice(0, 400)}`);
  if (reason) {
    const s = r.json;
    assert.equal(s.kind, "Status");
    assert.equal(s.apiVersion, "v1");
    assert.deepEqual(s.metadata, {});
    assert.equal(s.status, "Failure");
    assert.equal(s.reason, reason);
    assert.equal(s.code, code);
    assert.equal(typeof s.message, "string");
    assert.ok(s.details && typeof s.details === "object", "Status.details present");
  }
  return r.json;
}

const NS = "user-42";
const core = (res, name) => `/api/v1/namespaces/${NS}/${res}${name ? `/${name}` : ""}`;
const apps = (res, name) => `/apis/apps/v1/namespaces/${NS}/${res}${name ? `/${name}` : ""}`;
const netv1 = (res, name) => `/apis/networking.k8s.io/v1/namespaces/${NS}/${res}${name ? `/${name}` : ""}`;

function secret(name, extra = {}) {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, labels: { "dbtree.cloud/managed": "true" } }, type: "Opaque", data: { username: Buffer.from("admin").toString("base64") }, ...extra };
}

function sts(name, { replicas = 1, labels = { app: name }, selector, serviceName = `${name}-svc`, image = "mongo:7.0", claims = true } = {}) {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, labels: { ...labels, "app.kubernetes.io/instance": name } },
    spec: {
      replicas,
      serviceName,
      selector: { matchLabels: selector ?? labels },
      template: {
        metadata: { labels: { ...labels, "app.kubernetes.io/instance": name } },
        spec: {
          containers: [
            {
              name: "mongodb",
              image,
              ports: [{ containerPort: 27017, name: "mongodb" }],
              env: [{ name: "MONGO_INITDB_ROOT_USERNAME", valueFrom: { secretKeyRef: { name: `${name}-secret`, key: "username" } } }],
              resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
              readinessProbe: { tcpSocket: { port: 27017 }, initialDelaySeconds: 40, periodSeconds: 10 },
              livenessProbe: { tcpSocket: { port: 27017 }, initialDelaySeconds: 40, periodSeconds: 10 },
              volumeMounts: claims ? [{ name: "data", mountPath: "/data/db" }] : [],
            },
          ],
        },
      },
      volumeClaimTemplates: claims ? [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "2Gi" } } } }] : [],
    },
  };
}

function nodePortSvc(name, nodePort, extra = {}) {
  const port = { name: "mongodb", port: 27017, targetPort: 27017, protocol: "TCP" };
  if (nodePort !== undefined) port.nodePort = nodePort;
  return { apiVersion: "v1", kind: "Service", metadata: { name, labels: { "dbtree.cloud/instance-id": name } }, spec: { type: "NodePort", selector: { app: name }, ports: [port], ...extra } };
}

// ------------------------------------------------------------------- tests

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("auth: 401 Status without the bearer token, 200 with it", async () => {
  const r = await get(core("secrets"), { token: null });
  const s = expectStatus(r, 401, "Unauthorized");
  assert.equal(s.message, "Unauthorized");
  expectStatus(await get(core("secrets"), { token: "wrong" }), 401, "Unauthorized");
  expectStatus(await get(core("secrets")), 200);
});

test("discovery, /version, unknown paths", async () => {
  const r = await get("/apis/apps/v1");
  expectStatus(r, 200);
  assert.ok(r.json.resources.some((x) => x.name === "statefulsets" && x.namespaced));
  assert.equal((await get("/version")).json.major, "1");
  expectStatus(await get("/api/v1/namespaces/x/widgets"), 404, "NotFound");
  expectStatus(await get("/apis/apps/v1/namespaces/x/secrets"), 404, "NotFound");
});

test("create Secret: uid, resourceVersion, creationTimestamp; GET; 404 NotFound", async () => {
  const r = await post(core("secrets"), secret("s1"));
  const o = expectStatus(r, 201);
  assert.match(o.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.match(o.metadata.resourceVersion, /^\d+$/);
  assert.match(o.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(o.metadata.namespace, NS);
  const g = expectStatus(await get(core("secrets", "s1")), 200);
  assert.equal(g.metadata.uid, o.metadata.uid);
  const nf = expectStatus(await get(core("secrets", "nope")), 404, "NotFound");
  assert.equal(nf.message, 'secrets "nope" not found');
  assert.deepEqual(nf.details, { name: "nope", kind: "secrets" });
  const nf2 = expectStatus(await get(apps("statefulsets", "nope")), 404, "NotFound");
  assert.equal(nf2.message, 'statefulsets.apps "nope" not found');
  assert.equal(nf2.details.group, "apps");
});

test("create conflict: 409 AlreadyExists", async () => {
  const s = expectStatus(await post(core("secrets"), secret("s1")), 409, "AlreadyExists");
  assert.equal(s.message, 'secrets "s1" already exists');
});

test("resourceVersion is a global increasing counter", async () => {
  const a = expectStatus(await post(core("secrets"), secret("rv-a")), 201);
  const b = expectStatus(await post(core("secrets"), secret("rv-b")), 201);
  assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
  const l = expectStatus(await get(core("secrets")), 200);
  assert.ok(Number(l.metadata.resourceVersion) >= Number(b.metadata.resourceVersion));
});

test("Secret: stringData becomes base64 data; non-base64 data is rejected (400)", async () => {
  const o = expectStatus(await post(core("secrets"), { apiVersion: "v1", kind: "Secret", metadata: { name: "s2" }, stringData: { password: "p@ss" } }), 201);
  assert.equal(o.data.password, Buffer.from("p@ss").toString("base64"));
  assert.equal(o.stringData, undefined);
  assert.equal(o.type, "Opaque");
  const bad = expectStatus(await post(core("secrets"), secret("s3", { data: { password: "not base64!" } })), 400, "BadRequest");
  assert.match(bad.message, /data\.password/);
  const badKey = expectStatus(await post(core("secrets"), secret("s4", { data: { "bad key": "eA==" } })), 422, "Invalid");
  assert.match(badKey.message, /valid config key/);
});

test("metadata.name must be a DNS-1123 subdomain; label values validated", async () => {
  const s = expectStatus(await post(core("secrets"), secret("Bad_Name")), 422, "Invalid");
  assert.equal(s.details.causes[0].field, "metadata.name");
  assert.equal(s.details.causes[0].reason, "FieldValueInvalid");
  assert.equal(s.details.kind, "Secret");
  assert.match(s.message, /^Secret "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  const l = expectStatus(await post(core("secrets"), secret("okname", { metadata: { name: "okname", labels: { app: "has space" } } })), 422, "Invalid");
  assert.equal(l.details.causes[0].field, "metadata.labels");
  const n = expectStatus(await post(core("secrets"), { apiVersion: "v1", kind: "Secret", metadata: {} }), 422, "Invalid");
  assert.match(n.message, /name or generateName is required/);
  const g = expectStatus(await post(core("secrets"), { apiVersion: "v1", kind: "Secret", metadata: { generateName: "gen-" } }), 201);
  assert.match(g.metadata.name, /^gen-[a-z0-9]{5}$/);
});

test("request body checks: namespace mismatch, wrong kind, bad JSON", async () => {
  expectStatus(await post(core("secrets"), secret("x1", { metadata: { name: "x1", namespace: "other" } })), 400, "BadRequest");
  expectStatus(await post(core("secrets"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x2" } }), 400, "BadRequest");
  expectStatus(await post(core("secrets"), "{not json"), 400, "BadRequest");
});

test("PUT replace: 409 Conflict on stale resourceVersion, no-op keeps resourceVersion", async () => {
  const cur = expectStatus(await get(core("secrets", "s1")), 200);
  const stale = { ...cur, metadata: { ...cur.metadata, resourceVersion: "1" }, data: { username: "YQ==" } };
  const c = expectStatus(await put(core("secrets", "s1"), stale), 409, "Conflict");
  assert.match(c.message, /the object has been modified; please apply your changes to the latest version and try again/);
  const ok = expectStatus(await put(core("secrets", "s1"), { ...cur, data: { username: "YQ==" } }), 200);
  assert.ok(Number(ok.metadata.resourceVersion) > Number(cur.metadata.resourceVersion));
  assert.equal(ok.metadata.uid, cur.metadata.uid);
  const same = expectStatus(await put(core("secrets", "s1"), ok), 200);
  assert.equal(same.metadata.resourceVersion, ok.metadata.resourceVersion, "no-op update keeps the resourceVersion");
  expectStatus(await put(core("secrets", "ghost"), secret("ghost")), 404, "NotFound");
  expectStatus(await put(core("secrets", "s1"), secret("other-name")), 400, "BadRequest");
  const typeChange = expectStatus(await put(core("secrets", "s1"), { ...ok, type: "kubernetes.io/tls", data: { "tls.crt": "YQ==", "tls.key": "YQ==" } }), 422, "Invalid");
  assert.match(typeChange.message, /type: Invalid value: "kubernetes.io\/tls": field is immutable/);
});

test("merge patch (RFC 7386) and JSON patch (RFC 6902)", async () => {
  const a = expectStatus(await mpatch(core("secrets", "s1"), { metadata: { labels: { extra: "yes" } } }), 200);
  assert.equal(a.metadata.labels.extra, "yes");
  assert.equal(a.metadata.labels["dbtree.cloud/managed"], "true");
  const b = expectStatus(await mpatch(core("secrets", "s1"), { metadata: { labels: { extra: null } } }), 200);
  assert.equal(b.metadata.labels.extra, undefined);
  const c = expectStatus(await jpatch(core("secrets", "s1"), [{ op: "add", path: "/data/password", value: "cHc=" }]), 200);
  assert.equal(c.data.password, "cHc=");
  expectStatus(await jpatch(core("secrets", "s1"), [{ op: "test", path: "/data/password", value: "nope" }]), 422, "Invalid");
  expectStatus(await mpatch(core("secrets", "ghost"), { data: {} }), 404, "NotFound");
  expectStatus(await mpatch(core("secrets", "s1"), { metadata: { resourceVersion: "5" } }), 409, "Conflict");
  expectStatus(await req("PATCH", core("secrets", "s1"), { data: {} }, { ct: "application/strategic-merge-patch+json" }), 415);
  expectStatus(await req("PATCH", core("secrets", "s1"), { data: {} }, { ct: "text/plain" }), 415);
});

test("server-side apply: create, idempotent re-apply, conflict, force, field removal", async () => {
  const p = apps("statefulsets", "ssa1");
  const body = sts("ssa1", { replicas: 1 });
  const missing = expectStatus(await req("PATCH", p, body, { ct: "application/apply-patch+yaml" }), 422, "Invalid");
  assert.match(missing.message, /fieldManager: Required value/);
  const created = await apply(p, body);
  const o = expectStatus(created, 201);
  assert.equal(o.metadata.generation, 1);
  assert.equal(o.spec.podManagementPolicy, "OrderedReady", "defaults applied");
  const again = expectStatus(await apply(p, body), 200);
  const cur = expectStatus(await get(p), 200);
  assert.equal(again.metadata.resourceVersion, cur.metadata.resourceVersion, "re-applying the same config writes nothing");
  // another manager changes a field owned by dbtree -> conflict
  const other = { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "ssa1" }, spec: { replicas: 3 } };
  const cf = expectStatus(await apply(p, other, "kubectl"), 409, "Conflict");
  assert.match(cf.message, /^Apply failed with 1 conflict: conflict with "dbtree" using apps\/v1: \.spec\.replicas/);
  assert.equal(cf.details.causes[0].reason, "FieldManagerConflict");
  assert.equal(cf.details.causes[0].field, ".spec.replicas");
  const forced = expectStatus(await apply(p, other, "kubectl", "&force=true"), 200);
  assert.equal(forced.spec.replicas, 3);
  assert.equal(forced.metadata.generation, 2, "generation increments on spec change");
  assert.equal(forced.spec.template.spec.containers[0].image, "mongo:7.0", "fields of other managers are kept");
  // dbtree now conflicts on replicas; force takes it back
  expectStatus(await apply(p, sts("ssa1", { replicas: 2 })), 409, "Conflict");
  const back = expectStatus(await apply(p, sts("ssa1", { replicas: 2 }), "dbtree", "&force=true"), 200);
  assert.equal(back.spec.replicas, 2);
  // a label applied before and left out now is removed
  const withLabel = sts("ssa1", { replicas: 2 });
  withLabel.metadata.labels.tier = "gold";
  assert.equal(expectStatus(await apply(p, withLabel), 200).metadata.labels.tier, "gold");
  const without = expectStatus(await apply(p, sts("ssa1", { replicas: 2 })), 200);
  assert.equal(without.metadata.labels.tier, undefined);
  // a field set by another manager (merge patch) survives dbtree's apply
  expectStatus(await mpatch(p, { metadata: { annotations: { note: "ops" } } }), 200);
  const kept = expectStatus(await apply(p, sts("ssa1", { replicas: 2 })), 200);
  assert.equal(kept.metadata.annotations.note, "ops");
  // server-set defaults (protocol, targetPort, nodePort) are no conflict with the creator
  const svc = nodePortSvc("ssa-svc");
  expectStatus(await post(`${core("services")}?fieldManager=creator`, svc), 201);
  const slim = nodePortSvc("ssa-svc");
  delete slim.spec.ports[0].protocol;
  delete slim.spec.ports[0].targetPort;
  const sa = expectStatus(await apply(core("services", "ssa-svc"), slim), 200);
  assert.ok(sa.spec.ports[0].nodePort >= 30000, "the allocated nodePort is kept");
  expectStatus(await del(core("services", "ssa-svc")), 200);
  // YAML bodies are accepted too
  const yaml = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ssa-yaml\nstringData:\n  a: b\n";
  const y = expectStatus(await req("PATCH", `${core("secrets", "ssa-yaml")}?fieldManager=dbtree`, yaml, { ct: "application/apply-patch+yaml" }), 201);
  assert.equal(y.data.a, "Yg==");
  expectStatus(await req("PATCH", `${core("secrets", "ssa-yaml")}?fieldManager=dbtree`, { metadata: { name: "ssa-yaml" } }, { ct: "application/apply-patch+yaml" }), 400, "BadRequest");
});

test("schema validation: wrong types are rejected like a decoding error (400)", async () => {
  const bad = sts("bad-replicas");
  bad.spec.replicas = "one";
  const r = expectStatus(await post(apps("statefulsets"), bad), 400, "BadRequest");
  assert.match(r.message, /StatefulSet in version "v1" cannot be handled as a StatefulSet: spec\.replicas: must be integer/);
  const r2 = expectStatus(await apply(apps("statefulsets", "bad-replicas"), bad), 400, "BadRequest");
  assert.match(r2.message, /spec\.replicas/);
  const svc = nodePortSvc("bad-port");
  svc.spec.ports[0].port = "80x";
  const r3 = expectStatus(await post(core("services"), svc), 400, "BadRequest");
  assert.match(r3.message, /spec\.ports\[0\]\.port: must be integer/);
  const q = sts("bad-cpu");
  q.spec.template.spec.containers[0].resources.requests.cpu = "lots";
  expectStatus(await post(apps("statefulsets"), q), 400, "BadRequest");
  const big = sts("bad-int32");
  big.spec.replicas = 2 ** 40;
  expectStatus(await post(apps("statefulsets"), big), 400, "BadRequest");
});

test("schema validation: missing required fields are 422 Invalid", async () => {
  const s = sts("no-name");
  delete s.spec.template.spec.containers[0].name;
  const r = expectStatus(await post(apps("statefulsets"), s), 422, "Invalid");
  assert.ok(r.details.causes.some((c) => c.field === "spec.template.spec.containers[0].name" && c.reason === "FieldValueRequired"), JSON.stringify(r.details.causes));
  const s2 = sts("no-image");
  delete s2.spec.template.spec.containers[0].image;
  const r2 = expectStatus(await post(apps("statefulsets"), s2), 422, "Invalid");
  assert.ok(r2.details.causes.some((c) => c.field === "spec.template.spec.containers[0].image"));
  const s3 = sts("no-sel");
  delete s3.spec.selector;
  expectStatus(await post(apps("statefulsets"), s3), 422, "Invalid");
});

test("unknown fields: dropped with a Warning header (default), 400 with fieldValidation=Strict", async () => {
  const s = nodePortSvc("unk-svc");
  s.spec.ports[0].nodeport = 30055; // typo
  const r = await post(core("services"), s);
  const o = expectStatus(r, 201);
  assert.equal(o.spec.ports[0].nodeport, undefined);
  assert.match(r.headers.get("warning") ?? "", /unknown field \\"spec\.ports\[0\]\.nodeport\\"/);
  const s2 = nodePortSvc("unk-svc2");
  s2.spec.bogus = true;
  const r2 = expectStatus(await post(`${core("services")}?fieldValidation=Strict`, s2), 400, "BadRequest");
  assert.match(r2.message, /strict decoding error: unknown field "spec\.bogus"/);
  const stats = (await ctl("GET", "stats")).json;
  assert.ok(stats.warnings.some((w) => w.includes("nodeport")));
  expectStatus(await del(core("services", "unk-svc")), 200);
});

test("Service: clusterIP assigned, nodePort reserved, 422 on a taken or out-of-range nodePort", async () => {
  const a = expectStatus(await post(core("services"), nodePortSvc("svc-a", 30001)), 201);
  assert.match(a.spec.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
  assert.deepEqual(a.spec.clusterIPs, [a.spec.clusterIP]);
  assert.equal(a.spec.ports[0].nodePort, 30001);
  assert.equal(a.spec.externalTrafficPolicy, "Cluster");
  const taken = expectStatus(await post(core("services"), nodePortSvc("svc-b", 30001)), 422, "Invalid");
  assert.match(taken.message, /provided port is already allocated/);
  assert.equal(taken.details.causes[0].field, "spec.ports[0].nodePort");
  assert.equal(taken.message, 'Service "svc-b" is invalid: spec.ports[0].nodePort: Invalid value: 30001: provided port is already allocated');
  const range = expectStatus(await post(core("services"), nodePortSvc("svc-c", 8080)), 422, "Invalid");
  assert.match(range.message, /provided port is not in the valid range\. The range of valid ports is 30000-32767/);
  const auto = expectStatus(await post(core("services"), nodePortSvc("svc-d")), 201);
  assert.ok(auto.spec.ports[0].nodePort >= 30000 && auto.spec.ports[0].nodePort <= 32767);
  assert.notEqual(auto.spec.ports[0].nodePort, 30001);
  // clusterIP immutable; omitted clusterIP/nodePort on PUT keep their values
  const changed = { ...a, spec: { ...a.spec, clusterIP: "10.96.200.200", clusterIPs: ["10.96.200.200"] } };
  const imm = expectStatus(await put(core("services", "svc-a"), changed), 422, "Invalid");
  assert.match(imm.message, /spec\.clusterIP: Invalid value: "10\.96\.200\.200": field is immutable/);
  const omitted = { ...a, spec: { ...a.spec, ports: [{ name: "mongodb", port: 27017, targetPort: 27017 }] } };
  delete omitted.spec.clusterIP;
  delete omitted.spec.clusterIPs;
  const kept = expectStatus(await put(core("services", "svc-a"), omitted), 200);
  assert.equal(kept.spec.clusterIP, a.spec.clusterIP);
  assert.equal(kept.spec.ports[0].nodePort, 30001);
  // NodePort with clusterIP None (the old replica-set bug) is invalid
  const none = expectStatus(await post(core("services"), nodePortSvc("svc-e", undefined, { clusterIP: "None" })), 422, "Invalid");
  assert.match(none.message, /may not be set to 'None' for NodePort services/);
  // nodePort on a ClusterIP service is forbidden
  const cip = nodePortSvc("svc-f", 30010, { type: "ClusterIP" });
  expectStatus(await post(core("services"), cip), 422, "Invalid");
  // a Service name must be a DNS-1035 label
  expectStatus(await post(core("services"), nodePortSvc("1svc")), 422, "Invalid");
  // deleting the Service frees its port
  expectStatus(await del(core("services", "svc-a")), 200);
  expectStatus(await post(core("services"), nodePortSvc("svc-b", 30001)), 201);
  // the same nodePort through server-side apply
  const ap = expectStatus(await apply(core("services", "svc-g"), nodePortSvc("svc-g", 30001)), 422, "Invalid");
  assert.match(ap.message, /provided port is already allocated/);
});

test("StatefulSet: selector must match template labels", async () => {
  const s = sts("sel-bad", { selector: { app: "other" } });
  const r = expectStatus(await post(apps("statefulsets"), s), 422, "Invalid");
  assert.match(r.message, /`selector` does not match template `labels`/);
  assert.equal(r.details.causes[0].field, "spec.template.metadata.labels");
});

test("StatefulSet: immutable spec fields (422), mutable ones allowed", async () => {
  const p = apps("statefulsets", "imm1");
  expectStatus(await post(apps("statefulsets"), sts("imm1")), 201);
  // the controller has written status since the create: use the current object
  const o = expectStatus(await get(p), 200);
  const changed = { ...o, spec: { ...o.spec, serviceName: "something-else" } };
  const r = expectStatus(await put(p, changed), 422, "Invalid");
  assert.match(r.message, /updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden/);
  assert.equal(r.details.causes[0].field, "spec");
  const vct = structuredClone(o);
  vct.spec.volumeClaimTemplates[0].spec.resources.requests.storage = "5Gi";
  expectStatus(await put(p, vct), 422, "Invalid");
  const sel = await apply(p, { ...sts("imm1"), spec: { ...sts("imm1").spec, selector: { matchLabels: { app: "imm1", x: "y" } } } }, "dbtree", "&force=true");
  expectStatus(sel, 422, "Invalid");
  const cur = expectStatus(await get(p), 200);
  const ok = structuredClone(cur);
  ok.spec.replicas = 0;
  ok.spec.template.spec.containers[0].image = "mongo:7.0.5";
  const u = expectStatus(await put(p, ok), 200);
  assert.equal(u.spec.replicas, 0);
  assert.equal(u.metadata.generation, cur.metadata.generation + 1);
});

test("StatefulSet: pod template rules (volume mounts, requests <= limits, restartPolicy, probes)", async () => {
  const a = sts("tpl-a", { claims: false });
  a.spec.template.spec.containers[0].volumeMounts = [{ name: "data", mountPath: "/data/db" }];
  const r = expectStatus(await post(apps("statefulsets"), a), 422, "Invalid");
  assert.match(r.message, /volumeMounts\[0\]\.name: Not found: "data"/);
  const b = sts("tpl-b");
  b.spec.template.spec.containers[0].resources = { requests: { cpu: "2" }, limits: { cpu: "1" } };
  const r2 = expectStatus(await post(apps("statefulsets"), b), 422, "Invalid");
  assert.match(r2.message, /must be less than or equal to cpu limit of 1/);
  const c = sts("tpl-c");
  c.spec.template.spec.restartPolicy = "Never";
  expectStatus(await post(apps("statefulsets"), c), 422, "Invalid");
  const d = sts("tpl-d");
  d.spec.template.spec.containers[0].readinessProbe = { initialDelaySeconds: 5 };
  const r4 = expectStatus(await post(apps("statefulsets"), d), 422, "Invalid");
  assert.match(r4.message, /must specify a handler type/);
});

test("StatefulSet names: > 63 chars rejected, 53..63 chars accepted but no pods", async () => {
  const long64 = `a${"b".repeat(63)}`;
  expectStatus(await post(apps("statefulsets"), sts(long64)), 422, "Invalid");
  const name = `l${"x".repeat(52)}`; // 53 chars
  expectStatus(await post(apps("statefulsets"), sts(name, { claims: false })), 201);
  await ctl("POST", "ready", { namespace: NS, name });
  const pods = expectStatus(await get(`${core("pods")}?labelSelector=app=${name}`), 200);
  assert.equal(pods.items.length, 0);
  const s = expectStatus(await get(apps("statefulsets", name)), 200);
  assert.equal(s.status.replicas, 0);
  expectStatus(await del(apps("statefulsets", name)), 200);
});

test("pods and PVCs from a StatefulSet; ready via /_control/ready; scale up stays ready", async () => {
  const p = apps("statefulsets", "db1-sts");
  expectStatus(await apply(p, sts("db1-sts", { replicas: 2, labels: { app: "db1" } })), 201);
  // OrderedReady: pod 1 waits for pod 0
  let pods = expectStatus(await get(`${core("pods")}?labelSelector=app=db1`), 200);
  assert.equal(pods.kind, "PodList");
  assert.deepEqual(pods.items.map((x) => x.metadata.name), ["db1-sts-0"]);
  const p0 = pods.items[0];
  assert.equal(p0.status.phase, "Pending");
  assert.equal(p0.status.conditions.find((c) => c.type === "Ready").status, "False");
  assert.equal(p0.metadata.labels["statefulset.kubernetes.io/pod-name"], "db1-sts-0");
  assert.equal(p0.metadata.labels["app.kubernetes.io/instance"], "db1-sts");
  assert.equal(p0.metadata.ownerReferences[0].kind, "StatefulSet");
  let s = expectStatus(await get(p), 200);
  assert.equal(s.status.readyReplicas, undefined, "readyReplicas is omitted while 0, like the real API");
  assert.equal(s.status.availableReplicas, 0);
  assert.equal(s.status.observedGeneration, 1);
  const pvc = expectStatus(await get(core("persistentvolumeclaims", "data-db1-sts-0")), 200);
  assert.equal(pvc.status.phase, "Bound");
  assert.equal(pvc.spec.resources.requests.storage, "2Gi");
  assert.equal(pvc.metadata.labels.app, "db1");
  // mark ready
  const r = expectStatus(await ctl("POST", "ready", { namespace: NS, name: "db1-sts" }), 200);
  assert.equal(r.status.readyReplicas, 2);
  pods = expectStatus(await get(`${core("pods")}?labelSelector=app=db1`), 200);
  assert.deepEqual(pods.items.map((x) => [x.metadata.name, x.status.phase]), [["db1-sts-0", "Running"], ["db1-sts-1", "Running"]]);
  assert.ok(pods.items.every((x) => x.status.conditions.find((c) => c.type === "Ready").status === "True"));
  assert.ok(pods.items.every((x) => x.status.containerStatuses[0].ready === true && x.status.containerStatuses[0].state.running));
  // scale up: the new replica is ready too
  const body = sts("db1-sts", { replicas: 3, labels: { app: "db1" } });
  expectStatus(await apply(p, body), 200);
  s = expectStatus(await get(p), 200);
  assert.equal(s.status.replicas, 3);
  assert.equal(s.status.readyReplicas, 3);
  assert.equal(s.status.observedGeneration, 2);
  // scale down: pods go, PVCs stay
  expectStatus(await apply(p, sts("db1-sts", { replicas: 1, labels: { app: "db1" } })), 200);
  pods = expectStatus(await get(`${core("pods")}?labelSelector=app=db1`), 200);
  assert.deepEqual(pods.items.map((x) => x.metadata.name), ["db1-sts-0"]);
  const pvcs = expectStatus(await get(`${core("persistentvolumeclaims")}?labelSelector=app=db1`), 200);
  assert.deepEqual(pvcs.items.map((x) => x.metadata.name), ["data-db1-sts-0", "data-db1-sts-1", "data-db1-sts-2"]);
  // scale subresource
  const sc = expectStatus(await get(`${p}/scale`), 200);
  assert.equal(sc.kind, "Scale");
  assert.equal(sc.spec.replicas, 1);
  // pods are read-only
  expectStatus(await post(core("pods"), { apiVersion: "v1", kind: "Pod", metadata: { name: "x" }, spec: { containers: [{ name: "c", image: "i" }] } }), 405, "MethodNotAllowed");
});

test("deleting a StatefulSet: pods garbage-collected, PVCs kept until deleted explicitly", async () => {
  const r = expectStatus(await del(apps("statefulsets", "db1-sts")), 200);
  assert.equal(r.kind, "Status");
  assert.equal(r.status, "Success");
  expectStatus(await get(apps("statefulsets", "db1-sts")), 404, "NotFound");
  const pods = expectStatus(await get(`${core("pods")}?labelSelector=app=db1`), 200);
  assert.equal(pods.items.length, 0);
  const pvcs = expectStatus(await get(`${core("persistentvolumeclaims")}?labelSelector=app=db1`), 200);
  assert.equal(pvcs.items.length, 3);
  expectStatus(await del(core("persistentvolumeclaims", "data-db1-sts-0")), 200);
  expectStatus(await get(core("persistentvolumeclaims", "data-db1-sts-0")), 404, "NotFound");
  const dc = expectStatus(await del(`${core("persistentvolumeclaims")}?labelSelector=app=db1`), 200);
  assert.equal(dc.kind, "PersistentVolumeClaimList");
  assert.equal(dc.items.length, 2);
  assert.equal(expectStatus(await get(`${core("persistentvolumeclaims")}?labelSelector=app=db1`), 200).items.length, 0);
});

test("owner-reference garbage collection: Background, Orphan, Foreground, dangling owners", async () => {
  const mk = async (name) => expectStatus(await post(apps("statefulsets"), sts(name, { claims: false })), 201);
  const owned = (name, owner) =>
    secret(name, { metadata: { name, ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: owner.metadata.name, uid: owner.metadata.uid, controller: true }] } });
  // Background (default)
  let o = await mk("gc-bg");
  expectStatus(await post(core("secrets"), owned("gc-bg-secret", o)), 201);
  expectStatus(await del(apps("statefulsets", "gc-bg")), 200);
  expectStatus(await get(core("secrets", "gc-bg-secret")), 404, "NotFound");
  // Orphan (body DeleteOptions)
  o = await mk("gc-or");
  expectStatus(await post(core("secrets"), owned("gc-or-secret", o)), 201);
  expectStatus(await del(apps("statefulsets", "gc-or"), { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Orphan" }), 200);
  const kept = expectStatus(await get(core("secrets", "gc-or-secret")), 200);
  assert.equal(kept.metadata.ownerReferences, undefined);
  // Foreground (query)
  o = await mk("gc-fg");
  expectStatus(await post(core("secrets"), owned("gc-fg-secret", o)), 201);
  const fg = expectStatus(await del(`${apps("statefulsets", "gc-fg")}?propagationPolicy=Foreground`), 200);
  assert.ok(fg.metadata.deletionTimestamp, "foreground delete answers with the object being deleted");
  assert.ok(fg.metadata.finalizers.includes("foregroundDeletion"));
  expectStatus(await get(core("secrets", "gc-fg-secret")), 404, "NotFound");
  expectStatus(await get(apps("statefulsets", "gc-fg")), 404, "NotFound");
  // an owner that does not exist: the dependent is collected
  const ghost = { metadata: { name: "ghost", uid: "00000000-0000-0000-0000-000000000000" } };
  expectStatus(await post(core("secrets"), owned("gc-dangling", ghost)), 201);
  expectStatus(await get(core("secrets", "gc-dangling")), 404, "NotFound");
  // an owner of a kind this server does not serve (the DBInstance CR) is left alone
  const cr = secret("gc-cr", { metadata: { name: "gc-cr", ownerReferences: [{ apiVersion: "dbtree.cloud/v1", kind: "DBInstance", name: "x", uid: "11111111-1111-1111-1111-111111111111" }] } });
  expectStatus(await post(core("secrets"), cr), 201);
  expectStatus(await get(core("secrets", "gc-cr")), 200);
  // bad propagationPolicy and preconditions
  expectStatus(await del(`${core("secrets", "gc-cr")}?propagationPolicy=Sometimes`), 422, "Invalid");
  expectStatus(await del(core("secrets", "gc-cr"), { preconditions: { uid: "nope" } }), 409, "Conflict");
  expectStatus(await del(core("secrets", "gc-cr")), 200);
  expectStatus(await del(core("secrets", "gc-cr")), 404, "NotFound");
});

test("finalizers: delete waits until they are removed", async () => {
  expectStatus(await post(core("secrets"), secret("fin1", { metadata: { name: "fin1", finalizers: ["dbtree.cloud/keep"] } })), 201);
  const d = expectStatus(await del(core("secrets", "fin1")), 200);
  assert.ok(d.metadata.deletionTimestamp);
  expectStatus(await get(core("secrets", "fin1")), 200);
  expectStatus(await mpatch(core("secrets", "fin1"), { metadata: { finalizers: null } }), 200);
  expectStatus(await get(core("secrets", "fin1")), 404, "NotFound");
});

test("pods: deleting one makes the controller recreate it; pods cannot be written", async () => {
  expectStatus(await post(apps("statefulsets"), sts("pd1", { claims: false })), 201);
  const before = expectStatus(await get(core("pods", "pd1-0")), 200);
  expectStatus(await del(core("pods", "pd1-0")), 200);
  const after = expectStatus(await get(core("pods", "pd1-0")), 200);
  assert.notEqual(after.metadata.uid, before.metadata.uid);
  expectStatus(await put(core("pods", "pd1-0"), after), 405, "MethodNotAllowed");
  expectStatus(await mpatch(core("pods", "pd1-0"), { metadata: { labels: { x: "y" } } }), 405, "MethodNotAllowed");
  // scale subresource through a merge patch
  const sc = expectStatus(await mpatch(apps("statefulsets", "pd1") + "/scale", { spec: { replicas: 0 } }), 200);
  assert.equal(sc.spec.replicas, 0);
  expectStatus(await get(core("pods", "pd1-0")), 404, "NotFound");
  expectStatus(await del(apps("statefulsets", "pd1")), 200);
});

test("server-side apply conflicts with fields written by a non-apply manager", async () => {
  const p = apps("statefulsets", "ssa2");
  expectStatus(await apply(p, sts("ssa2", { claims: false })), 201);
  expectStatus(await mpatch(`${p}?fieldManager=ops`, { spec: { replicas: 4 } }), 200);
  const cf = expectStatus(await apply(p, sts("ssa2", { claims: false, replicas: 1 })), 409, "Conflict");
  assert.match(cf.message, /conflict with "ops"/);
  // applying the value that is there already is no conflict
  expectStatus(await apply(p, sts("ssa2", { claims: false, replicas: 4 })), 200);
  expectStatus(await del(p), 200);
});

test("PVC retention policy whenDeleted=Delete: PVCs go with the StatefulSet", async () => {
  const body = sts("ret1", { replicas: 1 });
  body.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: "Delete", whenScaled: "Retain" };
  expectStatus(await post(apps("statefulsets"), body), 201);
  expectStatus(await get(core("persistentvolumeclaims", "data-ret1-0")), 200);
  expectStatus(await del(apps("statefulsets", "ret1")), 200);
  expectStatus(await get(core("persistentvolumeclaims", "data-ret1-0")), 404, "NotFound");
});

test("PUT creates a Service that does not exist (AllowCreateOnUpdate), not a Secret", async () => {
  expectStatus(await put(core("services", "put-svc"), nodePortSvc("put-svc")), 201);
  expectStatus(await put(core("secrets", "put-secret"), secret("put-secret")), 404, "NotFound");
  expectStatus(await del(core("services", "put-svc")), 200);
});

test("label selectors: =, ==, !=, in, notin, exists, !exists, AND; invalid -> 400", async () => {
  const mk = (name, labels) => post(core("configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels }, data: { k: "v" } });
  expectStatus(await mk("ls-a", { tier: "db", env: "prod", "dbtree.cloud/instance-id": "7" }), 201);
  expectStatus(await mk("ls-b", { tier: "db", env: "dev" }), 201);
  expectStatus(await mk("ls-c", { tier: "web" }), 201);
  const names = async (sel) => expectStatus(await get(`${core("configmaps")}?labelSelector=${encodeURIComponent(sel)}`), 200).items.map((i) => i.metadata.name).filter((n) => n.startsWith("ls-"));
  assert.deepEqual(await names("tier=db"), ["ls-a", "ls-b"]);
  assert.deepEqual(await names("tier==db"), ["ls-a", "ls-b"]);
  assert.deepEqual(await names("tier!=db"), ["ls-c"]);
  assert.deepEqual(await names("env in (prod,staging)"), ["ls-a"]);
  assert.deepEqual(await names("env notin (prod)"), ["ls-b", "ls-c"]);
  assert.deepEqual(await names("env"), ["ls-a", "ls-b"]);
  assert.deepEqual(await names("!env"), ["ls-c"]);
  assert.deepEqual(await names("tier=db,env=dev"), ["ls-b"]);
  assert.deepEqual(await names("dbtree.cloud/instance-id=7"), ["ls-a"]);
  assert.deepEqual(await names("tier in (db, web),!env"), ["ls-c"]);
  expectStatus(await get(`${core("configmaps")}?labelSelector=${encodeURIComponent("tier in ()")}`), 400, "BadRequest");
  expectStatus(await get(`${core("configmaps")}?labelSelector=${encodeURIComponent("a b c")}`), 400, "BadRequest");
  const fs = expectStatus(await get(`${core("configmaps")}?fieldSelector=metadata.name%3Dls-b`), 200);
  assert.deepEqual(fs.items.map((i) => i.metadata.name), ["ls-b"]);
  const list = expectStatus(await get(`${core("configmaps")}?labelSelector=tier`), 200);
  assert.equal(list.kind, "ConfigMapList");
  assert.equal(list.apiVersion, "v1");
  assert.match(list.metadata.resourceVersion, /^\d+$/);
  const page = expectStatus(await get(`${core("configmaps")}?labelSelector=tier&limit=2`), 200);
  assert.equal(page.items.length, 2);
  assert.ok(page.metadata.continue);
  const page2 = expectStatus(await get(`${core("configmaps")}?labelSelector=tier&limit=2&continue=${encodeURIComponent(page.metadata.continue)}`), 200);
  assert.equal(page2.items.length, 1);
  const dc = expectStatus(await del(`${core("configmaps")}?labelSelector=tier%3Ddb`), 200);
  assert.equal(dc.items.length, 2);
  assert.deepEqual(await names("tier"), ["ls-c"]);
});

test("paging: limit and continue walk every item once; 410 Expired mid-list, as the API server", async () => {
  const mk = (name) => post(core("configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { paged: "yes" } }, data: { k: "v" } });
  for (const n of ["pg-a", "pg-b", "pg-c", "pg-d", "pg-e"]) expectStatus(await mk(n), 201);
  const list = (cont) => get(`${core("configmaps")}?labelSelector=paged&limit=2${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`);
  const seen = [];
  let cont = "";
  const remaining = [];
  do {
    const page = expectStatus(await list(cont), 200);
    assert.ok(page.items.length <= 2);
    seen.push(...page.items.map((i) => i.metadata.name));
    cont = page.metadata.continue ?? "";
    remaining.push(page.metadata.remainingItemCount);
  } while (cont);
  assert.deepEqual(seen, ["pg-a", "pg-b", "pg-c", "pg-d", "pg-e"]);
  // with a label selector the real server leaves remainingItemCount out
  assert.deepEqual(remaining, [undefined, undefined, undefined]);
  const whole = expectStatus(await get(`${core("configmaps")}?limit=1`), 200);
  assert.equal(whole.metadata.remainingItemCount, expectStatus(await get(core("configmaps")), 200).items.length - 1);
  // an object added between pages after the last key shows up (no snapshot)
  const first = expectStatus(await list(""), 200);
  expectStatus(await mk("pg-f"), 201);
  expectStatus(await ctl("POST", "expire-continue", { count: 1 }), 200);
  const gone = await list(first.metadata.continue);
  assert.equal(gone.status, 410);
  assert.equal(gone.json.kind, "Status");
  assert.equal(gone.json.reason, "Expired");
  assert.equal(gone.json.code, 410);
  assert.ok(gone.json.metadata.continue, "a 410 carries a token that goes on inconsistently");
  // only one request expired; the token from the Status goes on after pg-b
  const rest = expectStatus(await list(gone.json.metadata.continue), 200);
  assert.deepEqual(rest.items.map((i) => i.metadata.name), ["pg-c", "pg-d"]);
  const again = expectStatus(await list(first.metadata.continue), 200);
  assert.deepEqual(again.items.map((i) => i.metadata.name), ["pg-c", "pg-d"]);
  const st = expectStatus(await ctl("GET", "stats"), 200);
  assert.ok(st.expired >= 1);
  expectStatus(await get(`${core("configmaps")}?limit=2&continue=not-a-token`), 400, "BadRequest");
  expectStatus(await ctl("POST", "expire-continue", { count: -1 }), 400);
  expectStatus(await del(`${core("configmaps")}?labelSelector=paged`), 200);
});

test("NetworkPolicy under networking.k8s.io/v1", async () => {
  const np = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "db1-netpol" },
    spec: {
      podSelector: { matchLabels: { app: "db1" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 27017, protocol: "TCP" }] }],
      egress: [{ ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] }, { to: [{ podSelector: {} }] }],
    },
  };
  const o = expectStatus(await post(netv1("networkpolicies"), np), 201);
  assert.equal(o.metadata.generation, 1);
  const bad = structuredClone(np);
  bad.metadata.name = "bad-np";
  bad.spec.ingress[0].ports[0].protocol = "ICMP";
  expectStatus(await post(netv1("networkpolicies"), bad), 422, "Invalid");
  expectStatus(await del(netv1("networkpolicies", "db1-netpol")), 200);
});

const batchv1 = (res, name, sub) => `/apis/batch/v1/namespaces/${NS}/${res}${name ? `/${name}` : ""}${sub ? `/${sub}` : ""}`;
const certv1 = (res, name, sub) => `/apis/cert-manager.io/v1/namespaces/${NS}/${res}${name ? `/${name}` : ""}${sub ? `/${sub}` : ""}`;

function job(name, extra = {}) {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 600,
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "dump", image: "mongo:7.0", command: ["true"], volumeMounts: [{ name: "tls", mountPath: "/tls", readOnly: true }] }],
          volumes: [{ name: "tls", secret: { secretName: "db1", defaultMode: 0o440, items: [{ key: "ca.crt", path: "ca.crt" }] } }],
        },
      },
      ...extra,
    },
  };
}

test("metadata only: PartialObjectMetadata for GET and LIST when Accept asks for it", async () => {
  expectStatus(await post(core("secrets"), secret("meta-1")), 201);
  const accept = (as) => ({ headers: { Accept: `application/json;as=${as};g=meta.k8s.io;v=v1,application/json` } });
  const one = expectStatus(await get(core("secrets", "meta-1"), accept("PartialObjectMetadata")), 200);
  assert.equal(one.kind, "PartialObjectMetadata");
  assert.equal(one.apiVersion, "meta.k8s.io/v1");
  assert.equal(one.metadata.name, "meta-1");
  assert.equal(one.data, undefined);
  const list = expectStatus(await get(core("secrets"), accept("PartialObjectMetadataList")), 200);
  assert.equal(list.kind, "PartialObjectMetadataList");
  assert.ok(list.items.length >= 1 && list.items.every((i) => i.kind === "PartialObjectMetadata" && i.data === undefined));
  const full = expectStatus(await get(core("secrets", "meta-1")), 200);
  assert.ok(full.data.username, "without the Accept choice, the whole object");
  expectStatus(await del(core("secrets", "meta-1")), 200);
});

test("Job under batch/v1: generated selector and labels, started by the controller, status written by a client", async () => {
  const o = expectStatus(await post(batchv1("jobs"), job("dump1")), 201);
  const uid = o.metadata.uid;
  assert.deepEqual(o.spec.selector, { matchLabels: { "batch.kubernetes.io/controller-uid": uid } });
  assert.equal(o.spec.template.metadata.labels["job-name"], "dump1");
  assert.equal(o.spec.completions, 1);
  const got = expectStatus(await get(batchv1("jobs", "dump1")), 200);
  assert.equal(got.status.active, 1);
  assert.ok(got.status.startTime);
  const done = { status: { succeeded: 1, active: 0, completionTime: "2026-01-01T00:00:00Z", conditions: [{ type: "Complete", status: "True" }] } };
  const after = expectStatus(await mpatch(batchv1("jobs", "dump1", "status"), done), 200);
  assert.equal(after.status.succeeded, 1);
  assert.deepEqual(after.spec, got.spec, "a status write leaves the spec alone");
  expectStatus(await mpatch(batchv1("jobs", "dump1", "status"), { status: { succeeded: "one" } }), 400, "BadRequest");
  expectStatus(await mpatch(batchv1("jobs", "dump1"), { spec: { template: { spec: { containers: [{ name: "dump", image: "mongo:8.0" }] } } } }), 422, "Invalid");
  expectStatus(await mpatch(batchv1("jobs", "dump1"), { spec: { activeDeadlineSeconds: 60 } }), 200);
  expectStatus(await del(batchv1("jobs", "dump1")), 200);
});

test("Job rules: restartPolicy Never or OnFailure, counts, secret volume modes and item paths", async () => {
  const noPolicy = job("bad-1");
  delete noPolicy.spec.template.spec.restartPolicy;
  const st = expectStatus(await post(batchv1("jobs"), noPolicy), 422, "Invalid");
  assert.match(st.message, /restartPolicy: Unsupported value: "Always"/);
  expectStatus(await post(batchv1("jobs"), job("bad-2", { backoffLimit: -1 })), 422, "Invalid");
  expectStatus(await post(batchv1("jobs"), job("bad-3", { activeDeadlineSeconds: 0 })), 422, "Invalid");
  const mode = job("bad-4");
  mode.spec.template.spec.volumes[0].secret.defaultMode = 0o1777;
  expectStatus(await post(batchv1("jobs"), mode), 422, "Invalid");
  const dots = job("bad-5");
  dots.spec.template.spec.volumes[0].secret.items[0].path = "../ca.crt";
  expectStatus(await post(batchv1("jobs"), dots), 422, "Invalid");
  expectStatus(await post(batchv1("jobs"), job("bad-6", { backoffLimit: "none" })), 400, "BadRequest");
});

test("Certificate (cert-manager.io/v1): CRD schema and webhook rules, status subresource", async () => {
  const cert = (name, spec) => ({ apiVersion: "cert-manager.io/v1", kind: "Certificate", metadata: { name }, spec });
  const good = { secretName: "db1-tls", issuerRef: { name: "ca", kind: "ClusterIssuer", group: "cert-manager.io" }, dnsNames: ["db.example.com"] };
  const o = expectStatus(await apply(certv1("certificates", "db1"), cert("db1", good)), 201);
  assert.equal(o.metadata.generation, 1);
  const noIssuer = expectStatus(await post(certv1("certificates"), cert("c2", { secretName: "s", dnsNames: ["a"] })), 422, "Invalid");
  assert.equal(noIssuer.details.kind, "Certificate");
  assert.equal(noIssuer.details.group, "cert-manager.io");
  assert.match(noIssuer.message, /spec\.issuerRef: Required value/);
  expectStatus(await post(certv1("certificates"), cert("c3", { issuerRef: { name: "ca" }, dnsNames: ["a"] })), 422, "Invalid");
  // custom resources have no decoding step: a wrong type is a 422 too
  expectStatus(await post(certv1("certificates"), cert("c4", { ...good, duration: 3600 })), 422, "Invalid");
  expectStatus(await post(certv1("certificates"), cert("c5", { ...good, privateKey: { algorithm: "DSA" } })), 422, "Invalid");
  expectStatus(await post(certv1("certificates"), cert("c6", { secretName: "s", issuerRef: { name: "ca" } })), 422, "Invalid");
  expectStatus(await post(certv1("certificates"), cert("c7", { secretName: "s", issuerRef: { name: "ca" }, ipAddresses: ["300.1.2.3"] })), 422, "Invalid");
  expectStatus(await post(certv1("certificates"), cert("c8", { ...good, issuerRef: { name: "ca", kind: "Vault" } })), 422, "Invalid");
  const strict = await req("POST", `${certv1("certificates")}?fieldValidation=Strict`, cert("c9", { ...good, secretname: "x" }));
  expectStatus(strict, 400, "BadRequest");
  const st = expectStatus(await mpatch(certv1("certificates", "db1", "status"), { status: { revision: 2, notAfter: "2027-01-01T00:00:00Z" } }), 200);
  assert.equal(st.status.revision, 2);
  const disc = expectStatus(await get("/apis/cert-manager.io/v1"), 200);
  assert.ok(disc.resources.some((r) => r.name === "certificates/status" && r.verbs.includes("patch")));
  expectStatus(await del(certv1("certificates", "db1")), 200);
});

test("control: fail with ImagePullBackOff, CrashLoopBackOff, Unschedulable", async () => {
  expectStatus(await post(apps("statefulsets"), sts("f1", { claims: false, replicas: 1 })), 201);
  const pod = async () => expectStatus(await get(core("pods", "f1-0")), 200);
  expectStatus(await ctl("POST", "fail", { namespace: NS, name: "f1", reason: "ImagePullBackOff" }), 200);
  let p = await pod();
  assert.equal(p.status.phase, "Pending");
  assert.equal(p.status.containerStatuses[0].state.waiting.reason, "ImagePullBackOff");
  assert.equal(p.status.conditions.find((c) => c.type === "Ready").status, "False");
  expectStatus(await ctl("POST", "fail", { namespace: NS, name: "f1", reason: "CrashLoopBackOff" }), 200);
  p = await pod();
  assert.equal(p.status.phase, "Running");
  assert.equal(p.status.containerStatuses[0].state.waiting.reason, "CrashLoopBackOff");
  assert.ok(p.status.containerStatuses[0].restartCount > 0);
  expectStatus(await ctl("POST", "fail", { namespace: NS, name: "f1", reason: "Unschedulable" }), 200);
  p = await pod();
  assert.equal(p.status.phase, "Pending");
  const sc = p.status.conditions.find((c) => c.type === "PodScheduled");
  assert.equal(sc.status, "False");
  assert.equal(sc.reason, "Unschedulable");
  const s = expectStatus(await get(apps("statefulsets", "f1")), 200);
  assert.equal(s.status.readyReplicas, undefined);
  // ready clears the failure
  const r = expectStatus(await ctl("POST", "ready", { namespace: NS, name: "f1" }), 200);
  assert.equal(r.status.readyReplicas, 1);
  assert.equal((await pod()).status.phase, "Running");
  expectStatus(await ctl("POST", "ready", { namespace: NS, name: "missing" }), 404, "NotFound");
});

test("control: autoready makes every StatefulSet ready as soon as it has replicas", async () => {
  expectStatus(await ctl("POST", "autoready", { on: true }), 200);
  expectStatus(await post(apps("statefulsets"), sts("auto1", { claims: false, replicas: 3 })), 201);
  const s = expectStatus(await get(apps("statefulsets", "auto1")), 200);
  assert.equal(s.status.replicas, 3);
  assert.equal(s.status.readyReplicas, 3);
  expectStatus(await ctl("POST", "autoready", { on: false }), 200);
});

test("faults: 429 with Retry-After for N requests, 500/503 Status, delays, path match", async () => {
  expectStatus(await ctl("POST", "fault", { status: 429, count: 2, retryAfter: 3, match: "/secrets" }), 200);
  expectStatus(await get(core("configmaps")), 200); // does not match
  for (let i = 0; i < 2; i++) {
    const r = await get(core("secrets"));
    const s = expectStatus(r, 429, "TooManyRequests");
    assert.equal(r.headers.get("retry-after"), "3");
    assert.equal(s.details.retryAfterSeconds, 3);
  }
  expectStatus(await get(core("secrets")), 200);
  expectStatus(await ctl("POST", "fault", { status: 500, count: 1 }), 200);
  expectStatus(await get(core("secrets")), 500, "InternalError");
  expectStatus(await ctl("POST", "fault", { status: 503, count: 1, method: "PATCH" }), 200);
  expectStatus(await get(core("secrets")), 200);
  expectStatus(await mpatch(core("secrets", "s1"), {}), 503, "ServiceUnavailable");
  expectStatus(await ctl("POST", "fault", { delayMs: 300, count: 1, match: "/configmaps" }), 200);
  const slow = await get(core("configmaps"));
  expectStatus(slow, 200);
  assert.ok(slow.ms >= 280, `delayed answer took ${slow.ms} ms`);
  expectStatus(await ctl("POST", "fault", { status: 500, count: 5 }), 200);
  expectStatus(await ctl("DELETE", "faults"), 200);
  expectStatus(await get(core("secrets")), 200);
});

test("control: stats by verb and path; reset-stats", async () => {
  expectStatus(await ctl("POST", "reset-stats"), 200);
  await get(core("secrets", "s1"));
  await get(core("secrets"));
  await post(core("secrets"), secret("st1"));
  await put(core("secrets", "st1"), secret("st1"));
  await mpatch(core("secrets", "st1"), {});
  await del(core("secrets", "st1"));
  const s = expectStatus(await ctl("GET", "stats"), 200);
  assert.equal(s.requests, 6);
  assert.deepEqual(s.byVerb, { GET: 1, LIST: 1, POST: 1, PUT: 1, PATCH: 1, DELETE: 1 });
  assert.equal(s.byPath[core("secrets", "st1")], 3);
  assert.equal(s.recent.length, 6);
  const r = expectStatus(await ctl("POST", "reset-stats"), 200);
  assert.equal(r.requests, 0);
});

test("namespaces, dry run, cluster-wide list", async () => {
  const n = expectStatus(await post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "user-7", labels: { "dbtree.cloud/managed": "true" } } }), 201);
  assert.equal(n.status.phase, "Active");
  expectStatus(await post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "user-7" } }), 409, "AlreadyExists");
  const dry = expectStatus(await post(`/api/v1/namespaces/user-7/secrets?dryRun=All`, secret("dry")), 201);
  assert.equal(dry.metadata.name, "dry");
  expectStatus(await get("/api/v1/namespaces/user-7/secrets/dry"), 404, "NotFound");
  expectStatus(await post("/api/v1/namespaces/user-7/secrets", secret("in7")), 201);
  const all = expectStatus(await get("/api/v1/secrets?labelSelector=dbtree.cloud%2Fmanaged%3Dtrue"), 200);
  assert.ok(all.items.some((i) => i.metadata.namespace === "user-7") && all.items.some((i) => i.metadata.namespace === NS));
  expectStatus(await del("/api/v1/namespaces/user-7"), 200);
  expectStatus(await get("/api/v1/namespaces/user-7/secrets/in7"), 404, "NotFound");
});

test("control: GET and DELETE /_control/objects", async () => {
  const all = expectStatus(await ctl("GET", "objects"), 200);
  assert.ok(all.items.length > 0);
  assert.ok(all.items.every((o) => o.kind && o.metadata.uid));
  assert.ok(all.fieldOwners);
  const only = expectStatus(await ctl("GET", "objects?resource=secrets"), 200);
  assert.ok(only.items.every((o) => o.kind === "Secret"));
  expectStatus(await ctl("DELETE", "objects"), 200);
  assert.equal(expectStatus(await ctl("GET", "objects"), 200).items.length, 0);
  expectStatus(await get(core("secrets", "s1")), 404, "NotFound");
  // node ports are free again
  expectStatus(await post(core("services"), nodePortSvc("svc-b", 30001)), 201);
});

test("one log line per request: method path status", async () => {
  await get(core("secrets", "logcheck"));
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(logLines.some((l) => l === `GET ${core("secrets", "logcheck")} 404`), logLines.slice(-3).join("\n"));
});

// -------------------------------------------------------------------- main

let passed = 0;
let failed = 0;
try {
  base = await started;
  for (const t of tests) {
    try {
      await t.fn();
      passed++;
      console.log(`ok   ${t.name}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}\n     ${String(e.stack ?? e).split("\n").slice(0, 6).join("\n     ")}`);
    }
  }
} catch (e) {
  failed++;
  console.log(`FAIL startup: ${e.message}`);
} finally {
  child.kill("SIGTERM");
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
