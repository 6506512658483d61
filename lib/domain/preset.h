/*
 * Instance presets (the db_presets table): what people pick from in the
 * create wizard.
 */
#ifndef DOMAIN_PRESET_H
#define DOMAIN_PRESET_H

#include <stddef.h>
#include <stdint.h>

#include "domain/instance.h"

struct db;

struct preset {
	char id[48];
	struct instance_spec spec;
	char name[64], icon[16];
	char description[256], friendly[256];
	char *terms_json;	/* JSON object text, malloc'd */
	char *uses_json;	/* JSON array text, malloc'd */
	char *config_json;	/* JSON object text, malloc'd */
	int64_t sort_order;
};

/* Every preset, by sort order; *out malloc'd, release with preset_free.
 * 0 or -1. */
int preset_list(struct db *db, struct preset **out, size_t *n);
void preset_free(struct preset *p, size_t n);

#include "base/banned.h"
#endif
