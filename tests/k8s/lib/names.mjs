// Name validators from k8s.io/apimachinery/pkg/util/validation (messages kept close to upstream).

const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QNAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY_RE = /^[-._a-zA-Z0-9]+$/;

export function dns1123Label(v) {
  const errs = [];
  if (v.length > 63) errs.push("must be no more than 63 characters");
  if (!LABEL_RE.test(v))
    errs.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
  return errs;
}

export function dns1123Subdomain(v) {
  const errs = [];
  if (v.length > 253) errs.push("must be no more than 253 characters");
  if (!SUBDOMAIN_RE.test(v))
    errs.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  return errs;
}

export function dns1035Label(v) {
  const errs = [];
  if (v.length > 63) errs.push("must be no more than 63 characters");
  if (!DNS1035_RE.test(v))
    errs.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
  return errs;
}

export function qualifiedName(v) {
  const errs = [];
  if (typeof v !== "string" || v === "") return ["name part must be non-empty"];
  const parts = v.split("/");
  let name = v;
  if (parts.length === 2) {
    if (parts[0] === "") errs.push("prefix part must be non-empty");
    else errs.push(...dns1123Subdomain(parts[0]).map((e) => `prefix part ${e}`));
    name = parts[1];
  } else if (parts.length > 2) {
    return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name === "") errs.push("name part must be non-empty");
  else {
    if (name.length > 63) errs.push("name part must be no more than 63 characters");
    if (!QNAME_RE.test(name))
      errs.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  }
  return errs;
}

export function labelValue(v) {
  const errs = [];
  if (typeof v !== "string") return ["must be a string"];
  if (v.length > 63) errs.push("must be no more than 63 characters");
  if (!LABEL_VALUE_RE.test(v))
    errs.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  return errs;
}

export function configKey(v) {
  const errs = [];
  if (v.length > 253) errs.push("must be no more than 253 characters");
  if (!CONFIG_KEY_RE.test(v))
    errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
  if (v === ".") errs.push("must not be '.'");
  if (v === "..") errs.push("must not be '..'");
  else if (v.startsWith("..")) errs.push("must not start with '..'");
  return errs;
}

export function ianaSvcName(v) {
  const errs = [];
  if (v.length > 15) errs.push("must be no more than 15 characters");
  if (!/^[-a-z0-9]+$/.test(v)) errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (v.includes("--")) errs.push("must not contain consecutive hyphens");
  if (!/[a-z]/.test(v)) errs.push("must contain at least one letter (a-z)");
  if (v.startsWith("-") || v.endsWith("-")) errs.push("must not begin or end with a hyphen");
  return errs;
}

export function envVarName(v) {
  // RelaxedEnvironmentVariableValidation (default on since 1.32): printable ASCII except '='
  if (v === "") return ["environment variable name must not be empty"];
  if (!/^[\x20-\x7e]+$/.test(v) || v.includes("=")) return ["a valid environment variable name must consist only of printable ASCII characters other than '='"];
  return [];
}

export const isQualifiedName = (v) => qualifiedName(v).length === 0;
export const isLabelValue = (v) => labelValue(v).length === 0;
