/*
 * E-mail addresses: normalisation (trimmed, lower-cased), the mailbox key
 * (plus-tags and Gmail's dots do not make another mailbox), a strict format
 * check, the disposable-domain blocklist, and an MX check that only refuses
 * a domain DNS says does not take mail (a lookup that fails for any other
 * reason lets the address through).
 */
#ifndef DOMAIN_EMAIL_H
#define DOMAIN_EMAIL_H

#include <stdbool.h>
#include <stddef.h>

#define EMAIL_MAX 254

struct email_rules {
	char **blocked;		/* sorted domains */
	size_t nblocked;
	bool check_mx;
};

enum email_verdict {
	EMAIL_OK = 0,
	EMAIL_BAD_FORMAT = 1,
	EMAIL_DISPOSABLE = 2,
	EMAIL_NO_MAIL_DOMAIN = 3,	/* DNS: no such domain, or no MX/A */
};

/* Loads the blocklist at path (one domain a line, # comments).  A missing
 * file is logged and leaves the list empty.  Returns 0 or -1. */
int email_rules_load(struct email_rules *r, const char *path, bool check_mx);
void email_rules_release(struct email_rules *r);

/* Writes the trimmed, lower-cased form of in into out (size >= EMAIL_MAX+1).
 * Returns 0, or -1 when it is too long or holds control characters. */
int email_normalize(const char *in, char *out, size_t size);
/* The mailbox key of a normalised address, for "once per mailbox" rules
 * (the welcome bonus): the local part loses a "+tag" (every domain) and,
 * at gmail.com and googlemail.com, its dots, and googlemail.com becomes
 * gmail.com: "ann.lee+news@googlemail.com" -> "annlee@gmail.com".  The
 * tag starts at the first '+'; a local part that starts with '+' has none,
 * and one the rules would leave empty is kept whole.  Writes the key into out, for which
 * strlen(email) + 1 bytes always suffice; 0, or -1 when email has no '@'
 * or out is too small. */
int email_mailbox(const char *email, char *out, size_t size);
/* Format, blocklist and (when enabled) MX check of a normalised address. */
enum email_verdict email_check(const struct email_rules *r,
			       const char *email);
/* True for local@domain.tld with the characters the product accepts. */
bool email_is_well_formed(const char *email);
/* The verdict for DNS answers: rcode_mx/rcode_a are 0 (records found),
 * EMAIL_DNS_NXDOMAIN, EMAIL_DNS_NODATA or EMAIL_DNS_TRANSIENT. */
enum email_dns { EMAIL_DNS_FOUND, EMAIL_DNS_NXDOMAIN, EMAIL_DNS_NODATA,
	EMAIL_DNS_TRANSIENT };
bool email_dns_refuses(enum email_dns mx, enum email_dns a);

#include "base/banned.h"
#endif
