/* OTLP/HTTP protobuf export of span records (see otlp.h). */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/meter.h"
#include "base/pb.h"
#include "base/xalloc.h"
#include "net/otlp.h"

#define OTLP_BATCH_BYTES (2 << 20)
#define OTLP_INTERVAL_MS 1000
#define OTLP_PIPE_WRITE 4096	/* PIPE_BUF: what one write carries whole */
#define OTLP_GATHER_MS 20

/* OTLP field numbers (collector/trace/v1, trace/v1, resource/v1,
 * common/v1). */
enum {
	REQUEST_RESOURCE_SPANS = 1, RS_RESOURCE = 1, RS_SCOPE_SPANS = 2,
	RESOURCE_ATTRIBUTES = 1, SS_SCOPE = 1, SCOPE_NAME = 1,
	KV_KEY = 1, KV_VALUE = 2, ANY_STRING = 1,
};

static void
add_attr(struct pb *res, const char *key, const char *value)
{
	uint8_t vmem[320], kvmem[384];
	struct pb v = PB_INIT(vmem), kv = PB_INIT(kvmem);

	pb_str(&v, ANY_STRING, value);
	pb_str(&kv, KV_KEY, key);
	pb_msg(&kv, KV_VALUE, &v);
	pb_msg(res, RESOURCE_ATTRIBUTES, &kv);
}

/* The resource every span of this process shares, as protobuf. */
static int
resource_pb(struct otlp *o, const char *group)
{
	struct pb r = PB_INIT(o->resource);
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	add_attr(&r, "service.name", "dbtree");
	add_attr(&r, "service.namespace", "dbtree");
	add_attr(&r, "dbtree.group", group);
	add_attr(&r, "host.name", host);
	o->resource_len = r.len;
	return r.full ? -1 : 0;
}

int
otlp_open(struct otlp *o, const char *endpoint, int64_t timeout_ms,
	  const char *group)
{
	memset(o, 0, sizeof(*o));
	o->endpoint = endpoint;
	o->timeout_ms = timeout_ms;
	buf_init(&o->spans, OTLP_BATCH_BYTES);
	if (resource_pb(o, group) < 0)
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
otlp_add(struct otlp *o, const uint8_t *rec, size_t len)
{
	if (o->nspans == OTLP_BATCH_SPANS || buf_add(&o->spans, rec, len) < 0)
		return false;
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
post(struct otlp *o, const struct pb *body)
{
	struct curl_slist *h = curl_slist_append(NULL,
	    "Content-Type: application/x-protobuf");
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
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body->data);
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

/* One nested message of the request, written into memory of its own. */
static struct pb
nested(size_t cap)
{
	return (struct pb){ xmalloc(cap), 0, cap, false };
}

/* The request: one ResourceSpans with this process's resource and one
 * ScopeSpans holding the batch's records as they are. */
static struct pb
request_pb(const struct otlp *o)
{
	static const uint8_t scope_name[] = "dbtree";
	struct pb scope = nested(64), ss, rs, req;

	pb_bytes(&scope, SCOPE_NAME, scope_name, sizeof(scope_name) - 1);
	ss = nested(o->spans.len + 128);
	pb_msg(&ss, SS_SCOPE, &scope);
	pb_raw(&ss, o->spans.data, o->spans.len);
	rs = nested(ss.len + o->resource_len + 64);
	pb_bytes(&rs, RS_RESOURCE, o->resource, o->resource_len);
	pb_msg(&rs, RS_SCOPE_SPANS, &ss);
	req = nested(rs.len + 16);
	pb_msg(&req, REQUEST_RESOURCE_SPANS, &rs);
	free(scope.data);
	free(ss.data);
	free(rs.data);
	return req;
}

int
otlp_flush(struct otlp *o)
{
	int64_t t0 = clock_mono_us();
	struct pb req;
	int ret, n = o->nspans;

	if (!n)
		return 0;
	req = request_pb(o);
	ret = req.full ? fail("traces: a batch did not fit") : post(o, &req);
	meter_op(METER_OUTBOUND, "otlp", ret == 0, clock_mono_us() - t0);
	meter_add(METER_SPANS, ret == 0 ? "exported" : "failed", (uint64_t)n);
	free(req.data);
	buf_reset(&o->spans);
	o->nspans = 0;
	return ret;
}

bool
otlp_batch_sink(const uint8_t *rec, size_t len, void *arg)
{
	return !rec || otlp_add(arg, rec, len);
}

/* The records of a request waiting for one write: at most PIPE_BUF
 * bytes, which a pipe takes whole or not at all. */
static struct {
	uint8_t data[OTLP_PIPE_WRITE];
	size_t len;
	int spans;
} pending;

/* Writes what is pending; a full pipe loses it (counted). */
static void
pipe_write(int fd)
{
	if (pending.len && write(fd, pending.data, pending.len) !=
	    (ssize_t)pending.len)
		meter_add(METER_SPANS, "dropped", (uint64_t)pending.spans);
	pending.len = 0;
	pending.spans = 0;
}

bool
otlp_pipe_sink(const uint8_t *rec, size_t len, void *arg)
{
	int fd = *(const int *)arg;

	if (!rec || len > sizeof(pending.data) - pending.len)
		pipe_write(fd);
	if (!rec)
		return true;
	if (len > sizeof(pending.data))
		return false;
	memcpy(pending.data + pending.len, rec, len);
	pending.len += len;
	pending.spans++;
	return true;
}

/* The length of the record at p (tag 0x12, varint length, span), or 0
 * while it is not all there yet; -1 for bytes that are not a record. */
static ssize_t
record_len(const uint8_t *p, size_t avail)
{
	uint64_t n = 0;
	size_t i = 1;

	if (p[0] != 0x12)
		return -1;
	for (int shift = 0; i < avail && shift < 35; shift += 7, i++) {
		n |= (uint64_t)(p[i] & 0x7f) << shift;
		if (!(p[i] & 0x80))
			return n > OTLP_PIPE_WRITE ? -1 : i + 1 + n <= avail ?
			    (ssize_t)(i + 1 + n) : 0;
	}
	return i >= avail ? 0 : -1;
}

/* Takes the complete records of in (the rest stays for the next read),
 * sending a batch whenever one fills. */
static void
take_records(struct otlp *o, struct buf *in)
{
	const uint8_t *p = (const uint8_t *)in->data;
	size_t start = 0;
	ssize_t n;

	while (start < in->len && (n = record_len(p + start,
	    in->len - start)) != 0) {
		if (n < 0) {	/* cannot happen with whole writes */
			log_err("traces: unreadable span record; dropped");
			start = in->len;
			break;
		}
		if (!otlp_add(o, p + start, (size_t)n)) {
			otlp_flush(o);
			if (!otlp_add(o, p + start, (size_t)n))
				meter_count(METER_SPANS, "dropped");
		}
		start += (size_t)n;
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
			in->len = 0;	/* cannot happen: records are small */
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
		take_records(o, &in);
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
	take_records(o, &in);
	otlp_flush(o);
	buf_release(&in);
	return 0;
}
