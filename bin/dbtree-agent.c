/*
 * dbtree-agent: the local driver's instance agent (prov/local_agent.h).
 * Runs as the instance user (DBTREE_INSTANCE_USER, e.g. dbtree-db) and
 * does for the service, which runs as another unprivileged user, what
 * only the instance user may do: start initdb, pg_ctl and redis-server,
 * signal those servers, and write or remove files in the instance
 * directories.  Reads DBTREE_INSTANCE_DIR (or DBTREE_STATE_DIR),
 * DBTREE_INSTANCE_AGENT (its socket) and DBTREE_LOG_LEVEL; give it nothing
 * else: what it knows, every instance can read.
 *
 *	dbtree-agent		serve until SIGTERM
 */
#include <stdio.h>

#include "base/conf.h"
#include "base/log.h"
#include "prov/local_agent.h"

int
main(int argc, char **argv)
{
	struct conf c;

	(void)argv;
	log_set_ident("dbtree-agent");
	if (argc != 1)
		return fprintf(stderr, "usage: dbtree-agent (configured by"
		    " DBTREE_INSTANCE_AGENT and DBTREE_INSTANCE_DIR)\n"), 2;
	if (conf_load(&c) < 0)
		return 2;
	if (!c.instance_agent[0])
		return fprintf(stderr, "dbtree-agent: DBTREE_INSTANCE_AGENT"
		    " is not set\n"), 2;
	return local_agent_serve(&c);
}
