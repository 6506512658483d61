/*
 * E-mail one-time-code login.
 *
 * login_send() issues a fresh 6-digit code for an address, within the send
 * limits, and queues the mail carrying it, in one transaction.  Only the
 * code's SHA-256 is stored; the caller gets the code itself to send right
 * after commit (a retry by the mail job issues a fresh one instead, see
 * login_reissue()).
 *
 * login_verify() checks a code (at most max_tries wrong ones, then the code
 * is void) and, on success, finds or creates the account, pays the welcome
 * bonus once per mailbox ever (email_mailbox(): "a+1@x" and "a+2@x" are
 * one; the account keeps the address as typed), and opens a session for
 * this device — all in one transaction, with the address's login row
 * locked, so parallel verifies of one code open exactly one session.
 */
#ifndef DOMAIN_LOGIN_H
#define DOMAIN_LOGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/lang.h"
#include "domain/session.h"

struct db;

#define LOGIN_CODE_LEN 6

struct login_policy {
	int64_t code_ttl_s;
	int64_t max_tries;
	int64_t send_limit;	/* sends per address ... */
	int64_t send_window_s;	/* ... within this window */
	int64_t resend_s;	/* least time between two sends */
	int64_t session_ttl_s;
	int64_t welcome_bonus;
	int64_t lemon_cap;
};

enum login_send_result {
	LOGIN_SENT = 0,
	LOGIN_TOO_MANY = 1,	/* send_limit reached: retry_after set */
	LOGIN_TOO_EARLY = 2,	/* within resend_s: retry_after set */
};

struct login_send {
	char code[LOGIN_CODE_LEN + 1];
	int64_t outbox_id;
	int64_t retry_after;	/* seconds, when limited */
	bool is_new_user;
};

/* The code's mail is written in lang (the asking page's language). */
int login_send(struct db *db, const struct login_policy *p, const char *email,
	       enum lang lang, struct login_send *out);

enum login_verify_result {
	LOGIN_OK = 0,
	LOGIN_NO_CODE = 1,	/* nothing was sent to this address */
	LOGIN_WRONG = 2,	/* wrong code; tries_left says how many remain */
	LOGIN_EXPIRED = 3,
	LOGIN_VOID = 4,		/* too many wrong codes: ask for a new one */
	LOGIN_USED = 5,		/* this code already logged someone in */
};

struct login_verify {
	char user_id[USER_ID_LEN + 1];
	char token[SESSION_TOKEN_LEN + 1];
	bool is_new_user;
	int64_t welcome_outbox_id;	/* 0 when no welcome mail */
	int64_t tries_left;
};

/* A right code records lang, when not NULL, as the language the person
 * last used (a new account starts with it; its welcome mail follows it). */
int login_verify(struct db *db, const struct login_policy *p,
		 const char *email, const char *code, const enum lang *lang,
		 struct login_verify *out);

/* For the mail job: replaces the live, unused code of email with a fresh
 * one (same expiry, and the wrong codes tried so far still count against
 * max_tries) when its first mail could not be sent.  0 with code filled, 1
 * when there is no live code any more (drop the mail), -1. */
int login_reissue(struct db *db, const char *email,
		  char code[LOGIN_CODE_LEN + 1]);

#include "base/banned.h"
#endif
