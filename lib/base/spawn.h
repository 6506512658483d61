/*
 * Running a helper program to completion (pg_dump, pg_restore, redis-cli)
 * without a shell: argv[0] is an absolute path, the environment is exactly
 * the one given (so a password passed in it reaches only the child), and
 * the run is bounded in time and, optionally, in the size of the file it
 * writes.  The last line the child wrote to stderr is kept as the reason.
 */
#ifndef BASE_SPAWN_H
#define BASE_SPAWN_H

#include <stddef.h>
#include <stdint.h>

struct spawn_opts {
	const char *const *argv;	/* argv[0]: absolute path */
	const char *const *env;		/* NULL-terminated; NULL: empty */
	int stdin_fd;			/* -1: /dev/null */
	int stdout_fd;			/* -1: /dev/null */
	const char *watch_path;		/* a file the child writes, or NULL */
	int64_t max_bytes;		/* its size cap; 0: none */
	int64_t timeout_ms;
};

enum spawn_outcome {
	SPAWN_TIMEOUT = 1000,	/* killed: ran past timeout_ms */
	SPAWN_TOO_BIG,		/* killed: watch_path grew past max_bytes */
	SPAWN_SIGNALLED,	/* died of a signal */
};

/* Runs o and waits: the exit status (0..255), a spawn_outcome, or -1 when
 * it could not start (logged).  err gets the child's last stderr line
 * ("" when none). */
int spawn_run(const struct spawn_opts *o, char *err, size_t err_size);

#include "base/banned.h"
#endif
