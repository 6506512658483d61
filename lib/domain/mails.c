/*
 * Mail texts.  One small function per kind writes the subject and both
 * parts; the HTML part is a fixed frame around escaped paragraphs.
 */
#include <json.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/utf8.h"
#include "domain/mails.h"
#include "net/mail.h"

#define MAIL_MAX (128 * 1024)

void
mails_init(struct mail_content *c)
{
	buf_init(&c->subject, 512);
	buf_init(&c->text, MAIL_MAX);
	buf_init(&c->html, MAIL_MAX);
}

void
mails_release(struct mail_content *c)
{
	buf_release(&c->subject);
	buf_release(&c->text);
	buf_release(&c->html);
}

static const char *
pstr(struct json_object *params, const char *key)
{
	struct json_object *v;

	if (!params || !json_object_object_get_ex(params, key, &v))
		return "";
	return json_object_get_string(v);
}

/* One paragraph in both parts: text as is, HTML escaped. */
static int
para(struct mail_content *c, const char *s)
{
	return buf_addf(&c->text, "%s\n\n", s) | buf_adds(&c->html, "<p>") |
	    mail_html_escape(&c->html, s) | buf_adds(&c->html, "</p>\n");
}

/* A labelled line ("Subject: ...") in both parts. */
static int
field(struct mail_content *c, const char *label, const char *value)
{
	return buf_addf(&c->text, "%s: %s\n", label, value) |
	    buf_addf(&c->html, "<p><strong>%s:</strong> ", label) |
	    mail_html_escape(&c->html, value) | buf_adds(&c->html, "</p>\n");
}

static int
render_login_code(struct mail_content *c, struct json_object *p,
		  const char *code)
{
	int ret = buf_adds(&c->subject, "Your dbtree login code");

	ret |= para(c, json_object_get_boolean(json_object_object_get(p,
	    "isNewUser")) ? "Welcome to dbtree!" : "Welcome back to dbtree!");
	ret |= buf_addf(&c->text, "Your login code: %s\n\n", code);
	ret |= buf_addf(&c->html, "<p style=\"font-size:28px;"
	    "letter-spacing:6px\"><strong>%s</strong></p>\n", code);
	ret |= buf_addf(&c->text, "It is valid for %s minutes and works"
	    " once.", pstr(p, "ttlMinutes"));
	ret |= buf_addf(&c->html, "<p>It is valid for %d minutes and works"
	    " once.", json_object_get_int(json_object_object_get(p,
	    "ttlMinutes")));
	ret |= para(c, " If you did not ask for it, ignore this mail: nobody"
	    " can log in without the code.");
	return ret;
}

static int
render_welcome(struct mail_content *c, struct json_object *p)
{
	(void)p;
	return buf_adds(&c->subject, "Welcome to dbtree: 15 lemons for you") |
	    para(c, "Your account is ready and 15 lemons are in it.") |
	    para(c, "Answer database quizzes at the lemon tree to earn more,"
	    " and spend them on your own PostgreSQL and Redis databases.");
}

/* One line per final backup: the page that downloads it, once. */
static int
backup_links(struct mail_content *c, struct json_object *p,
	     const char *site_url)
{
	struct json_object *list, *b;
	char url[512];
	int ret = 0;

	if (!json_object_object_get_ex(p, "backups", &list) ||
	    json_object_array_length(list) == 0)
		return 0;
	ret |= para(c, "We kept the last copy of each of your databases for a"
	    " week. Each link below downloads one, once:");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		b = json_object_array_get_idx(list, i);
		snprintf(url, sizeof(url), "%s/backup.html#%s", site_url,
		    pstr(b, "token"));
		ret |= field(c, pstr(b, "name"), url);
	}
	return ret;
}

static int
render_goodbye(struct mail_content *c, struct json_object *p,
	       const char *site_url)
{
	return buf_adds(&c->subject, "Your dbtree account is deleted") |
	    para(c, "Your account and your sessions are gone. Thank you for"
	    " harvesting with us.") | backup_links(c, p, site_url) |
	    para(c, "You are welcome back any time with the same address.");
}

static int
render_support_admin(struct mail_content *c, struct json_object *p)
{
	int ret = buf_adds(&c->subject, "[dbtree support] ");

	ret |= buf_addf(&c->subject, "%s - %.*s", pstr(p, "category"),
	    (int)utf8_prefix(pstr(p, "subject"), strlen(pstr(p, "subject")),
	    100), pstr(p, "subject"));
	ret |= field(c, "Category", pstr(p, "category"));
	ret |= field(c, "Subject", pstr(p, "subject"));
	ret |= field(c, "From", pstr(p, "userEmail"));
	ret |= field(c, "User id", pstr(p, "userId"));
	ret |= field(c, "Lemon balance", pstr(p, "lemonBalance"));
	ret |= field(c, "Page", pstr(p, "currentPage"));
	ret |= field(c, "Browser", pstr(p, "userAgent"));
	ret |= field(c, "Sent at", pstr(p, "timestamp"));
	ret |= para(c, pstr(p, "message"));
	return ret;
}

static int
render_support_confirm(struct mail_content *c, struct json_object *p)
{
	return buf_adds(&c->subject, "We received your dbtree question") |
	    para(c, "Thank you for writing. We answer within 24 hours, to"
	    " this address.") |
	    field(c, "Subject", pstr(p, "subject")) |
	    para(c, pstr(p, "message"));
}

static int
render_instance(struct mail_content *c, const char *kind,
		struct json_object *p, const char *site_url)
{
	char account[512];

	const char *name = pstr(p, "name");
	int ret = 0;

	if (strcmp(kind, "instance_ready") == 0) {
		ret |= buf_addf(&c->subject, "Your database %s is ready", name);
		ret |= para(c, "Your database is up and answers on the"
		    " connection string you saved when you created it.");
		ret |= field(c, "Instance", name);
		ret |= field(c, "Host", pstr(p, "host"));
		ret |= field(c, "Port", pstr(p, "port"));
	} else if (strcmp(kind, "instance_paused") == 0) {
		ret |= buf_addf(&c->subject, "Your database %s is paused", name);
		ret |= para(c, "You ran out of lemons, so we paused it. Your data"
		    " is safe: harvest some lemons and it starts again by"
		    " itself.");
	} else if (strcmp(kind, "instance_delete_warning") == 0) {
		ret |= buf_addf(&c->subject, "Your database %s will be deleted"
		    " soon", name);
		ret |= para(c, "It has been paused for lack of lemons and will be"
		    " deleted within the hour. Harvest lemons now to keep it.");
	} else {
		ret |= buf_addf(&c->subject, "Your database %s was deleted",
		    name);
		ret |= para(c, "It stayed paused for lack of lemons, so we"
		    " deleted it. We kept a copy of its data for a week:"
		    " download it from your account page.");
		snprintf(account, sizeof(account), "%s/account.html#backups",
		    site_url);
		ret |= field(c, "Account page", account);
	}
	return ret;
}

static int
frame_open(struct mail_content *c)
{
	return buf_adds(&c->html, "<!doctype html><html><body style=\""
	    "font-family:sans-serif;max-width:560px;margin:auto\">\n"
	    "<h2>&#127819; dbtree</h2>\n");
}

static int
frame_close(struct mail_content *c, const char *site_url)
{
	int ret = buf_adds(&c->text, "-- \ndbtree ");

	ret |= buf_addf(&c->text, "%s\n", site_url);
	ret |= buf_adds(&c->html, "<p style=\"color:#777\">dbtree &middot; ");
	ret |= mail_html_escape(&c->html, site_url);
	return ret | buf_adds(&c->html, "</p></body></html>\n");
}

int
mails_render(const char *kind, struct json_object *params, const char *code,
	     const char *site_url, struct mail_content *out)
{
	int ret = frame_open(out);

	if (strcmp(kind, "login_code") == 0 && code)
		ret |= render_login_code(out, params, code);
	else if (strcmp(kind, "welcome") == 0)
		ret |= render_welcome(out, params);
	else if (strcmp(kind, "goodbye") == 0)
		ret |= render_goodbye(out, params, site_url);
	else if (strcmp(kind, "support_admin") == 0)
		ret |= render_support_admin(out, params);
	else if (strcmp(kind, "support_confirm") == 0)
		ret |= render_support_confirm(out, params);
	else if (strncmp(kind, "instance_", 9) == 0)
		ret |= render_instance(out, kind, params, site_url);
	else
		return fail("render mail: unknown kind '%s'", kind);
	if ((ret | frame_close(out, site_url)) != 0)
		return fail("render mail '%s': too large", kind);
	return 0;
}
