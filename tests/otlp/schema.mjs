// OTLP trace request validation, built on the protocol definitions that
// @opentelemetry/otlp-transformer ships: its protobufjs static module
// (build/src/generated/root.js, compiled from opentelemetry-proto).
//
// The static module has no reflection (no Type/Field objects), so the field
// table of every message is derived from the generated classes themselves:
//   - a message's fields are the enumerable properties of its prototype (the
//     generator writes one `Class.prototype.field = default` per field; oneof
//     groups are non-enumerable getters, found and probed separately);
//   - a field's type is found by probing the class's fromObject() with
//     values each conversion treats differently (a nested class instance
//     means a message, an "array expected" TypeError means repeated, a
//     Uint8Array from base64 means bytes, a Long means a 64-bit integer, an
//     enum's names converting to its numbers means that enum, and so on).
// Nothing about the OTLP schema is written here except what the OTLP/JSON
// spec adds on top of protobuf's JSON mapping: trace and span ids are hex
// (not base64), and enums must be integers.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const root = require("@opentelemetry/otlp-transformer/build/src/generated/root.js");
const { util } = require("protobufjs/minimal");

const pb = root.opentelemetry.proto;
export const ExportTraceServiceRequest = pb.collector.trace.v1.ExportTraceServiceRequest;
export const PACKAGE_VERSION = require("@opentelemetry/otlp-transformer/package.json").version;

// OTLP/JSON: "traceId and spanId ... are represented as case-insensitive
// hex-encoded strings" (we accept lowercase only: the service writes
// lowercase, and a test should see exactly what it sends).  Byte lengths
// from the proto's comments: trace ids 16 bytes, span ids 8.
const HEX_IDS = { traceId: 16, spanId: 8, parentSpanId: 8 };

const isMessageClass = (c) =>
  typeof c === "function" && typeof c.decode === "function" && typeof c.getTypeUrl === "function";

// Every enum object in the module: static enums are plain objects mapping
// each name to its number (the numbers' names live on the prototype).
function collectEnums(ns, out = [], seen = new Set()) {
  for (const [k, v] of Object.entries(ns)) {
    if (v === null || (typeof v !== "object" && typeof v !== "function") || seen.has(v)) continue;
    seen.add(v);
    const vals = Object.values(v);
    if (typeof v === "object" && vals.length && vals.every(Number.isInteger) && /^[A-Z]/.test(k))
      out.push({ name: k, values: { ...v } });
    else collectEnums(v, out, seen);
  }
  return out;
}
const ENUMS = collectEnums(root);

function probe(cls, field, value) {
  try {
    return { v: cls.fromObject({ [field]: value })[field] };
  } catch (e) {
    return { err: String(e.message) };
  }
}

// The type of one scalar (or of a repeated field's elements), from how
// fromObject converts probes; `get(x)` converts x as that field would.
function scalarKind(get) {
  const obj = get({});
  if (obj && isMessageClass(obj.constructor)) return { kind: "message", type: obj.constructor };
  for (const e of ENUMS) {
    const names = Object.keys(e.values);
    if (names.every((n) => get(n) === e.values[n]) && get("NOT_A_VALUE_OF_ANY_ENUM") == null)
      return { kind: "enum", enumName: e.name, values: new Set(Object.values(e.values)) };
  }
  const b = get("AQID");
  if (b instanceof Uint8Array) return { kind: "bytes" };
  const z = get(0);
  if (z === false) return { kind: "bool" };
  if (z === "0") return { kind: "string" };
  const l = get("1");
  if (util.Long && util.Long.isLong(l)) return { kind: "int64" };
  if (get(1.5) === 1) return { kind: get(-1) === -1 ? "int32" : "uint32" };
  if (get("1.5") === 1.5) return { kind: "double" };
  throw new Error(`cannot classify field: ${String(get("1"))}`);
}

// name -> { kind, repeated, type?, values?, oneof? } for one message class;
// memoised per class, so recursive types (AnyValue in KeyValueList) work.
const schemas = new Map();
export function schemaOf(cls) {
  if (schemas.has(cls)) return schemas.get(cls);
  const fields = {};
  const oneofs = {};
  schemas.set(cls, { fields, oneofs, name: cls.getTypeUrl("").replace(/^\//, "") });
  const proto = cls.prototype;
  const names = Object.keys(proto).filter((k) => typeof proto[k] !== "function");
  for (const f of names) {
    const first = probe(cls, f, {});
    let spec;
    if (first.err && /array expected/.test(first.err)) {
      const el = (x) => {
        const r = probe(cls, f, [x]);
        return r.err ? undefined : r.v[0];
      };
      spec = { ...scalarKind(el), repeated: true };
    } else {
      spec = { ...scalarKind((x) => probe(cls, f, x).v), repeated: false };
    }
    fields[f] = spec;
  }
  // oneof groups: non-enumerable accessors on the prototype whose getter
  // names the member that is set
  for (const g of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, g);
    if (!d.get || names.includes(g)) continue;
    const members = names.filter((f) => {
      const m = new cls();
      m[f] = fields[f].repeated ? [1] : 1;
      return d.get.call(m) === f;
    });
    oneofs[g] = members;
    for (const f of members) fields[f].oneof = g;
  }
  for (const spec of Object.values(fields)) if (spec.kind === "message") schemaOf(spec.type);
  return schemas.get(cls);
}

// ------------------------------------------------------------- validation

// `at`: the offending value or its enclosing object, for the reject's snippet
class Invalid extends Error {
  constructor(msg, at) {
    super(msg);
    // marked big integers shown as the numbers they were
    this.at = at === undefined ? at : JSON.parse(JSON.stringify(at, (k, x) => (isBig(x) ? x.slice(BIG.length) : x)));
  }
}
const fail = (path, msg, at) => {
  throw new Invalid(`${path}: ${msg}`, at);
};

const INT64 = /^-?(0|[1-9][0-9]*)$/;

// OTLP/JSON allows a 64-bit integer as a JSON number, which JSON.parse
// would round beyond 2^53 (json-c, for one, writes int64 as a number).
// Before parsing, every integer literal outside strings that is not a safe
// integer becomes a string with this mark; the walk reads it back as the
// number it was, and anything but an int64 field treats it as a number.
const BIG = "\u0000bigint:";
const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
function parseJson(text) {
  let out = "";
  let last = 0;
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      i++;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) {
        i++;
        continue;
      }
      if (!m[2] && !m[3] && !Number.isSafeInteger(Number(m[0]))) {
        out += text.slice(last, i) + JSON.stringify(BIG + m[0]);
        last = i + m[0].length;
      }
      i += m[0].length;
    } else i++;
  }
  return JSON.parse(out + text.slice(last));
}
const isBig = (v) => typeof v === "string" && v.startsWith(BIG);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function int64(path, v, unsigned) {
  let s;
  if (isBig(v)) s = v.slice(BIG.length);
  else if (typeof v === "string") s = v;
  else if (typeof v === "number" && Number.isSafeInteger(v)) s = String(v);
  else fail(path, `64-bit integer expected (decimal string or integer), got ${JSON.stringify(v)}`, v);
  if (!INT64.test(s)) fail(path, `not a decimal integer: ${JSON.stringify(v)}`, v);
  const l = util.Long.fromString(s, unsigned, 10);
  if (l.toString(10) !== s) fail(path, `out of 64-bit range: ${s}`, v);
  return l; // verify() wants a Long (or a safe integer)
}

function hexId(path, v, len, { allowEmpty }) {
  if (typeof v !== "string") fail(path, `hex string expected, got ${JSON.stringify(v)}`, v);
  if (v === "" && allowEmpty) return new Uint8Array(0);
  if (!/^[0-9a-f]*$/.test(v))
    fail(path, `lowercase hex expected (OTLP/JSON ids are hex, not base64): ${JSON.stringify(v)}`, v);
  if (v.length !== len * 2) fail(path, `${len} bytes (${len * 2} hex digits) expected, got ${v.length} digits`, v);
  if (/^0+$/.test(v)) fail(path, "all-zero id is invalid", v);
  return Uint8Array.from(Buffer.from(v, "hex"));
}

// Checks `json` (an OTLP/JSON value of message type `cls`) strictly and
// returns the same data in protobufjs's object form (bytes as Uint8Array,
// 64-bit integers as Long) for verify() and fromObject().
function walk(cls, json, path) {
  const { fields, oneofs, name } = schemaOf(cls);
  if (json === null || typeof json !== "object" || Array.isArray(json))
    fail(path, `object (${name}) expected`, json);
  const out = {};
  for (const [k, v] of Object.entries(json)) {
    const spec = fields[k];
    if (!spec) fail(`${path}.${k}`, `unknown field of ${name} (known: ${Object.keys(fields).join(", ")})`, { [k]: v });
    if (v === null) fail(`${path}.${k}`, "null (omit the field instead)", { [k]: v });
    if (spec.repeated) {
      if (!Array.isArray(v)) fail(`${path}.${k}`, "array expected", v);
      out[k] = v.map((x, i) => value(spec, x, `${path}.${k}[${i}]`, k));
    } else out[k] = value(spec, v, `${path}.${k}`, k);
    // 64-bit integers, however sent, become decimal strings in the request
    // the receiver keeps
    if (spec.kind === "int64") json[k] = spec.repeated ? out[k].map(String) : String(out[k]);
  }
  // stricter than proto3 (where an unset oneof is allowed): every oneof
  // holds exactly one member, so an AnyValue always has a value
  for (const [g, members] of Object.entries(oneofs)) {
    const set = members.filter((m) => m in json);
    if (set.length !== 1)
      fail(path, `${name} needs exactly one of ${members.join("/")} (oneof ${g}), has ${set.length ? set.join(", ") : "none"}`, json);
  }
  return out;
}

function value(spec, v, path, field) {
  if (isBig(v) && spec.kind !== "int64") v = Number(v.slice(BIG.length));
  switch (spec.kind) {
    case "message":
      return walk(spec.type, v, path);
    case "enum":
      if (!Number.isInteger(v)) fail(path, `enum ${spec.enumName} must be an integer, got ${JSON.stringify(v)}`, v);
      if (!spec.values.has(v)) fail(path, `${v} is not a value of enum ${spec.enumName}`, v);
      return v;
    case "bytes":
      if (HEX_IDS[field]) return hexId(path, v, HEX_IDS[field], { allowEmpty: field === "parentSpanId" });
      if (typeof v !== "string" || !BASE64.test(v)) fail(path, `base64 string expected, got ${JSON.stringify(v)}`, v);
      return Uint8Array.from(Buffer.from(v, "base64"));
    case "bool":
      if (typeof v !== "boolean") fail(path, `boolean expected, got ${JSON.stringify(v)}`, v);
      return v;
    case "string":
      if (typeof v !== "string") fail(path, `string expected, got ${JSON.stringify(v)}`, v);
      return v;
    case "int64":
      return int64(path, v, false);
    case "int32":
    case "uint32": {
      const lo = spec.kind === "int32" ? -(2 ** 31) : 0;
      const hi = spec.kind === "int32" ? 2 ** 31 - 1 : 2 ** 32 - 1;
      if (!Number.isInteger(v) || v < lo || v > hi) fail(path, `${spec.kind} expected, got ${JSON.stringify(v)}`, v);
      return v;
    }
    case "double":
      if (typeof v !== "number" && !["NaN", "Infinity", "-Infinity"].includes(v))
        fail(path, `number expected, got ${JSON.stringify(v)}`, v);
      return Number(v);
    default:
      fail(path, `unhandled kind ${spec.kind}`, v);
  }
}

// The reverse: a protobufjs message (decoded from protobuf) as OTLP/JSON.
function toJson(cls, msg) {
  const { fields } = schemaOf(cls);
  const out = {};
  for (const [k, spec] of Object.entries(fields)) {
    const v = msg[k];
    if (v == null || !Object.prototype.hasOwnProperty.call(msg, k)) continue;
    if (spec.repeated && v.length === 0) continue;
    const one = (x) => {
      switch (spec.kind) {
        case "message":
          return toJson(spec.type, x);
        case "bytes":
          return Buffer.from(x).toString(HEX_IDS[k] ? "hex" : "base64");
        case "int64":
          return util.Long.isLong(x) ? x.toString(10) : String(x);
        default:
          return x;
      }
    };
    out[k] = spec.repeated ? v.map(one) : one(v);
  }
  return out;
}

// OTLP semantics the proto types cannot say: ids present, times ordered.
function checkSpans(req) {
  (req.resourceSpans || []).forEach((rs, i) =>
    (rs.scopeSpans || []).forEach((ss, j) =>
      (ss.spans || []).forEach((s, k) => {
        const p = `request.resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`;
        if (!s.traceId) fail(p, "traceId missing", s);
        if (!s.spanId) fail(p, "spanId missing", s);
        if (!s.name) fail(p, "name missing or empty", s);
        const start = BigInt(s.startTimeUnixNano ?? 0);
        const end = BigInt(s.endTimeUnixNano ?? 0);
        if (start <= 0n) fail(p, "startTimeUnixNano missing or zero", s);
        if (end < start) fail(p, `endTimeUnixNano ${end} before startTimeUnixNano ${start}`, s);
        (s.links || []).forEach((l, n) => {
          if (!l.traceId || !l.spanId) fail(`${p}.links[${n}]`, "traceId and spanId required", l);
        });
        (s.events || []).forEach((e, n) => {
          if (!e.name) fail(`${p}.events[${n}]`, "name missing", e);
        });
      }),
    ),
  );
}

// After the walk: the package's own verify(), then a protobuf round trip
// through its encode/decode that must give back the same message.
function throughPackage(obj) {
  const T = ExportTraceServiceRequest;
  const err = T.verify(obj);
  if (err) fail("request", `verify: ${err}`);
  const msg = T.fromObject(obj);
  const bytes = T.encode(msg).finish();
  const back = T.decode(bytes);
  const opts = { longs: String, bytes: String, enums: Number };
  const a = JSON.stringify(T.toObject(msg, opts));
  const b = JSON.stringify(T.toObject(back, opts));
  if (a !== b) fail("request", "does not survive a protobuf encode/decode round trip");
  return bytes;
}

// Validates a request body; returns { ok: true, request } (request in
// OTLP/JSON form) or { ok: false, reason }.
export function validate(body, contentType) {
  const ct = String(contentType || "").split(";")[0].trim().toLowerCase();
  try {
    let json;
    if (ct === "application/json") {
      try {
        json = parseJson(body.toString("utf8"));
      } catch (e) {
        fail("body", `not JSON: ${e.message}`);
      }
    } else if (ct === "application/x-protobuf") {
      let msg;
      try {
        msg = ExportTraceServiceRequest.decode(body);
      } catch (e) {
        fail("body", `not an ExportTraceServiceRequest: ${e.message}`);
      }
      // decode() skips unknown fields silently: re-encoding must give the
      // very bytes received
      const again = Buffer.from(ExportTraceServiceRequest.encode(msg).finish());
      if (!again.equals(body)) fail("body", "unknown fields or a non-canonical encoding (re-encoding differs)");
      json = toJson(ExportTraceServiceRequest, msg);
    } else {
      fail("content-type", `application/json or application/x-protobuf expected, got ${JSON.stringify(ct)}`);
    }
    throughPackage(walk(ExportTraceServiceRequest, json, "request"));
    checkSpans(json);
    return { ok: true, request: json };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reason: e.message, at: e.at };
    throw e;
  }
}

// ------------------------------------------------------------- flattening

function plain(any) {
  if ("stringValue" in any) return any.stringValue;
  if ("boolValue" in any) return any.boolValue;
  if ("intValue" in any) {
    const n = Number(any.intValue);
    return Number.isSafeInteger(n) ? n : String(any.intValue);
  }
  if ("doubleValue" in any) return Number(any.doubleValue);
  if ("arrayValue" in any) return (any.arrayValue.values || []).map(plain);
  if ("kvlistValue" in any) return attrs(any.kvlistValue.values);
  return any.bytesValue;
}

export function attrs(list) {
  const o = {};
  for (const kv of list || []) o[kv.key] = kv.value ? plain(kv.value) : null;
  return o;
}

// One entry per span of a valid request, in the shape GET /spans serves.
export function flatten(req) {
  const out = [];
  for (const rs of req.resourceSpans || [])
    for (const ss of rs.scopeSpans || [])
      for (const s of ss.spans || [])
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || "",
          name: s.name,
          kind: s.kind ?? 0,
          start: String(s.startTimeUnixNano),
          end: String(s.endTimeUnixNano ?? "0"),
          attributes: attrs(s.attributes),
          events: (s.events || []).map((e) => ({ name: e.name, time: String(e.timeUnixNano ?? "0"), attributes: attrs(e.attributes) })),
          links: (s.links || []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attrs(l.attributes) })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? "" },
          traceState: s.traceState || "",
          resource: attrs(rs.resource?.attributes),
          scope: { name: ss.scope?.name ?? "", version: ss.scope?.version ?? "" },
        });
  return out;
}
