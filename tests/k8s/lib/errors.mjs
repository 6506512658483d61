// Status objects shaped like the ones kube-apiserver returns
// (k8s.io/apimachinery/pkg/api/errors).

export class ApiError extends Error {
  constructor(code, reason, message, details = undefined, headers = {}, metadata = {}) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.headers = headers;
    this.metadata = metadata;
  }

  toStatus() {
    const st = {
      kind: "Status",
      apiVersion: "v1",
      metadata: this.metadata,
      status: "Failure",
      message: this.message,
      reason: this.reason,
      details: this.details ?? {},
      code: this.code,
    };
    return st;
  }
}

// "statefulsets.apps", "secrets"
export const qualifiedResource = (res) => (res.group ? `${res.plural}.${res.group}` : res.plural);
// "StatefulSet.apps", "Secret"
export const qualifiedKind = (res) => (res.group ? `${res.kind}.${res.group}` : res.kind);

const resDetails = (res, name) => {
  const d = { name };
  if (res.group) d.group = res.group;
  d.kind = res.plural;
  return d;
};

export const notFound = (res, name) =>
  new ApiError(404, "NotFound", `${qualifiedResource(res)} "${name}" not found`, resDetails(res, name));

export const alreadyExists = (res, name) =>
  new ApiError(409, "AlreadyExists", `${qualifiedResource(res)} "${name}" already exists`, resDetails(res, name));

export const conflict = (res, name, why = "the object has been modified; please apply your changes to the latest version and try again") =>
  new ApiError(409, "Conflict", `Operation cannot be fulfilled on ${qualifiedResource(res)} "${name}": ${why}`, resDetails(res, name));

export const applyConflict = (res, name, conflicts) => {
  // conflicts: [{manager, field}]
  const byMgr = new Map();
  for (const c of conflicts) {
    if (!byMgr.has(c.manager)) byMgr.set(c.manager, []);
    byMgr.get(c.manager).push(c.field);
  }
  const n = conflicts.length;
  let msg = `Apply failed with ${n} conflict${n === 1 ? "" : "s"}: `;
  const parts = [];
  for (const [mgr, fields] of byMgr) {
    if (fields.length === 1) parts.push(`conflict with "${mgr}" using ${res.apiVersion}: ${fields[0]}`);
    else parts.push(`conflicts with "${mgr}" using ${res.apiVersion}:\n- ${fields.join("\n- ")}`);
  }
  msg += parts.join("\n");
  const d = resDetails(res, name);
  d.causes = conflicts.map((c) => ({ reason: "FieldManagerConflict", message: `conflict with "${c.manager}" using ${res.apiVersion}`, field: c.field }));
  return new ApiError(409, "Conflict", msg, d);
};

export const invalid = (res, name, causes) => {
  const items = causes.map((c) => `${c.field}: ${c.message}`);
  const msg = `${qualifiedKind(res)} "${name}" is invalid: ${items.length === 1 ? items[0] : `[${items.join(", ")}]`}`;
  const d = { name };
  if (res.group) d.group = res.group;
  d.kind = res.kind;
  d.causes = causes;
  return new ApiError(422, "Invalid", msg, d);
};

export const badRequest = (message, causes) => new ApiError(400, "BadRequest", message, causes ? { causes } : undefined);

export const unauthorized = () => new ApiError(401, "Unauthorized", "Unauthorized");

export const methodNotAllowed = (message) => new ApiError(405, "MethodNotAllowed", message);

export const unsupportedMediaType = (ct) =>
  new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${JSON.stringify(ct)})`);

export const tooLarge = () => new ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");

export const tooManyRequests = (retryAfter) =>
  new ApiError(429, "TooManyRequests", "Too many requests, please try again later.", { retryAfterSeconds: retryAfter, causes: [] }, { "Retry-After": String(retryAfter) });

// A list's continue token the server no longer serves (etcd compacted
// past its resourceVersion): 410 with reason Expired, and a token that
// goes on from the same key in the current state (an inconsistent list).
export const continueExpired = (cont) =>
  new ApiError(
    410,
    "Expired",
    "The continue token is too old to give a consistent list. Start the list again without continue, or go on with the token in this Status (the rest then comes from the current state).",
    undefined,
    {},
    cont ? { continue: cont } : {},
  );

export const internalError = (message) =>
  new ApiError(500, "InternalError", `Internal error occurred: ${message}`, { causes: [{ message }] });

export const serviceUnavailable = (message) => new ApiError(503, "ServiceUnavailable", message);

export const routeNotFound = () => new ApiError(404, "NotFound", "the server could not find the requested resource", { causes: [{ reason: "UnexpectedServerResponse", message: "404 page not found" }] });

// ---- field errors (k8s.io/apimachinery/pkg/util/validation/field) ----

export function fmtValue(v) {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === undefined) return "null";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export const fe = {
  required: (field, detail) => ({ reason: "FieldValueRequired", message: detail ? `Required value: ${detail}` : "Required value", field }),
  invalid: (field, value, detail) => ({ reason: "FieldValueInvalid", message: `Invalid value: ${fmtValue(value)}${detail ? `: ${detail}` : ""}`, field }),
  forbidden: (field, detail) => ({ reason: "FieldValueForbidden", message: `Forbidden: ${detail}`, field }),
  duplicate: (field, value) => ({ reason: "FieldValueDuplicate", message: `Duplicate value: ${fmtValue(value)}`, field }),
  notSupported: (field, value, supported) => ({
    reason: "FieldValueNotSupported",
    message: `Unsupported value: ${fmtValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}`,
    field,
  }),
  tooLong: (field, max) => ({ reason: "FieldValueTooLong", message: `Too long: may not be more than ${max} bytes`, field }),
  tooMany: (field, max) => ({ reason: "FieldValueTooMany", message: `Too many: must have at most ${max} items`, field }),
  notFound: (field, value) => ({ reason: "FieldValueNotFound", message: `Not found: ${fmtValue(value)}`, field }),
};
