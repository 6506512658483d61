/* Process-lifetime resources and the settings derived from configuration. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/pause.h"
#include "domain/gameday.h"
#include "web/app.h"

static void
app_mailer(struct app *app, const struct conf *c)
{
	struct mailer *m = &app->mailer;

	if (c->mail_dir[0])
		snprintf(app->mail_dir, sizeof(app->mail_dir), "%s",
		    c->mail_dir);
	else
		snprintf(app->mail_dir, sizeof(app->mail_dir), "%s/mail",
		    c->state_dir);
	m->conf = (struct mail_conf){
		.transport = strcmp(c->mail_transport, "smtp") == 0 ?
		    MAIL_SMTP : MAIL_FILE,
		.smtp_url = c->smtp_url,
		.smtp_user = c->smtp_user,
		.smtp_password = c->smtp_password,
		.smtp_require_tls = c->smtp_require_tls,
		.file_dir = app->mail_dir,
		.timeout_ms = c->smtp_timeout_ms,
		.connect_timeout_ms = c->smtp_timeout_ms / 2,
	};
	m->curl = app->curl;
	m->from = c->mail_from;
	m->admin = c->admin_email;
	m->site_url = c->site_url;
	m->keep_codes = m->conf.transport == MAIL_FILE;
	if (m->conf.transport == MAIL_FILE && mkdir(app->mail_dir, 0700) < 0 &&
	    errno != EEXIST)
		log_warn("create mail folder '%s': %m", app->mail_dir);
}

static void
app_login(struct app *app, const struct conf *c)
{
	app->login = (struct login_policy){
		.code_ttl_s = c->login_code_ttl_s,
		.max_tries = c->login_max_tries,
		.send_limit = c->login_send_limit,
		.send_window_s = c->login_send_window_s,
		.resend_s = c->login_resend_s,
		.session_ttl_s = c->session_ttl_s,
		.welcome_bonus = c->welcome_bonus,
		.lemon_cap = c->lemon_cap,
	};
	if (c->disposable_domains[0])
		snprintf(app->blocklist, sizeof(app->blocklist), "%s",
		    c->disposable_domains);
	else
		snprintf(app->blocklist, sizeof(app->blocklist),
		    "%s/data/disposable_domains.txt", c->sql_dir);
	email_rules_load(&app->email, app->blocklist, c->mx_check);
	app->game = (struct game_rules){
		.amount = c->harvest_amount,
		.cooldown_s = c->harvest_cooldown_s,
		.regrow_s = c->regrow_delay_s,
		.click_window_ms = c->click_window_ms,
		.grace_s = c->quiz_grace_s,
		.cap = c->lemon_cap,
		.streak_bonus = { c->streak_bonus[0], c->streak_bonus[1],
		    c->streak_bonus[2] },
		.golden_per_day = c->golden_per_day,
	};
}

void
app_open(struct app *app, const struct conf *conf)
{
	memset(app, 0, sizeof(*app));
	app->conf = *conf;
	pause_setup(conf->test_pause_dir);
	gameday_setup(conf->time_zone);
	db_open(&app->db, conf->db_url, conf->db_connect_timeout_s,
	    conf->db_statement_timeout_ms);
	kv_open(&app->kv, conf->redis, conf->redis_timeout_ms);
	app->curl = curl_easy_init();
	events_open(&app->events, conf->events_publish,
	    conf->events_timeout_ms);
	app->live_fd = -1;	/* a pool's worker gets its master's */
	app_mailer(app, conf);
	app_login(app, conf);
	app->prov = prov_open(conf);
}

void
app_close(struct app *app)
{
	db_close(&app->db);
	kv_close(&app->kv);
	curl_easy_cleanup(app->curl);
	app->curl = NULL;
	events_close(&app->events);
	email_rules_release(&app->email);
	prov_close(app->prov);
	app->prov = NULL;
}
