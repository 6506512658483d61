/*
 * SHA-256 through libcrypto (EVP_Digest).  Login codes and session tokens
 * are stored only as their SHA-256, computed here so the secret never
 * reaches PostgreSQL; the local driver's Redis files name passwords by it.
 */
#ifndef BASE_HASH_H
#define BASE_HASH_H

#include <stddef.h>

#define HASH_SHA256_LEN 32			/* bytes of a digest */
#define HASH_SHA256_HEX (2 * HASH_SHA256_LEN + 1)	/* hex text + NUL */

/* out gets the SHA-256 of data[0..len) as 64 lower-case hex digits and a
 * NUL.  Cannot fail: a libcrypto that cannot hash aborts the process. */
void hash_sha256_hex(const void *data, size_t len, char out[HASH_SHA256_HEX]);

#include "base/banned.h"
#endif
