/*
 * UTF-8 by the table of RFC 3629 section 4: the second byte's range
 * depends on the first (E0 needs A0..BF against overlongs, ED 80..9F
 * against surrogates, F0 90..BF against overlongs, F4 80..8F against
 * code points past U+10FFFF); C0, C1 and F5..FF never start a sequence.
 */
#include <string.h>

#include "base/utf8.h"

size_t
utf8_seq_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (len > n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

bool
utf8_is_text(const char *s, size_t n)
{
	size_t i = 0, len;

	while (i < n) {
		if (s[i] == '\0' || !(len = utf8_seq_len(s + i, n - i)))
			return false;
		i += len;
	}
	return true;
}

size_t
utf8_prefix(const char *s, size_t n, size_t max)
{
	size_t i = 0, len;

	if (n <= max)
		return n;
	while (i < max) {
		len = utf8_seq_len(s + i, n - i);
		if (len == 0)
			len = 1;
		if (len > max - i)
			break;
		i += len;
	}
	return i;
}

size_t
utf8_copy(char *dst, size_t size, const char *src)
{
	size_t n;

	if (size == 0)
		return 0;
	/* src may be far longer than dst: look only as far as a sequence
	 * that crosses the cut reaches, so that it is seen whole */
	n = utf8_prefix(src, strnlen(src, size + 4), size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}
