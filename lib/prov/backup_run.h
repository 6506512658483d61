/*
 * The backups job: takes the work domain/backup.h queues and does it over
 * the network with the driver's own admin credentials (prov_admin), so the
 * same code serves every driver: pg_dump -Fc / pg_restore for PostgreSQL,
 * redis-cli --rdb for Redis (restored by the driver, prov_load_rdb).
 *
 * A dump is written to "<file>.part" and renamed when complete; one that
 * grows past the room the instance's disk size leaves is killed and the
 * backup fails (refunded).  One pass: recover what a killed pass left,
 * queue what is due (dailies, missing finals), take the queued backups
 * (final ones first), then the restores, then remove expired files.
 */
#ifndef PROV_BACKUP_RUN_H
#define PROV_BACKUP_RUN_H

#include <stdint.h>

struct db;
struct prov_driver;

struct backup_conf {
	const char *dir;	/* absolute: where the dump files live */
	int64_t final_keep_s;	/* a final or pre-restore backup's life */
	int64_t daily_keep;
	int64_t step_timeout_ms;	/* one dump or restore at most */
	int64_t ready_wait_ms;	/* a final backup may start a stopped
				 * instance and wait this long for it */
	const char *web_group;	/* group that may read the files (nginx's
				 * workers stream downloads), or "" */
};

struct backup_stats {
	int64_t taken, failed, restored, restore_failed, removed, recovered;
};

/* Makes the backup directory if missing: 0750, group web_group.  0, -1. */
int backup_run_prepare(const struct backup_conf *bc);
/* One pass until deadline_ms (monotonic).  0 or -1. */
int backup_run_pass(struct db *db, struct prov_driver *d,
		    const struct backup_conf *bc, int64_t deadline_ms,
		    struct backup_stats *st);

#include "base/banned.h"
#endif
