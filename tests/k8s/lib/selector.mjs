// Label selectors: the string form used in ?labelSelector= and the
// metav1.LabelSelector object form used in specs.

import { badRequest } from "./errors.mjs";
import { isQualifiedName, isLabelValue } from "./names.mjs";

function splitTopLevel(s) {
  const out = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function checkKey(key, raw) {
  if (!isQualifiedName(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (in ${JSON.stringify(raw)})`);
}
function checkVal(v, raw) {
  if (!isLabelValue(v)) throw badRequest(`unable to parse requirement: invalid label value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (in ${JSON.stringify(raw)})`);
}

// Returns a list of requirements {key, op, values}; op in In, NotIn, Exists, DoesNotExist, Gt, Lt
export function parseLabelSelector(str) {
  const reqs = [];
  if (str === undefined || str === null || str.trim() === "") return reqs;
  for (const partRaw of splitTopLevel(str)) {
    const part = partRaw.trim();
    if (part === "") throw badRequest(`unable to parse requirement: found '', expected: identifier (in ${JSON.stringify(str)})`);
    let m;
    if ((m = /^(\S+?)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part))) {
      const key = m[1];
      checkKey(key, str);
      const values = m[3].split(",").map((v) => v.trim());
      if (values.length === 1 && values[0] === "") throw badRequest(`unable to parse requirement: for 'in', 'notin' operators, values set can't be empty (in ${JSON.stringify(str)})`);
      values.forEach((v) => checkVal(v, str));
      reqs.push({ key, op: m[2] === "in" ? "In" : "NotIn", values });
    } else if ((m = /^!\s*([^=!<>\s]+)$/.exec(part))) {
      checkKey(m[1], str);
      reqs.push({ key: m[1], op: "DoesNotExist", values: [] });
    } else if ((m = /^([^=!<>\s]+)\s*(==|=|!=)\s*([^=!<>\s]*)$/.exec(part))) {
      checkKey(m[1], str);
      checkVal(m[3], str);
      reqs.push({ key: m[1], op: m[2] === "!=" ? "NotIn" : "In", values: [m[3]] });
    } else if ((m = /^([^=!<>\s]+)\s*(>|<)\s*(-?\d+)$/.exec(part))) {
      checkKey(m[1], str);
      reqs.push({ key: m[1], op: m[2] === ">" ? "Gt" : "Lt", values: [m[3]] });
    } else if ((m = /^([^=!<>\s(),]+)$/.exec(part))) {
      checkKey(m[1], str);
      reqs.push({ key: m[1], op: "Exists", values: [] });
    } else {
      throw badRequest(`unable to parse requirement: couldn't parse the selector string ${JSON.stringify(str)}`);
    }
  }
  return reqs;
}

export function matchRequirements(reqs, labels) {
  labels = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case "In":
        if (!has || !r.values.includes(v)) return false;
        break;
      case "NotIn":
        if (has && r.values.includes(v)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      case "Gt":
      case "Lt": {
        if (!has || !/^-?\d+$/.test(v)) return false;
        const n = parseInt(v, 10);
        const t = parseInt(r.values[0], 10);
        if (r.op === "Gt" ? !(n > t) : !(n < t)) return false;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

// metav1.LabelSelector object -> requirements (assumes it was validated)
export function labelSelectorToRequirements(sel) {
  const reqs = [];
  if (!sel) return reqs;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, op: "In", values: [v] });
  for (const e of sel.matchExpressions ?? []) reqs.push({ key: e.key, op: e.operator, values: e.values ?? [] });
  return reqs;
}

export const selectorIsEmpty = (sel) =>
  !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);

// Field selectors: only metadata.name / metadata.namespace (all kinds) and
// status.phase / spec.nodeName (pods), with =, == and !=.
export function parseFieldSelector(str, kind) {
  const reqs = [];
  if (!str || str.trim() === "") return reqs;
  const allowed = ["metadata.name", "metadata.namespace"];
  if (kind === "Pod") allowed.push("status.phase", "spec.nodeName");
  if (kind === "Secret") allowed.push("type");
  for (const partRaw of str.split(",")) {
    const m = /^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(partRaw);
    if (!m) throw badRequest(`invalid selector: '${str}'; can't understand '${partRaw}'`);
    if (!allowed.includes(m[1])) throw badRequest(`field label not supported: ${m[1]}`);
    reqs.push({ path: m[1].split("."), neg: m[2] === "!=", value: m[3] });
  }
  return reqs;
}

export function matchFields(reqs, obj) {
  for (const r of reqs) {
    let cur = obj;
    for (const p of r.path) cur = cur?.[p];
    const v = cur === undefined || cur === null ? "" : String(cur);
    if (r.neg ? v === r.value : v !== r.value) return false;
  }
  return true;
}
