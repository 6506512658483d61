/*
 * struct buf: the cap is the point of the module, so most cases append up
 * to it, past it, and check that a refused append changed nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "harness.h"

/* Fields of b compared with what they were before a refused append. */
static void
check_unchanged(const struct buf *b, const struct buf *before,
		const char *text)
{
	CHECK(b->data == before->data);
	CHECK_INT(b->len, before->len);
	CHECK_INT(b->alloc, before->alloc);
	CHECK_INT(b->max, before->max);
	CHECK_STR(buf_cstr(b), text);
}

static void
test_empty(void)
{
	struct buf b = BUF_INIT(16);

	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_STR(buf_cstr(&b), "");
	buf_release(&b);
	CHECK(b.data == NULL);
	CHECK_INT(b.max, 16);
}

static void
test_init(void)
{
	struct buf b;

	memset(&b, 0x5a, sizeof(b));
	buf_init(&b, 7);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.alloc, 0);
	CHECK_INT(b.max, 7);
	CHECK_STR(buf_cstr(&b), "");
}

static void
test_append_kinds(void)
{
	struct buf b = BUF_INIT(64);

	CHECK_INT(buf_add(&b, "ab\0cd", 5), 0);
	CHECK_INT(b.len, 5);
	CHECK(memcmp(b.data, "ab\0cd", 6) == 0);	/* NUL kept and added */
	buf_reset(&b);
	CHECK_INT(buf_adds(&b, "hello"), 0);
	CHECK_INT(buf_addc(&b, ','), 0);
	CHECK_INT(buf_addc(&b, ' '), 0);
	CHECK_INT(buf_adds(&b, ""), 0);
	CHECK_INT(buf_add(&b, NULL, 0), 0);
	CHECK_INT(buf_adds(&b, "world"), 0);
	CHECK_STR(buf_cstr(&b), "hello, world");
	CHECK_INT(b.len, strlen("hello, world"));
	buf_release(&b);
}

static void
test_addf(void)
{
	struct buf b = BUF_INIT(128);

	CHECK_INT(buf_addf(&b, "id=%d", 42), 0);
	CHECK_INT(buf_addf(&b, " name='%s'", "x y"), 0);
	CHECK_INT(buf_addf(&b, " %05.1f %c%%", 3.14159, 'z'), 0);
	CHECK_STR(buf_cstr(&b), "id=42 name='x y' 003.1 z%");
	CHECK_INT(b.len, strlen(buf_cstr(&b)));
	CHECK_INT(buf_addf(&b, "%s", ""), 0);
	CHECK_INT(b.len, strlen("id=42 name='x y' 003.1 z%"));
	buf_release(&b);
}

static void
test_addf_grows(void)
{
	struct buf b = BUF_INIT(100000);
	char big[5000];

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 10; i++)
		CHECK_INT(buf_addf(&b, "%d:%s;", i, big), 0);
	CHECK_INT(b.len, 10 * (2 + strlen(big) + 1));
	CHECK(b.alloc > b.len);
	CHECK(strncmp(b.data + 5002, "1:qqq", 5) == 0);
	CHECK_INT(b.data[b.len], '\0');
	buf_release(&b);
}

static void
test_cap_exact_fit(void)
{
	struct buf b = BUF_INIT(5);

	CHECK_INT(buf_adds(&b, "abc"), 0);
	CHECK_INT(buf_adds(&b, "de"), 0);
	CHECK_STR(buf_cstr(&b), "abcde");
	CHECK_INT(b.len, 5);
	CHECK(b.alloc <= 6);	/* never more than the cap needs */
	buf_release(&b);
}

/* Each kind of append, one byte past the cap: refused, b untouched. */
static void
test_cap_refuses(void)
{
	struct buf b = BUF_INIT(5);
	struct buf before;

	CHECK_INT(buf_adds(&b, "abcd"), 0);
	before = b;
	CHECK_INT(buf_adds(&b, "ef"), -1);
	check_unchanged(&b, &before, "abcd");
	CHECK_INT(buf_add(&b, "xyz", 3), -1);
	check_unchanged(&b, &before, "abcd");
	CHECK_INT(buf_addf(&b, "%d", 10), -1);
	check_unchanged(&b, &before, "abcd");
	CHECK_INT(buf_addc(&b, 'e'), 0);
	before = b;
	CHECK_INT(buf_addc(&b, 'f'), -1);
	check_unchanged(&b, &before, "abcde");
	CHECK_INT(buf_adds(&b, ""), 0);
	check_unchanged(&b, &before, "abcde");
	buf_release(&b);
}

static void
test_cap_on_empty(void)
{
	struct buf b = BUF_INIT(3);
	struct buf zero = BUF_INIT(0);

	CHECK_INT(buf_adds(&b, "abcd"), -1);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_STR(buf_cstr(&b), "");
	CHECK_INT(buf_addf(&b, "%s", "toolong"), -1);
	CHECK_INT(b.len, 0);
	CHECK_INT(buf_addc(&zero, 'x'), -1);
	CHECK_INT(buf_adds(&zero, ""), 0);
	CHECK_STR(buf_cstr(&zero), "");
	buf_release(&b);
	buf_release(&zero);
}

static void
test_huge_length_refused(void)
{
	struct buf b = BUF_INIT(16);

	CHECK_INT(buf_adds(&b, "x"), 0);
	/* n near SIZE_MAX must not wrap around the cap check */
	CHECK_INT(buf_add(&b, "y", (size_t)-1), -1);
	CHECK_INT(buf_add(&b, "y", (size_t)-1 - 1), -1);
	CHECK_STR(buf_cstr(&b), "x");
	buf_release(&b);
}

static void
test_reset(void)
{
	struct buf b = BUF_INIT(8);
	char *storage;

	buf_reset(&b);	/* on a never-used buffer */
	CHECK_STR(buf_cstr(&b), "");
	CHECK_INT(buf_adds(&b, "12345678"), 0);
	storage = b.data;
	buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_STR(buf_cstr(&b), "");
	CHECK(b.data == storage);	/* storage kept */
	CHECK_INT(b.max, 8);
	/* the whole cap is available again */
	CHECK_INT(buf_adds(&b, "abcdefgh"), 0);
	CHECK_STR(buf_cstr(&b), "abcdefgh");
	CHECK_INT(buf_addc(&b, 'i'), -1);
	buf_release(&b);
}

static void
test_detach(void)
{
	struct buf b = BUF_INIT(32);
	char *s;

	CHECK_INT(buf_addf(&b, "%s-%d", "key", 7), 0);
	s = buf_detach(&b);
	CHECK_STR(s, "key-7");
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.alloc, 0);
	CHECK_INT(b.max, 32);
	CHECK_STR(buf_cstr(&b), "");
	/* b is reusable, and s is independent of it */
	CHECK_INT(buf_adds(&b, "again"), 0);
	CHECK_STR(s, "key-7");
	CHECK_STR(buf_cstr(&b), "again");
	free(s);
	buf_release(&b);
}

static void
test_detach_empty(void)
{
	struct buf b = BUF_INIT(4);
	char *s = buf_detach(&b);

	if (CHECK(s != NULL))
		CHECK_STR(s, "");
	free(s);
	CHECK(b.data == NULL);
}

static void
test_release_reuse(void)
{
	struct buf b = BUF_INIT(4);

	CHECK_INT(buf_adds(&b, "abcd"), 0);
	buf_release(&b);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.max, 4);
	CHECK_INT(buf_adds(&b, "wxyz"), 0);
	CHECK_STR(buf_cstr(&b), "wxyz");
	buf_release(&b);
	buf_release(&b);	/* twice is harmless */
}

/*
 * The largest cap, SIZE_MAX ("no real cap"; kv_key passes size - 1, which
 * is SIZE_MAX for size 0): buf_grow clamps its allocation to max + 1,
 * which wraps to 0, so the first append writes past a 1-byte block.
 */
static void
test_max_size_cap(void)
{
	struct buf b = BUF_INIT((size_t)-1);

	CHECK_INT(buf_adds(&b, "hello"), 0);
	CHECK(b.alloc > b.len);
	CHECK_STR(buf_cstr(&b), "hello");
	buf_release(&b);
}

static const struct test_case cases[] = {
	{ "empty", test_empty },
	{ "init", test_init },
	{ "append_kinds", test_append_kinds },
	{ "addf", test_addf },
	{ "addf_grows", test_addf_grows },
	{ "cap_exact_fit", test_cap_exact_fit },
	{ "cap_refuses", test_cap_refuses },
	{ "cap_on_empty", test_cap_on_empty },
	{ "huge_length_refused", test_huge_length_refused },
	{ "reset", test_reset },
	{ "detach", test_detach },
	{ "detach_empty", test_detach_empty },
	{ "release_reuse", test_release_reuse },
	{ "max_size_cap", test_max_size_cap },
};

int
main(void)
{
	return harness_run("buf", cases, ARRAY_LEN(cases));
}
