/*
 * A request-lifetime allocator: many small allocations, one arena_release()
 * at the end of the request.  In the sanitizer build every allocation is its
 * own malloc, so AddressSanitizer still sees overflows.
 */
#ifndef BASE_ARENA_H
#define BASE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
};

#define ARENA_INIT { NULL }

/* n bytes, aligned for any type, zeroed; never NULL (aborts on OOM). */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Frees everything allocated from a; a may be reused. */
void arena_release(struct arena *a);

#include "base/banned.h"
#endif
