/*
 * The benchmark's control: the least a libfcgi responder can do.  Binds
 * $DBTREE_RUN_DIR/control.sock, forks four processes that each loop on
 * FCGX_Accept_r answering a fixed body.  `make bench` measures our pools
 * against this, through the same nginx, in the same run.
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

static void
serve(int fd)
{
	FCGX_Request req;
	char sink[4096];

	FCGX_Init();
	FCGX_InitRequest(&req, fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(reply, (int)sizeof(reply) - 1, req.out);
		/* closed as the pools close (lib/web/worker.c): input read to
		 * its end, then no wait for nginx, so the ceiling stays one */
		while (FCGX_GetStr(sink, (int)sizeof(sink), req.in) > 0)
			;
		FCGX_Detach(&req);
		FCGX_Finish_r(&req);
	}
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
	for (int i = 0; i < WORKERS; i++)
		if ((kids[i] = fork()) == 0)
			serve(fd);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigwait(&set, &sig);
	for (int i = 0; i < WORKERS; i++)
		kill(kids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	return 0;
}
