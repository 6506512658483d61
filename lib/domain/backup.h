/*
 * Backups and restores as the system of record sees them (tables
 * db_backups, db_restores, backup_links; sql/migrations/0012_backups.sql).
 *
 * The pool asks (a backup on demand, a restore, a download link); the
 * "backups" job (prov/backup_run.c) takes queued work one item at a time
 * and records how it went.  A backup row is one dump file under the
 * backup directory, named by backup_path().
 *
 * Money: a backup on demand is debited when asked for, in the same
 * transaction as its row, and refunded through the ledger if it fails.
 * Space: the backups an instance keeps (its final one aside) may not
 * exceed its disk size; the runner gets the room left as a cap.
 *
 * While the runner works on an instance, the lifecycle shows it
 * backing_up or restoring (domain/lifecycle.h); only a deletion moves it
 * meanwhile.  A deleted instance that ever ran is not destroyed before its
 * final backup is settled (BACKUP_FINAL_PENDING), for an hour at most.
 */
#ifndef DOMAIN_BACKUP_H
#define DOMAIN_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "domain/lifecycle.h"

struct db;

#define BACKUP_ID_LEN 36
#define BACKUP_TOKEN_LEN 43	/* 43 of [A-Za-z0-9-]: 257 bits */

/* SQL: true while instance row alias i waits for its final backup. */
#define BACKUP_FINAL_PENDING(i) "EXISTS (SELECT 1 FROM db_backups fb" \
	" WHERE fb.instance_id = " i ".id AND fb.kind = 'final'" \
	" AND fb.state IN ('queued', 'running'))" \
	" AND " i ".deleted_at > now() - interval '1 hour'"

enum backup_kind {
	BACKUP_MANUAL,		/* on demand, costs lemons */
	BACKUP_DAILY,		/* by the jobs, the last few kept */
	BACKUP_PRE_RESTORE,	/* the data a restore overwrote */
	BACKUP_FINAL,		/* taken when the instance was deleted */
};
#define BACKUP_KIND_COUNT (BACKUP_FINAL + 1)

enum backup_state {
	BACKUP_QUEUED,
	BACKUP_RUNNING,
	BACKUP_DONE,
	BACKUP_FAILED,
};
#define BACKUP_STATE_COUNT (BACKUP_FAILED + 1)

const char *backup_kind_name(enum backup_kind k);
const char *backup_state_name(enum backup_state s);

enum backup_result {
	BACKUP_OK = 0,
	BACKUP_NOT_FOUND,	/* no such instance or backup of this user */
	BACKUP_BUSY,		/* one is already queued or running */
	BACKUP_POOR,		/* not enough lemons */
	BACKUP_FULL,		/* the instance's backups fill its disk */
	BACKUP_NOT_RUNNING,	/* the instance must be running */
	BACKUP_NOT_READY,	/* the backup is not finished */
	BACKUP_GONE,		/* the backup failed or its file is gone */
	BACKUP_IN_CLUSTER,	/* a MongoDB archive: it stays in the
				 * cluster's backup volume */
};

struct backup_row {
	char id[BACKUP_ID_LEN + 1];		/* external */
	int64_t row_id;
	char instance_id[BACKUP_ID_LEN + 1];	/* external */
	int64_t instance_row;
	char instance_name[64];
	char type[16];			/* the instance's engine */
	enum backup_kind kind;
	enum backup_state state;
	char reason[256];
	int64_t size_bytes;
	int64_t cost;
	time_t created_at, finished_at, expires_at;	/* 0: none */
	int64_t running_s;		/* since it started; 0: not yet */
};

/* The dump file's path: <dir>/<instance id>/<backup id>.<ext> by the
 * engine (dump, rdb, archive).  -1 when it does not fit. */
int backup_path(char *out, size_t size, const char *dir,
		const struct backup_row *b);

/* -- asked for by the person (the pool) -- */

/* A backup on demand of the user's running instance: row and debit in one
 * transaction.  BACKUP_OK (*out filled), BACKUP_NOT_FOUND, BACKUP_NOT_RUNNING,
 * BACKUP_BUSY, BACKUP_FULL, BACKUP_POOR, or -1. */
int backup_request(struct db *db, const char *user_id, const char *instance,
		   int64_t cost, struct backup_row *out);
/* The instance's backups that still have (or will have) a file, newest
 * first, and failed ones of the last day; *rows malloc'd.  BACKUP_OK,
 * BACKUP_NOT_FOUND or -1. */
int backup_list(struct db *db, const char *user_id, const char *instance,
		struct backup_row **rows, size_t *n);
/* The final backups of the user's deleted instances not yet expired. */
int backup_list_final(struct db *db, const char *user_id,
		      struct backup_row **rows, size_t *n);
/* A one-use download link for the user's backup (of instance, or of any
 * instance when instance is NULL), valid ttl_s: the token into token.
 * BACKUP_OK, BACKUP_NOT_FOUND, BACKUP_NOT_READY, BACKUP_GONE,
 * BACKUP_IN_CLUSTER or -1. */
int backup_link_new(struct db *db, const char *user_id, const char *instance,
		    const char *backup, int64_t ttl_s,
		    char token[BACKUP_TOKEN_LEN + 1]);
/* The same for a backup by its row id, with no owner check and valid until
 * the backup expires (the goodbye mail's links).  0 or -1. */
int backup_link_for_mail(struct db *db, const char *backup,
			 char token[BACKUP_TOKEN_LEN + 1]);
/* Discards the user's backup (of instance, or of any instance when
 * instance is NULL): gone from the lists and from the instance's room at
 * once, its file removed by the next pass of the backups job.  BACKUP_OK,
 * BACKUP_NOT_FOUND, BACKUP_BUSY (queued or running) or -1. */
int backup_discard(struct db *db, const char *user_id, const char *instance,
		   const char *backup);
/* Uses a link once: BACKUP_OK with *out (the link is spent), BACKUP_NOT_FOUND
 * (unknown, used or expired), BACKUP_NOT_READY (not spent: try later),
 * BACKUP_GONE, or -1. */
int backup_link_use(struct db *db, const char *token, struct backup_row *out);
struct restore_row {
	char backup_id[BACKUP_ID_LEN + 1];
	enum backup_state state;
	char reason[256];
	time_t created_at, finished_at;	/* 0: none */
};
/* The instance's last restores (10), newest first; *rows malloc'd.
 * BACKUP_OK, BACKUP_NOT_FOUND or -1. */
int backup_list_restores(struct db *db, const char *user_id,
			 const char *instance, struct restore_row **rows,
			 size_t *n);
/* A restore of the user's backup into the same instance, which must be
 * running.  BACKUP_OK, BACKUP_NOT_FOUND, BACKUP_NOT_RUNNING,
 * BACKUP_NOT_READY, BACKUP_GONE, BACKUP_BUSY (a restore is queued) or -1. */
int backup_restore_request(struct db *db, const char *user_id,
			   const char *instance, const char *backup);
/* For a create with "fromBackup": the user's finished backup's engine into
 * type.  BACKUP_OK, BACKUP_NOT_FOUND, BACKUP_NOT_READY, BACKUP_GONE, -1. */
int backup_check_source(struct db *db, const char *user_id,
			const char *backup, char type[16]);
/* Inside the create transaction: queue a restore of backup into the new
 * instance row (run once it is ready).  0 or -1. */
int backup_restore_into_new(struct db *db, int64_t instance_row,
			    const char *backup);
/* Inside a deletion's transaction: queue the final backup of the
 * instance row (one that never became ready has no data, and a MongoDB
 * archive would never reach the backup directory: nothing).  The
 * external id of the queued backup into id ("" when none).  0 or -1. */
int backup_queue_final(struct db *db, int64_t instance_row,
		       char id[BACKUP_ID_LEN + 1]);

/* Inside an account deletion's transaction, after its instances moved to
 * deleted: queues their final backups; *params_json (malloc'd) gets the
 * goodbye mail's parameters, {"backups": [{"id", "name"}...]}.  0 or -1. */
int backup_queue_final_all(struct db *db, const char *user_id,
			   char **params_json);

/* -- done by the backups job -- */

struct backup_work {
	struct backup_row b;		/* the backup taken or restored */
	/* the instance dumped or restored into */
	int64_t instance_row;
	char instance_id[BACKUP_ID_LEN + 1];
	char type[16];
	char name[64];			/* the instance's (database) name */
	int port;
	double cpu;
	int64_t memory_mb, disk_gb;
	bool deleted;			/* a final backup's instance */
	int64_t room_bytes;		/* what the dump may take */
	int64_t restore_id;		/* restores: the db_restores row */
	bool into_new;
};

/* A previous run's work left running (the job was killed): failed and
 * refunded, the instances back to running; dumps the driver runs
 * elsewhere (MongoDB) go on.  How many, or -1. */
int64_t backup_recover(struct db *db);
/* Queues a daily backup of every running instance without one in the
 * last day, and a final backup of every deleted instance that lacks one.
 * How many, or -1. */
int64_t backup_queue_due(struct db *db);
/* Takes the next queued backup (final ones first): BACKUP_OK with *w
 * (now running), BACKUP_NOT_FOUND when none, or -1. */
int backup_next(struct db *db, struct backup_work *w);
/* Records the end of w: done with size, or failed with why (refunded).
 * A final or pre-restore backup is kept keep_s; dailies beyond daily_keep
 * expire.  0 or -1. */
int backup_finish(struct db *db, const struct backup_work *w, bool ok,
		  int64_t size, const char *why, int64_t keep_s,
		  int64_t daily_keep);
/* The next queued restore whose instance is running: BACKUP_OK with *w
 * (the restore running, w->b the backup to restore), BACKUP_NOT_FOUND, -1. */
int backup_next_restore(struct db *db, struct backup_work *w);
/* Starts the pre_restore backup of restore's instance (a running row of
 * its own): BACKUP_OK with *pre, BACKUP_BUSY (another backup is queued or
 * running), or -1. */
int backup_start_pre_restore(struct db *db, const struct backup_work *restore,
			     struct backup_work *pre);
/* Records the end of a restore.  0 or -1. */
int backup_finish_restore(struct db *db, const struct backup_work *w,
			  bool ok, const char *why);
/* Running backups the driver dumps where the instance runs (MongoDB):
 * they outlive a pass, which polls them.  *rows malloc'd.  0 or -1. */
int backup_list_remote(struct db *db, struct backup_row **rows, size_t *n);
/* Moves w's instance by a backup event (LC_BACKUP_BEGIN ... _END): a
 * lifecycle result or -1. */
int backup_move(struct db *db, const struct backup_work *w, enum lc_event ev);
/* Backups whose file should go (expired finals, rotated dailies, those of
 * destroyed instances); *rows malloc'd.  0 or -1. */
int backup_list_removable(struct db *db, struct backup_row **rows, size_t *n);
/* The file of row_id is gone.  0 or -1. */
int backup_mark_removed(struct db *db, int64_t row_id);

#include "base/banned.h"
#endif
