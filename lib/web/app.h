/*
 * struct app: what a worker (or dbtreectl) holds for its whole life — the
 * configuration, one PostgreSQL connection, one Redis context, one curl
 * handle, and the settings the domain needs, derived once from the
 * configuration.  Built after fork, before the accept loop; released when
 * the process stops, so LeakSanitizer reports mean something.
 */
#ifndef WEB_APP_H
#define WEB_APP_H

#include "base/conf.h"
#include "domain/email.h"
#include "domain/game.h"
#include "domain/login.h"
#include "domain/outbox.h"
#include "net/events.h"
#include "prov/prov.h"
#include "store/db.h"
#include "store/kv.h"

struct metrics_shm;

struct app {
	struct conf conf;
	struct db db;
	struct kv kv;
	void *curl;		/* CURL *, reset between uses */
	struct events events;	/* live events (nchan), published directly */
	int live_fd;		/* a pool worker's pipe to the relay, or -1 */
	struct metrics_shm *metrics;	/* the pool's; NULL outside pools */
	struct email_rules email;
	struct login_policy login;
	struct game_rules game;
	struct prov_driver *prov;	/* NULL when it could not be set up */
	struct mailer mailer;
	char mail_dir[4096];
	char blocklist[4096];
};

/* Connects what the process needs; failures to reach PostgreSQL or Redis
 * are logged and retried per use, never fatal. */
void app_open(struct app *app, const struct conf *conf);
void app_close(struct app *app);

#include "base/banned.h"
#endif
