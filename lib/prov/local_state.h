/*
 * For the local driver only: what it remembers about an instance (the
 * state file), its passwords (the secret file), and the per-instance lock.
 * Both files are "key=value" lines, 0600, owned by the service.
 */
#ifndef PROV_LOCAL_STATE_H
#define PROV_LOCAL_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "prov/local_fs.h"

#define LOCAL_PW_MIN 8
#define LOCAL_PW_MAX 128
#define LOCAL_ROOT_LEN 32

struct local_state {
	char type[16];		/* "postgres" or "redis" once created */
	bool created;		/* data was made: from now on data/ must exist */
	bool synced;		/* postgres: role, database, password are set */
	int64_t log_offset;	/* size of the server's log at the last start */
	int64_t started_at;	/* wall time of the last start (epoch s) */
	char error[PROV_REASON_LEN];	/* why the last apply failed, or "" */
};

struct local_secret {
	char password[LOCAL_PW_MAX + 1];	/* the user's: role/ACL "admin" */
	char root[LOCAL_ROOT_LEN + 1];	/* the driver's own superuser */
};

/* Loads the state file; an absent one gives a zeroed state.  0 or -1. */
int local_state_load(const struct local_inst *in, struct local_state *st);
/* Writes st, unless the file already says the same.  0 or -1. */
int local_state_save(const struct local_inst *in,
		     const struct local_state *st);
/* Records why an apply failed in st->error (one line, truncated), logs it
 * with the id, and returns -1. */
int local_state_fail(const struct local_inst *in, struct local_state *st,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets o's state and reason (truncated). */
void local_observed(struct prov_observation *o, enum prov_state state,
		    const char *reason);
/* Fills o for an instance whose server process is not running: STOPPED
 * when it should not run; FAILED with st->error, or with log_reason (a
 * failure found in the server's log since the last start); STOPPED ("not
 * running") when its pid file outlived it (killed); STARTING shortly
 * after a start (the server has not written its pid file yet); STOPPED
 * otherwise. */
void local_observed_down(const struct local_inst *in,
			 const struct local_state *st, const char *log_reason,
			 bool stale_pidfile, struct prov_observation *o);

/* True for 8 to 128 printable ASCII characters without spaces. */
bool local_secret_is_password(const char *pw);
/* Loads the secret file: 0, LOCAL_MISSING or -1 (logged). */
int local_secret_load(const struct local_inst *in, struct local_secret *sec);
/* Replaces the secret file atomically.  0 or -1 (logged). */
int local_secret_save(const struct local_inst *in,
		      const struct local_secret *sec);
/* Draws a new random root password. */
void local_secret_new_root(struct local_secret *sec);
/* Wipes the passwords from memory. */
void local_secret_clear(struct local_secret *sec);

/* Takes the instance's lock, waiting up to wait_ms; *fd is for
 * local_unlock.  0, LOCAL_BUSY, LOCAL_MISSING (no instance directory) or
 * -1 (logged).  Only LOCAL_BUSY after a wait is worth logging by the
 * caller. */
int local_lock(const struct local_inst *in, int64_t wait_ms, int *fd);
/* Releases a lock from local_lock (fd < 0 is fine). */
void local_unlock(int fd);

#include "base/banned.h"
#endif
