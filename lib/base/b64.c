/*
 * Base64 on EVP_EncodeBlock, which writes the padded standard form of a
 * whole block and a NUL; base64url is that text with '+' '/' swapped for
 * '-' '_' and the padding dropped.
 */
#include <openssl/evp.h>

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/xalloc.h"

/* Padded base64 of data[0..n) into a new string (the caller frees). */
static char *
encode(const void *data, size_t n, size_t *len)
{
	char *out;

	assert(n <= INT_MAX / 4 * 3);
	out = xmalloc((n + 2) / 3 * 4 + 1);

	*len = (size_t)EVP_EncodeBlock((unsigned char *)out, data, (int)n);
	return out;
}

int
b64_add(struct buf *out, const void *data, size_t n)
{
	size_t len;
	char *text = encode(data, n, &len);
	int ret = buf_add(out, text, len);

	free(text);
	return ret;
}

void
b64url(const void *data, size_t n, char *out)
{
	size_t len;
	char *text = encode(data, n, &len);

	while (len > 0 && text[len - 1] == '=')
		len--;
	for (size_t i = 0; i < len; i++)
		out[i] = text[i] == '+' ? '-' : text[i] == '/' ? '_' : text[i];
	out[len] = '\0';
	free(text);
}
