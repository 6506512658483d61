/*
 * Accounts: the profile a person sees, and account deletion.
 */
#ifndef DOMAIN_ACCOUNT_H
#define DOMAIN_ACCOUNT_H

#include <stdint.h>
#include <time.h>

#include "base/lang.h"
#include "domain/email.h"
#include "domain/session.h"

struct db;

struct profile {
	char id[USER_ID_LEN + 1];
	char email[EMAIL_MAX + 1];
	int64_t balance;
	int64_t total_earned;
	int64_t total_spent;
	time_t last_harvest_at;	/* 0 = never */
	time_t joined_at;
	enum lang lang;		/* the language the person last used */
	/* the daily streak (domain/game.h): 0 once a day was missed */
	int64_t streak, streak_best;
	int64_t next_milestone;	/* 0 = past the last */
};

enum account_result {
	ACCOUNT_OK = 0,
	ACCOUNT_NONE = 1,	/* no live account with that id */
};

/* Fills p for the live user user_id.  ACCOUNT_OK, ACCOUNT_NONE or -1. */
int account_profile(struct db *db, const char *user_id, struct profile *p);

/* Records lang as the language user_id last used (their mails follow
 * it); writes only when it changed.  0 or -1. */
int account_set_lang(struct db *db, const char *user_id, enum lang lang);

/* The live account of a normalised address: ACCOUNT_OK with id filled,
 * ACCOUNT_NONE, or -1. */
int account_find(struct db *db, const char *email, char id[USER_ID_LEN + 1]);

/* Soft-deletes the account in one transaction: the row stays for the
 * ledger's sake but loses its address (freeing it for a new account), every
 * session ends, every instance is marked for deletion, and the goodbye mail
 * is queued (*outbox_id).  The welcome
 * bonus memory is kept, so a new account with the same address gets no
 * second bonus.  ACCOUNT_OK, ACCOUNT_NONE or -1. */
int account_delete(struct db *db, const char *user_id, int64_t *outbox_id);

#include "base/banned.h"
#endif
