/*
 * For the local driver only: its instance agent.  When instances run as a
 * user of their own (split, see local_fs.h), the service, an unprivileged
 * user too, cannot start, signal or remove that user's processes and
 * files.  The agent is a small daemon running as the instance user
 * (bin/dbtree-agent.c); the driver asks it over a unix socket
 * (DBTREE_INSTANCE_AGENT, open to the instance user's group, of which the
 * service's user is a member), one request per connection.
 *
 * The client functions below return what the same call made here would:
 * they are what local_proc.c and local_fs.c do when l->agent is set.
 * Every failure is logged (by the agent too, in its own log).
 */
#ifndef PROV_LOCAL_AGENT_H
#define PROV_LOCAL_AGENT_H

#include <stdint.h>
#include <sys/types.h>

struct conf;
struct local;

/* local_proc_run as the instance user: its exit status, or -1.  Only the
 * driver's programs (initdb, pg_ctl, redis-server) are run. */
int local_agent_run(const struct local *l, const char *const argv[],
		    const char *cwd, const char *out_path, int64_t timeout_ms);
/* local_proc_signal as the instance user (postgres and redis-server
 * processes of an instance only).  0 or -1. */
int local_agent_signal(const struct local *l, pid_t pid, int sig,
		       const char *comm, const char *cwd);
/* Writes path (atomically, like local_fs_write) by the instance user,
 * with exactly mode.  0, -1. */
int local_agent_write(const struct local *l, const char *path,
		      const char *text, mode_t mode);
/* local_fs_copy(src, dst, mode, as_user) by the instance user; both
 * below an instance's directory.  0, -1. */
int local_agent_copy(const struct local *l, const char *src, const char *dst,
		     mode_t mode);
/* mkdir path (an existing directory is fine), then chmod mode.  0, -1. */
int local_agent_mkdir(const struct local *l, const char *path, mode_t mode);
/* local_fs_remove(path) by the instance user; for an instance's
 * directory itself, only the entries the instance user owns.  0, -1. */
int local_agent_remove(const struct local *l, const char *path);

/* The agent's side.  local_agent_open: the driver's settings as the
 * instance user sees them (the instance directory must exist; the agent
 * never runs as root), or NULL (logged).  local_agent_serve: binds
 * c->instance_agent (0660) and serves until SIGTERM or SIGINT; each
 * connection in a child of its own, so a slow initdb holds up nothing.
 * Returns 0, or 1 when it could not start (logged). */
struct local *local_agent_open(const struct conf *c);
void local_agent_close(struct local *l);
int local_agent_serve(const struct conf *c);

#include "base/banned.h"
#endif
