// Upstream OpenAPI schema validation through kubernetes-models (ajv validators
// generated from the Kubernetes OpenAPI spec).
//
// kubernetes-models checks types, formats (int32, byte = base64, quantity,
// date-time ...) and required properties, but its schemas allow unknown
// properties. The API server drops (fieldValidation=Warn, the default) or
// rejects (fieldValidation=Strict) unknown fields, so we find them ourselves:
// the object is validated through a Proxy that records which properties the
// generated validator reads. A property it never read is not in the schema.
// Objects whose keys the validator enumerates (maps such as labels or
// Secret.data) accept any key.

import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { Pod } from "kubernetes-models/v1/Pod";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { Job } from "kubernetes-models/batch/v1/Job";
// cert-manager's CRD schemas (the CRDs' openAPIV3Schema, as ajv validators)
import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";
import { fieldPath, pointerToPath } from "./util.mjs";

const MODELS = { Secret, Service, Pod, PersistentVolumeClaim, ConfigMap, Namespace, StatefulSet, NetworkPolicy, Job, Certificate };

// Subtrees that are free-form in the upstream schema (or that we drop anyway).
const FREE_FORM = [["metadata", "managedFields"]];

function track(obj, path, seen, maps) {
  if (obj === null || typeof obj !== "object") return obj;
  const key = JSON.stringify(path);
  return new Proxy(obj, {
    get(t, k, r) {
      const v = Reflect.get(t, k, r);
      if (typeof k === "string" && Object.prototype.hasOwnProperty.call(t, k)) {
        const p = Array.isArray(t) ? [...path, Number(k)] : [...path, k];
        seen.add(JSON.stringify(p));
        return track(v, p, seen, maps);
      }
      return v;
    },
    has(t, k) {
      if (typeof k === "string") seen.add(JSON.stringify([...path, k]));
      return Reflect.has(t, k);
    },
    ownKeys(t) {
      maps.add(key);
      return Reflect.ownKeys(t);
    },
  });
}

function collectUnknown(obj, path, seen, maps, out) {
  if (obj === null || typeof obj !== "object") return;
  if (FREE_FORM.some((f) => f.length <= path.length && f.every((s, i) => s === path[i]))) return;
  if (Array.isArray(obj)) {
    obj.forEach((v, i) => collectUnknown(v, [...path, i], seen, maps, out));
    return;
  }
  const isMap = maps.has(JSON.stringify(path));
  for (const k of Object.keys(obj)) {
    const p = [...path, k];
    if (!isMap && !seen.has(JSON.stringify(p))) {
      out.push(p);
      continue;
    }
    collectUnknown(obj[k], p, seen, maps, out);
  }
}

// Returns {errors: [{path, keyword, message, params}], unknown: [path]}
export function schemaCheck(kind, obj) {
  const Model = MODELS[kind];
  if (!Model) throw new Error(`no schema for kind ${kind}`);
  const seen = new Set();
  const maps = new Set();
  let errors = [];
  try {
    Model.prototype.validate.call(track(obj, [], seen, maps));
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    errors = e.errors.map((er) => {
      const path = pointerToPath(er.instancePath);
      if (er.keyword === "required") path.push(er.params.missingProperty);
      return { path, keyword: er.keyword, message: er.message, params: er.params };
    });
  }
  const unknown = [];
  collectUnknown(obj, [], seen, maps, unknown);
  return { errors, unknown };
}

// Decoding errors (wrong JSON type, bad base64, bad quantity, int32 overflow) are
// 400 BadRequest on a real API server; "required" and the like are 422 Invalid.
// Custom resources are decoded without a schema (unstructured), so for them
// every schema error is a 422 from the CRD's validation (see server.mjs).
export const DECODE_KEYWORDS = new Set(["type", "format", "oneOf", "anyOf"]);

export function describeSchemaError(e) {
  return `${fieldPath(e.path) || "<root>"}: ${e.message}`;
}

export { MODELS };
