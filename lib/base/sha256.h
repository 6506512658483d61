/*
 * SHA-256 (FIPS 180-4).  Login codes and session tokens are stored only as
 * their SHA-256, computed here so the secret never reaches PostgreSQL.
 */
#ifndef BASE_SHA256_H
#define BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* out gets the 32-byte digest of data[0..len). */
void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* out gets the digest as 64 lower-case hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char out[2 * SHA256_LEN + 1]);

#include "base/banned.h"
#endif
