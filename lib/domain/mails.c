/*
 * Mail texts.  One small function per kind writes the subject and both
 * parts; the HTML part is a fixed frame around escaped paragraphs.  The
 * words come from one table per language (struct words); a mail to the
 * operators (support_admin) is always English.
 */
#include <json.h>
#include <stdbool.h>
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

/* The words of every mail a person gets, one table per language.  "{}"
 * stands for one value (a name, a number), put in by subst(): no printf
 * formats here, so -Wformat-nonliteral keeps guarding the rest. */
struct words {
	const char *code_subject, *code_new, *code_back, *code_label,
	    *code_valid;
	const char *welcome_subject, *welcome_ready, *welcome_more;
	const char *goodbye_subject, *goodbye_gone, *goodbye_kept,
	    *goodbye_back;
	const char *confirm_subject, *confirm_thanks, *subject_label;
	const char *ready_subject, *ready_text, *instance_label, *host_label,
	    *port_label;
	const char *paused_subject, *paused_text;
	const char *warning_subject, *warning_text;
	const char *deleted_subject, *deleted_text, *account_label;
};

static const struct words english = {
	.code_subject = "Your dbtree login code",
	.code_new = "Welcome to dbtree!",
	.code_back = "Welcome back to dbtree!",
	.code_label = "Your login code",
	.code_valid = "It is valid for {} minutes and works once. If you did"
	    " not ask for it, ignore this mail: nobody can log in without the"
	    " code.",
	.welcome_subject = "Welcome to dbtree: 15 lemons for you",
	.welcome_ready = "Your account is ready and 15 lemons are in it.",
	.welcome_more = "Answer database quizzes at the lemon tree to earn"
	    " more, and spend them on your own PostgreSQL and Redis"
	    " databases.",
	.goodbye_subject = "Your dbtree account is deleted",
	.goodbye_gone = "Your account and your sessions are gone. Thank you"
	    " for harvesting with us.",
	.goodbye_kept = "We kept the last copy of each of your databases for"
	    " a week. Each link below downloads one, once:",
	.goodbye_back = "You are welcome back any time with the same"
	    " address.",
	.confirm_subject = "We received your dbtree question",
	.confirm_thanks = "Thank you for writing. We answer within 24 hours,"
	    " to this address.",
	.subject_label = "Subject",
	.ready_subject = "Your database {} is ready",
	.ready_text = "Your database is up and answers on the connection"
	    " string you saved when you created it.",
	.instance_label = "Instance",
	.host_label = "Host",
	.port_label = "Port",
	.paused_subject = "Your database {} is paused",
	.paused_text = "You ran out of lemons, so we paused it. Your data is"
	    " safe: harvest some lemons and it starts again by itself.",
	.warning_subject = "Your database {} will be deleted soon",
	.warning_text = "It has been paused for lack of lemons and will be"
	    " deleted within the hour. Harvest lemons now to keep it.",
	.deleted_subject = "Your database {} was deleted",
	.deleted_text = "It stayed paused for lack of lemons, so we deleted"
	    " it. We kept a copy of its data for a week: download it from"
	    " your account page.",
	.account_label = "Account page",
};

static const struct words korean = {
	.code_subject = "dbtree 로그인 코드",
	.code_new = "dbtree에 오신 것을 환영합니다!",
	.code_back = "dbtree에 다시 오신 것을 환영합니다!",
	.code_label = "로그인 코드",
	.code_valid = "이 코드는 {}분 동안 유효하며 한 번만 쓸 수 있습니다."
	    " 직접 요청하지 않았다면 이 메일은 무시하세요. 코드 없이는 아무도"
	    " 로그인할 수 없습니다.",
	.welcome_subject = "dbtree에 오신 것을 환영합니다: 레몬 15개를"
	    " 드립니다",
	.welcome_ready = "계정이 준비되었고 레몬 15개가 들어 있습니다.",
	.welcome_more = "레몬 나무에서 데이터베이스 퀴즈를 풀어 레몬을 더"
	    " 모으고, 나만의 PostgreSQL·Redis 데이터베이스에 쓰세요.",
	.goodbye_subject = "dbtree 계정이 삭제되었습니다",
	.goodbye_gone = "계정과 세션이 모두 삭제되었습니다. 함께 수확해 주셔서"
	    " 고맙습니다.",
	.goodbye_kept = "각 데이터베이스의 마지막 사본을 일주일 동안"
	    " 보관합니다. 아래 링크마다 사본 하나를 한 번 내려받을 수"
	    " 있습니다:",
	.goodbye_back = "같은 주소로 언제든 다시 오셔도 됩니다.",
	.confirm_subject = "dbtree 문의를 받았습니다",
	.confirm_thanks = "문의해 주셔서 고맙습니다. 24시간 안에 이 주소로"
	    " 답변드리겠습니다.",
	.subject_label = "제목",
	.ready_subject = "데이터베이스 {}이(가) 준비되었습니다",
	.ready_text = "데이터베이스가 실행 중이며, 만들 때 저장한 연결"
	    " 문자열로 접속할 수 있습니다.",
	.instance_label = "인스턴스",
	.host_label = "호스트",
	.port_label = "포트",
	.paused_subject = "데이터베이스 {}이(가) 일시 정지되었습니다",
	.paused_text = "레몬이 떨어져서 일시 정지했습니다. 데이터는"
	    " 안전합니다. 레몬을 수확하면 저절로 다시 시작합니다.",
	.warning_subject = "데이터베이스 {}이(가) 곧 삭제됩니다",
	.warning_text = "레몬이 부족해 일시 정지된 상태이며, 한 시간 안에"
	    " 삭제됩니다. 지키려면 지금 레몬을 수확하세요.",
	.deleted_subject = "데이터베이스 {}이(가) 삭제되었습니다",
	.deleted_text = "레몬이 부족해 계속 일시 정지되어 있어서"
	    " 삭제했습니다. 데이터 사본을 일주일 동안 보관하니 계정"
	    " 페이지에서 내려받으세요.",
	.account_label = "계정 페이지",
};

static const struct words *
words_for(enum lang lang)
{
	switch (lang) {
	case LANG_EN:
		return &english;
	case LANG_KO:
		return &korean;
	}
	return &english;
}

/* Appends tmpl with its "{}" replaced by value, HTML-escaped if html. */
static int
subst(struct buf *b, const char *tmpl, const char *value, bool html)
{
	const char *at = strstr(tmpl, "{}");

	if (!at)
		return buf_adds(b, tmpl);
	return buf_addf(b, "%.*s", (int)(at - tmpl), tmpl) |
	    (html ? mail_html_escape(b, value) : buf_adds(b, value)) |
	    buf_adds(b, at + 2);
}

/* para() of tmpl with its "{}" replaced by value. */
static int
para_with(struct mail_content *c, const char *tmpl, const char *value)
{
	return subst(&c->text, tmpl, value, false) |
	    buf_adds(&c->text, "\n\n") | buf_adds(&c->html, "<p>") |
	    subst(&c->html, tmpl, value, true) | buf_adds(&c->html, "</p>\n");
}

static int
render_login_code(struct mail_content *c, const struct words *w,
		  struct json_object *p, const char *code)
{
	int ret = buf_adds(&c->subject, w->code_subject);

	ret |= para(c, json_object_get_boolean(json_object_object_get(p,
	    "isNewUser")) ? w->code_new : w->code_back);
	ret |= buf_addf(&c->text, "%s: %s\n\n", w->code_label, code);
	ret |= buf_addf(&c->html, "<p style=\"font-size:28px;"
	    "letter-spacing:6px\"><strong>%s</strong></p>\n", code);
	return ret | para_with(c, w->code_valid, pstr(p, "ttlMinutes"));
}

static int
render_welcome(struct mail_content *c, const struct words *w)
{
	return buf_adds(&c->subject, w->welcome_subject) |
	    para(c, w->welcome_ready) | para(c, w->welcome_more);
}

/* One line per final backup: the page that downloads it, once. */
static int
backup_links(struct mail_content *c, const struct words *w,
	     struct json_object *p, const char *site_url)
{
	struct json_object *list, *b;
	char url[512];
	int ret = 0;

	if (!json_object_object_get_ex(p, "backups", &list) ||
	    json_object_array_length(list) == 0)
		return 0;
	ret |= para(c, w->goodbye_kept);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		b = json_object_array_get_idx(list, i);
		snprintf(url, sizeof(url), "%s/backup.html#%s", site_url,
		    pstr(b, "token"));
		ret |= field(c, pstr(b, "name"), url);
	}
	return ret;
}

static int
render_goodbye(struct mail_content *c, const struct words *w,
	       struct json_object *p, const char *site_url)
{
	return buf_adds(&c->subject, w->goodbye_subject) |
	    para(c, w->goodbye_gone) | backup_links(c, w, p, site_url) |
	    para(c, w->goodbye_back);
}

/* To the operators: always in English. */
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
render_support_confirm(struct mail_content *c, const struct words *w,
		       struct json_object *p)
{
	return buf_adds(&c->subject, w->confirm_subject) |
	    para(c, w->confirm_thanks) |
	    field(c, w->subject_label, pstr(p, "subject")) |
	    para(c, pstr(p, "message"));
}

static int
render_instance(struct mail_content *c, const struct words *w,
		const char *kind, struct json_object *p, const char *site_url)
{
	char account[512];
	const char *name = pstr(p, "name");
	int ret = 0;

	if (strcmp(kind, "instance_ready") == 0) {
		ret |= subst(&c->subject, w->ready_subject, name, false);
		ret |= para(c, w->ready_text);
		ret |= field(c, w->instance_label, name);
		ret |= field(c, w->host_label, pstr(p, "host"));
		ret |= field(c, w->port_label, pstr(p, "port"));
	} else if (strcmp(kind, "instance_paused") == 0) {
		ret |= subst(&c->subject, w->paused_subject, name, false);
		ret |= para(c, w->paused_text);
	} else if (strcmp(kind, "instance_delete_warning") == 0) {
		ret |= subst(&c->subject, w->warning_subject, name, false);
		ret |= para(c, w->warning_text);
	} else {
		ret |= subst(&c->subject, w->deleted_subject, name, false);
		ret |= para(c, w->deleted_text);
		snprintf(account, sizeof(account), "%s/account.html#backups",
		    site_url);
		ret |= field(c, w->account_label, account);
	}
	return ret;
}

static int
frame_open(struct mail_content *c, enum lang lang)
{
	return buf_addf(&c->html, "<!doctype html><html lang=\"%s\"><body"
	    " style=\"font-family:sans-serif;max-width:560px;margin:auto\">\n"
	    "<h2>&#127819; dbtree</h2>\n", lang_name(lang));
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
mails_render(const char *kind, enum lang lang, struct json_object *params,
	     const char *code, const char *site_url, struct mail_content *out)
{
	const struct words *w = words_for(lang);
	int ret = frame_open(out, lang);

	if (strcmp(kind, "login_code") == 0 && code)
		ret |= render_login_code(out, w, params, code);
	else if (strcmp(kind, "welcome") == 0)
		ret |= render_welcome(out, w);
	else if (strcmp(kind, "goodbye") == 0)
		ret |= render_goodbye(out, w, params, site_url);
	else if (strcmp(kind, "support_admin") == 0)
		ret |= render_support_admin(out, params);
	else if (strcmp(kind, "support_confirm") == 0)
		ret |= render_support_confirm(out, w, params);
	else if (strncmp(kind, "instance_", 9) == 0)
		ret |= render_instance(out, w, kind, params, site_url);
	else
		return fail("render mail: unknown kind '%s'", kind);
	if ((ret | frame_close(out, site_url)) != 0)
		return fail("render mail '%s': too large", kind);
	return 0;
}
