/*
 * libFuzzer target for the request layer's query-string reading
 * (web/query.h): the input, cut at its first NUL as QUERY_STRING is, is
 * walked pair by pair, decoded, searched and checked, and every result is
 * held to the header's promises and to a decoder written here.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "web/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static int
hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The reference: the decoded bytes, or -1 at a bad escape. */
static long
ref_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
				return -1;
			out[o++] = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	return (long)o;
}

/* query_decode of s[0..n) against the reference; its result. */
static int
check_decode(const char *s, size_t n, char *out, char *ref)
{
	size_t len = (size_t)-1;
	int r = query_decode(s, n, out, &len);
	long want = ref_decode(s, n, ref);

	MUST(r == QUERY_OK || r == QUERY_BAD_ESCAPE || r == QUERY_NOT_TEXT);
	MUST(len <= n && out[len] == '\0');
	if (want < 0) {
		MUST(r == QUERY_BAD_ESCAPE);
		return r;
	}
	MUST(r != QUERY_BAD_ESCAPE && len == (size_t)want);
	MUST(memcmp(out, ref, len) == 0);
	MUST((r == QUERY_OK) == utf8_is_text(out, len));
	if (r == QUERY_OK)
		MUST(strlen(out) == len);
	return r;
}

/* Walks every pair: they tile the string, and each decodes as the
 * reference does.  Returns the first failure (as query_check must). */
static int
walk(const char *qs, char *out, char *ref, struct query_pair *first_bad)
{
	const char *pos = qs;
	struct query_pair p;
	int first = QUERY_OK;

	while (query_next(&pos, &p)) {
		const char *end = p.value ? p.value + p.value_len :
		    p.key + p.key_len;
		int r;

		MUST(p.key >= qs && end <= qs + strlen(qs));
		MUST(!memchr(p.key, '&', p.key_len) &&
		    !memchr(p.key, '=', p.key_len));
		MUST(!p.value || (p.value == p.key + p.key_len + 1 &&
		    !memchr(p.value, '&', p.value_len)));
		MUST(*end == '&' || *end == '\0');
		MUST(pos == end + (*end == '&'));
		r = check_decode(p.key, p.key_len, out, ref);
		if (r == QUERY_OK && p.value)
			r = check_decode(p.value, p.value_len, out, ref);
		if (r != QUERY_OK && first == QUERY_OK) {
			first = r;
			*first_bad = p;
		}
	}
	MUST(*pos == '\0');
	return first;
}

/* query_find finds the first pair whose raw key is name. */
static void
check_find(const char *qs, const char *name)
{
	struct query_pair p, q;
	const char *pos = qs;
	size_t n = strlen(name);
	bool found = query_find(qs, name, &p), seen = false;

	while (!seen && query_next(&pos, &q))
		seen = q.key_len == n && memcmp(q.key, name, n) == 0;
	MUST(found == seen);
	if (found)
		MUST(p.key == q.key && p.value == q.value &&
		    p.value_len == q.value_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *qs = malloc(size + 1), *out = malloc(size + 1);
	char *ref = malloc(size + 1);
	struct query_pair bad, walked_bad;
	int r, w;

	if (!qs || !out || !ref)
		goto out;
	memcpy(qs, data, size);
	qs[size] = '\0';
	w = walk(qs, out, ref, &walked_bad);
	r = query_check(qs, &bad);
	MUST(r == w);
	if (r != QUERY_OK)
		MUST(bad.key == walked_bad.key && bad.value == walked_bad.value);
	check_find(qs, "page");
	check_find(qs, "");
	check_find(qs, "instanceName");
out:
	free(qs);
	free(out);
	free(ref);
	return 0;
}
