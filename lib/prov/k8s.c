/*
 * The kubernetes provisioning driver: each instance is a StatefulSet, a
 * NodePort Service, a Secret and a NetworkPolicy named db-<12 hex> in one
 * namespace, and with a cert-manager issuer a Certificate (objects:
 * k8s_manifest.c, dumps: k8s_dump.c; reading them back: k8s_observe.c;
 * the API: net/k8s.c).
 *
 * The Secret's passwords are written only by store_secret: created with
 * the password and a random root password, and on a credentials reset
 * patched (a JSON patch that first tests the instance-id label) with the
 * new password, after which the StatefulSet's pod template annotation
 * dbtree.io/secret-version (a hash of the password) changes, under its
 * own field manager so that apply leaves it alone: the pod restarts and
 * its start script applies the new password.  Its TLS files (without
 * cert-manager) are written by apply and renew_cert, the same way, with
 * dbtree.io/tls-version when a certificate replaces another.
 *
 * apply: the Secret's metadata is listed (by its instance-id label) and,
 * unless it holds a current certificate (k8s_manifest_tls_is_due: none
 * yet, another public host or CA, or within DBTREE_TLS_RENEW_DAYS of
 * expiry), one is issued by the TLS module (prov/tls.h) and patched in,
 * so that the pod finds its files at its first start; then server-side
 * apply of the StatefulSet (its uid comes back), the owner reference on
 * the Secret, the Service (a 422 "provided port is already allocated" is
 * PROV_PORT_TAKEN) and the NetworkPolicy: 5 requests, 6 when a
 * certificate is written.  With cert-manager the Secret is not read and
 * the Certificate (owned by the StatefulSet) is applied instead: 5.  A
 * Certificate deleted by hand comes back at the next apply (observe does
 * not list Certificates).
 *
 * observe: 3 lists by dbtree's label (StatefulSets, Services,
 * NetworkPolicies), and a 4th of the Pods only when some StatefulSet
 * wants a replica and has none ready (a pod's problem is read only
 * then), each read in pages of DBTREE_K8S_PAGE_SIZE objects (net/k8s.h),
 * of which only what observe reads of each object is kept (struct
 * k8s_observe_item, k8s_observe.h): memory grows by about 100 bytes an
 * object and one page, not by the lists' JSON.  list: StatefulSets,
 * Services, NetworkPolicies and Secrets, metadata-only, or only the
 * Secrets right after an observe (whose ids it reuses); volume claims
 * are owned by their StatefulSet and go with it, so they are not listed.
 * A steady reconcile pass (every instance running or stopped) thus makes
 * 4 lists, ceil(objects / page size) requests each; 5 while some
 * instance starts or fails.
 *
 * destroy: the StatefulSet with foreground propagation, then the other
 * objects by name, cert-manager's Secret db-<12 hex>-tls (cert-manager
 * leaves it behind) and the volume claim (the garbage collector deletes
 * it after its StatefulSet too, unless the set predates its retention
 * policy): 6
 * requests (7 with cert-manager), each idempotent.
 *
 * renew_cert (the jobs' certs pass, once per instance): one metadata-only
 * list of dbtree's Secrets serves the whole pass (kept SEEN_FRESH_MS; of
 * each Secret only its name, labels and annotations, page by page), so
 * a pass costs one request plus, per certificate written, a patch of the
 * Secret and one of the StatefulSet (the restart).  With cert-manager it
 * lists Certificates and StatefulSets instead, and restarts a pod whose
 * Certificate has a newer revision than the pod was started with.
 *
 * Dumps (mongodb): dump_start creates the backup claim if missing and
 * creates the Job (k8s_dump.h): 2 requests; dump_poll lists it by its
 * backup-id label: 1.
 *
 * The driver never gets one object by name: the Role
 * (systemd/kubernetes/rbac.yaml) grants list, not get, and Secrets are
 * only ever listed metadata-only, so their data never leaves the API.
 */
#include <json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/rand.h"
#include "base/xalloc.h"
#include "net/k8s.h"
#include "prov/driver.h"
#include "prov/k8s_dump.h"
#include "prov/k8s_manifest.h"
#include "prov/k8s_observe.h"
#include "prov/tls.h"

#define PATH_MAX_LEN 512
#define ROOT_PASSWORD_LEN 32
#define PASSWORD_MIN 8
#define PASSWORD_MAX 128
#define RESTART_MANAGER "dbtree-secret"
#define PORT_TAKEN_TEXT "provided port is already allocated"
#define JSON_PATCH "application/json-patch+json"
#define MERGE_PATCH "application/merge-patch+json"
#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* Objects of one kind listed once for a pass, indexed by name. */
struct name_cache {
	struct json_object *by_name;
	int64_t at_ms;
};

struct k8s_drv {
	struct k8s *api;
	struct k8s_manifest_conf mc;	/* strings below */
	char *ns, *img_pg, *img_redis, *img_mongo, *storage_class;
	char *public_host, *issuer, *issuer_kind;
	char *tls_dir;			/* the CA (prov/tls.h) */
	int64_t cert_days, renew_s;
	char *ca_pem;			/* read at first use */
	char ca_version[K8S_HASH_LEN + 1];
	/* ids of the StatefulSets, Services and NetworkPolicies the last
	 * observe listed, so that a list() in the same reconcile pass needs
	 * only the Secrets' pages more */
	struct json_object *seen;
	int64_t seen_at_ms;
	/* one certs pass's lists, by object name (renew_cert) */
	struct name_cache secrets, certs, sts;
};

#define SEEN_FRESH_MS 5000
/* How long a list() after an observe reuses its ids: the rest of a
 * reconcile pass, which at 10,000 instances outlasts SEEN_FRESH_MS.  An
 * id gone since is only looked up again (a live row's is skipped). */
#define SEEN_PASS_MS 120000
enum { TLS_RENEWED = PROV_RENEWED };	/* tls_refresh wrote one */

enum kind { STS, SVC, SECRET, NETPOL, POD, PVC, CERT, JOB };

static const struct {
	const char *group;	/* API prefix */
	const char *resource;
} kinds[] = {
	[STS] = { "/apis/apps/v1", "statefulsets" },
	[SVC] = { "/api/v1", "services" },
	[SECRET] = { "/api/v1", "secrets" },
	[NETPOL] = { "/apis/networking.k8s.io/v1", "networkpolicies" },
	[POD] = { "/api/v1", "pods" },
	[PVC] = { "/api/v1", "persistentvolumeclaims" },
	[CERT] = { "/apis/" K8S_CERT_MANAGER_API, "certificates" },
	[JOB] = { "/apis/batch/v1", "jobs" },
};

/* The URL path of an object of kind (or of the collection: name NULL). */
static void
path_of(const struct k8s_drv *d, enum kind k, const char *name, char *out)
{
	snprintf(out, PATH_MAX_LEN, "%s/namespaces/%s/%s%s%s", kinds[k].group,
	    d->ns, kinds[k].resource, name ? "/" : "", name ? name : "");
}

static void
op_close(void *self)
{
	struct k8s_drv *d = self;

	if (!d)
		return;
	k8s_free(d->api);
	json_object_put(d->seen);
	json_object_put(d->secrets.by_name);
	json_object_put(d->certs.by_name);
	json_object_put(d->sts.by_name);
	free(d->ns);
	free(d->img_pg);
	free(d->img_redis);
	free(d->img_mongo);
	free(d->storage_class);
	free(d->public_host);
	free(d->issuer);
	free(d->issuer_kind);
	free(d->tls_dir);
	free(d->ca_pem);
	free(d);
}

/* A DNS label: what a namespace name must be. */
static bool
is_dns_label(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 63 && s[0] != '-' && s[n - 1] != '-' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* A DNS subdomain: what an issuer's name must be. */
static bool
is_dns_subdomain(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 253 && strchr("-.", s[0]) == NULL &&
	    strchr("-.", s[n - 1]) == NULL &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == n;
}

static int
check_conf(const struct conf *c)
{
	if (!is_dns_label(c->k8s_namespace))
		return fail("k8s namespace '%s' is not a valid name",
		    c->k8s_namespace);
	if (*c->k8s_cert_issuer && !is_dns_subdomain(c->k8s_cert_issuer))
		return fail("k8s cert issuer '%s' is not a valid name",
		    c->k8s_cert_issuer);
	return 0;
}

void *
prov_k8s_open(const struct conf *c)
{
	struct k8s_conf kc = { c->k8s_api, c->k8s_token_file, c->k8s_ca_file,
		c->k8s_client_cert, c->k8s_client_key, c->k8s_timeout_ms,
		c->k8s_page_size };
	struct k8s_drv *d;
	char dir[4096];

	if (check_conf(c) < 0 || tls_dir(c, dir, sizeof(dir)) < 0)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	d->ns = xstrdup(c->k8s_namespace);
	d->img_pg = xstrdup(c->k8s_image_postgres);
	d->img_redis = xstrdup(c->k8s_image_redis);
	d->img_mongo = xstrdup(c->k8s_image_mongodb);
	d->storage_class = xstrdup(c->k8s_storage_class);
	d->public_host = xstrdup(c->public_db_host);
	d->issuer = xstrdup(c->k8s_cert_issuer);
	d->issuer_kind = xstrdup(c->k8s_cert_issuer_kind);
	d->tls_dir = xstrdup(dir);
	d->cert_days = c->tls_cert_days;
	d->renew_s = c->tls_renew_days * 86400;
	d->mc = (struct k8s_manifest_conf){ d->ns, d->img_pg, d->img_redis,
		d->img_mongo, d->storage_class, d->public_host, d->issuer,
		d->issuer_kind };
	if (!(d->api = k8s_new(&kc))) {
		op_close(d);
		return NULL;
	}
	log_info("kubernetes driver: namespace '%s' at %s", d->ns,
	    c->k8s_api[0] ? c->k8s_api : K8S_IN_CLUSTER_API);
	return d;
}

static bool
op_supports(void *self, const char *type)
{
	(void)self;
	return k8s_manifest_engine_port(type) != 0;
}

static int
check_spec(const struct prov_spec *s)
{
	char why[256];

	if (k8s_manifest_check(s, why, sizeof(why)) < 0)
		return fail("instance %s: %s", s->id ? s->id : "", why);
	return 0;
}

static bool
is_password(const char *p)
{
	size_t n = p ? strlen(p) : 0;

	if (n < PASSWORD_MIN || n > PASSWORD_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] >= 0x7f)
			return false;
	return true;
}

/* Creates the Secret with password and a new root password. */
static int
secret_create(struct k8s_drv *d, const struct prov_spec *s,
	      const char *password)
{
	char root[ROOT_PASSWORD_LEN + 1], path[PATH_MAX_LEN];
	struct json_object *o;
	int ret;

	rand_string(root, ROOT_PASSWORD_LEN, ALNUM);
	o = k8s_manifest_secret(&d->mc, s, password, root, NULL);
	explicit_bzero(root, sizeof(root));
	path_of(d, SECRET, NULL, path);
	ret = k8s_create(d->api, path, o);
	json_object_put(o);
	return ret;
}

/* Sets the password of an existing Secret: 0, K8S_NOT_FOUND,
 * K8S_INVALID (the label test failed) or -1. */
static int
secret_patch(struct k8s_drv *d, const struct prov_spec *s, const char *name,
	     const char *password)
{
	char path[PATH_MAX_LEN];
	struct json_object *p = k8s_manifest_password_patch(s->id, password);
	int ret;

	path_of(d, SECRET, name, path);
	ret = k8s_patch(d->api, path, JSON_PATCH, K8S_MANAGER, p);
	json_object_put(p);
	return ret;
}

/* Restarts the pod, if there is one, with annotation ann set to version. */
static int
restart_with(struct k8s_drv *d, const char *name, const char *ann,
	     const char *version)
{
	char path[PATH_MAX_LEN];
	struct json_object *p = k8s_manifest_restart_patch(ann, version);
	int ret;

	path_of(d, STS, name, path);
	ret = k8s_patch(d->api, path, MERGE_PATCH, RESTART_MANAGER, p);
	json_object_put(p);
	if (ret == K8S_INVALID)
		return fail("statefulset %s: restart patch refused", name);
	return ret == K8S_NOT_FOUND ? 0 : ret;
}

/* Restarts the pod, if there is one, so that it applies password. */
static int
restart_for(struct k8s_drv *d, const char *name, const char *password)
{
	char version[K8S_HASH_LEN + 1];

	k8s_manifest_secret_version(password, version);
	return restart_with(d, name, K8S_ANN_SECRET_VERSION, version);
}

static int
op_store_secret(void *self, const struct prov_spec *spec,
		const char *password)
{
	struct k8s_drv *d = self;
	char name[K8S_NAME_MAX];
	int ret;

	if (check_spec(spec) < 0)
		return -1;
	if (!is_password(password))
		return fail("instance %s: a password must be 8 to 128"
		    " printable characters without spaces", spec->id);
	k8s_manifest_name(spec->id, name);
	ret = secret_patch(d, spec, name, password);
	if (ret == 0)
		ret = restart_for(d, name, password);
	else if (ret == K8S_NOT_FOUND &&
	    (ret = secret_create(d, spec, password)) == K8S_EXISTS)
		ret = secret_patch(d, spec, name, password);
	if (ret == K8S_INVALID || ret == K8S_NOT_FOUND)
		return fail("instance %s: secret %s could not be written (it"
		    " may belong to another instance)", spec->id, name);
	if (ret == 0)
		log_info("instance %s: secret stored", spec->id);
	return ret;
}

/* The CA certificate and its version, read once. */
static int
ca_load(struct k8s_drv *d)
{
	if (d->ca_pem)
		return 0;
	if (!(d->ca_pem = tls_ca_pem(d->tls_dir)))
		return -1;
	k8s_manifest_ca_version(d->ca_pem, d->ca_version);
	return 0;
}

/* Writes pair (issued for the public host) into the Secret name whose
 * metadata is meta. */
static int
tls_write(struct k8s_drv *d, const struct prov_spec *s, const char *name,
	  struct json_object *meta, const struct tls_pair *pair)
{
	struct k8s_tls t = { pair->cert_pem, pair->key_pem, d->ca_pem,
		d->public_host, 0 };
	char path[PATH_MAX_LEN];
	struct json_object *p, *ann = NULL, *m;
	time_t not_after;
	int ret;

	if (tls_cert_expiry(pair->cert_pem, &not_after) < 0)
		return -1;
	t.not_after = not_after;
	if (json_object_object_get_ex(meta, "metadata", &m))
		meta = m;
	json_object_object_get_ex(meta, "annotations", &ann);
	p = k8s_manifest_tls_patch(s->id, &t, ann == NULL);
	path_of(d, SECRET, name, path);
	ret = k8s_patch(d->api, path, JSON_PATCH, K8S_MANAGER, p);
	json_object_put(p);
	if (ret == K8S_INVALID || ret == K8S_NOT_FOUND)
		return fail("instance %s: secret %s could not take the"
		    " certificate (it may belong to another instance)", s->id,
		    name);
	return ret;
}

/* Gives the Secret name (secret: the object or its metadata) a new
 * certificate when it has none or its own is due within margin_s; one
 * that replaces another restarts the pod.  0 (nothing to do),
 * TLS_RENEWED, or -1. */
static int
tls_refresh(struct k8s_drv *d, const struct prov_spec *s, const char *name,
	    struct json_object *secret, int64_t margin_s)
{
	struct tls_pair pair = { NULL, NULL };
	char version[K8S_HASH_LEN + 1];
	bool had = k8s_manifest_has_tls(secret);
	int ret = -1;

	if (ca_load(d) < 0)
		return -1;
	if (!k8s_manifest_tls_is_due(secret, d->public_host, d->ca_version,
	    clock_now(), margin_s))
		return 0;
	if (tls_issue(d->tls_dir, d->public_host, d->cert_days, &pair) < 0)
		return -1;
	if (tls_write(d, s, name, secret, &pair) < 0)
		goto out;
	k8s_manifest_tls_version(pair.cert_pem, version);
	if (had && restart_with(d, name, K8S_ANN_TLS_VERSION, version) < 0)
		goto out;
	log_info("instance %s: certificate %s", s->id, had ? "renewed" :
	    "issued");
	ret = TLS_RENEWED;
out:
	tls_pair_release(&pair);
	return ret;
}

/* The item named name of the array items (borrowed), or NULL. */
static struct json_object *
item_named(struct json_object *items, const char *name)
{
	size_t n = json_object_array_length(items);

	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		struct json_object *v;

		if (json_object_object_get_ex(it, "metadata", &v) &&
		    json_object_object_get_ex(v, "name", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), name) == 0)
			return it;
	}
	return NULL;
}

/* Lists kind with instance (or backup) label selector sel into *items:
 * the Role allows list, not get, on Secrets (k8s_list's metadata_only
 * keeps their data in the API). */
static int
list_by(struct k8s_drv *d, enum kind k, const char *sel, bool meta,
	struct json_object **items)
{
	char path[PATH_MAX_LEN];

	path_of(d, k, NULL, path);
	return k8s_list(d->api, path, sel, meta, items);
}

/* Before the StatefulSet: the Secret holds a current certificate of
 * dbtree's (unless cert-manager issues them).  Its metadata only. */
static int
ensure_tls(struct k8s_drv *d, const struct prov_spec *s, const char *name)
{
	char sel[128];
	struct json_object *items = NULL, *secret;
	int ret = -1;

	if (k8s_manifest_uses_cert_manager(&d->mc))
		return 0;
	if (k8s_manifest_id_selector(s->id, sel, sizeof(sel)) < 0 ||
	    list_by(d, SECRET, sel, true, &items) < 0)
		return -1;
	if (!(secret = item_named(items, name)))
		log_err("instance %s: no secret stored for it", s->id);
	else
		ret = tls_refresh(d, s, name, secret, d->renew_s) < 0 ? -1 : 0;
	json_object_put(items);
	return ret;
}

/* Applies the StatefulSet; *uid gets its uid (to free). */
static int
apply_sts(struct k8s_drv *d, const struct prov_spec *s, const char *name,
	  char **uid)
{
	char path[PATH_MAX_LEN], why[K8S_MESSAGE_MAX];
	struct json_object *o = k8s_manifest_statefulset(&d->mc, s), *ans;
	struct json_object *u;
	int ret;

	*uid = NULL;
	path_of(d, STS, name, path);
	ret = k8s_apply(d->api, path, o, &ans, why, sizeof(why));
	json_object_put(o);
	if (ret == K8S_INVALID)
		return fail("instance %s: statefulset refused: %s", s->id, why);
	if (ret < 0)
		return -1;
	if (json_object_object_get_ex(ans, "metadata", &u) &&
	    json_object_object_get_ex(u, "uid", &u) &&
	    json_object_is_type(u, json_type_string))
		*uid = xstrdup(json_object_get_string(u));
	json_object_put(ans);
	return *uid ? 0 : fail("instance %s: statefulset has no uid", s->id);
}

static int
own_secret(struct k8s_drv *d, const struct prov_spec *s, const char *name,
	   const char *uid)
{
	char path[PATH_MAX_LEN];
	struct json_object *p = k8s_manifest_owner_patch(s->id, name, uid);
	int ret;

	path_of(d, SECRET, name, path);
	ret = k8s_patch(d->api, path, JSON_PATCH, K8S_MANAGER, p);
	json_object_put(p);
	if (ret == K8S_NOT_FOUND)
		return fail("instance %s: no secret stored for it", s->id);
	if (ret == K8S_INVALID)
		return fail("instance %s: secret %s belongs to another"
		    " instance", s->id, name);
	return ret;
}

/* Applies the Service: 0, PROV_PORT_TAKEN or -1. */
static int
apply_svc(struct k8s_drv *d, const struct prov_spec *s, const char *name,
	  const char *uid)
{
	char path[PATH_MAX_LEN], why[K8S_MESSAGE_MAX];
	struct json_object *o = k8s_manifest_service(&d->mc, s, uid);
	int ret;

	path_of(d, SVC, name, path);
	ret = k8s_apply(d->api, path, o, NULL, why, sizeof(why));
	json_object_put(o);
	if (ret == K8S_INVALID && strstr(why, PORT_TAKEN_TEXT)) {
		log_warn("instance %s: node port %d is taken", s->id, s->port);
		return PROV_PORT_TAKEN;
	}
	if (ret == K8S_INVALID)
		return fail("instance %s: service refused: %s", s->id, why);
	return ret;
}

static int
apply_netpol(struct k8s_drv *d, const struct prov_spec *s, const char *name,
	     const char *uid)
{
	char path[PATH_MAX_LEN], why[K8S_MESSAGE_MAX];
	struct json_object *o = k8s_manifest_networkpolicy(&d->mc, s, uid);
	int ret;

	path_of(d, NETPOL, name, path);
	ret = k8s_apply(d->api, path, o, NULL, why, sizeof(why));
	json_object_put(o);
	if (ret == K8S_INVALID)
		return fail("instance %s: network policy refused: %s", s->id,
		    why);
	return ret;
}

/* cert-manager's Certificate, owned by the StatefulSet uid. */
static int
apply_cert(struct k8s_drv *d, const struct prov_spec *s, const char *name,
	   const char *uid)
{
	char path[PATH_MAX_LEN], why[K8S_MESSAGE_MAX];
	struct json_object *o = k8s_manifest_certificate(&d->mc, s, uid);
	int ret;

	path_of(d, CERT, name, path);
	ret = k8s_apply(d->api, path, o, NULL, why, sizeof(why));
	json_object_put(o);
	if (ret == K8S_INVALID)
		return fail("instance %s: certificate refused: %s", s->id, why);
	return ret;
}

static int
op_apply(void *self, const struct prov_spec *spec)
{
	struct k8s_drv *d = self;
	char name[K8S_NAME_MAX];
	char *uid = NULL;
	int ret;

	if (check_spec(spec) < 0)
		return -1;
	k8s_manifest_name(spec->id, name);
	ret = ensure_tls(d, spec, name);
	if (ret == 0)
		ret = apply_sts(d, spec, name, &uid);
	if (ret == 0 && k8s_manifest_uses_cert_manager(&d->mc))
		ret = apply_cert(d, spec, name, uid);
	if (ret == 0)
		ret = own_secret(d, spec, name, uid);
	if (ret == 0)
		ret = apply_svc(d, spec, name, uid);
	if (ret == 0)
		ret = apply_netpol(d, spec, name, uid);
	free(uid);
	if (ret == 0)
		log_info("instance %s: applied (%s)", spec->id,
		    spec->running ? "running" : "stopped");
	return ret;
}

static int
keep_item(void *arg, struct json_object *item)
{
	k8s_observe_keep(arg, item);
	return 0;
}

static void
forget_items(void *arg)
{
	k8s_observe_clear(arg);
}

/* Lists kind with dbtree's label into l (cleared first), keeping what
 * observe reads of each object, sorted by id: 0 or -1 (logged). */
static int
list_kept(struct k8s_drv *d, enum kind k, bool meta,
	  struct k8s_observe_list *l)
{
	struct k8s_lister lister = { keep_item, forget_items, l };
	char path[PATH_MAX_LEN];

	k8s_observe_clear(l);
	path_of(d, k, NULL, path);
	if (k8s_list_each(d->api, path, K8S_SELECTOR, meta, &lister) < 0)
		return -1;
	k8s_observe_sort(l);
	return 0;
}

static int
op_observe(void *self, const struct prov_spec *specs, size_t n, bool detail,
	   struct prov_observation *out)
{
	struct k8s_drv *d = self;
	struct k8s_observe_index ix;
	time_t now = clock_now();
	int ret = -1;

	(void)detail;	/* no live figures from here: they stay -1 */
	memset(&ix, 0, sizeof(ix));
	if (list_kept(d, STS, false, &ix.sts) < 0 ||
	    list_kept(d, SVC, false, &ix.svc) < 0 ||
	    list_kept(d, NETPOL, true, &ix.np) < 0)
		goto out;
	if (k8s_observe_needs_pods(&ix.sts) &&
	    list_kept(d, POD, false, &ix.pods) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		k8s_observe_one(&d->mc, &specs[i], &ix, now, &out[i]);
	json_object_put(d->seen);
	d->seen = json_object_new_object();
	k8s_observe_ids(&ix.sts, d->seen);
	k8s_observe_ids(&ix.svc, d->seen);
	k8s_observe_ids(&ix.np, d->seen);
	d->seen_at_ms = clock_mono_ms();
	ret = 0;
out:
	k8s_observe_index_release(&ix);
	return ret;
}

static int
delete_one(struct k8s_drv *d, enum kind k, const char *name,
	   const char *propagation)
{
	char path[PATH_MAX_LEN];

	path_of(d, k, name, path);
	return k8s_delete(d->api, path, propagation);
}

static int
op_destroy(void *self, const char *id)
{
	struct k8s_drv *d = self;
	char name[K8S_NAME_MAX], claim[K8S_NAME_MAX + 16];
	char tls[K8S_TLS_NAME_MAX];
	int ret = 0;

	if (k8s_manifest_name(id, name) < 0)
		return fail("instance %s: not a valid instance id", id);
	snprintf(claim, sizeof(claim), "data-%s-0", name);
	snprintf(tls, sizeof(tls), "%s" K8S_TLS_SUFFIX, name);
	/* every step runs, so that one failure leaves as little as can be */
	ret |= delete_one(d, STS, name, "Foreground");
	ret |= delete_one(d, SVC, name, NULL);
	ret |= delete_one(d, NETPOL, name, NULL);
	ret |= delete_one(d, SECRET, name, NULL);
	if (k8s_manifest_uses_cert_manager(&d->mc))
		ret |= delete_one(d, CERT, name, NULL);
	/* also without an issuer now: one may have been configured before */
	ret |= delete_one(d, SECRET, tls, NULL);
	ret |= delete_one(d, PVC, claim, NULL);
	if (ret != 0)
		return -1;
	log_info("instance %s: destroyed", id);
	return 0;
}

static void
copy_ids(struct json_object *from, struct json_object *to)
{
	json_object_object_foreach(from, id, v) {
		(void)v;
		json_object_object_add(to, id, NULL);
	}
}

static int
op_list(void *self, char ***ids, size_t *n)
{
	/* the first 3 are observe's (seen); claims are owned by their
	 * StatefulSet (k8s_manifest.c), so none outlives it unlisted */
	static const enum kind all[] = { STS, SVC, NETPOL, SECRET };
	struct k8s_drv *d = self;
	struct json_object *set = json_object_new_object();
	struct k8s_observe_list l = { NULL, 0, 0, false };
	bool fresh = d->seen && clock_mono_ms() - d->seen_at_ms < SEEN_PASS_MS;
	size_t cap, first = fresh ? 3 : 0;
	int ret = 0;

	*ids = NULL;
	*n = 0;
	if (fresh)
		copy_ids(d->seen, set);
	for (size_t i = first; ret == 0 && i < ARRAY_LEN(all); i++) {
		ret = list_kept(d, all[i], true, &l);
		if (ret == 0)
			k8s_observe_ids(&l, set);
	}
	k8s_observe_list_release(&l);
	if (ret < 0) {
		json_object_put(set);
		return -1;
	}
	cap = (size_t)json_object_object_length(set);
	*ids = xcalloc(cap ? cap : 1, sizeof(**ids));
	json_object_object_foreach(set, id, v) {
		(void)v;
		(*ids)[(*n)++] = xstrdup(id);
	}
	json_object_put(set);
	return 0;
}

/* Listers into a name_cache's by_name (arg: the cache). */
static int
keep_named(void *arg, struct json_object *item)
{
	struct name_cache *c = arg;

	k8s_observe_name_keep(c->by_name, item);
	return 0;
}

static void
forget_named(void *arg)
{
	struct name_cache *c = arg;

	json_object_put(c->by_name);
	c->by_name = json_object_new_object();
}

/* The item of kind called name (only what renew_cert reads of it:
 * k8s_observe_name_keep), from a list made at most SEEN_FRESH_MS
 * ago (borrowed; NULL when there is none), or -1 when listing failed. */
static int
cached(struct k8s_drv *d, struct name_cache *c, enum kind k, bool meta,
       const char *name, struct json_object **item)
{
	struct k8s_lister lister = { keep_named, forget_named, NULL };
	char path[PATH_MAX_LEN];

	*item = NULL;
	if (!c->by_name || clock_mono_ms() - c->at_ms >= SEEN_FRESH_MS) {
		forget_named(c);
		lister.arg = c;
		path_of(d, k, NULL, path);
		if (k8s_list_each(d->api, path, K8S_SELECTOR, meta,
		    &lister) < 0) {
			json_object_put(c->by_name);
			c->by_name = NULL;
			return -1;
		}
		c->at_ms = clock_mono_ms();
	}
	json_object_object_get_ex(c->by_name, name, item);
	return 0;
}

/* cert-manager renews by itself; a pod older than its Certificate's
 * revision is restarted. */
static int
roll_for_revision(struct k8s_drv *d, const struct prov_spec *s,
		  const char *name)
{
	struct json_object *cert, *sts;
	char version[32];

	if (cached(d, &d->certs, CERT, false, name, &cert) < 0 ||
	    cached(d, &d->sts, STS, false, name, &sts) < 0)
		return -1;
	if (!k8s_observe_tls_roll(cert, sts, version, sizeof(version)))
		return 0;
	if (restart_with(d, name, K8S_ANN_TLS_VERSION, version) < 0)
		return -1;
	json_object_object_del(d->sts.by_name, name);
	log_info("instance %s: restarted for certificate revision %s", s->id,
	    version);
	return PROV_RENEWED;
}

static int
op_renew_cert(void *self, const struct prov_spec *spec, int64_t margin_s,
	      time_t *not_after)
{
	struct k8s_drv *d = self;
	char name[K8S_NAME_MAX];
	struct json_object *secret;
	int ret;

	*not_after = 0;
	if (check_spec(spec) < 0)
		return -1;
	k8s_manifest_name(spec->id, name);
	if (k8s_manifest_uses_cert_manager(&d->mc))
		return roll_for_revision(d, spec, name);
	if (cached(d, &d->secrets, SECRET, true, name, &secret) < 0)
		return -1;
	if (!secret || !k8s_observe_is_instance(secret, spec->id))
		return 0;	/* not created yet: apply will issue it */
	ret = tls_refresh(d, spec, name, secret, margin_s);
	if (ret == 0)
		*not_after = k8s_manifest_tls_not_after(secret);
	if (ret != TLS_RENEWED)
		return ret;
	json_object_object_del(d->secrets.by_name, name);
	return PROV_RENEWED;
}

static bool
op_supports_dump(void *self, const char *type)
{
	(void)self;
	return type && strcmp(type, "mongodb") == 0;
}

/* The backup claim, created if missing (an existing one is kept as is). */
static int
ensure_backup_claim(struct k8s_drv *d, const struct prov_spec *s)
{
	char path[PATH_MAX_LEN];
	struct json_object *o = k8s_dump_claim(&d->mc, s);
	int ret;

	path_of(d, PVC, NULL, path);
	ret = k8s_create(d->api, path, o);
	json_object_put(o);
	if (ret == K8S_INVALID)
		return fail("claim %s refused", K8S_BACKUP_CLAIM);
	return ret == K8S_EXISTS ? 0 : ret;
}

/* Creates the dump Job; one that exists already is left alone. */
static int
op_dump_start(void *self, const struct prov_spec *spec, const char *bid)
{
	struct k8s_drv *d = self;
	char name[K8S_DUMP_NAME_MAX], path[PATH_MAX_LEN];
	struct json_object *job;
	int ret;

	if (check_spec(spec) < 0)
		return -1;
	if (k8s_dump_name(bid, name) < 0)
		return fail("backup '%s': not a valid backup id", bid);
	if (ensure_backup_claim(d, spec) < 0)
		return -1;
	job = k8s_dump_job(&d->mc, spec, bid);
	path_of(d, JOB, NULL, path);
	ret = k8s_create(d->api, path, job);
	json_object_put(job);
	if (ret == K8S_INVALID)
		return fail("backup %s: job %s refused", bid, name);
	if (ret == 0)
		log_info("instance %s: dump %s started", spec->id, bid);
	return ret == K8S_EXISTS ? 0 : ret;
}

/* The Job of dump bid, listed by its backup-id label (the Role has no
 * get on Jobs either). */
static int
op_dump_poll(void *self, const char *bid, enum prov_dump_state *state,
	     char *reason)
{
	struct k8s_drv *d = self;
	char name[K8S_DUMP_NAME_MAX], sel[128];
	struct json_object *items = NULL, *job;

	if (k8s_dump_name(bid, name) < 0)
		return fail("backup '%s': not a valid backup id", bid);
	snprintf(sel, sizeof(sel), K8S_LABEL_BACKUP "=%s", bid);
	if (list_by(d, JOB, sel, false, &items) < 0)
		return -1;
	if ((job = item_named(items, name)))
		*state = k8s_dump_state(job, reason, PROV_REASON_LEN);
	else
		*state = PROV_DUMP_GONE;
	json_object_put(items);
	return 0;
}

/* The base64 text of key in the Secret's data, decoded into out. */
static int
secret_value(struct json_object *secret, const char *key, char *out,
	     size_t size)
{
	struct json_object *data, *v;
	const char *text;
	unsigned char raw[PROV_SECRET_MAX];
	size_t len;
	int n;

	if (!json_object_object_get_ex(secret, "data", &data) ||
	    !json_object_object_get_ex(data, key, &v) ||
	    !(text = json_object_get_string(v)) ||
	    (len = strlen(text)) == 0 || len % 4 || len / 4 * 3 > sizeof(raw))
		return -1;
	n = EVP_DecodeBlock(raw, (const unsigned char *)text, (int)len);
	if (n < 0)
		return -1;
	n -= (text[len - 1] == '=') + (text[len - 2] == '=');
	if (n <= 0 || (size_t)n >= size) {
		explicit_bzero(raw, sizeof(raw));
		return -1;
	}
	memcpy(out, raw, (size_t)n);
	out[n] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

/* The engine's own superuser, from the instance's Secret (a labelled list:
 * the Role has list on Secrets, not get), reached on the public host and
 * the instance's node port, over TLS checked against the CA. */
static int
op_admin(void *self, const struct prov_spec *spec, struct prov_admin *out)
{
	struct k8s_drv *d = self;
	char sel[128], name[K8S_NAME_MAX];
	struct json_object *items = NULL, *secret;
	int ret = -1;

	if (check_spec(spec) < 0 || strcmp(spec->type, "mongodb") == 0)
		return fail("instance %s: no admin connection for %s", spec->id,
		    spec->type);
	k8s_manifest_name(spec->id, name);
	if (k8s_manifest_id_selector(spec->id, sel, sizeof(sel)) < 0 ||
	    list_by(d, SECRET, sel, false, &items) < 0)
		return -1;
	if (!(secret = item_named(items, name)) ||
	    secret_value(secret, K8S_KEY_ROOT, out->password,
	    sizeof(out->password)) < 0)
		log_err("instance %s: no root password in its secret", spec->id);
	else
		ret = 0;
	json_object_put(items);
	snprintf(out->host, sizeof(out->host), "%s", d->public_host);
	out->port = spec->port;
	snprintf(out->user, sizeof(out->user), "%s",
	    strcmp(spec->type, "postgres") == 0 ? "postgres" : "default");
	out->tls = true;
	snprintf(out->ca_file, sizeof(out->ca_file), "%s/ca.pem", d->tls_dir);
	return ret;
}

const struct prov_ops prov_k8s_ops = {
	.name = "kubernetes",
	.close = op_close,
	.supports = op_supports,
	.store_secret = op_store_secret,
	.apply = op_apply,
	.observe = op_observe,
	.destroy = op_destroy,
	.list = op_list,
	.renew_cert = op_renew_cert,
	.supports_dump = op_supports_dump,
	.dump_start = op_dump_start,
	.dump_poll = op_dump_poll,
	.admin = op_admin,
};
