/*
 * The request arena: zeroed, aligned, independent allocations that all go
 * at once.  Run under the sanitizer build too, where every allocation is
 * its own malloc and ASan checks the bounds these cases write up to.
 */
#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/xalloc.h"
#include "harness.h"

static bool
is_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void
test_alloc_zeroed_aligned(void)
{
	static const size_t sizes[] = { 0, 1, 3, 15, 16, 17, 100, 2047, 2048,
		2049, 4096, 8192, 8193, 100000 };
	struct arena a = ARENA_INIT;

	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		unsigned char *p = arena_alloc(&a, sizes[i]);

		if (!CHECK(p != NULL))
			continue;
		CHECK_INT((uintptr_t)p % alignof(max_align_t), 0);
		CHECK(is_zero(p, sizes[i]));
		memset(p, 0xa5, sizes[i]);	/* the whole size is ours */
	}
	arena_release(&a);
	CHECK(a.head == NULL);
}

/* Many small allocations must not overlap or clobber each other. */
static void
test_alloc_distinct(void)
{
	struct arena a = ARENA_INIT;
	unsigned char *p[600];
	size_t n[600];
	int bad = 0;

	for (size_t i = 0; i < ARRAY_LEN(p); i++) {
		n[i] = 1 + (i * 37) % 300;
		p[i] = arena_alloc(&a, n[i]);
		memset(p[i], (int)(i & 0xff), n[i]);
	}
	for (size_t i = 0; i < ARRAY_LEN(p); i++)
		for (size_t j = 0; j < n[i]; j++)
			if (p[i][j] != (unsigned char)(i & 0xff))
				bad++;
	CHECK_INT(bad, 0);
	arena_release(&a);
}

static void
test_strdup(void)
{
	struct arena a = ARENA_INIT;
	char src[] = "hello arena";
	char *s = arena_strdup(&a, src);
	char *e = arena_strdup(&a, "");

	CHECK_STR(s, "hello arena");
	CHECK(s != src);
	src[0] = 'J';	/* the copy is independent */
	CHECK_STR(s, "hello arena");
	CHECK_STR(e, "");
	arena_release(&a);
}

static void
test_strndup(void)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
	} t[] = {
		{ "abcdef", 3, "abc" },
		{ "abcdef", 0, "" },
		{ "abcdef", 6, "abcdef" },
		{ "abc", 100, "abc" },	/* stops at the NUL */
		{ "", 5, "" },
	};
	struct arena a = ARENA_INIT;

	for (size_t i = 0; i < ARRAY_LEN(t); i++)
		CHECK_STR(arena_strndup(&a, t[i].in, t[i].n), t[i].want);
	arena_release(&a);
}

static void
test_printf(void)
{
	struct arena a = ARENA_INIT;
	char big[3000];
	char *s;

	CHECK_STR(arena_printf(&a, "%s=%d", "n", -12), "n=-12");
	CHECK_STR(arena_printf(&a, "%s", ""), "");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = arena_printf(&a, "<%s>", big);
	CHECK_INT(strlen(s), sizeof(big) + 1);
	CHECK_INT(s[0], '<');
	CHECK_INT(s[sizeof(big)], '>');
	arena_release(&a);
}

/* A released arena is empty and may be used again. */
static void
test_release_reuse(void)
{
	struct arena a = ARENA_INIT;

	arena_release(&a);	/* never used: harmless */
	CHECK(a.head == NULL);
	for (int round = 0; round < 3; round++) {
		char *s = arena_printf(&a, "round %d", round);

		CHECK(a.head != NULL);
		CHECK(arena_alloc(&a, 10000) != NULL);
		CHECK(s[0] == 'r');
		arena_release(&a);
		CHECK(a.head == NULL);
	}
}

/*
 * arena.h: "never NULL (aborts on OOM)".  A size that cannot be allocated
 * must abort like xmalloc does, not round to a small block and write past
 * it.  Run in a child, which must die of SIGABRT.
 */
static void
test_huge_alloc_aborts(void)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	if (!CHECK(pid >= 0))
		return;
	if (pid == 0) {
		struct arena a = ARENA_INIT;

		arena_alloc(&a, SIZE_MAX - 3);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status));
	CHECK_INT(WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGABRT);
}

static const struct test_case cases[] = {
	{ "alloc_zeroed_aligned", test_alloc_zeroed_aligned },
	{ "alloc_distinct", test_alloc_distinct },
	{ "strdup", test_strdup },
	{ "strndup", test_strndup },
	{ "printf", test_printf },
	{ "release_reuse", test_release_reuse },
	{ "huge_alloc_aborts", test_huge_alloc_aborts },
};

int
main(void)
{
	return harness_run("arena", cases, ARRAY_LEN(cases));
}
