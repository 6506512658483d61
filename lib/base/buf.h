/*
 * struct buf: a growable, always NUL-terminated byte buffer with a hard cap.
 *
 *	struct buf b = BUF_INIT(4096);
 *	if (buf_addf(&b, "id=%d", id) < 0)
 *		... the text would not fit under the cap; b is unchanged ...
 *	use(b.data, b.len);
 *	buf_release(&b);
 *
 * data is NULL until the first append; buf_cstr() never returns NULL.
 */
#ifndef BASE_BUF_H
#define BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;	/* cap on len; appends past it fail */
};

#define BUF_INIT(cap) { NULL, 0, 0, (cap) }

void buf_init(struct buf *b, size_t max);
/* Frees the storage; b may be reused after buf_init. */
void buf_release(struct buf *b);
/* Empties b, keeping its storage. */
void buf_reset(struct buf *b);
/* Append; 0 on success, -1 (b unchanged) when the cap would be passed. */
int buf_add(struct buf *b, const void *data, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Borrowed view of the text, "" when empty. */
const char *buf_cstr(const struct buf *b);
/* Hands the text to the caller (to free()); b is left empty. */
char *buf_detach(struct buf *b);

#include "base/banned.h"
#endif
