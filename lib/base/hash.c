/* SHA-256 as hex, on libcrypto's EVP_Digest. */
#include <openssl/evp.h>

#include <stdlib.h>

#include "base/hash.h"
#include "base/log.h"

void
hash_sha256_hex(const void *data, size_t len, char out[HASH_SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) ||
	    n != HASH_SHA256_LEN) {
		log_err("sha256: libcrypto failed");
		abort();	/* as on out-of-memory: no safe fallback */
	}
	for (unsigned int i = 0; i < n; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[2 * n] = '\0';
}
