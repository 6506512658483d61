/*
 * The provisioning interface: where database instances actually run.
 *
 * Request handlers only store an instance's secret (prov_store_secret) and
 * write the desired state to PostgreSQL; the reconciler (prov/reconcile.c)
 * does the rest through apply/observe/destroy.  Two drivers implement it:
 * `local` (real postgres and redis-server processes on this host, the
 * default) and `kubernetes`.  Every function may be called from any
 * process (pool worker or dbtreectl) and must be safe to repeat.
 *
 * Secrets (the generated passwords) live only with the driver — a 0600 file
 * in the state directory, or a Kubernetes Secret — never in PostgreSQL and
 * never in a log line.
 */
#ifndef PROV_PROV_H
#define PROV_PROV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct conf;

#define PROV_ID_LEN 36		/* an instance's external id (uuid text) */
#define PROV_REASON_LEN 256

struct prov_spec {
	const char *id;		/* external id: names everything the driver makes */
	const char *type;	/* "postgres", "redis" or "mongodb" */
	const char *name;	/* the instance's name (the database's name) */
	double cpu;		/* vCPU */
	int64_t memory_mb;
	int64_t disk_gb;
	int port;		/* allocated, 30000..31999 */
	bool running;		/* desired: serving (true) or stopped */
};

enum prov_state {
	PROV_ABSENT = 0,	/* nothing exists for this id */
	PROV_STOPPED,		/* exists, not serving */
	PROV_STARTING,		/* exists, on its way up */
	PROV_RUNNING,		/* answers with the user's credentials */
	PROV_FAILED,		/* exists but broken: see reason */
};

struct prov_observation {
	enum prov_state state;
	char reason[PROV_REASON_LEN];	/* why FAILED or STARTING; "" */
	bool drift;		/* what runs differs from the spec: apply again */
	bool port_taken;	/* FAILED because something else holds the
				 * port: give the instance another */
	/* live figures when asked for (detail), -1 when unknown */
	int64_t connections;
	int64_t storage_bytes;
	int64_t memory_bytes;
	int64_t uptime_s;
};

struct prov_driver;

/* The driver named by DBTREE_PROVISIONER ("local" or "kubernetes"), set up
 * from the configuration; NULL on failure (logged).  prov_close() frees it. */
struct prov_driver *prov_open(const struct conf *c);
void prov_close(struct prov_driver *d);
const char *prov_name(const struct prov_driver *d);
/* True when the driver can run instances of this type. */
bool prov_supports(const struct prov_driver *d, const char *type);

/* Stores (creates or replaces) the admin password of instance id.  For an
 * instance that exists and runs, the new password takes effect at once
 * (a credentials reset); otherwise at the next apply.  0 or -1. */
int prov_store_secret(struct prov_driver *d, const struct prov_spec *spec,
		      const char *password);
enum prov_apply_result {
	PROV_PORT_TAKEN = 1,	/* spec.port is used by something else */
};

/* Makes the instance match spec: creates what is missing (data directory,
 * the admin role or ACL user, the database), starts or stops the process.
 * Returns without waiting for readiness.  0, PROV_PORT_TAKEN (the caller
 * gives the instance another port), or -1 (reason logged and in the next
 * observation). */
int prov_apply(struct prov_driver *d, const struct prov_spec *spec);
/* Observes n instances in one call; detail adds the live figures (slower:
 * it connects with the instance's own credentials).  0 or -1. */
int prov_observe(struct prov_driver *d, const struct prov_spec *specs,
		 size_t n, bool detail, struct prov_observation *out);
/* Stops the instance and removes everything it had: process, data,
 * secret.  Idempotent.  0 or -1. */
int prov_destroy(struct prov_driver *d, const char *id);
enum prov_renew_result {
	PROV_RENEWED = 1,	/* a new certificate was put in place */
};

/* Renews the instance's TLS server certificate when it expires within
 * margin_s seconds, does not name DBTREE_PUBLIC_DB_HOST, or was not
 * issued by the installation's CA (prov/tls.h); with the local driver a
 * running server takes the new one without a restart and keeps its
 * connections.  An instance not created yet is left to apply (and, local,
 * one whose lock is held to the next pass).  0 (nothing to do now),
 * PROV_RENEWED, or -1 (logged).  The kubernetes driver writes the
 * new certificate into the instance Secret and restarts the pod (the
 * engines read their files at start); with a cert-manager issuer it
 * renews nothing itself (margin_s is unused) and restarts a pod whose
 * Certificate cert-manager has renewed since (PROV_RENEWED).
 * *not_after is set to the expiry of the certificate the instance has
 * after the call, or 0 when the driver does not know it: not created
 * yet, renewed by this call on Kubernetes (the next pass reads it), or
 * issued by cert-manager. */
int prov_renew_cert(struct prov_driver *d, const struct prov_spec *spec,
		    int64_t margin_s, time_t *not_after);
/* How the backups job reaches an instance as its administrator, with
 * the driver's own credentials (never the person's): a host name or
 * address and port, or a unix socket (a directory for PostgreSQL, the
 * socket itself for Redis) and port 0... only the driver knows which. */
#define PROV_HOST_MAX 256
#define PROV_SECRET_MAX 160
struct prov_admin {
	char host[PROV_HOST_MAX];	/* address, or an absolute socket path */
	int port;
	char user[64];
	char password[PROV_SECRET_MAX];
	bool tls;			/* connect with TLS, checking ca_file */
	char ca_file[PROV_HOST_MAX];
};
/* Fills out for instance spec.  0 or -1 (logged). */
int prov_admin(struct prov_driver *d, const struct prov_spec *spec,
	       struct prov_admin *out);
/* Replaces a Redis instance's data with the RDB file at path (readable by
 * the caller) and brings it back up serving that data: stop, swap, start.
 * 0 or -1 (logged). */
int prov_load_rdb(struct prov_driver *d, const struct prov_spec *spec,
		  const char *path);
/* The ids of every instance the driver has anything for; *ids is an array
 * of malloc'd strings (free each and the array).  0 or -1. */
int prov_list(struct prov_driver *d, char ***ids, size_t *n);

/*
 * Dumps: a logical backup that runs beside the instance, started once and
 * then polled until it ends.  Only the kubernetes driver has them, for
 * type mongodb (prov_supports_dump); the dump lands on the driver's
 * backup volume (prov/k8s_dump.h: the claim dbtree-backups, file
 * /backup/<backup_id>.archive, a gzip'd mongodump archive, present only
 * once complete).
 *
 *	if (prov_dump_start(d, &spec, "42") < 0)
 *		... logged: try again later ...
 *	... later, from any process:
 *	switch (prov_dump_poll(d, "42", &state, reason) < 0 ? -1 : state)
 */
enum prov_dump_state {
	PROV_DUMP_RUNNING = 0,	/* started (or waiting for a node) */
	PROV_DUMP_DONE,		/* the archive is complete */
	PROV_DUMP_FAILED,	/* ended without an archive: see reason */
	PROV_DUMP_GONE,		/* no such dump: never started, or cleaned
				 * up (a week after it ended) */
};

/* True when the driver can dump instances of this type. */
bool prov_supports_dump(const struct prov_driver *d, const char *type);
/* Starts dumping instance spec as backup backup_id (1 to 40 of [a-z0-9-],
 * not starting or ending with '-'; it names the dump and its archive).
 * Returns once the dump is scheduled, without waiting for it.  Safe to
 * repeat: a dump of that id that exists already is left alone (0).  A
 * dump of an id whose dump was cleaned up starts again and replaces the
 * archive.  0, or -1 (logged; also when the driver or type has no
 * dumps). */
int prov_dump_start(struct prov_driver *d, const struct prov_spec *spec,
		    const char *backup_id);
/* Where dump backup_id stands: *state and, for FAILED (and RUNNING), a
 * reason fit for the instance's owner ("" otherwise).  0, or -1 (logged:
 * the driver could not tell; *state PROV_DUMP_RUNNING). */
int prov_dump_poll(struct prov_driver *d, const char *backup_id,
		   enum prov_dump_state *state, char reason[PROV_REASON_LEN]);

#include "base/banned.h"
#endif
