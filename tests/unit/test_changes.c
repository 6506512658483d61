/* base/changes: stamps move with a note of their key or of every key. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/changes.h"
#include "harness.h"

static char dir[] = "/tmp/dbtree-changes-XXXXXX";

static void
test_unattached(void)
{
	uint64_t s;

	changes_detach();
	CHECK(!changes_stamp("a", &s));
	changes_note("a");	/* harmless */
	changes_note_all();
}

static void
test_notes(void)
{
	uint64_t a0, a1, b0, b1;
	int other;

	CHECK(changes_attach(dir) == 0);
	CHECK(changes_stamp("user-a", &a0) && changes_stamp("user-b", &b0));
	/* find a key in another slot than user-a's */
	changes_note("user-a");
	CHECK(changes_stamp("user-a", &a1) && a1 != a0);
	CHECK(changes_stamp("user-b", &b1));
	other = b1 == b0;
	CHECK(other);	/* FNV spreads these two apart */
	changes_note_all();
	CHECK(changes_stamp("user-a", &a0) && a0 != a1);
	CHECK(changes_stamp("user-b", &b0) && b0 != b1);
}

/* Two processes share the counters through the file. */
static void
test_shared_file(void)
{
	uint64_t before, after;
	pid_t pid;
	int status;

	CHECK(changes_attach(dir) == 0);
	CHECK(changes_stamp("user-c", &before));
	pid = fork();
	if (pid == 0) {
		changes_detach();
		_exit(changes_attach(dir) == 0 ? (changes_note("user-c"), 0) :
		    1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(changes_stamp("user-c", &after) && after != before);
}

static const struct test_case cases[] = {
	{ "unattached", test_unattached },
	{ "notes", test_notes },
	{ "shared_file", test_shared_file },
};

int
main(void)
{
	char path[128];
	int r;

	if (!mkdtemp(dir))
		return 1;
	/* made here: run by root, changes_attach creates nothing */
	snprintf(path, sizeof(path), "%s/shared", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/shared/changes", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	r = harness_run("changes", cases, ARRAY_LEN(cases));
	changes_detach();
	snprintf(path, sizeof(path), "%s/shared/changes", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/shared", dir);
	rmdir(path);
	rmdir(dir);
	return r;
}
