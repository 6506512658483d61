/*
 * For the local driver only: starting helper programs (initdb, pg_ctl,
 * redis-server) as the instance user, and looking at server processes the
 * driver did not fork itself (they are found through their pid files and
 * checked in /proc).
 */
#ifndef PROV_LOCAL_PROC_H
#define PROV_LOCAL_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct local;

/* Runs argv (argv[0] an absolute path, NULL-terminated) as the instance
 * user in a new session, in directory cwd, stdin from /dev/null, stdout
 * and stderr appended to out_path (created by that user), with a minimal
 * environment, umask 077 (split: 027) and no other descriptors.  Waits up to
 * timeout_ms for it to exit (then kills it).  Returns its exit status
 * (0..255), or -1 (logged) when it could not run, was killed or timed out.
 * Daemons started this way outlive the caller. */
int local_proc_run(const struct local *l, const char *const argv[],
		   const char *cwd, const char *out_path, int64_t timeout_ms);

/* True when pid is alive (a zombie is dead), its name is comm, and its
 * working directory is cwd (a deleted cwd still matches; when /proc does
 * not show it, its command line names cwd's parent directory). */
bool local_proc_is_alive(pid_t pid, const char *comm, const char *cwd);
/* The pid in the first line of pidfile when local_proc_is_alive says so;
 * 0 otherwise (no file, stale pid, someone else's process). */
pid_t local_proc_pidfile(const char *pidfile, const char *comm,
			 const char *cwd);
/* A live process named comm working in cwd, found by scanning /proc (for
 * when the pid file is gone); 0 when there is none. */
pid_t local_proc_find(const char *comm, const char *cwd);
/* Sends sig to pid, as the instance user, if local_proc_is_alive says
 * it is comm working in cwd.  0 (sent, or gone) or -1 (logged). */
int local_proc_signal(const struct local *l, pid_t pid, int sig,
		      const char *comm, const char *cwd);
/* local_proc_signal, then waits up to wait_ms for pid to be gone (as
 * local_proc_is_alive sees it).  True when it is gone. */
bool local_proc_stop(const struct local *l, pid_t pid, int sig,
		     int64_t wait_ms, const char *comm, const char *cwd);
/* True when something else holds TCP port on address bind ("*": any
 * address): a bind there fails with "address in use". */
bool local_port_taken(const char *bind, int port);
/* Memory of pid and its direct children in bytes: the sum of their
 * proportional set sizes, or pid's resident set size when that cannot be
 * read; -1 when unknown. */
int64_t local_proc_memory(pid_t pid);

#include "base/banned.h"
#endif
