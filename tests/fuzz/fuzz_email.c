/*
 * libFuzzer target for e-mail normalisation (domain/email.h): the input,
 * cut at its first NUL, goes through email_normalize, email_is_well_formed
 * and email_mailbox, and each result is held to the header: a normalised
 * address is trimmed, lower-cased, short enough and stable; a mailbox key
 * is never longer than the address, is its own key, keeps no plus-tag and,
 * at Gmail, no dots, and a plus-tag added to the address does not change
 * it.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/email.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static void
check_normalized(const char *out)
{
	char again[EMAIL_MAX + 1];
	size_t n = strlen(out);

	MUST(n <= EMAIL_MAX);
	MUST(n == 0 || (!isspace((unsigned char)out[0]) &&
	    !isspace((unsigned char)out[n - 1])));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];

		MUST(c >= 0x20 && c != 0x7f && !(c >= 'A' && c <= 'Z'));
	}
	MUST(email_normalize(out, again, sizeof(again)) == 0);
	MUST(strcmp(again, out) == 0);
}

/* The rule of email.h written another way: the mailbox key of email. */
static void
ref_mailbox(const char *email, char *out, size_t size)
{
	const char *at = strrchr(email, '@'), *domain = at + 1;
	size_t local = (size_t)(at - email), base = local, n = 0;
	bool gmail = strcmp(domain, "gmail.com") == 0 ||
	    strcmp(domain, "googlemail.com") == 0;

	/* the tag starts at the first '+', unless that one starts the local
	 * part: then there is none */
	for (size_t i = local; i-- > 1;)
		if (email[i] == '+')
			base = i;
	if (local > 0 && email[0] == '+')
		base = local;
	for (size_t i = 0; i < base; i++)
		if (!(gmail && email[i] == '.'))
			out[n++] = email[i];
	if (n == 0) {
		memcpy(out, email, local);
		n = local;
	}
	snprintf(out + n, size - n, "@%s", gmail ? "gmail.com" : domain);
}

static void
check_key(const char *email, const char *key)
{
	char again[EMAIL_MAX + 1], ref[EMAIL_MAX + 16];

	ref_mailbox(email, ref, sizeof(ref));
	MUST(strcmp(key, ref) == 0);
	MUST(strlen(key) <= strlen(email));
	MUST(email_mailbox(key, again, sizeof(again)) == 0);
	MUST(strcmp(again, key) == 0);
}

/* A tag added to a local part without one, which is not all dots at
 * Gmail, changes no key. */
static void
check_tag_invariance(const char *email, const char *key)
{
	const char *at = strrchr(email, '@');
	size_t local = (size_t)(at - email);
	char tagged[EMAIL_MAX + 8], key2[EMAIL_MAX + 8];
	bool gmail = strcmp(strrchr(key, '@') + 1, "gmail.com") == 0;

	if (local == 0 || memchr(email, '+', local) ||
	    (gmail && strspn(email, ".") >= local))
		return;
	snprintf(tagged, sizeof(tagged), "%.*s+tag%s", (int)local, email, at);
	MUST(email_mailbox(tagged, key2, sizeof(key2)) == 0);
	MUST(strcmp(key2, key) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	char out[EMAIL_MAX + 1], key[EMAIL_MAX + 1];

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (email_normalize(in, out, sizeof(out)) == 0) {
		check_normalized(out);
		MUST(!email_is_well_formed(out) || strchr(out, '@'));
		if (strchr(out, '@')) {
			/* strlen + 1 bytes always suffice */
			MUST(email_mailbox(out, key, strlen(out) + 1) == 0);
			check_key(out, key);
			check_tag_invariance(out, key);
		} else {
			MUST(email_mailbox(out, key, sizeof(key)) == -1);
		}
	}
	free(in);
	return 0;
}
