/*
 * Configuration: environment variables only, read once at startup through
 * one table (conf.c) of { name, type, default, min, max, field }.  A bad
 * value stops the program with a message naming the variable.  Nothing
 * calls getenv() later and there is no reload: restart the unit.
 *
 * To add a setting: a field here, a row in the table in conf.c, a line in
 * the README's configuration table.
 */
#ifndef BASE_CONF_H
#define BASE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf {
	/* where things live */
	const char *state_dir;		/* DBTREE_STATE_DIR */
	const char *run_dir;		/* DBTREE_RUN_DIR: sockets, metrics */
	const char *sql_dir;		/* DBTREE_SQL_DIR: migrations, seeds */
	/* PostgreSQL */
	const char *db_url;		/* DBTREE_DB: libpq conninfo or URI */
	int64_t db_connect_timeout_s;
	int64_t db_statement_timeout_ms;
	/* Redis */
	const char *redis;		/* host:port or /path/to/socket */
	int64_t redis_timeout_ms;
	/* pools */
	int64_t workers;
	int64_t tree_workers;	/* the tree pool's (its clicks wait on a
				 * lemon's row for each other) */
	int64_t max_body;
	int64_t shutdown_grace_ms;
	int64_t ready_timeout_ms;
	const char *socket_group;
	/* jobs */
	int64_t job_budget_s;
	/* mail */
	const char *site_url;		/* links in mails */
	const char *mail_transport;	/* smtp | file */
	const char *mail_dir;		/* file transport; "" = <state>/mail */
	const char *mail_from;
	const char *admin_email;
	const char *smtp_url;
	const char *smtp_user;
	const char *smtp_password;
	bool smtp_require_tls;
	int64_t smtp_timeout_ms;
	/* login */
	const char *disposable_domains;	/* "" = <sql>/data/... */
	bool mx_check;
	int64_t login_code_ttl_s;
	int64_t login_max_tries;
	int64_t login_send_limit;
	int64_t login_send_window_s;
	int64_t login_resend_s;
	int64_t session_ttl_s;
	/* lemons */
	int64_t welcome_bonus;
	int64_t lemon_cap;
	/* the tree */
	int64_t harvest_amount;
	int64_t harvest_cooldown_s;
	int64_t regrow_delay_s;
	int64_t click_window_ms;
	int64_t quiz_grace_s;
	int64_t status_cache_ms;
	/* the game around the harvest (domain/game.h, domain/golden.h) */
	const char *time_zone;		/* the game's days: a tz database name */
	int64_t streak_bonus[3];	/* lemons at 3, 7 and 30 days in a row */
	int64_t golden_per_day;		/* golden lemons a day; 0 = none */
	const char *events_publish;	/* DBTREE_EVENTS_PUBLISH: nchan publishers */
	int64_t events_timeout_ms;
	int64_t events_window_ms;	/* the relay's shortest window */
	int64_t events_us_per_page;	/* ... and its growth per open page */
	/* traces (base/trace.h, net/otlp.h) */
	const char *otlp_endpoint;	/* OTLP/HTTP traces URL; "" = off */
	int64_t otlp_timeout_ms;
	double trace_sampling;		/* share of traces kept (errors: all) */
	/* database instances */
	const char *provisioner;	/* local | kubernetes */
	const char *instance_dir;	/* local: "" = <state>/instances */
	const char *instance_user;	/* local: run instances as this user */
	const char *instance_agent;	/* local: that user's agent (socket) */
	const char *instance_bind;	/* local: address instances listen on */
	const char *public_db_host;	/* host in connection strings */
	int64_t port_min, port_max;
	const char *reserved_ports;	/* comma-separated */
	int64_t capacity_cpu_milli, reserved_cpu_milli;
	int64_t capacity_memory_mb, reserved_memory_mb;
	int64_t instance_quota;
	int64_t billing_period_s;
	int64_t pause_grace_s;		/* paused this long: deleted */
	int64_t provision_timeout_s;	/* provisioning this long: error */
	/* TLS of database instances (prov/tls.h) */
	const char *tls_dir;		/* the CA; "" = <state>/tls */
	int64_t tls_cert_days;		/* validity of a server certificate */
	int64_t tls_renew_days;		/* renewed this close to expiry */
	/* backups */
	const char *backup_dir;		/* "" = <state>/backups */
	int64_t backup_cost;		/* lemons for one taken on demand */
	int64_t backup_daily_keep;	/* daily backups kept per instance */
	int64_t backup_final_keep_s;	/* a deleted instance's last dump */
	int64_t backup_link_ttl_s;	/* download links from the dashboard */
	/* kubernetes driver */
	const char *k8s_api;		/* "" = in-cluster (service account) */
	const char *k8s_token_file;
	const char *k8s_ca_file;
	const char *k8s_client_cert;
	const char *k8s_client_key;
	const char *k8s_namespace;
	const char *k8s_image_postgres;
	const char *k8s_image_redis;
	const char *k8s_image_mongodb;
	const char *k8s_storage_class;	/* "" = the cluster's default */
	const char *k8s_cert_issuer;	/* cert-manager issuer; "" = dbtree
					 * issues the certificates */
	const char *k8s_cert_issuer_kind;	/* Issuer | ClusterIssuer */
	int64_t k8s_timeout_ms;
	int64_t k8s_page_size;		/* items per list request (limit) */
	/* logging */
	const char *log_level;
	/* per-person limits on costly routes (web/limit.h); off only for
	 * benchmarks that drive one account hard */
	bool route_limits;
	/* tests only: pause points (base/pause.h); "" = off */
	const char *test_pause_dir;
};

/* Fills c from the environment (defaults for unset variables).  Returns 0,
 * or -1 after printing which variable is wrong and why. */
int conf_load(struct conf *c);
/* Same, reading variables through lookup (for tests). */
int conf_load_from(struct conf *c, const char *(*lookup)(const char *));
/* True when name is a time zone of the tz database installed here
 * (/usr/share/zoneinfo), or "UTC". */
bool conf_is_time_zone(const char *name);

#include "base/banned.h"
#endif
