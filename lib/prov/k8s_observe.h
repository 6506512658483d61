/*
 * For the kubernetes driver: what the listed objects say about each
 * instance.  Pure functions over the json-c trees of one pass's lists, so
 * that the unit tests can feed them made-up objects.
 *
 * States: no StatefulSet -> ABSENT; replicas 0 -> STOPPED; a ready
 * replica -> RUNNING; else STARTING, or FAILED with the pod's problem
 * (unschedulable, image pull, crash loop, configuration error) once it
 * is certain: a crash loop at once, the others when the pod is older
 * than K8S_PROBLEM_GRACE_S (a volume being bound or a registry hiccup
 * looks the same for a while).  drift: the StatefulSet's manifest hash or
 * replicas, the Service's nodePort, or a missing Service or
 * NetworkPolicy differ from the spec.
 */
#ifndef PROV_K8S_OBSERVE_H
#define PROV_K8S_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct json_object;
struct k8s_manifest_conf;
struct prov_observation;
struct prov_spec;

#define K8S_PROBLEM_GRACE_S 120

/* One pass's lists, each indexed by instance id (borrowed). */
struct k8s_observe_index {
	struct json_object *sts;
	struct json_object *svc;
	struct json_object *pods;
	struct json_object *np;
};

/* A new object (to put) mapping the instance-id label of each item of
 * the array items to the item (shared with items). */
struct json_object *k8s_observe_index(struct json_object *items);
/* Adds to the object set the instance ids of the items of the array
 * items, skipping objects being deleted. */
void k8s_observe_ids(struct json_object *items, struct json_object *set);
/* A new object (to put) mapping the metadata.name of each item of the
 * array items to the item (shared with items). */
struct json_object *k8s_observe_names(struct json_object *items);
/* True when item carries the instance-id label id. */
bool k8s_observe_is_instance(struct json_object *item, const char *id);
/* With cert-manager: true when the StatefulSet sts runs pods older than
 * its Certificate cert's status.revision, with version (size bytes) set
 * to the value of its dbtree.io/tls-version that restarts them.  A pod
 * template without that annotation was started with revision 1 (the pod
 * waits for the Secret cert-manager fills).  False when either is NULL
 * or the Certificate has no revision yet. */
bool k8s_observe_tls_roll(struct json_object *cert, struct json_object *sts,
			  char *version, size_t size);
/* Fills o for s from ix; now (seconds since the epoch) dates pod
 * problems.  The live figures are -1: the driver does not measure them. */
void k8s_observe_one(const struct k8s_manifest_conf *mc,
		     const struct prov_spec *s,
		     const struct k8s_observe_index *ix, time_t now,
		     struct prov_observation *o);

#include "base/banned.h"
#endif
