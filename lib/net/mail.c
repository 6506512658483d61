/*
 * Outgoing mail through libcurl.  The MIME structure, its boundary and the
 * quoted-printable encoding all come from curl's MIME API; only the
 * top-level header lines are written here, with CR and LF replaced so that
 * no value can start a header of its own.  The "Content-Type:
 * multipart/alternative" line among them tells curl which multipart type
 * to announce: curl replaces it with its own line carrying the boundary.
 *
 * The file transport must store exactly what SMTP would send, and curl
 * serialises MIME only while sending it.  So curl sends the message to a
 * fake SMTP server in this process: a listening Unix socket with a random
 * abstract name, which takes only a connection from this process
 * (SO_PEERCRED) and answers it with the whole script of replies at once.
 * curl's multi interface runs the transfer and the fake server in turn, so
 * neither waits for the other; the bytes curl sent are then cut from after
 * DATA to the final ".", un-dot-stuffed and stored.  (Handing curl one end
 * of a socketpair as already connected would need no listener, but libcurl
 * 7.88, Debian 12's, still calls connect() on such a socket: curl #10626.)
 */
#define _GNU_SOURCE		/* struct ucred, accept4 */
#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/meter.h"
#include "base/trace.h"
#include "base/rand.h"
#include "base/utf8.h"
#include "net/mail.h"

#define HEADER_MAX 4096		/* one header line, folded */
#define ADDR_MAX 254
#define MSGID_MAX 200
#define WORD_FIRST 39		/* bytes: "Subject: =?UTF-8?B?<52>?=" is 73 */
#define WORD_MORE 45		/* bytes: " =?UTF-8?B?<60>?=" is 73 */
#define MIME_OVERHEAD 1024	/* boundaries, part headers, Mime-Version */

/* The replies to EHLO, MAIL FROM, RCPT TO, DATA, the message and QUIT. */
static const char file_script[] = "220 dbtree-file ESMTP\r\n"
				  "250 dbtree-file\r\n"
				  "250 OK\r\n"
				  "250 OK\r\n"
				  "354 go ahead\r\n"
				  "250 OK\r\n"
				  "221 bye\r\n";

/* One mail_send call: what it built, for one cleanup path. */
struct mail_job {
	CURL *curl;
	const struct mail_conf *conf;
	const struct mail_msg *msg;
	struct curl_slist *headers;
	struct curl_slist *rcpt;
	curl_mime *mime;
	size_t size;		/* most bytes it can take on the wire */
	char from_addr[ADDR_MAX + 1];
	char errbuf[CURL_ERROR_SIZE];
};

/* The file transport's SMTP server. */
struct fake_smtp {
	const char *id;		/* message id, for the logs */
	int listen_fd;
	int fd;			/* curl's connection once accepted, or -1 */
	bool eof;		/* curl has closed it */
	struct buf wire;	/* everything curl sent */
	char name[48];		/* abstract socket name (after its NUL) */
};

static const char *
html_entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	}
	return NULL;
}

int
mail_html_escape(struct buf *out, const char *s)
{
	size_t need = 0;
	int ret = 0;

	for (const char *p = s; *p; p++)
		need += html_entity(*p) ? strlen(html_entity(*p)) : 1;
	if (need > out->max || out->len > out->max - need)
		return -1;
	while (*s) {
		size_t n = strcspn(s, "&<>\"'");

		ret |= buf_add(out, s, n);
		s += n;
		if (*s)
			ret |= buf_adds(out, html_entity(*s++));
	}
	return ret;
}

/* Printable ASCII without space or angle brackets, and an '@'. */
static bool
is_bare_address(const char *s, size_t n)
{
	if (n == 0 || n > ADDR_MAX || !memchr(s, '@', n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || c == '<' || c == '>')
			return false;
	}
	return true;
}

/* Usable as "<id>" in a header and as a file name. */
static bool
is_message_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MSGID_MAX || s[0] == '.' || !strchr(s, '@'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || strchr("<>/\\", c))
			return false;
	}
	return true;
}

/* Printable ASCII, where CR and LF will become spaces. */
static bool
is_ascii_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < ' ' && *p != '\r' && *p != '\n') || *p >= 0x7f)
			return false;
	return true;
}

/* The bare address of "Name <addr>" or "addr" into out (ADDR_MAX + 1). */
static int
from_address(const char *from, char *out)
{
	const char *start = strrchr(from, '<');
	const char *end;

	if (start) {
		start++;
		end = strchr(start, '>');
	} else {
		start = from;
		end = from + strlen(from);
	}
	if (!end || !is_bare_address(start, (size_t)(end - start)))
		return -1;
	snprintf(out, ADDR_MAX + 1, "%.*s", (int)(end - start), start);
	return 0;
}

/* Refuses what must not reach a header, a command or a file name. */
static int
check_msg(const struct mail_msg *m, char *from_addr)
{
	if (!is_message_id(m->message_id))
		return fail("send mail: invalid message id");
	if (!is_bare_address(m->to, strlen(m->to)))
		return fail("send mail '%s': invalid recipient address",
		    m->message_id);
	if (!is_ascii_text(m->from) || from_address(m->from, from_addr) < 0)
		return fail("send mail '%s': invalid from address",
		    m->message_id);
	return 0;
}

/* Appends s with CR and LF replaced by spaces. */
static int
add_clean(struct buf *b, const char *s)
{
	int ret = 0;

	while (*s && ret == 0) {
		size_t n = strcspn(s, "\r\n");

		ret = buf_add(b, s, n);
		s += n;
		if (*s && ret == 0) {
			ret = buf_addc(b, ' ');
			s++;
		}
	}
	return ret;
}

static bool
needs_encoding(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < ' ' || *p >= 0x7f)
			return true;
	return strstr(s, "=?") != NULL;
}

/* RFC 2047 "B" encoded-words, one per folded line; every line stays
 * within 76 characters and no word splits a UTF-8 character. */
static int
add_encoded_words(struct buf *b, const char *s)
{
	size_t n = strlen(s), max = WORD_FIRST;
	int ret = 0;

	while (n > 0 && ret == 0) {
		size_t k = utf8_prefix(s, n, max);

		ret = buf_adds(b, "=?UTF-8?B?") |
		    b64_add(b, s, k) |
		    buf_adds(b, "?=");
		s += k;
		n -= k;
		max = WORD_MORE;
		if (n > 0 && ret == 0)
			ret = buf_adds(b, "\r\n ");
	}
	return ret;
}

static int
add_subject(struct buf *line, const char *subject)
{
	struct buf clean = BUF_INIT(HEADER_MAX);
	int ret = add_clean(&clean, subject) | buf_adds(line, "Subject: ");

	if (ret == 0 && needs_encoding(buf_cstr(&clean)))
		ret = add_encoded_words(line, buf_cstr(&clean));
	else if (ret == 0)
		ret = buf_adds(line, buf_cstr(&clean));
	buf_release(&clean);
	return ret;
}

/* RFC 5322 date in UTC, with English names whatever the locale. */
static int
add_date(struct buf *b)
{
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = clock_now();
	struct tm tm;

	gmtime_r(&now, &tm);
	return buf_addf(b, "Date: %s, %d %s %d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* curl_slist_append that, like xmalloc, aborts when memory runs out. */
static struct curl_slist *
list_append(struct curl_slist *list, const char *s)
{
	struct curl_slist *l = curl_slist_append(list, s);

	if (!l) {
		log_err("out of memory appending to a curl list");
		abort();
	}
	return l;
}

/* Moves the line built (built == 0) onto the list. */
static int
push(struct curl_slist **list, struct buf *line, int built)
{
	if (built < 0)
		return -1;
	*list = list_append(*list, buf_cstr(line));
	buf_reset(line);
	return 0;
}

static int
build_headers(const struct mail_msg *m, struct curl_slist **list)
{
	struct buf line = BUF_INIT(HEADER_MAX);
	int ret = push(list, &line, add_date(&line));

	if (ret == 0)
		ret = push(list, &line,
		    buf_adds(&line, "From: ") | add_clean(&line, m->from));
	if (ret == 0)
		ret = push(list, &line, buf_addf(&line, "To: %s", m->to));
	if (ret == 0)
		ret = push(list, &line, add_subject(&line, m->subject));
	if (ret == 0)
		ret = push(list, &line,
		    buf_addf(&line, "Message-ID: <%s>", m->message_id));
	if (ret == 0)
		ret = push(list, &line, buf_adds(&line, "MIME-Version: 1.0"));
	if (ret == 0)
		ret = push(list, &line, buf_adds(&line,
		    "Content-Type: multipart/alternative"));
	buf_release(&line);
	if (ret < 0)
		log_err("send mail '%s': a header is over %d bytes",
		    m->message_id, HEADER_MAX);
	return ret;
}

struct curl_slist *
mail_headers(const struct mail_msg *msg)
{
	char from_addr[ADDR_MAX + 1];
	struct curl_slist *list = NULL;

	if (check_msg(msg, from_addr) < 0)
		return NULL;
	if (build_headers(msg, &list) < 0) {
		curl_slist_free_all(list);
		return NULL;
	}
	return list;
}

/* Most bytes body s can take on the wire: quoted-printable, CRLF line
 * ends (4: a space before one becomes "=20"), soft line breaks every 76
 * characters and dot-stuffing (the quarter on top). */
static size_t
body_bound(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n' || (*p == '\r' && p[1] != '\n'))
			n += 4;
		else if (*p == '\t' || (*p >= ' ' && *p < 0x7f && *p != '='))
			n += 1;
		else if (*p != '\r')
			n += 3;
	}
	return n + n / 4 + 64;
}

static int
check_size(struct mail_job *j)
{
	const struct curl_slist *h;

	j->size = MIME_OVERHEAD + body_bound(j->msg->text) +
	    body_bound(j->msg->html);
	for (h = j->headers; h; h = h->next)
		j->size += strlen(h->data) + 2;
	if (j->size > MAIL_MAX_SIZE)
		return fail("send mail '%s': message too large (up to %zu"
		    " bytes, limit %d)", j->msg->message_id, j->size,
		    MAIL_MAX_SIZE);
	return 0;
}

/* s with every line break made CRLF: curl's quoted-printable encoder
 * keeps only CRLF as a line break and escapes a lone LF as "=0A". */
static char *
to_crlf(const char *s)
{
	struct buf b = BUF_INIT(2 * strlen(s));	/* cannot overflow */

	while (*s) {
		size_t n = strcspn(s, "\r\n");

		buf_add(&b, s, n);
		s += n;
		if (*s) {
			s += (s[0] == '\r' && s[1] == '\n') ? 2 : 1;
			buf_add(&b, "\r\n", 2);
		}
	}
	return buf_detach(&b);
}

static int
add_alternative(curl_mime *mime, const char *type, const char *body)
{
	curl_mimepart *part = curl_mime_addpart(mime);
	char *crlf = to_crlf(body);
	int ret = 0;

	if (!part ||
	    curl_mime_data(part, crlf, CURL_ZERO_TERMINATED) != CURLE_OK ||
	    curl_mime_type(part, type) != CURLE_OK ||
	    curl_mime_encoder(part, "quoted-printable") != CURLE_OK)
		ret = -1;
	free(crlf);
	return ret;
}

static curl_mime *
build_mime(CURL *curl, const struct mail_msg *m)
{
	curl_mime *mime = curl_mime_init(curl);

	if (mime &&
	    add_alternative(mime, "text/plain; charset=UTF-8", m->text) == 0 &&
	    add_alternative(mime, "text/html; charset=UTF-8", m->html) == 0)
		return mime;
	curl_mime_free(mime);
	log_err("send mail '%s': cannot build the MIME message",
	    m->message_id);
	return NULL;
}

/* What both transports set: limits, envelope, headers and body. */
static int
set_common(struct mail_job *j)
{
	CURL *c = j->curl;
	int bad = 0;

	bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, j->errbuf) != 0;
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != 0;
	bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
	    (long)j->conf->timeout_ms) != 0;
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)j->conf->connect_timeout_ms) != 0;
	bad |= curl_easy_setopt(c, CURLOPT_MAIL_FROM, j->from_addr) != 0;
	bad |= curl_easy_setopt(c, CURLOPT_MAIL_RCPT, j->rcpt) != 0;
	bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, j->headers) != 0;
	bad |= curl_easy_setopt(c, CURLOPT_MIMEPOST, j->mime) != 0;
	return bad ? -1 : 0;
}

static int
set_smtp(struct mail_job *j)
{
	const struct mail_conf *conf = j->conf;
	CURL *c = j->curl;
	int bad = 0;

	bad |= curl_easy_setopt(c, CURLOPT_URL, conf->smtp_url) != 0;
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != 0;
	bad |= curl_easy_setopt(c, CURLOPT_USE_SSL, conf->smtp_require_tls ?
	    (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY) != 0;
	if (conf->smtp_user && *conf->smtp_user) {
		bad |= curl_easy_setopt(c, CURLOPT_USERNAME,
		    conf->smtp_user) != 0;
		bad |= curl_easy_setopt(c, CURLOPT_PASSWORD,
		    conf->smtp_password ? conf->smtp_password : "") != 0;
	}
	return bad ? -1 : 0;
}

/* A 55x reply to RCPT TO.  curl reports a refused MAIL FROM the same way
 * (CURLE_SEND_ERROR), so its message tells the two apart; were it ever
 * reworded, a refusal would only be retried as a temporary failure. */
static bool
is_rcpt_refused(CURLcode rc, long code, const char *errbuf)
{
	return (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR) &&
	    code >= 550 && code <= 559 && strncmp(errbuf, "RCPT", 4) == 0;
}

/* What the transfer that ended with rc means for the caller. */
static int
transfer_result(struct mail_job *j, CURLcode rc)
{
	const char *id = j->msg->message_id;
	long code = 0;

	curl_easy_getinfo(j->curl, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK && code / 100 == 2)
		return MAIL_SENT;
	if (is_rcpt_refused(rc, code, j->errbuf)) {
		log_warn("send mail '%s': recipient refused (%ld)", id, code);
		return MAIL_REJECTED;
	}
	if (rc == CURLE_OK)
		snprintf(j->errbuf, sizeof(j->errbuf), "last reply %ld", code);
	log_err("send mail '%s': %s", id,
	    j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc));
	return -1;
}

static int
send_smtp(struct mail_job *j)
{
	if (set_common(j) < 0 || set_smtp(j) < 0)
		return fail("send mail '%s': curl refused an option",
		    j->msg->message_id);
	return transfer_result(j, curl_easy_perform(j->curl));
}

static void
fake_close(struct fake_smtp *f)
{
	if (f->listen_fd >= 0)
		close(f->listen_fd);
	if (f->fd >= 0)
		close(f->fd);
	f->listen_fd = f->fd = -1;
	buf_release(&f->wire);
}

/* Listens on a fresh abstract Unix socket: nothing on disk to clean up. */
static int
fake_open(struct fake_smtp *f, const char *id)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	char hex[33];

	f->id = id;
	f->fd = -1;
	f->eof = false;
	buf_init(&f->wire, 2 * MAIL_MAX_SIZE);
	rand_hex(hex, 16);
	snprintf(f->name, sizeof(f->name), "dbtree-mail-%s", hex);
	memcpy(sa.sun_path + 1, f->name, strlen(f->name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(f->name));
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0 ||
	    bind(f->listen_fd, (struct sockaddr *)&sa, len) < 0 ||
	    listen(f->listen_fd, 4) < 0)
		return fail("send mail '%s': listen: %s", id, strerror(errno));
	return 0;
}

/* Takes curl's connection, and no other process's, and queues every
 * reply of the conversation on it. */
static int
fake_accept(struct fake_smtp *f)
{
	const ssize_t n = (ssize_t)sizeof(file_script) - 1;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(f->listen_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC);

	if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR || errno == ECONNABORTED))
		return 0;
	if (fd < 0)
		return fail("send mail '%s': accept: %s", f->id,
		    strerror(errno));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.pid != getpid()) {
		close(fd);
		return 0;
	}
	f->fd = fd;
	if (send(fd, file_script, (size_t)n, MSG_NOSIGNAL) != n)
		return fail("send mail '%s': queue smtp replies: %s", f->id,
		    strerror(errno));
	return 0;
}

/* Appends what curl has sent so far. */
static int
fake_read(struct fake_smtp *f)
{
	char chunk[16384];

	for (;;) {
		ssize_t n = read(f->fd, chunk, sizeof(chunk));

		if (n > 0 && buf_add(&f->wire, chunk, (size_t)n) < 0)
			return fail("send mail '%s': smtp capture over %zu"
			    " bytes", f->id, f->wire.max);
		if (n == 0)
			f->eof = true;
		if (n == 0 || (n < 0 && (errno == EAGAIN ||
		    errno == EWOULDBLOCK)))
			return 0;
		if (n < 0 && errno != EINTR)
			return fail("send mail '%s': read smtp capture: %s",
			    f->id, strerror(errno));
	}
}

static int
fake_serve(struct fake_smtp *f)
{
	if (f->fd < 0 && fake_accept(f) < 0)
		return -1;
	if (f->fd >= 0 && !f->eof)
		return fake_read(f);
	return 0;
}

/* curl talks SMTP to "localhost", which is the fake server's socket; a
 * new connection every time, closed (after QUIT) when the transfer ends. */
static int
set_file(struct mail_job *j, const struct fake_smtp *f)
{
	CURL *e = j->curl;
	int bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_URL, "smtp://localhost") != 0;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp") != 0;
	bad |= curl_easy_setopt(e, CURLOPT_ABSTRACT_UNIX_SOCKET, f->name) != 0;
	bad |= curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) != 0;
	bad |= curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) != 0;
	return bad ? -1 : 0;
}

static CURLcode
multi_result(CURLM *multi)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(multi, &left)))
		if (m->msg == CURLMSG_DONE)
			return m->data.result;
	return CURLE_FAILED_INIT;
}

/* Runs curl's transfer and the fake server in turn until the transfer
 * ends, which curl's own timeouts guarantee.  *rc gets its result. */
static int
fake_run(CURL *curl, struct fake_smtp *f, CURLcode *rc)
{
	CURLM *multi = curl_multi_init();
	CURLMcode mc = multi ? curl_multi_add_handle(multi, curl) :
	    CURLM_OUT_OF_MEMORY;
	int running = 1, ret = 0;

	while (mc == CURLM_OK && running && ret == 0) {
		struct curl_waitfd w = { f->listen_fd, CURL_WAIT_POLLIN, 0 };

		mc = curl_multi_perform(multi, &running);
		ret = fake_serve(f);
		if (f->fd >= 0 && !f->eof)
			w.fd = f->fd;
		if (mc == CURLM_OK && running && ret == 0)
			mc = curl_multi_poll(multi, &w, 1, 1000, NULL);
	}
	if (mc != CURLM_OK)
		ret = fail("send mail '%s': %s", f->id,
		    curl_multi_strerror(mc));
	*rc = multi ? multi_result(multi) : CURLE_OUT_OF_MEMORY;
	curl_multi_remove_handle(multi, curl);
	curl_multi_cleanup(multi);
	return ret;
}

static const char *
find(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(s + i, needle, k) == 0)
			return s + i;
	return NULL;
}

/* Undoes SMTP dot-stuffing (RFC 5321 4.5.2): a line that starts ".."
 * was sent for one that starts ".". */
static int
dot_unstuff(const char *p, size_t n, struct buf *out)
{
	size_t i = 0;

	while (i < n) {
		const char *eol;
		size_t len;

		if (p[i] == '.' && i + 1 < n && p[i + 1] == '.')
			i++;
		eol = find(p + i, n - i, "\r\n");
		len = eol ? (size_t)(eol - (p + i)) + 2 : n - i;
		if (buf_add(out, p + i, len) < 0)
			return -1;
		i += len;
	}
	return 0;
}

/* The message in a captured conversation: after the DATA command, up to
 * and with the CRLF before the line that holds only ".". */
static int
smtp_message(const char *id, const struct buf *wire, struct buf *msg)
{
	const char *data = find(wire->data, wire->len, "\r\nDATA\r\n");
	const char *end;

	if (!data)
		return fail("send mail '%s': no DATA in smtp capture", id);
	data += strlen("\r\nDATA\r\n");
	end = find(data - 2, wire->len - (size_t)(data - 2 - wire->data),
	    "\r\n.\r\n");
	if (!end)
		return fail("send mail '%s': no end of data in smtp capture",
		    id);
	if (dot_unstuff(data, (size_t)(end + 2 - data), msg) < 0)
		return fail("send mail '%s': message over %zu bytes", id,
		    msg->max);
	return 0;
}

static int
write_all(int fd, const struct buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(fd, b->data + off, b->len - off);

		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0)
			off += (size_t)n;
	}
	return 0;
}

/* Makes the rename durable; the mail is written either way. */
static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		log_warn("fsync '%s': %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Writes b to fd (mode 0600: a mail may hold a login code), syncs and
 * closes it. */
static int
write_synced(int fd, const struct buf *b)
{
	if (fchmod(fd, 0600) < 0 || write_all(fd, b) < 0 || fsync(fd) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* <dir>/<id>.eml through a temporary file in dir: whole or absent. */
static int
write_eml(const char *dir, const char *id, const struct buf *msg)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s.eml", dir, id) >=
	    (int)sizeof(path) || snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX",
	    dir, id) >= (int)sizeof(tmp))
		return fail("send mail '%s': path too long", id);
	fd = mkstemp(tmp);
	if (fd < 0)
		return fail("send mail '%s': create '%s': %s", id, tmp,
		    strerror(errno));
	if (write_synced(fd, msg) < 0 || rename(tmp, path) < 0) {
		log_err("send mail '%s': write '%s': %s", id, path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	sync_dir(dir);
	return 0;
}

static int
send_file(struct mail_job *j)
{
	const char *id = j->msg->message_id;
	struct buf msg = BUF_INIT(2 * MAIL_MAX_SIZE);
	struct fake_smtp f;
	CURLcode rc;
	int ret = -1;

	if (fake_open(&f, id) < 0)
		goto out;
	if (set_common(j) < 0 || set_file(j, &f) < 0) {
		log_err("send mail '%s': curl refused an option", id);
		goto out;
	}
	if (fake_run(j->curl, &f, &rc) < 0 ||
	    transfer_result(j, rc) != MAIL_SENT)
		goto out;
	if (smtp_message(id, &f.wire, &msg) == 0)
		ret = write_eml(j->conf->file_dir, id, &msg);
out:
	fake_close(&f);
	buf_release(&msg);
	return ret;
}

/* The transfer, as a span and in the outbound metrics. */
static int
send_timed(struct mail_job *j)
{
	bool file = j->conf->transport == MAIL_FILE;
	int span = trace_span(file ? "mail file" : "smtp send", TRACE_CLIENT);
	int64_t t0 = clock_mono_us();
	int ret = file ? send_file(j) : send_smtp(j);

	meter_op(METER_OUTBOUND, file ? "mail_file" : "smtp",
	    ret == MAIL_SENT || ret == MAIL_REJECTED, clock_mono_us() - t0);
	if (ret == MAIL_REJECTED)
		trace_str(span, "dbtree.mail.outcome", "recipient refused");
	else if (ret != MAIL_SENT)
		trace_fail(span, "not sent");
	trace_span_end(span);
	return ret;
}

int
mail_send(void *curl, const struct mail_conf *conf,
	  const struct mail_msg *msg)
{
	struct mail_job j = { .curl = curl, .conf = conf, .msg = msg };
	int ret = -1;

	assert(conf->timeout_ms > 0 && conf->connect_timeout_ms > 0);
	if (check_msg(msg, j.from_addr) < 0)
		return -1;
	curl_easy_reset(curl);
	if (build_headers(msg, &j.headers) < 0 || check_size(&j) < 0)
		goto out;
	j.rcpt = list_append(NULL, msg->to);
	j.mime = build_mime(curl, msg);
	if (!j.mime)
		goto out;
	ret = send_timed(&j);
out:
	/* the handle points at the lists and the MIME freed below */
	curl_easy_reset(curl);
	curl_mime_free(j.mime);
	curl_slist_free_all(j.headers);
	curl_slist_free_all(j.rcpt);
	return ret;
}
