/*
 * The pool master.  Signals are blocked and taken synchronously with
 * sigtimedwait(), so the master's loop is plain sequential code: reap dead
 * workers, start the missing ones when their backoff is over, replace them
 * after SIGHUP, and on SIGTERM wait for the workers
 * (SIGKILL after the grace period).
 */
#define _GNU_SOURCE		/* pipe2, F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/changes.h"
#include "base/clock.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/meter.h"
#include "base/pause.h"
#include "net/otlp.h"
#include "web/metrics.h"
#include "web/pool.h"
#include "web/relay.h"
#include "web/sesscache.h"
#include "web/shcache.h"
#include "web/worker.h"

#define POOL_MAX 64
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define YOUNG_MS 1000		/* a worker dying younger than this backs off */
#define TICK_MS 50		/* the master looks at its workers this often */
#define SPAN_PIPE_BYTES (1 << 20)

struct child {
	pid_t pid;
	int slot;
	unsigned gen;
	int64_t started_ms;
	bool retiring;
};

struct master {
	struct worker_ctx ctx;
	const char *group;
	struct child kids[2 * POOL_MAX + 2];
	size_t nkids;
	int nslots;		/* workers' slots, then the exporter's if any */
	int exporter_slot;	/* -1: traces are off */
	int span_rfd;		/* the exporter's end of ctx.span_fd's pipe */
	unsigned gen;
	int64_t next_spawn_ms[POOL_MAX + 1];
	int64_t backoff_ms[POOL_MAX + 1];
	bool stopping;
	int64_t kill_at_ms;
	int sigfd;		/* SIGCHLD, SIGTERM, SIGINT, SIGHUP */
	struct relay relay;	/* live events from the workers */
};

static int
bind_socket(const struct conf *c, const char *group)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock",
	    c->run_dir, group);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return fail("socket path '%s/%s.sock' too long", c->run_dir,
		    group);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("socket: %m");
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0660) < 0 || listen(fd, 1024) < 0) {
		log_err("listen on '%s': %m", sa.sun_path);
		close(fd);
		return -1;
	}
	if (c->socket_group[0]) {
		struct group *g = getgrnam(c->socket_group);

		if (!g || chown(sa.sun_path, (uid_t)-1, g->gr_gid) < 0)
			log_warn("socket group '%s' not applied",
			    c->socket_group);
	}
	log_info("listening on '%s'", sa.sun_path);
	return fd;
}

/* The socket systemd passed (LISTEN_FDS), or one bound here. */
static int
listen_socket(const struct conf *c, const char *group)
{
	const char *pid = getenv("LISTEN_PID");
	const char *fds = getenv("LISTEN_FDS");

	if (pid && fds && strtol(pid, NULL, 10) == (long)getpid() &&
	    strtol(fds, NULL, 10) >= 1) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		log_info("using the socket passed by systemd");
		return 3;	/* SD_LISTEN_FDS_START */
	}
	return bind_socket(c, group);
}

static volatile sig_atomic_t exporter_stop;

static void
on_exporter_term(int sig)
{
	(void)sig;
	exporter_stop = 1;
}

/* The exporter process: sends the workers' spans (net/otlp.h). */
static int
exporter_main(struct master *m)
{
	const struct conf *c = m->ctx.conf;
	struct sigaction sa = { .sa_handler = on_exporter_term };
	sigset_t none;
	struct otlp o;
	int ret;

	prctl(PR_SET_NAME, "dbtree-exporter");	/* what ps and tests see */
	close(m->ctx.listen_fd);
	close(m->ctx.span_fd);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (otlp_open(&o, c->otlp_endpoint, c->otlp_timeout_ms, m->group) < 0)
		return 1;
	ret = otlp_export_loop(&o, m->span_rfd, &exporter_stop);
	otlp_close(&o);
	return ret;
}

/* With DBTREE_OTLP_ENDPOINT: the pipe from the workers to the exporter,
 * as large as the system lets (the bounded buffer spans wait in), and the
 * exporter's slot after the workers'. */
static void
open_span_pipe(struct master *m)
{
	int fds[2];

	m->exporter_slot = m->span_rfd = m->ctx.span_fd = -1;
	if (!m->ctx.conf->otlp_endpoint[0])
		return;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		log_err("traces: pipe: %m; traces are off");
		return;
	}
	if (fcntl(fds[1], F_SETPIPE_SZ, SPAN_PIPE_BYTES) < 0)
		log_warn("traces: pipe size %d: %m", SPAN_PIPE_BYTES);
	m->span_rfd = fds[0];
	m->ctx.span_fd = fds[1];
	m->exporter_slot = m->nslots++;
}

static void
spawn(struct master *m, int slot)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_err("fork: %m");
		m->next_spawn_ms[slot] = clock_mono_ms() + BACKOFF_MAX_MS;
		return;
	}
	if (pid == 0) {
		close(m->sigfd);
		if (m->relay.rfd >= 0)
			close(m->relay.rfd);
		if (slot == m->exporter_slot)
			_exit(exporter_main(m));
		if (m->span_rfd >= 0)
			close(m->span_rfd);
		_exit(worker_serve(&m->ctx));
	}
	m->kids[m->nkids++] = (struct child){ pid, slot, m->gen,
		clock_mono_ms(), false };
}

static bool
slot_served(const struct master *m, int slot)
{
	for (size_t i = 0; i < m->nkids; i++)
		if (m->kids[i].slot == slot && !m->kids[i].retiring)
			return true;
	return false;
}

static void
on_death(struct master *m, const struct child *c, int status)
{
	int64_t now = clock_mono_ms();
	int64_t *backoff = &m->backoff_ms[c->slot];
	const char *what = c->slot == m->exporter_slot ? "exporter" : "worker";

	if (c->retiring || m->stopping)
		return;
	if (WIFSIGNALED(status))
		log_warn("%s %d killed by signal %d; replacing", what,
		    (int)c->pid, WTERMSIG(status));
	else
		log_warn("%s %d exited with %d; replacing", what, (int)c->pid,
		    WEXITSTATUS(status));
	metrics_worker_restart(m->ctx.metrics);
	if (now - c->started_ms < YOUNG_MS)
		*backoff = *backoff ? *backoff * 2 : BACKOFF_MIN_MS;
	else
		*backoff = 0;
	if (*backoff > BACKOFF_MAX_MS)
		*backoff = BACKOFF_MAX_MS;
	m->next_spawn_ms[c->slot] = now + *backoff;
}

static void
reap(struct master *m)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < m->nkids; i++) {
			if (m->kids[i].pid != pid)
				continue;
			on_death(m, &m->kids[i], status);
			m->kids[i] = m->kids[--m->nkids];
			break;
		}
	}
}

/*
 * After SIGHUP: every worker of an older generation is told to stop, and a
 * new one started in its slot, at once.  A stopping worker still serves the
 * connections nginx holds to it until nginx lets them go (web/conns.c), so
 * no request waits for the new ones; a further SIGHUP is taken once the
 * old ones are gone.
 */
static void
roll(struct master *m)
{
	size_t n = m->nkids;

	for (size_t i = 0; i < n; i++)
		if (m->kids[i].retiring)
			return;
	for (size_t i = 0; i < n; i++) {
		struct child *c = &m->kids[i];

		if (c->gen == m->gen)
			continue;
		c->retiring = true;
		kill(c->pid, SIGTERM);
		spawn(m, c->slot);
	}
}

static void
tick(struct master *m)
{
	int64_t now = clock_mono_ms();

	reap(m);
	if (m->stopping) {
		if (now >= m->kill_at_ms)
			for (size_t i = 0; i < m->nkids; i++)
				kill(m->kids[i].pid, SIGKILL);
		return;
	}
	for (int s = 0; s < m->nslots; s++)
		if (!slot_served(m, s) && now >= m->next_spawn_ms[s])
			spawn(m, s);
	roll(m);
	metrics_set_workers(m->ctx.metrics, (int64_t)m->nkids -
	    (m->exporter_slot >= 0 && slot_served(m, m->exporter_slot)));
}

static void
on_signal(struct master *m, int sig)
{
	if (sig == SIGHUP && !m->stopping) {
		log_info("replacing the workers");
		m->gen++;
	} else if ((sig == SIGTERM || sig == SIGINT) && !m->stopping) {
		log_info("stopping: %zu workers finishing", m->nkids);
		m->stopping = true;
		m->kill_at_ms = clock_mono_ms() + m->ctx.conf->shutdown_grace_ms;
		for (size_t i = 0; i < m->nkids; i++)
			kill(m->kids[i].pid, SIGTERM);
	}
}

/* Signals arrive through a signalfd, so the master can also wait for the
 * workers' live events (web/relay.h) and publish them on time. */
static int
master_signals(struct master *m)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	m->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m->sigfd < 0)
		log_err("signalfd: %m");
	return m->sigfd;
}

/* While a window runs with events pending, the pipe is not watched: what
 * the workers write meanwhile waits in it for the window's end, so a busy
 * pool wakes its master about twice a window, not once a harvest. */
static void
master_wait(struct master *m)
{
	struct pollfd p[2] = { { m->sigfd, POLLIN, 0 },
		{ m->relay.rfd, POLLIN, 0 } };
	struct signalfd_siginfo si;
	int timeout = TICK_MS, due = relay_due_ms(&m->relay);
	int watch_pipe = m->relay.rfd >= 0 && due < 0;

	if (due >= 0 && due < timeout)
		timeout = due;
	if (poll(p, watch_pipe ? 2 : 1, timeout) > 0 && watch_pipe &&
	    (p[1].revents & POLLIN))
		relay_drain(&m->relay);
	relay_flush(&m->relay);
	while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		on_signal(m, (int)si.ssi_signo);
}

static void
master_loop(struct master *m)
{
	for (;;) {
		tick(m);
		if (m->stopping && m->nkids == 0)
			return;
		master_wait(m);
	}
}

int
pool_main(const char *group, const struct route *routes, size_t n)
{
	return pool_main_with(group, routes, n, NULL);
}

int
pool_main_with(const char *group, const struct route *routes, size_t n,
	       int64_t (*workers_of)(const struct conf *))
{
	static struct master m;
	struct conf conf;
	char ident[48];

	snprintf(ident, sizeof(ident), "%s[%d]", group, (int)getpid());
	log_set_ident(ident);
	if (conf_load(&conf) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	m.ctx = (struct worker_ctx){ &conf, group, routes, n, NULL, -1, -1,
	    -1 };
	m.group = group;
	m.nslots = (int)(workers_of ? workers_of(&conf) : conf.workers);
	m.ctx.metrics = metrics_create(conf.run_dir, group, routes, n);
	metrics_meter_attach(conf.run_dir, group, false);
	shcache_setup();
	sesscache_setup();
	changes_attach(conf.run_dir);	/* without it: nothing cached on it */
	m.ctx.listen_fd = listen_socket(&conf, group);
	if (m.ctx.listen_fd < 0 || master_signals(&m) < 0)
		return 1;
	pause_setup(conf.test_pause_dir);
	relay_open(&m.relay, &conf, m.ctx.metrics);
	m.ctx.live_fd = m.relay.wfd;
	open_span_pipe(&m);
	log_info("pool '%s' starting %d workers", group, m.nslots);
	master_loop(&m);
	relay_close(&m.relay);
	metrics_destroy(m.ctx.metrics);
	meter_detach();
	log_info("pool '%s' stopped", group);
	return 0;
}
