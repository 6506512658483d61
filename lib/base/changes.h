/*
 * Host-wide change counters, so that a cache in one process learns at
 * once that another process of the same host changed what it holds (a
 * person's profile, cached by the account pool, changes when the tree pool
 * records a harvest).  A writer notes the change after its commit; a
 * reader takes a stamp before it reads the database and trusts its copy
 * only while the stamp is unchanged.  A change noted after the reader's
 * stamp therefore always invalidates the copy, whichever of the two saw
 * the database first.
 *
 * The counters live in one shared file, <run_dir>/shared/changes, mapped
 * by every pool and by the jobs: CHANGES_SLOTS counters a key is hashed
 * to (a collision only costs a reread) and one that stands for every key
 * (changes_note_all: a job pass may touch anyone).  Another host's changes
 * are not seen here: caches bound that by their own time to live.
 */
#ifndef BASE_CHANGES_H
#define BASE_CHANGES_H

#include <stdbool.h>
#include <stdint.h>

#define CHANGES_SLOTS 16384	/* a power of two */

/* Maps <run_dir>/shared/changes, creating it; 0, or -1 (logged) when it
 * cannot: then every stamp is refused and nothing is cached on them. */
int changes_attach(const char *run_dir);
void changes_detach(void);

/* The stamp of key now in *out; false when not attached. */
bool changes_stamp(const char *key, uint64_t *out);
/* Notes that what key names changed (after the change committed). */
void changes_note(const char *key);
/* Notes that anything may have changed. */
void changes_note_all(void);

#include "base/banned.h"
#endif
