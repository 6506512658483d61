/*
 * The local driver's memory of an instance.  The state file tells "never
 * created" from "created, and the data has since vanished", and keeps the
 * last apply's failure for observe, which runs in another process.  The
 * secret file holds the user's password and the driver's root password in
 * clear: it is 0600 in a 0700 directory, owned by the service, and its
 * content is never logged.  A lock file per instance (flock) keeps two
 * processes from creating, restarting or re-keying one instance at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/rand.h"
#include "prov/local_state.h"

#define STARTING_GRACE_S 15	/* a start not yet seen up or failed */
#define LOCK_POLL_MS 20
#define ROOT_ALPHABET \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

static int64_t
kv_i64(const char *text, const char *key)
{
	char v[24];

	if (local_fs_kv_get(text, key, v, sizeof(v)) != 0)
		return 0;
	return strtoll(v, NULL, 10);
}

int
local_state_load(const struct local_inst *in, struct local_state *st)
{
	char path[LOCAL_PATH_MAX];
	struct buf b = BUF_INIT(8192);
	const char *t;
	int ret;

	memset(st, 0, sizeof(*st));
	local_inst_path(in, "state", path);
	ret = local_fs_read(path, &b);
	if (ret != 0) {
		buf_release(&b);
		return ret == LOCAL_MISSING ? 0 : -1;
	}
	t = buf_cstr(&b);
	local_fs_kv_get(t, "type", st->type, sizeof(st->type));
	local_fs_kv_get(t, "error", st->error, sizeof(st->error));
	st->created = kv_i64(t, "created") == 1;
	st->synced = kv_i64(t, "synced") == 1;
	st->log_offset = kv_i64(t, "log_offset");
	st->started_at = kv_i64(t, "started_at");
	buf_release(&b);
	return 0;
}

int
local_state_save(const struct local_inst *in, const struct local_state *st)
{
	char path[LOCAL_PATH_MAX];
	struct buf b = BUF_INIT(8192);
	int ret;

	local_inst_path(in, "state", path);
	ret = buf_addf(&b, "type=%s\ncreated=%d\nsynced=%d\nlog_offset=%"
	    PRId64 "\nstarted_at=%" PRId64 "\nerror=%s\n", st->type,
	    st->created, st->synced, st->log_offset, st->started_at,
	    st->error);
	if (ret == 0)
		ret = local_fs_update(in->l, path, buf_cstr(&b), 0600, false);
	buf_release(&b);
	return ret < 0 ? -1 : 0;
}

int
local_state_fail(const struct local_inst *in, struct local_state *st,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->error, sizeof(st->error), fmt, ap);
	va_end(ap);
	for (char *p = st->error; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	log_err("instance %s: %s", in->id, st->error);
	return -1;
}

void
local_observed(struct prov_observation *o, enum prov_state state,
	       const char *reason)
{
	o->state = state;
	snprintf(o->reason, sizeof(o->reason), "%s", reason ? reason : "");
}

void
local_observed_down(const struct local_inst *in,
		    const struct local_state *st, const char *log_reason,
		    bool stale_pidfile, struct prov_observation *o)
{
	if (!in->spec->running)
		local_observed(o, PROV_STOPPED, "");
	else if (st->error[0])
		local_observed(o, PROV_FAILED, st->error);
	else if (log_reason && log_reason[0])
		local_observed(o, PROV_FAILED, log_reason);
	else if (!stale_pidfile && clock_now() - st->started_at <
	    STARTING_GRACE_S)
		local_observed(o, PROV_STARTING, "starting");
	else
		local_observed(o, PROV_STOPPED, "not running");
}

bool
local_secret_is_password(const char *pw)
{
	size_t n = strlen(pw);

	if (n < LOCAL_PW_MIN || n > LOCAL_PW_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (pw[i] <= ' ' || pw[i] > '~')
			return false;
	return true;
}

int
local_secret_load(const struct local_inst *in, struct local_secret *sec)
{
	char path[LOCAL_PATH_MAX];
	struct buf b = BUF_INIT(4096);
	int ret;

	memset(sec, 0, sizeof(*sec));
	local_inst_path(in, "secret", path);
	ret = local_fs_read(path, &b);
	if (ret == 0 && (local_fs_kv_get(buf_cstr(&b), "password",
	    sec->password, sizeof(sec->password)) != 0 ||
	    local_fs_kv_get(buf_cstr(&b), "root", sec->root,
	    sizeof(sec->root)) != 0))
		ret = fail("instance %s: secret file is damaged", in->id);
	if (b.data)
		explicit_bzero(b.data, b.alloc);
	buf_release(&b);
	return ret;
}

int
local_secret_save(const struct local_inst *in, const struct local_secret *sec)
{
	char path[LOCAL_PATH_MAX];
	struct buf b = BUF_INIT(4096);
	int ret;

	local_inst_path(in, "secret", path);
	ret = buf_addf(&b, "password=%s\nroot=%s\n", sec->password,
	    sec->root);
	if (ret == 0)
		ret = local_fs_write(in->l, path, buf_cstr(&b), 0600, false);
	if (b.data)
		explicit_bzero(b.data, b.alloc);
	buf_release(&b);
	return ret;
}

void
local_secret_new_root(struct local_secret *sec)
{
	rand_string(sec->root, LOCAL_ROOT_LEN, ROOT_ALPHABET);
}

void
local_secret_clear(struct local_secret *sec)
{
	explicit_bzero(sec, sizeof(*sec));
}

int
local_lock(const struct local_inst *in, int64_t wait_ms, int *fd)
{
	char path[LOCAL_PATH_MAX];
	int64_t deadline = clock_mono_ms() + wait_ms;
	int ret;

	local_inst_path(in, "lock", path);
	*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return errno == ENOENT ? LOCAL_MISSING : fail("open '%s': %s",
		    path, strerror(errno));
	for (;;) {
		if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			ret = fail("lock '%s': %s", path, strerror(errno));
			break;
		}
		if (clock_mono_ms() >= deadline) {
			ret = LOCAL_BUSY;
			break;
		}
		clock_sleep_ms(LOCK_POLL_MS, NULL);
	}
	close(*fd);
	*fd = -1;
	return ret;
}

void
local_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
