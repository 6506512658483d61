/* Worker-lifetime resources. */
#include <curl/curl.h>

#include "web/app.h"

void
app_open(struct app *app, const struct conf *conf)
{
	app->conf = *conf;
	db_open(&app->db, conf->db_url, conf->db_connect_timeout_s,
	    conf->db_statement_timeout_ms);
	kv_open(&app->kv, conf->redis, conf->redis_timeout_ms);
	app->curl = curl_easy_init();
}

void
app_close(struct app *app)
{
	db_close(&app->db);
	kv_close(&app->kv);
	curl_easy_cleanup(app->curl);
	app->curl = NULL;
}
