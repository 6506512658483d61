/*
 * For the local driver only: what it does inside a PostgreSQL instance,
 * through libpq: the first-start setup and the readiness check.
 */
#ifndef PROV_LOCAL_PG_SQL_H
#define PROV_LOCAL_PG_SQL_H

#include <stdbool.h>
#include <stdint.h>

#include "prov/local_state.h"

#define LOCAL_PG_ROOT "dbtree_root"	/* the driver's superuser */
#define LOCAL_PG_USER "admin"		/* the user's role */

/* The first-start setup, repeated after a password change, as
 * dbtree_root over the unix socket: the role "admin" (not a superuser,
 * no CREATEROLE, CREATEDB or REPLICATION) with sec's password, the
 * database spec.name owned by it, CONNECT on "postgres" and "template1"
 * revoked from PUBLIC.  A password change also ends the admin's open
 * sessions.  Waits up to wait_ms for the server to answer.  0 when done
 * (st->synced set) or when the server does not answer yet (st->synced
 * stays false); -1 (logged, in st->error). */
int local_pg_sql_sync(const struct local_inst *in, struct local_state *st,
		      const struct local_secret *sec, int64_t wait_ms);
/* Logs in as admin over TCP to bind:port (RUNNING, else STARTING with
 * libpq's reason).  When only the password is refused but dbtree_root
 * gets in, the server is RUNNING and the reason says the password was
 * changed outside dbtree.  With detail: connections (other than ours),
 * storage_bytes (pg_database_size of the user's database), uptime_s. */
void local_pg_sql_observe(const struct local_inst *in,
			  const struct local_secret *sec, bool detail,
			  struct prov_observation *o);

#include "base/banned.h"
#endif
