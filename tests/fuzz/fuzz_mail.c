/*
 * libFuzzer target for mail header building (net/mail.h, mail_headers):
 * the input is split at NUL bytes into subject, From, To and message id
 * (fields it lacks take good defaults).  A message mail_headers accepts
 * must come out as mail.h promises: seven headers in order, printable
 * ASCII with no line break but the folds of an encoded Subject, encoded
 * lines of at most 76 characters, words that decode to the subject (CR
 * and LF as spaces) and, for a UTF-8 subject, hold whole characters.
 */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/utf8.h"
#include "net/mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MUST(cond) do { if (!(cond)) __builtin_trap(); } while (0)
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const names[] = { "Date: ", "From: ", "To: ",
	"Subject: ", "Message-ID: <", "MIME-Version: 1.0",
	"Content-Type: multipart/alternative" };

/* Appends the bytes of the base64 text s[0..n) to out. */
static void
unbase64(const char *s, size_t n, struct buf *out)
{
	unsigned char raw[6000];
	int len;

	MUST(n % 4 == 0 && n / 4 * 3 <= sizeof(raw));
	len = EVP_DecodeBlock(raw, (const unsigned char *)s, (int)n);
	MUST(len >= 0);
	len -= (n > 0 && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
	buf_add(out, raw, (size_t)len);
}

/* Printable ASCII; CR only in "\r\n " (a fold), and only where allowed. */
static void
check_ascii(const char *h, bool folds)
{
	for (const char *p = h; *p; p++) {
		if (*p == '\r') {
			MUST(folds && p[1] == '\n' && p[2] == ' ');
			p += 2;
			continue;
		}
		MUST(*p >= ' ' && *p < 0x7f);
	}
}

/* The subject with CR and LF as spaces, as mail.h says it is sent. */
static char *
cleaned(const char *subject)
{
	char *s = strdup(subject);

	for (char *p = s; p && *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	return s;
}

static void
check_encoded(const char *words, const char *want, bool whole_chars)
{
	struct buf got = BUF_INIT(1 << 20);
	const char *line = words;

	for (;;) {
		const char *end = strstr(line, "\r\n");
		size_t len = end ? (size_t)(end - line) : strlen(line);
		size_t text;

		/* a whole line, "Subject: " or the fold's space included */
		MUST(len <= 76 - (line == words ? strlen("Subject: ") : 0));
		if (line != words) {
			MUST(line[0] == ' ');
			line++;
			len--;
		}
		MUST(len > 12 && strncmp(line, "=?UTF-8?B?", 10) == 0 &&
		    strncmp(line + len - 2, "?=", 2) == 0);
		text = got.len;
		unbase64(line + 10, len - 12, &got);
		if (whole_chars)
			MUST(utf8_is_text(buf_cstr(&got) + text,
			    got.len - text));
		if (!end)
			break;
		line = end + 2;
	}
	MUST(got.len == strlen(want) && memcmp(got.data, want, got.len) == 0);
	buf_release(&got);
}

/* Whether mail.h says the subject s goes out as encoded-words. */
static bool
is_encoded(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < ' ' || *p >= 0x7f)
			return true;
	return strstr(s, "=?") != NULL;
}

static void
check_subject(const char *h, const char *subject)
{
	char *want = cleaned(subject);
	const char *value = h + strlen("Subject: ");

	if (!want)
		return;
	check_ascii(h, true);
	if (is_encoded(want))
		check_encoded(value, want, utf8_is_text(want, strlen(want)));
	else
		MUST(strcmp(value, want) == 0);
	free(want);
}

static void
check_headers(const struct curl_slist *list, const struct mail_msg *m)
{
	size_t i = 0;

	for (; list; list = list->next, i++) {
		MUST(i < N(names));
		MUST(strncmp(list->data, names[i], strlen(names[i])) == 0);
		if (i == 3)
			check_subject(list->data, m->subject);
		else
			check_ascii(list->data, false);
	}
	MUST(i == N(names));
}

/* The next field of the input: up to the next NUL, or def at the end. */
static const char *
field(const char **p, const char *end, const char *def)
{
	const char *s = *p;

	if (s >= end)
		return def;
	*p = s + strlen(s) + 1;
	return s;
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
	char *copy = malloc(size + 1);
	const char *p = copy, *end = copy + size;
	struct mail_msg m;
	struct curl_slist *list;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	m.subject = field(&p, end, "");
	m.from = field(&p, end, "dbtree <no-reply@dbtree.local>");
	m.to = field(&p, end, "someone@example.com");
	m.message_id = field(&p, end, "42.8f3a@dbtree");
	m.text = m.html = "";
	list = mail_headers(&m);
	if (list)
		check_headers(list, &m);
	curl_slist_free_all(list);
	free(copy);
	return 0;
}
