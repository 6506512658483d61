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
 * TLS.  Every engine listens with TLS only (plain TCP is refused), on the
 * files of a secret volume mounted read-only at K8S_TLS_DIR: tls.crt,
 * tls.key, ca.crt, and for mongod tls.pem (key and certificate in one
 * file, as --tlsCertificateKeyFile wants).  They come from one of two
 * Secrets:
 *  - dbtree's own (no cert issuer configured): the instance Secret also
 *    holds tls.crt, tls.key, ca.crt and tls.pem, issued by the TLS module
 *    for the public host; the volume lists only those keys, so the
 *    passwords never reach the pod's file system.  Its annotations
 *    dbtree.io/tls-host, -not-after and -ca say what the certificate is.
 *  - cert-manager's (mc->cert_issuer set): a Certificate object names the
 *    Secret db-<12 hex>-tls, which cert-manager fills (tls.crt, tls.key,
 *    ca.crt, and tls-combined.pem for mongodb: additionalOutputFormats
 *    CombinedPEM).  The issuer must publish ca.crt (CA, Vault and
 *    self-signed issuers do; ACME issuers do not).
 * File modes: the volume's defaultMode is 0440 and the pod's fsGroup is
 * the engines' uid 999, so the kubelet makes each file root:999 0440.
 * PostgreSQL accepts a key owned by root only when it is 0640 or less
 * (and one owned by its own user only when it is 0600): root:999 0440 is
 * both readable by the server, through its group, and accepted.
 * The in-pod clients (readiness probes, start scripts) connect to
 * 127.0.0.1 over TLS and check the chain against ca.crt; the certificate
 * names the public host, so host names are not checked there.
 * A new certificate reaches the engines by a restart: the pod template's
 * dbtree.io/tls-version annotation (see k8s_manifest_restart_patch).
 *
 * Builders assume a spec that passed k8s_manifest_check(); they return a
 * new object the caller puts.
 */
#ifndef PROV_K8S_MANIFEST_H
#define PROV_K8S_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

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
#define K8S_KEY_TLS_CERT "tls.crt"
#define K8S_KEY_TLS_KEY "tls.key"
#define K8S_KEY_TLS_CA "ca.crt"
#define K8S_KEY_TLS_PEM "tls.pem"	/* key then certificate (mongod) */
#define K8S_KEY_CM_PEM "tls-combined.pem"	/* cert-manager's CombinedPEM */
#define K8S_TLS_DIR "/etc/dbtree-tls"
#define K8S_TLS_SUFFIX "-tls"	/* cert-manager's Secret: db-<12 hex>-tls */
#define K8S_TLS_NAME_MAX (K8S_NAME_MAX + 4)
#define K8S_ANN_TLS_VERSION "dbtree.io/tls-version"
/* On a Secret that holds dbtree's certificate, what it is, so that a
 * metadata-only list tells which are due without reading any key: */
#define K8S_ANN_TLS_HOST "dbtree.io/tls-host"
#define K8S_ANN_TLS_NOT_AFTER "dbtree.io/tls-not-after"	/* epoch s */
#define K8S_ANN_TLS_CA "dbtree.io/tls-ca"	/* k8s_manifest_ca_version */
#define K8S_CERT_MANAGER_API "cert-manager.io/v1"

/* The settings the objects depend on (borrowed strings). */
struct k8s_manifest_conf {
	const char *ns;
	const char *image_postgres;
	const char *image_redis;
	const char *image_mongodb;
	const char *storage_class;	/* "" = the cluster's default */
	const char *public_host;	/* what the certificates name */
	const char *cert_issuer;	/* cert-manager issuer; NULL or "" =
					 * dbtree issues the certificates */
	const char *cert_issuer_kind;	/* "Issuer" or "ClusterIssuer" */
};

/* One certificate as PEM text, and what it is for (borrowed). */
struct k8s_tls {
	const char *cert;	/* the server certificate (and chain) */
	const char *key;	/* its private key */
	const char *ca;		/* the CA that issued it */
	const char *host;	/* the host it names */
	int64_t not_after;	/* its expiry, seconds since the epoch */
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
/* True when cert-manager issues the certificates (mc->cert_issuer set). */
bool k8s_manifest_uses_cert_manager(const struct k8s_manifest_conf *mc);
/* The name of the Secret whose TLS files the pod mounts into out:
 * db-<12 hex>, or db-<12 hex>-tls with cert-manager.  0 or -1 (bad id). */
int k8s_manifest_tls_secret_name(const struct k8s_manifest_conf *mc,
				 const char *id, char out[K8S_TLS_NAME_MAX]);
/* The Secret with both passwords (base64 per the API) and, when tls is
 * not NULL, the TLS files (tls.crt, tls.key, ca.crt, tls.pem). */
struct json_object *k8s_manifest_secret(const struct k8s_manifest_conf *mc,
					const struct prov_spec *s,
					const char *password,
					const char *root_password,
					const struct k8s_tls *tls);
/* The cert-manager Certificate (mc->cert_issuer set): Secret
 * db-<12 hex>-tls, the public host as dnsNames or ipAddresses, the
 * issuer, CombinedPEM for mongodb; owned by the StatefulSet sts_uid (NULL:
 * no owner reference). */
struct json_object *k8s_manifest_certificate(
	const struct k8s_manifest_conf *mc, const struct prov_spec *s,
	const char *sts_uid);

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
/* A JSON patch that sets the Secret's TLS files and annotations to tls,
 * with the same label test as the password patch.  whole: the Secret has
 * no annotations yet (the patch adds the map; otherwise each key). */
struct json_object *k8s_manifest_tls_patch(const char *id,
					   const struct k8s_tls *tls,
					   bool whole);
/* The expiry the Secret's annotation records (seconds since the epoch),
 * or 0 when it has none. */
time_t k8s_manifest_tls_not_after(struct json_object *secret);
/* True when the Secret secret (an object or its metadata) holds no
 * certificate of dbtree's, or one that does not name host, comes from
 * another CA than ca_version, or expires within margin_s of now: by its
 * annotations. */
bool k8s_manifest_tls_is_due(struct json_object *secret, const char *host,
			     const char *ca_version, time_t now,
			     int64_t margin_s);
/* True when the Secret (object or metadata) says it holds a certificate
 * of dbtree's, due or not. */
bool k8s_manifest_has_tls(struct json_object *secret);
/* A merge patch of the StatefulSet's pod template annotation ann
 * (K8S_ANN_SECRET_VERSION or K8S_ANN_TLS_VERSION) set to version:
 * changing it restarts the pod. */
struct json_object *k8s_manifest_restart_patch(const char *ann,
					       const char *version);
/* The secret version of password: K8S_HASH_LEN hex digits of a hash. */
void k8s_manifest_secret_version(const char *password, char *out);
/* The TLS version of a certificate (PEM text), likewise. */
void k8s_manifest_tls_version(const char *cert_pem, char *out);
/* The version of a CA certificate (PEM text), likewise. */
void k8s_manifest_ca_version(const char *ca_pem, char *out);

/* The pod and container security contexts of every pod dbtree makes
 * (new objects): uid/gid/fsGroup 999, non-root, RuntimeDefault seccomp, no
 * privilege escalation, no capabilities. */
struct json_object *k8s_manifest_pod_security(void);
struct json_object *k8s_manifest_container_security(void);
/* The secret volume "tls" with only ca.crt of instance s's TLS Secret
 * (for pods that connect to the instance). */
struct json_object *k8s_manifest_tls_ca_volume(
	const struct k8s_manifest_conf *mc, const struct prov_spec *s);
/* The labels every object of instance s carries (a new object). */
struct json_object *k8s_manifest_labels(const struct prov_spec *s);

#include "base/banned.h"
#endif
