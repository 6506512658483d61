/*
 * Observations from listed objects (see k8s_observe.h).  Reads only the
 * few fields it needs, through one path helper that tolerates anything
 * missing or of the wrong type, into one small struct per object as the
 * object's page is read (k8s_observe_keep): the pass then looks instances
 * up by id in sorted arrays, and no list's JSON outlives its page.
 */
#include <assert.h>
#include <json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/xalloc.h"
#include "prov/k8s_manifest.h"
#include "prov/k8s_observe.h"
#include "prov/prov.h"

#define JP(o, ...) jpath((o), __VA_ARGS__, (const char *)NULL)

/* The value at the keys (NULL-terminated) under o, borrowed; NULL when a
 * step is missing or not an object. */
static struct json_object *
jpath(struct json_object *o, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, o);
	while (o && (key = va_arg(ap, const char *)))
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, key, &o))
			o = NULL;
	va_end(ap);
	return o;
}

static const char *
jstr(struct json_object *o)
{
	return json_object_is_type(o, json_type_string) ?
	    json_object_get_string(o) : NULL;
}

static bool
jstr_is(struct json_object *o, const char *want)
{
	const char *s = jstr(o);

	return s && strcmp(s, want) == 0;
}

static int64_t
jint(struct json_object *o, int64_t dflt)
{
	return json_object_is_type(o, json_type_int) ?
	    json_object_get_int64(o) : dflt;
}

static const char *
id_of(struct json_object *item)
{
	return jstr(JP(item, "metadata", "labels", K8S_LABEL_ID));
}

/* Sets to->key to a reference to from->key, when from has it. */
static void
share_key(struct json_object *to, struct json_object *from, const char *key)
{
	struct json_object *v = JP(from, key);

	if (v)
		json_object_object_add(to, key, json_object_get(v));
}

/* Adds an object under key to o, and returns it (borrowed). */
static struct json_object *
add_object(struct json_object *o, const char *key)
{
	struct json_object *v = json_object_new_object();

	json_object_object_add(o, key, v);
	return v;
}

void
k8s_observe_name_keep(struct json_object *ix, struct json_object *item)
{
	struct json_object *md = JP(item, "metadata");
	struct json_object *tmd = JP(item, "spec", "template", "metadata");
	struct json_object *rev = JP(item, "status", "revision");
	const char *name = jstr(JP(md, "name"));
	struct json_object *slim, *m;

	if (!name)
		return;
	slim = json_object_new_object();
	m = add_object(slim, "metadata");
	share_key(m, md, "name");
	share_key(m, md, "labels");
	share_key(m, md, "annotations");
	if (tmd)
		share_key(add_object(add_object(add_object(slim, "spec"),
		    "template"), "metadata"), tmd, "annotations");
	if (rev)
		json_object_object_add(add_object(slim, "status"), "revision",
		    json_object_get(rev));
	json_object_object_add(ix, name, slim);
}

struct json_object *
k8s_observe_names(struct json_object *items)
{
	struct json_object *ix = json_object_new_object();
	size_t n = items ? json_object_array_length(items) : 0;

	for (size_t i = 0; i < n; i++)
		k8s_observe_name_keep(ix, json_object_array_get_idx(items, i));
	return ix;
}

bool
k8s_observe_is_instance(struct json_object *item, const char *id)
{
	const char *have = id_of(item);

	return have && strcmp(have, id) == 0;
}

bool
k8s_observe_tls_roll(struct json_object *cert, struct json_object *sts,
		     char *version, size_t size)
{
	int64_t rev = jint(JP(cert, "status", "revision"), 0);
	const char *cur = jstr(JP(sts, "spec", "template", "metadata",
	    "annotations", K8S_ANN_TLS_VERSION));

	if (!cert || !sts || rev < 1)
		return false;
	snprintf(version, size, "revision-%lld", (long long)rev);
	return cur ? strcmp(cur, version) != 0 : rev > 1;
}

static void
observed(struct prov_observation *o, enum prov_state state, const char *why)
{
	o->state = state;
	snprintf(o->reason, sizeof(o->reason), "%s", why);
}

/* "2024-05-01T12:00:00Z" as seconds since the epoch; 0 if not that. */
static time_t
parse_time(const char *s)
{
	struct tm tm;
	char z = '\0';

	memset(&tm, 0, sizeof(tm));
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &z) != 7 || z != 'Z')
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static bool
is_unschedulable(struct json_object *pod)
{
	struct json_object *conds = JP(pod, "status", "conditions");
	size_t n = json_object_is_type(conds, json_type_array) ?
	    json_object_array_length(conds) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(conds, i);

		if (jstr_is(JP(c, "type"), "PodScheduled") &&
		    jstr_is(JP(c, "status"), "False") &&
		    jstr_is(JP(c, "reason"), "Unschedulable"))
			return true;
	}
	return false;
}

/* The reason for a waiting container, and whether it is certain at once;
 * NULL when waiting for that reason is normal. */
static const char *
waiting_reason(struct json_object *cs, bool *at_once)
{
	const char *r = jstr(JP(cs, "state", "waiting", "reason"));

	*at_once = false;
	if (!r)
		return NULL;
	if (strcmp(r, "CrashLoopBackOff") == 0) {
		*at_once = true;
		return jstr_is(JP(cs, "lastState", "terminated", "reason"),
		    "OOMKilled") ? "it runs out of memory and keeps restarting"
		    " (OOMKilled)" : "it keeps crashing (CrashLoopBackOff)";
	}
	if (strcmp(r, "InvalidImageName") == 0) {
		*at_once = true;
		return "its image name is not valid (InvalidImageName)";
	}
	if (strcmp(r, "ImagePullBackOff") == 0 ||
	    strcmp(r, "ErrImagePull") == 0)
		return "its image cannot be pulled (ImagePullBackOff)";
	if (strcmp(r, "CreateContainerConfigError") == 0)
		return "its configuration is incomplete"
		    " (CreateContainerConfigError)";
	return NULL;
}

/* The pod's problem (static text) and whether it is certain at once, or
 * NULL when it has none of the known problems. */
static const char *
pod_problem(struct json_object *pod, bool *at_once)
{
	struct json_object *css = JP(pod, "status", "containerStatuses");
	size_t n = json_object_is_type(css, json_type_array) ?
	    json_object_array_length(css) : 0;
	const char *why = NULL;

	*at_once = false;
	if (is_unschedulable(pod))
		return "no node has room for it (Unschedulable)";
	for (size_t i = 0; !why && i < n; i++)
		why = waiting_reason(json_object_array_get_idx(css, i),
		    at_once);
	return why;
}

/* spec.ports[0].nodePort of a Service, 0 when absent. */
static int64_t
node_port(struct json_object *svc)
{
	struct json_object *ports = JP(svc, "spec", "ports");

	if (!json_object_is_type(ports, json_type_array) ||
	    json_object_array_length(ports) == 0)
		return 0;
	return jint(JP(json_object_array_get_idx(ports, 0), "nodePort"), 0);
}

void
k8s_observe_keep(struct k8s_observe_list *l, struct json_object *item)
{
	const char *id = id_of(item);
	const char *hash = jstr(JP(item, "metadata", "annotations",
	    K8S_ANN_HASH));
	struct k8s_observe_item *it;

	if (!id || strlen(id) > PROV_ID_LEN)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	it = &l->v[l->n++];
	memset(it, 0, sizeof(*it));
	l->sorted = false;
	snprintf(it->id, sizeof(it->id), "%s", id);
	it->deleting = JP(item, "metadata", "deletionTimestamp") != NULL;
	if (hash && strlen(hash) == K8S_HASH_LEN)
		snprintf(it->hash, sizeof(it->hash), "%s", hash);
	it->replicas = jint(JP(item, "spec", "replicas"), 1);
	it->ready = jint(JP(item, "status", "readyReplicas"), 0);
	it->pods = jint(JP(item, "status", "replicas"), 0);
	it->node_port = node_port(item);
	it->born = parse_time(jstr(JP(item, "metadata",
	    "creationTimestamp")));
	it->problem = pod_problem(item, &it->problem_at_once);
}

void
k8s_observe_keep_all(struct k8s_observe_list *l, struct json_object *items)
{
	size_t n = items ? json_object_array_length(items) : 0;

	for (size_t i = 0; i < n; i++)
		k8s_observe_keep(l, json_object_array_get_idx(items, i));
	k8s_observe_sort(l);
}

void
k8s_observe_clear(struct k8s_observe_list *l)
{
	l->n = 0;
	l->sorted = false;
}

static int
by_id(const void *a, const void *b)
{
	return strcmp(((const struct k8s_observe_item *)a)->id,
	    ((const struct k8s_observe_item *)b)->id);
}

void
k8s_observe_sort(struct k8s_observe_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), by_id);
	l->sorted = true;
}

const struct k8s_observe_item *
k8s_observe_find(const struct k8s_observe_list *l, const char *id)
{
	struct k8s_observe_item key;

	assert(l->sorted || l->n == 0);
	if (l->n == 0 || strlen(id) > PROV_ID_LEN)
		return NULL;
	snprintf(key.id, sizeof(key.id), "%s", id);
	return bsearch(&key, l->v, l->n, sizeof(*l->v), by_id);
}

void
k8s_observe_list_release(struct k8s_observe_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void
k8s_observe_index_release(struct k8s_observe_index *ix)
{
	k8s_observe_list_release(&ix->sts);
	k8s_observe_list_release(&ix->svc);
	k8s_observe_list_release(&ix->pods);
	k8s_observe_list_release(&ix->np);
}

bool
k8s_observe_needs_pods(const struct k8s_observe_list *sts)
{
	for (size_t i = 0; i < sts->n; i++)
		if (!sts->v[i].deleting && sts->v[i].replicas > 0 &&
		    sts->v[i].ready < 1)
			return true;
	return false;
}

void
k8s_observe_ids(const struct k8s_observe_list *l, struct json_object *set)
{
	for (size_t i = 0; i < l->n; i++)
		if (!l->v[i].deleting)
			json_object_object_add(set, l->v[i].id, NULL);
}

static bool
has_drift(const struct k8s_manifest_conf *mc, const struct prov_spec *s,
	  const struct k8s_observe_index *ix,
	  const struct k8s_observe_item *sts)
{
	const struct k8s_observe_item *svc = k8s_observe_find(&ix->svc, s->id);
	char want[K8S_HASH_LEN + 1];

	k8s_manifest_statefulset_hash(mc, s, want);
	return strcmp(sts->hash, want) != 0 ||
	    sts->replicas != (s->running ? 1 : 0) ||
	    !svc || svc->node_port != s->port ||
	    !k8s_observe_find(&ix->np, s->id);
}

/* Sets o for a StatefulSet whose pod is not ready. */
static void
not_ready(const struct k8s_observe_item *pod, time_t now,
	  struct prov_observation *o)
{
	bool old;

	if (!pod) {
		observed(o, PROV_STARTING, "waiting for its pod");
		return;
	}
	if (!pod->problem) {
		observed(o, PROV_STARTING, "starting");
		return;
	}
	old = pod->born > 0 && now - pod->born >= K8S_PROBLEM_GRACE_S;
	observed(o, pod->problem_at_once || old ? PROV_FAILED : PROV_STARTING,
	    pod->problem);
}

void
k8s_observe_one(const struct k8s_manifest_conf *mc,
		const struct prov_spec *s,
		const struct k8s_observe_index *ix, time_t now,
		struct prov_observation *o)
{
	const struct k8s_observe_item *sts, *pod;
	char why[PROV_REASON_LEN];

	memset(o, 0, sizeof(*o));
	o->connections = o->storage_bytes = o->memory_bytes = o->uptime_s = -1;
	if (k8s_manifest_check(s, why, sizeof(why)) < 0) {
		observed(o, PROV_FAILED, why);
		return;
	}
	if (!(sts = k8s_observe_find(&ix->sts, s->id))) {
		observed(o, PROV_ABSENT, "");
		return;
	}
	if (sts->deleting) {
		observed(o, PROV_STARTING, "its objects are being removed");
		return;
	}
	o->drift = has_drift(mc, s, ix, sts);
	pod = k8s_observe_find(&ix->pods, s->id);
	if (sts->replicas == 0)
		observed(o, PROV_STOPPED, pod || sts->pods > 0 ?
		    "stopping" : "");
	else if (sts->ready >= 1)
		observed(o, PROV_RUNNING, "");
	else
		not_ready(pod, now, o);
}
