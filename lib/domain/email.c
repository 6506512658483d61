/*
 * E-mail rules.  The MX check follows RFC 5321: a domain without MX records
 * still takes mail at its A record, so only NXDOMAIN, or no MX and no A,
 * refuses the address.  Timeouts and server failures never refuse one (the
 * earlier implementation blacklisted domains for good on a DNS hiccup).
 */
#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "domain/email.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_domain(struct email_rules *r, size_t *cap, const char *line)
{
	char d[256];
	size_t n = 0;

	while (isspace((unsigned char)*line))
		line++;
	if (*line == '#' || !*line)
		return;
	while (line[n] && !isspace((unsigned char)line[n]) && n < 255) {
		d[n] = (char)tolower((unsigned char)line[n]);
		n++;
	}
	d[n] = '\0';
	if (r->nblocked == *cap) {
		*cap = *cap ? *cap * 2 : 512;
		r->blocked = xrealloc(r->blocked, *cap * sizeof(char *));
	}
	r->blocked[r->nblocked++] = xstrdup(d);
}

int
email_rules_load(struct email_rules *r, const char *path, bool check_mx)
{
	FILE *f;
	char line[512];
	size_t cap = 0;

	memset(r, 0, sizeof(*r));
	r->check_mx = check_mx;
	if (!(f = fopen(path, "r")))
		return fail("open disposable domain list '%s': %m", path);
	while (fgets(line, sizeof(line), f))
		add_domain(r, &cap, line);
	fclose(f);
	if (r->nblocked)
		qsort(r->blocked, r->nblocked, sizeof(char *), cmp_str);
	return 0;
}

void
email_rules_release(struct email_rules *r)
{
	for (size_t i = 0; i < r->nblocked; i++)
		free(r->blocked[i]);
	free(r->blocked);
	memset(r, 0, sizeof(*r));
}

int
email_normalize(const char *in, char *out, size_t size)
{
	size_t start = 0, end = strlen(in), n;

	while (start < end && isspace((unsigned char)in[start]))
		start++;
	while (end > start && isspace((unsigned char)in[end - 1]))
		end--;
	n = end - start;
	if (n > EMAIL_MAX || n + 1 > size)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[start + i];

		if (c < 0x20 || c == 0x7f)
			return -1;
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	return 0;
}

static bool
is_gmail(const char *domain)
{
	return strcmp(domain, "gmail.com") == 0 ||
	    strcmp(domain, "googlemail.com") == 0;
}

int
email_mailbox(const char *email, char *out, size_t size)
{
	const char *at = strrchr(email, '@'), *plus, *domain;
	size_t local, keep, n = 0;
	bool gmail;

	if (!at || size == 0)
		return -1;
	local = (size_t)(at - email);
	plus = memchr(email, '+', local);
	keep = plus && plus > email ? (size_t)(plus - email) : local;
	gmail = is_gmail(at + 1);
	domain = gmail ? "gmail.com" : at + 1;
	if (local + 1 + strlen(domain) >= size)
		return -1;
	for (size_t i = 0; i < keep; i++)
		if (!gmail || email[i] != '.')
			out[n++] = email[i];
	if (n == 0) {
		memcpy(out, email, local);
		n = local;
	}
	out[n++] = '@';
	memcpy(out + n, domain, strlen(domain) + 1);
	return 0;
}

static bool
is_local_char(char c)
{
	return isalnum((unsigned char)c) || strchr("._%+-", c);
}

/* domain: labels of [a-z0-9-] not starting or ending with '-', at least
 * two labels, a top-level label of two or more letters. */
static bool
is_domain(const char *d)
{
	size_t len = 0, labels = 0, tld_letters = 0;

	for (const char *p = d;; p++) {
		if (*p == '.' || *p == '\0') {
			/* p - len, not p[-len]: -len is a huge size_t */
			if (len == 0 || p[-1] == '-' || *(p - len) == '-' ||
			    len > 63)
				return false;
			labels++;
			if (*p == '\0')
				break;
			len = 0;
			tld_letters = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
		tld_letters += isalpha((unsigned char)*p) ? 1 : 0;
		len++;
	}
	return labels >= 2 && tld_letters == len && len >= 2;
}

bool
email_is_well_formed(const char *email)
{
	const char *at = strchr(email, '@');

	if (!at || at == email || strchr(at + 1, '@') ||
	    strlen(email) > EMAIL_MAX || at - email > 64)
		return false;
	for (const char *p = email; p < at; p++)
		if (!is_local_char(*p))
			return false;
	if (email[0] == '.' || at[-1] == '.' || strstr(email, ".."))
		return false;
	return is_domain(at + 1);
}

static bool
is_blocked(const struct email_rules *r, const char *domain)
{
	/* the domain itself or any parent domain is on the list */
	for (const char *d = domain; d; d = strchr(d, '.'), d = d ? d + 1 : d)
		if (r->nblocked && bsearch(&d, r->blocked, r->nblocked,
		    sizeof(char *), cmp_str))
			return true;
	return false;
}

bool
email_dns_refuses(enum email_dns mx, enum email_dns a)
{
	if (mx == EMAIL_DNS_NXDOMAIN)
		return true;
	return mx == EMAIL_DNS_NODATA && (a == EMAIL_DNS_NODATA ||
	    a == EMAIL_DNS_NXDOMAIN);
}

static enum email_dns
lookup(const char *domain, int type)
{
	unsigned char answer[1024];
	struct __res_state st;
	enum email_dns ret = EMAIL_DNS_FOUND;

	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0)
		return EMAIL_DNS_TRANSIENT;
	st.retrans = 2;
	st.retry = 1;
	if (res_nquery(&st, domain, ns_c_in, type, answer,
	    sizeof(answer)) < 0) {
		if (st.res_h_errno == HOST_NOT_FOUND)
			ret = EMAIL_DNS_NXDOMAIN;
		else if (st.res_h_errno == NO_DATA)
			ret = EMAIL_DNS_NODATA;
		else
			ret = EMAIL_DNS_TRANSIENT;
	}
	res_nclose(&st);
	return ret;
}

enum email_verdict
email_check(const struct email_rules *r, const char *email)
{
	const char *domain;
	enum email_dns mx;

	if (!email_is_well_formed(email))
		return EMAIL_BAD_FORMAT;
	domain = strchr(email, '@') + 1;
	if (is_blocked(r, domain))
		return EMAIL_DISPOSABLE;
	if (!r->check_mx)
		return EMAIL_OK;
	mx = lookup(domain, ns_t_mx);
	if (mx == EMAIL_DNS_TRANSIENT)
		log_warn("mx lookup for '%s' failed; letting it through",
		    domain);
	if (email_dns_refuses(mx, mx == EMAIL_DNS_NODATA ?
	    lookup(domain, ns_t_a) : EMAIL_DNS_FOUND))
		return EMAIL_NO_MAIL_DOMAIN;
	return EMAIL_OK;
}
