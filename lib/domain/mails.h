/*
 * The text of every mail dbtree sends, rendered from a kind and its params
 * (the JSON object stored in the outbox).  All text that comes from people
 * is HTML-escaped in the HTML part.
 *
 * Kinds: login_code, welcome, goodbye, support_admin, support_confirm,
 * instance_ready, instance_paused, instance_delete_warning,
 * instance_deleted.
 */
#ifndef DOMAIN_MAILS_H
#define DOMAIN_MAILS_H

#include "base/buf.h"
#include "base/lang.h"

struct json_object;

struct mail_content {
	struct buf subject;
	struct buf text;
	struct buf html;
};

void mails_init(struct mail_content *c);
void mails_release(struct mail_content *c);

/* Renders kind in lang with params; code is the login code for
 * login_code.  Returns 0, or -1 for an unknown kind or text over the size
 * cap. */
int mails_render(const char *kind, enum lang lang, struct json_object *params,
		 const char *code, const char *site_url,
		 struct mail_content *out);

#include "base/banned.h"
#endif
