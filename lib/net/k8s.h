/*
 * A small Kubernetes API client on libcurl and json-c: just what the
 * kubernetes provisioning driver needs (server-side apply, patch, create,
 * list by label, delete), with the API's status codes mapped to actions.
 *
 *	struct k8s *k = k8s_new(&kc);
 *	struct k8s_lister l = { keep_one, forget_all, &mine };
 *	if (k8s_list_each(k, "/api/v1/namespaces/db/pods",
 *	    "app.kubernetes.io/managed-by=dbtree", false, &l) < 0)
 *		... logged ...
 *	k8s_free(k);
 *
 * Authentication: a bearer token read from a file (re-read when the file
 * changes: in-cluster tokens rotate), and/or a client certificate and
 * key; the server is checked against a CA file, or the system's CAs.
 *
 * Every helper goes through one policy: 409 Conflict is retried once;
 * 429 Too Many Requests waits for Retry-After (1 s when absent) as long
 * as that stays inside the call's budget (the configured timeout); 5xx
 * and transport failures fail at once (the caller backs off); 422 is
 * returned to the caller, who must not send the same body again.  Lists
 * are read in pages (limit, continue); a 410 Gone to a continue token
 * starts the list again from its first page.
 *
 * Logging: method, path, status and the API's reason word only.  Never
 * the token, a request body or a response body (Secrets travel in them).
 */
#ifndef NET_K8S_H
#define NET_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct json_object;

struct k8s_conf {
	const char *api;	/* "https://host:6443"; "" = in-cluster */
	const char *token_file;	/* "" = no bearer token */
	const char *ca_file;	/* "" = the system's CAs */
	const char *client_cert;	/* "" = none (PEM file) */
	const char *client_key;	/* "" = none (PEM file) */
	int64_t timeout_ms;	/* per request, and the budget of a call */
	int64_t page_size;	/* items per list request; 0 = 500 */
};

#define K8S_IN_CLUSTER_API "https://kubernetes.default.svc"
#define K8S_FIELD_MANAGER "dbtree"
#define K8S_MESSAGE_MAX 512
#define K8S_PAGE_SIZE_DEFAULT 500
#define K8S_LIST_RESTARTS_MAX 3	/* 410 Gone mid-list: lists from the start */

/* Expected outcomes a caller branches on (see each helper). */
enum k8s_result {
	K8S_NOT_FOUND = 1,	/* 404 */
	K8S_EXISTS = 2,		/* 409 on create: the name is taken */
	K8S_INVALID = 3,	/* 422: the API refused this body */
};

struct k8s;

/* A client for kc (strings are copied): checks that the token and
 * certificate files are readable and reads the token.  NULL on failure
 * (logged).  k8s_free() releases it and accepts NULL. */
struct k8s *k8s_new(const struct k8s_conf *kc);
void k8s_free(struct k8s *k);

/* One HTTP exchange, no retries: method on path (which starts with '/'
 * and may carry a query), with body (NULL for none) of content_type.  The
 * response body goes to out (its cap applies: a longer body fails),
 * *status gets the HTTP status and *retry_after_s the Retry-After header
 * (0 when absent).  0 when an HTTP status was received, whatever it is;
 * -1 on a transport failure (logged). */
int k8s_request(struct k8s *k, const char *method, const char *path,
		const char *content_type, const char *body, struct buf *out,
		long *status, int64_t *retry_after_s);

/* Server-side apply of obj (fieldManager=dbtree, force=true) to path,
 * the object's own URL.  0 and, if answer is not NULL, the object as
 * stored (to put); K8S_INVALID with the API's message in why (never
 * logged here: it may quote the body); -1 (logged). */
int k8s_apply(struct k8s *k, const char *path, struct json_object *obj,
	      struct json_object **answer, char *why, size_t why_size);
/* PATCH path with patch, of content_type application/merge-patch+json or
 * application/json-patch+json, recorded under field manager manager.
 * 0, K8S_NOT_FOUND, K8S_INVALID (a JSON patch "test" failed, for one), or
 * -1 (logged). */
int k8s_patch(struct k8s *k, const char *path, const char *content_type,
	      const char *manager, struct json_object *patch);
/* POST obj to the collection at path.  0, K8S_EXISTS, K8S_INVALID or -1
 * (logged). */
int k8s_create(struct k8s *k, const char *path, struct json_object *obj);
/* What a paged list hands each item to.  item() gets every item of every
 * page, borrowed for the call (copy what you keep: the page is freed
 * next); a negative return stops the list, which then fails.  restart()
 * is called when the list starts again from its first page (the API
 * server answered 410 Gone to a continue token): forget every item
 * given so far. */
struct k8s_lister {
	int (*item)(void *arg, struct json_object *item);
	void (*restart)(void *arg);
	void *arg;
};

/* Lists the collection at path whose labels match selector (a label
 * selector such as "a=b,c") page by page, page_size items a request
 * (limit and continue, as kubectl does), handing each item to l and
 * freeing each page before the next is read, so that memory holds one
 * page, not the whole list.  When a continue token has expired (410
 * Gone), the list starts again from the first page, at most
 * K8S_LIST_RESTARTS_MAX times.  With metadata_only, items hold only their
 * metadata (kind, apiVersion and metadata: Secrets' data never leaves the
 * API).  0, or -1 (logged). */
int k8s_list_each(struct k8s *k, const char *path, const char *selector,
		  bool metadata_only, const struct k8s_lister *l);
/* k8s_list_each into one array: 0 and *items a new array (to put), or -1
 * (logged).  For short lists: the array holds every item whole. */
int k8s_list(struct k8s *k, const char *path, const char *selector,
	     bool metadata_only, struct json_object **items);
/* One page of a list answer, body[0..len) (the text k8s_list receives):
 * appends its items (each a new reference) to the array items and sets
 * *cont to its continue token (to free(); NULL on the last page).  0, or
 * -1 when body is not a JSON object or its "items" is neither an array
 * nor null (logged with path; nothing appended, *cont NULL). */
int k8s_list_page(const char *path, const char *body, size_t len,
		  struct json_object *items, char **cont);
/* DELETE path with propagationPolicy propagation (NULL for the API's
 * default; "Foreground", "Background" or "Orphan").  0 when deleted,
 * being deleted or already gone (404); -1 (logged). */
int k8s_delete(struct k8s *k, const char *path, const char *propagation);

#include "base/banned.h"
#endif
