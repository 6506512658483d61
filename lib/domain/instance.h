/*
 * Database instances as the system of record sees them: specs and costs,
 * capacity, creation (instance row + creation debit + port in one
 * transaction), the user's actions, deletion.  Where an instance runs is
 * the provisioning driver's business (prov/prov.h); this module only writes
 * desired state, which the reconciler then makes real.
 *
 * State changes (start, stop, restart, delete) go through the lifecycle
 * module (domain/lifecycle.h), which owns status, desired and deleted_at.
 */
#ifndef DOMAIN_INSTANCE_H
#define DOMAIN_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "domain/lifecycle.h"

struct db;

#define INSTANCE_NAME_MAX 63
#define INSTANCE_ID_LEN 36

struct instance_spec {
	char type[16];		/* postgres | redis | mongodb */
	char size[8];		/* tiny | small | medium | large */
	char mode[16];
	char preset[48];	/* "" for a custom spec */
	double cpu;
	int64_t memory_mb;
	int64_t disk_gb;
	int64_t creation_cost;
	int64_t hourly_cost;
};

/* Custom specs: bounds, size and cost (reference §8.3; PostgreSQL priced
 * like MongoDB).  0, or -1 with a reason for the client in why. */
int instance_custom_spec(struct instance_spec *s, char *why, size_t why_size);
/* The preset id's spec: 0, 1 when there is no such preset, or -1. */
int instance_preset_spec(struct db *db, const char *id,
			 struct instance_spec *s);
/* A new password: 24 characters without look-alikes (no 0/O, 1/l/I). */
void instance_new_password(char out[25]);
/* The name the dashboard saves the installation's CA under (GET
 * /api/db/ca.pem), which verifying connection strings refer to. */
#define INSTANCE_CA_FILE "dbtree-ca.pem"

/* Every instance takes TLS only.  REQUIRE: encrypted, the server not
 * checked (sslmode=require, rediss://, tls=true).  VERIFY: the certificate
 * checked against the CA saved as INSTANCE_CA_FILE, and the host name
 * (sslmode=verify-full, tlsCAFile); a Redis URI has no such option, so
 * VERIFY gives the same rediss:// and clients take the CA as a setting
 * (redis-cli --cacert). */
enum instance_tls {
	INSTANCE_TLS_REQUIRE,
	INSTANCE_TLS_VERIFY,
};

/* The connection string for type (postgres, redis, mongodb) into out:
 * 0, or -1 when it does not fit. */
int instance_uri(char *out, size_t size, enum instance_tls tls,
		 const char *type, const char *user, const char *password,
		 const char *host, int port, const char *name);
/* True for names of 3..63 characters matching
 * ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$. */
bool instance_name_ok(const char *name);

struct capacity {
	double total_cpu, reserved_cpu, used_cpu;
	int64_t total_mb, reserved_mb, used_mb;
	int64_t active;		/* instances holding resources */
};

/* Resources held by instances that are provisioning, running, or not yet
 * scaled down (the ones the reconciler has not stopped).  0 or -1. */
int instance_capacity(struct db *db, struct capacity *c);
/* True when cpu/memory fit in what is left. */
bool instance_fits(const struct capacity *c, double cpu, int64_t memory_mb);

struct instance_create {
	const char *user_id;
	const char *name;
	struct instance_spec spec;
	int64_t quota;
	int64_t port_min, port_max;
	const char *reserved_ports;	/* "30080,30081" */
	const char *from_backup;	/* a backup to load once ready, or NULL */
	double cap_cpu;			/* usable: total - reserved */
	int64_t cap_mb;
	int64_t lemon_cap;		/* for an achievement's reward */
	/* out */
	char id[INSTANCE_ID_LEN + 1];	/* external id */
	int64_t row_id;
	int port;
	int64_t balance;		/* INSTANCE_POOR: the balance */
	time_t created_at;
};

enum instance_result {
	INSTANCE_OK = 0,
	INSTANCE_QUOTA,		/* too many live instances */
	INSTANCE_NAME_TAKEN,
	INSTANCE_NO_CAPACITY,
	INSTANCE_POOR,		/* balance below the creation cost */
	INSTANCE_NO_PORT,
	INSTANCE_NOT_FOUND,
	INSTANCE_BAD_STATE,	/* the action is not possible now */
	INSTANCE_BUSY,		/* a credentials reset is in flight */
	INSTANCE_NO_USER,	/* the account was deleted meanwhile */
};

/* One transaction: locks the user (so an account deletion waits, or is
 * seen), checks quota, name, capacity and balance, inserts the row
 * (provisioning), debits the creation cost through the ledger, allocates
 * a port and queues the restore of from_backup, if any.  INSTANCE_OK and
 * out filled, another result, or -1. */
int instance_create(struct db *db, struct instance_create *c);
/* The instance's port is taken where it runs: burns it (never handed out
 * again) and allocates another from range's port settings.  INSTANCE_OK
 * with *port, INSTANCE_NO_PORT, or -1. */
int instance_new_port(struct db *db, int64_t row_id, int old_port,
		      const struct instance_create *range, int *port);
/* Undoes a create whose secret could not be stored: refunds the creation
 * cost through the ledger, releases the port, and hides the row (deleted,
 * nothing to destroy), unless it was deleted meanwhile.  0 or -1. */
int instance_create_undo(struct db *db, const struct instance_create *c);
/* Releases the instance's port (inside the caller's transaction, if any).
 * 0 or -1. */
int instance_release_port(struct db *db, int64_t row_id);

struct instance_row {
	char id[INSTANCE_ID_LEN + 1];
	int64_t row_id;
	char name[INSTANCE_NAME_MAX + 1];
	struct instance_spec spec;
	enum lc_status status;		/* observed */
	enum lc_desired desired;	/* asked for */
	char reason[256];
	int port;		/* 0 = none */
	time_t created_at, updated_at, paused_at;
};

/* True when the instance holds CPU and memory (see instance_capacity). */
bool instance_holds(const struct instance_row *r);
/* The user's live instances, newest first: *rows is malloc'd (free()).
 * 0 or -1. */
int instance_list(struct db *db, const char *user_id,
		  struct instance_row **rows, size_t *n);
/* One live instance of the user: INSTANCE_OK, INSTANCE_NOT_FOUND or -1. */
int instance_get(struct db *db, const char *user_id, const char *id,
		 struct instance_row *row);

/* LC_START, LC_STOP or LC_RESTART for the user's instance id (external),
 * through the lifecycle; start needs a balance of at least one hour.
 * INSTANCE_OK, INSTANCE_NOT_FOUND, INSTANCE_BAD_STATE (the state in *now),
 * INSTANCE_POOR, or -1. */
int instance_action(struct db *db, const char *user_id, const char *id,
		    enum lc_event ev, struct lc_state *now);
/* Marks the instance deleting (hidden at once; the reconciler removes it
 * and frees its port, once its final backup, queued in the same
 * transaction, is taken).  INSTANCE_OK, INSTANCE_NOT_FOUND or -1. */
int instance_delete(struct db *db, const char *user_id, const char *id);
/* Inside an open transaction: marks every live instance of the user
 * deleting (account deletion).  0 or -1. */
int instance_delete_all(struct db *db, const char *user_id);

/* A credentials reset, one at a time per instance: takes the instance's
 * reset lease (60 s at most) and fills row.  INSTANCE_OK, INSTANCE_NOT_FOUND,
 * INSTANCE_BUSY (another reset holds it), INSTANCE_BAD_STATE (the instance
 * failed), or -1.  Whoever got INSTANCE_OK calls instance_reset_end() once
 * the new password is stored (or not). */
int instance_reset_begin(struct db *db, const char *user_id, const char *id,
			 struct instance_row *row);
int instance_reset_end(struct db *db, int64_t row_id);

#include "base/banned.h"
#endif
