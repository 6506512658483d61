/*
 * Files and directories of the local driver.  Everything written is
 * replaced atomically (a temporary file opened O_EXCL|O_NOFOLLOW, fsync,
 * rename, fsync of the directory), because the instance user may write in
 * the instance directory too and a crash must never leave half a secret.
 * Tree walks use openat/unlinkat and never follow symbolic links, so
 * removing an instance cannot reach outside its directory.
 */
#define _GNU_SOURCE	/* syncfs */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/rand.h"
#include "base/utf8.h"
#include "prov/local_agent.h"
#include "prov/local_fs.h"

#define WALK_DEPTH 64

bool
local_is_id(const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++)
		if (!strchr("0123456789abcdef-", id[i]) || i >= PROV_ID_LEN)
			return false;
	return i == PROV_ID_LEN;
}

int
local_inst_init(struct local_inst *in, const struct local *l, const char *id,
		const struct prov_spec *spec)
{
	memset(in, 0, sizeof(*in));
	if (!id || !local_is_id(id))
		return fail("instance id '%.*s' is not valid", id ?
		    (int)utf8_prefix(id, strlen(id), 40) : 0, id ? id : "");
	in->l = l;
	in->spec = spec;
	in->id = id;
	snprintf(in->dir, sizeof(in->dir), "%s/%s", l->dir, id);
	snprintf(in->data, sizeof(in->data), "%s/data", in->dir);
	return 0;
}

void
local_inst_path(const struct local_inst *in, const char *leaf,
		char out[LOCAL_PATH_MAX])
{
	snprintf(out, LOCAL_PATH_MAX, "%s/%s", in->dir, leaf);
}

int
local_inst_mkdir(const struct local_inst *in)
{
	if (mkdir(in->dir, 0700) < 0 && errno != EEXIST)
		return fail("mkdir '%s': %s", in->dir, strerror(errno));
	return in->l->split ? local_fs_share(in->l, in->dir, 03770) : 0;
}

int
local_fs_share(const struct local *l, const char *path, mode_t mode)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return fail("'%s' is not a directory", path);
	if (l->split && st.st_gid != l->gid &&
	    chown(path, (uid_t)-1, l->gid) < 0)
		return fail("give '%s' the instance user's group: %s", path,
		    strerror(errno));
	if ((st.st_mode & 07777) != mode && chmod(path, mode) < 0)
		return fail("chmod '%s': %s", path, strerror(errno));
	return 0;
}

int
local_fs_mkdir_as(const struct local *l, const char *path, mode_t mode)
{
	if (l->split)
		mode |= S_IRGRP | S_IXGRP;
	if (l->agent)
		return local_agent_mkdir(l, path, mode);
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return fail("mkdir '%s': %s", path, strerror(errno));
	if (!local_fs_is_dir(path))
		return fail("'%s' is not a directory", path);
	return chmod(path, mode) < 0 ? fail("chmod '%s': %s", path,
	    strerror(errno)) : 0;
}

bool
local_fs_is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int64_t
local_fs_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return (int64_t)st.st_size;
}

/* Appends what is left of fd to out; with limit, stops quietly after that
 * many bytes instead of failing at out's cap. */
static int
read_fd(int fd, const char *path, struct buf *out, size_t limit)
{
	char chunk[4096];
	size_t want = sizeof(chunk), got = 0;
	ssize_t n;

	for (;;) {
		if (limit && limit - got < want)
			want = limit - got;
		if (want == 0 || (n = read(fd, chunk, want)) == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("read '%s': %s", path, strerror(errno));
		if (buf_add(out, chunk, (size_t)n) < 0)
			return fail("read '%s': larger than %zu bytes", path,
			    out->max);
		got += (size_t)n;
	}
}

int
local_fs_read(const char *path, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int ret;

	if (fd < 0 && errno == ENOENT)
		return LOCAL_MISSING;
	if (fd < 0)
		return fail("open '%s': %s", path, strerror(errno));
	ret = read_fd(fd, path, out, 0);
	close(fd);
	return ret;
}

int
local_fs_tail(const char *path, int64_t offset, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int64_t size = local_fs_size(path);
	int ret;

	if (fd < 0)
		return errno == ENOENT ? 0 : fail("open '%s': %s", path,
		    strerror(errno));
	if (offset < 0 || offset > size)
		offset = 0;	/* the log was rotated or truncated */
	if (size - offset > LOCAL_TAIL_MAX)
		offset = size - LOCAL_TAIL_MAX;
	if (lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		close(fd);
		return fail("seek '%s': %s", path, strerror(errno));
	}
	ret = read_fd(fd, path, out, LOCAL_TAIL_MAX);
	close(fd);
	return ret;
}

static int
write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
sync_parent(const char *path)
{
	char dir[LOCAL_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, ret;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
	    slash ? path : ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail("open '%s': %s", dir, strerror(errno));
	ret = fsync(fd) < 0 ? fail("fsync '%s': %s", dir, strerror(errno)) : 0;
	close(fd);
	return ret;
}

/* Writes text into a new temporary file next to path; its name to tmp. */
static int
write_temp(const char *path, const char *text, mode_t mode,
	   char tmp[LOCAL_PATH_MAX])
{
	char suffix[17];
	int fd;

	rand_hex(suffix, 8);
	snprintf(tmp, LOCAL_PATH_MAX, "%s.%s.tmp", path, suffix);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0)
		return fail("create '%s': %s", tmp, strerror(errno));
	if (fchmod(fd, mode) < 0 || write_all(fd, text, strlen(text)) < 0 ||
	    fsync(fd) < 0) {
		log_err("write '%s': %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0) {
		log_err("close '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Writes path with exactly mode, as the instance user when as_user. */
static int
write_file(const struct local *l, const char *path, const char *text,
	   mode_t mode, bool as_user)
{
	char tmp[LOCAL_PATH_MAX];

	if (as_user && l->agent)
		return local_agent_write(l, path, text, mode);
	if (write_temp(path, text, mode, tmp) < 0)
		return -1;
	if (rename(tmp, path) < 0) {
		log_err("rename '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return sync_parent(path);
}

/* Copies the open file in into a new temporary file next to dst. */
static int
copy_temp(int in, const char *dst, mode_t mode, char tmp[LOCAL_PATH_MAX])
{
	char chunk[65536], suffix[17];
	ssize_t n;
	int fd, ret = 0;

	rand_hex(suffix, 8);
	snprintf(tmp, LOCAL_PATH_MAX, "%s.%s.tmp", dst, suffix);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0)
		return fail("create '%s': %s", tmp, strerror(errno));
	while (ret == 0 && (n = read(in, chunk, sizeof(chunk))) != 0)
		if (n < 0 ? errno != EINTR : write_all(fd, chunk, (size_t)n) < 0)
			ret = -1;
	if (ret < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		log_err("copy to '%s': %s", tmp, strerror(errno));
		if (ret == 0)
			close(fd);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
local_fs_copy(const struct local *l, const char *src, const char *dst,
	      mode_t mode, bool as_user)
{
	char tmp[LOCAL_PATH_MAX];
	int in, ret;

	if (as_user && l->agent)
		return local_agent_copy(l, src, dst, mode);
	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return fail("open '%s': %s", src, strerror(errno));
	ret = copy_temp(in, dst, mode, tmp);
	close(in);
	if (ret == 0 && rename(tmp, dst) < 0) {
		log_err("rename '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		ret = -1;
	}
	return ret < 0 ? -1 : sync_parent(dst);
}

int
local_fs_write(const struct local *l, const char *path, const char *text,
	       mode_t mode, bool as_user)
{
	if (as_user && l->split)
		mode |= S_IRGRP;	/* the service reads it back */
	return write_file(l, path, text, mode, as_user);
}

int
local_fs_write_private(const struct local *l, const char *path,
		       const char *text)
{
	return write_file(l, path, text, 0600, true);
}

bool
local_fs_holds(const char *path, const char *text)
{
	struct buf old = BUF_INIT(1 << 20);
	bool same = local_fs_read(path, &old) == 0 &&
	    strcmp(buf_cstr(&old), text) == 0;

	buf_release(&old);
	return same;
}

int
local_fs_update(const struct local *l, const char *path, const char *text,
		mode_t mode, bool as_user)
{
	if (local_fs_holds(path, text))
		return 0;
	return local_fs_write(l, path, text, mode, as_user) < 0 ? -1 :
	    LOCAL_CHANGED;
}

/* Removes (or measures, when bytes is set) what dirfd holds. */
static int walk_dir(int dirfd, const char *path, int depth, int64_t *bytes);

/* One entry of a directory being walked. */
static int
walk_entry(int dirfd, const char *path, const char *name, int depth,
	   int64_t *bytes)
{
	struct stat st;
	int fd, ret;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : fail("stat '%s/%s': %s", path,
		    name, strerror(errno));
	if (bytes)
		*bytes += (int64_t)st.st_blocks * 512;
	if (S_ISDIR(st.st_mode)) {
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd < 0)
			return fail("open '%s/%s': %s", path, name,
			    strerror(errno));
		ret = walk_dir(fd, path, depth + 1, bytes);	/* closes fd */
		if (ret < 0)
			return -1;
	}
	if (!bytes && unlinkat(dirfd, name, S_ISDIR(st.st_mode) ?
	    AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
		return fail("remove '%s/%s': %s", path, name, strerror(errno));
	return 0;
}

static int
walk_dir(int dirfd, const char *path, int depth, int64_t *bytes)
{
	DIR *d;
	struct dirent *e;
	int ret = 0;

	if (depth > WALK_DEPTH) {
		close(dirfd);
		return fail("'%s': directories nested too deep", path);
	}
	if (!(d = fdopendir(dirfd))) {
		close(dirfd);
		return fail("read '%s': %s", path, strerror(errno));
	}
	while (ret == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		ret = walk_entry(dirfd, path, e->d_name, depth, bytes);
	}
	closedir(d);
	return ret;
}

int
local_fs_remove(const char *path)
{
	char parent[LOCAL_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash || slash == path || !slash[1])
		return fail("remove '%s': not a path below a directory", path);
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : fail("open '%s': %s", parent,
		    strerror(errno));
	if (walk_entry(fd, parent, slash + 1, 0, NULL) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return sync_parent(path);
}

int
local_fs_remove_as(const struct local *l, const char *path)
{
	return l->agent ? local_agent_remove(l, path) : local_fs_remove(path);
}

int64_t
local_fs_usage(const char *path)
{
	int64_t bytes = 0;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (walk_dir(fd, path, 0, &bytes) < 0)
		return -1;
	return bytes;
}

int
local_fs_sync(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return fail("open '%s': %s", path, strerror(errno));
	ret = syncfs(fd) < 0 ? fail("syncfs '%s': %s", path,
	    strerror(errno)) : 0;
	close(fd);
	return ret;
}

int
local_fs_kv_get(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = text;

	out[0] = '\0';
	while (*p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			if (len - klen - 1 >= size)
				return -1;
			memcpy(out, p + klen + 1, len - klen - 1);
			out[len - klen - 1] = '\0';
			return 0;
		}
		p += len + (end ? 1 : 0);
	}
	return LOCAL_MISSING;
}

void
local_fs_first_line(const char *text, char *out, size_t size)
{
	snprintf(out, size, "%.*s", (int)strcspn(text, "\r\n"), text);
}

bool
local_fs_last_line(const char *text, bool (*keep)(const char *, size_t),
		   char *out, size_t size)
{
	const char *line = text, *found = NULL;
	size_t found_len = 0;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len > 0 && (!keep || keep(line, len))) {
			found = line;
			found_len = len;
		}
		line += len + (nl ? 1 : 0);
	}
	if (!found)
		return false;
	snprintf(out, size, "%.*s", (int)found_len, found);
	return true;
}
