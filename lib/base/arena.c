/*
 * Arena: a chain of blocks.  Normal builds carve small allocations out of
 * 8 KiB blocks; large ones and every allocation under AddressSanitizer get a
 * block of their own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/log.h"
#include "base/xalloc.h"

#define ARENA_BLOCK 8192
#define ARENA_ALIGN 16
#define ARENA_MAX_ALLOC ((size_t)1 << 40)	/* far past any request */

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ONE_PER_ALLOC 1
#else
#define ARENA_ONE_PER_ALLOC 0
#endif

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	_Alignas(ARENA_ALIGN) unsigned char mem[];
};

static struct arena_block *
block_new(struct arena *a, size_t size)
{
	struct arena_block *b = xmalloc(sizeof(*b) + size);

	b->used = 0;
	b->size = size;
	b->next = a->head;
	a->head = b;
	return b;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (n > ARENA_MAX_ALLOC) {
		log_err("arena: refusing to allocate %zu bytes", n);
		abort();
	}
	if (ARENA_ONE_PER_ALLOC || need > ARENA_BLOCK / 4)
		b = block_new(a, n);
	else if (!b || b->size - b->used < need || b->size != ARENA_BLOCK)
		b = block_new(a, ARENA_BLOCK);
	p = b->mem + b->used;
	b->used += need < b->size - b->used ? need : b->size - b->used;
	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = arena_alloc(a, len + 1);

	memcpy(p, s, len);
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	p = arena_alloc(a, (size_t)(n < 0 ? 0 : n) + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
arena_release(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	for (; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}
