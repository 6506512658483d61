/*
 * The Kubernetes API client (see k8s.h for the contract).  One easy handle
 * per client, reset before every request so that its connection is kept.
 * The bearer token lives only in this struct and, for the length of one
 * request, in curl's header list; both are wiped when done with.  The
 * retry policy lives in one place, run_call(), so that every helper maps
 * the API's status codes the same way.
 */
#include <curl/curl.h>
#include <errno.h>
#include <json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/meter.h"
#include "base/trace.h"
#include "base/utf8.h"
#include "base/xalloc.h"
#include "net/k8s.h"

#define BODY_MAX (64 << 20)	/* one response (a list page is far less) */
#define TOKEN_MAX 16384
#define URL_MAX 4096
#define JSON_DEPTH 64		/* managedFields nest deeply */
#define LIST_PAGES_MAX 100000	/* a server that never stops paging */
#define LIST_EXPIRED 1		/* list_page: 410 Gone */
#define CONNECT_TIMEOUT_MAX_MS 5000
#define RETRY_AFTER_DEFAULT_S 1
#define JSON_OUT (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define ACCEPT_JSON "application/json"
#define ALPHA "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define ACCEPT_META "application/json;as=PartialObjectMetadataList;" \
	"g=meta.k8s.io;v=v1,application/json"

struct k8s {
	CURL *curl;
	char *base;		/* scheme://host[:port], no trailing slash */
	char *token_file;	/* NULL: no token */
	char *ca_file, *cert, *key;	/* NULL: not set */
	int64_t timeout_ms;
	int64_t page_size;
	struct stat token_st;	/* of the file the token was read from */
	char token[TOKEN_MAX + 1];
	char errbuf[CURL_ERROR_SIZE];
};

/* One request as the helpers describe it. */
struct call {
	const char *method;
	const char *path;
	const char *content_type;	/* NULL without a body */
	const char *accept;
	const char *body;		/* NULL for none */
	bool retry_conflict;		/* 409: try again (not "exists") */
};

static char *
dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

void
k8s_free(struct k8s *k)
{
	if (!k)
		return;
	curl_easy_cleanup(k->curl);
	free(k->base);
	free(k->token_file);
	free(k->ca_file);
	free(k->cert);
	free(k->key);
	explicit_bzero(k->token, sizeof(k->token));
	free(k);
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Reads the token file into k->token (trailing white space cut). */
static int
token_read(struct k8s *k, const struct stat *st)
{
	FILE *f = fopen(k->token_file, "r");
	size_t n;

	if (!f)
		return fail("k8s token file '%s': %s", k->token_file,
		    strerror(errno));
	n = fread(k->token, 1, TOKEN_MAX, f);
	if (ferror(f) || fgetc(f) != EOF) {
		fclose(f);
		explicit_bzero(k->token, sizeof(k->token));
		return fail("k8s token file '%s': unreadable or longer than %d"
		    " bytes", k->token_file, TOKEN_MAX);
	}
	fclose(f);
	while (n > 0 && strchr(" \t\r\n", k->token[n - 1]))
		n--;
	k->token[n] = '\0';
	if (n == 0 || strpbrk(k->token, "\r\n"))
		return fail("k8s token file '%s': not one token",
		    k->token_file);
	k->token_st = *st;
	return 0;
}

/* Reads the token again when its file changed since the last read. */
static int
token_refresh(struct k8s *k)
{
	struct stat st;

	if (!k->token_file)
		return 0;
	if (stat(k->token_file, &st) < 0)
		return fail("k8s token file '%s': %s", k->token_file,
		    strerror(errno));
	if (k->token[0] && same_file(&st, &k->token_st))
		return 0;
	return token_read(k, &st);
}

static int
check_readable(const char *what, const char *path)
{
	if (path && access(path, R_OK) < 0)
		return fail("k8s %s '%s': %s", what, path, strerror(errno));
	return 0;
}

struct k8s *
k8s_new(const struct k8s_conf *kc)
{
	struct k8s *k = xcalloc(1, sizeof(*k));
	const char *api = kc->api && *kc->api ? kc->api : K8S_IN_CLUSTER_API;
	size_t n = strlen(api);

	while (n > 0 && api[n - 1] == '/')
		n--;
	k->base = xstrndup(api, n);
	k->token_file = dup_or_null(kc->token_file);
	k->ca_file = dup_or_null(kc->ca_file);
	k->cert = dup_or_null(kc->client_cert);
	k->key = dup_or_null(kc->client_key);
	k->timeout_ms = kc->timeout_ms > 0 ? kc->timeout_ms : 10000;
	k->page_size = kc->page_size > 0 ? kc->page_size :
	    K8S_PAGE_SIZE_DEFAULT;
	if (strncmp(k->base, "https://", 8) != 0 &&
	    strncmp(k->base, "http://", 7) != 0) {
		log_err("k8s api '%s': not an http(s) URL", k->base);
		goto fail;
	}
	if (strncmp(k->base, "http://", 7) == 0)
		log_warn("k8s api '%s': plain http, for tests only", k->base);
	if (check_readable("ca file", k->ca_file) < 0 ||
	    check_readable("client certificate", k->cert) < 0 ||
	    check_readable("client key", k->key) < 0 || token_refresh(k) < 0)
		goto fail;
	if (!(k->curl = curl_easy_init())) {
		log_err("k8s: curl_easy_init failed");
		goto fail;
	}
	return k;
fail:
	k8s_free(k);
	return NULL;
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *out = userdata;

	if (buf_add(out, ptr, size * nmemb) < 0)
		return 0;	/* past the cap: curl fails the transfer */
	return size * nmemb;
}

/* Wipes and frees a header list that may hold the token. */
static void
headers_free(struct curl_slist *h)
{
	for (struct curl_slist *p = h; p; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

static struct curl_slist *
headers_new(const struct k8s *k, const struct call *c)
{
	struct curl_slist *h = NULL;
	char line[TOKEN_MAX + 64], tp[TRACE_PARENT_LEN];

	snprintf(line, sizeof(line), "Accept: %s", c->accept);
	h = curl_slist_append(h, line);
	if (c->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s",
		    c->content_type);
		h = curl_slist_append(h, line);
	}
	if (k->token_file) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s",
		    k->token);
		h = curl_slist_append(h, line);
		explicit_bzero(line, sizeof(line));
	}
	if (trace_current(tp) == 0) {
		snprintf(line, sizeof(line), "traceparent: %s", tp);
		h = curl_slist_append(h, line);
	}
	h = curl_slist_append(h, "Expect:");
	return h;
}

/* The kind of object a path is about ("statefulsets"), for spans. */
static void
resource_of(const char *path, char *out, size_t size)
{
	const char *p = strstr(path, "/namespaces/");
	size_t n;

	if (p) {
		p += strlen("/namespaces/");
		p += strcspn(p, "/?");
		p += *p == '/';
	}
	if (!p || !*p || *p == '?')
		p = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	n = strcspn(p, "/?");
	snprintf(out, size, "%.*s", (int)n, p);
}

/* exchange()'s span, metrics and result. */
static int
exchange_done(int span, int64_t t0, int ret, long status)
{
	meter_op(METER_OUTBOUND, "kubernetes", ret == 0 && status < 500,
	    clock_mono_us() - t0);
	if (span < 0)
		return ret;
	trace_int(span, "http.response.status_code", status);
	if (ret < 0 || status >= 500)
		trace_fail(span, ret < 0 ? "no answer" : "server error");
	trace_span_end(span);
	return ret;
}

static int
set_tls(const struct k8s *k)
{
	CURL *e = k->curl;
	int bad = 0;

	if (k->ca_file)
		bad |= curl_easy_setopt(e, CURLOPT_CAINFO, k->ca_file) != 0;
	if (k->cert)
		bad |= curl_easy_setopt(e, CURLOPT_SSLCERT, k->cert) != 0;
	if (k->key)
		bad |= curl_easy_setopt(e, CURLOPT_SSLKEY, k->key) != 0;
	return bad ? -1 : 0;
}

static int
set_options(struct k8s *k, const struct call *c, const char *url,
	    struct curl_slist *headers, struct buf *out)
{
	CURL *e = k->curl;
	int64_t connect_ms = k->timeout_ms < CONNECT_TIMEOUT_MAX_MS ?
	    k->timeout_ms : CONNECT_TIMEOUT_MAX_MS;
	int bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_URL, url) != 0;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != 0;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, k->errbuf) != 0;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != 0;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    (long)k->timeout_ms) != 0;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)connect_ms) != 0;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers) != 0;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb) != 0;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, out) != 0;
	bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method) != 0;
	if (c->body) {
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body) != 0;
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(c->body)) != 0;
	}
	return bad || set_tls(k) < 0 ? -1 : 0;
}

/* One exchange: 0 with *status (and *retry_after_s), or -1 (logged). */
static int
exchange(struct k8s *k, const struct call *c, struct buf *out, long *status,
	 int64_t *retry_after_s)
{
	char url[URL_MAX], resource[64], name[96];
	struct curl_slist *headers = NULL;
	curl_off_t ra = 0;
	CURLcode rc;
	int ret = -1, span;
	int64_t t0 = clock_mono_us();

	*status = 0;
	*retry_after_s = 0;
	if (snprintf(url, sizeof(url), "%s%s", k->base, c->path) >=
	    (int)sizeof(url))
		return fail("k8s %s %s: URL too long", c->method, c->path);
	if (token_refresh(k) < 0)
		return -1;
	resource_of(c->path, resource, sizeof(resource));
	snprintf(name, sizeof(name), "kubernetes %s %s", c->method, resource);
	span = trace_span(name, TRACE_CLIENT);
	trace_str(span, "http.request.method", c->method);
	trace_str(span, "k8s.resource", resource);
	curl_easy_reset(k->curl);
	k->errbuf[0] = '\0';
	headers = headers_new(k, c);
	if (set_options(k, c, url, headers, out) < 0) {
		log_err("k8s %s %s: cannot set curl options", c->method,
		    c->path);
		goto out;
	}
	rc = curl_easy_perform(k->curl);
	if (rc != CURLE_OK) {
		log_err("k8s %s %s: %s", c->method, c->path, k->errbuf[0] ?
		    k->errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_getinfo(k->curl, CURLINFO_RETRY_AFTER, &ra);
	*retry_after_s = (int64_t)ra;
	log_debug("k8s %s %s: %ld", c->method, c->path, *status);
	ret = 0;
out:
	headers_free(headers);
	return exchange_done(span, t0, ret, *status);
}

int
k8s_request(struct k8s *k, const char *method, const char *path,
	    const char *content_type, const char *body, struct buf *out,
	    long *status, int64_t *retry_after_s)
{
	struct call c = { method, path, content_type, ACCEPT_JSON, body,
		false };

	return exchange(k, &c, out, status, retry_after_s);
}

/* s[0..n) parsed as one JSON object (to put), or NULL. */
static struct json_object *
parse_text(const char *s, size_t n)
{
	struct json_tokener *tok;
	struct json_object *o;

	if (n == 0 || n > INT_MAX)
		return NULL;
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* out parsed as one JSON object (to put), or NULL. */
static struct json_object *
parse_object(const struct buf *out)
{
	return parse_text(out->data, out->len);
}

/* The string field key of a Status answer into dst ("" when absent). */
static void
status_field(const struct buf *out, const char *key, char *dst,
	     size_t size)
{
	struct json_object *o = parse_object(out), *v;

	dst[0] = '\0';
	if (o && json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_string))
		utf8_copy(dst, size, json_object_get_string(v));
	json_object_put(o);
}

/* Logs a status the caller did not expect: the API's reason word only
 * (the message may quote the request body). */
static int
fail_status(const struct call *c, long status, const struct buf *out)
{
	char reason[64];

	status_field(out, "reason", reason, sizeof(reason));
	if (strspn(reason, ALPHA) != strlen(reason))
		reason[0] = '\0';
	return fail("k8s %s %s: %ld %s%s", c->method, c->path, status,
	    reason[0] ? reason : "(no reason)", status == 401 || status == 403 ?
	    ": check the token and the Role (systemd/kubernetes/rbac.yaml)" :
	    "");
}

/* Waits out a 429 if Retry-After fits before deadline_ms: 0, else -1. */
static int
wait_retry(const struct call *c, int64_t retry_after_s, int64_t deadline_ms)
{
	int64_t wait_ms = (retry_after_s > 0 ? retry_after_s :
	    RETRY_AFTER_DEFAULT_S) * 1000;

	if (clock_mono_ms() + wait_ms >= deadline_ms)
		return -1;
	log_warn("k8s %s %s: 429, retrying in %lld s", c->method, c->path,
	    (long long)(wait_ms / 1000));
	clock_sleep_ms(wait_ms, NULL);
	return 0;
}

/* c under the retry policy: the final HTTP status with its body in out;
 * -1 on a transport failure, 401, 403, 429 past the budget or 5xx
 * (logged). */
static long
run_call(struct k8s *k, const struct call *c, struct buf *out)
{
	int64_t deadline = clock_mono_ms() + k->timeout_ms;
	bool conflict_retried = !c->retry_conflict;
	int64_t ra;
	long st;

	for (;;) {
		buf_reset(out);
		if (exchange(k, c, out, &st, &ra) < 0)
			return -1;
		if (st == 409 && !conflict_retried) {
			conflict_retried = true;
			log_warn("k8s %s %s: 409, retrying once", c->method,
			    c->path);
			continue;
		}
		if (st == 429 && wait_retry(c, ra, deadline) == 0)
			continue;
		if (st >= 500 || st == 401 || st == 403 || st == 429 ||
		    st < 200)
			return fail_status(c, st, out);
		return st;
	}
}

int
k8s_apply(struct k8s *k, const char *path, struct json_object *obj,
	  struct json_object **answer, char *why, size_t why_size)
{
	char p[URL_MAX];
	struct call c = { "PATCH", p, "application/apply-patch+yaml",
		ACCEPT_JSON, NULL, true };
	struct buf out = BUF_INIT(BODY_MAX);
	long st;
	int ret = -1;

	if (answer)
		*answer = NULL;
	if (why_size)
		why[0] = '\0';
	snprintf(p, sizeof(p), "%s?fieldManager=" K8S_FIELD_MANAGER
	    "&force=true", path);
	c.body = json_object_to_json_string_ext(obj, JSON_OUT);
	st = run_call(k, &c, &out);
	if (st / 100 == 2) {
		if (answer && !(*answer = parse_object(&out)))
			log_err("k8s PATCH %s: the answer is not an object",
			    path);
		ret = answer && !*answer ? -1 : 0;
	} else if (st == 422) {
		status_field(&out, "message", why, why_size);
		ret = K8S_INVALID;
	} else if (st > 0) {
		fail_status(&c, st, &out);
	}
	buf_release(&out);
	return ret;
}

int
k8s_patch(struct k8s *k, const char *path, const char *content_type,
	  const char *manager, struct json_object *patch)
{
	char p[URL_MAX];
	struct call c = { "PATCH", p, content_type, ACCEPT_JSON, NULL, true };
	struct buf out = BUF_INIT(BODY_MAX);
	long st;
	int ret = -1;

	snprintf(p, sizeof(p), "%s?fieldManager=%s", path, manager);
	c.body = json_object_to_json_string_ext(patch, JSON_OUT);
	st = run_call(k, &c, &out);
	if (st / 100 == 2)
		ret = 0;
	else if (st == 404)
		ret = K8S_NOT_FOUND;
	else if (st == 422)
		ret = K8S_INVALID;
	else if (st > 0)
		fail_status(&c, st, &out);
	buf_release(&out);
	return ret;
}

int
k8s_create(struct k8s *k, const char *path, struct json_object *obj)
{
	char p[URL_MAX];
	struct call c = { "POST", p, "application/json", ACCEPT_JSON, NULL,
		false };
	struct buf out = BUF_INIT(BODY_MAX);
	long st;
	int ret = -1;

	snprintf(p, sizeof(p), "%s?fieldManager=" K8S_FIELD_MANAGER, path);
	c.body = json_object_to_json_string_ext(obj, JSON_OUT);
	st = run_call(k, &c, &out);
	if (st / 100 == 2)
		ret = 0;
	else if (st == 409)
		ret = K8S_EXISTS;
	else if (st == 422)
		ret = K8S_INVALID;
	else if (st > 0)
		fail_status(&c, st, &out);
	buf_release(&out);
	return ret;
}

/* The path of one page of a list: selector, limit and continue token. */
static int
list_path(struct k8s *k, char *p, size_t size, const char *path,
	  const char *selector, const char *cont)
{
	char *sel = curl_easy_escape(k->curl, selector, 0);
	char *con = cont ? curl_easy_escape(k->curl, cont, 0) : NULL;
	int n = -1;

	if (sel && (!cont || con))
		n = snprintf(p, size, "%s?labelSelector=%s&limit=%lld%s%s",
		    path, sel, (long long)k->page_size,
		    con ? "&continue=" : "", con ? con : "");
	curl_free(sel);
	curl_free(con);
	if (n < 0 || (size_t)n >= size)
		return fail("k8s list %s: selector or continue token too long",
		    path);
	return 0;
}

/* Hands the items of page to l; *cont gets the continue token (copied,
 * NULL when this was the last page).  0 or -1 (logged). */
static int
take_page(const char *path, struct json_object *page,
	  const struct k8s_lister *l, char **cont)
{
	struct json_object *arr = NULL, *meta, *c;

	*cont = NULL;
	/* an empty list may come as "items": null */
	if (json_object_object_get_ex(page, "items", &arr) && arr &&
	    !json_object_is_type(arr, json_type_array))
		return fail("k8s list %s: items is not an array", path);
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
		if (l->item(l->arg, json_object_array_get_idx(arr, i)) < 0)
			return -1;
	if (json_object_object_get_ex(page, "metadata", &meta) &&
	    json_object_object_get_ex(meta, "continue", &c) &&
	    json_object_is_type(c, json_type_string) &&
	    json_object_get_string_len(c) > 0)
		*cont = xstrdup(json_object_get_string(c));
	return 0;
}

/* body[0..len) as one page handed to l: 0 or -1 (logged). */
static int
parse_page(const char *path, const char *body, size_t len,
	   const struct k8s_lister *l, char **cont)
{
	struct json_object *page = parse_text(body, len);
	int ret;

	*cont = NULL;
	if (!page)
		return fail("k8s GET %s: the answer is not an object", path);
	ret = take_page(path, page, l, cont);
	json_object_put(page);
	return ret;
}

static int
array_add(void *arg, struct json_object *item)
{
	json_object_array_add(arg, json_object_get(item));
	return 0;
}

static void
array_clear(void *arg)
{
	size_t n = json_object_array_length(arg);

	if (n > 0)
		json_object_array_del_idx(arg, 0, n);
}

int
k8s_list_page(const char *path, const char *body, size_t len,
	      struct json_object *items, char **cont)
{
	struct k8s_lister l = { array_add, array_clear, items };

	return parse_page(path, body, len, &l, cont);
}

/* One page: 0 (items handed on, *cont set), LIST_EXPIRED on 410 Gone, or
 * -1 (logged). */
static int
list_page(struct k8s *k, struct call *c, const struct k8s_lister *l,
	  char **cont)
{
	struct buf out = BUF_INIT(BODY_MAX);
	long st = run_call(k, c, &out);
	int ret = -1;

	*cont = NULL;
	if (st / 100 == 2)
		ret = parse_page(c->path, out.data, out.len, l, cont);
	else if (st == 410)
		ret = LIST_EXPIRED;
	else if (st > 0)
		fail_status(c, st, &out);
	buf_release(&out);
	return ret;
}

/* After a 410 Gone: whether to list again from the first page (l told to
 * forget), or -1 (logged) when it has been tried often enough. */
static int
list_restart(const char *path, int *restarts, const struct k8s_lister *l)
{
	if (++*restarts > K8S_LIST_RESTARTS_MAX)
		return fail("k8s list %s: 410 Gone %d times in a row, giving up",
		    path, *restarts);
	log_warn("k8s list %s: continue token expired (410 Gone), listing"
	    " again from the start", path);
	l->restart(l->arg);
	return 0;
}

int
k8s_list_each(struct k8s *k, const char *path, const char *selector,
	      bool metadata_only, const struct k8s_lister *l)
{
	char p[URL_MAX];
	struct call c = { "GET", p, NULL, metadata_only ? ACCEPT_META :
		ACCEPT_JSON, NULL, false };
	char *cont = NULL, *prev;
	int ret = 0, restarts = 0;

	for (int page = 0; ret == 0; page++) {
		if (page == LIST_PAGES_MAX) {
			ret = fail("k8s list %s: more than %d pages", path,
			    LIST_PAGES_MAX);
			break;
		}
		prev = cont;
		ret = list_path(k, p, sizeof(p), path, selector, prev);
		if (ret == 0)
			ret = list_page(k, &c, l, &cont);
		free(prev);
		if (ret == LIST_EXPIRED) {
			ret = list_restart(path, &restarts, l);
			page = -1;
			continue;
		}
		if (!cont)
			break;
	}
	free(cont);
	return ret;
}

int
k8s_list(struct k8s *k, const char *path, const char *selector,
	 bool metadata_only, struct json_object **items)
{
	struct k8s_lister l = { array_add, array_clear, NULL };

	*items = json_object_new_array();
	l.arg = *items;
	if (k8s_list_each(k, path, selector, metadata_only, &l) == 0)
		return 0;
	json_object_put(*items);
	*items = NULL;
	return -1;
}

int
k8s_delete(struct k8s *k, const char *path, const char *propagation)
{
	char p[URL_MAX];
	struct call c = { "DELETE", p, NULL, ACCEPT_JSON, NULL, true };
	struct buf out = BUF_INIT(BODY_MAX);
	long st;

	snprintf(p, sizeof(p), "%s%s%s", path, propagation ?
	    "?propagationPolicy=" : "", propagation ? propagation : "");
	st = run_call(k, &c, &out);
	if (st > 0 && st / 100 != 2 && st != 404)
		fail_status(&c, st, &out);
	buf_release(&out);
	return st / 100 == 2 || st == 404 ? 0 : -1;
}
