/*
 * The change counters (see the header).  Counters only grow; a stamp packs
 * the key's counter with the one for every key, so either moving changes
 * it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/changes.h"
#include "base/log.h"

_Static_assert((CHANGES_SLOTS & (CHANGES_SLOTS - 1)) == 0,
    "CHANGES_SLOTS is a power of two");

struct changes_file {
	uint32_t all;
	uint32_t slot[CHANGES_SLOTS];
};

static struct changes_file *file;

/* Opens path at the file's size, creating it unless run by root (root
 * would make it its own, out of the service's reach); the fd or -1. */
static int
open_sized(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW |
	    (geteuid() == 0 ? 0 : O_CREAT), 0600);

	if (fd < 0 || fstat(fd, &st) < 0 ||
	    (st.st_size != sizeof(*file) && ftruncate(fd, sizeof(*file)) < 0)) {
		log_err("open '%s': %m", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
changes_attach(const char *run_dir)
{
	char dir[4096], path[4200];
	void *p;
	int fd;

	if (file)
		return 0;
	if (snprintf(dir, sizeof(dir), "%s/shared", run_dir) >=
	    (int)sizeof(dir))
		return fail("change counters: '%s' too long", run_dir);
	if (geteuid() != 0 && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail("create '%s': %m", dir);
	snprintf(path, sizeof(path), "%s/changes", dir);
	if ((fd = open_sized(path)) < 0)
		return -1;
	p = mmap(NULL, sizeof(*file), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);
	close(fd);
	if (p == MAP_FAILED)
		return fail("map '%s': %m", path);
	file = p;
	return 0;
}

void
changes_detach(void)
{
	if (file)
		munmap(file, sizeof(*file));
	file = NULL;
}

/* FNV-1a of key: its counter. */
static uint32_t *
slot_of(const char *key)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *k = (const unsigned char *)key; *k; k++)
		h = (h ^ *k) * 16777619u;
	return &file->slot[h & (CHANGES_SLOTS - 1)];
}

bool
changes_stamp(const char *key, uint64_t *out)
{
	if (!file)
		return false;
	*out = (uint64_t)__atomic_load_n(&file->all, __ATOMIC_ACQUIRE) << 32 |
	    __atomic_load_n(slot_of(key), __ATOMIC_ACQUIRE);
	return true;
}

void
changes_note(const char *key)
{
	if (file)
		__atomic_fetch_add(slot_of(key), 1, __ATOMIC_RELEASE);
}

void
changes_note_all(void)
{
	if (file)
		__atomic_fetch_add(&file->all, 1, __ATOMIC_RELEASE);
}
