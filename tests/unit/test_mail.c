/*
 * mail: every case sends through the file transport into a temporary
 * directory (no network) and takes the .eml apart again: headers, the
 * RFC 2047 subject (decoded with libcrypto's EVP_DecodeBlock), the
 * multipart/alternative structure and both quoted-printable bodies.  One
 * curl handle serves every case, as one serves a worker.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "harness.h"
#include "net/mail.h"

#define FROM "dbtree <no-reply@dbtree.local>"
#define TO "kunde@example.com"
#define UTF8_SUBJECT "Deine Zitronen \xf0\x9f\x8d\x8b sind da \xe2\x80\x93 " \
	"\xc3\xbc" "ber 15"

static CURL *curl;
static char dir[] = "/tmp/test_mail.XXXXXX";

static struct mail_conf
file_conf(const char *d)
{
	struct mail_conf c = { .transport = MAIL_FILE, .file_dir = d,
		.smtp_url = "", .smtp_user = "", .smtp_password = "",
		.timeout_ms = 5000, .connect_timeout_ms = 2000 };

	return c;
}

static struct mail_msg
msg_of(const char *id, const char *subject, const char *text)
{
	struct mail_msg m = { FROM, TO, subject, text,
		"<p>Hallo &amp; willkommen</p>\n", id };

	return m;
}

static int
send_msg(const struct mail_msg *m)
{
	struct mail_conf c = file_conf(dir);

	return mail_send(curl, &c, m);
}

/* The whole .eml of message id, or NULL; the caller frees. */
static char *
read_eml(const char *id)
{
	char path[512];
	FILE *f;
	char *s;
	long n;

	snprintf(path, sizeof(path), "%s/%s.eml", dir, id);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = xmalloc((size_t)n + 1);
	s[fread(s, 1, (size_t)n, f)] = '\0';
	fclose(f);
	return s;
}

/* Entries of dir, and how many of them are hidden (temporary files). */
static int
count_entries(int *hidden)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	*hidden = 0;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		*hidden += e->d_name[0] == '.';
	}
	if (d)
		closedir(d);
	return n;
}

/* The header section, without the blank line; the caller frees. */
static char *
head_of(const char *eml)
{
	const char *end = strstr(eml, "\r\n\r\n");

	return end ? xstrndup(eml, (size_t)(end - eml) + 2) : xstrdup("");
}

/* Header lines (CRLF-terminated) of head that start with name + ':',
 * ignoring case. */
static int
count_lines(const char *head, const char *name)
{
	size_t k = strlen(name);
	int n = 0;

	for (const char *p = head; p && *p;) {
		if (!strncasecmp(p, name, k) && p[k] == ':')
			n++;
		p = strstr(p, "\r\n");
		if (p)
			p += 2;
	}
	return n;
}

/* The unfolded value of header name in head, or NULL; the caller frees. */
static char *
field(const char *head, const char *name)
{
	struct buf b = BUF_INIT(1 << 16);
	size_t k = strlen(name);
	const char *p = head;

	while (p && !(strncmp(p, name, k) == 0 && p[k] == ':'))
		p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL;
	if (!p || !*p)
		return NULL;
	for (p += k + 2; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n' && p[2] != ' ' &&
		    p[2] != '\t')
			break;
		if (*p != '\r' && *p != '\n')
			buf_addc(&b, *p);
	}
	return buf_detach(&b);
}

/* Decodes n base64 characters (a multiple of 4) onto out; -1 if bad. */
static int
b64_decode(const char *s, size_t n, struct buf *out)
{
	unsigned char raw[256];
	int len;

	if (n % 4 || n / 4 * 3 > sizeof(raw))
		return -1;
	len = EVP_DecodeBlock(raw, (const unsigned char *)s, (int)n);
	if (len < 0)
		return -1;
	len -= (n > 0 && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
	return buf_add(out, raw, (size_t)len);
}

/* A whole UTF-8 sequence sequence after sequence, none cut short. */
static bool
is_whole_utf8(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 :
		    c >= 0xc0 ? 2 : 0;

		if (len == 0 || i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/*
 * Decodes an unfolded Subject made of "=?UTF-8?B?...?=" words separated by
 * spaces into out.  Counts the words, checks each is at most 75
 * characters and holds whole UTF-8 characters.  -1 on anything else.
 */
static int
decode_words(const char *value, struct buf *out, int *words)
{
	const char *p = value;

	*words = 0;
	while (*p) {
		const char *end = strstr(p, "?=");
		size_t start = out->len;

		if (strncmp(p, "=?UTF-8?B?", 10) != 0 || !end ||
		    (size_t)(end + 2 - p) > 75 ||
		    b64_decode(p + 10, (size_t)(end - p - 10), out) < 0 ||
		    !is_whole_utf8(out->data + start, out->len - start))
			return -1;
		(*words)++;
		p = end + 2;
		if (*p == ' ')
			p++;
		else if (*p)
			return -1;
	}
	return 0;
}

/* Quoted-printable decoding of s, soft line breaks removed. */
static char *
qp_decode(const char *s, size_t n)
{
	struct buf b = BUF_INIT(1 << 20);

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' &&
		    s[i + 2] == '\n') {
			i += 2;
		} else if (s[i] == '=' && i + 2 < n) {
			char hex[3] = { s[i + 1], s[i + 2], '\0' };

			buf_addc(&b, (char)strtol(hex, NULL, 16));
			i += 2;
		} else {
			buf_addc(&b, s[i]);
		}
	}
	return buf_detach(&b);
}

/* The boundary from the top-level Content-Type; the caller frees. */
static char *
boundary_of(const char *head)
{
	char *ct = field(head, "Content-Type");
	const char *b = ct ? strstr(ct, "; boundary=") : NULL;
	char *out = b ? xstrdup(b + strlen("; boundary=")) : NULL;

	free(ct);
	return out;
}

/* The decoded body of the part whose Content-Type is type; the caller
 * frees.  NULL when the part is missing or not quoted-printable. */
static char *
part_body(const char *eml, const char *type)
{
	char *head = head_of(eml), *bnd = boundary_of(head), *out = NULL;
	char line[128], delim[128];
	const char *p, *body, *end;

	snprintf(line, sizeof(line), "\r\nContent-Type: %s\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", type);
	snprintf(delim, sizeof(delim), "\r\n--%s", bnd ? bnd : "?");
	p = strstr(eml, line);
	body = p ? p + strlen(line) : NULL;
	end = body ? strstr(body, delim) : NULL;
	if (bnd && end)
		out = qp_decode(body, (size_t)(end - body));
	free(head);
	free(bnd);
	return out;
}

static void
test_file_written(void)
{
	struct mail_msg m = msg_of("1.aa@dbtree", "Hallo", "Text\n");
	char path[512];
	struct stat st;
	int hidden;

	CHECK_INT(send_msg(&m), MAIL_SENT);
	snprintf(path, sizeof(path), "%s/1.aa@dbtree.eml", dir);
	if (!CHECK(stat(path, &st) == 0))
		return;
	CHECK(S_ISREG(st.st_mode));
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK(st.st_size > 200);
	count_entries(&hidden);
	CHECK_INT(hidden, 0);	/* no temporary file left behind */
}

static void
test_headers(void)
{
	struct mail_msg m = msg_of("2.bb@dbtree", "Hallo", "Text\n");
	char *eml, *head, *bnd, *date;
	char delim[128];

	CHECK_INT(send_msg(&m), MAIL_SENT);
	eml = read_eml("2.bb@dbtree");
	if (!CHECK(eml != NULL))
		return;
	head = head_of(eml);
	CHECK(strstr(head, "\r\nMessage-ID: <2.bb@dbtree>\r\n") != NULL);
	CHECK_INT(count_lines(head, "MIME-Version"), 1);
	CHECK(strstr(head, "\r\nMIME-Version: 1.0\r\n") != NULL);
	CHECK(strstr(head, "\r\nFrom: " FROM "\r\n") != NULL);
	CHECK(strstr(head, "\r\nTo: " TO "\r\n") != NULL);
	CHECK_INT(count_lines(head, "Content-Type"), 1);
	CHECK(strstr(head, "Content-Type: multipart/alternative; boundary=")
	    != NULL);
	date = field(head, "Date");
	CHECK(date && strlen(date) >= 29 && date[3] == ',' &&
	    strcmp(date + strlen(date) - 6, " +0000") == 0);
	bnd = boundary_of(head);
	if (CHECK(bnd && strlen(bnd) > 10)) {
		snprintf(delim, sizeof(delim), "\r\n--%s\r\nContent-Type: "
		    "text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: "
		    "quoted-printable\r\n\r\n", bnd);
		CHECK(strstr(eml, delim) != NULL);
		snprintf(delim, sizeof(delim), "\r\n--%s\r\nContent-Type: "
		    "text/html; charset=UTF-8\r\nContent-Transfer-Encoding: "
		    "quoted-printable\r\n\r\n", bnd);
		CHECK(strstr(eml, delim) != NULL);
		snprintf(delim, sizeof(delim), "\r\n--%s--\r\n", bnd);
		CHECK(strstr(eml, delim) != NULL);
		CHECK_INT(strlen(strstr(eml, delim)), strlen(delim));
	}
	free(date);
	free(bnd);
	free(head);
	free(eml);
}

/* Sends subject and decodes it back from the file into out. */
static int
subject_roundtrip(const char *id, const char *subject, struct buf *out,
		  int *words, char **raw)
{
	struct mail_msg m = msg_of(id, subject, "Text\n");
	char *eml, *head;
	int ret;

	if (send_msg(&m) != MAIL_SENT || !(eml = read_eml(id)))
		return -1;
	head = head_of(eml);
	*raw = field(head, "Subject");
	ret = *raw ? decode_words(*raw, out, words) : -1;
	free(head);
	free(eml);
	return ret;
}

static void
test_utf8_subject(void)
{
	struct buf out = BUF_INIT(4096);
	char *raw = NULL;
	int words = 0;

	CHECK_INT(subject_roundtrip("3.cc@dbtree", UTF8_SUBJECT, &out, &words,
	    &raw), 0);
	CHECK_STR(buf_cstr(&out), UTF8_SUBJECT);
	CHECK(words >= 1);
	CHECK(raw && strstr(raw, "Zitronen") == NULL);	/* really encoded */
	free(raw);
	buf_release(&out);
}

/* The Subject lines of head (folded ones too) are at most max long. */
static bool
subject_lines_within(const char *head, size_t max)
{
	const char *p = strstr(head, "\r\nSubject: ");
	int lines = 0;

	for (p = p ? p + 2 : NULL; p && (lines == 0 || *p == ' '); lines++) {
		const char *eol = strstr(p, "\r\n");

		if (!eol || (size_t)(eol - p) > max)
			return false;
		p = eol + 2;
	}
	return lines > 1;
}

static void
test_long_subject(void)
{
	struct buf subject = BUF_INIT(4096), out = BUF_INIT(4096);
	char *raw = NULL, *eml, *head;
	int words = 0;

	for (int i = 0; i < 12; i++)
		buf_adds(&subject, "Zitrone \xf0\x9f\x8d\x8b \xc3\xbc" "ber "
		    "\xe2\x80\x93 ");
	CHECK_INT(subject_roundtrip("4.dd@dbtree", buf_cstr(&subject), &out,
	    &words, &raw), 0);
	CHECK_STR(buf_cstr(&out), buf_cstr(&subject));
	CHECK(words >= 5);
	eml = read_eml("4.dd@dbtree");
	head = eml ? head_of(eml) : xstrdup("");
	CHECK(subject_lines_within(head, 76));
	CHECK(strstr(head, "\r\n =?UTF-8?B?") != NULL);	/* folded */
	free(head);
	free(eml);
	free(raw);
	buf_release(&subject);
	buf_release(&out);
}

static void
test_ascii_subject(void)
{
	struct mail_msg m = msg_of("5.ee@dbtree", "Your order 42 (paid): ok!",
	    "Text\n");
	char *eml;

	CHECK_INT(send_msg(&m), MAIL_SENT);
	eml = read_eml("5.ee@dbtree");
	CHECK(eml && strstr(eml, "\r\nSubject: Your order 42 (paid): ok!\r\n"));
	CHECK(eml && !strstr(eml, "=?UTF-8?"));
	free(eml);
}

/* Something that looks like an encoded-word is encoded itself. */
static void
test_marker_subject(void)
{
	struct buf out = BUF_INIT(4096);
	char *raw = NULL;
	int words = 0;

	CHECK_INT(subject_roundtrip("6.ff@dbtree", "a =?UTF-8?B?QQ==?= b",
	    &out, &words, &raw), 0);
	CHECK_STR(buf_cstr(&out), "a =?UTF-8?B?QQ==?= b");
	CHECK(raw && strncmp(raw, "=?UTF-8?B?", 10) == 0);
	free(raw);
	buf_release(&out);
}

static void
check_no_bcc(const char *id, const char *subject, const char *from,
	     const char *want)
{
	struct mail_msg m = msg_of(id, subject, "Text\n");
	struct buf out = BUF_INIT(4096);
	char *eml, *head, *raw;
	int words;

	m.from = from;
	CHECK_INT(send_msg(&m), MAIL_SENT);
	eml = read_eml(id);
	if (!CHECK(eml != NULL))
		return;
	head = head_of(eml);
	CHECK_INT(count_lines(head, "Bcc"), 0);
	CHECK(strstr(head, "\r\nBcc") == NULL);
	raw = field(head, "Subject");
	if (raw && strncmp(raw, "=?", 2) == 0 &&
	    CHECK_INT(decode_words(raw, &out, &words), 0))
		CHECK_STR(buf_cstr(&out), want);
	else
		CHECK_STR(raw, want);
	free(raw);
	free(head);
	free(eml);
	buf_release(&out);
}

static void
test_header_injection(void)
{
	check_no_bcc("7.gg@dbtree", "Hallo\r\nBcc: x@y", FROM,
	    "Hallo  Bcc: x@y");
	check_no_bcc("8.hh@dbtree", "Gr\xc3\xbc\xc3\x9f" "e\nBcc: x@y", FROM,
	    "Gr\xc3\xbc\xc3\x9f" "e Bcc: x@y");
	check_no_bcc("9.ii@dbtree", "Hallo", FROM "\r\nBcc: z@z", "Hallo");
}

static void
test_dot_lines(void)
{
	struct mail_msg m = msg_of("10.jj@dbtree", "Punkte",
	    "first\n.hidden\n.\n..two\nlast");
	char *eml, *text;

	CHECK_INT(send_msg(&m), MAIL_SENT);
	eml = read_eml("10.jj@dbtree");
	if (!CHECK(eml != NULL))
		return;
	CHECK(strstr(eml, "\r\n.hidden\r\n.\r\n..two\r\n") != NULL);
	text = part_body(eml, "text/plain; charset=UTF-8");
	CHECK_STR(text, "first\r\n.hidden\r\n.\r\n..two\r\nlast");
	free(text);
	free(eml);
}

#define BODY_START "Gr\xc3\xbc\xc3\x9f" "e, 2 + 2 = 4 \r\ntab\t\r\nlang "

/* Both bodies come back exactly, line breaks made CRLF: UTF-8, '=',
 * trailing spaces, a line past 76 characters. */
static void
test_bodies_roundtrip(void)
{
	struct buf text = BUF_INIT(4096);
	struct mail_msg m;
	char *eml, *got;

	buf_adds(&text, "Gr\xc3\xbc\xc3\x9f" "e, 2 + 2 = 4 \r\ntab\t\n");
	for (int i = 0; i < 30; i++)
		buf_adds(&text, "lang \xf0\x9f\x8d\x8b ");
	buf_adds(&text, "\n\nEnde.");
	m = msg_of("11.kk@dbtree", "Body", buf_cstr(&text));
	m.html = "<p>\xc3\xbc & =</p>\n<p>zwei</p>";
	CHECK_INT(send_msg(&m), MAIL_SENT);
	eml = read_eml("11.kk@dbtree");
	if (!CHECK(eml != NULL))
		return;
	got = part_body(eml, "text/plain; charset=UTF-8");
	CHECK(got && strncmp(got, BODY_START, strlen(BODY_START)) == 0);
	CHECK(got && strlen(got) == text.len + 3);	/* 3 LF became CRLF */
	CHECK(got && strstr(got, "\r\n\r\nEnde.") != NULL);
	free(got);
	got = part_body(eml, "text/html; charset=UTF-8");
	CHECK_STR(got, "<p>\xc3\xbc & =</p>\r\n<p>zwei</p>");
	free(got);
	free(eml);
	buf_release(&text);
}

/* A retry with the same Message-ID replaces the file. */
static void
test_retry_replaces(void)
{
	struct mail_msg m = msg_of("12.ll@dbtree", "Retry", "erster\n");
	char *eml, *text;
	int hidden, before;

	CHECK_INT(send_msg(&m), MAIL_SENT);
	before = count_entries(&hidden);
	m.text = "zweiter\n";
	CHECK_INT(send_msg(&m), MAIL_SENT);
	CHECK_INT(count_entries(&hidden), before);
	CHECK_INT(hidden, 0);
	eml = read_eml("12.ll@dbtree");
	text = eml ? part_body(eml, "text/plain; charset=UTF-8") : NULL;
	CHECK_STR(text, "zweiter\r\n");
	free(text);
	free(eml);
}

#define LARGE_START "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz" \
	"abcdefghijk\r\nmnop"

/* Near the size limit: the fake server keeps up with curl. */
static void
test_large_body(void)
{
	size_t n = 150 * 1024;
	char *big = xmalloc(n + 1), *eml, *text;
	struct mail_msg m = msg_of("13.mm@dbtree", "Gross", big);

	for (size_t i = 0; i < n; i++)
		big[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
	big[n] = '\0';
	CHECK_INT(send_msg(&m), MAIL_SENT);
	eml = read_eml("13.mm@dbtree");
	text = eml ? part_body(eml, "text/plain; charset=UTF-8") : NULL;
	CHECK(text && strlen(text) == n + n / 64);
	CHECK(text && strncmp(text, LARGE_START, strlen(LARGE_START)) == 0);
	free(text);
	free(eml);
	free(big);
}

static void
test_too_large(void)
{
	size_t n = MAIL_MAX_SIZE;
	char *big = xmalloc(n + 1);
	struct mail_msg m = msg_of("14.nn@dbtree", "Zu gross", big);
	int hidden, before = count_entries(&hidden);

	memset(big, 'x', n);
	big[n] = '\0';
	CHECK_INT(send_msg(&m), -1);
	CHECK_INT(count_entries(&hidden), before);
	free(big);
}

/* What must not reach a header, an SMTP command or a file name. */
static void
test_refused(void)
{
	static const char *const ids[] = { "", "no-at-sign", "../x@y",
		"sub/x@y", "sub\\x@y", "<x@y>", "a b@c", ".hidden@x",
		"\xc3\xbc@x" };
	static const char *const tos[] = { "", "noat", "a b@c", "<x@y>",
		"x@y\r\nRCPT TO:<evil@x>", "x@y>" };
	static const char *const froms[] = { "", "dbtree", "dbtree <x@y",
		"D\xc3\xbc <x@y>", "dbtree <a b@c>" };
	char sub[600];
	int hidden, before;
	struct mail_msg m;

	snprintf(sub, sizeof(sub), "%s/sub", dir);	/* for "sub/x@y" */
	if (!CHECK(mkdir(sub, 0700) == 0 || access(sub, F_OK) == 0))
		return;
	before = count_entries(&hidden);
	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		m = msg_of(ids[i], "S", "T");
		CHECK_INT(send_msg(&m), -1);
	}
	for (size_t i = 0; i < ARRAY_LEN(tos); i++) {
		m = msg_of("15.oo@dbtree", "S", "T");
		m.to = tos[i];
		CHECK_INT(send_msg(&m), -1);
	}
	for (size_t i = 0; i < ARRAY_LEN(froms); i++) {
		m = msg_of("15.oo@dbtree", "S", "T");
		m.from = froms[i];
		CHECK_INT(send_msg(&m), -1);
	}
	CHECK_INT(count_entries(&hidden), before);
	snprintf(sub, sizeof(sub), "%s/sub/x@y.eml", dir);
	CHECK_INT(access(sub, F_OK), -1);
	m = msg_of("15.oo@dbtree", "S", "T");
	m.from = "no-reply@dbtree.local";	/* bare is fine */
	CHECK_INT(send_msg(&m), MAIL_SENT);
}

static void
test_missing_dir(void)
{
	struct mail_msg m = msg_of("16.pp@dbtree", "S", "T");
	char missing[600];
	struct mail_conf c;

	snprintf(missing, sizeof(missing), "%s/none", dir);
	c = file_conf(missing);
	CHECK_INT(mail_send(curl, &c, &m), -1);
	CHECK_INT(access(missing, F_OK), -1);
	CHECK_INT(send_msg(&m), MAIL_SENT);	/* the handle still works */
}

static void
test_html_escape(void)
{
	struct buf b = BUF_INIT(64);

	CHECK_INT(buf_adds(&b, "<p>"), 0);
	CHECK_INT(mail_html_escape(&b, "a&b<c>d\"e'f"), 0);
	CHECK_STR(buf_cstr(&b), "<p>a&amp;b&lt;c&gt;d&quot;e&#39;f");
	CHECK_INT(mail_html_escape(&b, ""), 0);
	CHECK_INT(mail_html_escape(&b, "\xc3\xbc plain"), 0);
	CHECK_STR(buf_cstr(&b),
	    "<p>a&amp;b&lt;c&gt;d&quot;e&#39;f\xc3\xbc plain");
	buf_release(&b);
}

/* "x&" becomes "x&amp;", 6 bytes: a cap of 6 fits, 5 does not and
 * leaves the buffer as it was. */
static void
test_html_escape_cap(void)
{
	struct buf fit = BUF_INIT(6), tight = BUF_INIT(5);

	CHECK_INT(mail_html_escape(&fit, "x&"), 0);
	CHECK_STR(buf_cstr(&fit), "x&amp;");
	CHECK_INT(mail_html_escape(&fit, "y"), -1);
	CHECK_STR(buf_cstr(&fit), "x&amp;");
	CHECK_INT(buf_adds(&tight, "ab"), 0);
	CHECK_INT(mail_html_escape(&tight, "'"), -1);
	CHECK_STR(buf_cstr(&tight), "ab");
	CHECK_INT(tight.len, 2);
	CHECK_INT(mail_html_escape(&tight, "<"), -1);
	CHECK_INT(mail_html_escape(&tight, "c<"), -1);	/* not even "c" */
	CHECK_STR(buf_cstr(&tight), "ab");
	CHECK_INT(mail_html_escape(&tight, "cd"), 0);
	CHECK_STR(buf_cstr(&tight), "abcd");
	buf_release(&fit);
	buf_release(&tight);
}

static const struct test_case cases[] = {
	{ "file_written", test_file_written },
	{ "headers", test_headers },
	{ "utf8_subject", test_utf8_subject },
	{ "long_subject", test_long_subject },
	{ "ascii_subject", test_ascii_subject },
	{ "marker_subject", test_marker_subject },
	{ "header_injection", test_header_injection },
	{ "dot_lines", test_dot_lines },
	{ "bodies_roundtrip", test_bodies_roundtrip },
	{ "retry_replaces", test_retry_replaces },
	{ "large_body", test_large_body },
	{ "too_large", test_too_large },
	{ "refused", test_refused },
	{ "missing_dir", test_missing_dir },
	{ "html_escape", test_html_escape },
	{ "html_escape_cap", test_html_escape_cap },
};

/* Removes dir, its files and the empty "sub". */
static void
remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[600];

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) < 0)
			rmdir(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

int
main(void)
{
	int ret;

	if (!mkdtemp(dir) || curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    !(curl = curl_easy_init())) {
		perror("test_mail setup");
		return 1;
	}
	ret = harness_run("mail", cases, ARRAY_LEN(cases));
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	remove_dir();
	return ret;
}
