/*
 * Billing: each period (an hour by default) every running instance is
 * charged its hourly cost once — a row per instance and period in
 * db_instance_billing makes a second run charge nothing.  An instance whose
 * owner is short of lemons is paused (the reconciler stops it) and resumed
 * as soon as the balance covers a period; after the grace (24 h by
 * default) paused, it is deleted.  Mails at pause, one hour before
 * deletion, and at deletion, through the outbox.
 */
#ifndef DOMAIN_BILLING_H
#define DOMAIN_BILLING_H

#include <stdint.h>

struct db;

struct billing_rules {
	int64_t period_s;
	int64_t grace_s;
};

struct billing_stats {
	int64_t charged, paused, resumed, warned, deleted;
};

/* One pass; stops acting past deadline_ms (monotonic).  0 or -1. */
int billing_run(struct db *db, const struct billing_rules *r,
		int64_t deadline_ms, struct billing_stats *st);

#include "base/banned.h"
#endif
