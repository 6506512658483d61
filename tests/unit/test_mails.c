/*
 * Mail texts: every kind renders in English and in Korean, with a
 * different subject per language; a value put into a Korean template is
 * escaped in the HTML part; the operators' mail stays English.
 */
#include <json.h>
#include <stdio.h>
#include <string.h>

#include "domain/mails.h"
#include "harness.h"

static const char *const kinds[] = { "login_code", "welcome", "goodbye",
	"support_confirm", "instance_ready", "instance_paused",
	"instance_delete_warning", "instance_deleted" };

static const char params_text[] = "{\"isNewUser\": true, \"ttlMinutes\": 10,"
	" \"name\": \"<b>db</b>\", \"host\": \"h\", \"port\": \"30001\","
	" \"subject\": \"s\", \"message\": \"m\"}";

/* Renders kind in lang into out (mails_init'ed); 0 or -1. */
static int
render(const char *kind, enum lang lang, struct mail_content *out)
{
	struct json_object *p = json_tokener_parse(params_text);
	int ret;

	mails_init(out);
	ret = mails_render(kind, lang, p, "123456", "https://x.test", out);
	json_object_put(p);
	return ret;
}

static void
test_every_kind_in_both_languages(void)
{
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++) {
		struct mail_content en, ko;

		if (CHECK_INT(render(kinds[i], LANG_EN, &en), 0) &
		    CHECK_INT(render(kinds[i], LANG_KO, &ko), 0)) {
			if (!CHECK(strcmp(buf_cstr(&en.subject),
			    buf_cstr(&ko.subject)) != 0))
				fprintf(stderr, "  kind %s\n", kinds[i]);
			CHECK(strstr(buf_cstr(&ko.html), "lang=\"ko\"") != NULL);
		}
		mails_release(&en);
		mails_release(&ko);
	}
}

static void
test_korean_texts(void)
{
	struct mail_content c;

	if (CHECK_INT(render("instance_ready", LANG_KO, &c), 0)) {
		CHECK_STR(buf_cstr(&c.subject),
		    "데이터베이스 <b>db</b>이(가) 준비되었습니다");
		CHECK(strstr(buf_cstr(&c.text), "호스트: h") != NULL);
		CHECK(strstr(buf_cstr(&c.html), "<b>db</b>") == NULL);
	}
	mails_release(&c);
	if (CHECK_INT(render("login_code", LANG_KO, &c), 0)) {
		CHECK(strstr(buf_cstr(&c.text), "로그인 코드: 123456") != NULL);
		CHECK(strstr(buf_cstr(&c.text), "10분 동안 유효") != NULL);
	}
	mails_release(&c);
}

static void
test_english_unchanged(void)
{
	struct mail_content c;

	if (CHECK_INT(render("instance_paused", LANG_EN, &c), 0))
		CHECK_STR(buf_cstr(&c.subject),
		    "Your database <b>db</b> is paused");
	mails_release(&c);
	if (CHECK_INT(render("support_admin", LANG_KO, &c), 0))
		CHECK(strncmp(buf_cstr(&c.subject), "[dbtree support]", 16) ==
		    0);
	mails_release(&c);
}

static const struct test_case cases[] = {
	{ "every_kind_in_both_languages", test_every_kind_in_both_languages },
	{ "korean_texts", test_korean_texts },
	{ "english_unchanged", test_english_unchanged },
};

int
main(void)
{
	return harness_run("mails", cases, ARRAY_LEN(cases));
}
