/*
 * The local provisioning driver: one real postgres or redis-server
 * process per instance on this host, under <instance_dir>/<id> (see
 * local_fs.h for the layout).  This file holds the prov_ops and the order
 * of things; the engines are local_pg*.c and local_redis.c.
 *
 * Every operation is safe to repeat and to run from several processes:
 * store_secret, apply and destroy take the instance's lock (flock), and
 * observe only reads, except that it finishes a PostgreSQL first-start
 * setup left pending by apply (which never waits for a server more than
 * a few hundred ms) when that lock is free.  "Never created" and "data
 * lost" differ by the state file's created flag: a vanished data
 * directory is reported (FAILED, "data directory is missing"), never
 * silently recreated empty.
 *
 * With DBTREE_INSTANCE_USER naming another user than ours, instance
 * processes run as that user and the driver asks that user's agent
 * (DBTREE_INSTANCE_AGENT, local_agent.h) for everything done as it; see
 * local_fs.h for who owns what then.  PostgreSQL refuses to run as root,
 * so root needs an instance user, and with it the agent.
 */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "prov/driver.h"
#include "prov/local_agent.h"
#include "prov/local_fs.h"
#include "prov/local_pg.h"
#include "prov/local_redis.h"
#include "prov/local_state.h"
#include "prov/local_tls.h"
#include "prov/tls.h"

#define LOCK_WAIT_MS 10000	/* another apply may be running initdb */
#define SAFE_PATH_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789/._-"
#define SAFE_BIND_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789.:-"

static void
op_close(void *self)
{
	struct local *l = self;

	if (!l)
		return;
	free(l->dir);
	free(l->bind);
	free(l->host);
	free(l->pg_bin);
	free(l->redis_server);
	free(l->agent);
	free(l->tls_dir);
	free(l->public_host);
	free(l);
}

/* True when gid is one of this process's groups. */
static bool
is_my_group(gid_t gid)
{
	gid_t groups[256];
	int n = getgroups(ARRAY_LEN(groups), groups);

	if (getegid() == gid)
		return true;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static int
open_user(struct local *l, const struct conf *c)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];

	if (!c->instance_user[0]) {
		if (geteuid() == 0)
			log_warn("running as root without DBTREE_INSTANCE_USER:"
			    " postgres instances cannot start");
		return 0;
	}
	if (getpwnam_r(c->instance_user, &pw, tmp, sizeof(tmp), &res) != 0 ||
	    !res)
		return fail("instance user '%s' does not exist",
		    c->instance_user);
	if (pw.pw_uid == geteuid())
		return 0;
	if (!c->instance_agent[0] && geteuid() == 0)
		return fail("instances run as '%s': DBTREE_INSTANCE_AGENT must"
		    " name that user's agent", c->instance_user);
	if (!c->instance_agent[0]) {
		log_warn("no DBTREE_INSTANCE_AGENT: instances run as the"
		    " current user, not '%s'", c->instance_user);
		return 0;
	}
	l->split = true;
	l->uid = pw.pw_uid;
	l->gid = pw.pw_gid;
	l->agent = xstrdup(c->instance_agent);
	if (geteuid() != 0 && !is_my_group(l->gid))
		log_warn("not in the group of instance user '%s' (gid %d):"
		    " its agent and instance logs are out of reach",
		    c->instance_user, (int)l->gid);
	return 0;
}

static int
open_bind(struct local *l, const struct conf *c)
{
	const char *b = c->instance_bind;

	if (strcmp(b, "*") != 0 && (!b[0] ||
	    strspn(b, SAFE_BIND_CHARS) != strlen(b)))
		return fail("instance bind address '%s' is not valid", b);
	l->bind = xstrdup(b);
	if (strcmp(b, "*") == 0 || strcmp(b, "0.0.0.0") == 0)
		l->host = xstrdup("127.0.0.1");
	else if (strcmp(b, "::") == 0)
		l->host = xstrdup("::1");
	else
		l->host = xstrdup(b);
	return 0;
}

/* mkdir -p: missing parents 0711 (passable, not listable), the leaf
 * 0700. */
static int
make_dirs(const char *path)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0711) < 0 && errno != EEXIST)
			return fail("mkdir '%s': %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return fail("mkdir '%s': %s", tmp, strerror(errno));
	return 0;
}

/* The configured instance directory, absolute; the caller frees it. */
static char *
dir_wanted(const struct conf *c)
{
	struct buf b = BUF_INIT(4096);
	const char *d = c->instance_dir[0] ? c->instance_dir : c->state_dir;
	char cwd[4096];

	if (d[0] != '/' && getcwd(cwd, sizeof(cwd)))
		buf_addf(&b, "%s/", cwd);
	buf_adds(&b, d);
	if (!c->instance_dir[0])
		buf_adds(&b, "/instances");
	return buf_detach(&b);
}

/* Warns when the instance user cannot pass a parent of l->dir. */
static void
check_reachable(const struct local *l)
{
	char path[LOCAL_PATH_MAX];
	struct stat st;
	char *slash;

	snprintf(path, sizeof(path), "%s", l->dir);
	while ((slash = strrchr(path, '/')) && slash != path) {
		*slash = '\0';
		if (stat(path, &st) < 0)
			continue;
		if ((st.st_uid == l->uid && (st.st_mode & S_IXUSR)) ||
		    (st.st_gid == l->gid && (st.st_mode & S_IXGRP)) ||
		    (st.st_mode & S_IXOTH))
			continue;
		log_warn("the instance user (uid %d) cannot pass '%s':"
		    " instances will not start", (int)l->uid, path);
	}
}

static int
open_dir(struct local *l, const struct conf *c)
{
	char *want = dir_wanted(c);
	int ret = -1;

	if (!want[0] || strspn(want, SAFE_PATH_CHARS) != strlen(want))
		log_err("instance directory '%s': only letters, digits and"
		    " / . _ - are allowed", want);
	else if (make_dirs(want) == 0 && !(l->dir = realpath(want, NULL)))
		log_err("instance directory '%s': %s", want, strerror(errno));
	else if (l->dir && strlen(l->dir) > LOCAL_DIR_MAX)
		log_err("instance directory '%s' is longer than %d characters:"
		    " unix socket paths would not fit", l->dir, LOCAL_DIR_MAX);
	else if (l->dir && l->split)
		ret = local_fs_share(l, l->dir, 02710);
	else if (l->dir && chmod(l->dir, 0700) < 0)
		log_err("chmod '%s': %s", l->dir, strerror(errno));
	else if (l->dir)
		ret = 0;
	free(want);
	if (ret == 0 && l->split)
		check_reachable(l);
	return ret;
}

/* Where the CA is and what certificates say. */
static int
open_tls(struct local *l, const struct conf *c)
{
	char dir[4096];

	if (tls_dir(c, dir, sizeof(dir)) < 0)
		return -1;
	if (!tls_is_valid_host(c->public_db_host))
		return fail("DBTREE_PUBLIC_DB_HOST '%s' cannot be named in a"
		    " certificate", c->public_db_host);
	l->tls_dir = xstrdup(dir);
	l->public_host = xstrdup(c->public_db_host);
	l->cert_days = c->tls_cert_days;
	return 0;
}

void *
prov_local_open(const struct conf *c)
{
	struct local *l = xcalloc(1, sizeof(*l));

	if (open_user(l, c) < 0 || open_bind(l, c) < 0 || open_dir(l, c) < 0 ||
	    open_tls(l, c) < 0) {
		op_close(l);
		return NULL;
	}
	if (!(l->pg_bin = local_pg_find()))
		log_warn("no PostgreSQL under /usr/lib/postgresql:"
		    " postgres instances are not available");
	if (!(l->redis_server = local_redis_find()))
		log_warn("no redis-server in PATH: redis instances are not"
		    " available");
	return l;
}

struct local *
local_agent_open(const struct conf *c)
{
	struct local *l = xcalloc(1, sizeof(*l));
	char *want = dir_wanted(c);

	l->split = true;
	l->uid = getuid();
	l->gid = getgid();
	if (l->uid == 0)
		log_err("the instance agent must not run as root");
	else if (!(l->dir = realpath(want, NULL)))
		log_err("instance directory '%s': %s", want, strerror(errno));
	free(want);
	if (!l->dir || l->uid == 0) {
		op_close(l);
		return NULL;
	}
	l->pg_bin = local_pg_find();
	l->redis_server = local_redis_find();
	return l;
}

void
local_agent_close(struct local *l)
{
	op_close(l);
}

static bool
op_supports(void *self, const char *type)
{
	const struct local *l = self;

	if (strcmp(type, "postgres") == 0)
		return l->pg_bin != NULL;
	if (strcmp(type, "redis") == 0)
		return l->redis_server != NULL;
	return false;
}

static int
check_spec(struct local *l, const struct prov_spec *s)
{
	if (!s->type || !op_supports(l, s->type))
		return fail("instance %s: type '%s' is not available here",
		    s->id, s->type ? s->type : "");
	if (s->port < 1024 || s->port > 65535)
		return fail("instance %s: port %d is not valid", s->id,
		    s->port);
	if (s->memory_mb < 16 || s->memory_mb > (1 << 20))
		return fail("instance %s: memory %lld MB is not valid", s->id,
		    (long long)s->memory_mb);
	if (strcmp(s->type, "postgres") == 0 &&
	    (!s->name || !local_pg_is_name(s->name)))
		return fail("instance %s: '%s' is not a valid database name",
		    s->id, s->name ? s->name : "");
	return 0;
}

/* Takes in's lock before a change.  0 or -1 (logged). */
static int
lock_for_change(const struct local_inst *in, int *fd)
{
	switch (local_lock(in, LOCK_WAIT_MS, fd)) {
	case 0:
		return 0;
	case LOCAL_MISSING:
		return fail("instance %s: no secret stored for it", in->id);
	case LOCAL_BUSY:
		return fail("instance %s: busy (its lock is held)", in->id);
	default:
		return -1;
	}
}

static bool
is_pg(const struct local_state *st)
{
	return strcmp(st->type, "postgres") == 0;
}

static int
secret_locked(const struct local_inst *in, struct local_state *st,
	      struct local_secret *sec, const char *password)
{
	int ret = local_secret_load(in, sec);

	if (ret < 0)
		return -1;
	if (ret == LOCAL_MISSING)
		local_secret_new_root(sec);
	snprintf(sec->password, sizeof(sec->password), "%s", password);
	if (st->created && local_fs_is_dir(in->data)) {
		ret = is_pg(st) ? local_pg_password(in, st, sec) :
		    local_redis_password(in, st, sec);
		if (ret < 0) {
			local_state_save(in, st);
			return -1;
		}
	}
	if (local_secret_save(in, sec) < 0 || local_state_save(in, st) < 0)
		return -1;
	log_info("instance %s: secret stored", in->id);
	return 0;
}

static int
op_store_secret(void *self, const struct prov_spec *spec,
		const char *password)
{
	struct local_inst in;
	struct local_state st;
	struct local_secret sec = { "", "" };
	int fd = -1, ret = -1;

	if (local_inst_init(&in, self, spec->id, spec) < 0)
		return -1;
	if (!password || !local_secret_is_password(password))
		return fail("instance %s: a password must be 8 to 128"
		    " printable characters without spaces", in.id);
	if (local_inst_mkdir(&in) < 0 || lock_for_change(&in, &fd) < 0)
		return -1;
	if (local_state_load(&in, &st) == 0)
		ret = secret_locked(&in, &st, &sec, password);
	local_secret_clear(&sec);
	local_unlock(fd);
	return ret;
}

static int
apply_locked(const struct local_inst *in, struct local_state *st,
	     const struct local_secret *sec)
{
	int ret;

	if (st->created && !local_fs_is_dir(in->data))
		return fail("instance %s: data directory is missing", in->id);
	if (st->type[0] && strcmp(st->type, in->spec->type) != 0)
		return local_state_fail(in, st, "created as %s, not %s",
		    st->type, in->spec->type);
	snprintf(st->type, sizeof(st->type), "%s", in->spec->type);
	ret = is_pg(st) ? local_pg_apply(in, st, sec) :
	    local_redis_apply(in, st, sec);
	if (ret == 0)
		st->error[0] = '\0';
	return ret;
}

static int
op_apply(void *self, const struct prov_spec *spec)
{
	struct local_inst in;
	struct local_state st;
	struct local_secret sec = { "", "" };
	int fd = -1, ret = -1;

	if (local_inst_init(&in, self, spec->id, spec) < 0 ||
	    check_spec(self, spec) < 0 || lock_for_change(&in, &fd) < 0)
		return -1;
	if (local_state_load(&in, &st) == 0) {
		ret = local_secret_load(&in, &sec);
		if (ret == LOCAL_MISSING)
			ret = fail("instance %s: no secret stored", in.id);
		if (ret == 0)
			ret = apply_locked(&in, &st, &sec);
		if (local_state_save(&in, &st) < 0)
			ret = -1;
	}
	local_secret_clear(&sec);
	local_unlock(fd);
	if (ret == LOCAL_PORT_TAKEN)
		log_warn("instance %s: port %d is taken by something else",
		    in.id, spec->port);
	return ret == LOCAL_PORT_TAKEN ? PROV_PORT_TAKEN : ret;
}

/* Finishes a pending PostgreSQL first-start setup if nobody holds the
 * lock; state and secret are read again under it. */
static void
finish_setup(const struct local_inst *in, struct local_state *st,
	     struct local_secret *sec)
{
	int fd;

	if (st->synced || local_lock(in, 0, &fd) != 0)
		return;
	if (local_state_load(in, st) == 0 && local_secret_load(in, sec) == 0 &&
	    local_pg_setup(in, st, sec) == 0)
		local_state_save(in, st);
	local_unlock(fd);
}

/* Reads what observe needs; fills o and returns -1 when that is all
 * there is to say. */
static int
observe_files(const struct local_inst *in, struct local_state *st,
	      struct local_secret *sec, struct prov_observation *o)
{
	if (local_state_load(in, st) < 0)
		local_observed(o, PROV_FAILED, "cannot read the state file");
	else if (!st->created && st->error[0])
		local_observed(o, PROV_FAILED, st->error);
	else if (!st->created)
		local_observed(o, PROV_ABSENT, "not created yet");
	else if (!local_fs_is_dir(in->data))
		local_observed(o, PROV_FAILED, "data directory is missing");
	else if (strcmp(st->type, in->spec->type) != 0)
		local_observed(o, PROV_FAILED, "created with another type");
	else if (local_secret_load(in, sec) != 0)
		local_observed(o, PROV_FAILED, "the secret file is missing");
	else
		return 0;
	return -1;
}

static void
observe_one(struct local *l, const struct prov_spec *spec, bool detail,
	    struct prov_observation *o)
{
	struct local_inst in;
	struct local_state st;
	struct local_secret sec = { "", "" };

	memset(o, 0, sizeof(*o));
	o->state = PROV_ABSENT;
	o->connections = o->storage_bytes = o->memory_bytes = o->uptime_s = -1;
	if (local_inst_init(&in, l, spec->id, spec) < 0) {
		local_observed(o, PROV_FAILED, "invalid instance id");
		return;
	}
	if (!local_fs_is_dir(in.dir) || observe_files(&in, &st, &sec, o) < 0)
		goto out;
	if (is_pg(&st)) {
		finish_setup(&in, &st, &sec);
		local_pg_observe(&in, &st, &sec, detail, o);
	} else {
		local_redis_observe(&in, &st, &sec, detail, o);
	}
	o->port_taken = o->state == PROV_FAILED &&
	    strstr(o->reason, LOCAL_PORT_IN_USE_TAIL) != NULL;
out:
	local_secret_clear(&sec);
}

static int
op_observe(void *self, const struct prov_spec *specs, size_t n, bool detail,
	   struct prov_observation *out)
{
	for (size_t i = 0; i < n; i++)
		observe_one(self, &specs[i], detail, &out[i]);
	return 0;
}

static int
op_destroy(void *self, const char *id)
{
	struct local_inst in;
	struct local_state st;
	int fd = -1, ret;

	if (local_inst_init(&in, self, id, NULL) < 0)
		return -1;
	if (!local_fs_is_dir(in.dir))
		return 0;
	ret = local_lock(&in, LOCK_WAIT_MS, &fd);
	if (ret == LOCAL_MISSING)
		return 0;	/* someone else just destroyed it */
	if (ret != 0)
		return ret < 0 ? -1 : fail("instance %s: busy", id);
	if (local_state_load(&in, &st) < 0)
		memset(&st, 0, sizeof(st));
	/* type unknown (never created): look for either server */
	ret = strcmp(st.type, "redis") != 0 ? local_pg_stop(&in) : 0;
	if (ret == 0 && strcmp(st.type, "postgres") != 0)
		ret = local_redis_stop(&in);
	if (ret == 0)	/* split: the agent's part first, then ours */
		ret = local_fs_remove_as(in.l, in.dir);
	if (ret == 0)
		ret = local_fs_remove(in.dir);
	local_unlock(fd);
	if (ret == 0)
		log_info("instance %s: destroyed", id);
	return ret;
}

static int
op_list(void *self, char ***ids, size_t *n)
{
	const struct local *l = self;
	char path[LOCAL_PATH_MAX];
	DIR *d = opendir(l->dir);
	struct dirent *e;
	size_t cap = 0;

	*ids = NULL;
	*n = 0;
	if (!d)
		return fail("open '%s': %s", l->dir, strerror(errno));
	while ((e = readdir(d))) {
		if (!local_is_id(e->d_name) || snprintf(path, sizeof(path),
		    "%s/%s", l->dir, e->d_name) >= (int)sizeof(path) ||
		    !local_fs_is_dir(path))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
		}
		(*ids)[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	return 0;
}

static int
renew_locked(const struct local_inst *in, int64_t margin_s)
{
	struct local_state st;
	struct local_secret sec = { "", "" };
	int ret = -1;

	if (local_state_load(in, &st) < 0)
		return -1;
	if (!st.created)
		ret = 0;	/* apply makes the files before the start */
	else if (is_pg(&st))
		ret = local_pg_renew(in, &st, margin_s);
	else if ((ret = local_secret_load(in, &sec)) == 0)
		ret = local_redis_renew(in, &st, &sec, margin_s);
	else if (ret == LOCAL_MISSING)
		ret = fail("instance %s: no secret to reload redis with",
		    in->id);
	local_secret_clear(&sec);
	if (local_state_save(in, &st) < 0)
		ret = -1;
	return ret;
}

/* An instance whose lock is held (an apply, a backup's restore) is left
 * for the next pass rather than waited for: the margin is days, and a
 * pass must not stall behind one instance. */
static int
op_renew_cert(void *self, const struct prov_spec *spec, int64_t margin_s,
	      time_t *not_after)
{
	struct local_inst in;
	int fd = -1, ret;

	*not_after = 0;

	if (local_inst_init(&in, self, spec->id, spec) < 0)
		return -1;
	if (!local_fs_is_dir(in.dir))
		return 0;
	ret = local_lock(&in, 0, &fd);
	if (ret == LOCAL_BUSY || ret == LOCAL_MISSING)
		return 0;
	if (ret < 0)
		return -1;
	ret = renew_locked(&in, margin_s);
	if (ret >= 0 && local_tls_expiry(&in, not_after) != 0)
		*not_after = 0;
	local_unlock(fd);
	return ret == LOCAL_CHANGED ? PROV_RENEWED : ret;
}

/* The driver's own superuser over the instance's unix socket: PostgreSQL's
 * dbtree_root (the only way pg_hba lets it in), Redis's default user on
 * redis.sock (its port takes TLS only, which our hiredis lacks; the
 * socket needs no CA). */
static int
op_admin(void *self, const struct prov_spec *spec, struct prov_admin *out)
{
	struct local *l = self;
	struct local_inst in;
	struct local_secret sec = { "", "" };

	if (local_inst_init(&in, l, spec->id, spec) < 0)
		return -1;
	if (local_secret_load(&in, &sec) != 0)
		return fail("instance %s: no secret to reach it with", in.id);
	out->port = spec->port;
	out->tls = false;	/* a unix socket either way */
	out->ca_file[0] = '\0';
	snprintf(out->password, sizeof(out->password), "%s", sec.root);
	local_secret_clear(&sec);
	if (strcmp(spec->type, "postgres") == 0) {
		snprintf(out->host, sizeof(out->host), "%s", in.dir);
		snprintf(out->user, sizeof(out->user), "dbtree_root");
	} else {
		local_inst_path(&in, LOCAL_REDIS_SOCKET, out->host);
		out->port = 0;
		snprintf(out->user, sizeof(out->user), "default");
	}
	return 0;
}

static int
op_load_rdb(void *self, const struct prov_spec *spec, const char *path)
{
	struct local_inst in;
	struct local_state st;
	struct local_secret sec = { "", "" };
	int fd = -1, ret = -1;

	if (local_inst_init(&in, self, spec->id, spec) < 0 ||
	    check_spec(self, spec) < 0 || lock_for_change(&in, &fd) < 0)
		return -1;
	if (local_state_load(&in, &st) == 0 && strcmp(st.type, "redis") == 0 &&
	    local_secret_load(&in, &sec) == 0) {
		ret = local_redis_load(&in, &st, &sec, path);
		local_state_save(&in, &st);
	}
	local_secret_clear(&sec);
	local_unlock(fd);
	return ret;
}

const struct prov_ops prov_local_ops = {
	.name = "local",
	.close = op_close,
	.supports = op_supports,
	.store_secret = op_store_secret,
	.apply = op_apply,
	.observe = op_observe,
	.destroy = op_destroy,
	.list = op_list,
	.renew_cert = op_renew_cert,
	.admin = op_admin,
	.load_rdb = op_load_rdb,
};
