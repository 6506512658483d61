/*
 * For the kubernetes driver: the objects of one instance, built as json-c
 * trees by pure functions (spec + settings -> object), so that the unit
 * tests compare them with golden files.
 *
 * Every object is named db-<first 12 hex digits of the id> (StatefulSet
 * names over 52 characters create no pods) and labelled
 *	app.kubernetes.io/managed-by=dbtree
 *	app.kubernetes.io/name=<postgres|redis|mongodb>
 *	dbtree.io/instance-id=<id>
 * The StatefulSet's and the Service's selectors use the instance id.
 *
 * The Secret holds "password" (the user's) and "root-password" (the
 * driver's superuser: postgres / redis "default" / mongo "dbtree_root").
 * Each container starts through a short sh script that applies the
 * password from the Secret at every start (see k8s_manifest.c), so a new
 * password takes effect when the pod restarts; a credentials reset makes
 * it restart by changing the pod template's dbtree.io/secret-version
 * annotation (a hash of the password, never the password).
 *
 * Builders assume a spec that passed k8s_manifest_check(); they return a
 * new object the caller puts.
 */
#ifndef PROV_K8S_MANIFEST_H
#define PROV_K8S_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct json_object;
struct prov_spec;

#define K8S_NAME_MAX 16		/* "db-" + 12 hex + NUL */
#define K8S_NAME_HEX 12
#define K8S_STS_NAME_LIMIT 52	/* longer StatefulSet names create no pods */
#define K8S_HASH_LEN 16		/* hex digits of the hashes below */
#define K8S_LABEL_MANAGED "app.kubernetes.io/managed-by"
#define K8S_LABEL_APP "app.kubernetes.io/name"
#define K8S_LABEL_ID "dbtree.io/instance-id"
#define K8S_MANAGER "dbtree"
#define K8S_SELECTOR K8S_LABEL_MANAGED "=" K8S_MANAGER
#define K8S_ANN_HASH "dbtree.io/manifest-hash"
#define K8S_ANN_SECRET_VERSION "dbtree.io/secret-version"
#define K8S_KEY_PASSWORD "password"
#define K8S_KEY_ROOT "root-password"

/* The settings the objects depend on (borrowed strings). */
struct k8s_manifest_conf {
	const char *ns;
	const char *image_postgres;
	const char *image_redis;
	const char *image_mongodb;
	const char *storage_class;	/* "" = the cluster's default */
};

/* db-<12 hex> of id into out: 0, or -1 when id is not a uuid-like string
 * of hex digits and dashes with at least 12 digits (not logged). */
int k8s_manifest_name(const char *id, char out[K8S_NAME_MAX]);
/* "dbtree.io/instance-id=<id>" into out: 0 or -1 (does not fit). */
int k8s_manifest_id_selector(const char *id, char *out, size_t size);
/* The database's port inside the pod (5432, 6379, 27017), 0 if unknown. */
int k8s_manifest_engine_port(const char *type);
/* The image for spec type, from mc. */
const char *k8s_manifest_image(const struct k8s_manifest_conf *mc,
			       const char *type);
/* 0 when the driver can build objects for s; else -1 with why set
 * (not logged). */
int k8s_manifest_check(const struct prov_spec *s, char *why, size_t size);

/* The StatefulSet: replicas 1 when s->running, else 0.  Its
 * dbtree.io/manifest-hash annotation is a hash of the rest of it. */
struct json_object *k8s_manifest_statefulset(
	const struct k8s_manifest_conf *mc, const struct prov_spec *s);
/* The hash k8s_manifest_statefulset() puts in its annotation, into out
 * (K8S_HASH_LEN + 1 bytes). */
void k8s_manifest_statefulset_hash(const struct k8s_manifest_conf *mc,
				   const struct prov_spec *s, char *out);
/* The NodePort Service (nodePort = s->port), owned by the StatefulSet
 * whose uid is sts_uid (NULL: no owner reference). */
struct json_object *k8s_manifest_service(const struct k8s_manifest_conf *mc,
					 const struct prov_spec *s,
					 const char *sts_uid);
/* The NetworkPolicy: ingress to the pod only on the database port. */
struct json_object *k8s_manifest_networkpolicy(
	const struct k8s_manifest_conf *mc, const struct prov_spec *s,
	const char *sts_uid);
/* The Secret with both passwords (base64 per the API). */
struct json_object *k8s_manifest_secret(const struct k8s_manifest_conf *mc,
					const struct prov_spec *s,
					const char *password,
					const char *root_password);

/* A JSON patch (RFC 6902) that sets the Secret's password, only if the
 * Secret carries id's label (so that two ids sharing 12 hex digits can
 * never overwrite each other's password). */
struct json_object *k8s_manifest_password_patch(const char *id,
						const char *password);
/* A JSON patch that makes the Secret owned by the StatefulSet name/uid,
 * with the same label test. */
struct json_object *k8s_manifest_owner_patch(const char *id,
					     const char *name,
					     const char *uid);
/* A merge patch of the StatefulSet's pod template annotation
 * dbtree.io/secret-version: changing it restarts the pod. */
struct json_object *k8s_manifest_restart_patch(const char *version);
/* The secret version of password: K8S_HASH_LEN hex digits of a hash. */
void k8s_manifest_secret_version(const char *password, char *out);

#include "base/banned.h"
#endif
