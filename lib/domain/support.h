/*
 * Support inquiries: one mail to the admin address and a confirmation to
 * the person, queued together.  The person's address and balance come from
 * the database, never from the client.
 */
#ifndef DOMAIN_SUPPORT_H
#define DOMAIN_SUPPORT_H

#include <stdint.h>

struct db;

struct support_inquiry {
	const char *category;	/* bug | feature | billing | lemons | other */
	const char *subject;	/* 1..100 bytes */
	const char *message;	/* 1..1000 bytes */
	const char *user_agent;	/* from the client's context, may be "" */
	const char *current_page;
	/* out: the two queued mails */
	int64_t admin_mail, confirm_mail;
};

/* True for a category the product knows. */
int support_is_category(const char *category);
/* Queues both mails for the live user user_id in one transaction.
 * 0, 1 when there is no such user, or -1. */
int support_submit(struct db *db, const char *user_id, const char *admin,
		   struct support_inquiry *q);

#include "base/banned.h"
#endif
