/* Presets: one query, copied out of the result. */
#include <stdio.h>
#include <stdlib.h>

#include "base/xalloc.h"
#include "domain/preset.h"
#include "store/db.h"

static void
fill(const PGresult *res, int i, struct preset *p)
{
	struct instance_spec *s = &p->spec;

	snprintf(p->id, sizeof(p->id), "%s", PQgetvalue(res, i, 0));
	snprintf(s->preset, sizeof(s->preset), "%s", p->id);
	snprintf(s->type, sizeof(s->type), "%s", PQgetvalue(res, i, 1));
	snprintf(s->size, sizeof(s->size), "%s", PQgetvalue(res, i, 2));
	snprintf(s->mode, sizeof(s->mode), "%s", PQgetvalue(res, i, 3));
	snprintf(p->name, sizeof(p->name), "%s", PQgetvalue(res, i, 4));
	snprintf(p->icon, sizeof(p->icon), "%s", PQgetvalue(res, i, 5));
	snprintf(p->description, sizeof(p->description), "%s",
	    PQgetvalue(res, i, 6));
	snprintf(p->friendly, sizeof(p->friendly), "%s", PQgetvalue(res, i, 7));
	p->terms_json = xstrdup(PQgetvalue(res, i, 8));
	p->uses_json = xstrdup(PQgetvalue(res, i, 9));
	s->cpu = strtod(PQgetvalue(res, i, 10), NULL);
	s->memory_mb = db_get_i64(res, i, 11);
	s->disk_gb = db_get_i64(res, i, 12);
	s->creation_cost = db_get_i64(res, i, 13);
	s->hourly_cost = db_get_i64(res, i, 14);
	p->config_json = xstrdup(PQgetvalue(res, i, 15));
	p->sort_order = db_get_i64(res, i, 16);
}

int
preset_list(struct db *db, struct preset **out, size_t *n)
{
	PGresult *res = db_exec(db, "SELECT id, type, size, mode, name, icon,"
	    " description, friendly_description, technical_terms::text,"
	    " use_cases::text, cpu, memory, disk, creation_cost, hourly_cost,"
	    " default_config::text, sort_order FROM db_presets"
	    " ORDER BY sort_order, id", 0, NULL);

	if (!res)
		return -1;
	*n = (size_t)PQntuples(res);
	*out = xcalloc(*n ? *n : 1, sizeof(**out));
	for (size_t i = 0; i < *n; i++)
		fill(res, (int)i, &(*out)[i]);
	PQclear(res);
	return 0;
}

void
preset_free(struct preset *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].terms_json);
		free(p[i].uses_json);
		free(p[i].config_json);
	}
	free(p);
}
