/*
 * Observations from listed objects (see k8s_observe.h).  Reads only the
 * few fields it needs, through one path helper that tolerates anything
 * missing or of the wrong type.
 */
#include <json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

struct json_object *
k8s_observe_index(struct json_object *items)
{
	struct json_object *ix = json_object_new_object();
	size_t n = items ? json_object_array_length(items) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		const char *id = id_of(it);

		if (id)
			json_object_object_add(ix, id, json_object_get(it));
	}
	return ix;
}

void
k8s_observe_ids(struct json_object *items, struct json_object *set)
{
	size_t n = items ? json_object_array_length(items) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		const char *id = id_of(it);

		if (id && !JP(it, "metadata", "deletionTimestamp"))
			json_object_object_add(set, id, NULL);
	}
}

struct json_object *
k8s_observe_names(struct json_object *items)
{
	struct json_object *ix = json_object_new_object();
	size_t n = items ? json_object_array_length(items) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		const char *name = jstr(JP(it, "metadata", "name"));

		if (name)
			json_object_object_add(ix, name, json_object_get(it));
	}
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

static struct json_object *
lookup(struct json_object *ix, const char *id)
{
	struct json_object *v = NULL;

	if (ix)
		json_object_object_get_ex(ix, id, &v);
	return v;
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

/* Sets o to FAILED or STARTING with the pod's problem: true, or false
 * when the pod has none of the known problems. */
static bool
pod_problem(struct json_object *pod, time_t now, struct prov_observation *o)
{
	struct json_object *css = JP(pod, "status", "containerStatuses");
	size_t n = json_object_is_type(css, json_type_array) ?
	    json_object_array_length(css) : 0;
	time_t born = parse_time(jstr(JP(pod, "metadata",
	    "creationTimestamp")));
	bool old = born > 0 && now - born >= K8S_PROBLEM_GRACE_S;
	const char *why = NULL;
	bool at_once = false;

	if (is_unschedulable(pod))
		why = "no node has room for it (Unschedulable)";
	for (size_t i = 0; !why && i < n; i++)
		why = waiting_reason(json_object_array_get_idx(css, i),
		    &at_once);
	if (!why)
		return false;
	observed(o, at_once || old ? PROV_FAILED : PROV_STARTING, why);
	return true;
}

static bool
has_drift(const struct k8s_manifest_conf *mc, const struct prov_spec *s,
	  const struct k8s_observe_index *ix, struct json_object *sts)
{
	struct json_object *svc = lookup(ix->svc, s->id);
	struct json_object *ports = JP(svc, "spec", "ports");
	struct json_object *p0 = json_object_is_type(ports, json_type_array) &&
	    json_object_array_length(ports) > 0 ?
	    json_object_array_get_idx(ports, 0) : NULL;
	const char *hash = jstr(JP(sts, "metadata", "annotations",
	    K8S_ANN_HASH));
	char want[K8S_HASH_LEN + 1];

	k8s_manifest_statefulset_hash(mc, s, want);
	return !hash || strcmp(hash, want) != 0 ||
	    jint(JP(sts, "spec", "replicas"), 1) != (s->running ? 1 : 0) ||
	    !p0 || jint(JP(p0, "nodePort"), 0) != s->port ||
	    !lookup(ix->np, s->id);
}

void
k8s_observe_one(const struct k8s_manifest_conf *mc,
		const struct prov_spec *s,
		const struct k8s_observe_index *ix, time_t now,
		struct prov_observation *o)
{
	struct json_object *sts, *pod;
	char why[PROV_REASON_LEN];

	memset(o, 0, sizeof(*o));
	o->connections = o->storage_bytes = o->memory_bytes = o->uptime_s = -1;
	if (k8s_manifest_check(s, why, sizeof(why)) < 0) {
		observed(o, PROV_FAILED, why);
		return;
	}
	if (!(sts = lookup(ix->sts, s->id))) {
		observed(o, PROV_ABSENT, "");
		return;
	}
	if (JP(sts, "metadata", "deletionTimestamp")) {
		observed(o, PROV_STARTING, "its objects are being removed");
		return;
	}
	o->drift = has_drift(mc, s, ix, sts);
	pod = lookup(ix->pods, s->id);
	if (jint(JP(sts, "spec", "replicas"), 1) == 0)
		observed(o, PROV_STOPPED, pod ? "stopping" : "");
	else if (jint(JP(sts, "status", "readyReplicas"), 0) >= 1)
		observed(o, PROV_RUNNING, "");
	else if (!pod || !pod_problem(pod, now, o))
		observed(o, PROV_STARTING, pod ? "starting" :
		    "waiting for its pod");
}
