/*
 * struct app: what a worker holds for its whole life — the configuration,
 * one PostgreSQL connection, one Redis context and one curl handle.  Built
 * once after fork, before the accept loop; released when the worker stops,
 * so LeakSanitizer reports mean something.
 */
#ifndef WEB_APP_H
#define WEB_APP_H

#include "base/conf.h"
#include "store/db.h"
#include "store/kv.h"

struct app {
	struct conf conf;
	struct db db;
	struct kv kv;
	void *curl;		/* CURL *, reset between uses */
};

/* Connects what the worker needs; failures to reach PostgreSQL or Redis
 * are logged and retried per request, never fatal. */
void app_open(struct app *app, const struct conf *conf);
void app_close(struct app *app);

#include "base/banned.h"
#endif
