/*
 * An instance's certificate and key (layout and write order in
 * local_tls.h).  Issuing is prov/tls.c's; here only what is due and where
 * it goes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "prov/local_tls.h"
#include "prov/tls.h"

#define PEM_MAX 65536

/* ca.pem holds the CA's certificate: 0, LOCAL_CHANGED or -1. */
static int
update_ca(const struct local_inst *in)
{
	char path[LOCAL_PATH_MAX], *ca = tls_ca_pem(in->l->tls_dir);
	int ret;

	if (!ca)
		return -1;
	local_inst_path(in, LOCAL_TLS_CA, path);
	ret = local_fs_update(in->l, path, ca, 0644, true);
	free(ca);
	return ret;
}

/* True when server.pem exists and server.crt needs no renewal. */
static bool
is_current(const struct local_inst *in, int64_t margin_s)
{
	char crt[LOCAL_PATH_MAX], pem[LOCAL_PATH_MAX];
	struct buf b = BUF_INIT(PEM_MAX);
	bool ok;

	local_inst_path(in, LOCAL_TLS_CRT, crt);
	local_inst_path(in, LOCAL_TLS_PEM, pem);
	ok = local_fs_size(pem) > 0 && local_fs_read(crt, &b) == 0 &&
	    !tls_cert_is_due(in->l->tls_dir, buf_cstr(&b),
	    in->l->public_host, margin_s);
	buf_release(&b);
	return ok;
}

static void
log_issued(const struct local_inst *in, const char *cert)
{
	char day[32] = "?";
	time_t end;
	struct tm tm;

	if (tls_cert_expiry(cert, &end) == 0 && gmtime_r(&end, &tm))
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	log_info("instance %s: certificate for '%s' issued, valid until %s",
	    in->id, in->l->public_host, day);
}

/* A new key and certificate into server.pem, then server.crt. */
static int
issue(const struct local_inst *in)
{
	char pem[LOCAL_PATH_MAX], crt[LOCAL_PATH_MAX];
	struct tls_pair p;
	struct buf both = BUF_INIT(2 * PEM_MAX);
	int ret = -1;

	if (tls_issue(in->l->tls_dir, in->l->public_host, in->l->cert_days,
	    &p) < 0)
		return -1;
	local_inst_path(in, LOCAL_TLS_PEM, pem);
	local_inst_path(in, LOCAL_TLS_CRT, crt);
	if (buf_adds(&both, p.key_pem) == 0 &&
	    buf_adds(&both, p.cert_pem) == 0 &&
	    local_fs_write_private(in->l, pem, buf_cstr(&both)) == 0 &&
	    local_fs_write(in->l, crt, p.cert_pem, 0644, true) == 0) {
		log_issued(in, p.cert_pem);
		ret = 0;
	}
	if (both.data)
		explicit_bzero(both.data, both.len);
	buf_release(&both);
	tls_pair_release(&p);
	return ret;
}

int
local_tls_ensure(const struct local_inst *in, struct local_state *st,
		 int64_t margin_s)
{
	int ca = update_ca(in);

	if (ca < 0)
		return local_state_fail(in, st, "cannot copy the CA"
		    " certificate");
	if (is_current(in, margin_s))
		return ca;
	if (issue(in) < 0)
		return local_state_fail(in, st, "cannot issue a certificate");
	return LOCAL_CHANGED;
}

int
local_tls_expiry(const struct local_inst *in, time_t *out)
{
	char crt[LOCAL_PATH_MAX];
	struct buf b = BUF_INIT(PEM_MAX);
	int ret;

	local_inst_path(in, LOCAL_TLS_CRT, crt);
	ret = local_fs_read(crt, &b);
	if (ret == 0)
		ret = tls_cert_expiry(buf_cstr(&b), out);
	buf_release(&b);
	return ret;
}
