/*
 * libFuzzer target for the Kubernetes list-response path: the input is
 * the body of one page of a list (net/k8s.h, k8s_list_page), and what it
 * yields goes through the kubernetes driver's observation
 * (prov/k8s_observe.h) as each of the four lists of a pass.  Checks the
 * headers' promises: on success items grew by the page's items and a
 * continue token is NULL or non-empty, on failure nothing was appended;
 * every observation is a known state with a terminated reason and no live
 * figures.
 */
#include <json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "net/k8s.h"
#include "prov/k8s_manifest.h"
#include "prov/k8s_observe.h"
#include "prov/prov.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MUST(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static const struct k8s_manifest_conf mc = { "dbtree", "postgres:16",
	"redis:7.2", "mongo:7.0", "", "db.example.com", "", "Issuer" };

static void
observe(const char *id, const struct k8s_observe_index *ix)
{
	static const char *const types[] = { "postgres", "redis", "mongodb" };
	struct prov_spec s = { id, types[strlen(id) % 3], "db", 0.25, 512, 5,
		30000 + (int)(strlen(id) % 2000), strlen(id) % 2 == 0 };
	struct prov_observation o;

	k8s_observe_one(&mc, &s, ix, (time_t)1700000000, &o);
	MUST(o.state == PROV_ABSENT || o.state == PROV_STOPPED ||
	    o.state == PROV_STARTING || o.state == PROV_RUNNING ||
	    o.state == PROV_FAILED);
	MUST(memchr(o.reason, '\0', sizeof(o.reason)) != NULL);
	MUST(o.connections == -1 && o.storage_bytes == -1 &&
	    o.memory_bytes == -1 && o.uptime_s == -1);
	MUST(o.state != PROV_ABSENT || !o.drift);
}

static void
check_items(struct json_object *items)
{
	struct json_object *ids = json_object_new_object();
	struct k8s_observe_index four;

	memset(&four, 0, sizeof(four));
	k8s_observe_keep_all(&four.sts, items);
	MUST(four.sts.n <= json_object_array_length(items));
	k8s_observe_keep_all(&four.svc, items);
	k8s_observe_keep_all(&four.pods, items);
	k8s_observe_keep_all(&four.np, items);
	k8s_observe_ids(&four.sts, ids);
	json_object_object_foreach(ids, id, unused) {
		(void)unused;
		MUST(k8s_observe_find(&four.sts, id) != NULL);
		observe(id, &four);
	}
	observe("00000000-0000-4000-8000-000000000000", &four);
	json_object_put(ids);
	k8s_observe_index_release(&four);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level((enum log_level)(LOG_LEVEL_ERR - 1));	/* quiet */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *items = json_object_new_array();
	static char sentinel[] = "sentinel";
	char *cont = sentinel;
	size_t before;
	int r;

	/* a page appends to what earlier pages brought */
	json_object_array_add(items, json_object_new_string("earlier"));
	before = json_object_array_length(items);
	r = k8s_list_page("/api/v1/namespaces/dbtree/pods", (const char *)data,
	    size, items, &cont);
	MUST(r == 0 || r == -1);
	MUST(cont != sentinel);
	MUST(json_object_is_type(json_object_array_get_idx(items, 0),
	    json_type_string));
	if (r < 0) {
		MUST(cont == NULL && json_object_array_length(items) == before);
	} else {
		MUST(cont == NULL || cont[0] != '\0');
		check_items(items);
	}
	free(cont);
	json_object_put(items);
	return 0;
}
