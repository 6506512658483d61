/*
 * The quiz bank.  quiz_parse() is the one place the rules live: the import
 * and any future admin route go through it, and the table's CHECKs only
 * back it up.  Reasons are written for the person who edits the file, so
 * they name the field first and echo user text only in a shortened,
 * printable form.
 *
 * quiz_import() reads and checks the whole file before it opens its
 * transaction, so a file that cannot be read writes nothing and the
 * transaction never waits on I/O.  A key seen on an earlier line of the
 * same file rejects the later line: otherwise the result would depend on
 * line order and a new quiz would be counted as updated.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jget.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "domain/quiz.h"
#include "store/db.h"

/* Mirror the enums of sql/migrations/0003_tree.sql, in their order. */
static const char *const categories[] = { "basics", "sql", "design",
	"performance", "cloud" };
static const char *const difficulties[] = { "easy", "normal", "hard" };
static const char *const fields[] = { "key", "category", "difficulty",
	"question", "options", "correct", "explanation", "timeLimit", "ko" };
static const char *const ko_fields[] = { "question", "options",
	"explanation" };

/* Byte limits of the English texts; the Korean ones are KO_SCALE times
 * these (a Hangul syllable takes 3 bytes of UTF-8, a Latin letter 1). */
#define QUESTION_MAX 300
#define OPTION_MAX 120
#define EXPLANATION_MAX 400
#define KO_SCALE 3

#define SHOWN_MAX 40	/* bytes of user text echoed in a reason */

/* Writes a reason into why (when there is room) and returns -1. */
static int __attribute__((format(printf, 3, 4)))
reject(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (why && size > 0) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* s shortened to SHOWN_MAX bytes, bytes outside printable ASCII as '?'. */
static const char *
shown(const char *s, char out[SHOWN_MAX + 4])
{
	size_t i;

	for (i = 0; s[i] && i < SHOWN_MAX; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	snprintf(out + i, 4, "%s", s[i] ? "..." : "");
	return out;
}

static int
index_of(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

static int
check_keys(struct json_object *obj, const char *const *names, size_t n,
	   char *why, size_t size)
{
	struct json_object_iterator it = json_object_iter_begin(obj);
	struct json_object_iterator end = json_object_iter_end(obj);
	char buf[SHOWN_MAX + 4];
	const char *name;

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		if (index_of(names, n, name) < 0)
			return reject(why, size, "unknown key '%s'",
			    shown(name, buf));
	}
	return 0;
}

/* The string field name, of min..max bytes. */
static int
get_text(struct json_object *obj, const char *name, size_t min, size_t max,
	 const char **out, char *why, size_t size)
{
	struct json_object *v = NULL;
	size_t len;

	switch (jget_str_opt(obj, name, SIZE_MAX, true, out)) {
	case JGET_OK:
		break;
	case JGET_MISSING:
		return reject(why, size, "%s: missing or null", name);
	default:
		json_object_object_get_ex(obj, name, &v);
		if (json_object_is_type(v, json_type_string))
			return reject(why, size, "%s: contains a NUL character",
			    name);
		return reject(why, size, "%s: must be a string", name);
	}
	len = strlen(*out);
	if (len < min)
		return reject(why, size, "%s: %zu bytes, at least %zu needed",
		    name, len, min);
	if (len > max)
		return reject(why, size, "%s: %zu bytes, at most %zu allowed",
		    name, len, max);
	return 0;
}

static int
get_key(struct json_object *obj, const char **out, char *why, size_t size)
{
	const char *s;

	if (get_text(obj, "key", 3, 48, out, why, size) < 0)
		return -1;
	for (s = *out; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    (*s == '-' && s != *out)))
			return reject(why, size, "key: only a-z, 0-9 and '-'"
			    " are allowed, and it may not start with '-'");
	return 0;
}

/* The string field name, one of names (listed as list in the reason). */
static int
get_enum(struct json_object *obj, const char *name,
	 const char *const *names, size_t n, const char *list,
	 const char **out, char *why, size_t size)
{
	char buf[SHOWN_MAX + 4];

	if (get_text(obj, name, 0, SIZE_MAX, out, why, size) < 0)
		return -1;
	if (index_of(names, n, *out) < 0)
		return reject(why, size, "%s: '%s' is not one of %s", name,
		    shown(*out, buf), list);
	return 0;
}

/* Element i of the options array: a non-empty string of <= max bytes. */
static int
get_option(struct json_object *v, size_t i, size_t max, const char **out,
	   char *why, size_t size)
{
	size_t len;

	if (!json_object_is_type(v, json_type_string))
		return reject(why, size, "options[%zu]: must be a string", i);
	len = (size_t)json_object_get_string_len(v);
	*out = json_object_get_string(v);
	if (strlen(*out) != len)
		return reject(why, size, "options[%zu]: contains a NUL"
		    " character", i);
	if (len == 0)
		return reject(why, size, "options[%zu]: empty", i);
	if (len > max)
		return reject(why, size, "options[%zu]: %zu bytes, at most %zu"
		    " allowed", i, len, max);
	return 0;
}

/* The options array of obj into opts[*count], each of <= max bytes. */
static int
get_options(struct json_object *obj, size_t max, const char **opts,
	    int *count, char *why, size_t size)
{
	struct json_object *arr = NULL;
	size_t n;

	if (!json_object_object_get_ex(obj, "options", &arr) || !arr)
		return reject(why, size, "options: missing or null");
	if (!json_object_is_type(arr, json_type_array))
		return reject(why, size, "options: must be an array of"
		    " strings");
	n = json_object_array_length(arr);
	if (n < 3 || n > QUIZ_OPTIONS_MAX)
		return reject(why, size, "options: %zu given, 3 to %d needed",
		    n, QUIZ_OPTIONS_MAX);
	for (size_t i = 0; i < n; i++) {
		if (get_option(json_object_array_get_idx(arr, i), i, max,
		    &opts[i], why, size) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(opts[j], opts[i]) == 0)
				return reject(why, size, "options[%zu]: the"
				    " same as options[%zu]", i, j);
	}
	*count = (int)n;
	return 0;
}

/* The integer field name (never "1" or 1.0); in [min, max] when unit is
 * not NULL, else the caller checks the range. */
static int
get_int(struct json_object *obj, const char *name, int64_t min, int64_t max,
	const char *unit, int64_t *out, char *why, size_t size)
{
	switch (jget_i64(obj, name, INT64_MIN, INT64_MAX, out)) {
	case JGET_OK:
		break;
	case JGET_MISSING:
		return reject(why, size, "%s: missing or null", name);
	default:
		return reject(why, size, "%s: must be an integer, written"
		    " without quotes, fraction or exponent", name);
	}
	if (unit && (*out < min || *out > max))
		return reject(why, size, "%s: %" PRId64 " %s is outside %"
		    PRId64 " to %" PRId64, name, *out, unit, min, max);
	return 0;
}

static int
get_correct(struct json_object *obj, struct quiz_def *def, char *why,
	    size_t size)
{
	if (get_int(obj, "correct", 0, 0, NULL, &def->correct, why, size) < 0)
		return -1;
	if (def->correct < 0 || def->correct >= def->noptions)
		return reject(why, size, "correct: %" PRId64 " is not an index"
		    " of the %d options", def->correct, def->noptions);
	return 0;
}

/* The optional Korean text (see quiz.h); reasons name the field as
 * "ko.<field>". */
static int
get_ko(struct json_object *obj, struct quiz_def *def, char *why, size_t size)
{
	struct json_object *ko = NULL;
	char sub[QUIZ_WHY_MAX];
	int n = 0;

	if (!json_object_object_get_ex(obj, "ko", &ko) || !ko)
		return 0;
	if (!json_object_is_type(ko, json_type_object))
		return reject(why, size, "ko: must be an object with question,"
		    " options and explanation");
	if (check_keys(ko, ko_fields, ARRAY_LEN(ko_fields), sub,
	    sizeof(sub)) < 0 ||
	    get_text(ko, "question", 10, KO_SCALE * QUESTION_MAX,
	    &def->question_ko, sub, sizeof(sub)) < 0 ||
	    get_options(ko, KO_SCALE * OPTION_MAX, def->options_ko, &n, sub,
	    sizeof(sub)) < 0 ||
	    get_text(ko, "explanation", 20, KO_SCALE * EXPLANATION_MAX,
	    &def->explanation_ko, sub, sizeof(sub)) < 0)
		return reject(why, size, strncmp(sub, "unknown", 7) == 0 ?
		    "ko: %s" : "ko.%s", sub);
	if (n != def->noptions)
		return reject(why, size, "ko.options: %d given, as many as the"
		    " English options (%d) needed", n, def->noptions);
	def->has_ko = true;
	return 0;
}

int
quiz_parse(struct json_object *obj, struct quiz_def *def, char *why,
	   size_t why_size)
{
	memset(def, 0, sizeof(*def));
	if (!json_object_is_type(obj, json_type_object))
		return reject(why, why_size, "not a JSON object");
	if (check_keys(obj, fields, ARRAY_LEN(fields), why, why_size) < 0 ||
	    get_key(obj, &def->key, why, why_size) < 0 ||
	    get_enum(obj, "category", categories, ARRAY_LEN(categories),
	    "basics, sql, design, performance, cloud", &def->category, why,
	    why_size) < 0 ||
	    get_enum(obj, "difficulty", difficulties, ARRAY_LEN(difficulties),
	    "easy, normal, hard", &def->difficulty, why, why_size) < 0 ||
	    get_text(obj, "question", 10, QUESTION_MAX, &def->question, why,
	    why_size) < 0 ||
	    get_options(obj, OPTION_MAX, def->options, &def->noptions, why,
	    why_size) < 0 ||
	    get_correct(obj, def, why, why_size) < 0 ||
	    get_text(obj, "explanation", 20, EXPLANATION_MAX,
	    &def->explanation, why, why_size) < 0 ||
	    get_int(obj, "timeLimit", 5, 300, "seconds", &def->time_limit,
	    why, why_size) < 0 ||
	    get_ko(obj, def, why, why_size) < 0)
		return -1;
	return 0;
}

/* The n strings of opts as a JSON array, into arr (put by the caller). */
static const char *
options_json(struct json_object *arr, const char *const *opts, int n)
{
	for (int i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(opts[i]));
	return json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
}

/* Upserts def; *inserted tells a new quiz from an updated one. */
static int
quiz_save(struct db *db, const struct quiz_def *def, bool *inserted)
{
	struct json_object *opts = json_object_new_array();
	struct json_object *opts_ko = json_object_new_array();
	char correct[24], limit[24];
	const char *params[] = { def->key, def->category, def->difficulty,
		def->question, NULL, correct, def->explanation, limit,
		NULL, NULL, NULL };
	PGresult *res;
	int ret = -1;

	assert(def->noptions >= 0 && def->noptions <= QUIZ_OPTIONS_MAX);
	params[4] = options_json(opts, def->options, def->noptions);
	if (def->has_ko) {
		params[8] = def->question_ko;
		params[9] = options_json(opts_ko, def->options_ko,
		    def->noptions);
		params[10] = def->explanation_ko;
	}
	snprintf(correct, sizeof(correct), "%" PRId64, def->correct);
	snprintf(limit, sizeof(limit), "%" PRId64, def->time_limit);
	res = db_exec(db, "INSERT INTO quizzes (key, category, difficulty,"
	    " question, options, correct_option_idx, explanation, time_limit,"
	    " question_ko, options_ko, explanation_ko)"
	    " VALUES ($1, $2::quiz_category, $3::quiz_difficulty, $4,"
	    " $5::jsonb, $6::int, $7, $8::int, $9, $10::jsonb, $11)"
	    " ON CONFLICT (key) DO UPDATE SET category = EXCLUDED.category,"
	    " difficulty = EXCLUDED.difficulty, question = EXCLUDED.question,"
	    " options = EXCLUDED.options,"
	    " correct_option_idx = EXCLUDED.correct_option_idx,"
	    " explanation = EXCLUDED.explanation,"
	    " time_limit = EXCLUDED.time_limit,"
	    " question_ko = EXCLUDED.question_ko,"
	    " options_ko = EXCLUDED.options_ko,"
	    " explanation_ko = EXCLUDED.explanation_ko, updated_at = now()"
	    " RETURNING (xmax = 0)", 11, params);
	if (!res)
		goto out;
	if (PQntuples(res) != 1) {
		log_err("upsert quiz '%s': no row returned", def->key);
		goto out;
	}
	*inserted = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	ret = 0;
out:
	PQclear(res);
	json_object_put(opts);
	json_object_put(opts_ko);
	return ret;
}

int
quiz_upsert(struct db *db, const struct quiz_def *def)
{
	bool inserted;

	return quiz_save(db, def, &inserted);
}

/* One line of an import that passed the checks. */
struct quiz_line {
	struct json_object *obj;	/* owns the strings def borrows */
	struct quiz_def def;
	int64_t lineno;
};

struct quiz_import {
	const char *path;
	FILE *errors;
	struct quiz_import_report *r;
	struct quiz_line *lines;
	size_t n, alloc;
	struct json_object *seen;	/* key -> the line it came from */
};

static void
import_reject(struct quiz_import *imp, int64_t lineno, const char *why)
{
	imp->r->rejected++;
	if (imp->errors)
		fprintf(imp->errors, "%s:%" PRId64 ": %s\n", imp->path, lineno,
		    why);
}

/* Reads one line, without its newline, into buf (QUIZ_LINE_MAX + 1 bytes,
 * NUL-terminated); *len is its whole length, even past what buf kept.
 * False at the end of the file. */
static bool
read_line(FILE *f, char *buf, size_t *len)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (n < QUIZ_LINE_MAX)
			buf[n] = (char)c;
		n++;
	}
	buf[n < QUIZ_LINE_MAX ? n : QUIZ_LINE_MAX] = '\0';
	*len = n;
	return c != EOF || n > 0;
}

static bool
is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Checks one non-blank line and keeps it; -1 with the reason in why when
 * it is invalid. */
static int
import_check(struct quiz_import *imp, int64_t lineno, const char *text,
	     size_t len, char *why, size_t size)
{
	struct quiz_line q = { NULL, { 0 }, lineno };
	struct json_object *prev;
	const char *jwhy = "not valid JSON";

	if (!(q.obj = jget_parse_object(text, len, &jwhy))) {
		/* jget words its reasons for request bodies */
		if (strncmp(jwhy, "body ", 5) == 0)
			return reject(why, size, "the line %s", jwhy + 5);
		return reject(why, size, "%s", jwhy);
	}
	if (quiz_parse(q.obj, &q.def, why, size) < 0)
		goto bad;
	if (json_object_object_get_ex(imp->seen, q.def.key, &prev)) {
		reject(why, size, "key '%s' is already used on line %" PRId64,
		    q.def.key, json_object_get_int64(prev));
		goto bad;
	}
	json_object_object_add(imp->seen, q.def.key,
	    json_object_new_int64(lineno));
	if (imp->n == imp->alloc) {
		imp->alloc = imp->alloc ? 2 * imp->alloc : 64;
		imp->lines = xrealloc(imp->lines,
		    imp->alloc * sizeof(*imp->lines));
	}
	imp->lines[imp->n++] = q;
	return 0;
bad:
	json_object_put(q.obj);
	return -1;
}

/* One line as read_line() left it in buf. */
static void
import_line(struct quiz_import *imp, int64_t lineno, const char *buf,
	    size_t len)
{
	char why[QUIZ_WHY_MAX];

	if (len > QUIZ_LINE_MAX) {
		snprintf(why, sizeof(why), "the line is %zu bytes, at most %d"
		    " allowed", len, QUIZ_LINE_MAX);
		import_reject(imp, lineno, why);
		return;
	}
	/* a UTF-8 byte order mark some editors write */
	if (lineno == 1 && len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	if (!is_blank(buf, len) &&
	    import_check(imp, lineno, buf, len, why, sizeof(why)) < 0)
		import_reject(imp, lineno, why);
}

/* Reads and checks every line of the file; 0 or -1 (logged). */
static int
import_read(struct quiz_import *imp)
{
	char *buf;
	FILE *f = fopen(imp->path, "r");
	int64_t lineno = 0;
	size_t len;
	int ret = 0;

	if (!f)
		return fail("open quiz file '%s': %s", imp->path,
		    strerror(errno));
	buf = xmalloc(QUIZ_LINE_MAX + 1);
	while (read_line(f, buf, &len))
		import_line(imp, ++lineno, buf, len);
	if (ferror(f))
		ret = fail("read quiz file '%s': %s", imp->path,
		    strerror(errno));
	fclose(f);
	free(buf);
	return ret;
}

/* Upserts every kept line in one transaction; 0 or -1 (logged). */
static int
import_write(struct db *db, struct quiz_import *imp)
{
	int64_t added = 0, updated = 0;
	bool inserted;
	int ret = -1;

	if (imp->n == 0)
		return 0;
	if (db_begin(db) < 0)
		return -1;
	for (size_t i = 0; i < imp->n; i++) {
		if (quiz_save(db, &imp->lines[i].def, &inserted) < 0) {
			if (imp->errors)
				fprintf(imp->errors, "%s:%" PRId64 ": the"
				    " database refused quiz '%s'; nothing was"
				    " imported\n", imp->path,
				    imp->lines[i].lineno,
				    imp->lines[i].def.key);
			goto out;
		}
		if (inserted)
			added++;
		else
			updated++;
	}
	ret = db_commit(db);
out:
	if (ret != 0) {
		db_rollback(db);
		return ret;
	}
	imp->r->added = added;
	imp->r->updated = updated;
	return 0;
}

int
quiz_import(struct db *db, const char *path, FILE *errors,
	    struct quiz_import_report *r)
{
	struct quiz_import imp = { path, errors, r, NULL, 0, 0, NULL };
	int ret;

	memset(r, 0, sizeof(*r));
	imp.seen = json_object_new_object();
	ret = import_read(&imp);
	/* a file with a bad line changes nothing: fix it, import it again */
	if (ret == 0 && r->rejected == 0)
		ret = import_write(db, &imp);
	for (size_t i = 0; i < imp.n; i++)
		json_object_put(imp.lines[i].obj);
	free(imp.lines);
	json_object_put(imp.seen);
	return ret;
}

/* Writes s up to its first n UTF-8 characters, control bytes as spaces. */
static void
put_clipped(FILE *out, const char *s, int n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p && n > 0; p++) {
		if ((*p & 0xc0) != 0x80)
			n--;
		fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
		while ((p[1] & 0xc0) == 0x80)
			fputc(*++p, out);
	}
}

static void
list_rows(PGresult *res, FILE *out)
{
	int rows = PQntuples(res), w = 3;

	for (int i = 0; i < rows; i++)
		if ((int)strlen(PQgetvalue(res, i, 1)) > w)
			w = (int)strlen(PQgetvalue(res, i, 1));
	fprintf(out, "%5s  %-*s  %-11s  %-10s  %5s  %6s  %s\n", "id", w,
	    "key", "category", "difficulty", "limit", "used", "question");
	for (int i = 0; i < rows; i++) {
		fprintf(out, "%5s  %-*s  %-11s  %-10s  %4ss  %6s  ",
		    PQgetvalue(res, i, 0), w, PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		    PQgetvalue(res, i, 4), PQgetvalue(res, i, 5));
		put_clipped(out, PQgetvalue(res, i, 6), 60);
		fputc('\n', out);
	}
}

static void
list_counts(PGresult *res, FILE *out)
{
	int64_t count[ARRAY_LEN(categories)] = { 0 };
	int rows = PQntuples(res), c;

	for (int i = 0; i < rows; i++)
		if ((c = index_of(categories, ARRAY_LEN(categories),
		    PQgetvalue(res, i, 2))) >= 0)
			count[c]++;
	fputc('\n', out);
	for (size_t i = 0; i < ARRAY_LEN(categories); i++)
		fprintf(out, "%-11s  %5" PRId64 "\n", categories[i], count[i]);
	fprintf(out, "%-11s  %5d\n", "total", rows);
}

int
quiz_list(struct db *db, FILE *out)
{
	PGresult *res = db_exec(db, "SELECT id, key, category, difficulty,"
	    " time_limit, usage_count, question FROM quizzes ORDER BY id",
	    0, NULL);

	if (!res)
		return -1;
	list_rows(res, out);
	list_counts(res, out);
	PQclear(res);
	if (fflush(out) != 0 || ferror(out))
		return fail("write quiz list: %s", strerror(errno));
	return 0;
}
