/*
 * The mail outbox.  A mail is queued in the same transaction as the event
 * that causes it (outbox_add), sent right after commit when possible
 * (outbox_send), and otherwise by the `mail` job (outbox_run) with
 * exponential backoff until it is sent, refused for good, or 24 hours old.
 *
 * Each send first claims the row with a lease (one UPDATE), so two senders
 * never send the same row at the same time; a crash between sending and
 * recording it can only lead to a resend with the same Message-ID.
 */
#ifndef DOMAIN_OUTBOX_H
#define DOMAIN_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "base/lang.h"
#include "net/mail.h"

struct db;

struct mailer {
	struct mail_conf conf;
	void *curl;		/* CURL *, borrowed */
	const char *from;
	const char *admin;	/* support inquiries go here */
	const char *site_url;	/* links in mails */
	bool keep_codes;	/* file transport: login codes also go to
				 * <file_dir>/login-codes.log (0600) */
};

/* Inside an open transaction: queues a mail of kind (see mails.h) to
 * recipient with params (JSON object text).  *id gets its id.  0 or -1.
 * The mail is written in the language the live account of that address
 * last used (users.lang), English when there is none. */
int outbox_add(struct db *db, const char *kind, const char *recipient,
	       const char *params_json, int64_t *id);
/* The same in lang, whoever the address belongs to (the login code goes
 * out in the language of the page that asked for it). */
int outbox_add_in(struct db *db, const char *kind, const char *recipient,
		  const char *params_json, enum lang lang, int64_t *id);
/* Sends mail id now if it is due and nobody else holds it.  code is the
 * login code for a login_code mail sent right after it was issued (NULL
 * otherwise).  0 when sent or not due, -1 on failure (it stays queued). */
int outbox_send(struct db *db, const struct mailer *m, int64_t id,
		const char *code);
/* One pass of the job: sends due mails until deadline_ms (monotonic).
 * Returns the number sent, or -1. */
int64_t outbox_run(struct db *db, const struct mailer *m, int64_t deadline_ms);

#include "base/banned.h"
#endif
