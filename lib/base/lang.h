/*
 * The languages dbtree speaks to people: the web UI's catalogues, the quiz
 * bank's texts and the mails.  A closed set; its text form ("en", "ko") is
 * the SQL enum ui_lang (sql/migrations/0013_i18n.sql) and what clients send
 * (the X-Dbtree-Lang header or a lang query parameter, see web/req.h).
 * English is the default and always complete; Korean text may be missing
 * (a quiz without a translation), and then English is used.
 */
#ifndef BASE_LANG_H
#define BASE_LANG_H

enum lang {
	LANG_EN,
	LANG_KO,
};

/* "en" or "ko". */
const char *lang_name(enum lang l);

/* Reads a language tag: "en", "ko", "ko-KR", "EN-us" (the primary subtag,
 * any case).  Returns 0 and sets *out, or -1 (leaving *out) when s is NULL,
 * empty or names a language we do not speak. */
int lang_parse(const char *s, enum lang *out);

#include "base/banned.h"
#endif
