/*
 * The outbox.  A send claims its row by pushing next_attempt_at past the
 * send timeout in one UPDATE (the lease); success marks it sent, a refused
 * recipient marks it failed, anything else schedules a retry with
 * exponential backoff (30 s doubling, at most an hour) until the mail is
 * 24 hours old.
 *
 * The file transport (a local run without a mail server) also appends each
 * login code it sends to <mail dir>/login-codes.log, created 0600, so one
 * can log in without opening .eml files.  A code never goes to a process's
 * log: those are shared with the service's group.
 */
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/trace.h"
#include "domain/backup.h"
#include "domain/login.h"
#include "domain/mails.h"
#include "domain/outbox.h"
#include "store/db.h"

#define LEASE_S "120"
#define GIVE_UP_AFTER "24 hours"

/* lang NULL: the language of the address's live account, else English. */
static int
queue(struct db *db, const char *kind, const char *recipient,
      const char *params_json, const char *lang, int64_t *id)
{
	char tp[TRACE_PARENT_LEN];
	const char *params[] = { kind, recipient, params_json, lang,
		trace_current(tp) == 0 ? tp : NULL };
	PGresult *res = db_exec(db, "INSERT INTO mail_outbox (kind, recipient,"
	    " params, lang, trace_parent) VALUES ($1, $2, $3::jsonb,"
	    " coalesce($4::ui_lang, (SELECT lang FROM users WHERE email = $2"
	    " AND NOT is_deleted), 'en'), $5) RETURNING id", 5, params);

	if (!res)
		return -1;
	*id = db_get_i64(res, 0, 0);
	PQclear(res);
	return 0;
}

int
outbox_add(struct db *db, const char *kind, const char *recipient,
	   const char *params_json, int64_t *id)
{
	return queue(db, kind, recipient, params_json, NULL, id);
}

int
outbox_add_in(struct db *db, const char *kind, const char *recipient,
	      const char *params_json, enum lang lang, int64_t *id)
{
	return queue(db, kind, recipient, params_json, lang_name(lang), id);
}

struct claimed {
	char kind[32];
	char recipient[256];
	struct json_object *params;
	char message_id[64];
	enum lang lang;
};

/* 0 with c filled when id was due and is now ours, 1 when not, -1. */
static int
claim(struct db *db, int64_t id, struct claimed *c)
{
	char ids[24];
	const char *params[] = { ids };
	PGresult *res;

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	res = db_exec(db, "UPDATE mail_outbox SET attempts = attempts + 1,"
	    " next_attempt_at = now() + interval '" LEASE_S " seconds'"
	    " WHERE id = $1 AND status = 'pending' AND next_attempt_at <= now()"
	    " RETURNING kind, recipient, params::text,"
	    " extract(epoch FROM created_at)::bigint, lang::text", 1, params);
	if (!res)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 1;
	}
	snprintf(c->kind, sizeof(c->kind), "%s", PQgetvalue(res, 0, 0));
	snprintf(c->recipient, sizeof(c->recipient), "%s",
	    PQgetvalue(res, 0, 1));
	c->params = json_tokener_parse(PQgetvalue(res, 0, 2));
	snprintf(c->message_id, sizeof(c->message_id), "%lld.%lld@dbtree",
	    (long long)id, (long long)db_get_i64(res, 0, 3));
	c->lang = LANG_EN;
	lang_parse(PQgetvalue(res, 0, 4), &c->lang);
	PQclear(res);
	return 0;
}

static void
finish(struct db *db, int64_t id, const char *status, const char *error)
{
	char ids[24];
	const char *params[] = { ids, error, status };

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	if (strcmp(status, "pending") == 0)
		PQclear(db_exec(db, "UPDATE mail_outbox SET last_error = $2,"
		    " status = CASE WHEN created_at < now() - interval '"
		    GIVE_UP_AFTER "' THEN 'failed' ELSE 'pending' END,"
		    " next_attempt_at = now() + least(interval '1 hour',"
		    " interval '30 seconds' * 2 ^ (attempts - 1))"
		    " WHERE id = $1", 2, params));
	else
		PQclear(db_exec(db, "UPDATE mail_outbox SET status = $3,"
		    " last_error = $2, sent_at = CASE WHEN $3 = 'sent'"
		    " THEN now() END WHERE id = $1", 3, params));
}

/* The login code for a login_code mail: the one just issued, or a fresh
 * one for a retry.  1 when the code is gone (used or expired). */
static int
code_for(struct db *db, const struct claimed *c, const char *code,
	 char out[LOGIN_CODE_LEN + 1])
{
	if (strcmp(c->kind, "login_code") != 0)
		return 0;
	if (code) {
		snprintf(out, LOGIN_CODE_LEN + 1, "%s", code);
		return 0;
	}
	return login_reissue(db, c->recipient, out);
}

/* Appends "<time> <recipient> <code>" to the file transport's code file,
 * 0600 whatever mode an older file had. */
static void
keep_code(const struct mailer *m, const char *to, const char *code)
{
	char path[PATH_MAX], when[32], line[512];
	int fd, n;

	snprintf(path, sizeof(path), "%s/login-codes.log", m->conf.file_dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		log_warn("login code file '%s': %s", path, strerror(errno));
		return;
	}
	clock_rfc3339(when, sizeof(when), clock_now());
	n = snprintf(line, sizeof(line), "%s %s %s\n", when, to, code);
	if (fchmod(fd, 0600) < 0 || n < 0 || (size_t)n >= sizeof(line) ||
	    write(fd, line, (size_t)n) != n)
		log_warn("login code file '%s': not written", path);
	close(fd);
}

/* A goodbye mail's backups each get a one-use link, made now (a retry
 * makes new ones): the token lives only in the mail. */
static int
add_backup_links(struct db *db, const struct claimed *c)
{
	struct json_object *list;
	char token[BACKUP_TOKEN_LEN + 1];

	if (strcmp(c->kind, "goodbye") != 0 ||
	    !json_object_object_get_ex(c->params, "backups", &list) ||
	    !json_object_is_type(list, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *b = json_object_array_get_idx(list, i), *id;

		if (!json_object_object_get_ex(b, "id", &id) ||
		    backup_link_for_mail(db, json_object_get_string(id),
		    token) < 0)
			return -1;
		json_object_object_add(b, "token",
		    json_object_new_string(token));
	}
	return 0;
}

static int
deliver(const struct mailer *m, const struct claimed *c, const char *code)
{
	struct mail_content mc;
	struct mail_msg msg;
	int ret;

	mails_init(&mc);
	ret = mails_render(c->kind, c->lang, c->params, code, m->site_url,
	    &mc);
	if (ret == 0) {
		msg = (struct mail_msg){ m->from, c->recipient,
			buf_cstr(&mc.subject), buf_cstr(&mc.text),
			buf_cstr(&mc.html), c->message_id };
		ret = mail_send(m->curl, &m->conf, &msg);
	}
	if (ret == MAIL_SENT && m->keep_codes && *code)
		keep_code(m, c->recipient, code);
	mails_release(&mc);
	return ret;
}

int
outbox_send(struct db *db, const struct mailer *m, int64_t id,
	    const char *code)
{
	struct claimed c = { 0 };
	char fresh[LOGIN_CODE_LEN + 1] = "";
	int ret = claim(db, id, &c);

	if (ret != 0)
		return ret < 0 ? -1 : 0;
	ret = code_for(db, &c, code, fresh);
	if (ret == 0 && add_backup_links(db, &c) < 0)
		ret = -1;
	if (ret == 1) {
		finish(db, id, "dropped", "login code no longer valid");
		ret = 0;
	} else if (ret == 0) {
		ret = deliver(m, &c, fresh);
		if (ret == MAIL_SENT)
			finish(db, id, "sent", NULL);
		else if (ret == MAIL_REJECTED)
			finish(db, id, "failed", "recipient refused");
		else
			finish(db, id, "pending", "temporary failure");
		ret = ret == MAIL_SENT || ret == MAIL_REJECTED ? 0 : -1;
	}
	json_object_put(c.params);
	return ret;
}

int64_t
outbox_run(struct db *db, const struct mailer *m, int64_t deadline_ms)
{
	PGresult *res = db_exec(db, "SELECT id, kind, coalesce(trace_parent,"
	    " '') FROM mail_outbox"
	    " WHERE status = 'pending' AND next_attempt_at <= now()"
	    " ORDER BY next_attempt_at LIMIT 100", 0, NULL);
	int64_t sent = 0;

	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		char name[64];
		int span;

		if (clock_mono_ms() >= deadline_ms)
			break;
		/* in the trace of what queued it: "... -> ready mail" */
		snprintf(name, sizeof(name), "mail %s", PQgetvalue(res, i, 1));
		span = trace_span_from(PQgetvalue(res, i, 2), name,
		    TRACE_INTERNAL);
		if (outbox_send(db, m, db_get_i64(res, i, 0), NULL) == 0)
			sent++;
		else
			trace_fail(span, "not sent");
		trace_span_end(span);
	}
	PQclear(res);
	return sent;
}
