/*
 * For the local driver only (prov/local*.c): the driver's settings, one
 * instance's paths, and the file-system helpers they share.
 *
 * Layout under the instance directory:
 *
 *	<instance_dir>/<id>/		the instance's directory
 *		secret			0600, the service's: password, root
 *		state			0600, the service's: type, created, ...
 *		lock			flock(2) serialising apply, secrets, destroy
 *		data/			PostgreSQL cluster or Redis data
 *		postgres.log | redis.log, redis.conf, redis.pid, start.log
 *		server.pem		TLS key and certificate, 0600, the
 *					instance user's (local_tls.h)
 *		server.crt, ca.pem	the certificate alone, the CA's
 *		redis.sock		Redis: the driver's way in (no TLS)
 *
 * Two ways to run (struct local's split):
 *
 *  - one user: instances run as the service's own user; every directory
 *    is 0700 and every file 0600.
 *  - split: instances run as a user of their own (DBTREE_INSTANCE_USER,
 *    e.g. dbtree-db), whose group the service's user belongs to.  The
 *    service owns <instance_dir> (02710) and each <id> (03770: setgid, so
 *    everything in it has the instance user's group; sticky, so the
 *    instance user may add files but never remove or rename the
 *    service's), with the instance user's group.  What the instance's
 *    servers read or write (data/, its configuration, logs, sockets) is
 *    the instance user's and group-readable (umask 027, initdb
 *    --allow-group-access), so the service reads logs and sizes; secret,
 *    state and lock stay 0600 and the service's.  Whatever must be done
 *    as the instance user (start a server, signal it, write a file into
 *    data/, remove its files) goes through the instance agent
 *    (local_agent.h).
 *
 * An id is checked against ^[0-9a-f-]{36}$ (local_inst_init) before it is
 * ever put into a path.
 */
#ifndef PROV_LOCAL_FS_H
#define PROV_LOCAL_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "prov/prov.h"

struct buf;

/* Expected outcomes, besides 0 and -1. */
enum {
	LOCAL_MISSING = 1,	/* the file (or key) does not exist */
	LOCAL_BUSY,		/* someone else holds the instance's lock */
	LOCAL_CHANGED,		/* the file was (re)written */
	LOCAL_PORT_TAKEN,	/* something else holds the instance's port */
};

/* The reason an observation gives for a server that could not bind its
 * port, and the test for it. */
#define LOCAL_PORT_IN_USE_FMT "port %d already in use"
#define LOCAL_PORT_IN_USE_TAIL "already in use"

#define LOCAL_PATH_MAX 256
/* instance_dir + "/" + id + "/.s.PGSQL.65535" must fit a unix socket path
 * (107 bytes), so prov_local_open refuses a longer instance_dir. */
#define LOCAL_DIR_MAX 53

struct local {
	char *dir;		/* instance_dir: absolute, symlinks resolved */
	char *bind;		/* address instances listen on */
	char *host;		/* address the driver connects to reach bind */
	char *pg_bin;		/* newest PostgreSQL bin dir; NULL: none */
	char *redis_server;	/* redis-server's path; NULL: none */
	bool split;		/* instances run as uid:gid, not as us */
	uid_t uid;
	gid_t gid;
	char *agent;		/* split: the agent's socket; NULL: we are
				 * the instance user (the agent itself) */
	char *tls_dir;		/* the CA (prov/tls.h); NULL in the agent */
	char *public_host;	/* what certificates name */
	int64_t cert_days;	/* their validity */
};

struct local_inst {
	const struct local *l;
	const struct prov_spec *spec;	/* NULL when only the id is known */
	const char *id;			/* valid: see local_inst_init */
	char dir[LOCAL_DIR_MAX + PROV_ID_LEN + 2];	/* <instance_dir>/<id> */
	char data[LOCAL_DIR_MAX + PROV_ID_LEN + 7];	/* <dir>/data */
};

/* True when id matches ^[0-9a-f-]{36}$. */
bool local_is_id(const char *id);
/* Fills in for instance id (borrowed, like spec, for in's lifetime);
 * -1 (logged) when id is not a valid id. */
int local_inst_init(struct local_inst *in, const struct local *l,
		    const char *id, const struct prov_spec *spec);
/* out = <in->dir>/<leaf>. */
void local_inst_path(const struct local_inst *in, const char *leaf,
		     char out[LOCAL_PATH_MAX]);
/* Creates in->dir if missing (see the layout above).  0 or -1. */
int local_inst_mkdir(const struct local_inst *in);

bool local_fs_is_dir(const char *path);
/* Size of a regular file, 0 when it does not exist. */
int64_t local_fs_size(const char *path);
/* Reads the file into out (capped by out's max).  0, LOCAL_MISSING or -1
 * (logged: a read error, or a file larger than the cap). */
int local_fs_read(const char *path, struct buf *out);
/* Reads the file from offset (at most its last 64 KiB) into out, whose
 * cap must allow that; an absent file reads as empty.  0 or -1 (logged). */
#define LOCAL_TAIL_MAX 65536
int local_fs_tail(const char *path, int64_t offset, struct buf *out);
/* Replaces path atomically with text (temporary file, fsync, rename,
 * fsync of the directory), with mode.  as_user: a file the instance's
 * server reads, so, when split, written by the instance user (through the
 * agent) and group-readable.  0 or -1 (logged). */
int local_fs_write(const struct local *l, const char *path, const char *text,
		   mode_t mode, bool as_user);
/* local_fs_write(..., as_user) but 0600 even when split: a file only the
 * instance's server may read (its TLS key: PostgreSQL refuses a key file
 * its group can read).  0 or -1 (logged). */
int local_fs_write_private(const struct local *l, const char *path,
			   const char *text);
/* Replaces dst atomically with a copy of src (any bytes), with mode;
 * as_user as for local_fs_write (the instance user must be able to read
 * src then).  0 or -1 (logged). */
int local_fs_copy(const struct local *l, const char *src, const char *dst,
		  mode_t mode, bool as_user);
/* True when the file at path holds exactly text. */
bool local_fs_holds(const char *path, const char *text);
/* local_fs_write unless the file already holds text: 0 (unchanged),
 * LOCAL_CHANGED or -1. */
int local_fs_update(const struct local *l, const char *path, const char *text,
		    mode_t mode, bool as_user);
/* Removes path and everything below it without following symbolic
 * links; a missing path is fine.  0 or -1 (logged). */
int local_fs_remove(const char *path);
/* local_fs_remove as the instance user (through the agent when split);
 * for an instance's own directory the agent removes only what is the
 * instance user's, so the caller then removes the rest.  0 or -1. */
int local_fs_remove_as(const struct local *l, const char *path);
/* mkdir as the instance user (through the agent when split), then mode
 * (group r-x added when split).  An existing directory is fine.  0, -1. */
int local_fs_mkdir_as(const struct local *l, const char *path, mode_t mode);
/* Gives path the instance user's group (when split) and mode.  0, -1. */
int local_fs_share(const struct local *l, const char *path, mode_t mode);
/* Bytes allocated on disk for everything below path; -1 when unknown. */
int64_t local_fs_usage(const char *path);
/* Flushes the file system holding path to disk.  0 or -1 (logged). */
int local_fs_sync(const char *path);
/* The value of "key=value" in text into out ("" and LOCAL_MISSING when
 * absent); -1 when it does not fit. */
int local_fs_kv_get(const char *text, const char *key, char *out,
		    size_t size);
/* The first line of text into out, truncated to size. */
void local_fs_first_line(const char *text, char *out, size_t size);
/* The last non-empty line of text (without its newline) for which
 * keep(line, len) is true (NULL: any), into out truncated to size; false
 * when there is none. */
bool local_fs_last_line(const char *text, bool (*keep)(const char *, size_t),
			char *out, size_t size);

#include "base/banned.h"
#endif
