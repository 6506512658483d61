// Server-side apply (simplified field ownership), JSON merge patch (RFC 7386)
// and JSON patch (RFC 6902).
//
// SSA model used here:
// - A "field" is a leaf of the object tree. Maps (objects) are walked into,
//   so map keys (labels, annotations, Secret.data keys ...) are separate
//   fields; lists are leaves and are replaced whole (real SSA merges
//   associative lists such as containers by key: we do not); an empty object
//   is a leaf of its own; null in an apply body means "not specified".
// - Each field has a set of owning managers. Apply by manager M sets every
//   field of M's body; a field whose current value differs and that is owned
//   by another manager is a conflict (409) unless ?force=true, which takes it.
//   Fields M applied before but leaves out now are removed from the object
//   unless another manager still owns them.
// - Non-apply writes (POST, PUT, merge/JSON patch) give the writer (the
//   fieldManager query parameter, else the User-Agent's product token)
//   ownership of every field they changed (server-set defaults included).
// - The same manager name is one manager whatever the operation (real SSA
//   keeps "Apply" and "Update" entries of one name apart).

import { ApiError } from "./errors.mjs";
import { clone, deepEqual, deletePath, getPath, isObj, setPath, fieldPath } from "./util.mjs";

const IGNORED = [
  ["apiVersion"],
  ["kind"],
  ["metadata", "name"],
  ["metadata", "namespace"],
  ["metadata", "uid"],
  ["metadata", "resourceVersion"],
  ["metadata", "generation"],
  ["metadata", "creationTimestamp"],
  ["metadata", "deletionTimestamp"],
  ["metadata", "deletionGracePeriodSeconds"],
  ["metadata", "managedFields"],
  ["metadata", "selfLink"],
  ["status"],
];

const isPrefix = (a, b) => a.length <= b.length && a.every((s, i) => s === b[i]);
const pkey = (path) => JSON.stringify(path);
const ignored = (path) => IGNORED.some((p) => isPrefix(p, path));

export function leaves(obj, path = [], out = []) {
  if (ignored(path)) return out;
  if (isObj(obj)) {
    const keys = Object.keys(obj).filter((k) => obj[k] !== null && obj[k] !== undefined);
    if (keys.length === 0 && path.length > 0) out.push({ path, value: {}, emptyMap: true });
    for (const k of keys) leaves(obj[k], [...path, k], out);
  } else if (obj !== null && obj !== undefined && path.length > 0) {
    out.push({ path, value: obj });
  }
  return out;
}

const sameAsCurrent = (leaf, cur) => (leaf.emptyMap ? cur === undefined || isObj(cur) : deepEqual(cur, leaf.value));

// owners: Map<pathKey, {path, managers: Set<string>}>
export function newOwners() {
  return new Map();
}

function overlapping(owners, path, newValueIsObject) {
  // entries whose value is overwritten when `path` gets a new value
  const out = [];
  for (const e of owners.values()) {
    if (pkey(e.path) === pkey(path)) out.push(e);
    else if (isPrefix(path, e.path) && !newValueIsObject) out.push(e); // descendants replaced by a scalar/list
    else if (isPrefix(e.path, path)) out.push(e); // an ancestor owned as a scalar/list/empty map
  }
  return out;
}

function ancestorIsMap(e, path, current) {
  // an ancestor entry that is (still) a map does not conflict with a new child key
  return e.path.length < path.length && isObj(getPath(current, e.path));
}

// normalize(obj) applies the server's defaults in place: a field whose applied
// value only differs from the live one by defaulted sub-fields (protocol: TCP
// in a port list, imagePullPolicy in a container ...) counts as unchanged.
export function ssaApply(res, name, existing, applied, manager, force, owners, normalize = () => {}) {
  const newLeaves = leaves(applied);
  const conflicts = [];
  let unchanged = () => false;
  if (existing) {
    const trial = clone(existing);
    for (const l of newLeaves) {
      if (l.emptyMap) {
        if (!isObj(getPath(trial, l.path))) setPath(trial, l.path, {});
      } else setPath(trial, l.path, clone(l.value));
    }
    normalize(trial);
    unchanged = (l) => sameAsCurrent(l, getPath(existing, l.path)) || deepEqual(getPath(trial, l.path), getPath(existing, l.path));
  }
  if (existing) {
    const seen = new Set();
    for (const l of newLeaves) {
      if (unchanged(l)) continue;
      for (const e of overlapping(owners, l.path, l.emptyMap)) {
        if (ancestorIsMap(e, l.path, existing)) continue;
        for (const m of e.managers) {
          if (m === manager) continue;
          const f = `.${fieldPath(l.path)}`;
          const k = `${m}|${f}`;
          if (!seen.has(k)) {
            seen.add(k);
            conflicts.push({ manager: m, field: f });
          }
        }
      }
    }
  }
  if (conflicts.length && !force) return { conflicts };

  const result = existing ? clone(existing) : {};
  const changed = new Set();
  for (const l of newLeaves) {
    if (!existing || !unchanged(l)) changed.add(pkey(l.path));
    if (l.emptyMap) {
      if (!isObj(getPath(result, l.path))) setPath(result, l.path, {});
    } else setPath(result, l.path, clone(l.value));
  }
  // ownership of the applied fields
  const newKeys = new Set(newLeaves.map((l) => pkey(l.path)));
  for (const l of newLeaves) {
    const k = pkey(l.path);
    if (changed.has(k)) {
      for (const e of overlapping(owners, l.path, l.emptyMap)) {
        if (ancestorIsMap(e, l.path, result)) continue;
        if (pkey(e.path) !== k) owners.delete(pkey(e.path));
      }
      owners.set(k, { path: l.path, managers: new Set([manager]) });
    } else {
      if (!owners.has(k)) owners.set(k, { path: l.path, managers: new Set() });
      owners.get(k).managers.add(manager);
    }
  }
  // fields this manager applied before and leaves out now
  const newPaths = newLeaves.map((l) => l.path);
  for (const [k, e] of [...owners]) {
    if (!e.managers.has(manager) || newKeys.has(k)) continue;
    e.managers.delete(manager);
    const covered = newPaths.some((p) => isPrefix(p, e.path) || isPrefix(e.path, p));
    if (e.managers.size === 0) {
      owners.delete(k);
      if (!covered) {
        const hasOwnedChildren = [...owners.values()].some((o) => o.path.length > e.path.length && isPrefix(e.path, o.path));
        if (!hasOwnedChildren) deletePath(result, e.path);
      }
    }
  }
  return { result, conflicts };
}

// Ownership after a non-apply write (old may be undefined for a create)
export function recordUpdate(old, cur, manager, owners) {
  const oldMap = new Map(leaves(old ?? {}).map((l) => [pkey(l.path), l]));
  const newList = leaves(cur);
  const newMap = new Set(newList.map((l) => pkey(l.path)));
  for (const l of newList) {
    const k = pkey(l.path);
    const o = oldMap.get(k);
    if (o && deepEqual(o.value, l.value)) continue;
    for (const e of overlapping(owners, l.path, l.emptyMap)) {
      if (ancestorIsMap(e, l.path, cur)) continue;
      owners.delete(pkey(e.path));
    }
    owners.set(k, { path: l.path, managers: new Set([manager]) });
  }
  for (const k of oldMap.keys()) if (!newMap.has(k)) owners.delete(k);
  pruneOwners(cur, owners);
}

export function pruneOwners(obj, owners) {
  for (const [k, e] of [...owners]) if (getPath(obj, e.path) === undefined || e.managers.size === 0) owners.delete(k);
}

// managedFields-like view for debugging (GET /_control/objects shows it)
export function ownersView(owners) {
  const byMgr = {};
  for (const e of owners.values()) for (const m of e.managers) (byMgr[m] ??= []).push(fieldPath(e.path));
  for (const m of Object.keys(byMgr)) byMgr[m].sort();
  return byMgr;
}

// ------------------------------------------------------------ merge patch

export function mergePatch(target, patch) {
  if (!isObj(patch)) return clone(patch);
  const t = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete t[k];
    else t[k] = mergePatch(t[k], v);
  }
  return t;
}

// ------------------------------------------------------------- JSON patch

function parsePointer(p) {
  if (typeof p !== "string" || (p !== "" && !p.startsWith("/"))) throw jsonPatchError(`invalid JSON pointer ${JSON.stringify(p)}`);
  if (p === "") return [];
  return p
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

const jsonPatchError = (msg) => new ApiError(422, "Invalid", `the server rejected our request due to an error in our request: ${msg}`, { causes: [{ reason: "FieldValueInvalid", message: msg, field: "patch" }] });

function containerOf(doc, path, op) {
  let cur = doc;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i];
    cur = Array.isArray(cur) ? cur[Number(seg)] : cur?.[seg];
    if (cur === undefined || cur === null || typeof cur !== "object") throw jsonPatchError(`${op} operation does not apply: doc is missing path: "/${path.join("/")}"`);
  }
  return cur;
}

export function jsonPatch(doc, ops) {
  if (!Array.isArray(ops)) throw jsonPatchError("a JSON patch must be an array of operations");
  let root = clone(doc);
  const get = (path) => {
    let cur = root;
    for (const s of path) {
      if (cur === null || typeof cur !== "object") return undefined;
      cur = Array.isArray(cur) ? cur[Number(s)] : cur[s];
    }
    return cur;
  };
  const remove = (path, op) => {
    const c = containerOf(root, path, op);
    const last = path[path.length - 1];
    if (Array.isArray(c)) {
      const i = Number(last);
      if (!(i >= 0 && i < c.length)) throw jsonPatchError(`${op} operation does not apply: doc is missing path: "/${path.join("/")}"`);
      return c.splice(i, 1)[0];
    }
    if (!(last in c)) throw jsonPatchError(`${op} operation does not apply: doc is missing path: "/${path.join("/")}"`);
    const v = c[last];
    delete c[last];
    return v;
  };
  const add = (path, value, op) => {
    if (path.length === 0) {
      root = value;
      return;
    }
    const c = containerOf(root, path, op);
    const last = path[path.length - 1];
    if (Array.isArray(c)) {
      const i = last === "-" ? c.length : Number(last);
      if (!(i >= 0 && i <= c.length)) throw jsonPatchError(`${op} operation does not apply: index out of range "/${path.join("/")}"`);
      c.splice(i, 0, value);
    } else c[last] = value;
  };
  for (const o of ops) {
    const path = parsePointer(o.path);
    switch (o.op) {
      case "add":
        add(path, clone(o.value), "add");
        break;
      case "remove":
        remove(path, "remove");
        break;
      case "replace":
        if (get(path) === undefined) throw jsonPatchError(`replace operation does not apply: doc is missing key: /${path.join("/")}`);
        if (path.length === 0) root = clone(o.value);
        else {
          const c = containerOf(root, path, "replace");
          c[Array.isArray(c) ? Number(path[path.length - 1]) : path[path.length - 1]] = clone(o.value);
        }
        break;
      case "move": {
        const v = remove(parsePointer(o.from), "move");
        add(path, v, "move");
        break;
      }
      case "copy":
        add(path, clone(get(parsePointer(o.from))), "copy");
        break;
      case "test":
        if (!deepEqual(get(path), o.value)) throw jsonPatchError(`testing value /${path.join("/")} failed: test failed`);
        break;
      default:
        throw jsonPatchError(`Unexpected kind: ${o.op}`);
    }
  }
  return root;
}
