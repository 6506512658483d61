/*
 * One answer shared by the workers of a pool: anonymous shared memory the
 * master maps before it forks, so a worker can answer a hot public route
 * from memory, and a write in any worker of the pool makes every worker
 * recompute at once.  A seqlock keeps readers from seeing half an update;
 * a generation number keeps a slow recompute from storing an answer older
 * than the last drop.
 */
#ifndef WEB_SHCACHE_H
#define WEB_SHCACHE_H

#include <stddef.h>
#include <stdint.h>

#define SHCACHE_MAX 2048

/* Master, before forking: maps the shared slot (on failure every get is a
 * miss). */
void shcache_setup(void);
/* Copies the answer into out (NUL-terminated) if it is younger than
 * max_age_ms; its length, or -1 on a miss. */
int shcache_get(char *out, size_t size, int64_t max_age_ms);
/* The generation to pass to shcache_put: read it before computing. */
uint64_t shcache_gen(void);
/* Stores an answer computed at generation gen, unless a drop came since
 * or another worker is storing right now. */
void shcache_put(const char *data, size_t len, uint64_t gen);
/* Forgets the answer: the next get in any worker misses. */
void shcache_drop(void);

#include "base/banned.h"
#endif
