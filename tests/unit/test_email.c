/*
 * E-mail rules: normalisation, the accepted format, the disposable-domain
 * blocklist (parent domains included), and which DNS answers refuse an
 * address (only NXDOMAIN, or neither MX nor A; never a failed lookup).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "domain/email.h"
#include "harness.h"

static void
test_normalize(void)
{
	char out[EMAIL_MAX + 1];
	char longer[EMAIL_MAX + 2];

	CHECK_INT(email_normalize("  Ann.Lee@Example.COM \t", out, sizeof(out)), 0);
	CHECK_STR(out, "ann.lee@example.com");
	CHECK_INT(email_normalize("a\nb@example.com", out, sizeof(out)), -1);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	CHECK_INT(email_normalize(longer, out, sizeof(out)), -1);
}

static void
test_well_formed(void)
{
	static const char *const good[] = { "a@example.com", "a.b+c_d%e-f@ex-ample.co.uk",
		"x@sub.example.museum" };
	static const char *const bad[] = { "", "plain", "a@b", "@example.com", "a@",
		"a@@example.com", "a b@example.com", ".a@example.com", "a.@example.com",
		"a..b@example.com", "a@example..com", "a@-example.com", "a@example-.com",
		"a@example.c0m", "a@example.c", "a@.example.com", "a@example.com.",
		"a@exa_mple.com", "a\"b@example.com" };

	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		if (!CHECK(email_is_well_formed(good[i])))
			fprintf(stderr, "  refused '%s'\n", good[i]);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (!CHECK(!email_is_well_formed(bad[i])))
			fprintf(stderr, "  accepted '%s'\n", bad[i]);
}

static void
test_blocklist(void)
{
	char path[] = "/tmp/test_email_XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct email_rules r;

	fputs("# comment\n\nMailinator.com\n  yopmail.com  \ntrash.example\n", f);
	fclose(f);
	CHECK_INT(email_rules_load(&r, path, false), 0);
	CHECK_INT((int64_t)r.nblocked, 3);
	CHECK_INT(email_check(&r, "a@mailinator.com"), EMAIL_DISPOSABLE);
	CHECK_INT(email_check(&r, "a@eu.mailinator.com"), EMAIL_DISPOSABLE);
	CHECK_INT(email_check(&r, "a@yopmail.com"), EMAIL_DISPOSABLE);
	CHECK_INT(email_check(&r, "a@notmailinator.com"), EMAIL_OK);
	CHECK_INT(email_check(&r, "a@example.com"), EMAIL_OK);
	CHECK_INT(email_check(&r, "not an address"), EMAIL_BAD_FORMAT);
	email_rules_release(&r);
	unlink(path);
	CHECK_INT(email_rules_load(&r, "/nonexistent/list", false), -1);
	CHECK_INT(email_check(&r, "a@mailinator.com"), EMAIL_OK);
	email_rules_release(&r);
}

static void
test_dns_verdicts(void)
{
	CHECK(email_dns_refuses(EMAIL_DNS_NXDOMAIN, EMAIL_DNS_FOUND));
	CHECK(email_dns_refuses(EMAIL_DNS_NODATA, EMAIL_DNS_NODATA));
	CHECK(email_dns_refuses(EMAIL_DNS_NODATA, EMAIL_DNS_NXDOMAIN));
	CHECK(!email_dns_refuses(EMAIL_DNS_FOUND, EMAIL_DNS_NODATA));
	CHECK(!email_dns_refuses(EMAIL_DNS_NODATA, EMAIL_DNS_FOUND));
	/* a lookup that failed never refuses an address */
	CHECK(!email_dns_refuses(EMAIL_DNS_TRANSIENT, EMAIL_DNS_TRANSIENT));
	CHECK(!email_dns_refuses(EMAIL_DNS_NODATA, EMAIL_DNS_TRANSIENT));
}

static const struct test_case cases[] = {
	{ "normalize", test_normalize },
	{ "well_formed", test_well_formed },
	{ "blocklist", test_blocklist },
	{ "dns_verdicts", test_dns_verdicts },
};

int
main(void)
{
	return harness_run("email", cases, ARRAY_LEN(cases));
}
