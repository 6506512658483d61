/*
 * Redis access (hiredis) with connect and command timeouts.  A dead context
 * is reconnected before the next command.  Commands go only through
 * argument vectors, never through formatted command strings.
 *
 * Keys are built by kv_key(): "dbtree:v1:<part>:<part>...".
 */
#ifndef STORE_KV_H
#define STORE_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct redisContext;
struct redisReply;

struct kv {
	struct redisContext *ctx;
	char *addr;		/* "host:port" or "/path/to/socket" */
	int64_t timeout_ms;
};

/* Sets up kv and tries to connect; a failure is logged and retried on the
 * next command.  Returns 0, or -1 if the first connection failed. */
int kv_open(struct kv *kv, const char *addr, int64_t timeout_ms);
void kv_close(struct kv *kv);

/* Runs one command given as argc strings.  Returns a reply to
 * freeReplyObject() (which may be a REDIS_REPLY_ERROR: an answer, logged
 * here), or NULL when Redis could not be reached (logged; the context is
 * dropped and reconnected next time).  A command whose reply does not come
 * (a dropped connection, or the command timeout) is sent once more on a
 * new connection, and the first may have run: commands and scripts must
 * give the same answer when run twice. */
struct redisReply *kv_command(struct kv *kv, int argc, const char **argv);
/* True when PING answers PONG within the command timeout. */
bool kv_ping(struct kv *kv);

/* Writes "dbtree:v1:a:b:..." (parts NULL-terminated) into out.  Returns 0,
 * or -1 if it does not fit. */
int kv_key(char *out, size_t size, ...);

#include "base/banned.h"
#endif
