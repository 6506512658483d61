/* Driver choice and dispatch. */
#include <stdlib.h>
#include <string.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "prov/driver.h"

struct prov_driver *
prov_open(const struct conf *c)
{
	struct prov_driver *d;
	void *self = NULL;
	const struct prov_ops *ops = NULL;

	if (strcmp(c->provisioner, "local") == 0) {
		ops = &prov_local_ops;
		self = prov_local_open(c);
	} else if (strcmp(c->provisioner, "kubernetes") == 0) {
		ops = &prov_k8s_ops;
		self = prov_k8s_open(c);
	}
	if (!ops || !self) {
		log_err("provisioner '%s' could not be set up", c->provisioner);
		return NULL;
	}
	d = xmalloc(sizeof(*d));
	d->ops = ops;
	d->self = self;
	return d;
}

void
prov_close(struct prov_driver *d)
{
	if (!d)
		return;
	d->ops->close(d->self);
	free(d);
}

const char *
prov_name(const struct prov_driver *d)
{
	return d->ops->name;
}

bool
prov_supports(const struct prov_driver *d, const char *type)
{
	return d->ops->supports(d->self, type);
}

int
prov_store_secret(struct prov_driver *d, const struct prov_spec *spec,
		  const char *password)
{
	return d->ops->store_secret(d->self, spec, password);
}

int
prov_apply(struct prov_driver *d, const struct prov_spec *spec)
{
	return d->ops->apply(d->self, spec);
}

int
prov_observe(struct prov_driver *d, const struct prov_spec *specs, size_t n,
	     bool detail, struct prov_observation *out)
{
	return d->ops->observe(d->self, specs, n, detail, out);
}

int
prov_destroy(struct prov_driver *d, const char *id)
{
	return d->ops->destroy(d->self, id);
}

int
prov_list(struct prov_driver *d, char ***ids, size_t *n)
{
	return d->ops->list(d->self, ids, n);
}

int
prov_renew_cert(struct prov_driver *d, const struct prov_spec *spec,
		int64_t margin_s, time_t *not_after)
{
	return d->ops->renew_cert(d->self, spec, margin_s, not_after);
}

int
prov_admin(struct prov_driver *d, const struct prov_spec *spec,
	   struct prov_admin *out)
{
	memset(out, 0, sizeof(*out));
	if (!d->ops->admin)
		return fail("the %s driver cannot reach instances for backups",
		    d->ops->name);
	return d->ops->admin(d->self, spec, out);
}

int
prov_load_rdb(struct prov_driver *d, const struct prov_spec *spec,
	      const char *path)
{
	if (!d->ops->load_rdb)
		return fail("the %s driver cannot restore Redis data",
		    d->ops->name);
	return d->ops->load_rdb(d->self, spec, path);
}

bool
prov_supports_dump(const struct prov_driver *d, const char *type)
{
	return d->ops->supports_dump && d->ops->supports_dump(d->self, type);
}

int
prov_dump_start(struct prov_driver *d, const struct prov_spec *spec,
		const char *backup_id)
{
	if (!prov_supports_dump(d, spec->type))
		return fail("instance %s: the %s driver cannot dump type '%s'",
		    spec->id, d->ops->name, spec->type ? spec->type : "");
	return d->ops->dump_start(d->self, spec, backup_id);
}

int
prov_dump_poll(struct prov_driver *d, const char *backup_id,
	       enum prov_dump_state *state, char reason[PROV_REASON_LEN])
{
	*state = PROV_DUMP_RUNNING;
	reason[0] = '\0';
	if (!d->ops->dump_poll)
		return fail("backup %s: the %s driver has no dumps", backup_id,
		    d->ops->name);
	return d->ops->dump_poll(d->self, backup_id, state, reason);
}
