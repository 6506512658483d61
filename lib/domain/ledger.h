/*
 * The lemon ledger: the only way a balance changes.  One move locks the
 * user row, checks the bounds, updates the balance (and the earned/spent
 * totals) and appends a ledger row carrying the balance after it.
 * Invariant: for every user, balance = sum of the user's ledger amounts.
 *
 * ledger_apply() runs inside the caller's open transaction (so a move and
 * the event that causes it commit together); ledger_move() owns its own.
 */
#ifndef DOMAIN_LEDGER_H
#define DOMAIN_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

struct db;

#define LEDGER_ID_LEN 36

struct ledger_move {
	const char *user_id;
	const char *action;	/* a lemon_action value, e.g. "harvest" */
	int64_t amount;		/* credits > 0, debits < 0 */
	int64_t cap;		/* credits: the balance may not pass it; 0 = none */
	bool clip;		/* credit only up to the cap instead of failing;
				 * the ledger row's note then says so */
	const char *note;
	const char *instance_id;	/* internal instance id, or NULL */
	/* out */
	int64_t applied;	/* the amount booked (less than amount if clipped) */
	int64_t balance;	/* after the move */
	char tx_id[LEDGER_ID_LEN + 1];
};

enum ledger_result {
	LEDGER_OK = 0,
	LEDGER_INSUFFICIENT = 1,	/* a debit larger than the balance */
	LEDGER_FULL = 2,		/* a credit past the cap */
	LEDGER_NO_USER = 3,		/* no live user with that id */
};

/* Inside an open transaction: books m; fills applied, balance, tx_id.  On
 * LEDGER_INSUFFICIENT, balance holds the current balance. */
int ledger_apply(struct db *db, struct ledger_move *m);
/* The same in a transaction of its own. */
int ledger_move(struct db *db, struct ledger_move *m);

#include "base/banned.h"
#endif
