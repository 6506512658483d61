/*
 * Query strings (see query.h).  Keys are matched undecoded: the names
 * handlers ask for are plain ASCII, and a client that escapes them gains
 * nothing.  Every key and value is still decoded once by query_check(),
 * so nothing that is not text gets past the request layer.
 */
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "base/xalloc.h"
#include "web/query.h"

bool
query_next(const char **pos, struct query_pair *p)
{
	const char *s = *pos;
	size_t len = strcspn(s, "&");
	const char *eq = memchr(s, '=', len);

	if (*s == '\0')
		return false;
	p->key = s;
	p->key_len = eq ? (size_t)(eq - s) : len;
	p->value = eq ? eq + 1 : NULL;
	p->value_len = eq ? len - p->key_len - 1 : 0;
	*pos = s + len + (s[len] == '&');
	return true;
}

bool
query_find(const char *qs, const char *name, struct query_pair *p)
{
	size_t n = strlen(name);

	while (query_next(&qs, p))
		if (p->key_len == n && memcmp(p->key, name, n) == 0)
			return true;
	return false;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
query_decode(const char *s, size_t n, char *out, size_t *len)
{
	size_t o = 0;
	int ret = QUERY_OK;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] != '%') {
			out[o++] = s[i] == '+' ? ' ' : s[i];
			continue;
		}
		hi = i + 2 < n ? hexval(s[i + 1]) : -1;
		lo = hi >= 0 ? hexval(s[i + 2]) : -1;
		if (lo < 0) {
			ret = QUERY_BAD_ESCAPE;
			break;
		}
		out[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	out[o] = '\0';
	if (len)
		*len = o;
	if (ret == QUERY_OK && !utf8_is_text(out, o))
		ret = QUERY_NOT_TEXT;
	return ret;
}

int
query_check(const char *qs, struct query_pair *bad)
{
	char *scratch = xmalloc(strlen(qs) + 1);
	struct query_pair p;
	int ret = QUERY_OK;

	while (ret == QUERY_OK && query_next(&qs, &p)) {
		ret = query_decode(p.key, p.key_len, scratch, NULL);
		if (ret == QUERY_OK && p.value)
			ret = query_decode(p.value, p.value_len, scratch,
			    NULL);
	}
	if (ret != QUERY_OK && bad)
		*bad = p;
	free(scratch);
	return ret;
}
