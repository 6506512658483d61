/*
 * Base64 (RFC 4648) through libcrypto's EVP_EncodeBlock: the standard
 * alphabet with padding (MIME words, Kubernetes Secret data), and the URL
 * alphabet without padding (session tokens).
 */
#ifndef BASE_B64_H
#define BASE_B64_H

#include <stddef.h>

struct buf;

/* Characters of the unpadded base64url text of n bytes. */
#define B64URL_LEN(n) (((n) * 4 + 2) / 3)

/* Appends the padded base64 of data[0..n) to out: 0, or -1 when it would
 * pass out's cap (out unchanged). */
int b64_add(struct buf *out, const void *data, size_t n);
/* out (B64URL_LEN(n) + 1 bytes) gets the unpadded base64url of data[0..n)
 * and a NUL. */
void b64url(const void *data, size_t n, char *out);

#include "base/banned.h"
#endif
