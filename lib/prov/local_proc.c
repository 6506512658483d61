/*
 * Processes of the local driver.  A helper runs in a session of its own
 * (setsid) with default signal dispositions and an empty signal mask, as
 * the instance user (when split, the agent runs it: local_agent.h), with
 * every inherited descriptor closed: a pool worker's FastCGI socket or
 * libpq connection must never leak into a postmaster.  Between fork and
 * exec the child only makes async-signal-safe calls (the caller may have
 * threads, e.g. curl's resolver), so everything it needs is prepared
 * before fork.
 *
 * Liveness is judged from /proc: a pid file can be stale and its pid
 * reused, so a pid counts only if the process is not a zombie, has the
 * expected name and works in the instance's data directory.  /proc shows
 * another user's working directory to no one but root, so when split the
 * service checks the command line instead, which names the instance's
 * directory (postgres -D <dir>/data; redis-server's title ends with
 * <dir>/redis.conf).
 */
#define _GNU_SOURCE	/* close_range */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "prov/local_agent.h"
#include "prov/local_fs.h"
#include "prov/local_proc.h"

#define POLL_MS 10
#define FALLBACK_FD_MAX 65536

/* What the child needs, prepared before fork. */
struct spawn {
	const struct local *l;
	const char *const *argv;
	const char *cwd;
	const char *out_path;
};

static void
child_say(int fd, const char *what)
{
	ssize_t n = write(fd, what, strlen(what));

	(void)n;
}

static void
child_reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);	/* fails harmlessly for some */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
child_close_rest(void)
{
	if (close_range(3, ~0U, 0) == 0)
		return;
	for (int fd = 3; fd < FALLBACK_FD_MAX; fd++)
		close(fd);
}

static _Noreturn void
child_run(const struct spawn *sp)
{
	static char path_env[] = "PATH=/usr/local/bin:/usr/bin:/bin";
	static char lang_env[] = "LANG=C.UTF-8";
	static char *const envp[] = { path_env, lang_env, NULL };
	/* execve's argv is not const for historical reasons only */
	union { const char *const *c; char *const *m; } argv = { sp->argv };
	int null_fd, out_fd;

	child_reset_signals();
	setsid();
	umask(sp->l->split ? 027 : 077);	/* split: the service reads */
	null_fd = open("/dev/null", O_RDONLY);
	out_fd = open(sp->out_path, O_WRONLY | O_CREAT | O_APPEND |
	    O_NOFOLLOW, 0600);
	if (null_fd < 0 || out_fd < 0 || chdir(sp->cwd) < 0)
		_exit(126);
	if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(126);
	child_close_rest();
	execve(sp->argv[0], argv.m, envp);
	child_say(2, "dbtree: cannot execute ");
	child_say(2, sp->argv[0]);
	child_say(2, "\n");
	_exit(127);
}

/* Waits for child pid up to timeout_ms; its exit status or -1. */
static int
wait_child(pid_t pid, const char *what, int64_t timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	int status;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0 ||
	    (r < 0 && errno == EINTR)) {
		if (clock_mono_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return fail("'%s' did not finish within %lld ms", what,
			    (long long)timeout_ms);
		}
		clock_sleep_ms(POLL_MS, NULL);
	}
	if (r < 0) {	/* SIGCHLD ignored: the kernel reaped it */
		log_warn("'%s': exit status lost: %s", what, strerror(errno));
		return 0;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return fail("'%s' killed by signal %d", what, WTERMSIG(status));
}

int
local_proc_run(const struct local *l, const char *const argv[],
	       const char *cwd, const char *out_path, int64_t timeout_ms)
{
	struct spawn sp = { l, argv, cwd, out_path };
	const char *name = strrchr(argv[0], '/');
	pid_t pid;

	if (l->agent)
		return local_agent_run(l, argv, cwd, out_path, timeout_ms);
	name = name ? name + 1 : argv[0];
	pid = fork();
	if (pid < 0)
		return fail("fork for '%s': %s", name, strerror(errno));
	if (pid == 0)
		child_run(&sp);
	return wait_child(pid, name, timeout_ms);
}

/* Reads a /proc file of pid into b (emptied first), quietly: processes
 * come and go, and some files are the owner's only.  False when it
 * cannot. */
static bool
proc_read(pid_t pid, const char *leaf, struct buf *b)
{
	char path[64], chunk[4096];
	ssize_t n;
	int fd;

	buf_reset(b);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, leaf);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 ||
	    (n < 0 && errno == EINTR))
		if (n > 0 && buf_add(b, chunk, (size_t)n) < 0)
			break;
	close(fd);
	return n == 0;
}

/* True when the process is alive, not a zombie, and named comm. */
static bool
proc_is_named(pid_t pid, const char *comm)
{
	struct buf b = BUF_INIT(4096);
	const char *open_paren, *close_paren;
	size_t n = strlen(comm);
	bool ok = false;

	if (proc_read(pid, "stat", &b)) {
		open_paren = strchr(buf_cstr(&b), '(');
		close_paren = strrchr(buf_cstr(&b), ')');
		ok = open_paren && close_paren &&
		    (size_t)(close_paren - open_paren - 1) == n &&
		    strncmp(open_paren + 1, comm, n) == 0 &&
		    close_paren[1] == ' ' && close_paren[2] != 'Z' &&
		    close_paren[2] != 'X';
	}
	buf_release(&b);
	return ok;
}

/* True when pid's command line names cwd's parent directory (with its
 * trailing slash). */
static bool
proc_names_parent(pid_t pid, const char *cwd)
{
	struct buf b = BUF_INIT(8192);
	char parent[LOCAL_PATH_MAX];
	const char *slash = strrchr(cwd, '/');
	bool ok = false;

	if (!slash || !proc_read(pid, "cmdline", &b))
		goto out;
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - cwd + 1), cwd);
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\0')
			b.data[i] = ' ';
	ok = strstr(buf_cstr(&b), parent) != NULL;
out:
	buf_release(&b);
	return ok;
}

/* True when pid works in cwd (see the file comment when we may not
 * look). */
static bool
proc_is_in(pid_t pid, const char *cwd)
{
	static const char deleted[] = " (deleted)";
	char link[64], target[LOCAL_PATH_MAX + sizeof(deleted)];
	ssize_t n;
	size_t dl = sizeof(deleted) - 1;

	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return (errno == EACCES || errno == EPERM) &&
		    proc_names_parent(pid, cwd);
	target[n] = '\0';
	if ((size_t)n > dl && strcmp(target + n - dl, deleted) == 0)
		target[n - dl] = '\0';
	return strcmp(target, cwd) == 0;
}

bool
local_proc_is_alive(pid_t pid, const char *comm, const char *cwd)
{
	if (pid <= 1 || (kill(pid, 0) < 0 && errno == ESRCH))
		return false;
	return proc_is_named(pid, comm) && proc_is_in(pid, cwd);
}

pid_t
local_proc_pidfile(const char *pidfile, const char *comm, const char *cwd)
{
	struct buf b = BUF_INIT(4096);
	long pid = 0;

	if (local_fs_read(pidfile, &b) == 0)
		pid = strtol(buf_cstr(&b), NULL, 10);
	buf_release(&b);
	if (pid <= 1 || pid > 1L << 22 ||
	    !local_proc_is_alive((pid_t)pid, comm, cwd))
		return 0;
	return (pid_t)pid;
}

pid_t
local_proc_find(const char *comm, const char *cwd)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		pid_t pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = (pid_t)strtol(e->d_name, NULL, 10);
		if (local_proc_is_alive(pid, comm, cwd))
			found = pid;
	}
	closedir(d);
	return found;
}

int
local_proc_signal(const struct local *l, pid_t pid, int sig,
		  const char *comm, const char *cwd)
{
	if (l->agent)
		return local_agent_signal(l, pid, sig, comm, cwd);
	if (!local_proc_is_alive(pid, comm, cwd) || kill(pid, sig) == 0 ||
	    errno == ESRCH)
		return 0;
	return fail("signal %d to %s (pid %d): %s", sig, comm, (int)pid,
	    strerror(errno));
}

bool
local_proc_stop(const struct local *l, pid_t pid, int sig, int64_t wait_ms,
		const char *comm, const char *cwd)
{
	int64_t deadline = clock_mono_ms() + wait_ms;

	if (!local_proc_is_alive(pid, comm, cwd))
		return true;
	if (local_proc_signal(l, pid, sig, comm, cwd) < 0)
		return false;
	while (local_proc_is_alive(pid, comm, cwd)) {
		if (clock_mono_ms() >= deadline)
			return false;
		clock_sleep_ms(POLL_MS, NULL);
	}
	return true;
}

/* The number after "key:" in text, in kB; -1 when absent. */
static int64_t
field_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static int64_t
proc_pss_kb(pid_t pid)
{
	struct buf b = BUF_INIT(8192);
	int64_t kb = -1;

	if (proc_read(pid, "smaps_rollup", &b))
		kb = field_kb(buf_cstr(&b), "\nPss:");
	buf_release(&b);
	return kb;
}

int64_t
local_proc_memory(pid_t pid)
{
	struct buf b = BUF_INIT(65536);
	char leaf[64];
	int64_t total = proc_pss_kb(pid), kb;
	char *p, *end;

	snprintf(leaf, sizeof(leaf), "task/%d/children", (int)pid);
	if (total >= 0 && proc_read(pid, leaf, &b)) {
		for (p = b.data; p && *p; p = end) {
			long child = strtol(p, &end, 10);

			if (end == p)
				break;
			if ((kb = proc_pss_kb((pid_t)child)) > 0)
				total += kb;
		}
	}
	if (total < 0 && proc_read(pid, "status", &b))
		total = field_kb(buf_cstr(&b), "\nVmRSS:");
	buf_release(&b);
	return total < 0 ? -1 : total * 1024;
}

bool
local_port_taken(const char *bind_addr, int port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char service[16];
	bool taken = false;
	int fd, one = 1;

	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(strcmp(bind_addr, "*") == 0 ? NULL : bind_addr,
	    service, &hints, &ai) != 0)
		return false;	/* the server's own start will say why */
	for (struct addrinfo *a = ai; a && !taken; a = a->ai_next) {
		if ((fd = socket(a->ai_family, a->ai_socktype, 0)) < 0)
			continue;
		/* a connection of an earlier run in TIME_WAIT is no owner */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		taken = bind(fd, a->ai_addr, a->ai_addrlen) < 0 &&
		    errno == EADDRINUSE;
		close(fd);
	}
	freeaddrinfo(ai);
	return taken;
}
