// Small helpers on plain JSON values.

export const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
export const clone = (v) => (v === undefined ? undefined : structuredClone(v));

export function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
}

export function getPath(obj, path) {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = cur[k];
  }
  return cur;
}

export function setPath(obj, path, value) {
  let cur = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i];
    if (!isObj(cur[k])) cur[k] = {};
    cur = cur[k];
  }
  cur[path[path.length - 1]] = value;
}

// Deletes the value at path; prunes parents that became empty objects, but
// never the top-level sections (metadata, spec, ...).
export function deletePath(obj, path) {
  const parents = [];
  let cur = obj;
  for (let i = 0; i < path.length - 1; i++) {
    if (cur === null || typeof cur !== "object") return;
    parents.push(cur);
    cur = cur[path[i]];
  }
  const last = path[path.length - 1];
  if (cur === null || typeof cur !== "object" || !(last in cur)) return;
  if (Array.isArray(cur)) cur.splice(Number(last), 1);
  else delete cur[last];
  for (let i = path.length - 2; i >= 1; i--) {
    const parent = parents[i];
    const child = parent[path[i]];
    if (!Array.isArray(parent) && isObj(child) && Object.keys(child).length === 0) delete parent[path[i]];
    else break;
  }
}

// "spec.template.spec.containers[0].image" from ["spec","template","spec","containers",0,"image"]
export function fieldPath(path) {
  let s = "";
  for (const p of path) {
    if (typeof p === "number" || /^\d+$/.test(String(p))) s += `[${p}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) s += (s ? "." : "") + p;
    else s += `[${p}]`;
  }
  return s;
}

// JSON pointer (ajv instancePath) -> array of segments
export function pointerToPath(ptr) {
  if (!ptr) return [];
  return ptr
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export const nowIso = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

export function shortHash(str) {
  // FNV-1a 32 bit, rendered like the controller-revision hashes (base36-ish, 10 chars)
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  let out = "";
  let x = h;
  for (let i = 0; i < 10; i++) {
    out += alphabet[x % alphabet.length];
    x = Math.floor(x / alphabet.length) ^ (h >>> (i + 1));
    if (x < 0) x = -x;
  }
  return out;
}

// Kubernetes resource.Quantity -> number (in base units). NaN when invalid.
export function parseQuantity(q) {
  if (typeof q === "number") return q;
  if (typeof q !== "string") return NaN;
  const m = /^([+-]?(?:\d+|\d+\.\d+|\d+\.|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/.exec(q.trim());
  if (!m) return NaN;
  const n = parseFloat(m[1]);
  const suf = m[2] ?? "";
  const bin = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
  const dec = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
  if (suf in bin) return n * bin[suf];
  if (suf in dec) return n * dec[suf];
  return n * 10 ** parseInt(suf.slice(1), 10);
}
