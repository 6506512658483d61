/*
 * The dump Job of a mongodb instance and the reading of a Job's status
 * (see k8s_dump.h).  Nothing here does I/O.
 *
 * The script runs under sh -c with the Service host, port and archive
 * path as its arguments.  The root password is the driver's (letters and
 * digits only, k8s.c), so it is a valid single-quoted YAML scalar as it
 * is.
 */
#include <json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "prov/k8s_dump.h"
#include "prov/k8s_manifest.h"

#define ROOT_USER "dbtree_root"
#define DUMP_CONFIG "/tmp/dbtree-dump.yaml"
#define MONGO_PORT "27017"

static const char dump_script[] =
	"set -eu\n"
	"umask 077\n"
	"printf \"password: '%s'\\n\" \"$DBTREE_ROOT_PASSWORD\" >"
	DUMP_CONFIG "\n"
	"mongodump --config=" DUMP_CONFIG " --host=\"$1\""
	" --port=\"$2\" --username=" ROOT_USER
	" --authenticationDatabase=admin --ssl"
	" --sslCAFile=" K8S_TLS_DIR "/" K8S_KEY_TLS_CA
	" --sslAllowInvalidHostnames --gzip --archive=\"$3.part\"\n"
	"mv \"$3.part\" \"$3\"\n";

static struct json_object *
str(const char *s)
{
	return json_object_new_string(s);
}

static void
put(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static struct json_object *
obj(void)
{
	return json_object_new_object();
}

bool
k8s_dump_id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	return n >= 1 && n <= K8S_BACKUP_ID_MAX && id[0] != '-' &&
	    id[n - 1] != '-' &&
	    strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int
k8s_dump_name(const char *backup_id, char out[K8S_DUMP_NAME_MAX])
{
	out[0] = '\0';
	if (!k8s_dump_id_ok(backup_id))
		return -1;
	snprintf(out, K8S_DUMP_NAME_MAX, K8S_DUMP_PREFIX "%s", backup_id);
	return 0;
}

static struct json_object *
metadata(const struct k8s_manifest_conf *mc, const char *name,
	 struct json_object *labels)
{
	struct json_object *m = obj();

	put(m, "name", str(name));
	put(m, "namespace", str(mc->ns));
	put(m, "labels", labels);
	return m;
}

/* The pod's labels: never the instance-id (see k8s_dump.h). */
static struct json_object *
pod_labels(const char *backup_id)
{
	struct json_object *l = obj();

	put(l, K8S_LABEL_MANAGED, str(K8S_MANAGER));
	put(l, K8S_LABEL_BACKUP, str(backup_id));
	return l;
}

static struct json_object *
args(const struct k8s_manifest_conf *mc, const struct prov_spec *s,
     const char *backup_id)
{
	struct json_object *a = json_object_new_array();
	char name[K8S_NAME_MAX], host[128], archive[128];

	k8s_manifest_name(s->id, name);
	snprintf(host, sizeof(host), "%s.%s.svc", name, mc->ns);
	snprintf(archive, sizeof(archive), K8S_BACKUP_DIR "/%s.archive",
	    backup_id);
	json_object_array_add(a, str("dbtree-dump"));	/* $0 */
	json_object_array_add(a, str(host));
	json_object_array_add(a, str(MONGO_PORT));
	json_object_array_add(a, str(archive));
	return a;
}

static struct json_object *
env(const struct prov_spec *s)
{
	struct json_object *a = json_object_new_array(), *pw = obj();
	struct json_object *from = obj(), *ref = obj(), *home = obj();
	char name[K8S_NAME_MAX];

	k8s_manifest_name(s->id, name);
	put(ref, "name", str(name));
	put(ref, "key", str(K8S_KEY_ROOT));
	put(from, "secretKeyRef", ref);
	put(pw, "name", str("DBTREE_ROOT_PASSWORD"));
	put(pw, "valueFrom", from);
	json_object_array_add(a, pw);
	put(home, "name", str("HOME"));
	put(home, "value", str("/tmp"));
	json_object_array_add(a, home);
	return a;
}

static struct json_object *
resources(void)
{
	struct json_object *r = obj(), *req = obj(), *lim = obj();

	put(req, "cpu", str("100m"));
	put(req, "memory", str("256Mi"));
	put(lim, "cpu", str("1"));
	put(lim, "memory", str("512Mi"));
	put(r, "requests", req);
	put(r, "limits", lim);
	return r;
}

static struct json_object *
mount(const char *name, const char *path, bool ro)
{
	struct json_object *m = obj();

	put(m, "name", str(name));
	put(m, "mountPath", str(path));
	if (ro)
		put(m, "readOnly", json_object_new_boolean(1));
	return m;
}

static struct json_object *
container(const struct k8s_manifest_conf *mc, const struct prov_spec *s,
	  const char *backup_id)
{
	struct json_object *c = obj(), *cmd = json_object_new_array();
	struct json_object *mounts = json_object_new_array();

	json_object_array_add(cmd, str("sh"));
	json_object_array_add(cmd, str("-c"));
	json_object_array_add(cmd, str(dump_script));
	json_object_array_add(mounts, mount("backup", K8S_BACKUP_DIR, false));
	json_object_array_add(mounts, mount("tls", K8S_TLS_DIR, true));
	put(c, "name", str("dump"));
	put(c, "image", str(k8s_manifest_image(mc, s->type)));
	put(c, "imagePullPolicy", str("IfNotPresent"));
	put(c, "command", cmd);
	put(c, "args", args(mc, s, backup_id));
	put(c, "env", env(s));
	put(c, "resources", resources());
	put(c, "volumeMounts", mounts);
	put(c, "securityContext", k8s_manifest_container_security());
	return c;
}

static struct json_object *
volumes(const struct k8s_manifest_conf *mc, const struct prov_spec *s)
{
	struct json_object *a = json_object_new_array(), *v = obj();
	struct json_object *pvc = obj();

	put(pvc, "claimName", str(K8S_BACKUP_CLAIM));
	put(v, "name", str("backup"));
	put(v, "persistentVolumeClaim", pvc);
	json_object_array_add(a, v);
	json_object_array_add(a, k8s_manifest_tls_ca_volume(mc, s));
	return a;
}

static struct json_object *
pod_template(const struct k8s_manifest_conf *mc, const struct prov_spec *s,
	     const char *backup_id)
{
	struct json_object *t = obj(), *m = obj(), *spec = obj();
	struct json_object *cs = json_object_new_array();

	put(m, "labels", pod_labels(backup_id));
	put(t, "metadata", m);
	put(spec, "restartPolicy", str("Never"));
	put(spec, "automountServiceAccountToken", json_object_new_boolean(0));
	put(spec, "enableServiceLinks", json_object_new_boolean(0));
	put(spec, "securityContext", k8s_manifest_pod_security());
	json_object_array_add(cs, container(mc, s, backup_id));
	put(spec, "containers", cs);
	put(spec, "volumes", volumes(mc, s));
	put(t, "spec", spec);
	return t;
}

struct json_object *
k8s_dump_job(const struct k8s_manifest_conf *mc, const struct prov_spec *s,
	     const char *backup_id)
{
	struct json_object *o = obj(), *spec = obj();
	struct json_object *labels = k8s_manifest_labels(s);
	char name[K8S_DUMP_NAME_MAX];

	k8s_dump_name(backup_id, name);
	put(labels, K8S_LABEL_BACKUP, str(backup_id));
	put(o, "apiVersion", str("batch/v1"));
	put(o, "kind", str("Job"));
	put(o, "metadata", metadata(mc, name, labels));
	put(spec, "backoffLimit", json_object_new_int(0));
	put(spec, "activeDeadlineSeconds",
	    json_object_new_int(K8S_DUMP_DEADLINE_S));
	put(spec, "ttlSecondsAfterFinished",
	    json_object_new_int(K8S_DUMP_TTL_S));
	put(spec, "template", pod_template(mc, s, backup_id));
	put(o, "spec", spec);
	return o;
}

struct json_object *
k8s_dump_claim(const struct k8s_manifest_conf *mc, const struct prov_spec *s)
{
	struct json_object *o = obj(), *spec = obj(), *labels = obj();
	struct json_object *modes = json_object_new_array();
	struct json_object *res = obj(), *req = obj();
	char size[32];

	put(labels, K8S_LABEL_MANAGED, str(K8S_MANAGER));
	put(o, "apiVersion", str("v1"));
	put(o, "kind", str("PersistentVolumeClaim"));
	put(o, "metadata", metadata(mc, K8S_BACKUP_CLAIM, labels));
	json_object_array_add(modes, str("ReadWriteOnce"));
	put(spec, "accessModes", modes);
	if (mc->storage_class && *mc->storage_class)
		put(spec, "storageClassName", str(mc->storage_class));
	snprintf(size, sizeof(size), "%lldGi", (long long)s->disk_gb);
	put(req, "storage", str(size));
	put(res, "requests", req);
	put(spec, "resources", res);
	put(o, "spec", spec);
	return o;
}

static const char *
field(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

static bool
is_true(struct json_object *cond, const char *type)
{
	const char *t = field(cond, "type"), *st = field(cond, "status");

	return t && st && strcmp(t, type) == 0 && strcmp(st, "True") == 0;
}

/* The condition of type that holds, or NULL (borrowed). */
static struct json_object *
condition(struct json_object *job, const char *type)
{
	struct json_object *status, *conds;
	size_t n;

	if (!json_object_object_get_ex(job, "status", &status) ||
	    !json_object_object_get_ex(status, "conditions", &conds) ||
	    !json_object_is_type(conds, json_type_array))
		return NULL;
	n = json_object_array_length(conds);
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(conds, i);

		if (json_object_is_type(c, json_type_object) &&
		    is_true(c, type))
			return c;
	}
	return NULL;
}

static bool
has_started(struct json_object *job)
{
	struct json_object *status;

	return json_object_object_get_ex(job, "status", &status) &&
	    field(status, "startTime") != NULL;
}

enum prov_dump_state
k8s_dump_state(struct json_object *job, char *reason, size_t size)
{
	struct json_object *c;

	reason[0] = '\0';
	if (condition(job, "Complete"))
		return PROV_DUMP_DONE;
	if ((c = condition(job, "Failed"))) {
		const char *why = field(c, "reason");
		const char *msg = field(c, "message");

		snprintf(reason, size, "the dump failed (%s)%s%s",
		    why ? why : "no reason given", msg ? ": " : "",
		    msg ? msg : "");
		return PROV_DUMP_FAILED;
	}
	snprintf(reason, size, "%s", has_started(job) ? "running" :
	    "waiting to start");
	return PROV_DUMP_RUNNING;
}
