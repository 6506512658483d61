/*
 * Randomness from the kernel CSPRNG (getrandom).  Numbers in a range are
 * drawn by rejection, without modulo bias.  Failure to read the kernel
 * source aborts: there is no safe fallback.
 */
#ifndef BASE_RAND_H
#define BASE_RAND_H

#include <stddef.h>
#include <stdint.h>

void rand_bytes(void *out, size_t n);
/* Uniform in [0, upper); upper must be > 0. */
uint64_t rand_below(uint64_t upper);
/* n random bytes as 2n lower-case hex digits plus NUL into out. */
void rand_hex(char *out, size_t nbytes);
/* len characters drawn uniformly from alphabet, NUL-terminated. */
void rand_string(char *out, size_t len, const char *alphabet);

#include "base/banned.h"
#endif
