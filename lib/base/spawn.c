/*
 * spawn_run: fork, exec, and a wait loop that reads the child's stderr,
 * watches the clock and the size of the file it writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/spawn.h"

#define TAIL_MAX 2048
#define TICK_MS 100

static void
child(const struct spawn_opts *o, int err_w)
{
	static const char *const no_env[] = { NULL };
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	dup2(o->stdin_fd >= 0 ? o->stdin_fd : null, 0);
	dup2(o->stdout_fd >= 0 ? o->stdout_fd : null, 1);
	dup2(err_w, 2);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	signal(SIGPIPE, SIG_DFL);
	execve(o->argv[0], (char *const *)(uintptr_t)o->argv,
	    (char *const *)(uintptr_t)(o->env ? o->env : no_env));
	dprintf(2, "cannot run %s: %s\n", o->argv[0], strerror(errno));
	_exit(127);
}

/* Appends what the child wrote to tail (the last TAIL_MAX bytes). */
static void
read_tail(int fd, char *tail, size_t *len)
{
	char chunk[1024];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n <= 0)
		return;
	if (*len + (size_t)n > TAIL_MAX) {
		size_t drop = *len + (size_t)n - TAIL_MAX;

		if (drop > *len)
			drop = *len;
		memmove(tail, tail + drop, *len - drop);
		*len -= drop;
	}
	if ((size_t)n > TAIL_MAX)
		n = TAIL_MAX;
	memcpy(tail + *len, chunk, (size_t)n);
	*len += (size_t)n;
}

/* The last non-empty line of tail that is not indented (an indented one
 * continues the one before: a hint, not the error) into out. */
static void
last_line(const char *tail, size_t len, char *out, size_t size)
{
	size_t end = len, start;

	for (;;) {
		while (end > 0 && (tail[end - 1] == '\n' ||
		    tail[end - 1] == '\r'))
			end--;
		start = end;
		while (start > 0 && tail[start - 1] != '\n')
			start--;
		if (start == 0 || (tail[start] != '\t' && tail[start] != ' '))
			break;
		end = start;
	}
	snprintf(out, size, "%.*s", (int)(end - start), tail + start);
}

static bool
too_big(const struct spawn_opts *o)
{
	struct stat st;

	return o->watch_path && o->max_bytes > 0 &&
	    stat(o->watch_path, &st) == 0 && st.st_size > o->max_bytes;
}

static int
status_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return SPAWN_SIGNALLED;
}

/* Waits for pid, reading err_r; kills it when over time or size. */
static int
wait_loop(const struct spawn_opts *o, pid_t pid, int err_r, char *tail,
	  size_t *len)
{
	int64_t until = clock_mono_ms() + o->timeout_ms;
	int status, outcome = 0;
	bool open_err = true;

	for (;;) {
		struct pollfd p = { err_r, POLLIN, 0 };

		if (open_err && poll(&p, 1, TICK_MS) > 0) {
			size_t before = *len;

			read_tail(err_r, tail, len);
			open_err = *len != before || !(p.revents & POLLHUP);
		} else if (!open_err) {
			clock_sleep_ms(TICK_MS / 4, NULL);
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (!outcome && clock_mono_ms() > until)
			outcome = SPAWN_TIMEOUT;
		if (!outcome && too_big(o))
			outcome = SPAWN_TOO_BIG;
		if (outcome) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
	}
	while (open_err && poll(&(struct pollfd){ err_r, POLLIN, 0 }, 1, 0) > 0) {
		size_t before = *len;

		read_tail(err_r, tail, len);
		open_err = *len != before;
	}
	return outcome ? outcome : status_of(status);
}

int
spawn_run(const struct spawn_opts *o, char *err, size_t err_size)
{
	char tail[TAIL_MAX];
	size_t len = 0;
	int fds[2], ret;
	pid_t pid;

	err[0] = '\0';
	if (pipe(fds) < 0)
		return fail("pipe: %s", strerror(errno));
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return fail("fork: %s", strerror(errno));
	}
	if (pid == 0)
		child(o, fds[1]);
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	ret = wait_loop(o, pid, fds[0], tail, &len);
	close(fds[0]);
	last_line(tail, len, err, err_size);
	return ret;
}
