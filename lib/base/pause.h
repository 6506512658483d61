/*
 * Pause points: named places where a test can hold a process, so that two
 * writers run in an order the test chooses instead of by luck.
 *
 * Off unless DBTREE_TEST_PAUSE_DIR names a directory (only the test stack
 * sets it); then pause_point("x") holds the caller while the file <dir>/x
 * exists.  A test creates <dir>/x to arm the point, waits for
 * <dir>/x.reached (written by the held process, with its pid), does what
 * it wants to interleave, and removes <dir>/x to let the process go on.
 * A process is never held longer than 60 s.
 */
#ifndef BASE_PAUSE_H
#define BASE_PAUSE_H

#include <stdbool.h>

/* Enables pause points under dir ("" or NULL: off).  Once, at startup. */
void pause_setup(const char *dir);
/* True when pause points are enabled. */
bool pause_enabled(void);
/* Holds the caller while the point `name` is armed (see above). */
void pause_point(const char *name);
/* Seconds a test moved the game's clock on: the whole number in the file
 * <dir>/clock-offset (see domain/gameday.h), 0 when pause points are off,
 * the file is missing or unreadable.  Production never reads a file. */
long long pause_clock_offset(void);

#include "base/banned.h"
#endif
