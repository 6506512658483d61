/*
 * For the local driver only: an instance's TLS files, in its directory.
 *
 *	server.pem	the private key, then the certificate: 0600 and the
 *			instance user's (PostgreSQL refuses a key file its
 *			group may read); both servers load key and
 *			certificate from it, so they can never disagree
 *	server.crt	the certificate alone, group-readable: what the
 *			driver reads to decide on renewal (it may not read
 *			server.pem when split)
 *	ca.pem		the installation's CA (prov/tls.h), for Redis's
 *			tls-ca-cert-file
 *
 * server.pem is written before server.crt, so a crash in between leaves
 * a server.crt that is older than the key, and the next check issues
 * again at worst.
 */
#ifndef PROV_LOCAL_TLS_H
#define PROV_LOCAL_TLS_H

#include <stdint.h>
#include <time.h>

#include "prov/local_state.h"

#define LOCAL_TLS_PEM "server.pem"
#define LOCAL_TLS_CRT "server.crt"
#define LOCAL_TLS_CA "ca.pem"

/* Makes sure the instance has a certificate from the CA that names the
 * public host and does not expire within margin_s seconds (0: is still
 * valid), issuing one otherwise; ca.pem follows the CA.  0 when nothing
 * changed, LOCAL_CHANGED when files were written (a running server must
 * load them), or -1 (recorded in st->error). */
int local_tls_ensure(const struct local_inst *in, struct local_state *st,
		     int64_t margin_s);
/* The notAfter of the instance's server.crt into *out: 0, LOCAL_MISSING
 * (no certificate yet), or -1 (unreadable; logged when the read failed). */
int local_tls_expiry(const struct local_inst *in, time_t *out);

#include "base/banned.h"
#endif
