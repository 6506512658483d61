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

/* One mailbox, one key: plus-tags for every domain, dots only at Gmail. */
static void
test_mailbox(void)
{
	static const struct {
		const char *email, *key;
	} t[] = {
		{ "a@example.com", "a@example.com" },
		{ "a+1@example.com", "a@example.com" },
		{ "a+1+2@example.com", "a@example.com" },
		{ "a+@example.com", "a@example.com" },
		{ "a.b+x@example.com", "a.b@example.com" },	/* dots count */
		{ "ab@example.com", "ab@example.com" },
		{ "first.last@gmail.com", "firstlast@gmail.com" },
		{ "f.i.r.s.t.l.a.s.t+promo@gmail.com", "firstlast@gmail.com" },
		{ "firstlast@googlemail.com", "firstlast@gmail.com" },
		{ "first.last+x@googlemail.com", "firstlast@gmail.com" },
		{ "a.b@gmail.com.example.org", "a.b@gmail.com.example.org" },
		{ "a.b@mail.gmail.com", "a.b@mail.gmail.com" },
		{ "+tag@example.com", "+tag@example.com" },	/* no tag */
		{ "+x.y@gmail.com", "+xy@gmail.com" },
		{ "...@gmail.com", "...@gmail.com" },		/* kept whole */
	};
	char out[EMAIL_MAX + 1];

	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		if (!CHECK_INT(email_mailbox(t[i].email, out, sizeof(out)), 0))
			continue;
		if (!CHECK_STR(out, t[i].key))
			fprintf(stderr, "  for '%s'\n", t[i].email);
	}
}

/* The key is the key of itself, and the input is never changed. */
static void
test_mailbox_idempotent(void)
{
	static const char *const emails[] = { "a+1@example.com",
		"first.last+x@googlemail.com", "+x@example.com",
		"a.b@example.com" };
	char once[EMAIL_MAX + 1], twice[EMAIL_MAX + 1];

	for (size_t i = 0; i < ARRAY_LEN(emails); i++) {
		CHECK_INT(email_mailbox(emails[i], once, sizeof(once)), 0);
		CHECK_INT(email_mailbox(once, twice, sizeof(twice)), 0);
		CHECK_STR(twice, once);
	}
}

static void
test_mailbox_room(void)
{
	char out[32];

	memset(out, 'Z', sizeof(out));
	CHECK_INT(email_mailbox("no-at-sign", out, sizeof(out)), -1);
	CHECK_INT(email_mailbox("a+b@example.com", out, 0), -1);
	CHECK_INT(out[0], 'Z');
	/* strlen + 1 always suffices; one byte less does not */
	CHECK_INT(email_mailbox("abc@example.com", out, 16), 0);
	CHECK_STR(out, "abc@example.com");
	memset(out, 'Z', sizeof(out));
	CHECK_INT(email_mailbox("abc@example.com", out, 15), -1);
	CHECK_INT(out[0], 'Z');
	CHECK_INT(email_mailbox("a.b@googlemail.com", out, 19), 0);
	CHECK_STR(out, "ab@gmail.com");
}

static const struct test_case cases[] = {
	{ "normalize", test_normalize },
	{ "well_formed", test_well_formed },
	{ "blocklist", test_blocklist },
	{ "dns_verdicts", test_dns_verdicts },
	{ "mailbox", test_mailbox },
	{ "mailbox_idempotent", test_mailbox_idempotent },
	{ "mailbox_room", test_mailbox_room },
};

int
main(void)
{
	return harness_run("email", cases, ARRAY_LEN(cases));
}
