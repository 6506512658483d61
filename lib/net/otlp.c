/* OTLP/HTTP JSON export of span lines (see otlp.h). */
#include <curl/curl.h>
#include <errno.h>
#include <json.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/meter.h"
#include "net/otlp.h"

#define OTLP_BATCH_BYTES (2 << 20)
#define OTLP_INTERVAL_MS 1000
#define OTLP_LINE_MAX 4096	/* what one atomic pipe write carries */
#define OTLP_GATHER_MS 20

static void
add_attr(struct json_object *attrs, const char *key, const char *value)
{
	struct json_object *kv = json_object_new_object();
	struct json_object *v = json_object_new_object();

	json_object_object_add(v, "stringValue", json_object_new_string(value));
	json_object_object_add(kv, "key", json_object_new_string(key));
	json_object_object_add(kv, "value", v);
	json_object_array_add(attrs, kv);
}

/* The resource every span of this process shares. */
static int
resource_json(char *out, size_t size, const char *group)
{
	struct json_object *r = json_object_new_object();
	struct json_object *attrs = json_object_new_array();
	char host[256] = "", pid[24];
	int n;

	gethostname(host, sizeof(host) - 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	add_attr(attrs, "service.name", "dbtree");
	add_attr(attrs, "service.namespace", "dbtree");
	add_attr(attrs, "dbtree.group", group);
	add_attr(attrs, "host.name", host);
	json_object_object_add(r, "attributes", attrs);
	n = snprintf(out, size, "%s", json_object_to_json_string_ext(r,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(r);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
otlp_open(struct otlp *o, const char *endpoint, int64_t timeout_ms,
	  const char *group)
{
	memset(o, 0, sizeof(*o));
	o->endpoint = endpoint;
	o->timeout_ms = timeout_ms;
	buf_init(&o->spans, OTLP_BATCH_BYTES);
	if (resource_json(o->resource, sizeof(o->resource), group) < 0)
		return fail("traces: resource too long");
	if (!(o->curl = curl_easy_init()))
		return fail("traces: curl_easy_init failed");
	return 0;
}

void
otlp_close(struct otlp *o)
{
	curl_easy_cleanup(o->curl);
	o->curl = NULL;
	buf_release(&o->spans);
}

bool
otlp_add(struct otlp *o, const char *line, size_t len)
{
	size_t before = o->spans.len;

	if (o->nspans == OTLP_BATCH_SPANS)
		return false;
	if ((o->nspans && buf_addc(&o->spans, ',') < 0) ||
	    buf_add(&o->spans, line, len) < 0) {
		o->spans.len = before;
		return false;
	}
	o->nspans++;
	return true;
}

static size_t
discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

/* POSTs body; 0 when the collector took it (2xx). */
static int
post(struct otlp *o, const struct buf *body)
{
	struct curl_slist *h = curl_slist_append(NULL,
	    "Content-Type: application/json");
	CURL *e = o->curl;
	long status = 0;
	CURLcode rc;

	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, o->endpoint);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, buf_cstr(body));
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)body->len);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	rc = curl_easy_perform(e);
	curl_slist_free_all(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && status >= 200 && status < 300)
		return 0;
	log_warn("traces: collector did not take %s: %s (HTTP %ld)",
	    "a batch", rc != CURLE_OK ? curl_easy_strerror(rc) : "refused",
	    status);
	return -1;
}

int
otlp_flush(struct otlp *o)
{
	struct buf body = BUF_INIT(OTLP_BATCH_BYTES + 4096);
	int64_t t0 = clock_mono_us();
	int ret, n = o->nspans;

	if (!n)
		return 0;
	ret = buf_addf(&body, "{\"resourceSpans\":[{\"resource\":%s,"
	    "\"scopeSpans\":[{\"scope\":{\"name\":\"dbtree\"},\"spans\":[",
	    o->resource);
	ret |= buf_add(&body, o->spans.data, o->spans.len);
	ret |= buf_adds(&body, "]}]}]}");
	if (ret == 0)
		ret = post(o, &body);
	meter_op(METER_OUTBOUND, "otlp", ret == 0, clock_mono_us() - t0);
	for (int i = 0; i < n; i++)
		meter_count(METER_SPANS, ret == 0 ? "exported" : "failed");
	buf_release(&body);
	buf_reset(&o->spans);
	o->nspans = 0;
	return ret;
}

bool
otlp_batch_sink(const char *line, size_t len, void *arg)
{
	return !line || otlp_add(arg, line, len);
}

/* The lines of a request waiting for one write: at most PIPE_BUF bytes,
 * which a pipe takes whole or not at all. */
static struct {
	char data[OTLP_LINE_MAX];
	size_t len;
	int lines;
} pending;

/* Writes what is pending; a full pipe loses it (counted). */
static void
pipe_write(int fd)
{
	if (pending.len && write(fd, pending.data, pending.len) !=
	    (ssize_t)pending.len)
		for (int i = 0; i < pending.lines; i++)
			meter_count(METER_SPANS, "dropped");
	pending.len = 0;
	pending.lines = 0;
}

bool
otlp_pipe_sink(const char *line, size_t len, void *arg)
{
	int fd = *(const int *)arg;

	if (!line || len + 1 > sizeof(pending.data) - pending.len)
		pipe_write(fd);
	if (!line)
		return true;
	if (len + 1 > sizeof(pending.data))
		return false;
	memcpy(pending.data + pending.len, line, len);
	pending.data[pending.len + len] = '\n';
	pending.len += len + 1;
	pending.lines++;
	return true;
}

/* Takes the complete lines of in (the rest stays for the next read),
 * sending a batch whenever one fills. */
static void
take_lines(struct otlp *o, struct buf *in)
{
	size_t start = 0;

	for (size_t i = 0; i < in->len; i++) {
		if (in->data[i] != '\n')
			continue;
		if (!otlp_add(o, in->data + start, i - start)) {
			otlp_flush(o);
			if (!otlp_add(o, in->data + start, i - start))
				meter_count(METER_SPANS, "dropped");
		}
		start = i + 1;
	}
	if (start) {
		memmove(in->data, in->data + start, in->len - start);
		in->len -= start;
	}
}

/* Reads what the pipe holds; false at end of file or on an error. */
static bool
read_pipe(int fd, struct buf *in)
{
	char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_add(in, chunk, (size_t)n) < 0)
			in->len = 0;	/* a line past any span's size */
	return n < 0 && (errno == EAGAIN || errno == EINTR);
}

int
otlp_export_loop(struct otlp *o, int fd, volatile sig_atomic_t *stop)
{
	struct buf in = BUF_INIT(1 << 20);
	int64_t due = clock_mono_ms() + OTLP_INTERVAL_MS;
	bool open = true;

	while (open && !*stop) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t wait = due - clock_mono_ms();

		if (poll(&p, 1, (int)(wait > 0 ? wait : 0)) > 0)
			open = read_pipe(fd, &in);
		take_lines(o, &in);
		if (clock_mono_ms() >= due || o->nspans == OTLP_BATCH_SPANS) {
			otlp_flush(o);
			due = clock_mono_ms() + OTLP_INTERVAL_MS;
		} else if (o->nspans) {
			/* let the pipe gather more: one wake-up per many
			 * requests (the pipe holds far more than this) */
			clock_sleep_ms(OTLP_GATHER_MS, NULL);
		}
	}
	read_pipe(fd, &in);
	take_lines(o, &in);
	otlp_flush(o);
	buf_release(&in);
	return 0;
}
