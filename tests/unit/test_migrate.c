/*
 * Migration file names: only "NNNN_word.sql" (four digits, underscore,
 * [a-z0-9_]+) is applied; anything else in the directory is ignored.
 */
#include "base/xalloc.h"
#include "harness.h"
#include "store/migrate.h"

static void
test_accepts(void)
{
	static const char *const names[] = {
		"0001_platform.sql",
		"0000_a.sql",
		"9999_z.sql",
		"0001_x.sql",
		"0042_add_users_2.sql",
		"0001__.sql",
		"0001_2024.sql",
	};

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (!CHECK(migrate_is_name(names[i])))
			fprintf(stderr, "  refused '%s'\n", names[i]);
}

static void
test_rejects(void)
{
	static const char *const names[] = {
		"1_x.sql",		/* not four digits */
		"001_x.sql",
		"00001_x.sql",
		"0001-x.sql",		/* not an underscore */
		"0001x.sql",
		"0001_X.sql",		/* upper case */
		"0001_Platform.sql",
		"0001_.sql",		/* empty word */
		"0001_x.txt",		/* not .sql */
		"0001_x.SQL",
		"0001_x.sql~",		/* editor leftovers */
		"0001_x.sql.orig",
		".0001_x.sql.swp",
		"#0001_x.sql#",
		"0001_x.sq",
		"0001_x",
		"0001_a-b.sql",		/* punctuation in the word */
		"0001_a.b.sql",
		"0001_a b.sql",
		"0001_\xc3\xa9.sql",
		"abcd_x.sql",
		"00a1_x.sql",
		"_0001_x.sql",
		".sql",
		"0001.sql",
		"",
		".",
		"..",
	};

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (!CHECK(!migrate_is_name(names[i])))
			fprintf(stderr, "  accepted '%s'\n", names[i]);
}

static const struct test_case cases[] = {
	{ "accepts", test_accepts },
	{ "rejects", test_rejects },
};

int
main(void)
{
	return harness_run("migrate", cases, ARRAY_LEN(cases));
}
