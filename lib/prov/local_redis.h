/*
 * For the local driver only: Redis instances, one redis-server per
 * instance.  in->spec must be set except for local_redis_stop.  Failures
 * are logged and recorded in st->error.
 */
#ifndef PROV_LOCAL_REDIS_H
#define PROV_LOCAL_REDIS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "prov/local_state.h"

/* The driver's way into a Redis instance (its port takes TLS only), in
 * the instance's directory. */
#define LOCAL_REDIS_SOCKET "redis.sock"

/* redis-server's path, searched in $PATH at open (the caller frees it),
 * or NULL. */
char *local_redis_find(void);

/* Makes the instance match in->spec: the data directory when it was never
 * created, the generated redis.conf and TLS files (local_tls.h), start
 * or stop (a running server whose configuration changed is restarted;
 * one whose certificate alone changed loads it).  0 or -1. */
int local_redis_apply(const struct local_inst *in, struct local_state *st,
		      const struct local_secret *sec);
/* Renews the certificate when local_tls_ensure(margin_s) says so; a
 * running server loads it at once (CONFIG SET over its unix socket, as
 * the driver's superuser).  0 (nothing to do, or not created yet),
 * LOCAL_CHANGED, or -1. */
int local_redis_renew(const struct local_inst *in, struct local_state *st,
		      const struct local_secret *sec, int64_t margin_s);
/* Takes sec's (new) password: ACL SETUSER and CLIENT KILL of the admin's
 * sessions when the server runs, and redis.conf for later starts.  0 or
 * -1 (then the running server has not changed). */
int local_redis_password(const struct local_inst *in,
			 struct local_state *st,
			 const struct local_secret *sec);
/* Fills o: the server's process, then AUTH as admin and PING over the
 * driver's unix socket;
 * with detail, the live figures. */
void local_redis_observe(const struct local_inst *in,
			 const struct local_state *st,
			 const struct local_secret *sec, bool detail,
			 struct prov_observation *o);
/* Stops the server at once (SIGKILL: its data is about to go).  0 or -1
 * (logged). */
int local_redis_stop(const struct local_inst *in);
/* Replaces the data with the RDB file rdb: stops the server, puts the
 * file in place of its data (AOF removed), starts it with appendonly off
 * so it loads the RDB, then turns AOF on again (a fresh one is written).
 * The caller holds the instance's lock.  0 or -1 (reason in st). */
int local_redis_load(const struct local_inst *in, struct local_state *st,
		     const struct local_secret *sec, const char *rdb);

#include "base/banned.h"
#endif
