/*
 * The local driver's instance agent: the client the driver calls when
 * split, and the server loop of bin/dbtree-agent.
 *
 * Wire format: a SOCK_SEQPACKET connection carries one request and one
 * reply, each one message.  A request is NUL-terminated fields, the
 * operation first:
 *
 *	run	TIMEOUT_MS CWD OUT_PATH ARGV0 ARGV...
 *	signal	PID SIG COMM CWD
 *	write	PATH MODE(octal) TEXT
 *	mkdir	PATH MODE(octal)
 *	remove	PATH
 *
 * and the reply is the status in decimal (an exit status, 0 or -1).
 *
 * The agent can do nothing its user could not do anyway, so it is no
 * privilege boundary; still it takes only paths below the instance
 * directory (a valid id, no "." or ".." component), only the driver's
 * programs, and only the signals the driver sends, to postgres and
 * redis-server processes working in an instance directory, so that a
 * confused caller reaches no further.  Who may connect is up to the
 * socket's directory (the instance user's group: the service's user).
 */
#define _GNU_SOURCE	/* accept4 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "prov/local_agent.h"
#include "prov/local_fs.h"
#include "prov/local_proc.h"

#define MSG_MAX (256 * 1024)	/* a postgresql.conf is about 30 KiB */
#define FIELDS_MAX 32
#define REPLY_MAX 32
#define SHORT_MS 30000		/* every request but run and copy */
#define COPY_MS 3600000		/* a restore's data file */
#define SLACK_MS 5000		/* run: the agent's own time on top */
#define POLL_MS 1000

/* ---- client ---------------------------------------------------------- */

static int
set_timeout(int fd, int opt, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
		(suseconds_t)(ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

static int
connect_agent(const struct local *l, int64_t timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", l->agent) >=
	    (int)sizeof(sa.sun_path))
		return fail("instance agent '%s': path too long", l->agent);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("instance agent: socket: %s", strerror(errno));
	if (set_timeout(fd, SO_SNDTIMEO, SHORT_MS) < 0 ||
	    set_timeout(fd, SO_RCVTIMEO, timeout_ms + SLACK_MS) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_err("instance agent '%s': %s", l->agent, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends the request in msg; the agent's status, or -1 (logged). */
static int
call(const struct local *l, const struct buf *msg, int64_t timeout_ms)
{
	const char *op = buf_cstr(msg);
	char reply[REPLY_MAX], *end;
	ssize_t n = -1;
	long status;
	int fd = connect_agent(l, timeout_ms);

	if (fd < 0)
		return -1;
	if (send(fd, msg->data, msg->len, MSG_NOSIGNAL) == (ssize_t)msg->len)
		do
			n = recv(fd, reply, sizeof(reply) - 1, 0);
		while (n < 0 && errno == EINTR);
	if (n <= 0) {
		log_err("instance agent '%s': %s: %s", l->agent, op,
		    n == 0 ? "no answer" : strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	reply[n] = '\0';
	status = strtol(reply, &end, 10);
	if (end == reply || *end || status < -1 || status > 255)
		return fail("instance agent '%s': %s: a bad answer", l->agent,
		    op);
	return (int)status;
}

/* Appends s and its NUL to b. */
static int
field(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s) + 1);
}

static int
field_dec(struct buf *b, long long v)
{
	char s[32];

	snprintf(s, sizeof(s), "%lld", v);
	return field(b, s);
}

static int
field_oct(struct buf *b, mode_t v)
{
	char s[32];

	snprintf(s, sizeof(s), "%o", (unsigned)v);
	return field(b, s);
}

/* Sends the request built in b (released here); too_large: a field did
 * not fit. */
static int
send_request(const struct local *l, struct buf *b, bool too_large,
	     int64_t timeout_ms)
{
	int ret = too_large ? fail("instance agent: %s: request too large",
	    buf_cstr(b)) : call(l, b, timeout_ms);

	buf_release(b);
	return ret;
}

int
local_agent_run(const struct local *l, const char *const argv[],
		const char *cwd, const char *out_path, int64_t timeout_ms)
{
	struct buf b = BUF_INIT(MSG_MAX);
	bool bad = field(&b, "run") < 0 ||
	    field_dec(&b, timeout_ms) < 0 || field(&b, cwd) < 0 ||
	    field(&b, out_path) < 0;

	for (size_t i = 0; argv[i] && !bad; i++)
		bad = field(&b, argv[i]) < 0;
	return send_request(l, &b, bad, timeout_ms);
}

int
local_agent_signal(const struct local *l, pid_t pid, int sig,
		   const char *comm, const char *cwd)
{
	struct buf b = BUF_INIT(MSG_MAX);
	bool bad = field(&b, "signal") < 0 || field_dec(&b, pid) < 0 ||
	    field_dec(&b, sig) < 0 || field(&b, comm) < 0 ||
	    field(&b, cwd) < 0;

	return send_request(l, &b, bad, SHORT_MS);
}

int
local_agent_write(const struct local *l, const char *path, const char *text,
		  mode_t mode)
{
	struct buf b = BUF_INIT(MSG_MAX);
	bool bad = field(&b, "write") < 0 || field(&b, path) < 0 ||
	    field_oct(&b, mode) < 0 || field(&b, text) < 0;

	return send_request(l, &b, bad, SHORT_MS);
}

int
local_agent_copy(const struct local *l, const char *src, const char *dst,
		 mode_t mode)
{
	struct buf b = BUF_INIT(MSG_MAX);
	bool bad = field(&b, "copy") < 0 || field(&b, src) < 0 ||
	    field(&b, dst) < 0 || field_oct(&b, mode) < 0;

	return send_request(l, &b, bad, COPY_MS);
}

int
local_agent_mkdir(const struct local *l, const char *path, mode_t mode)
{
	struct buf b = BUF_INIT(MSG_MAX);
	bool bad = field(&b, "mkdir") < 0 || field(&b, path) < 0 ||
	    field_oct(&b, mode) < 0;

	return send_request(l, &b, bad, SHORT_MS);
}

int
local_agent_remove(const struct local *l, const char *path)
{
	struct buf b = BUF_INIT(MSG_MAX);
	bool bad = field(&b, "remove") < 0 || field(&b, path) < 0;

	return send_request(l, &b, bad, SHORT_MS);
}

/* ---- server ---------------------------------------------------------- */

struct request {
	const char *f[FIELDS_MAX + 1];	/* NULL after the last */
	int n;
};

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Splits msg (len bytes of NUL-terminated fields) into r. */
static int
parse(char *msg, size_t len, struct request *r)
{
	size_t i = 0;

	r->n = 0;
	if (len == 0 || msg[len - 1] != '\0')
		return -1;
	while (i < len) {
		if (r->n == FIELDS_MAX)
			return -1;
		r->f[r->n++] = msg + i;
		i += strlen(msg + i) + 1;
	}
	r->f[r->n] = NULL;
	return 0;
}

/* True when path is <dir>/<id> (*top set) or below it, with no empty,
 * "." or ".." component. */
static bool
is_instance_path(const struct local *l, const char *path, bool *top)
{
	size_t n = strlen(l->dir);
	char id[PROV_ID_LEN + 1];
	const char *p;

	if (strncmp(path, l->dir, n) != 0 || path[n] != '/' ||
	    strlen(path) >= LOCAL_PATH_MAX)
		return false;
	p = path + n + 1;
	if (strcspn(p, "/") != PROV_ID_LEN)
		return false;
	snprintf(id, sizeof(id), "%s", p);
	if (!local_is_id(id))
		return false;
	p += PROV_ID_LEN;
	*top = *p == '\0';
	while (*p) {
		const char *c = p + 1;
		size_t len = strcspn(c, "/");

		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		p = c + len;
	}
	return true;
}

static bool
is_below_instance(const struct local *l, const char *path)
{
	bool top;

	return is_instance_path(l, path, &top) && !top;
}

static bool
is_driver_program(const struct local *l, const char *prog)
{
	char p[LOCAL_PATH_MAX];

	if (l->redis_server && strcmp(prog, l->redis_server) == 0)
		return true;
	if (!l->pg_bin)
		return false;
	snprintf(p, sizeof(p), "%s/initdb", l->pg_bin);
	if (strcmp(prog, p) == 0)
		return true;
	snprintf(p, sizeof(p), "%s/pg_ctl", l->pg_bin);
	return strcmp(prog, p) == 0;
}

static long
number(const char *s, int base)
{
	char *end;
	long v = strtol(s, &end, base);

	return end == s || *end || v < 0 ? -1 : v;
}

static int
do_run(const struct local *l, const struct request *r)
{
	long timeout_ms = r->n >= 5 ? number(r->f[1], 10) : -1;
	bool top;	/* the instance's directory itself is a fine cwd */

	if (timeout_ms < 0 || timeout_ms > 600000 ||
	    !is_instance_path(l, r->f[2], &top) ||
	    !is_below_instance(l, r->f[3]) || !is_driver_program(l, r->f[4]))
		return fail("refused: run '%s'", r->n >= 5 ? r->f[4] : "");
	return local_proc_run(l, r->f + 4, r->f[2], r->f[3], timeout_ms);
}

static int
do_signal(const struct local *l, const struct request *r)
{
	long pid = r->n == 5 ? number(r->f[1], 10) : -1;
	long sig = r->n == 5 ? number(r->f[2], 10) : -1;

	if (pid <= 1 || (sig != SIGINT && sig != SIGTERM && sig != SIGQUIT &&
	    sig != SIGKILL && sig != SIGHUP) || (strcmp(r->f[3], "postgres") != 0 &&
	    strcmp(r->f[3], "redis-server") != 0) ||
	    !is_below_instance(l, r->f[4]))
		return fail("refused: signal %ld to %ld", sig, pid);
	return local_proc_signal(l, (pid_t)pid, (int)sig, r->f[3], r->f[4]);
}

static int
do_write(const struct local *l, const struct request *r)
{
	long mode = r->n == 4 ? number(r->f[2], 8) : -1;

	if (mode < 0 || (mode & ~0777) || !is_below_instance(l, r->f[1]))
		return fail("refused: write '%s'", r->n >= 2 ? r->f[1] : "");
	/* the driver's side decided the mode (group-readable or private) */
	return local_fs_write(l, r->f[1], r->f[3], (mode_t)mode, false);
}

static int
do_copy(const struct local *l, const struct request *r)
{
	long mode = r->n == 4 ? number(r->f[3], 8) : -1;

	if (mode < 0 || (mode & ~0777) || !is_below_instance(l, r->f[1]) ||
	    !is_below_instance(l, r->f[2]))
		return fail("refused: copy '%s'", r->n >= 3 ? r->f[2] : "");
	return local_fs_copy(l, r->f[1], r->f[2], (mode_t)mode, true);
}

static int
do_mkdir(const struct local *l, const struct request *r)
{
	long mode = r->n == 3 ? number(r->f[2], 8) : -1;

	if (mode < 0 || (mode & ~0777) || !is_below_instance(l, r->f[1]))
		return fail("refused: mkdir '%s'", r->n >= 2 ? r->f[1] : "");
	return local_fs_mkdir_as(l, r->f[1], (mode_t)mode);
}

/* Removes what the agent owns directly in dir (the instance's directory,
 * sticky: the service's files there are not ours to remove). */
static int
remove_own(const char *dir)
{
	char path[LOCAL_PATH_MAX];
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : fail("open '%s': %s", dir,
		    strerror(errno));
	while (ret == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_uid != getuid())
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(path))
			ret = fail("'%s/%s': path too long", dir, e->d_name);
		else
			ret = local_fs_remove(path);
	}
	closedir(d);
	return ret;
}

static int
do_remove(const struct local *l, const struct request *r)
{
	bool top;

	if (r->n != 2 || !is_instance_path(l, r->f[1], &top))
		return fail("refused: remove '%s'", r->n >= 2 ? r->f[1] : "");
	return top ? remove_own(r->f[1]) : local_fs_remove(r->f[1]);
}

static int
dispatch(const struct local *l, const struct request *r)
{
	static const struct {
		const char *op;
		int (*fn)(const struct local *, const struct request *);
	} ops[] = {
		{ "run", do_run }, { "signal", do_signal },
		{ "write", do_write }, { "mkdir", do_mkdir },
		{ "remove", do_remove }, { "copy", do_copy },
	};

	for (size_t i = 0; i < ARRAY_LEN(ops); i++)
		if (strcmp(r->f[0], ops[i].op) == 0)
			return ops[i].fn(l, r);
	return fail("refused: unknown request '%.32s'", r->f[0]);
}

/* One connection: one request, one reply. */
static void
serve_one(const struct local *l, int fd)
{
	char *msg = xmalloc(MSG_MAX);
	char reply[REPLY_MAX];
	struct request r;
	ssize_t n;
	int status = -1;

	set_timeout(fd, SO_RCVTIMEO, SHORT_MS);
	do
		n = recv(fd, msg, MSG_MAX, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n > 0 && n <= MSG_MAX && parse(msg, (size_t)n, &r) == 0)
		status = dispatch(l, &r);
	else
		log_err("a malformed request (%zd bytes)", n);
	n = snprintf(reply, sizeof(reply), "%d", status);
	if (send(fd, reply, (size_t)n, MSG_NOSIGNAL) != n)
		log_warn("the answer was not taken: %s", strerror(errno));
	free(msg);
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path) >=
	    (int)sizeof(sa.sun_path))
		return fail("socket path '%s' too long", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("socket: %s", strerror(errno));
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0660) < 0 || listen(fd, 64) < 0) {
		log_err("listen on '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
on_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;	/* no SA_RESTART: poll returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Accepts one connection and hands it to a child of its own. */
static void
accept_one(struct local *l, int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	pid_t pid;

	if (fd < 0)
		return;
	pid = fork();
	if (pid == 0) {
		close(lfd);
		serve_one(l, fd);
		close(fd);
		local_agent_close(l);
		_exit(0);
	}
	if (pid < 0)
		log_err("fork: %s", strerror(errno));
	close(fd);
}

int
local_agent_serve(const struct conf *c)
{
	struct local *l = local_agent_open(c);
	struct pollfd p = { -1, POLLIN, 0 };

	if (!l || (p.fd = listen_on(c->instance_agent)) < 0) {
		local_agent_close(l);
		return 1;
	}
	on_signals();
	log_info("serving on '%s' for '%s'", c->instance_agent, l->dir);
	while (!stopping) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (poll(&p, 1, POLL_MS) == 1)
			accept_one(l, p.fd);
	}
	close(p.fd);
	unlink(c->instance_agent);
	local_agent_close(l);
	log_info("stopped");
	return 0;
}
