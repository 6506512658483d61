/*
 * The shared session table (see the header for the rules).  A slot's seq
 * is odd while someone writes it; readers copy the slot and keep the copy
 * only if seq was even and unchanged.  Writers take a slot by moving seq
 * from even to odd; put gives up when it is taken (the next request just
 * looks up again), drop tries a little longer since it revokes.  A worker
 * killed in the middle of a write leaves its slot odd: it only ever misses.
 */
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include "base/clock.h"
#include "web/sesscache.h"

_Static_assert((SESSCACHE_SLOTS & (SESSCACHE_SLOTS - 1)) == 0,
    "SESSCACHE_SLOTS is a power of two");

struct slot {
	uint32_t seq;
	int64_t started_ms;	/* monotonic; 0 = empty */
	int64_t expires_ms;	/* epoch */
	char key[SESSCACHE_KEY_LEN];
	char uid[SESSCACHE_UID_LEN];
	/* the session's view: trusted like the session, and with its stamp */
	int64_t view_started_ms;	/* 0 = none */
	uint64_t view_stamp;
	size_t view_len;
	unsigned char view[SESSCACHE_VIEW_MAX];
};

#define DROP_TRIES 10000

static struct slot *table;

void
sesscache_setup(void)
{
	void *p = mmap(NULL, SESSCACHE_SLOTS * sizeof(*table),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	table = p == MAP_FAILED ? NULL : p;
}

void
sesscache_teardown(void)
{
	if (table)
		munmap(table, SESSCACHE_SLOTS * sizeof(*table));
	table = NULL;
}

static unsigned
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	return 0;
}

/* The first of the two slots key may live in: its hash is uniform, so its
 * leading digits are as good an index as any. */
static struct slot *
pair_of(const char *key)
{
	uint32_t h = 0;

	for (int i = 0; i < 8; i++)
		h = h << 4 | hex_digit(key[i]);
	return &table[(h & (SESSCACHE_SLOTS / 2 - 1)) * 2];
}

static bool
is_fresh(const struct slot *s, int64_t now_ms)
{
	return s->started_ms != 0 && now_ms - s->started_ms < SESSCACHE_TTL_MS
	    && clock_epoch_ms() < s->expires_ms;
}

/* A consistent copy of *s into *out, or false while it is being written. */
static bool
read_slot(const struct slot *s, struct slot *out)
{
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

	if (seq & 1)
		return false;
	memcpy(out, s, sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq;
}

static bool
lock_slot(struct slot *s)
{
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

	return !(seq & 1) && __atomic_compare_exchange_n(&s->seq, &seq,
	    seq + 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void
unlock_slot(struct slot *s)
{
	__atomic_fetch_add(&s->seq, 1, __ATOMIC_RELEASE);
}

/* A consistent copy of key's fresh slot into *copy; false when none. */
static bool
find(const char *key, struct slot *copy)
{
	struct slot *pair;
	int64_t now;

	if (!table || strlen(key) != SESSCACHE_KEY_LEN)
		return false;
	pair = pair_of(key);
	now = clock_mono_ms();
	for (int i = 0; i < 2; i++)
		if (read_slot(&pair[i], copy) &&
		    memcmp(copy->key, key, SESSCACHE_KEY_LEN) == 0 &&
		    is_fresh(copy, now))
			return true;
	return false;
}

bool
sesscache_get(const char *key, char uid[SESSCACHE_UID_LEN + 1])
{
	struct slot copy;

	if (!find(key, &copy))
		return false;
	memcpy(uid, copy.uid, SESSCACHE_UID_LEN);
	uid[SESSCACHE_UID_LEN] = '\0';
	return true;
}

bool
sesscache_view(const char *key, uint64_t stamp, void *view, size_t len)
{
	struct slot copy;

	if (!find(key, &copy) || copy.view_started_ms == 0 ||
	    copy.view_stamp != stamp || copy.view_len != len ||
	    clock_mono_ms() - copy.view_started_ms >= SESSCACHE_TTL_MS)
		return false;
	memcpy(view, copy.view, len);
	return true;
}

/* Where key's answer goes: its own slot, else an empty or stale one, else
 * the older of the pair. */
static struct slot *
victim(struct slot *pair, const char *key, int64_t now_ms)
{
	for (int i = 0; i < 2; i++)
		if (memcmp(pair[i].key, key, SESSCACHE_KEY_LEN) == 0)
			return &pair[i];
	for (int i = 0; i < 2; i++)
		if (!is_fresh(&pair[i], now_ms))
			return &pair[i];
	return pair[0].started_ms <= pair[1].started_ms ? &pair[0] : &pair[1];
}

void
sesscache_put(const char *key, const char *uid, int64_t expires_ms,
	      int64_t started_ms)
{
	struct slot *s;

	if (!table || strlen(key) != SESSCACHE_KEY_LEN ||
	    strlen(uid) != SESSCACHE_UID_LEN || started_ms == 0)
		return;
	s = victim(pair_of(key), key, clock_mono_ms());
	if (!lock_slot(s))
		return;
	if (memcmp(s->key, key, SESSCACHE_KEY_LEN) != 0 ||
	    memcmp(s->uid, uid, SESSCACHE_UID_LEN) != 0)
		s->view_started_ms = 0;	/* another session's view */
	memcpy(s->key, key, SESSCACHE_KEY_LEN);
	memcpy(s->uid, uid, SESSCACHE_UID_LEN);
	s->expires_ms = expires_ms;
	s->started_ms = started_ms;
	unlock_slot(s);
}

void
sesscache_put_view(const char *key, const void *view, size_t len,
		   uint64_t stamp, int64_t started_ms)
{
	struct slot *pair;

	if (!table || strlen(key) != SESSCACHE_KEY_LEN ||
	    len > SESSCACHE_VIEW_MAX || started_ms == 0)
		return;
	pair = pair_of(key);
	for (int i = 0; i < 2; i++) {
		if (memcmp(pair[i].key, key, SESSCACHE_KEY_LEN) != 0 ||
		    !lock_slot(&pair[i]))
			continue;
		if (memcmp(pair[i].key, key, SESSCACHE_KEY_LEN) == 0 &&
		    pair[i].started_ms != 0) {
			memcpy(pair[i].view, view, len);
			pair[i].view_len = len;
			pair[i].view_stamp = stamp;
			pair[i].view_started_ms = started_ms;
		}
		unlock_slot(&pair[i]);
		return;
	}
}

/* Empties *s if it holds what matches says (off is the field's offset,
 * len its size); a writer in the slot is waited for a little. */
static void
clear_if(struct slot *s, size_t off, const char *match, size_t len)
{
	for (int tries = 0; tries < DROP_TRIES; tries++) {
		if (!lock_slot(s))
			continue;
		if (memcmp((const char *)s + off, match, len) == 0)
			s->started_ms = s->view_started_ms = 0;
		unlock_slot(s);
		return;
	}
}

void
sesscache_drop(const char *key)
{
	struct slot *pair;

	if (!table || strlen(key) != SESSCACHE_KEY_LEN)
		return;
	pair = pair_of(key);
	for (int i = 0; i < 2; i++)
		clear_if(&pair[i], offsetof(struct slot, key), key,
		    SESSCACHE_KEY_LEN);
}

void
sesscache_drop_user(const char *uid)
{
	if (!table || strlen(uid) != SESSCACHE_UID_LEN)
		return;
	for (size_t i = 0; i < SESSCACHE_SLOTS; i++)
		if (memcmp(table[i].uid, uid, SESSCACHE_UID_LEN) == 0)
			clear_if(&table[i], offsetof(struct slot, uid), uid,
			    SESSCACHE_UID_LEN);
}
