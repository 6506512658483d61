/*
 * Quiz validation: a valid quiz, each rule broken once (the reason must
 * name the field), the length bounds on both sides, reasons that fit any
 * buffer, and the seed bank sql/seed/quizzes.jsonl (run from the repo
 * root), which must pass whole and cover every category and difficulty.
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jget.h"
#include "base/xalloc.h"
#include "domain/quiz.h"
#include "harness.h"

#define SEED_PATH "sql/seed/quizzes.jsonl"

static const char base_text[] = "{\"key\": \"sql-having-vs-where\","
	" \"category\": \"sql\", \"difficulty\": \"normal\","
	" \"question\": \"Which clause filters groups after aggregation?\","
	" \"options\": [\"WHERE\", \"HAVING\", \"ORDER BY\", \"LIMIT\"],"
	" \"correct\": 1,"
	" \"explanation\": \"HAVING filters groups after GROUP BY; WHERE"
	" filters rows before it.\", \"timeLimit\": 30}";

static struct json_object *
base(void)
{
	struct json_object *obj = jget_parse_object(base_text,
	    strlen(base_text), NULL);

	if (!obj) {
		fprintf(stderr, "test_quiz: base_text does not parse\n");
		exit(1);
	}
	return obj;
}

/* The base quiz with field set to the JSON value text, or removed. */
static struct json_object *
with(const char *field, const char *value)
{
	struct json_object *obj = base();

	if (!value)
		json_object_object_del(obj, field);
	else	/* "null" parses to NULL, which json-c stores as null */
		json_object_object_add(obj, field, json_tokener_parse(value));
	return obj;
}

static void
test_valid(void)
{
	struct json_object *obj = base();
	struct quiz_def d;
	char why[QUIZ_WHY_MAX] = "";

	if (!CHECK_INT(quiz_parse(obj, &d, why, sizeof(why)), 0)) {
		fprintf(stderr, "  reason: %s\n", why);
		goto out;
	}
	CHECK_STR(d.key, "sql-having-vs-where");
	CHECK_STR(d.category, "sql");
	CHECK_STR(d.difficulty, "normal");
	CHECK_STR(d.question, "Which clause filters groups after aggregation?");
	CHECK_INT(d.noptions, 4);
	CHECK_STR(d.options[0], "WHERE");
	CHECK_STR(d.options[3], "LIMIT");
	CHECK_INT(d.correct, 1);
	CHECK(strncmp(d.explanation, "HAVING filters", 14) == 0);
	CHECK_INT(d.time_limit, 30);
	CHECK(!d.has_ko);
out:
	json_object_put(obj);
}

#define KO_OK "{\"question\": \"집계 후 그룹을 거르는 절은 무엇일까요?\"," \
	" \"options\": [\"WHERE\", \"HAVING\", \"ORDER BY\", \"LIMIT\"]," \
	" \"explanation\": \"HAVING은 GROUP BY 뒤에 그룹을 거르고, WHERE는 그 전에" \
	" 행을 거릅니다.\"}"

static void
test_valid_korean(void)
{
	struct json_object *obj = with("ko", KO_OK);
	struct quiz_def d;
	char why[QUIZ_WHY_MAX] = "";

	if (!CHECK_INT(quiz_parse(obj, &d, why, sizeof(why)), 0)) {
		fprintf(stderr, "  reason: %s\n", why);
		goto out;
	}
	CHECK(d.has_ko);
	CHECK_STR(d.question_ko, "집계 후 그룹을 거르는 절은 무엇일까요?");
	CHECK_STR(d.options_ko[1], "HAVING");
	CHECK(strncmp(d.explanation_ko, "HAVING은", 9) == 0);
	CHECK_STR(d.question, "Which clause filters groups after aggregation?");
	json_object_put(obj);
	obj = with("ko", "null");	/* null: English only */
	CHECK_INT(quiz_parse(obj, &d, why, sizeof(why)), 0);
	CHECK(!d.has_ko);
out:
	json_object_put(obj);
}

struct bad_case {
	const char *field;
	const char *value;	/* JSON text, or NULL: the field removed */
	const char *reason;
};

#define NOT_INT "must be an integer, written without quotes, fraction or" \
	" exponent"

static const struct bad_case bad_cases[] = {
	{ "key", NULL, "key: missing or null" },
	{ "key", "null", "key: missing or null" },
	{ "key", "5", "key: must be a string" },
	{ "key", "\"ab\"", "key: 2 bytes, at least 3 needed" },
	{ "key", "\"Sql-quiz\"", "key: only a-z, 0-9 and '-' are allowed,"
	    " and it may not start with '-'" },
	{ "key", "\"-sql-quiz\"", "key: only a-z, 0-9 and '-' are allowed,"
	    " and it may not start with '-'" },
	{ "key", "\"sql_quiz\"", "key: only a-z, 0-9 and '-' are allowed,"
	    " and it may not start with '-'" },
	{ "category", "\"nosql\"", "category: 'nosql' is not one of basics,"
	    " sql, design, performance, cloud" },
	{ "category", "\"SQL\"", "category: 'SQL' is not one of basics, sql,"
	    " design, performance, cloud" },
	{ "category", "1", "category: must be a string" },
	{ "difficulty", "\"extreme\"", "difficulty: 'extreme' is not one of"
	    " easy, normal, hard" },
	{ "difficulty", NULL, "difficulty: missing or null" },
	{ "question", "\"Why not?\"", "question: 8 bytes, at least 10 needed" },
	{ "question", "[\"a\"]", "question: must be a string" },
	{ "question", "\"Which one\\u0000 is it?\"",
	    "question: contains a NUL character" },
	{ "options", "[\"a\", \"b\"]", "options: 2 given, 3 to 5 needed" },
	{ "options", "[\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]",
	    "options: 6 given, 3 to 5 needed" },
	{ "options", "\"a, b, c\"", "options: must be an array of strings" },
	{ "options", "{}", "options: must be an array of strings" },
	{ "options", NULL, "options: missing or null" },
	{ "options", "[\"a\", 2, \"c\"]", "options[1]: must be a string" },
	{ "options", "[\"a\", null, \"c\"]", "options[1]: must be a string" },
	{ "options", "[\"a\", \"\", \"c\"]", "options[1]: empty" },
	{ "options", "[\"a\", \"b\", \"a\"]",
	    "options[2]: the same as options[0]" },
	{ "correct", "4", "correct: 4 is not an index of the 4 options" },
	{ "correct", "-1", "correct: -1 is not an index of the 4 options" },
	{ "correct", "\"1\"", "correct: " NOT_INT },
	{ "correct", "1.0", "correct: " NOT_INT },
	{ "correct", "true", "correct: " NOT_INT },
	{ "correct", NULL, "correct: missing or null" },
	{ "explanation", "\"Too short.\"",
	    "explanation: 10 bytes, at least 20 needed" },
	{ "explanation", "7", "explanation: must be a string" },
	{ "timeLimit", "4", "timeLimit: 4 seconds is outside 5 to 300" },
	{ "timeLimit", "301", "timeLimit: 301 seconds is outside 5 to 300" },
	{ "timeLimit", "\"30\"", "timeLimit: " NOT_INT },
	{ "timeLimit", "30.5", "timeLimit: " NOT_INT },
	{ "timeLimit", NULL, "timeLimit: missing or null" },
	{ "ko", "\"집계\"", "ko: must be an object with question, options and"
	    " explanation" },
	{ "ko", "{\"question\": \"집계 후 그룹을 거르는 절은?\","
	    " \"options\": [\"가\", \"나\", \"다\"], \"explanation\":"
	    " \"HAVING은 그룹을, WHERE는 행을 거릅니다.\"}",
	    "ko.options: 3 given, as many as the English options (4) needed" },
	{ "ko", "{\"question\": \"짧음\", \"options\": [\"가\", \"나\","
	    " \"다\", \"라\"], \"explanation\": \"HAVING은 그룹을, WHERE는 행을"
	    " 거릅니다.\"}", "ko.question: 6 bytes, at least 10 needed" },
	{ "ko", "{\"question\": \"집계 후 그룹을 거르는 절은?\","
	    " \"options\": [\"가\", \"나\", \"가\", \"라\"], \"explanation\":"
	    " \"HAVING은 그룹을, WHERE는 행을 거릅니다.\"}",
	    "ko.options[2]: the same as options[0]" },
	{ "ko", "{\"question\": \"집계 후 그룹을 거르는 절은?\","
	    " \"options\": [\"가\", \"나\", \"다\", \"라\"]}",
	    "ko.explanation: missing or null" },
	{ "ko", "{\"question\": \"집계 후 그룹을 거르는 절은?\", \"correct\": 1}",
	    "ko: unknown key 'correct'" },
	{ "answer", "1", "unknown key 'answer'" },
	{ "time_limit", "30", "unknown key 'time_limit'" },
	{ "bad\nkey", "1", "unknown key 'bad?key'" },
	{ "k234567890123456789012345678901234567890123", "1",
	    "unknown key 'k234567890123456789012345678901234567890...'" },
};

static void
test_rules(void)
{
	for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct json_object *obj = with(c->field, c->value);
		struct quiz_def d;
		char why[QUIZ_WHY_MAX] = "";

		bool ok = CHECK_INT(quiz_parse(obj, &d, why, sizeof(why)), -1);

		if (!CHECK_STR(why, c->reason) || !ok)
			fprintf(stderr, "  case %zu: %s = %s\n", i, c->field,
			    c->value ? c->value : "(removed)");
		json_object_put(obj);
	}
}

struct length_case {
	const char *field;
	size_t len;
	int want;	/* 0 accepted, -1 refused */
};

static const struct length_case length_cases[] = {
	{ "key", 3, 0 }, { "key", 48, 0 }, { "key", 49, -1 },
	{ "question", 9, -1 }, { "question", 10, 0 },
	{ "question", 300, 0 }, { "question", 301, -1 },
	{ "explanation", 19, -1 }, { "explanation", 20, 0 },
	{ "explanation", 400, 0 }, { "explanation", 401, -1 },
	{ "options", 120, 0 }, { "options", 121, -1 },
};

/* The base quiz with field holding a string of len bytes (for options:
 * the first of three options). */
static struct json_object *
with_length(const char *field, size_t len)
{
	struct json_object *obj = base(), *v;
	char *s = xmalloc(len + 1);

	memset(s, 'a', len);
	s[len] = '\0';
	v = json_object_new_string(s);
	if (strcmp(field, "options") == 0) {
		struct json_object *arr = json_object_new_array();

		json_object_array_add(arr, v);
		json_object_array_add(arr, json_object_new_string("b"));
		json_object_array_add(arr, json_object_new_string("c"));
		v = arr;
	}
	json_object_object_add(obj, field, v);
	free(s);
	return obj;
}

static void
test_lengths(void)
{
	for (size_t i = 0; i < ARRAY_LEN(length_cases); i++) {
		const struct length_case *c = &length_cases[i];
		struct json_object *obj = with_length(c->field, c->len);
		struct quiz_def d;
		char why[QUIZ_WHY_MAX] = "";
		int got = quiz_parse(obj, &d, why, sizeof(why));

		if (!CHECK_INT(got, c->want))
			fprintf(stderr, "  %s of %zu bytes: %s\n", c->field,
			    c->len, got ? why : "accepted");
		if (got && !CHECK(strncmp(why, c->field,
		    strlen(c->field)) == 0))
			fprintf(stderr, "  reason: %s\n", why);
		json_object_put(obj);
	}
}

static void
test_why_buffer(void)
{
	struct json_object *obj = with("answer", "1");
	struct json_object *arr = json_object_new_array();
	struct quiz_def d;
	char why[8];

	memset(why, 'x', sizeof(why));
	CHECK_INT(quiz_parse(obj, &d, why, sizeof(why)), -1);
	CHECK_STR(why, "unknown");
	CHECK_INT(quiz_parse(obj, &d, NULL, 0), -1);
	CHECK_INT(quiz_parse(arr, &d, why, sizeof(why)), -1);
	CHECK_STR(why, "not a J");
	json_object_put(obj);
	json_object_put(arr);
}

struct seed_stats {
	int lines, rejected, duplicates, korean;
	char **keys;
	int nkeys;
	int categories[5], difficulties[3];
};

static const char *const seed_categories[] = { "basics", "sql", "design",
	"performance", "cloud" };
static const char *const seed_difficulties[] = { "easy", "normal", "hard" };

static void
count_name(const char *const *names, int *counts, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			counts[i]++;
}

static void
seed_keep(struct seed_stats *st, const struct quiz_def *d, int lineno)
{
	for (int i = 0; i < st->nkeys; i++)
		if (strcmp(st->keys[i], d->key) == 0) {
			fprintf(stderr, "  line %d: key '%s' repeats\n",
			    lineno, d->key);
			st->duplicates++;
		}
	st->keys = xrealloc(st->keys, (size_t)(st->nkeys + 1) *
	    sizeof(*st->keys));
	st->keys[st->nkeys++] = xstrdup(d->key);
	st->korean += d->has_ko;
	count_name(seed_categories, st->categories,
	    ARRAY_LEN(seed_categories), d->category);
	count_name(seed_difficulties, st->difficulties,
	    ARRAY_LEN(seed_difficulties), d->difficulty);
}

static void
seed_line(struct seed_stats *st, const char *line, size_t len, int lineno)
{
	const char *jwhy = "";
	struct json_object *obj;
	struct quiz_def d;
	char why[QUIZ_WHY_MAX];

	if (strspn(line, " \t\r\n") == len)
		return;
	st->lines++;
	obj = jget_parse_object(line, len, &jwhy);
	if (!obj || quiz_parse(obj, &d, why, sizeof(why)) < 0) {
		fprintf(stderr, "  %s:%d: %s\n", SEED_PATH, lineno,
		    obj ? why : jwhy);
		st->rejected++;
	} else {
		seed_keep(st, &d, lineno);
	}
	json_object_put(obj);
}

static void
seed_check(const struct seed_stats *st)
{
	CHECK_INT(st->rejected, 0);
	CHECK_INT(st->duplicates, 0);
	CHECK(st->nkeys >= 60);
	CHECK_INT(st->nkeys, st->lines);
	CHECK_INT(st->korean, st->lines);	/* the shipped bank is bilingual */
	for (size_t i = 0; i < ARRAY_LEN(seed_categories); i++)
		if (!CHECK(st->categories[i] > 0))
			fprintf(stderr, "  no quiz in category %s\n",
			    seed_categories[i]);
	for (size_t i = 0; i < ARRAY_LEN(seed_difficulties); i++)
		if (!CHECK(st->difficulties[i] > 0))
			fprintf(stderr, "  no %s quiz\n",
			    seed_difficulties[i]);
}

static void
test_seed(void)
{
	struct seed_stats st;
	FILE *f = fopen(SEED_PATH, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0;

	memset(&st, 0, sizeof(st));
	if (!CHECK(f != NULL)) {
		fprintf(stderr, "  cannot open %s (run from the repo root)\n",
		    SEED_PATH);
		return;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		CHECK((size_t)len <= QUIZ_LINE_MAX);
		seed_line(&st, line, (size_t)len, ++lineno);
	}
	CHECK(!ferror(f));
	fclose(f);
	free(line);
	seed_check(&st);
	for (int i = 0; i < st.nkeys; i++)
		free(st.keys[i]);
	free(st.keys);
}

static const struct test_case cases[] = {
	{ "valid", test_valid },
	{ "valid_korean", test_valid_korean },
	{ "rules", test_rules },
	{ "lengths", test_lengths },
	{ "why_buffer", test_why_buffer },
	{ "seed", test_seed },
};

int
main(void)
{
	return harness_run("quiz", cases, ARRAY_LEN(cases));
}
