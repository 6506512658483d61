/*
 * TLS for database instances, on libcrypto (OpenSSL 3): the installation's
 * certificate authority and the server certificates it signs.
 *
 * The CA lives in one directory (DBTREE_TLS_DIR, default <state>/tls, see
 * tls_dir()), made once by `dbtreectl tls init` (tls_ca_ensure):
 *
 *	ca.key	EC P-256 private key, PEM, 0600, the service's user only
 *	ca.pem	self-signed CA certificate, 0644, valid TLS_CA_DAYS;
 *		what clients verify instances with (GET /api/db/ca.pem)
 *
 * A server certificate (tls_issue) has its own fresh P-256 key, a random
 * serial, serverAuth, and names the public host (DBTREE_PUBLIC_DB_HOST)
 * in its subjectAltName: an IP entry when the host is an address, a DNS
 * entry otherwise; "localhost" and 127.0.0.1 are always named too.
 *
 *	struct tls_pair p;
 *
 *	if (tls_issue(dir, "db.example.com", 90, &p) < 0)
 *		return -1;
 *	write(p.cert_pem), write(p.key_pem);
 *	tls_pair_release(&p);
 *
 * Every function logs its own failure and may be called from any process
 * that can read the CA directory (issuing needs ca.key).
 */
#ifndef PROV_TLS_H
#define PROV_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct conf;

#define TLS_CA_CERT "ca.pem"
#define TLS_CA_KEY "ca.key"
#define TLS_CA_DAYS 3650	/* the CA outlives any installation's plans */
#define TLS_HOST_MAX 253	/* a DNS name, or an IPv4/IPv6 address */

/* A certificate and its private key, both PEM text the caller owns. */
struct tls_pair {
	char *cert_pem;
	char *key_pem;
};

/* The CA directory of configuration c into out (size bytes): tls_dir, or
 * <state_dir>/tls when that is "".  0, or -1 when it does not fit. */
int tls_dir(const struct conf *c, char *out, size_t size);

/* Makes the CA in dir (created 0700 if missing) unless it is there: a
 * fresh key and a self-signed certificate.  Safe to repeat and to race
 * (a lock file in dir).  0 when the CA exists afterwards, -1 otherwise;
 * a ca.pem without its ca.key is an error, never replaced. */
int tls_ca_ensure(const char *dir);

/* The CA certificate of dir as PEM text (the caller frees), NULL when it
 * cannot be read (logged). */
char *tls_ca_pem(const char *dir);

/* Issues a server certificate for host, signed by the CA of dir, valid
 * for days (from five minutes ago, for clocks slightly behind).  On
 * success fills *out (release it with tls_pair_release) and returns 0;
 * -1 when host is not a DNS name or an IP address, or the CA cannot be
 * loaded.  out is untouched on failure. */
int tls_issue(const char *dir, const char *host, int64_t days,
	      struct tls_pair *out);
/* Frees both texts (the key wiped first); p may hold NULLs. */
void tls_pair_release(struct tls_pair *p);

/* The notAfter of the certificate in cert_pem, as seconds since the epoch
 * into *out.  0, or -1 when the text holds no certificate. */
int tls_cert_expiry(const char *cert_pem, time_t *out);

/* Whether the certificate in cert_pem should be replaced: it does not
 * verify against the CA of dir (another CA, expired, unreadable), was not
 * issued for host (the first subjectAltName entry; "localhost" and
 * 127.0.0.1 alone do not count), or expires within margin_s seconds from
 * now. */
bool tls_cert_is_due(const char *dir, const char *cert_pem, const char *host,
		     int64_t margin_s);

/* True when host can be put in a certificate: an IP address, or a DNS
 * name of letters, digits, '-' and '.' (at most TLS_HOST_MAX). */
bool tls_is_valid_host(const char *host);

#include "base/banned.h"
#endif
