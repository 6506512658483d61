/*
 * getrandom(2) wrappers.  rand_below() rejects draws from the incomplete
 * top slice of the 64-bit range so every value is equally likely.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/log.h"
#include "base/rand.h"

void
rand_bytes(void *out, size_t n)
{
	unsigned char *p = out;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			log_err("getrandom: %s", strerror(errno));
			abort();
		}
		p += got;
		n -= (size_t)got;
	}
}

uint64_t
rand_below(uint64_t upper)
{
	uint64_t limit, x;

	/* largest multiple of upper that fits: values >= limit are redrawn */
	limit = UINT64_MAX - (UINT64_MAX % upper);
	do
		rand_bytes(&x, sizeof(x));
	while (x >= limit);
	return x % upper;
}

void
rand_hex(char *out, size_t nbytes)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char b;

	for (size_t i = 0; i < nbytes; i++) {
		rand_bytes(&b, 1);
		out[2 * i] = digits[b >> 4];
		out[2 * i + 1] = digits[b & 15];
	}
	out[2 * nbytes] = '\0';
}

void
rand_string(char *out, size_t len, const char *alphabet)
{
	size_t n = strlen(alphabet);

	assert(n > 0);
	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[rand_below(n)];
	out[len] = '\0';
}
