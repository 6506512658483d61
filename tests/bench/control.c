/*
 * The benchmark's control: the least a libfcgi responder can do.  Binds
 * $DBTREE_RUN_DIR/control.sock, forks four processes that answer a fixed
 * body, with the pools' own connection handling (web/conns.c: kept
 * connections, the same close), so that it stays their ceiling.  `make
 * bench` measures our pools against this, through the same nginx, in the
 * same run.
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "web/conns.h"

#define WORKERS 4

static const char reply[] = "Status: 200 OK\r\nContent-Type: application/json"
	"\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}";

static int
bind_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dir = getenv("DBTREE_RUN_DIR");
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock",
	    dir ? dir : ".");
	unlink(sa.sun_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0660) < 0 || listen(fd, 1024) < 0) {
		perror("control: listen");
		exit(1);
	}
	return fd;
}

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
answer(FCGX_Request *req, void *arg)
{
	(void)arg;
	FCGX_PutStr(reply, (int)sizeof(reply) - 1, req->out);
}

/* In a child: SIGTERM and SIGINT are blocked (main did it before fork). */
static void
serve(int fd)
{
	struct sigaction sa = { .sa_handler = on_term };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	FCGX_Init();
	conns_loop(fd, &stopping, 1000, answer, NULL);
	exit(0);
}

int
main(void)
{
	int fd = bind_socket(), sig;
	pid_t kids[WORKERS];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < WORKERS; i++)
		if ((kids[i] = fork()) == 0)
			serve(fd);
	sigwait(&set, &sig);
	for (int i = 0; i < WORKERS; i++)
		kill(kids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	return 0;
}
