/*
 * dbtreectl: the maintenance program.
 *
 *	dbtreectl migrate		apply pending sql/migrations, load
 *					the shipped quiz bank, hang quizzes
 *	dbtreectl jobs [--loop S] [--only JOB] [--pass N] [--every S]
 *					run the jobs once (or forever, S
 *					seconds apart; or claiming pass N)
 *	dbtreectl quiz import FILE	add or update quizzes (JSON Lines)
 *	dbtreectl quiz list		show the quiz bank
 *	dbtreectl user grant EMAIL N	give a person N lemons
 *	dbtreectl tls init		make the instances' certificate
 *					authority unless it exists
 *	dbtreectl help
 *
 * Configuration comes from the same environment variables as the pools.
 * Each job runs under its own advisory lock (see store/jobs.h), so the
 * systemd timer may fire on every host.  A loop (--loop S) numbers its
 * passes by the wall clock and claims each job's pass before running it,
 * so hosts looping together run each job once per pass between them.
 */
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/changes.h"
#include "base/clock.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/meter.h"
#include "base/trace.h"
#include "base/xalloc.h"
#include "store/db.h"
#include "store/jobs.h"
#include "store/kv.h"
#include "store/migrate.h"
#include "domain/account.h"
#include "domain/achieve.h"
#include "domain/billing.h"
#include "domain/game.h"
#include "domain/gauges.h"
#include "domain/golden.h"
#include "domain/ledger.h"
#include "domain/outbox.h"
#include "domain/quiz.h"
#include "domain/session.h"
#include "domain/tree.h"
#include "net/otlp.h"
#include "prov/backup_run.h"
#include "prov/certs.h"
#include "prov/reconcile.h"
#include "prov/tls.h"
#include "web/app.h"
#include "web/live.h"
#include "web/metrics.h"

#define MIGRATE_STATEMENT_TIMEOUT_MS 600000
#define BACKUP_STEP_TIMEOUT_MS (6 * 3600 * 1000LL)	/* one dump or restore */
#define BACKUP_READY_WAIT_MS 60000	/* a stopped instance's last copy */

/* The process's resources, for the jobs that need more than db and kv. */
static struct app app;
/* Where the jobs' spans go, with DBTREE_OTLP_ENDPOINT (else unused). */
static struct otlp otlp;

static int
job_mail(struct job_ctx *ctx)
{
	int64_t n = outbox_run(ctx->db, &app.mailer, ctx->deadline_ms);

	if (n > 0)
		log_info("mail: %lld sent", (long long)n);
	return n < 0 ? -1 : 0;
}

/* The sweeps are bookkeeping: each yields after this long, so that a
 * backlog (hours without a pass) does not hold up the jobs behind it; the
 * rest goes over the next passes. */
#define SWEEP_SLICE_MS 1000

static int64_t
slice_end(const struct job_ctx *ctx)
{
	int64_t until = clock_mono_ms() + SWEEP_SLICE_MS;

	return until < ctx->deadline_ms ? until : ctx->deadline_ms;
}

static int
job_sessions(struct job_ctx *ctx)
{
	int64_t n = session_sweep(ctx->db, slice_end(ctx));

	if (n > 0)
		log_info("sessions: %lld expired rows removed", (long long)n);
	return n < 0 ? -1 : 0;
}

/* Regrowth, quizzes for lemons without one, then the golden lemon (after
 * the fill, so that it finds the tree hung). */
static int
job_regrow(struct job_ctx *ctx)
{
	struct tree_status before;
	int n, g, seen = tree_status(ctx->db, &before);

	n = tree_regrow(ctx->db);
	if (n > 0)
		log_info("regrow: %d lemons grew back", n);
	if (n < 0 || tree_fill_quizzes(ctx->db) < 0)
		return -1;
	g = golden_pass(ctx->db, app.game.golden_per_day);
	if (g >= 0)
		log_info("regrow: the lemon at %d is golden", g);
	/* open pages see what changed (a lost event is logged; pages poll) */
	live_tree(&app, seen == 0 ? &before : NULL);
	return g == -1 ? -1 : 0;
}

static int
job_sweep(struct job_ctx *ctx)
{
	int64_t n = game_sweep(ctx->db, ctx->kv, &app.game, slice_end(ctx));

	if (n > 0)
		log_info("sweep: %lld quiz attempts closed", (long long)n);
	return n < 0 ? -1 : 0;
}

static int
job_reconcile(struct job_ctx *ctx)
{
	struct reconcile_conf rc = { app.conf.provision_timeout_s,
		app.conf.public_db_host, ctx->deadline_ms, app.conf.port_min,
		app.conf.port_max, app.conf.reserved_ports };
	struct reconcile_stats st;

	if (!app.prov)
		return -1;
	if (reconcile_run(ctx->db, app.prov, &rc, &st) < 0)
		return -1;
	gauges_set(ctx->db, "reconcile_orphans", (double)st.orphans);
	gauges_set(ctx->db, "reconcile_instances", (double)st.rows);
	if (st.applied || st.destroyed || st.ready || st.errors)
		log_info("reconcile: %lld instances, %lld applied, %lld ready,"
		    " %lld failed, %lld removed, %lld orphans", (long long)st.rows,
		    (long long)st.applied, (long long)st.ready,
		    (long long)st.errors, (long long)st.destroyed,
		    (long long)st.orphans);
	return 0;
}

/* Instance certificates that expire within DBTREE_TLS_RENEW_DAYS, or
 * name another host, are renewed; the servers keep running. */
/* The CA's expiry, for /metrics; left as it was when the CA cannot be
 * read (logged). */
static void
record_ca_expiry(struct db *db)
{
	char dir[4096], *pem;
	time_t end;

	if (tls_dir(&app.conf, dir, sizeof(dir)) < 0)
		return;
	pem = tls_ca_pem(dir);
	if (!pem)
		return;
	if (tls_cert_expiry(pem, &end) == 0)
		gauges_set(db, "tls_ca_expiry_timestamp_seconds", (double)end);
	free(pem);
}

static int
job_certs(struct job_ctx *ctx)
{
	struct certs_stats st;

	if (!app.prov)
		return -1;
	record_ca_expiry(ctx->db);
	if (certs_renew(ctx->db, app.prov, app.conf.tls_renew_days * 86400,
	    ctx->deadline_ms, &st) < 0)
		return -1;
	/* 0 when no instance has a certificate the driver knows of */
	gauges_set(ctx->db, "tls_certificate_earliest_expiry_timestamp_seconds",
	    (double)st.earliest_expiry);
	if (st.renewed || st.failed)
		log_info("certs: %lld instances, %lld renewed, %lld failed",
		    (long long)st.checked, (long long)st.renewed,
		    (long long)st.failed);
	return 0;
}

static int
job_backups(struct job_ctx *ctx)
{
	char dir[4096];
	struct backup_conf bc = { dir, app.conf.backup_final_keep_s,
		app.conf.backup_daily_keep, BACKUP_STEP_TIMEOUT_MS,
		BACKUP_READY_WAIT_MS, app.conf.socket_group };
	struct backup_stats st;

	if (!app.prov)
		return -1;
	if (app.conf.backup_dir[0])
		snprintf(dir, sizeof(dir), "%s", app.conf.backup_dir);
	else
		snprintf(dir, sizeof(dir), "%s/backups", app.conf.state_dir);
	if (backup_run_pass(ctx->db, app.prov, &bc, ctx->deadline_ms, &st) < 0)
		return -1;
	if (st.taken || st.failed || st.restored || st.restore_failed ||
	    st.removed || st.recovered)
		log_info("backups: %lld taken, %lld failed, %lld restored,"
		    " %lld restores failed, %lld files removed, %lld recovered",
		    (long long)st.taken, (long long)st.failed,
		    (long long)st.restored, (long long)st.restore_failed,
		    (long long)st.removed, (long long)st.recovered);
	return 0;
}

static int
job_bill(struct job_ctx *ctx)
{
	struct billing_rules r = { app.conf.billing_period_s,
		app.conf.pause_grace_s };
	struct billing_stats st;
	int n;

	if (billing_run(ctx->db, &r, ctx->deadline_ms, &st) < 0)
		return -1;
	n = achieve_billing_pass(ctx->db, app.conf.billing_period_s,
	    app.conf.lemon_cap);
	if (n > 0)
		log_info("bill: %d earned a week of a running database", n);
	if (st.charged || st.paused || st.resumed || st.warned || st.deleted)
		log_info("bill: %lld charged, %lld paused, %lld resumed,"
		    " %lld warned, %lld deleted", (long long)st.charged,
		    (long long)st.paused, (long long)st.resumed,
		    (long long)st.warned, (long long)st.deleted);
	return n < 0 ? -1 : 0;
}

/* Every job, in the order one pass runs them.  Later capabilities add
 * their rows here. */
static const struct job jobs[] = {
	{ "regrow", job_regrow, false },
	{ "sweep", job_sweep, false },
	{ "bill", job_bill, false },
	{ "reconcile", job_reconcile, false },
	{ "certs", job_certs, false },
	{ "mail", job_mail, false },
	{ "sessions", job_sessions, false },
	{ "backups", job_backups, true },
};

static volatile int stop;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* The shipped quiz bank, then a quiz on every lemon that lacks one. */
static int
load_seed(const struct conf *c, struct db *db)
{
	char path[4096];
	struct quiz_import_report r;

	snprintf(path, sizeof(path), "%s/seed/quizzes.jsonl", c->sql_dir);
	if (quiz_import(db, path, stderr, &r) < 0)
		return -1;
	if (r.rejected > 0)
		return fail("seed quizzes '%s': %lld lines rejected", path,
		    (long long)r.rejected);
	if (tree_fill_quizzes(db) < 0)
		return -1;
	printf("quizzes: %lld added, %lld updated\n", (long long)r.added,
	    (long long)r.updated);
	return 0;
}

static int
cmd_migrate(const struct conf *c, int argc, char **argv)
{
	char dir[4096];
	struct db db;
	int n;

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/migrations", c->sql_dir);
	db_open(&db, c->db_url, c->db_connect_timeout_s,
	    MIGRATE_STATEMENT_TIMEOUT_MS);
	n = migrate_run(&db, dir);
	if (n >= 0)
		printf("migrations: %d applied\n", n);
	if (n >= 0 && load_seed(c, &db) < 0)
		n = -1;
	db_close(&db);
	return n < 0 ? 1 : 0;
}

static int
cmd_quiz(const struct conf *c, int argc, char **argv)
{
	struct quiz_import_report r = { 0 };
	struct db db;
	int ret;

	if (!(argc == 2 && strcmp(argv[0], "import") == 0) &&
	    !(argc == 1 && strcmp(argv[0], "list") == 0))
		return fprintf(stderr, "usage: dbtreectl quiz import FILE |"
		    " dbtreectl quiz list\n"), 2;
	db_open(&db, c->db_url, c->db_connect_timeout_s,
	    c->db_statement_timeout_ms);
	if (argc == 1) {
		ret = quiz_list(&db, stdout) < 0 ? 1 : 0;
	} else {
		ret = quiz_import(&db, argv[1], stderr, &r) < 0 ? 1 : 0;
		if (ret == 0)
			printf("quizzes: %lld added, %lld updated, %lld"
			    " rejected\n", (long long)r.added,
			    (long long)r.updated, (long long)r.rejected);
		if (ret == 0 && (r.rejected > 0 || tree_fill_quizzes(&db) < 0))
			ret = 1;
	}
	db_close(&db);
	return ret;
}

/* One pass over every job (or only the one named); returns the number that
 * failed. */
static int
jobs_pass(struct job_ctx *ctx, int64_t budget_ms, const char *only)
{
	int failed = 0;

	trace_begin(NULL, NULL, only ? "jobs pass (alone)" : "jobs pass",
	    TRACE_INTERNAL);
	log_set_trace(trace_id_hex());
	for (size_t i = 0; i < ARRAY_LEN(jobs) && !stop; i++) {
		if (!(only ? strcmp(only, jobs[i].name) == 0 : !jobs[i].alone))
			continue;
		if (jobs_run_one(ctx, &jobs[i], budget_ms) < 0)
			failed++;
		if (otlp.curl)	/* each job's spans, as it ends */
			otlp_flush(&otlp);
	}
	trace_finish();
	log_set_trace(NULL);
	if (otlp.curl)
		otlp_flush(&otlp);
	return failed;
}

/* The jobs' operation metrics (kept from run to run) and, with
 * DBTREE_OTLP_ENDPOINT, their traces. */
static void
jobs_observe(const struct conf *c)
{
	metrics_meter_attach(c->run_dir, "jobs", true);
	changes_attach(c->run_dir);	/* the pools' caches learn what moved */
	if (c->otlp_endpoint[0] && otlp_open(&otlp, c->otlp_endpoint,
	    c->otlp_timeout_ms, "jobs") == 0)
		trace_setup(c->trace_sampling, otlp_batch_sink, &otlp);
}

static bool
is_job(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(jobs); i++)
		if (strcmp(name, jobs[i].name) == 0)
			return true;
	return false;
}

/* The loop's passes are numbered by the wall clock, one per period: every
 * host that loops with the same period numbers them alike, and the pass
 * claim (store/jobs.h) lets one run each.  A pass starts a tenth of the
 * period into its slot, so a wake-up a little early or late still lands
 * in the slot it was meant for. */
static int64_t
loop_pass(int64_t period_ms)
{
	return clock_epoch_ms() / period_ms;
}

/* Numbers the loop's next pass.  A pass that outran its period lets the
 * slots after it go by (as a timer does): those are told, so an operator
 * sees the period is too short, and a test can tell a slot no host started
 * from a pass that went missing. */
static void
loop_next(struct job_ctx *ctx, long loop_s)
{
	int64_t pass = loop_pass(loop_s * 1000);

	if (ctx->pass > 0 && pass > ctx->pass + 1)
		log_warn("jobs: passes %lld to %lld let go: pass %lld ran past"
		    " its %ld s period", (long long)(ctx->pass + 1),
		    (long long)(pass - 1), (long long)ctx->pass, loop_s);
	ctx->pass = pass;
}

static void
loop_wait(int64_t period_ms)
{
	int64_t now = clock_epoch_ms();
	int64_t next = (now / period_ms + 1) * period_ms + period_ms / 10;

	clock_sleep_ms(next - now, &stop);
}

/* dbtreectl jobs [--loop S] [--only JOB] [--pass N] [--every S]: --pass
 * claims pass N (what the loop does itself; tests use it to make two
 * claimants meet); --every S claims the pass of now for a period of S
 * seconds, once (the systemd timer of every host: they share passes as
 * loops do). */
static int
jobs_args(int argc, char **argv, long *loop_s, const char **only,
	  int64_t *pass)
{
	long every_s;

	for (int i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--loop") == 0)
			*loop_s = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--every") == 0 &&
		    (every_s = strtol(argv[i + 1], NULL, 10)) > 0)
			*pass = loop_pass(every_s * 1000);
		else if (strcmp(argv[i], "--only") == 0 && is_job(argv[i + 1]))
			*only = argv[i + 1];
		else if (strcmp(argv[i], "--pass") == 0)
			*pass = strtoll(argv[i + 1], NULL, 10);
		else
			return -1;
	}
	if (argc % 2 != 0 || *loop_s < 0 || *pass < 0 ||
	    (*loop_s > 0 && *pass > 0))
		return -1;
	return 0;
}

/* The reconcile pass parses its lists into json-c trees of hundreds of
 * thousands of small objects a page and frees each page whole.  Without
 * fastbins glibc coalesces those chunks as they are freed rather than all
 * at the next large request (malloc_consolidate), and with a high trim
 * threshold and top pad it keeps the heap between pages rather than giving
 * it back and faulting it in again: at 10,000 instances a pass took about
 * 1.7 s of CPU and takes 1.3 s, the peak resident set unchanged. */
static void
tune_malloc(void)
{
	mallopt(M_MXFAST, 0);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
	mallopt(M_TOP_PAD, 64 * 1024 * 1024);
}

static int
cmd_jobs(const struct conf *c, int argc, char **argv)
{
	struct job_ctx ctx = { c, &app.db, &app.kv, 0, 0 };
	const char *only = NULL;
	long loop_s = 0;
	int failed;

	if (jobs_args(argc, argv, &loop_s, &only, &ctx.pass) < 0)
		return fprintf(stderr, "usage: dbtreectl jobs [--loop SECONDS]"
		    " [--only JOB] [--pass N] [--every SECONDS]\n"), 2;
	tune_malloc();
	app_open(&app, c);
	jobs_observe(c);
	do {
		if (loop_s > 0)
			loop_next(&ctx, loop_s);
		failed = jobs_pass(&ctx, c->job_budget_s * 1000, only);
		if (loop_s > 0)
			loop_wait(loop_s * 1000);
	} while (loop_s > 0 && !stop);
	trace_setup(0, NULL, NULL);
	otlp_close(&otlp);
	meter_detach();
	app_close(&app);
	return failed ? 1 : 0;
}

static int
cmd_help(const struct conf *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	printf("usage: dbtreectl COMMAND [ARGS]\n\n"
	    "  migrate                 apply pending database migrations and"
	    " load the quiz bank\n"
	    "  jobs [--loop SECONDS] [--only JOB] [--pass N] [--every SECONDS]\n"
	    "                          run the maintenance jobs once, or"
	    " forever\n"
	    "  quiz import FILE        add or update quizzes from JSON Lines\n"
	    "  quiz list               show the quiz bank\n"
	    "  user grant EMAIL N      give a person N lemons (ledger row"
	    " 'grant')\n"
	    "  tls init                make the instances' certificate"
	    " authority (once)\n"
	    "  help                    this text\n\njobs:");
	for (size_t i = 0; i < ARRAY_LEN(jobs); i++)
		printf(" %s", jobs[i].name);
	printf("\n");
	return 0;
}

/* dbtreectl user grant EMAIL AMOUNT: lemons for a person (operators,
 * tests), through the ledger like every other movement. */
static int
cmd_user(const struct conf *c, int argc, char **argv)
{
	char note[] = "granted by an operator", *end;
	char email[EMAIL_MAX + 1], id[USER_ID_LEN + 1];
	struct ledger_move m = { .action = "grant", .note = note };
	struct db db;
	int r, ret = 1;

	if (argc != 3 || strcmp(argv[0], "grant") != 0 ||
	    email_normalize(argv[1], email, sizeof(email)) < 0 ||
	    (m.amount = strtoll(argv[2], &end, 10)) <= 0 || *end)
		return fprintf(stderr, "usage: dbtreectl user grant EMAIL"
		    " AMOUNT (a positive whole number)\n"), 2;
	db_open(&db, c->db_url, c->db_connect_timeout_s,
	    c->db_statement_timeout_ms);
	r = account_find(&db, email, id);
	m.user_id = id;
	if (r == ACCOUNT_NONE)
		fprintf(stderr, "dbtreectl: no account for '%s'\n", email);
	else if (r == ACCOUNT_OK && ledger_move(&db, &m) == LEDGER_OK) {
		if (changes_attach(c->run_dir) == 0)
			changes_note(id);
		printf("%s: +%lld, balance %lld\n", email,
		    (long long)m.applied, (long long)m.balance);
		ret = 0;
	}
	db_close(&db);
	return ret;
}

/* dbtreectl tls init: the CA of DBTREE_TLS_DIR, made once (every start
 * path runs it: bin/dbtree-local start, dbtree-jobs.service before each
 * pass). */
static int
cmd_tls(const struct conf *c, int argc, char **argv)
{
	char dir[4096];

	if (argc != 1 || strcmp(argv[0], "init") != 0)
		return fprintf(stderr, "usage: dbtreectl tls init\n"), 2;
	if (tls_dir(c, dir, sizeof(dir)) < 0 || tls_ca_ensure(dir) < 0)
		return 1;
	printf("tls: certificate authority in %s/" TLS_CA_CERT "\n", dir);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(const struct conf *c, int argc, char **argv);
} commands[] = {
	{ "migrate", cmd_migrate },
	{ "jobs", cmd_jobs },
	{ "quiz", cmd_quiz },
	{ "user", cmd_user },
	{ "tls", cmd_tls },
	{ "help", cmd_help },
};

int
main(int argc, char **argv)
{
	struct conf c;

	log_set_ident("dbtreectl");
	if (conf_load(&c) < 0)
		return 2;
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; argc >= 2 && i < ARRAY_LEN(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(&c, argc - 2, argv + 2);
	cmd_help(&c, 0, NULL);
	return 2;
}
