/*
 * The one configuration table.  Each row names an environment variable, its
 * type, default and bounds, and the struct conf field it fills.  Integers
 * are whole decimal numbers within [min, max]; enums list their values as
 * "a|b|c"; booleans are true/false/1/0/yes/no; ratios are decimal numbers
 * from 0 to 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"

enum conf_type { CONF_STR, CONF_INT, CONF_BOOL, CONF_ENUM, CONF_RATIO };

struct conf_var {
	const char *name;
	enum conf_type type;
	const char *def;
	int64_t min, max;	/* CONF_INT bounds; CONF_STR max length */
	const char *choices;	/* CONF_ENUM */
	size_t off;
};

#define F(field) offsetof(struct conf, field)

static const struct conf_var vars[] = {
	{ "DBTREE_STATE_DIR", CONF_STR, "./var", 1, 4096, NULL, F(state_dir) },
	{ "DBTREE_RUN_DIR", CONF_STR, "/run/dbtree", 1, 90, NULL, F(run_dir) },
	{ "DBTREE_SQL_DIR", CONF_STR, "sql", 1, 4096, NULL, F(sql_dir) },
	{ "DBTREE_DB", CONF_STR, "dbname=dbtree", 1, 4096, NULL, F(db_url) },
	{ "DBTREE_DB_CONNECT_TIMEOUT", CONF_INT, "2", 2, 60, NULL,
	  F(db_connect_timeout_s) },
	{ "DBTREE_DB_STATEMENT_TIMEOUT_MS", CONF_INT, "5000", 100, 600000,
	  NULL, F(db_statement_timeout_ms) },
	{ "DBTREE_REDIS", CONF_STR, "127.0.0.1:6379", 1, 4096, NULL,
	  F(redis) },
	{ "DBTREE_REDIS_TIMEOUT_MS", CONF_INT, "500", 10, 60000, NULL,
	  F(redis_timeout_ms) },
	{ "DBTREE_WORKERS", CONF_INT, "4", 1, 64, NULL, F(workers) },
	{ "DBTREE_TREE_WORKERS", CONF_INT, "4", 1, 64, NULL, F(tree_workers) },
	{ "DBTREE_MAX_BODY", CONF_INT, "65536", 1024, 1048576, NULL,
	  F(max_body) },
	{ "DBTREE_SHUTDOWN_GRACE_MS", CONF_INT, "10000", 0, 300000, NULL,
	  F(shutdown_grace_ms) },
	{ "DBTREE_READY_TIMEOUT_MS", CONF_INT, "1000", 50, 10000, NULL,
	  F(ready_timeout_ms) },
	{ "DBTREE_SOCKET_GROUP", CONF_STR, "", 0, 64, NULL, F(socket_group) },
	{ "DBTREE_JOB_BUDGET", CONF_INT, "50", 1, 3600, NULL,
	  F(job_budget_s) },
	{ "DBTREE_LOG_LEVEL", CONF_ENUM, "info", 0, 0, "err|warn|info|debug",
	  F(log_level) },
	{ "DBTREE_SITE_URL", CONF_STR, "http://127.0.0.1:8080", 1, 512, NULL,
	  F(site_url) },
	{ "DBTREE_MAIL_TRANSPORT", CONF_ENUM, "file", 0, 0, "smtp|file",
	  F(mail_transport) },
	{ "DBTREE_MAIL_DIR", CONF_STR, "", 0, 4096, NULL, F(mail_dir) },
	{ "DBTREE_MAIL_FROM", CONF_STR, "dbtree <no-reply@dbtree.local>", 3,
	  256, NULL, F(mail_from) },
	{ "DBTREE_ADMIN_EMAIL", CONF_STR, "admin@dbtree.local", 3, 254, NULL,
	  F(admin_email) },
	{ "DBTREE_SMTP_URL", CONF_STR, "smtp://127.0.0.1:25", 8, 512, NULL,
	  F(smtp_url) },
	{ "DBTREE_SMTP_USER", CONF_STR, "", 0, 256, NULL, F(smtp_user) },
	{ "DBTREE_SMTP_PASSWORD", CONF_STR, "", 0, 256, NULL,
	  F(smtp_password) },
	{ "DBTREE_SMTP_REQUIRE_TLS", CONF_BOOL, "false", 0, 0, NULL,
	  F(smtp_require_tls) },
	{ "DBTREE_SMTP_TIMEOUT_MS", CONF_INT, "10000", 100, 60000, NULL,
	  F(smtp_timeout_ms) },
	{ "DBTREE_DISPOSABLE_DOMAINS", CONF_STR, "", 0, 4096, NULL,
	  F(disposable_domains) },
	{ "DBTREE_MX_CHECK", CONF_BOOL, "true", 0, 0, NULL, F(mx_check) },
	{ "DBTREE_LOGIN_CODE_TTL", CONF_INT, "600", 1, 86400, NULL,
	  F(login_code_ttl_s) },
	{ "DBTREE_LOGIN_MAX_TRIES", CONF_INT, "5", 1, 100, NULL,
	  F(login_max_tries) },
	{ "DBTREE_LOGIN_SEND_LIMIT", CONF_INT, "5", 1, 1000, NULL,
	  F(login_send_limit) },
	{ "DBTREE_LOGIN_SEND_WINDOW", CONF_INT, "600", 1, 86400, NULL,
	  F(login_send_window_s) },
	{ "DBTREE_LOGIN_RESEND", CONF_INT, "60", 0, 3600, NULL,
	  F(login_resend_s) },
	{ "DBTREE_SESSION_TTL", CONF_INT, "86400", 1, 31536000, NULL,
	  F(session_ttl_s) },
	{ "DBTREE_WELCOME_BONUS", CONF_INT, "15", 0, 1000000, NULL,
	  F(welcome_bonus) },
	{ "DBTREE_LEMON_CAP", CONF_INT, "500", 1, 1000000000, NULL,
	  F(lemon_cap) },
	{ "DBTREE_HARVEST_AMOUNT", CONF_INT, "3", 1, 1000, NULL,
	  F(harvest_amount) },
	{ "DBTREE_HARVEST_COOLDOWN", CONF_INT, "3600", 0, 604800, NULL,
	  F(harvest_cooldown_s) },
	{ "DBTREE_REGROW_DELAY", CONF_INT, "3600", 0, 604800, NULL,
	  F(regrow_delay_s) },
	{ "DBTREE_CLICK_WINDOW_MS", CONF_INT, "5000", 500, 60000, NULL,
	  F(click_window_ms) },
	{ "DBTREE_QUIZ_GRACE", CONF_INT, "3", 0, 60, NULL, F(quiz_grace_s) },
	{ "DBTREE_STATUS_CACHE_MS", CONF_INT, "1000", 0, 60000, NULL,
	  F(status_cache_ms) },
	{ "DBTREE_TIME_ZONE", CONF_STR, "UTC", 1, 64, NULL, F(time_zone) },
	{ "DBTREE_STREAK_BONUS_3", CONF_INT, "2", 0, 1000, NULL,
	  F(streak_bonus[0]) },
	{ "DBTREE_STREAK_BONUS_7", CONF_INT, "5", 0, 1000, NULL,
	  F(streak_bonus[1]) },
	{ "DBTREE_STREAK_BONUS_30", CONF_INT, "15", 0, 1000, NULL,
	  F(streak_bonus[2]) },
	{ "DBTREE_GOLDEN_PER_DAY", CONF_INT, "1", 0, 24, NULL,
	  F(golden_per_day) },
	{ "DBTREE_EVENTS_PUBLISH", CONF_STR, "/run/dbtree/events.sock", 0,
	  1000, NULL, F(events_publish) },
	{ "DBTREE_EVENTS_TIMEOUT_MS", CONF_INT, "250", 10, 10000, NULL,
	  F(events_timeout_ms) },
	{ "DBTREE_EVENTS_WINDOW_MS", CONF_INT, "40", 0, 10000, NULL,
	  F(events_window_ms) },
	{ "DBTREE_EVENTS_US_PER_PAGE", CONF_INT, "60", 0, 1000, NULL,
	  F(events_us_per_page) },
	{ "DBTREE_PROVISIONER", CONF_ENUM, "local", 0, 0, "local|kubernetes",
	  F(provisioner) },
	{ "DBTREE_INSTANCE_DIR", CONF_STR, "", 0, 4096, NULL,
	  F(instance_dir) },
	{ "DBTREE_INSTANCE_USER", CONF_STR, "", 0, 64, NULL,
	  F(instance_user) },
	{ "DBTREE_INSTANCE_AGENT", CONF_STR, "", 0, 100, NULL,
	  F(instance_agent) },
	{ "DBTREE_INSTANCE_BIND", CONF_STR, "127.0.0.1", 1, 255, NULL,
	  F(instance_bind) },
	{ "DBTREE_PUBLIC_DB_HOST", CONF_STR, "127.0.0.1", 1, 255, NULL,
	  F(public_db_host) },
	{ "DBTREE_PORT_MIN", CONF_INT, "30000", 1024, 65535, NULL,
	  F(port_min) },
	{ "DBTREE_PORT_MAX", CONF_INT, "31999", 1024, 65535, NULL,
	  F(port_max) },
	{ "DBTREE_RESERVED_PORTS", CONF_STR, "30080", 0, 1024, NULL,
	  F(reserved_ports) },
	{ "DBTREE_CAPACITY_CPU_MILLI", CONF_INT, "2000", 100, 1000000, NULL,
	  F(capacity_cpu_milli) },
	{ "DBTREE_RESERVED_CPU_MILLI", CONF_INT, "500", 0, 1000000, NULL,
	  F(reserved_cpu_milli) },
	{ "DBTREE_CAPACITY_MEMORY_MB", CONF_INT, "8192", 128, 16777216, NULL,
	  F(capacity_memory_mb) },
	{ "DBTREE_RESERVED_MEMORY_MB", CONF_INT, "1536", 0, 16777216, NULL,
	  F(reserved_memory_mb) },
	{ "DBTREE_INSTANCE_QUOTA", CONF_INT, "2", 0, 1000, NULL,
	  F(instance_quota) },
	{ "DBTREE_BILLING_PERIOD", CONF_INT, "3600", 1, 86400, NULL,
	  F(billing_period_s) },
	{ "DBTREE_PAUSE_GRACE", CONF_INT, "86400", 1, 2592000, NULL,
	  F(pause_grace_s) },
	{ "DBTREE_PROVISION_TIMEOUT", CONF_INT, "300", 5, 86400, NULL,
	  F(provision_timeout_s) },
	{ "DBTREE_TLS_DIR", CONF_STR, "", 0, 4000, NULL, F(tls_dir) },
	{ "DBTREE_TLS_CERT_DAYS", CONF_INT, "90", 1, 825, NULL,
	  F(tls_cert_days) },
	{ "DBTREE_TLS_RENEW_DAYS", CONF_INT, "30", 0, 3650, NULL,
	  F(tls_renew_days) },
	{ "DBTREE_BACKUP_DIR", CONF_STR, "", 0, 4096, NULL, F(backup_dir) },
	{ "DBTREE_BACKUP_COST", CONF_INT, "1", 0, 1000, NULL, F(backup_cost) },
	{ "DBTREE_BACKUP_DAILY_KEEP", CONF_INT, "3", 1, 100, NULL,
	  F(backup_daily_keep) },
	{ "DBTREE_BACKUP_FINAL_KEEP", CONF_INT, "604800", 60, 31536000, NULL,
	  F(backup_final_keep_s) },
	{ "DBTREE_BACKUP_LINK_TTL", CONF_INT, "600", 10, 86400, NULL,
	  F(backup_link_ttl_s) },
	{ "DBTREE_K8S_API", CONF_STR, "", 0, 512, NULL, F(k8s_api) },
	{ "DBTREE_K8S_TOKEN_FILE", CONF_STR,
	  "/var/run/secrets/kubernetes.io/serviceaccount/token", 0, 4096, NULL,
	  F(k8s_token_file) },
	{ "DBTREE_K8S_CA_FILE", CONF_STR,
	  "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", 0, 4096,
	  NULL, F(k8s_ca_file) },
	{ "DBTREE_K8S_CLIENT_CERT", CONF_STR, "", 0, 4096, NULL,
	  F(k8s_client_cert) },
	{ "DBTREE_K8S_CLIENT_KEY", CONF_STR, "", 0, 4096, NULL,
	  F(k8s_client_key) },
	{ "DBTREE_K8S_NAMESPACE", CONF_STR, "dbtree", 1, 63, NULL,
	  F(k8s_namespace) },
	{ "DBTREE_K8S_IMAGE_POSTGRES", CONF_STR, "postgres:16", 1, 256, NULL,
	  F(k8s_image_postgres) },
	{ "DBTREE_K8S_IMAGE_REDIS", CONF_STR, "redis:7.2", 1, 256, NULL,
	  F(k8s_image_redis) },
	{ "DBTREE_K8S_IMAGE_MONGODB", CONF_STR, "mongo:7.0", 1, 256, NULL,
	  F(k8s_image_mongodb) },
	{ "DBTREE_K8S_STORAGE_CLASS", CONF_STR, "", 0, 253, NULL,
	  F(k8s_storage_class) },
	{ "DBTREE_K8S_CERT_ISSUER", CONF_STR, "", 0, 253, NULL,
	  F(k8s_cert_issuer) },
	{ "DBTREE_K8S_CERT_ISSUER_KIND", CONF_ENUM, "Issuer", 0, 0,
	  "Issuer|ClusterIssuer", F(k8s_cert_issuer_kind) },
	{ "DBTREE_K8S_TIMEOUT_MS", CONF_INT, "10000", 100, 120000, NULL,
	  F(k8s_timeout_ms) },
	{ "DBTREE_K8S_PAGE_SIZE", CONF_INT, "500", 1, 10000, NULL,
	  F(k8s_page_size) },
	{ "DBTREE_ROUTE_LIMITS", CONF_BOOL, "true", 0, 0, NULL,
	  F(route_limits) },
	{ "DBTREE_OTLP_ENDPOINT", CONF_STR, "", 0, 1024, NULL,
	  F(otlp_endpoint) },
	{ "DBTREE_OTLP_TIMEOUT_MS", CONF_INT, "2000", 10, 60000, NULL,
	  F(otlp_timeout_ms) },
	{ "DBTREE_TRACE_SAMPLING", CONF_RATIO, "0.1", 0, 0, NULL,
	  F(trace_sampling) },
	{ "DBTREE_TEST_PAUSE_DIR", CONF_STR, "", 0, 900, NULL,
	  F(test_pause_dir) },
};

static int
bad(const struct conf_var *v, const char *value, const char *why)
{
	fprintf(stderr, "dbtree: configuration: %s='%s' %s\n", v->name,
	    value, why);
	return -1;
}

static int
parse_int(const struct conf_var *v, const char *s, int64_t *out)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0')
		return bad(v, s, "is not a whole number");
	if (x < v->min || x > v->max) {
		char why[96];

		snprintf(why, sizeof(why), "is out of range %lld..%lld",
		    (long long)v->min, (long long)v->max);
		return bad(v, s, why);
	}
	*out = x;
	return 0;
}

static int
parse_bool(const struct conf_var *v, const char *s, bool *out)
{
	static const char *yes[] = { "1", "true", "yes", "on" };
	static const char *no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(s, yes[i]) == 0)
			return (*out = true), 0;
		if (strcmp(s, no[i]) == 0)
			return (*out = false), 0;
	}
	return bad(v, s, "is not a boolean (true/false)");
}

static int
parse_ratio(const struct conf_var *v, const char *s, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(x >= 0 && x <= 1))
		return bad(v, s, "is not a ratio from 0 to 1");
	*out = x;
	return 0;
}

static int
is_choice(const char *choices, const char *s)
{
	size_t n = strlen(s);
	const char *p = choices;

	while (*p) {
		size_t len = strcspn(p, "|");

		if (len == n && strncmp(p, s, n) == 0)
			return 1;
		p += len + (p[len] == '|');
	}
	return 0;
}

static int
conf_set(struct conf *c, const struct conf_var *v, const char *s)
{
	char *field = (char *)c + v->off;
	char why[160];

	switch (v->type) {
	case CONF_INT:
		return parse_int(v, s, (int64_t *)(void *)field);
	case CONF_BOOL:
		return parse_bool(v, s, (bool *)(void *)field);
	case CONF_RATIO:
		return parse_ratio(v, s, (double *)(void *)field);
	case CONF_ENUM:
		if (!is_choice(v->choices, s)) {
			snprintf(why, sizeof(why), "is not one of %s",
			    v->choices);
			return bad(v, s, why);
		}
		break;
	case CONF_STR:
		if ((int64_t)strlen(s) < v->min || (int64_t)strlen(s) > v->max)
			return bad(v, s, "has a bad length");
		break;
	}
	*(const char **)(void *)field = s;
	return 0;
}

bool
conf_is_time_zone(const char *name)
{
	char path[128];

	if (strcmp(name, "UTC") == 0)
		return true;
	if (!*name || name[0] == '/' || strstr(name, "..") ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789/_+-") != strlen(name))
		return false;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
	return access(path, R_OK) == 0;
}

int
conf_load_from(struct conf *c, const char *(*lookup)(const char *))
{
	int ret = 0;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *s = lookup(vars[i].name);

		if (!s || (!*s && vars[i].type != CONF_STR))
			s = vars[i].def;
		if (conf_set(c, &vars[i], s) < 0)
			ret = -1;
	}
	if (ret == 0 && !conf_is_time_zone(c->time_zone)) {
		fprintf(stderr, "dbtree: configuration: DBTREE_TIME_ZONE='%s'"
		    " is not a time zone known here\n", c->time_zone);
		ret = -1;
	}
	return ret;
}

static const char *
env_lookup(const char *name)
{
	return getenv(name);
}

int
conf_load(struct conf *c)
{
	enum log_level level;

	if (conf_load_from(c, env_lookup) < 0)
		return -1;
	if (log_level_parse(c->log_level, &level) == 0)
		log_set_level(level);
	return 0;
}
