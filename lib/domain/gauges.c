/* Gauges: one row each, upserted by the jobs, read by /metrics. */
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "domain/gauges.h"
#include "store/db.h"

int
gauges_set(struct db *db, const char *name, double value)
{
	char v[32];
	const char *params[] = { name, v };
	PGresult *res;

	snprintf(v, sizeof(v), "%.17g", value);
	res = db_exec(db, "INSERT INTO gauges (name, value) VALUES ($1,"
	    " $2::double precision) ON CONFLICT (name) DO UPDATE"
	    " SET value = EXCLUDED.value, updated_at = now()", 2, params);
	PQclear(res);
	return res ? 0 : -1;
}

int
gauges_render(struct db *db, struct buf *out)
{
	PGresult *res = db_exec(db, "SELECT name, value FROM gauges"
	    " ORDER BY name", 0, NULL);
	int ret = 0;

	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res) && ret == 0; i++)
		ret = buf_addf(out, "# HELP dbtree_%s Set by the jobs' last"
		    " pass.\n# TYPE dbtree_%s gauge\ndbtree_%s %s\n",
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	PQclear(res);
	return ret;
}
