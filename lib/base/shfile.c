/* Shared files (see shfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/shfile.h"

const void *
shfile_map_ro(const char *path, size_t size)
{
	struct stat st;
	void *m;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size != (off_t)size) {
		close(fd);
		return NULL;
	}
	m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return m == MAP_FAILED ? NULL : m;
}

bool
shfile_writer_gone(int64_t pid)
{
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}
