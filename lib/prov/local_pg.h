/*
 * For the local driver only: PostgreSQL instances, one cluster (initdb)
 * and one postmaster per instance.  in->spec must be set except for
 * local_pg_stop.  Failures are logged and recorded in st->error.
 */
#ifndef PROV_LOCAL_PG_H
#define PROV_LOCAL_PG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "prov/local_state.h"

/* The newest /usr/lib/postgresql/<version>/bin that has initdb, pg_ctl and
 * postgres (the caller frees it), or NULL. */
char *local_pg_find(void);
/* True for a database name: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$, 3..63. */
bool local_pg_is_name(const char *name);

/* Makes the instance match in->spec: initdb when it was never created,
 * the generated settings, pg_hba.conf and TLS files (local_tls.h), start
 * or stop (a running server whose settings changed is restarted; one
 * whose pg_hba.conf or certificate changed reloads), then the first-start
 * setup if the server answers within a few hundred ms.  0 or -1. */
int local_pg_apply(const struct local_inst *in, struct local_state *st,
		   const struct local_secret *sec);
/* Renews the certificate when local_tls_ensure(margin_s) says so; a
 * running server reloads it (no restart).  0 (nothing to do, or not
 * created yet), LOCAL_CHANGED, or -1. */
int local_pg_renew(const struct local_inst *in, struct local_state *st,
		   int64_t margin_s);
/* Finishes a pending first-start setup (see local_pg_sql_sync) when the
 * server runs and answers at once.  0 or -1. */
int local_pg_setup(const struct local_inst *in, struct local_state *st,
		   const struct local_secret *sec);
/* Takes sec's (new) password: at once when the server runs, else at its
 * next start.  0 or -1 (then nothing changed). */
int local_pg_password(const struct local_inst *in, struct local_state *st,
		      const struct local_secret *sec);
/* Fills o: the server's process, then a login as admin over TCP (TLS);
 * with detail, the live figures. */
void local_pg_observe(const struct local_inst *in,
		      const struct local_state *st,
		      const struct local_secret *sec, bool detail,
		      struct prov_observation *o);
/* The postmaster's pid when it runs, else 0. */
pid_t local_pg_pid(const struct local_inst *in);
/* Stops the server at once (immediate shutdown, then SIGKILL), also when
 * its data directory is gone.  0 or -1 (logged). */
int local_pg_stop(const struct local_inst *in);

#include "base/banned.h"
#endif
