/*
 * libFuzzer target for base/utf8: the validator against a decoder written
 * here from RFC 3629's definition (code points, not byte ranges), and the
 * cutting helpers against what utf8.h promises: never past max, never
 * inside a well-formed sequence, copies terminated and NUL-free.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(cond) do { if (!(cond)) __builtin_trap(); } while (0)

/* Length of the sequence at s decoded by arithmetic, or 0: the shortest
 * form of a scalar value (not a surrogate, at most U+10FFFF). */
static size_t
ref_seq_len(const uint8_t *s, size_t n)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len;
	uint32_t cp;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4;
	else
		return 0;
	cp = s[0] & (0x7f >> len);
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static bool
ref_is_text(const uint8_t *s, size_t n)
{
	for (size_t i = 0, len; i < n; i += len)
		if (s[i] == 0 || !(len = ref_seq_len(s + i, n - i)))
			return false;
	return true;
}

/* True when cutting s[0..n) at k splits no well-formed sequence. */
static bool
is_boundary(const uint8_t *s, size_t n, size_t k)
{
	for (size_t i = 0, len; i < k; i += len) {
		len = ref_seq_len(s + i, n - i);
		if (len == 0)
			len = 1;
		if (i + len > k)
			return false;
	}
	return true;
}

static void
check_prefix(const uint8_t *s, size_t n, size_t max)
{
	size_t k = utf8_prefix((const char *)s, n, max);

	if (n <= max) {
		MUST(k == n);
		return;
	}
	MUST(k <= max);
	MUST(is_boundary(s, n, k));
	/* the longest such prefix: one character more does not fit */
	MUST(k == max || k + (ref_seq_len(s + k, n - k) ?
	    ref_seq_len(s + k, n - k) : 1) > max);
}

static void
check_copy(const uint8_t *data, size_t size, size_t room)
{
	char *src = malloc(size + 1), *dst = malloc(room + 1);
	size_t n, len;

	if (!src || !dst) {
		free(src);
		free(dst);
		return;
	}
	memcpy(src, data, size);
	src[size] = '\0';
	len = strlen(src);
	memset(dst, 'Z', room + 1);
	n = utf8_copy(dst, room, src);
	if (room == 0) {
		MUST(n == 0 && dst[0] == 'Z');
	} else {
		MUST(n < room && dst[n] == '\0' && strlen(dst) == n);
		MUST(memcmp(dst, src, n) == 0);
		MUST(n == utf8_prefix(src, len, room - 1));
	}
	MUST(dst[room] == 'Z');
	free(src);
	free(dst);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max = size ? data[0] % (size + 2) : 0;

	MUST(utf8_is_text((const char *)data, size) == ref_is_text(data, size));
	MUST(utf8_seq_len((const char *)data, size) == ref_seq_len(data, size));
	check_prefix(data, size, max);
	check_prefix(data, size, size / 2);
	check_copy(data, size, max);
	check_copy(data, size, 7);
	return 0;
}
