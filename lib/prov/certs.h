/*
 * The certificate renewal pass (job "certs" of dbtreectl): every instance
 * not being deleted is handed to prov_renew_cert, which renews what
 * expires within the margin, names another public host, or comes from
 * another CA, and makes the running server load it without a restart.
 * One failing instance never stops the pass; the next pass tries again.
 */
#ifndef PROV_CERTS_H
#define PROV_CERTS_H

#include <stdint.h>
#include <time.h>

struct db;
struct prov_driver;

struct certs_stats {
	int64_t checked, renewed, failed;
	time_t earliest_expiry;	/* among the certificates known; 0: none */
};

/* One pass, stopping between instances once deadline_ms (monotonic) has
 * passed.  0, or -1 when the instances could not be read. */
int certs_renew(struct db *db, struct prov_driver *d, int64_t margin_s,
		int64_t deadline_ms, struct certs_stats *st);

#include "base/banned.h"
#endif
