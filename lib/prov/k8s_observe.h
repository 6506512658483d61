/*
 * For the kubernetes driver: what the listed objects say about each
 * instance.  Each listed object is boiled down, as its page is read, to
 * the few fields observe needs (struct k8s_observe_item); the states are
 * pure functions of those, so that the unit tests can feed them made-up
 * objects.
 *
 * States: no StatefulSet -> ABSENT; replicas 0 -> STOPPED ("stopping"
 * while it still has a pod, by its status.replicas); a ready
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
#include <stdint.h>
#include <time.h>

#include "prov/k8s_manifest.h"
#include "prov/prov.h"

struct json_object;
struct k8s_manifest_conf;
struct prov_observation;
struct prov_spec;

#define K8S_PROBLEM_GRACE_S 120

/* What observe keeps of one listed object: its instance id and the few
 * fields the states above read, about 100 bytes however large the object,
 * so that a pass over N instances holds 4 N of these rather than the
 * lists' JSON. */
struct k8s_observe_item {
	char id[PROV_ID_LEN + 1];	/* the instance-id label */
	bool deleting;			/* metadata.deletionTimestamp set */
	/* StatefulSet: the manifest-hash annotation ("" when absent or not
	 * a hash), spec.replicas (1 when absent), status.readyReplicas and
	 * status.replicas (the pods it has, ready or not; 0 when absent) */
	char hash[K8S_HASH_LEN + 1];
	int64_t replicas, ready, pods;
	int64_t node_port;		/* Service: spec.ports[0].nodePort */
	/* Pod: metadata.creationTimestamp (0 when unknown) and its problem
	 * (static text, NULL for none), certain at once or after a grace */
	time_t born;
	const char *problem;
	bool problem_at_once;
};

/* The kept items of one list; sorted by id (k8s_observe_sort) before
 * k8s_observe_find.  Zero-initialise; k8s_observe_list_release() frees. */
struct k8s_observe_list {
	struct k8s_observe_item *v;
	size_t n, cap;
	bool sorted;
};

/* One pass's lists.  pods may stay empty when no StatefulSet needs its
 * pod read (k8s_observe_needs_pods). */
struct k8s_observe_index {
	struct k8s_observe_list sts, svc, pods, np;
};

/* Adds what observe reads of item (borrowed: nothing of it is kept) to
 * l; an item without an instance-id label, or with one longer than an
 * id, is skipped. */
void k8s_observe_keep(struct k8s_observe_list *l, struct json_object *item);
/* Keeps every item of the array items (NULL: none), then sorts l. */
void k8s_observe_keep_all(struct k8s_observe_list *l,
			  struct json_object *items);
/* Forgets l's items (a list starting again), keeping its memory. */
void k8s_observe_clear(struct k8s_observe_list *l);
/* Sorts l by id, for k8s_observe_find. */
void k8s_observe_sort(struct k8s_observe_list *l);
/* An item of the sorted l with instance id id (borrowed), or NULL. */
const struct k8s_observe_item *
k8s_observe_find(const struct k8s_observe_list *l, const char *id);
void k8s_observe_list_release(struct k8s_observe_list *l);
void k8s_observe_index_release(struct k8s_observe_index *ix);
/* True when some StatefulSet of the sorted sts, not being deleted, wants
 * a replica and has none ready: only then do its pod's problems matter,
 * so a pass whose instances all run (or are stopped) lists no pods. */
bool k8s_observe_needs_pods(const struct k8s_observe_list *sts);
/* Adds to the object set the instance ids of l's items, skipping objects
 * being deleted. */
void k8s_observe_ids(const struct k8s_observe_list *l,
		     struct json_object *set);
/* Adds to the object ix, under item's metadata.name, a new object with
 * only what renew_cert reads of item (borrowed): metadata.name, .labels
 * and .annotations, spec.template.metadata.annotations and
 * status.revision, each where item has it; an item without a name is
 * skipped.  A Secret's metadata keeps a few hundred bytes of its
 * kilobytes (managedFields). */
void k8s_observe_name_keep(struct json_object *ix, struct json_object *item);
/* A new object (to put) mapping the metadata.name of each item of the
 * array items to its k8s_observe_name_keep copy. */
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
