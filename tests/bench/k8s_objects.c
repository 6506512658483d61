/*
 * For tests/bench/kubernetes.sh: the objects the kubernetes driver applies
 * for each instance, built by the driver's own manifest code
 * (prov/k8s_manifest.h) with the configuration of the environment, so
 * that the bench can load thousands of instances into the API stand-in
 * at once rather than through five requests each.  Reads instances from
 * stdin, one a line as psql -tA prints them:
 *
 *	id|type|name|cpu|memory_mb|disk_gb|port
 *
 * and prints, per instance, one JSON object a line: its StatefulSet (uid:
 * the instance id), Service, NetworkPolicy and Secret (a password, no
 * certificate: the steady pass never reads one).  A pass over what this
 * loads finds nothing to change only if these are the driver's objects,
 * which the bench checks.
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/conf.h"
#include "prov/k8s_manifest.h"
#include "prov/prov.h"

#define FIELDS 7
#define OUT (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static void
put_line(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, OUT));
	json_object_put(o);
}

/* Splits line at '|' into f[FIELDS]: 0, or -1 when it has not FIELDS. */
static int
split(char *line, char *f[FIELDS])
{
	int n = 0;

	line[strcspn(line, "\n")] = '\0';
	for (char *p = line; n < FIELDS; n++) {
		f[n] = p;
		p = strchr(p, '|');
		if (!p)
			return n == FIELDS - 1 ? 0 : -1;
		*p++ = '\0';
	}
	return -1;
}

static void
objects_of(const struct k8s_manifest_conf *mc, const struct prov_spec *s)
{
	struct json_object *sts = k8s_manifest_statefulset(mc, s), *meta;

	if (json_object_object_get_ex(sts, "metadata", &meta))
		json_object_object_add(meta, "uid",
		    json_object_new_string(s->id));
	put_line(sts);
	put_line(k8s_manifest_service(mc, s, s->id));
	put_line(k8s_manifest_networkpolicy(mc, s, s->id));
	put_line(k8s_manifest_secret(mc, s, "bench-password", "bench-root",
	    NULL));
}

int
main(void)
{
	struct conf c;
	struct k8s_manifest_conf mc;
	char line[1024], *f[FIELDS];

	if (conf_load(&c) < 0)
		return 2;
	mc = (struct k8s_manifest_conf){ c.k8s_namespace,
		c.k8s_image_postgres, c.k8s_image_redis, c.k8s_image_mongodb,
		c.k8s_storage_class, c.public_db_host, c.k8s_cert_issuer,
		c.k8s_cert_issuer_kind };
	while (fgets(line, sizeof(line), stdin)) {
		struct prov_spec s;

		if (line[0] == '\n')
			continue;
		if (split(line, f) < 0) {
			fprintf(stderr, "k8s_objects: not %d fields: %s\n",
			    FIELDS, line);
			return 1;
		}
		s = (struct prov_spec){ f[0], f[1], f[2], strtod(f[3], NULL),
			strtoll(f[4], NULL, 10), strtoll(f[5], NULL, 10),
			(int)strtol(f[6], NULL, 10), true };
		objects_of(&mc, &s);
	}
	return 0;
}
