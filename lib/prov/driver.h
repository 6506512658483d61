/*
 * For driver implementations only: the operations behind prov.h.  A driver
 * provides a `const struct prov_ops` and an open function; prov.c picks one
 * by DBTREE_PROVISIONER and dispatches.
 */
#ifndef PROV_DRIVER_H
#define PROV_DRIVER_H

#include "prov/prov.h"

struct prov_ops {
	const char *name;
	void (*close)(void *self);
	bool (*supports)(void *self, const char *type);
	int (*store_secret)(void *self, const struct prov_spec *spec,
			    const char *password);
	int (*apply)(void *self, const struct prov_spec *spec);
	int (*observe)(void *self, const struct prov_spec *specs, size_t n,
		       bool detail, struct prov_observation *out);
	int (*destroy)(void *self, const char *id);
	int (*list)(void *self, char ***ids, size_t *n);
	int (*renew_cert)(void *self, const struct prov_spec *spec,
			  int64_t margin_s, time_t *not_after);
	int (*admin)(void *self, const struct prov_spec *spec,
		     struct prov_admin *out);
	int (*load_rdb)(void *self, const struct prov_spec *spec,
			const char *path);
	/* dumps: NULL when the driver has none */
	bool (*supports_dump)(void *self, const char *type);
	int (*dump_start)(void *self, const struct prov_spec *spec,
			  const char *backup_id);
	int (*dump_poll)(void *self, const char *backup_id,
			 enum prov_dump_state *state, char *reason);
};

struct prov_driver {
	const struct prov_ops *ops;
	void *self;
};

/* The local driver (prov/local.c): NULL on failure (logged). */
void *prov_local_open(const struct conf *c);
extern const struct prov_ops prov_local_ops;

/* The Kubernetes driver (prov/k8s.c): NULL on failure (logged). */
void *prov_k8s_open(const struct conf *c);
extern const struct prov_ops prov_k8s_ops;

#include "base/banned.h"
#endif
