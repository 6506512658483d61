#!/usr/bin/env node
// Self-check of the OTLP receiver: starts receiver.mjs on a free port and
// sends it valid and invalid requests.  Run by the integration suite
// (tests/integration/test_otlp_receiver.py).  Prints "N passed, N failed";
// exit code 1 when something failed.
//
//   node tests/otlp/selftest.mjs [--verbose]
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { ExportTraceServiceRequest } from "./schema.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const verbose = process.argv.includes("--verbose");

const child = spawn(process.execPath, [path.join(here, "receiver.mjs"), "--port", "0"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const base = await new Promise((resolve, reject) => {
  let buf = "";
  child.stdout.on("data", (d) => {
    buf += d;
    if (verbose) process.stdout.write(`  [receiver] ${d}`);
    const m = /listening on (http:\/\/\S+)/.exec(buf);
    if (m) resolve(m[1]);
  });
  child.on("exit", (code) => reject(new Error(`receiver exited early with ${code}`)));
});

async function req(method, p, body, headers = {}) {
  const r = await fetch(base + p, { method, headers, body });
  const text = await r.text();
  const type = r.headers.get("content-type");
  // every answer but a protobuf export's is JSON, and must parse
  return { status: r.status, text, type, json: type === "application/json" ? JSON.parse(text) : undefined };
}
const post = (body, headers = {}) =>
  req("POST", "/v1/traces", typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body), {
    "Content-Type": "application/json",
    "X-Otlp-Expect-Invalid": "1",
    ...headers,
  });
const ctl = (p, b) => req("POST", p, JSON.stringify(b ?? {}), { "Content-Type": "application/json" });

const TRACE = "0af7651916cd43dd8448eb211c80319c";
function sample() {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "dbtree" } }] },
        scopeSpans: [
          {
            scope: { name: "dbtree", version: "1" },
            spans: [
              {
                traceId: TRACE,
                spanId: "b7ad6b7169203331",
                name: "GET /api/health",
                kind: 2,
                startTimeUnixNano: "1700000000000000000",
                endTimeUnixNano: "1700000000000000500",
                attributes: [
                  { key: "http.response.status_code", value: { intValue: "200" } },
                  { key: "big", value: { intValue: "9007199254740993" } },
                  { key: "ratio", value: { doubleValue: 0.5 } },
                  { key: "list", value: { arrayValue: { values: [{ stringValue: "a" }, { boolValue: false }] } } },
                  { key: "map", value: { kvlistValue: { values: [{ key: "k", value: { stringValue: "v" } }] } } },
                  { key: "raw", value: { bytesValue: "AQID" } },
                ],
                // a 64-bit integer may also be a JSON number
                events: [{ timeUnixNano: 1700000000000, name: "exception", attributes: [] }],
                links: [{ traceId: "0af7651916cd43dd8448eb211c80319d", spanId: "b7ad6b7169203332" }],
                status: { code: 2, message: "boom" },
              },
              {
                traceId: TRACE,
                spanId: "b7ad6b7169203333",
                parentSpanId: "b7ad6b7169203331",
                name: "db.query",
                kind: 3,
                startTimeUnixNano: "1700000000000000010",
                endTimeUnixNano: "1700000000000000010",
              },
            ],
          },
        ],
      },
    ],
  };
}
const span0 = (mutate) => {
  const s = sample();
  mutate(s.resourceSpans[0].scopeSpans[0].spans[0], s);
  return s;
};

const tests = [];
const test = (name, fn) => tests.push([name, fn]);

test("valid JSON request: 200 {} and both spans stored, flattened", async () => {
  await ctl("/reset");
  const r = await post(span0(() => {}), { "X-Otlp-Expect-Invalid": "0" });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, {});
  const spans = (await req("GET", "/spans")).json;
  assert.equal(spans.length, 2);
  const [a, b] = spans;
  assert.equal(a.traceId, TRACE);
  assert.equal(a.parentSpanId, "");
  assert.equal(a.start, "1700000000000000000");
  assert.equal(a.end, "1700000000000000500");
  assert.deepEqual(a.attributes, {
    "http.response.status_code": 200,
    big: "9007199254740993",
    ratio: 0.5,
    list: ["a", false],
    map: { k: "v" },
    raw: "AQID",
  });
  assert.deepEqual(a.links, [{ traceId: "0af7651916cd43dd8448eb211c80319d", spanId: "b7ad6b7169203332", attributes: {} }]);
  assert.deepEqual(a.status, { code: 2, message: "boom" });
  assert.deepEqual(a.resource, { "service.name": "dbtree" });
  assert.deepEqual(a.scope, { name: "dbtree", version: "1" });
  assert.equal(a.events[0].name, "exception");
  assert.equal(b.parentSpanId, "b7ad6b7169203331");
  assert.deepEqual(b.status, { code: 0, message: "" });
  assert.deepEqual((await req("GET", "/stats")).json, { requests: 1, spans: 2, rejects: 0, failed: 0 });
});

test("valid protobuf request (the package's own encoder): 200, stored", async () => {
  await ctl("/reset");
  const s = sample().resourceSpans[0].scopeSpans[0].spans[1];
  const msg = ExportTraceServiceRequest.fromObject({
    resourceSpans: [{ scopeSpans: [{ spans: [{ ...s, traceId: Buffer.from(TRACE, "hex"), spanId: Buffer.from(s.spanId, "hex"), parentSpanId: Buffer.from(s.parentSpanId, "hex") }] }] }],
  });
  const body = ExportTraceServiceRequest.encode(msg).finish();
  const r = await post(body, { "Content-Type": "application/x-protobuf", "X-Otlp-Expect-Invalid": "0" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.type, "application/x-protobuf");
  const [got] = (await req("GET", "/spans")).json;
  assert.equal(got.traceId, TRACE);
  assert.equal(got.parentSpanId, "b7ad6b7169203331");
  assert.equal(got.start, "1700000000000000010");
  // an unknown field (number 99, varint) appended: refused
  const r2 = await post(Buffer.concat([Buffer.from(body), Buffer.from([0x98, 0x06, 0x01])]), { "Content-Type": "application/x-protobuf" });
  assert.equal(r2.status, 400);
  assert.match(r2.json.message, /unknown fields/);
});

test("64-bit integers as JSON numbers beyond 2^53 kept exactly", async () => {
  await ctl("/reset");
  const text = JSON.stringify(span0(() => {}))
    .replace('"startTimeUnixNano":"1700000000000000000"', '"startTimeUnixNano":1700000000000000001')
    .replace('{"intValue":"9007199254740993"}', '{"intValue":-9007199254740993}');
  const r = await post(text, { "X-Otlp-Expect-Invalid": "0" });
  assert.equal(r.status, 200, r.text);
  const [a] = (await req("GET", "/spans")).json;
  assert.equal(a.start, "1700000000000000001");
  assert.equal(a.attributes.big, "-9007199254740993");
  // a big number where a string belongs is still refused, and shown as itself
  const bad = JSON.stringify(span0(() => {})).replace('"name":"GET /api/health"', '"name":12345678901234567890');
  const r2 = await post(bad);
  assert.equal(r2.status, 400);
  assert.match(r2.json.message, /name: string expected, got 12345678901234567000/);
  const r3 = await post(JSON.stringify(span0(() => {})).replace('"kind":2', '"kind":2,"extra":"a\\"b 12345678901234567890"'));
  assert.match(r3.json.message, /spans\[0\]\.extra: unknown field/);
  const rj = (await req("GET", "/rejects")).json;
  assert.equal(rj[1].snippet, '{"extra":"a\\"b 12345678901234567890"}');
});

test("gzip-encoded JSON accepted", async () => {
  const r = await post(zlib.gzipSync(JSON.stringify(span0(() => {}))), { "Content-Encoding": "gzip", "X-Otlp-Expect-Invalid": "0" });
  assert.equal(r.status, 200, r.text);
});

const invalid = [
  ["unknown span field", (s) => (s.nam = "x"), /spans\[0\]\.nam: unknown field of opentelemetry\.proto\.trace\.v1\.Span/],
  ["snake_case field name", (s) => { s.start_time_unix_nano = s.startTimeUnixNano; delete s.startTimeUnixNano; }, /unknown field/],
  ["unknown resource field", (s, r) => (r.resourceSpans[0].resource.labels = []), /resource\.labels: unknown field/],
  ["unknown AnyValue member", (s) => (s.attributes[0].value = { int64Value: "1" }), /value\.int64Value: unknown field/],
  ["uppercase hex id", (s) => (s.traceId = TRACE.toUpperCase()), /traceId: lowercase hex expected/],
  ["base64 trace id", (s) => (s.traceId = Buffer.from(TRACE, "hex").toString("base64")), /traceId: lowercase hex/],
  ["short span id", (s) => (s.spanId = "b7ad6b71"), /spanId: 8 bytes \(16 hex digits\) expected/],
  ["all-zero trace id", (s) => (s.traceId = "0".repeat(32)), /traceId: all-zero id/],
  ["all-zero parent id", (s) => (s.parentSpanId = "0".repeat(16)), /parentSpanId: all-zero id/],
  ["bad link span id", (s) => (s.links[0].spanId = "xyz"), /links\[0\]\.spanId: lowercase hex/],
  ["enum as name", (s) => (s.kind = "SPAN_KIND_SERVER"), /kind: enum SpanKind must be an integer/],
  ["enum out of range", (s) => (s.kind = 6), /kind: 6 is not a value of enum SpanKind/],
  ["status code out of range", (s) => (s.status.code = 3), /status\.code: 3 is not a value of enum StatusCode/],
  ["AnyValue without a value", (s) => (s.attributes[0].value = {}), /needs exactly one of stringValue\/.*has none/],
  ["AnyValue with two values", (s) => (s.attributes[0].value = { stringValue: "a", intValue: "1" }), /has stringValue, intValue/],
  ["intValue not an integer", (s) => (s.attributes[0].value = { intValue: "1.5" }), /not a decimal integer/],
  ["time as float", (s) => (s.startTimeUnixNano = 1.5), /64-bit integer expected/],
  ["time out of range", (s) => (s.endTimeUnixNano = "99999999999999999999"), /out of 64-bit range/],
  ["end before start", (s) => (s.endTimeUnixNano = "1600000000000000000"), /endTimeUnixNano .* before startTimeUnixNano/],
  ["missing start", (s) => delete s.startTimeUnixNano, /startTimeUnixNano missing/],
  ["missing trace id", (s) => delete s.traceId, /traceId missing/],
  ["empty name", (s) => (s.name = ""), /name missing or empty/],
  ["string where bool", (s) => (s.attributes[0].value = { boolValue: "true" }), /boolean expected/],
  ["attributes not an array", (s) => (s.attributes = {}), /attributes: array expected/],
  ["null field", (s) => (s.status = null), /status: null/],
  ["bad bytesValue", (s) => (s.attributes[0].value = { bytesValue: "not base64!" }), /base64 string expected/],
  ["uint32 negative", (s) => (s.droppedAttributesCount = -1), /droppedAttributesCount: uint32 expected/],
];
for (const [name, mutate, re] of invalid)
  test(`rejected: ${name}`, async () => {
    const r = await post(span0(mutate));
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.message, re);
  });

test("rejected: not JSON, wrong content type", async () => {
  assert.equal((await post("{")).status, 400);
  const r = await post(JSON.stringify(sample()), { "Content-Type": "text/plain" });
  assert.equal(r.status, 400);
  assert.match(r.json.message, /content-type/);
});

test("rejects recorded with reason and snippet, marked expected; reset clears them", async () => {
  await ctl("/reset");
  await post(span0((s) => (s.nam = "x")));
  await post(span0((s) => (s.nam = "y")), { "X-Otlp-Expect-Invalid": "0" });
  const rj = (await req("GET", "/rejects")).json;
  assert.equal(rj.length, 2);
  assert.match(rj[0].reason, /unknown field/);
  assert.match(rj[0].snippet, /"nam":"x"/);
  assert.deepEqual(rj.map((r) => r.expected), [true, false]);
  assert.equal((await req("GET", "/stats")).json.rejects, 2);
  await ctl("/reset");
  assert.deepEqual((await req("GET", "/rejects")).json, []);
  const all = (await req("GET", "/rejects?all=1")).json;
  assert.ok(all.length > invalid.length, "the since-start list survives /reset");
});

test("control: status and delay, restored by status 200 / reset", async () => {
  await ctl("/reset");
  let c = await ctl("/control", { status: 503 });
  assert.deepEqual(c.json, { delayMs: 0, status: 503 });
  let r = await post(span0(() => {}), { "X-Otlp-Expect-Invalid": "0" });
  assert.equal(r.status, 503);
  assert.deepEqual((await req("GET", "/spans")).json, []);
  assert.equal((await req("GET", "/stats")).json.failed, 1);
  // an invalid request is still refused as invalid while failing
  assert.equal((await post(span0((s) => (s.nam = 1)))).status, 400);
  await ctl("/control", { status: 200, delayMs: 150 });
  const t0 = Date.now();
  r = await post(span0(() => {}), { "X-Otlp-Expect-Invalid": "0" });
  assert.equal(r.status, 200);
  assert.ok(Date.now() - t0 >= 140, "answer delayed");
  assert.equal((await ctl("/control", { bogus: 1 })).status, 400);
  assert.equal((await ctl("/control", { status: 99 })).status, 400);
  await ctl("/reset");
  assert.deepEqual((await req("GET", "/control")).json, { delayMs: 0, status: 200 });
});

test("routes: GET /v1/traces 405, unknown path 404", async () => {
  assert.equal((await req("GET", "/v1/traces")).status, 405);
  assert.equal((await req("GET", "/nope")).status, 404);
});

let passed = 0;
let failed = 0;
for (const [name, fn] of tests) {
  try {
    await fn();
    passed++;
    if (verbose) console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}
child.kill();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
