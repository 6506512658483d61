#!/usr/bin/env node
// OTLP/HTTP trace receiver for the dbtree tests: stores every span it is
// sent after validating the request strictly against OpenTelemetry's own
// protocol definitions (schema.mjs), and records every request it rejects.
// See README.md for the endpoints.
//
//   node tests/otlp/receiver.mjs [--port N] [--host H] [--port-file PATH] [--quiet]
import http from "node:http";
import fs from "node:fs";
import zlib from "node:zlib";
import { validate, flatten, PACKAGE_VERSION } from "./schema.mjs";

function args(argv) {
  const o = { port: 0, host: "127.0.0.1", portFile: null, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--port") o.port = Number(argv[++i]);
    else if (a === "--host") o.host = argv[++i];
    else if (a === "--port-file") o.portFile = argv[++i];
    else if (a === "--quiet") o.quiet = true;
    else {
      console.error(`unknown argument ${a}`);
      process.exit(2);
    }
  }
  return o;
}

const opts = args(process.argv.slice(2));
const MAX_BODY = 16 << 20;

const fresh = () => ({ spans: [], rejects: [], requests: 0, failed: 0 });
let store = fresh();
const allRejects = []; // since start: never reset (the runner's end-of-suite check)
let controls = { delayMs: 0, status: 200 };

function send(res, status, body, type = "application/json") {
  const data = typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(data) });
  res.end(data);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on("data", (c) => {
      n += c.length;
      if (n > MAX_BODY) {
        reject(new Error("body over 16 MiB"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// the offending part when the validator names one, else the body's start
function snippet(body, type, at) {
  if (at !== undefined) return JSON.stringify(at).slice(0, 400);
  return /protobuf/.test(type || "") ? body.subarray(0, 200).toString("hex") : body.toString("utf8").slice(0, 400);
}

async function traces(req, res) {
  store.requests++;
  let body;
  try {
    body = await readBody(req);
  } catch (e) {
    return send(res, 413, { code: 3, message: e.message });
  }
  const type = req.headers["content-type"] || "";
  const encoding = (req.headers["content-encoding"] || "identity").toLowerCase();
  let result;
  try {
    if (encoding === "gzip") body = zlib.gunzipSync(body);
    else if (encoding !== "identity") throw new Error(`unsupported Content-Encoding ${encoding}`);
    result = validate(body, type);
  } catch (e) {
    result = { ok: false, reason: `body: ${e.message}` };
  }
  if (controls.delayMs > 0) await new Promise((r) => setTimeout(r, controls.delayMs));
  if (!result.ok) {
    // a request that expects to be refused (the receiver's own tests) says so
    const r = {
      reason: result.reason,
      contentType: type,
      snippet: snippet(body, type, result.at),
      expected: req.headers["x-otlp-expect-invalid"] === "1",
      time: new Date().toISOString(),
    };
    store.rejects.push(r);
    allRejects.push(r);
    if (!opts.quiet) console.log(`rejected: ${r.reason}`);
    return send(res, 400, { code: 3, message: result.reason });
  }
  if (controls.status !== 200) {
    store.failed++;
    return send(res, controls.status, { code: 14, message: `simulated collector failure (${controls.status})` });
  }
  const spans = flatten(result.request);
  store.spans.push(...spans);
  // a whole suite exports far more than any test reads: keep the newest
  if (store.spans.length > MAX_SPANS) store.spans.splice(0, store.spans.length - MAX_SPANS);
  if (!opts.quiet) console.log(`accepted ${spans.length} span(s)`);
  // OTLP success: an empty ExportTraceServiceResponse, in the request's encoding
  if (/protobuf/.test(type)) return send(res, 200, Buffer.alloc(0), "application/x-protobuf");
  return send(res, 200, {});
}

async function control(req, res) {
  let c;
  try {
    c = JSON.parse((await readBody(req)).toString("utf8") || "{}");
  } catch {
    return send(res, 400, { error: "JSON body expected" });
  }
  const next = { ...controls };
  if (c.delayMs !== undefined && c.delayMs !== null) {
    if (!Number.isInteger(c.delayMs) || c.delayMs < 0) return send(res, 400, { error: "delayMs: integer >= 0" });
    next.delayMs = c.delayMs;
  }
  if (c.status !== undefined && c.status !== null) {
    if (!Number.isInteger(c.status) || c.status < 200 || c.status > 599)
      return send(res, 400, { error: "status: HTTP status 200..599" });
    next.status = c.status;
  }
  const unknown = Object.keys(c).filter((k) => !["delayMs", "status"].includes(k));
  if (unknown.length) return send(res, 400, { error: `unknown control ${unknown.join(", ")}` });
  controls = next;
  return send(res, 200, controls);
}

const MAX_SPANS = 50000;

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  const route = `${req.method} ${url.pathname}`;
  try {
    switch (route) {
      case "POST /v1/traces":
        return await traces(req, res);
      case "GET /spans": {
        const id = url.searchParams.get("traceId");
        return send(res, 200, id ? store.spans.filter((sp) => sp.traceId === id) : store.spans);
      }
      case "GET /rejects":
        return send(res, 200, url.searchParams.get("all") === "1" ? allRejects : store.rejects);
      case "GET /stats":
        return send(res, 200, {
          requests: store.requests,
          spans: store.spans.length,
          rejects: store.rejects.length,
          failed: store.failed,
        });
      case "GET /control":
        return send(res, 200, controls);
      case "POST /control":
        return await control(req, res);
      case "POST /reset":
        store = fresh();
        controls = { delayMs: 0, status: 200 };
        return send(res, 200, {});
      default:
        return send(res, url.pathname === "/v1/traces" ? 405 : 404, { error: `no route ${route}` });
    }
  } catch (e) {
    if (!res.headersSent) send(res, 500, { error: String(e && e.stack) });
  }
});

server.listen(opts.port, opts.host, () => {
  const { port } = server.address();
  if (opts.portFile) {
    // 0600: the stack's directory is one other local users may pass
    fs.writeFileSync(`${opts.portFile}.tmp`, `${port}\n`, { mode: 0o600 });
    fs.renameSync(`${opts.portFile}.tmp`, opts.portFile);
  }
  console.log(`otlp receiver (otlp-transformer ${PACKAGE_VERSION}) listening on http://${opts.host}:${port}`);
});

// nothing to flush: the store lives in memory only
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
