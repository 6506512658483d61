/*
 * The shared answer slot.  seq is odd while a writer copies; readers retry
 * or miss.  Only one writer at a time (the writing flag); a writer that
 * finds it taken simply does not store.
 */
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "base/clock.h"
#include "web/shcache.h"

struct slot {
	uint64_t seq;
	uint64_t gen;		/* bumped by every drop */
	int64_t at_ms;		/* monotonic; 0 = empty */
	uint32_t len;
	int32_t writing;
	char data[SHCACHE_MAX];
};

static struct slot *slot;

void
shcache_setup(void)
{
	void *p = mmap(NULL, sizeof(*slot), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	slot = p == MAP_FAILED ? NULL : p;
}

int
shcache_get(char *out, size_t size, int64_t max_age_ms)
{
	for (int tries = 0; slot && tries < 3; tries++) {
		uint64_t seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
		int64_t at = __atomic_load_n(&slot->at_ms, __ATOMIC_ACQUIRE);
		uint32_t len = __atomic_load_n(&slot->len, __ATOMIC_RELAXED);

		if (seq & 1)
			continue;
		if (at == 0 || clock_mono_ms() - at >= max_age_ms ||
		    len >= size || len >= SHCACHE_MAX)
			return -1;
		memcpy(out, slot->data, len);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&slot->seq, __ATOMIC_RELAXED) == seq) {
			out[len] = '\0';
			return (int)len;
		}
	}
	return -1;
}

uint64_t
shcache_gen(void)
{
	return slot ? __atomic_load_n(&slot->gen, __ATOMIC_ACQUIRE) : 0;
}

void
shcache_put(const char *data, size_t len, uint64_t gen)
{
	int32_t idle = 0;

	if (!slot || len >= SHCACHE_MAX || !__atomic_compare_exchange_n(
	    &slot->writing, &idle, 1, false, __ATOMIC_ACQUIRE,
	    __ATOMIC_RELAXED))
		return;
	if (__atomic_load_n(&slot->gen, __ATOMIC_ACQUIRE) == gen) {
		__atomic_fetch_add(&slot->seq, 1, __ATOMIC_ACQ_REL);
		memcpy(slot->data, data, len);
		__atomic_store_n(&slot->len, (uint32_t)len, __ATOMIC_RELAXED);
		__atomic_store_n(&slot->at_ms, clock_mono_ms(),
		    __ATOMIC_RELEASE);
		__atomic_fetch_add(&slot->seq, 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&slot->writing, 0, __ATOMIC_RELEASE);
}

void
shcache_drop(void)
{
	if (!slot)
		return;
	__atomic_fetch_add(&slot->gen, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&slot->at_ms, 0, __ATOMIC_RELEASE);
}
