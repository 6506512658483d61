/*
 * The quiz bank: validation of one quiz given as JSON, upsert by key,
 * import of a JSON Lines file, and a listing for operators.
 *
 * A quiz as JSON (every key required, no other key allowed):
 *
 *	{"key": "sql-left-join", "category": "sql", "difficulty": "easy",
 *	 "question": "...", "options": ["...", "...", "..."], "correct": 0,
 *	 "explanation": "...", "timeLimit": 20,
 *	 "ko": {"question": "...", "options": [...], "explanation": "..."}}
 *
 *	key          ^[a-z0-9][a-z0-9-]{2,47}$
 *	category     basics | sql | design | performance | cloud
 *	difficulty   easy | normal | hard
 *	question     10..300 bytes
 *	options      3..5 distinct non-empty strings of at most 120 bytes
 *	correct      an integer (not "1", not 1.0): a 0-based index of options
 *	explanation  20..400 bytes
 *	timeLimit    an integer number of seconds, 5..300
 *	ko           optional (absent or null: English only): the Korean text,
 *	             exactly these three keys, checked like the English ones
 *	             with three times the byte limits (a Hangul syllable is 3
 *	             bytes of UTF-8) and as many options as the English, in
 *	             the same order (so "correct" means the same option)
 */
#ifndef DOMAIN_QUIZ_H
#define DOMAIN_QUIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct db;
struct json_object;

#define QUIZ_OPTIONS_MAX 5
/* Longest line quiz_import() reads, in bytes, without its newline. */
#define QUIZ_LINE_MAX 16384
/* A why buffer this size holds every reason quiz_parse() writes whole. */
#define QUIZ_WHY_MAX 160

struct quiz_def {
	const char *key, *category, *difficulty, *question, *explanation;
	const char *options[QUIZ_OPTIONS_MAX];
	int noptions;
	bool has_ko;		/* the three below are set */
	const char *question_ko, *explanation_ko;
	const char *options_ko[QUIZ_OPTIONS_MAX];	/* noptions of them */
	int64_t correct;	/* 0-based index into options */
	int64_t time_limit;	/* seconds */
};

/* Validates obj as one quiz (the rules above).  Returns 0 and fills def,
 * whose strings are borrowed from obj and die with it; or -1 and writes a
 * sentence for a person into why[why_size] (truncated to fit), naming the
 * field first, e.g. "options: 2 given, 3 to 5 needed" or "unknown key
 * 'answer'".  Never logs: this is user input. */
int quiz_parse(struct json_object *obj, struct quiz_def *def, char *why,
	       size_t why_size);

/* Inserts def, or updates the quiz with the same key (keeping its id and
 * usage_count); a def without Korean clears the quiz's Korean text, which
 * would no longer match a changed English one.  One statement: runs inside the caller's open transaction
 * or on its own.  Returns 0, or -1 (logged). */
int quiz_upsert(struct db *db, const struct quiz_def *def);

struct quiz_import_report {
	int64_t added, updated, rejected;
};

/* Imports the JSON Lines file at path: every non-blank line must be one
 * quiz object (at most QUIZ_LINE_MAX bytes).  Each invalid line, and each
 * line repeating a key of an earlier line, is written to errors (if not
 * NULL) as "<path>:<line>: <reason>" and counted in r->rejected.  The whole
 * file is read and checked before anything is written; when no line was
 * rejected, every line is upserted in one transaction of its own (all or
 * nothing), and a file with any rejected line writes nothing.
 * Returns 0, with rejected lines or not (the caller picks an exit code),
 * or -1 (logged) when the file cannot be read (nothing written) or the
 * database fails (rolled back; r->added and r->updated are then 0). */
int quiz_import(struct db *db, const char *path, FILE *errors,
		struct quiz_import_report *r);

/* Writes the bank to out as a table (id, key, category, difficulty, time
 * limit, usage count and the first 60 characters of the question, by id),
 * then the number of quizzes per category.  Returns 0, or -1 (logged). */
int quiz_list(struct db *db, FILE *out);

#include "base/banned.h"
#endif
