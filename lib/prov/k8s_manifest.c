/*
 * The objects of one instance on Kubernetes, as json-c trees (see
 * k8s_manifest.h).  Nothing here does I/O.
 *
 * Users and passwords.  The official images run as uid 999 and create
 * their superuser on the first start only, so each container starts
 * through a short sh script (`sh -c <script> dbtree-start <args>`) that
 * applies the Secret's passwords, read from the environment, at every
 * start; a restart is thus all a credentials reset needs:
 *  - postgres: the entrypoint runs in the background with the superuser
 *    "postgres" (root-password); once the real server answers on TCP
 *    (the entrypoint's temporary init server listens on its socket only),
 *    psql makes the role "admin" (LOGIN, no SUPERUSER, CREATEDB,
 *    CREATEROLE or REPLICATION), sets its password (\getenv: the password
 *    is never on a command line; psql 15 or later) and gives it the
 *    database.  Only then does the readiness probe pass.  SIGTERM becomes
 *    SIGINT, a fast shutdown: a smart one waits for every client.
 *  - redis: an ACL file in /tmp names both passwords only by SHA-256:
 *    "default" (root-password) and "admin" (the user's) with the local
 *    driver's rules; the readiness probe logs in as admin.
 *  - mongodb: the entrypoint makes "dbtree_root" (root-password) on the
 *    first start; once the real server answers (its command line has
 *    --bind_ip_all, the init server's has not), mongosh as dbtree_root
 *    creates "admin" with the role root, or sets its password.  admin is
 *    root only inside its own pod; clients use authSource=admin.
 * Liveness is a TCP check with a long grace period (first starts run
 * initdb); readiness is what says the user's credentials work.
 *
 * TLS (see k8s_manifest.h for where the files come from and their modes):
 *  - postgres: ssl=on with the mounted files, and an hba_file written by
 *    the start script to /tmp: "local" (the container's own socket) is
 *    trust, as in the image, and TCP is "hostssl" only, so a plain TCP
 *    connection is refused.  psql and pg_isready in the pod use
 *    PGSSLMODE=require.
 *  - redis: --port 0 and --tls-port on the database port; clients need no
 *    certificate (--tls-auth-clients no); redis-cli --tls --cacert.
 *  - mongodb: --tlsMode requireTLS (the image's entrypoint turns it into
 *    allowTLS for its first-start init server), the combined PEM, the CA
 *    and --tlsAllowConnectionsWithoutCertificates (users log in with a
 *    password, not a certificate).  Its readiness probe stays a file test:
 *    mongosh per probe would cost a tiny instance most of its CPU; the
 *    start script that touches the file has logged in over TLS.
 *
 * Resources: requests cpu and memory from the spec; the memory limit
 * equals the request (no swap-like overcommit); the cpu limit is twice
 * the request, at least 250m, so that a tiny instance can still start in
 * reasonable time.  Engine settings follow memory_mb as in the local
 * driver.
 */
#include <arpa/inet.h>
#include <json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/hash.h"
#include "base/xalloc.h"
#include "prov/k8s_manifest.h"
#include "prov/prov.h"

#define UID 999			/* postgres, redis and mongodb in the images */
#define LABEL_VALUE_MAX 63
#define JSON_OUT (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define READY_FILE "/tmp/dbtree-ready"
#define HBA_FILE "/tmp/dbtree-hba.conf"
#define TLS_CERT_FILE K8S_TLS_DIR "/" K8S_KEY_TLS_CERT
#define TLS_KEY_FILE K8S_TLS_DIR "/" K8S_KEY_TLS_KEY
#define TLS_CA_FILE K8S_TLS_DIR "/" K8S_KEY_TLS_CA
#define TLS_PEM_FILE K8S_TLS_DIR "/" K8S_KEY_TLS_PEM
#define TLS_MODE 0440		/* root:fsGroup r--r----- (k8s_manifest.h) */
#define B64_MAX 65536		/* base64 of one Secret value */
#define CPU_LIMIT_MIN_MILLI 250
#define WAIT_LOOP \
	"  kill -0 \"$p\" 2>/dev/null || exit 1\n" \
	"  sleep 2\n" \
	"done\n" \
	"touch " READY_FILE "\n" \
	"wait \"$p\"\n"

static const char pg_script[] =
	"p=\n"
	"trap 'kill -INT \"$p\" 2>/dev/null; wait \"$p\"; exit' TERM INT\n"
	"printf 'local all all trust\\nhostssl all all all scram-sha-256\\n'"
	" >" HBA_FILE "\n"
	"docker-entrypoint.sh postgres \"$@\" &\n"
	"p=$!\n"
	"export PGSSLMODE=require\n"
	"setup() {\n"
	"  PGPASSWORD=\"$POSTGRES_PASSWORD\" psql -qX -v ON_ERROR_STOP=1"
	" -h 127.0.0.1 -U postgres -d postgres -v db=\"$POSTGRES_DB\""
	" <<'SQL'\n"
	"SET log_min_error_statement = panic;\n"
	"\\getenv pw DBTREE_PASSWORD\n"
	"SELECT 'CREATE ROLE admin' WHERE NOT EXISTS"
	" (SELECT FROM pg_roles WHERE rolname = 'admin')\\gexec\n"
	"ALTER ROLE admin LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
	" NOREPLICATION PASSWORD :'pw';\n"
	"ALTER DATABASE :\"db\" OWNER TO admin;\n"
	"REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1"
	" FROM PUBLIC;\n"
	"SQL\n"
	"}\n"
	"until pg_isready -q -h 127.0.0.1 && setup; do\n"
	WAIT_LOOP;

static const char redis_script[] =
	"set -eu\n"
	"h() { printf %s \"$1\" | sha256sum | cut -c1-64; }\n"
	"umask 077\n"
	"printf 'user default on #%s ~* &* +@all\\n"
	"user admin on #%s ~* &* +@all -@dangerous +info +keys +flushdb"
	" +flushall +sort +sort_ro +swapdb +lastsave +role +client|list"
	" +client|kill +client|unblock +slowlog|get +slowlog|len"
	" +latency|latest +latency|history\\n'"
	" \"$(h \"$DBTREE_ROOT_PASSWORD\")\" \"$(h \"$DBTREE_PASSWORD\")\""
	" >/tmp/users.acl\n"
	"exec redis-server \"$@\" --aclfile /tmp/users.acl\n";

static const char mongo_script[] =
	"p=\n"
	"trap 'kill -TERM \"$p\" 2>/dev/null; wait \"$p\"; exit' TERM INT\n"
	"docker-entrypoint.sh mongod \"$@\" &\n"
	"p=$!\n"
	"until mongosh --quiet --nodb --eval '\n"
	"const d = connect(\"mongodb://127.0.0.1:27017/admin?tls=true"
	"&tlsCAFile=" TLS_CA_FILE "&tlsAllowInvalidHostnames=true\");\n"
	"d.auth(\"dbtree_root\", process.env.DBTREE_ROOT_PASSWORD);\n"
	"if (!d.serverCmdLineOpts().argv.includes(\"--bind_ip_all\"))"
	" quit(1);\n"
	"const pwd = process.env.DBTREE_PASSWORD;\n"
	"if (d.getUser(\"admin\")) d.updateUser(\"admin\", {pwd: pwd});\n"
	"else d.createUser({user: \"admin\", pwd: pwd, roles: [\"root\"]});\n"
	"' >/dev/null; do\n"
	WAIT_LOOP;

struct engine {
	const char *type;
	int port;
	const char *mount;		/* of the data volume */
	const char *script;
	const char *ready[4];		/* readiness probe command */
	int live_delay_s;		/* liveness grace after a start */
	int stop_grace_s;
	void (*env)(struct json_object *env, const struct prov_spec *s);
	void (*args)(struct json_object *args, const struct prov_spec *s);
};

static struct json_object *
str(const char *s)
{
	return json_object_new_string(s);
}

static void
put(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static struct json_object *
obj(void)
{
	return json_object_new_object();
}

static struct json_object *
strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct json_object *
strf(const char *fmt, ...)
{
	char tmp[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	return str(tmp);
}

/* Appends the strings of v up to a NULL (or n) to the array a. */
static void
add_strs(struct json_object *a, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n && v[i]; i++)
		json_object_array_add(a, str(v[i]));
}

static struct json_object *
strs(const char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	add_strs(a, v, n);
	return a;
}

static int64_t
clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void
env_value(struct json_object *env, const char *name, const char *value)
{
	struct json_object *e = obj();

	put(e, "name", str(name));
	put(e, "value", str(value));
	json_object_array_add(env, e);
}

static void
env_secret(struct json_object *env, const char *name,
	   const struct prov_spec *s, const char *key)
{
	struct json_object *e = obj(), *from = obj(), *ref = obj();
	char sname[K8S_NAME_MAX];

	k8s_manifest_name(s->id, sname);
	put(ref, "name", str(sname));
	put(ref, "key", str(key));
	put(from, "secretKeyRef", ref);
	put(e, "name", str(name));
	put(e, "valueFrom", from);
	json_object_array_add(env, e);
}

static void
pg_env(struct json_object *env, const struct prov_spec *s)
{
	env_secret(env, "POSTGRES_PASSWORD", s, K8S_KEY_ROOT);
	env_value(env, "POSTGRES_DB", s->name);
	env_value(env, "PGDATA", "/var/lib/postgresql/data/pgdata");
	env_secret(env, "DBTREE_PASSWORD", s, K8S_KEY_PASSWORD);
}

static void
redis_env(struct json_object *env, const struct prov_spec *s)
{
	env_secret(env, "DBTREE_PASSWORD", s, K8S_KEY_PASSWORD);
	env_secret(env, "DBTREE_ROOT_PASSWORD", s, K8S_KEY_ROOT);
	env_secret(env, "REDISCLI_AUTH", s, K8S_KEY_PASSWORD);
}

static void
mongo_env(struct json_object *env, const struct prov_spec *s)
{
	env_value(env, "MONGO_INITDB_ROOT_USERNAME", "dbtree_root");
	env_secret(env, "MONGO_INITDB_ROOT_PASSWORD", s, K8S_KEY_ROOT);
	env_secret(env, "DBTREE_PASSWORD", s, K8S_KEY_PASSWORD);
	env_secret(env, "DBTREE_ROOT_PASSWORD", s, K8S_KEY_ROOT);
	env_value(env, "HOME", "/tmp");	/* mongosh's files: not in /data/db */
}

/* The local driver's settings (local_pg.c), as -c options. */
static void
pg_args(struct json_object *a, const struct prov_spec *s)
{
	int64_t mem = s->memory_mb;
	int64_t conns = clamp(mem / 12, 10, 100);
	/* parentheses: one string each (clang's -Wstring-concatenation) */
	const char *fixed[] = { "listen_addresses=*", "min_wal_size=32MB",
		"password_encryption=scram-sha-256", "ssl=on",
		("ssl_cert_file=" TLS_CERT_FILE),
		("ssl_key_file=" TLS_KEY_FILE),
		"ssl_min_protocol_version=TLSv1.2", ("hba_file=" HBA_FILE) };
	struct json_object *v[] = {
		strf("max_connections=%lld", (long long)conns),
		strf("shared_buffers=%lldMB", (long long)clamp(mem / 4, 16,
		    1 << 20)),
		strf("effective_cache_size=%lldMB", (long long)clamp(mem / 2,
		    32, 1 << 20)),
		strf("work_mem=%lldkB", (long long)clamp(mem * 1024 /
		    (4 * conns), 1024, 65536)),
		strf("maintenance_work_mem=%lldMB", (long long)clamp(mem / 16,
		    16, 512)),
		strf("max_wal_size=%lldMB", (long long)clamp(s->disk_gb *
		    1024 / 4, 64, 1024)),
	};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		json_object_array_add(a, str("-c"));
		json_object_array_add(a, str(fixed[i]));
	}
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_object_array_add(a, str("-c"));
		json_object_array_add(a, v[i]);
	}
}

/* Persistence and limits as in the local driver (local_redis.c). */
static void
redis_args(struct json_object *a, const struct prov_spec *s)
{
	int64_t mem = s->memory_mb;
	const char *fixed[] = { "--port", "0", "--tls-port", "6379",
		"--tls-cert-file", TLS_CERT_FILE, "--tls-key-file",
		TLS_KEY_FILE, "--tls-ca-cert-file", TLS_CA_FILE,
		"--tls-auth-clients", "no", "--protected-mode", "no",
		"--dir", "/data", "--appendonly", "yes", "--appendfsync",
		"everysec", "--maxmemory-policy", "noeviction",
		"--enable-debug-command", "no", "--enable-module-command",
		"no" };

	add_strs(a, fixed, sizeof(fixed) / sizeof(fixed[0]));
	json_object_array_add(a, str("--maxmemory"));
	json_object_array_add(a, strf("%lldmb", (long long)clamp(mem * 7 / 10,
	    1, 1 << 20)));
	json_object_array_add(a, str("--maxclients"));
	json_object_array_add(a, strf("%lld", (long long)clamp(mem / 2, 50,
	    1000)));
}

static const char *const mongo_tls[] = { "--tlsMode", "requireTLS",
	"--tlsCertificateKeyFile", TLS_PEM_FILE, "--tlsCAFile", TLS_CA_FILE,
	"--tlsAllowConnectionsWithoutCertificates" };

/* WiredTiger's cache: 40% of memory, at least its minimum of 0.25 GB. */
static void
mongo_args(struct json_object *a, const struct prov_spec *s)
{
	int64_t centi = clamp(s->memory_mb * 40 / 1024, 25, 1 << 20);

	json_object_array_add(a, str("--bind_ip_all"));
	json_object_array_add(a, str("--port"));
	json_object_array_add(a, str("27017"));
	add_strs(a, mongo_tls, sizeof(mongo_tls) / sizeof(mongo_tls[0]));
	json_object_array_add(a, str("--wiredTigerCacheSizeGB"));
	json_object_array_add(a, strf("%lld.%02lld", (long long)(centi / 100),
	    (long long)(centi % 100)));
}

static const struct engine engines[] = {
	{ "postgres", 5432, "/var/lib/postgresql/data", pg_script,
	  { "sh", "-c", "test -f " READY_FILE " && PGSSLMODE=require"
	    " pg_isready -q -h 127.0.0.1", NULL }, 60, 30, pg_env, pg_args },
	{ "redis", 6379, "/data", redis_script,
	  { "sh", "-c", "redis-cli --tls --cacert " TLS_CA_FILE " --user admin"
	    " ping | grep -q PONG", NULL }, 30, 30, redis_env, redis_args },
	{ "mongodb", 27017, "/data/db", mongo_script,
	  { "test", "-f", READY_FILE, NULL }, 60, 60, mongo_env, mongo_args },
};

static const struct engine *
engine_of(const char *type)
{
	for (size_t i = 0; type && i < sizeof(engines) / sizeof(engines[0]);
	    i++)
		if (strcmp(engines[i].type, type) == 0)
			return &engines[i];
	return NULL;
}

int
k8s_manifest_engine_port(const char *type)
{
	const struct engine *e = engine_of(type);

	return e ? e->port : 0;
}

const char *
k8s_manifest_image(const struct k8s_manifest_conf *mc, const char *type)
{
	if (strcmp(type, "postgres") == 0)
		return mc->image_postgres;
	if (strcmp(type, "redis") == 0)
		return mc->image_redis;
	return mc->image_mongodb;
}

int
k8s_manifest_name(const char *id, char out[K8S_NAME_MAX])
{
	size_t n = 0;

	out[0] = '\0';
	if (!id || !*id || strlen(id) > LABEL_VALUE_MAX ||
	    strspn(id, "0123456789abcdef-") != strlen(id))
		return -1;
	memcpy(out, "db-", 3);
	for (const char *p = id; *p && n < K8S_NAME_HEX; p++)
		if (*p != '-')
			out[3 + n++] = *p;
	out[3 + n] = '\0';
	if (n < K8S_NAME_HEX) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int
k8s_manifest_id_selector(const char *id, char *out, size_t size)
{
	int n = snprintf(out, size, K8S_LABEL_ID "=%s", id);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static bool
is_db_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= LABEL_VALUE_MAX && s[0] != '-' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

int
k8s_manifest_check(const struct prov_spec *s, char *why, size_t size)
{
	char name[K8S_NAME_MAX];

	why[0] = '\0';
	if (k8s_manifest_name(s->id, name) < 0)
		snprintf(why, size, "'%s' is not a valid instance id",
		    s->id ? s->id : "");
	else if (!engine_of(s->type))
		snprintf(why, size, "type '%s' is not supported",
		    s->type ? s->type : "");
	else if (!is_db_name(s->name))
		snprintf(why, size, "'%s' is not a valid database name",
		    s->name ? s->name : "");
	else if (s->port < 1 || s->port > 65535)
		snprintf(why, size, "port %d is not valid", s->port);
	else if (!(s->cpu >= 0.01 && s->cpu <= 256))
		snprintf(why, size, "cpu %g is not valid", s->cpu);
	else if (s->memory_mb < 64 || s->memory_mb > (1 << 22))
		snprintf(why, size, "memory %lld MB is not valid",
		    (long long)s->memory_mb);
	else if (s->disk_gb < 1 || s->disk_gb > (1 << 16))
		snprintf(why, size, "disk %lld GB is not valid",
		    (long long)s->disk_gb);
	return why[0] ? -1 : 0;
}

struct json_object *
k8s_manifest_labels(const struct prov_spec *s)
{
	struct json_object *l = obj();

	put(l, K8S_LABEL_MANAGED, str(K8S_MANAGER));
	put(l, K8S_LABEL_APP, str(s->type));
	put(l, K8S_LABEL_ID, str(s->id));
	return l;
}

static struct json_object *
id_labels(const struct prov_spec *s)
{
	struct json_object *l = obj();

	put(l, K8S_LABEL_ID, str(s->id));
	return l;
}

static struct json_object *
owner_refs(const char *name, const char *uid)
{
	struct json_object *a = json_object_new_array(), *r = obj();

	put(r, "apiVersion", str("apps/v1"));
	put(r, "kind", str("StatefulSet"));
	put(r, "name", str(name));
	put(r, "uid", str(uid));
	json_object_array_add(a, r);
	return a;
}

/* apiVersion, kind and metadata of one object. */
static struct json_object *
object(const char *api, const char *kind,
       const struct k8s_manifest_conf *mc, const struct prov_spec *s,
       const char *sts_uid)
{
	struct json_object *o = obj(), *m = obj();
	char name[K8S_NAME_MAX];

	k8s_manifest_name(s->id, name);
	put(o, "apiVersion", str(api));
	put(o, "kind", str(kind));
	put(m, "name", str(name));
	put(m, "namespace", str(mc->ns));
	put(m, "labels", k8s_manifest_labels(s));
	if (sts_uid)
		put(m, "ownerReferences", owner_refs(name, sts_uid));
	put(o, "metadata", m);
	return o;
}

static struct json_object *
probe_timing(struct json_object *p, int delay, int period, int failures)
{
	put(p, "initialDelaySeconds", json_object_new_int(delay));
	put(p, "periodSeconds", json_object_new_int(period));
	put(p, "timeoutSeconds", json_object_new_int(5));
	put(p, "failureThreshold", json_object_new_int(failures));
	return p;
}

static struct json_object *
readiness(const struct engine *e)
{
	struct json_object *p = obj(), *ex = obj();

	put(ex, "command", strs(e->ready, 4));
	put(p, "exec", ex);
	return probe_timing(p, 5, 5, 3);
}

static struct json_object *
liveness(const struct engine *e)
{
	struct json_object *p = obj(), *tcp = obj();

	put(tcp, "port", json_object_new_int(e->port));
	put(p, "tcpSocket", tcp);
	return probe_timing(p, e->live_delay_s, 20, 6);
}

static struct json_object *
resources(const struct prov_spec *s)
{
	long long milli = llround(s->cpu * 1000);
	long long limit = 2 * milli < CPU_LIMIT_MIN_MILLI ?
	    CPU_LIMIT_MIN_MILLI : 2 * milli;
	struct json_object *r = obj(), *req = obj(), *lim = obj();

	put(req, "cpu", strf("%lldm", milli < 1 ? 1 : milli));
	put(req, "memory", strf("%lldMi", (long long)s->memory_mb));
	put(lim, "cpu", strf("%lldm", limit));
	put(lim, "memory", strf("%lldMi", (long long)s->memory_mb));
	put(r, "requests", req);
	put(r, "limits", lim);
	return r;
}

struct json_object *
k8s_manifest_container_security(void)
{
	struct json_object *sc = obj(), *caps = obj();
	const char *drop[] = { "ALL" };

	put(sc, "allowPrivilegeEscalation", json_object_new_boolean(0));
	put(caps, "drop", strs(drop, 1));
	put(sc, "capabilities", caps);
	return sc;
}

struct json_object *
k8s_manifest_pod_security(void)
{
	struct json_object *sc = obj(), *seccomp = obj();

	put(sc, "runAsNonRoot", json_object_new_boolean(1));
	put(sc, "runAsUser", json_object_new_int(UID));
	put(sc, "runAsGroup", json_object_new_int(UID));
	put(sc, "fsGroup", json_object_new_int(UID));
	put(sc, "fsGroupChangePolicy", str("OnRootMismatch"));
	put(seccomp, "type", str("RuntimeDefault"));
	put(sc, "seccompProfile", seccomp);
	return sc;
}

static struct json_object *
ports(const struct engine *e)
{
	struct json_object *a = json_object_new_array(), *p = obj();

	put(p, "name", str("db"));
	put(p, "containerPort", json_object_new_int(e->port));
	put(p, "protocol", str("TCP"));
	json_object_array_add(a, p);
	return a;
}

static struct json_object *
mounts(const struct engine *e)
{
	struct json_object *a = json_object_new_array(), *m = obj();
	struct json_object *t = obj();

	put(m, "name", str("data"));
	put(m, "mountPath", str(e->mount));
	json_object_array_add(a, m);
	put(t, "name", str("tls"));
	put(t, "mountPath", str(K8S_TLS_DIR));
	put(t, "readOnly", json_object_new_boolean(1));
	json_object_array_add(a, t);
	return a;
}

bool
k8s_manifest_uses_cert_manager(const struct k8s_manifest_conf *mc)
{
	return mc->cert_issuer && *mc->cert_issuer;
}

int
k8s_manifest_tls_secret_name(const struct k8s_manifest_conf *mc,
			     const char *id, char out[K8S_TLS_NAME_MAX])
{
	char name[K8S_NAME_MAX];

	out[0] = '\0';
	if (k8s_manifest_name(id, name) < 0)
		return -1;
	snprintf(out, K8S_TLS_NAME_MAX, "%s%s", name,
	    k8s_manifest_uses_cert_manager(mc) ? K8S_TLS_SUFFIX : "");
	return 0;
}

static void
add_item(struct json_object *items, const char *key, const char *path)
{
	struct json_object *it = obj();

	put(it, "key", str(key));
	put(it, "path", str(path));
	json_object_array_add(items, it);
}

/* The secret volume of the TLS files: only those keys (not the
 * passwords), 0440; mongod's combined PEM under one name whichever
 * Secret it comes from. */
static struct json_object *
tls_volume(const struct k8s_manifest_conf *mc, const struct prov_spec *s,
	   bool pem, bool ca_only)
{
	struct json_object *v = obj(), *sec = obj();
	struct json_object *items = json_object_new_array();
	char name[K8S_TLS_NAME_MAX];

	k8s_manifest_tls_secret_name(mc, s->id, name);
	if (!ca_only) {
		add_item(items, K8S_KEY_TLS_CERT, K8S_KEY_TLS_CERT);
		add_item(items, K8S_KEY_TLS_KEY, K8S_KEY_TLS_KEY);
	}
	add_item(items, K8S_KEY_TLS_CA, K8S_KEY_TLS_CA);
	if (pem)
		add_item(items, k8s_manifest_uses_cert_manager(mc) ?
		    K8S_KEY_CM_PEM : K8S_KEY_TLS_PEM, K8S_KEY_TLS_PEM);
	put(sec, "secretName", str(name));
	put(sec, "defaultMode", json_object_new_int(TLS_MODE));
	put(sec, "items", items);
	put(v, "name", str("tls"));
	put(v, "secret", sec);
	return v;
}

struct json_object *
k8s_manifest_tls_ca_volume(const struct k8s_manifest_conf *mc,
			   const struct prov_spec *s)
{
	return tls_volume(mc, s, false, true);
}

static struct json_object *
container(const struct k8s_manifest_conf *mc, const struct engine *e,
	  const struct prov_spec *s)
{
	struct json_object *c = obj(), *cmd, *args = json_object_new_array();
	struct json_object *env = json_object_new_array();
	const char *argv0[] = { "sh", "-c", e->script, "dbtree-start" };

	cmd = strs(argv0, 4);
	e->args(args, s);
	e->env(env, s);
	put(c, "name", str("db"));
	put(c, "image", str(k8s_manifest_image(mc, s->type)));
	put(c, "imagePullPolicy", str("IfNotPresent"));
	put(c, "command", cmd);
	put(c, "args", args);
	put(c, "ports", ports(e));
	put(c, "env", env);
	put(c, "resources", resources(s));
	put(c, "volumeMounts", mounts(e));
	put(c, "readinessProbe", readiness(e));
	put(c, "livenessProbe", liveness(e));
	put(c, "securityContext", k8s_manifest_container_security());
	return c;
}

static struct json_object *
pod_template(const struct k8s_manifest_conf *mc, const struct engine *e,
	     const struct prov_spec *s)
{
	struct json_object *t = obj(), *m = obj(), *spec = obj();
	struct json_object *cs = json_object_new_array();
	struct json_object *vs = json_object_new_array();

	put(m, "labels", k8s_manifest_labels(s));
	put(t, "metadata", m);
	put(spec, "automountServiceAccountToken", json_object_new_boolean(0));
	put(spec, "enableServiceLinks", json_object_new_boolean(0));
	put(spec, "terminationGracePeriodSeconds",
	    json_object_new_int(e->stop_grace_s));
	put(spec, "securityContext", k8s_manifest_pod_security());
	json_object_array_add(cs, container(mc, e, s));
	put(spec, "containers", cs);
	json_object_array_add(vs, tls_volume(mc, s,
	    strcmp(s->type, "mongodb") == 0, false));
	put(spec, "volumes", vs);
	put(t, "spec", spec);
	return t;
}

static struct json_object *
claim_template(const struct k8s_manifest_conf *mc, const struct prov_spec *s)
{
	struct json_object *c = obj(), *m = obj(), *spec = obj();
	struct json_object *res = obj(), *req = obj();
	const char *modes[] = { "ReadWriteOnce" };

	put(m, "name", str("data"));
	put(m, "labels", k8s_manifest_labels(s));
	put(c, "metadata", m);
	put(spec, "accessModes", strs(modes, 1));
	if (mc->storage_class && *mc->storage_class)
		put(spec, "storageClassName", str(mc->storage_class));
	put(req, "storage", strf("%lldGi", (long long)s->disk_gb));
	put(res, "requests", req);
	put(spec, "resources", res);
	put(c, "spec", spec);
	return c;
}

/* The claim goes with the StatefulSet (the controller makes the set its
 * owner, and the garbage collector deletes it after the set), so that no
 * volume outlives its instance unlisted; a stop (replicas 0) keeps it. */
static struct json_object *
claim_policy(void)
{
	struct json_object *p = obj();

	put(p, "whenDeleted", str("Delete"));
	put(p, "whenScaled", str("Retain"));
	return p;
}

/* The StatefulSet without its hash annotation. */
static struct json_object *
statefulset_bare(const struct k8s_manifest_conf *mc,
		 const struct prov_spec *s)
{
	const struct engine *e = engine_of(s->type);
	struct json_object *o = object("apps/v1", "StatefulSet", mc, s, NULL);
	struct json_object *spec = obj(), *sel = obj();
	struct json_object *claims = json_object_new_array();
	char name[K8S_NAME_MAX];

	k8s_manifest_name(s->id, name);
	put(spec, "replicas", json_object_new_int(s->running ? 1 : 0));
	put(spec, "serviceName", str(name));
	put(sel, "matchLabels", id_labels(s));
	put(spec, "selector", sel);
	put(spec, "template", pod_template(mc, e, s));
	json_object_array_add(claims, claim_template(mc, s));
	put(spec, "volumeClaimTemplates", claims);
	put(spec, "persistentVolumeClaimRetentionPolicy", claim_policy());
	put(o, "spec", spec);
	return o;
}

static void
hash_hex(const char *text, char *out)
{
	char hex[HASH_SHA256_HEX];

	hash_sha256_hex(text, strlen(text), hex);
	memcpy(out, hex, K8S_HASH_LEN);
	out[K8S_HASH_LEN] = '\0';
}

void
k8s_manifest_statefulset_hash(const struct k8s_manifest_conf *mc,
			      const struct prov_spec *s, char *out)
{
	struct json_object *o = statefulset_bare(mc, s);

	hash_hex(json_object_to_json_string_ext(o, JSON_OUT), out);
	json_object_put(o);
}

struct json_object *
k8s_manifest_statefulset(const struct k8s_manifest_conf *mc,
			 const struct prov_spec *s)
{
	struct json_object *o = statefulset_bare(mc, s), *m, *ann = obj();
	char hash[K8S_HASH_LEN + 1];

	hash_hex(json_object_to_json_string_ext(o, JSON_OUT), hash);
	put(ann, K8S_ANN_HASH, str(hash));
	json_object_object_get_ex(o, "metadata", &m);
	put(m, "annotations", ann);
	return o;
}

struct json_object *
k8s_manifest_service(const struct k8s_manifest_conf *mc,
		     const struct prov_spec *s, const char *sts_uid)
{
	const struct engine *e = engine_of(s->type);
	struct json_object *o = object("v1", "Service", mc, s, sts_uid);
	struct json_object *spec = obj(), *ps = json_object_new_array();
	struct json_object *p = obj();

	put(spec, "type", str("NodePort"));
	put(spec, "selector", id_labels(s));
	put(p, "name", str("db"));
	put(p, "protocol", str("TCP"));
	put(p, "port", json_object_new_int(e->port));
	put(p, "targetPort", json_object_new_int(e->port));
	put(p, "nodePort", json_object_new_int(s->port));
	json_object_array_add(ps, p);
	put(spec, "ports", ps);
	put(o, "spec", spec);
	return o;
}

struct json_object *
k8s_manifest_networkpolicy(const struct k8s_manifest_conf *mc,
			   const struct prov_spec *s, const char *sts_uid)
{
	const struct engine *e = engine_of(s->type);
	struct json_object *o = object("networking.k8s.io/v1",
	    "NetworkPolicy", mc, s, sts_uid);
	struct json_object *spec = obj(), *sel = obj(), *rule = obj();
	struct json_object *ingress = json_object_new_array();
	struct json_object *ps = json_object_new_array(), *p = obj();
	const char *types[] = { "Ingress" };

	put(sel, "matchLabels", id_labels(s));
	put(spec, "podSelector", sel);
	put(spec, "policyTypes", strs(types, 1));
	put(p, "protocol", str("TCP"));
	put(p, "port", json_object_new_int(e->port));
	json_object_array_add(ps, p);
	put(rule, "ports", ps);	/* no "from": from anywhere */
	json_object_array_add(ingress, rule);
	put(spec, "ingress", ingress);
	put(o, "spec", spec);
	return o;
}

/* base64 of s as a json string. */
static struct json_object *
b64(const char *s)
{
	struct buf b = BUF_INIT(B64_MAX);
	struct json_object *o;

	b64_add(&b, s, strlen(s));
	o = str(buf_cstr(&b));
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_release(&b);
	return o;
}

/* base64 of the key and the certificate, one after the other. */
static struct json_object *
b64_pem(const struct k8s_tls *tls)
{
	struct buf b = BUF_INIT(B64_MAX);
	struct json_object *o;

	buf_adds(&b, tls->key);
	if (b.len && b.data[b.len - 1] != '\n')
		buf_addc(&b, '\n');
	buf_adds(&b, tls->cert);
	o = b64(buf_cstr(&b));
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_release(&b);
	return o;
}

/* The data keys of tls and their (base64) values, in one fixed order. */
static void
tls_data(const struct k8s_tls *tls, const char *keys[4],
	 struct json_object *vals[4])
{
	keys[0] = K8S_KEY_TLS_CERT;
	vals[0] = b64(tls->cert);
	keys[1] = K8S_KEY_TLS_KEY;
	vals[1] = b64(tls->key);
	keys[2] = K8S_KEY_TLS_CA;
	vals[2] = b64(tls->ca);
	keys[3] = K8S_KEY_TLS_PEM;
	vals[3] = b64_pem(tls);
}

/* The annotations that say what tls is, in one fixed order. */
static void
tls_annotations(const struct k8s_tls *tls, const char *keys[3],
		struct json_object *vals[3])
{
	char ca[K8S_HASH_LEN + 1];

	k8s_manifest_ca_version(tls->ca, ca);
	keys[0] = K8S_ANN_TLS_HOST;
	vals[0] = str(tls->host);
	keys[1] = K8S_ANN_TLS_NOT_AFTER;
	vals[1] = strf("%lld", (long long)tls->not_after);
	keys[2] = K8S_ANN_TLS_CA;
	vals[2] = str(ca);
}

struct json_object *
k8s_manifest_secret(const struct k8s_manifest_conf *mc,
		    const struct prov_spec *s, const char *password,
		    const char *root_password, const struct k8s_tls *tls)
{
	struct json_object *o = object("v1", "Secret", mc, s, NULL);
	struct json_object *data = obj(), *ann = obj(), *vals[4], *m;
	const char *keys[4];

	put(o, "type", str("Opaque"));
	put(data, K8S_KEY_PASSWORD, b64(password));
	put(data, K8S_KEY_ROOT, b64(root_password));
	if (tls) {
		tls_data(tls, keys, vals);
		for (size_t i = 0; i < 4; i++)
			put(data, keys[i], vals[i]);
		tls_annotations(tls, keys, vals);
		for (size_t i = 0; i < 3; i++)
			put(ann, keys[i], vals[i]);
		json_object_object_get_ex(o, "metadata", &m);
		put(m, "annotations", json_object_get(ann));
	}
	json_object_put(ann);
	put(o, "data", data);
	return o;
}

static bool
is_ip_address(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
}

static struct json_object *
issuer_ref(const struct k8s_manifest_conf *mc)
{
	struct json_object *r = obj();

	put(r, "name", str(mc->cert_issuer));
	put(r, "kind", str(mc->cert_issuer_kind && *mc->cert_issuer_kind ?
	    mc->cert_issuer_kind : "Issuer"));
	put(r, "group", str("cert-manager.io"));
	return r;
}

static struct json_object *
certificate_spec(const struct k8s_manifest_conf *mc,
		 const struct prov_spec *s)
{
	struct json_object *spec = obj(), *tmpl = obj(), *key = obj();
	const char *host = mc->public_host ? mc->public_host : "";
	const char *usages[] = { "server auth", "digital signature",
		"key encipherment" };
	char name[K8S_TLS_NAME_MAX];

	k8s_manifest_tls_secret_name(mc, s->id, name);
	put(spec, "secretName", str(name));
	put(tmpl, "labels", k8s_manifest_labels(s));
	put(spec, "secretTemplate", tmpl);
	put(spec, "issuerRef", issuer_ref(mc));
	put(spec, is_ip_address(host) ? "ipAddresses" : "dnsNames",
	    strs(&host, 1));
	put(spec, "usages", strs(usages, 3));
	put(key, "algorithm", str("ECDSA"));
	put(key, "size", json_object_new_int(256));
	put(key, "rotationPolicy", str("Always"));
	put(spec, "privateKey", key);
	if (strcmp(s->type, "mongodb") == 0) {
		struct json_object *fmts = json_object_new_array(), *f = obj();

		put(f, "type", str("CombinedPEM"));
		json_object_array_add(fmts, f);
		put(spec, "additionalOutputFormats", fmts);
	}
	return spec;
}

struct json_object *
k8s_manifest_certificate(const struct k8s_manifest_conf *mc,
			 const struct prov_spec *s, const char *sts_uid)
{
	struct json_object *o = object(K8S_CERT_MANAGER_API, "Certificate",
	    mc, s, sts_uid);

	put(o, "spec", certificate_spec(mc, s));
	return o;
}

/* A JSON patch operation. */
static struct json_object *
op(const char *what, const char *path, struct json_object *value)
{
	struct json_object *o = obj();

	put(o, "op", str(what));
	put(o, "path", str(path));
	put(o, "value", value);
	return o;
}

/* A JSON patch that tests the id label (only). */
static struct json_object *
label_test(const char *id)
{
	struct json_object *a = json_object_new_array();

	/* "~1" is "/" in a JSON pointer (RFC 6901) */
	json_object_array_add(a, op("test", "/metadata/labels/dbtree.io~1"
	    "instance-id", str(id)));
	return a;
}

/* A JSON patch: a test of the id label, then path set to value. */
static struct json_object *
label_tested_patch(const char *id, const char *path,
		   struct json_object *value)
{
	struct json_object *a = label_test(id);

	json_object_array_add(a, op("add", path, value));
	return a;
}

/* "dbtree.io/tls-host" as a JSON pointer token ("dbtree.io~1tls-host"). */
static void
pointer_token(const char *key, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = key; *p && n + 3 < size; p++) {
		if (*p == '/' || *p == '~') {
			out[n++] = '~';
			out[n++] = *p == '/' ? '1' : '0';
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

static void
add_tls_annotations(struct json_object *a, const struct k8s_tls *tls,
		    bool whole)
{
	struct json_object *vals[3], *ann = obj();
	const char *keys[3];
	char tok[128], path[160];

	tls_annotations(tls, keys, vals);
	for (size_t i = 0; i < 3; i++) {
		if (whole) {
			put(ann, keys[i], vals[i]);
			continue;
		}
		pointer_token(keys[i], tok, sizeof(tok));
		snprintf(path, sizeof(path), "/metadata/annotations/%s", tok);
		json_object_array_add(a, op("add", path, vals[i]));
	}
	if (whole)
		json_object_array_add(a, op("add", "/metadata/annotations",
		    json_object_get(ann)));
	json_object_put(ann);
}

struct json_object *
k8s_manifest_tls_patch(const char *id, const struct k8s_tls *tls,
		       bool whole)
{
	struct json_object *a = label_test(id), *vals[4];
	const char *keys[4];
	char path[64];

	tls_data(tls, keys, vals);
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/data/%s", keys[i]);
		json_object_array_add(a, op("add", path, vals[i]));
	}
	add_tls_annotations(a, tls, whole);
	return a;
}

/* The string annotation key of secret (or of its metadata), or NULL. */
static const char *
annotation(struct json_object *secret, const char *key)
{
	struct json_object *m = secret, *v;

	if (json_object_object_get_ex(secret, "metadata", &v))
		m = v;
	if (!json_object_object_get_ex(m, "annotations", &v) ||
	    !json_object_object_get_ex(v, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool
k8s_manifest_has_tls(struct json_object *secret)
{
	return annotation(secret, K8S_ANN_TLS_NOT_AFTER) != NULL;
}

time_t
k8s_manifest_tls_not_after(struct json_object *secret)
{
	const char *na = annotation(secret, K8S_ANN_TLS_NOT_AFTER);
	char *end;
	long long t;

	if (!na)
		return 0;
	t = strtoll(na, &end, 10);
	return end == na || *end != '\0' || t < 0 ? 0 : (time_t)t;
}

bool
k8s_manifest_tls_is_due(struct json_object *secret, const char *host,
			const char *ca_version, time_t now, int64_t margin_s)
{
	const char *h = annotation(secret, K8S_ANN_TLS_HOST);
	const char *ca = annotation(secret, K8S_ANN_TLS_CA);
	time_t t = k8s_manifest_tls_not_after(secret);

	if (!h || !ca || t == 0 || strcmp(h, host) != 0 ||
	    strcmp(ca, ca_version) != 0)
		return true;
	return (long long)t - (long long)now <= margin_s;
}

struct json_object *
k8s_manifest_password_patch(const char *id, const char *password)
{
	return label_tested_patch(id, "/data/" K8S_KEY_PASSWORD,
	    b64(password));
}

struct json_object *
k8s_manifest_owner_patch(const char *id, const char *name, const char *uid)
{
	return label_tested_patch(id, "/metadata/ownerReferences",
	    owner_refs(name, uid));
}

struct json_object *
k8s_manifest_restart_patch(const char *key, const char *version)
{
	struct json_object *p = obj(), *spec = obj(), *t = obj(), *m = obj();
	struct json_object *ann = obj();

	put(ann, key, str(version));
	put(m, "annotations", ann);
	put(t, "metadata", m);
	put(spec, "template", t);
	put(p, "spec", spec);
	return p;
}

/* K8S_HASH_LEN hex digits of a hash of what (a label) and text. */
static void
version_of(const char *what, const char *text, char *out)
{
	struct buf b = BUF_INIT(B64_MAX);

	buf_adds(&b, what);
	buf_adds(&b, text);
	hash_hex(buf_cstr(&b), out);
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_release(&b);
}

void
k8s_manifest_secret_version(const char *password, char *out)
{
	version_of("dbtree secret version\n", password, out);
}

void
k8s_manifest_tls_version(const char *cert_pem, char *out)
{
	version_of("dbtree tls version\n", cert_pem, out);
}

void
k8s_manifest_ca_version(const char *ca_pem, char *out)
{
	version_of("dbtree ca version\n", ca_pem, out);
}
