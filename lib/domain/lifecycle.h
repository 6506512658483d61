/*
 * The instance lifecycle: the one owner of db_instances.status, .desired
 * and .deleted_at.  Every writer (the instances pool, account deletion,
 * billing, the reconciler) changes an instance's state only through
 * lifecycle_move(), a single guarded UPDATE per event, and learns whether
 * the instance moved, had changed under it, or never allowed the event.
 *
 * Two fields, as a Kubernetes object has spec and status:
 *   desired  what the person (or billing) wants: running, stopped, paused
 *            for lack of lemons, or deleted.  Delete wins over everything:
 *            no event moves an instance out of deleted.
 *   status   what the driver last observed, within the reference enum:
 *            running only once the instance accepted a login with the
 *            user's credentials since its last start, stopped or paused
 *            only once it stopped answering, error when it failed.
 *
 * The table of events (lifecycle.c) is the state machine: for each event,
 * the statuses and desired states it may start from and what it writes.
 * Intent events (start, stop, pause, delete, ...) bump intent_seq;
 * observations carry the intent_seq the reconciler read, so one made
 * before a change of intent is never recorded after it.
 */
#ifndef DOMAIN_LIFECYCLE_H
#define DOMAIN_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

struct db;

/* db_status, the reference enum (observed).  Text only at the SQL and
 * JSON boundary: lc_status_name() and lc_status_parse(). */
enum lc_status {
	LC_PROVISIONING,
	LC_RUNNING,
	LC_PAUSED,
	LC_STOPPED,
	LC_ERROR,
	LC_DELETING,
	LC_MAINTENANCE,
	LC_BACKING_UP,
	LC_RESTORING,
	LC_UPGRADING,
};
#define LC_STATUS_COUNT (LC_UPGRADING + 1)

/* db_desired (intent). */
enum lc_desired {
	LC_WANT_RUNNING,
	LC_WANT_STOPPED,
	LC_WANT_PAUSED,
	LC_WANT_DELETED,
};
#define LC_DESIRED_COUNT (LC_WANT_DELETED + 1)

enum lc_event {
	/* the person, through the instances pool */
	LC_START,		/* stopped or paused -> want running */
	LC_STOP,		/* want stopped */
	LC_RESTART,		/* running: stop and start again */
	LC_DELETE,		/* -> deleting, hidden at once */
	LC_ACCOUNT_DELETE,	/* the same, for an account going away */
	LC_CREATE_UNDO,		/* a create that could not store its secret */
	/* billing */
	LC_CHARGE,		/* locks a running instance to charge it */
	LC_PAUSE,		/* owner out of lemons -> want paused */
	LC_RESUME,		/* owner can pay again -> want running */
	LC_WARN,		/* "deleted soon" mail sent */
	LC_EXPIRE,		/* paused past the grace -> deleting */
	/* the reconciler, from what the driver observed */
	LC_SEEN_READY,		/* provisioning -> running (first time) */
	LC_SEEN_UP,		/* stopped or paused -> running */
	LC_SEEN_STOPPED,	/* not answering, not paused -> stopped */
	LC_SEEN_PAUSED,		/* not answering, paused -> paused */
	LC_NEVER_READY,		/* provisioning -> error (cost refunded) */
	LC_SEEN_FAILED,		/* running, stopped or paused -> error */
	LC_DESTROYED,		/* a deleted instance is gone where it ran */
	/* the backup runner (prov/backup_run.c), around a dump or a restore */
	LC_BACKUP_BEGIN,	/* running -> backing_up (keeps serving) */
	LC_BACKUP_END,		/* backing_up -> running */
	LC_RESTORE_BEGIN,	/* running -> restoring */
	LC_RESTORE_END,		/* restoring -> running */
};
#define LC_EVENT_COUNT (LC_RESTORE_END + 1)

enum lc_result {
	LC_MOVED = 0,
	LC_LOST_RACE,		/* allowed from what the caller saw, but the
				 * row changed under it (or is gone) */
	LC_NOT_ALLOWED,		/* not allowed from the current state */
	LC_NOT_FOUND,		/* no live instance (user-scoped moves) */
};

/* Which row, and what the caller knows of it. */
struct lc_target {
	int64_t row_id;
	const char *user_id;	/* non-NULL: the row must be this user's */
	int64_t seen_seq;	/* -1, or the intent_seq the caller read */
	const char *reason;	/* status_reason to record, or NULL for the
				 * event's own */
};

/* The row as the move left it (LC_MOVED) or found it (otherwise). */
struct lc_state {
	enum lc_status status;
	enum lc_desired desired;
	bool deleted;
	int64_t intent_seq;
};

/* Moves t's row by event ev in one guarded statement (within the caller's
 * transaction, if one is open: a moved row stays locked until it ends).
 * LC_MOVED, LC_LOST_RACE, LC_NOT_ALLOWED, LC_NOT_FOUND (user-scoped and no
 * live row), or -1.  out (may be NULL) gets the row's state. */
int lifecycle_move(struct db *db, enum lc_event ev, const struct lc_target *t,
		   struct lc_state *out);
/* LC_ACCOUNT_DELETE for every live instance of user_id: one statement.
 * Returns how many moved, or -1. */
int64_t lifecycle_delete_all(struct db *db, const char *user_id);
/* For an event that only locks (LC_CHARGE), within the caller's open
 * transaction: locks, in id order, those of the n rows ids[] the event
 * allows now (waiting for a writer that holds one, then rechecking it),
 * and writes their ids to locked[] (room for n).  The set-based twin of
 * lifecycle_move for a batch, with the same pause points
 * ("lc.<event>.before", and ".after" when it locked any).  Returns how
 * many it locked, or -1. */
int lifecycle_lock_all(struct db *db, enum lc_event ev, const int64_t *ids,
		       int n, int64_t *locked);

/* True when ev may start from (status, desired) by the table. */
bool lifecycle_allows(enum lc_event ev, enum lc_status s, enum lc_desired d);
/* The event's name ("start", "seen_ready"), for logs and pause points. */
const char *lc_event_name(enum lc_event ev);

const char *lc_status_name(enum lc_status s);
/* 0 and *s, or -1 for text outside the enum. */
int lc_status_parse(const char *text, enum lc_status *s);
const char *lc_desired_name(enum lc_desired d);
int lc_desired_parse(const char *text, enum lc_desired *d);

#include "base/banned.h"
#endif
