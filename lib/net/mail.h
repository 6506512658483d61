/*
 * Outgoing mail: one message, a text and an HTML alternative, built with
 * libcurl's MIME API and sent over SMTP, or written as a .eml file that is
 * byte for byte what SMTP would have sent (for development and tests).
 *
 *	struct mail_msg msg = { from, to, subject, text, html, message_id };
 *
 *	switch (mail_send(app->curl, &conf, &msg)) {
 *	case MAIL_SENT:      ... done ...
 *	case MAIL_REJECTED:  ... the recipient was refused for good ...
 *	default:             ... -1, logged: try again later ...
 *	}
 *
 * Every string of a message is borrowed for the call only.
 */
#ifndef NET_MAIL_H
#define NET_MAIL_H

#include <stdbool.h>
#include <stdint.h>

struct buf;
struct curl_slist;

/* The largest message mail_send accepts, as sent on the wire. */
#define MAIL_MAX_SIZE (256 * 1024)

struct mail_msg {
	const char *from;	/* "dbtree <no-reply@dbtree.local>" or bare */
	const char *to;		/* one bare address */
	const char *subject;	/* UTF-8, any characters */
	const char *text;	/* UTF-8 plain-text part */
	const char *html;	/* UTF-8 HTML part, already escaped */
	const char *message_id;	/* "42.8f3a@dbtree", no <>; stable per
				 * outbox row so a retry reuses it */
};

enum mail_transport { MAIL_SMTP, MAIL_FILE };

struct mail_conf {
	enum mail_transport transport;
	const char *smtp_url;	/* "smtp://host:port" (STARTTLS when
				 * offered) or "smtps://host:port" */
	const char *smtp_user;	/* "" = no AUTH */
	const char *smtp_password;
	bool smtp_require_tls;	/* true: TLS or fail; false: STARTTLS when
				 * the server offers it */
	const char *file_dir;	/* MAIL_FILE: <message_id>.eml go here */
	int64_t timeout_ms;	/* whole transfer, > 0 */
	int64_t connect_timeout_ms;	/* > 0 */
};

enum mail_result {
	MAIL_SENT = 0,
	MAIL_REJECTED = 1,	/* permanent: SMTP 550..559 to RCPT */
};

/*
 * Sends msg and returns MAIL_SENT, MAIL_REJECTED, or -1 for a temporary
 * failure (logged without the body, the recipient or any credential; the
 * caller retries later with the same message_id).
 *
 * curl is a CURL * easy handle owned by the caller; it is reset here before
 * and after use, so its connection cache survives but no option does.
 *
 * Refused with -1 before anything is sent: a message larger than
 * MAIL_MAX_SIZE, addresses that are not bare printable ASCII with an '@'
 * (From may carry a display name: "Name <addr>"), a message_id that is not
 * printable ASCII with an '@' or that contains '/', '\\', '<' or '>'.  CR
 * and LF in the subject or From become spaces: they never start a header.
 *
 * MAIL_FILE writes <file_dir>/<message_id>.eml (mode 0600) atomically,
 * replacing an earlier file of the same message.
 */
int mail_send(void *curl, const struct mail_conf *conf,
	      const struct mail_msg *msg);

/*
 * The top-level header lines mail_send writes for msg, one node each and
 * in this order: Date, From, To, Subject, Message-ID, MIME-Version and
 * Content-Type.  msg passes the same checks as in mail_send (NULL when it
 * does not, logged).  Every node is printable ASCII; the only line breaks
 * are the folds "\r\n " of a Subject that is not printable ASCII (or holds
 * "=?"), which is written as RFC 2047 "B" encoded-words on lines of at
 * most 76 characters, each word ending on a character boundary
 * (base/utf8.h).  CR and LF in the subject or From become spaces.  A new
 * list to curl_slist_free_all().
 */
struct curl_slist *mail_headers(const struct mail_msg *msg);

/*
 * Appends s to out with & < > " ' replaced by HTML character references.
 * Returns 0, or -1 when the result would pass out's cap; out is then
 * unchanged and, as with buf_add, nothing is logged.
 */
int mail_html_escape(struct buf *out, const char *s);

#include "base/banned.h"
#endif
