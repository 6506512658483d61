/*
 * The instance state machine (see lifecycle.h).  One table says, per
 * event, where it may start from and the statement that makes it; every
 * statement shares one guard (the row, its allowed statuses and desired
 * states, its owner, the intent the caller saw), so a move is one round
 * trip that either happens whole or not at all.  Only when nothing moved
 * does a second statement look at the row, to tell the caller why.
 *
 * Under a test setting (base/pause.h) every move can be held just before
 * its statement ("lc.<event>.before") and just after it, inside the
 * caller's transaction with the row locked ("lc.<event>.after").
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/pause.h"
#include "base/trace.h"
#include "domain/lifecycle.h"
#include "store/db.h"

#define S(x) (1u << LC_##x)
#define W(x) (1u << LC_WANT_##x)
#define LIVE_STATUS (S(PROVISIONING) | S(RUNNING) | S(PAUSED) | S(STOPPED) | \
	S(ERROR) | BUSY)
/* a backup or a restore is under way: the runner owns the instance */
#define BUSY (S(BACKING_UP) | S(RESTORING))
#define SETTLED (S(RUNNING) | S(PAUSED) | S(STOPPED))
#define NOT_DELETED (W(RUNNING) | W(STOPPED) | W(PAUSED))

/* $1 row id, $2 allowed statuses, $3 allowed desired states, $4 owner or
 * NULL, $5 the intent_seq seen or -1, $6 a status_reason or NULL (every
 * statement names all six, so that each prepares with six parameters);
 * a change of intent also takes $7, the traceparent of the work making it,
 * which the reconciler continues. */
#define GUARD " WHERE id = $1::bigint AND status = ANY($2::db_status[])" \
	" AND desired = ANY($3::db_desired[])" \
	" AND ($4::uuid IS NULL OR user_id = $4::uuid)" \
	" AND ($5::bigint < 0 OR intent_seq = $5::bigint)" \
	" RETURNING status, desired, deleted_at IS NOT NULL, intent_seq"
#define MOVE(set) "UPDATE db_instances SET " set GUARD
/* an intent change: the reconciler's older observations no longer apply */
#define INTENT_WITH(tp) "intent_seq = intent_seq + 1, updated_at = now()," \
	" desired_at = now(), trace_parent = " tp "::text, "
#define INTENT INTENT_WITH("$7")
#define DELETE_NOW "status = 'deleting', desired = 'deleted'," \
	" deleted_at = now(), failures = 0, retry_at = now(), "

struct lc_rule {
	const char *name;
	unsigned from;		/* statuses (bits of enum lc_status) */
	unsigned want;		/* desired states (bits of enum lc_desired) */
	const char *sql;
	bool lock_only;		/* writes nothing but status_reason: the
				 * event may lock a set (lifecycle_lock_all) */
};

static const struct lc_rule rules[LC_EVENT_COUNT] = {
	[LC_START] = { "start", SETTLED, W(STOPPED) | W(PAUSED),
	    MOVE(INTENT "desired = 'running', scaled_down = false,"
	    " paused_at = NULL, delete_warned = false, failures = 0,"
	    " retry_at = now(), status_reason = coalesce($6, 'started by you')") },
	[LC_STOP] = { "stop", SETTLED, W(RUNNING) | W(PAUSED),
	    MOVE(INTENT "desired = 'stopped', restart_requested = false,"
	    " paused_at = NULL, failures = 0, retry_at = now(),"
	    " status_reason = coalesce($6, 'stopped by you')") },
	[LC_RESTART] = { "restart", S(RUNNING), W(RUNNING),
	    MOVE(INTENT "restart_requested = true, failures = 0,"
	    " retry_at = now(),"
	    " status_reason = coalesce($6, 'restarted by you')") },
	[LC_DELETE] = { "delete", LIVE_STATUS, NOT_DELETED,
	    MOVE(INTENT DELETE_NOW
	    "status_reason = coalesce($6, 'deleted by you')") },
	[LC_ACCOUNT_DELETE] = { "account_delete", LIVE_STATUS, NOT_DELETED,
	    MOVE(INTENT DELETE_NOW
	    "status_reason = coalesce($6, 'account deleted')") },
	[LC_CREATE_UNDO] = { "create_undo", S(PROVISIONING), W(RUNNING),
	    MOVE(INTENT DELETE_NOW "destroyed_at = now(), port = NULL,"
	    " scaled_down = true,"
	    " status_reason = coalesce($6, 'could not be set up')") },
	[LC_CHARGE] = { "charge", S(RUNNING) | BUSY, W(RUNNING),
	    MOVE("status_reason = coalesce($6, status_reason)"), true },
	[LC_PAUSE] = { "pause", S(RUNNING), W(RUNNING),
	    MOVE(INTENT "desired = 'paused', paused_at = now(),"
	    " delete_warned = false, failures = 0, retry_at = now(),"
	    " status_reason = coalesce($6, 'paused: not enough lemons')") },
	[LC_RESUME] = { "resume", SETTLED, W(PAUSED),
	    MOVE(INTENT "desired = 'running', paused_at = NULL,"
	    " delete_warned = false, scaled_down = false, failures = 0,"
	    " retry_at = now(),"
	    " status_reason = coalesce($6, 'resumed: lemons topped up')") },
	[LC_WARN] = { "warn", SETTLED, W(PAUSED),
	    MOVE("delete_warned = true,"
	    " status_reason = coalesce($6, status_reason)") },
	[LC_EXPIRE] = { "expire", SETTLED, W(PAUSED),
	    MOVE(INTENT DELETE_NOW
	    "status_reason = coalesce($6, 'deleted: not enough lemons')") },
	[LC_SEEN_READY] = { "seen_ready", S(PROVISIONING), W(RUNNING),
	    MOVE("status = 'running', ready_at = now(), updated_at = now(),"
	    " failures = 0, status_reason = coalesce($6, '')") },
	[LC_SEEN_UP] = { "seen_up", S(STOPPED) | S(PAUSED), W(RUNNING),
	    MOVE("status = 'running', updated_at = now(),"
	    " status_reason = coalesce($6, status_reason)") },
	[LC_SEEN_STOPPED] = { "seen_stopped", S(RUNNING) | S(PAUSED),
	    W(RUNNING) | W(STOPPED),
	    MOVE("status = 'stopped', updated_at = now(),"
	    " scaled_down = desired <> 'running',"
	    " status_reason = coalesce($6, status_reason)") },
	[LC_SEEN_PAUSED] = { "seen_paused", S(RUNNING) | S(STOPPED), W(PAUSED),
	    MOVE("status = 'paused', updated_at = now(), scaled_down = true,"
	    " status_reason = coalesce($6, status_reason)") },
	[LC_NEVER_READY] = { "never_ready", S(PROVISIONING), W(RUNNING),
	    MOVE(INTENT "status = 'error', desired = 'stopped',"
	    " status_reason = coalesce($6, 'did not start')") },
	[LC_SEEN_FAILED] = { "seen_failed", SETTLED, W(RUNNING),
	    MOVE(INTENT "status = 'error', desired = 'stopped',"
	    " status_reason = coalesce($6, 'failed')") },
	[LC_DESTROYED] = { "destroyed", S(DELETING), W(DELETED),
	    MOVE("destroyed_at = now(), port = NULL, scaled_down = true,"
	    " status_reason = coalesce($6, status_reason)") },
	[LC_BACKUP_BEGIN] = { "backup_begin", S(RUNNING), W(RUNNING),
	    MOVE("status = 'backing_up', updated_at = now(),"
	    " status_reason = coalesce($6, 'taking a backup')") },
	[LC_BACKUP_END] = { "backup_end", S(BACKING_UP), NOT_DELETED,
	    MOVE("status = 'running', updated_at = now(),"
	    " status_reason = coalesce($6, '')") },
	[LC_RESTORE_BEGIN] = { "restore_begin", S(RUNNING), W(RUNNING),
	    MOVE("status = 'restoring', updated_at = now(),"
	    " status_reason = coalesce($6, 'restoring a backup')") },
	[LC_RESTORE_END] = { "restore_end", S(RESTORING), NOT_DELETED,
	    MOVE("status = 'running', updated_at = now(),"
	    " status_reason = coalesce($6, '')") },
};

static const char *const status_names[LC_STATUS_COUNT] = {
	[LC_PROVISIONING] = "provisioning", [LC_RUNNING] = "running",
	[LC_PAUSED] = "paused", [LC_STOPPED] = "stopped",
	[LC_ERROR] = "error", [LC_DELETING] = "deleting",
	[LC_MAINTENANCE] = "maintenance", [LC_BACKING_UP] = "backing_up",
	[LC_RESTORING] = "restoring", [LC_UPGRADING] = "upgrading",
};

static const char *const desired_names[LC_DESIRED_COUNT] = {
	[LC_WANT_RUNNING] = "running", [LC_WANT_STOPPED] = "stopped",
	[LC_WANT_PAUSED] = "paused", [LC_WANT_DELETED] = "deleted",
};

const char *
lc_status_name(enum lc_status s)
{
	return (unsigned)s < LC_STATUS_COUNT ? status_names[s] : "unknown";
}

const char *
lc_desired_name(enum lc_desired d)
{
	return (unsigned)d < LC_DESIRED_COUNT ? desired_names[d] : "unknown";
}

static int
parse_name(const char *const *names, int n, const char *text)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], text) == 0)
			return i;
	return -1;
}

int
lc_status_parse(const char *text, enum lc_status *s)
{
	int i = parse_name(status_names, LC_STATUS_COUNT, text);

	if (i < 0)
		return -1;
	*s = (enum lc_status)i;
	return 0;
}

int
lc_desired_parse(const char *text, enum lc_desired *d)
{
	int i = parse_name(desired_names, LC_DESIRED_COUNT, text);

	if (i < 0)
		return -1;
	*d = (enum lc_desired)i;
	return 0;
}

const char *
lc_event_name(enum lc_event ev)
{
	return (unsigned)ev < LC_EVENT_COUNT ? rules[ev].name : "unknown";
}

bool
lifecycle_allows(enum lc_event ev, enum lc_status s, enum lc_desired d)
{
	return (unsigned)ev < LC_EVENT_COUNT &&
	    (rules[ev].from & (1u << s)) && (rules[ev].want & (1u << d));
}

/* "{a,b}": the names of the bits in set, as a PostgreSQL array. */
static void
names_array(char *out, size_t size, unsigned set, const char *const *names,
	    int n)
{
	struct buf b = BUF_INIT(256);

	buf_adds(&b, "{");
	for (int i = 0; i < n; i++)
		if (set & (1u << i))
			buf_addf(&b, "%s%s", b.len > 1 ? "," : "",
			    names[i]);
	buf_adds(&b, "}");
	snprintf(out, size, "%s", buf_cstr(&b));
	buf_release(&b);
}

/* Reads row 0 of a "status, desired, deleted, intent_seq" result. */
static int
state_from(const PGresult *res, struct lc_state *st)
{
	st->deleted = PQgetvalue(res, 0, 2)[0] == 't';
	st->intent_seq = db_get_i64(res, 0, 3);
	if (lc_status_parse(PQgetvalue(res, 0, 0), &st->status) < 0 ||
	    lc_desired_parse(PQgetvalue(res, 0, 1), &st->desired) < 0)
		return fail("instance row: unknown status '%s' or desired '%s'",
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	return 0;
}

/* Nothing moved: why?  The row as it is now decides. */
static int
why_not(struct db *db, enum lc_event ev, const struct lc_target *t,
	const char *row, struct lc_state *st)
{
	const char *params[] = { row, t->user_id };
	PGresult *res = db_exec(db, "SELECT status, desired,"
	    " deleted_at IS NOT NULL, intent_seq FROM db_instances"
	    " WHERE id = $1::bigint AND ($2::uuid IS NULL OR user_id = $2::uuid)",
	    2, params);
	int ret;

	if (!res)
		return -1;
	if (PQntuples(res) != 1 || state_from(res, st) < 0)
		ret = t->user_id ? LC_NOT_FOUND : LC_LOST_RACE;
	else if (t->user_id && st->deleted)
		ret = LC_NOT_FOUND;
	else if (!t->user_id || t->seen_seq >= 0 ||
	    lifecycle_allows(ev, st->status, st->desired))
		ret = LC_LOST_RACE;
	else
		ret = LC_NOT_ALLOWED;
	PQclear(res);
	return ret;
}

static void
pause_at(enum lc_event ev, const char *when)
{
	char name[64];

	if (!pause_enabled())
		return;
	snprintf(name, sizeof(name), "lc.%s.%s", rules[ev].name, when);
	pause_point(name);
}

int
lifecycle_move(struct db *db, enum lc_event ev, const struct lc_target *t,
	       struct lc_state *out)
{
	char row[24], seq[24], from[256], want[128], tp[TRACE_PARENT_LEN];
	const char *params[] = { row, from, want, t->user_id, seq, t->reason,
		trace_current(tp) == 0 ? tp : NULL };
	char name[40];
	struct lc_state st = { 0 };
	PGresult *res;
	int ret;

	snprintf(row, sizeof(row), "%lld", (long long)t->row_id);
	snprintf(seq, sizeof(seq), "%lld", (long long)t->seen_seq);
	names_array(from, sizeof(from), rules[ev].from, status_names,
	    LC_STATUS_COUNT);
	names_array(want, sizeof(want), rules[ev].want, desired_names,
	    LC_DESIRED_COUNT);
	pause_at(ev, "before");
	snprintf(name, sizeof(name), "lifecycle.%s", rules[ev].name);
	if (!(res = db_exec_(db, name, rules[ev].sql,
	    strstr(rules[ev].sql, "$7") ? 7 : 6, params)))
		return -1;
	if (PQntuples(res) == 1)
		ret = state_from(res, &st) < 0 ? -1 : LC_MOVED;
	else
		ret = why_not(db, ev, t, row, &st);
	PQclear(res);
	if (ret == LC_MOVED)
		pause_at(ev, "after");
	if (out)
		*out = st;
	return ret;
}

int64_t
lifecycle_delete_all(struct db *db, const char *user_id)
{
	char tp[TRACE_PARENT_LEN];
	const char *params[] = { user_id, trace_current(tp) == 0 ? tp : NULL };
	PGresult *res;
	int64_t n;

	pause_at(LC_ACCOUNT_DELETE, "before");
	res = db_exec(db, "UPDATE db_instances SET " INTENT_WITH("$2")
	    DELETE_NOW " status_reason = 'account deleted'"
	    " WHERE user_id = $1::uuid AND desired <> 'deleted'", 2, params);
	if (!res)
		return -1;
	n = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	pause_at(LC_ACCOUNT_DELETE, "after");
	return n;
}

int
lifecycle_lock_all(struct db *db, enum lc_event ev, const int64_t *ids,
		   int n, int64_t *locked)
{
	char from[256], want[128];
	const char *params[] = { NULL, from, want };
	struct buf set = BUF_INIT((size_t)n * 21 + 3);
	PGresult *res = NULL;
	int ret = -1;

	assert((unsigned)ev < LC_EVENT_COUNT && rules[ev].lock_only);
	db_i64_array(&set, ids, (size_t)n);
	params[0] = buf_cstr(&set);
	names_array(from, sizeof(from), rules[ev].from, status_names,
	    LC_STATUS_COUNT);
	names_array(want, sizeof(want), rules[ev].want, desired_names,
	    LC_DESIRED_COUNT);
	pause_at(ev, "before");
	/* the same guard as the event's own statement, on every row of the
	 * set; FOR UPDATE waits for a writer holding a row and then rechecks
	 * the guard on the row it left.  In id order: two sets never wait
	 * for each other crosswise. */
	res = db_exec(db, "SELECT id FROM db_instances"
	    " WHERE id = ANY($1::bigint[]) AND status = ANY($2::db_status[])"
	    " AND desired = ANY($3::db_desired[]) ORDER BY id FOR UPDATE",
	    3, params);
	if (!res)
		goto out;
	for (int i = 0; i < PQntuples(res) && i < n; i++)
		locked[i] = db_get_i64(res, i, 0);
	ret = PQntuples(res) < n ? PQntuples(res) : n;
	if (ret > 0)
		pause_at(ev, "after");
out:
	PQclear(res);
	buf_release(&set);
	return ret;
}
