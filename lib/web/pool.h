/*
 * The prefork pool: the whole main() of a FastCGI program.
 *
 *	int main(void) { return pool_main("public", routes, ARRAY_LEN(routes)); }
 *
 * The master loads the configuration, binds <run_dir>/<group>.sock (mode
 * 0660, group DBTREE_SOCKET_GROUP) or inherits the socket from systemd
 * socket activation, creates the shared metrics, and forks DBTREE_WORKERS
 * workers.  A worker that dies is replaced (with backoff when it dies
 * young).  SIGTERM/SIGINT: workers stop accepting and finish the request
 * in hand, bounded by DBTREE_SHUTDOWN_GRACE_MS.  SIGHUP: workers are
 * replaced one by one, a new one started before an old one stops.
 */
#ifndef WEB_POOL_H
#define WEB_POOL_H

#include <stddef.h>
#include <stdint.h>

struct conf;

#include <stddef.h>

struct route;

/* Returns the process exit status: 0 after a clean stop, 2 for a bad
 * configuration, 1 for other startup failures. */
int pool_main(const char *group, const struct route *routes, size_t n);
/* The same with workers_of(conf) workers instead of DBTREE_WORKERS. */
int pool_main_with(const char *group, const struct route *routes, size_t n,
		   int64_t (*workers_of)(const struct conf *));

#include "base/banned.h"
#endif
