/*
 * Allocation that never returns NULL: on out-of-memory the process logs and
 * aborts, and the pool master starts a fresh worker.  Never check the
 * result of these for NULL.
 */
#ifndef BASE_XALLOC_H
#define BASE_XALLOC_H

#include <stddef.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Copies of s (s must not be NULL); the caller frees. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#include "base/banned.h"
#endif
