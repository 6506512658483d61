/*
 * Query strings as nginx passes them (QUERY_STRING, undecoded):
 * "key=value&key2=value2", '+' for a space, %XX for any byte.  Pure
 * functions over the raw text, shared by the request layer (web/req.c)
 * and its fuzz target.
 *
 *	struct query_pair p;
 *	if (query_find(qs, "page", &p) && p.value)
 *		... p.value[0..p.value_len) is the raw value ...
 *
 * A decoded key or value is acceptable only when it is text
 * (base/utf8.h): the request layer answers 400 before any handler runs
 * when query_check() finds one that is not.
 */
#ifndef WEB_QUERY_H
#define WEB_QUERY_H

#include <stdbool.h>
#include <stddef.h>

/* One pair, pointing into the query string (raw, not decoded). */
struct query_pair {
	const char *key;
	size_t key_len;
	const char *value;	/* NULL for "key" without '=' */
	size_t value_len;
};

enum query_result {
	QUERY_OK = 0,
	QUERY_BAD_ESCAPE = 1,	/* '%' without two hex digits after it */
	QUERY_NOT_TEXT = 2,	/* decodes to bytes that are not UTF-8 text */
};

/* Reads the pair that starts at *pos (inside a NUL-terminated query
 * string) into p and moves *pos past it and its '&'.  False, with *pos
 * unchanged, at the end of the string.  Empty pairs ("a&&b") are read as
 * pairs with an empty key. */
bool query_next(const char **pos, struct query_pair *p);

/* The first pair of qs whose raw key is exactly name: true with p set,
 * false when there is none. */
bool query_find(const char *qs, const char *name, struct query_pair *p);

/* Decodes s[0..n) into out, which has room for n + 1 bytes, and
 * terminates it; *len (when not NULL) gets the decoded length (<= n).
 * QUERY_OK when the result is text, else QUERY_BAD_ESCAPE or
 * QUERY_NOT_TEXT (out then holds what was decoded so far, terminated). */
int query_decode(const char *s, size_t n, char *out, size_t *len);

/* Whether every key and value of qs decodes to text: QUERY_OK, or the
 * first failure with *bad (when not NULL) set to the pair it is in. */
int query_check(const char *qs, struct query_pair *bad);

#include "base/banned.h"
#endif
