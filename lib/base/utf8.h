/*
 * UTF-8 text: the one validator for every string a client sends, and the
 * one way to shorten a string without cutting a character in half.
 *
 * "Text" is well-formed UTF-8 as RFC 3629 defines it (no overlong forms,
 * no surrogates U+D800..U+DFFF, nothing above U+10FFFF) without NUL bytes.
 *
 *	if (!utf8_is_text(s, len))
 *		... answer 400 ...
 *	printf("no preset '%.*s'", (int)utf8_prefix(s, strlen(s), 40), s);
 *	utf8_copy(reason, sizeof(reason), message);
 */
#ifndef BASE_UTF8_H
#define BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1..4) of the well-formed sequence that starts s[0..n), or 0 when
 * none does (n == 0 included).  A NUL byte is a sequence of length 1. */
size_t utf8_seq_len(const char *s, size_t n);

/* True when s[0..n) is text: well-formed UTF-8 without NUL bytes. */
bool utf8_is_text(const char *s, size_t n);

/* Length of the longest prefix of s[0..n) of at most max bytes that does
 * not end inside a well-formed sequence: n when n <= max.  A byte that
 * starts no well-formed sequence counts as a character of its own, so
 * input that is not UTF-8 is cut anywhere, but never past max. */
size_t utf8_prefix(const char *s, size_t n, size_t max);

/* Copies into dst (size bytes, NUL included) the longest prefix of the
 * string src that fits and ends on a character boundary (utf8_prefix),
 * and terminates it; nothing is written when size is 0.  Returns the
 * bytes copied, without the NUL. */
size_t utf8_copy(char *dst, size_t size, const char *src);

#include "base/banned.h"
#endif
