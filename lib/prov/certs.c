/* The certificate renewal pass over the fleet (certs.h). */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "domain/fleet.h"
#include "prov/certs.h"
#include "prov/prov.h"

int
certs_renew(struct db *db, struct prov_driver *d, int64_t margin_s,
	    int64_t deadline_ms, struct certs_stats *st)
{
	struct fleet_row *rows = NULL;
	size_t n = 0;

	memset(st, 0, sizeof(*st));
	if (fleet_load(db, 0, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && clock_mono_ms() < deadline_ms; i++) {
		struct fleet_row *r = &rows[i];
		struct prov_spec s = { .id = r->id, .type = r->type,
			.name = r->name, .cpu = r->cpu,
			.memory_mb = r->memory_mb, .disk_gb = r->disk_gb,
			.port = r->port, .running = true };
		time_t end = 0;
		int ret;

		if (r->desired == LC_WANT_DELETED)
			continue;
		st->checked++;
		ret = prov_renew_cert(d, &s, margin_s, &end);
		st->renewed += ret == PROV_RENEWED;
		st->failed += ret < 0;
		if (end > 0 && (st->earliest_expiry == 0 ||
		    end < st->earliest_expiry))
			st->earliest_expiry = end;
	}
	free(rows);
	return 0;
}
