/*
 * The unit-test harness: header only, one per test program.
 *
 *	static void
 *	test_append(void)
 *	{
 *		CHECK_INT(buf_adds(&b, "x"), 0);
 *	}
 *
 *	static const struct test_case cases[] = {
 *		{ "append", test_append },
 *	};
 *
 *	int
 *	main(void)
 *	{
 *		return harness_run("buf", cases, ARRAY_LEN(cases));
 *	}
 *
 * CHECK, CHECK_INT and CHECK_STR report a failure on stderr as
 * "file:line: ..." and let the case go on; each evaluates to true when the
 * check held, so a case can stop before using what it failed to get:
 *
 *	if (!CHECK(obj != NULL))
 *		return;
 *
 * harness_run prints "ok   suite/name" or "FAIL suite/name" per case, then
 * one line "suite: N passed, N failed", and returns the exit status (0 when
 * nothing failed, else 1).  A case that crashes takes the program with it:
 * a non-zero exit either way.
 *
 * Everything here is static inline, so a test file that leaves some of it
 * unused still compiles under -Werror.
 */
#ifndef TESTS_UNIT_HARNESS_H
#define TESTS_UNIT_HARNESS_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifndef ARRAY_LEN
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#endif

struct test_case {
	const char *name;
	void (*fn)(void);
};

/* Failed checks in the case now running. */
static inline int *
harness_failures(void)
{
	static int failures;

	return &failures;
}

static inline bool
harness_check(bool ok, const char *file, int line, const char *expr)
{
	if (!ok) {
		fflush(stdout);
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n", file, line, expr);
		(*harness_failures())++;
	}
	return ok;
}

static inline bool
harness_check_int(int64_t a, int64_t b, const char *file, int line,
		  const char *a_expr, const char *b_expr)
{
	if (a != b) {
		fflush(stdout);
		fprintf(stderr, "%s:%d: CHECK_INT(%s, %s) failed: %" PRId64
		    " != %" PRId64 "\n", file, line, a_expr, b_expr, a, b);
		(*harness_failures())++;
	}
	return a == b;
}

/* Prints s quoted, with bytes outside printable ASCII as \xNN. */
static inline void
harness_put_quoted(const char *s)
{
	if (!s) {
		fputs("NULL", stderr);
		return;
	}
	fputc('"', stderr);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			fprintf(stderr, "\\x%02x", (unsigned)*p);
		else
			fputc(*p, stderr);
	}
	fputc('"', stderr);
}

/* Two NULLs are equal; NULL and a string are not. */
static inline bool
harness_check_str(const char *a, const char *b, const char *file, int line,
		  const char *a_expr, const char *b_expr)
{
	bool ok = (a && b) ? strcmp(a, b) == 0 : a == b;

	if (!ok) {
		fflush(stdout);
		fprintf(stderr, "%s:%d: CHECK_STR(%s, %s) failed: ", file,
		    line, a_expr, b_expr);
		harness_put_quoted(a);
		fputs(" != ", stderr);
		harness_put_quoted(b);
		fputc('\n', stderr);
		(*harness_failures())++;
	}
	return ok;
}

#define CHECK(cond) harness_check(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_INT(a, b) harness_check_int((int64_t)(a), (int64_t)(b), \
	__FILE__, __LINE__, #a, #b)
#define CHECK_STR(a, b) harness_check_str((a), (b), __FILE__, __LINE__, \
	#a, #b)

static inline int
harness_run(const char *suite, const struct test_case *cases, size_t n)
{
	size_t passed = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		*harness_failures() = 0;
		cases[i].fn();
		fflush(stderr);
		if (*harness_failures() == 0) {
			printf("ok   %s/%s\n", suite, cases[i].name);
			passed++;
		} else {
			printf("FAIL %s/%s\n", suite, cases[i].name);
			failed++;
		}
		fflush(stdout);
	}
	printf("%s: %zu passed, %zu failed\n", suite, passed, failed);
	fflush(stdout);
	return failed ? 1 : 0;
}

#endif
