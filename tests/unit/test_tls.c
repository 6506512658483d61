/*
 * prov/tls: the CA is made once with the promised modes, server
 * certificates verify against it with X509_verify_cert (as a TLS client
 * would: purpose serverAuth, host checked), name the host in their
 * subjectAltName, match their key, and report their expiry; renewal is due
 * for what a client would reject or what expires within the margin.
 * Every case works in a fresh temporary directory.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/conf.h"
#include "prov/tls.h"
#include "harness.h"

#define DAY 86400

static char dir[64];

/* A fresh CA directory (not yet made) below a new temporary directory. */
static const char *
fresh_dir(void)
{
	char top[] = "/tmp/test_tls.XXXXXX";

	if (!mkdtemp(top))
		abort();
	snprintf(dir, sizeof(dir), "%s/tls", top);
	return dir;
}

static void
rm_dir(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strrchr(dir, '/') -
	    dir), dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static mode_t
file_mode(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? st.st_mode & 07777 : 0;
}

static X509 *
parse(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	BIO_free(b);
	return x;
}

static X509 *
ca_cert(void)
{
	char *pem = tls_ca_pem(dir);
	X509 *x = pem ? parse(pem) : NULL;

	free(pem);
	return x;
}

/* X509_verify_cert of x against the CA, as a client reaching host. */
static int
verify(X509 *x, X509 *ca, const char *host)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *p;
	int ok;

	X509_STORE_add_cert(store, ca);
	X509_STORE_CTX_init(ctx, store, x, NULL);
	p = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_SSL_SERVER);
	if (strchr(host, ':') || strspn(host, "0123456789.") == strlen(host))
		X509_VERIFY_PARAM_set1_ip_asc(p, host);
	else
		X509_VERIFY_PARAM_set1_host(p, host, 0);
	ok = X509_verify_cert(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

static void
test_ca_made_once(void)
{
	char *first, *again;

	CHECK_INT(tls_ca_ensure(fresh_dir()), 0);
	CHECK_INT(file_mode(TLS_CA_KEY), 0600);
	CHECK_INT(file_mode(TLS_CA_CERT), 0644);
	CHECK_INT(file_mode(""), 0700);
	first = tls_ca_pem(dir);
	CHECK_INT(tls_ca_ensure(dir), 0);
	again = tls_ca_pem(dir);
	if (CHECK(first && again))
		CHECK_STR(again, first);
	CHECK(first && strncmp(first, "-----BEGIN CERTIFICATE-----", 27) == 0);
	free(first);
	free(again);
	rm_dir();
}

static void
test_ca_is_a_ca(void)
{
	X509 *ca;

	tls_ca_ensure(fresh_dir());
	ca = ca_cert();
	if (CHECK(ca)) {
		CHECK_INT(X509_check_ca(ca), 1);
		CHECK_INT(X509_check_issued(ca, ca), X509_V_OK);
		CHECK(X509_get_version(ca) == X509_VERSION_3);
	}
	X509_free(ca);
	rm_dir();
}

/* A CA certificate whose key is gone is an error, never replaced. */
static void
test_ca_without_key_refused(void)
{
	char key[128], *before, *after;

	tls_ca_ensure(fresh_dir());
	before = tls_ca_pem(dir);
	snprintf(key, sizeof(key), "%s/" TLS_CA_KEY, dir);
	unlink(key);
	CHECK_INT(tls_ca_ensure(dir), -1);
	after = tls_ca_pem(dir);
	if (CHECK(before && after))
		CHECK_STR(after, before);
	free(before);
	free(after);
	rm_dir();
}

static void
test_issue_verifies(void)
{
	struct tls_pair p = { NULL, NULL };
	X509 *ca, *x;

	tls_ca_ensure(fresh_dir());
	if (!CHECK_INT(tls_issue(dir, "db.example.com", 90, &p), 0))
		return rm_dir();
	ca = ca_cert();
	x = parse(p.cert_pem);
	if (CHECK(ca && x)) {
		CHECK_INT(verify(x, ca, "db.example.com"), 1);
		CHECK_INT(verify(x, ca, "localhost"), 1);
		CHECK_INT(verify(x, ca, "127.0.0.1"), 1);
		CHECK_INT(verify(x, ca, "other.example.com"), 0);
		CHECK_INT(verify(x, ca, "10.0.0.1"), 0);
		CHECK_INT(X509_check_ca(x), 0);
	}
	X509_free(x);
	X509_free(ca);
	tls_pair_release(&p);
	rm_dir();
}

/* The SAN holds the host (DNS or IP entry) and the key is the cert's. */
static void
test_issue_san_and_key(void)
{
	struct tls_pair p = { NULL, NULL };
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	BIO *b;

	tls_ca_ensure(fresh_dir());
	if (!CHECK_INT(tls_issue(dir, "192.0.2.7", 30, &p), 0))
		return rm_dir();
	x = parse(p.cert_pem);
	b = BIO_new_mem_buf(p.key_pem, -1);
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (CHECK(x && k)) {
		CHECK_INT(X509_check_ip_asc(x, "192.0.2.7", 0), 1);
		CHECK_INT(X509_check_host(x, "192.0.2.7", 0, 0, NULL), 0);
		CHECK_INT(X509_check_host(x, "localhost", 0, 0, NULL), 1);
		CHECK_INT(X509_check_private_key(x, k), 1);
	}
	EVP_PKEY_free(k);
	X509_free(x);
	tls_pair_release(&p);
	rm_dir();
}

/* Two certificates for one host never share a serial or a key. */
static void
test_issue_fresh_each_time(void)
{
	struct tls_pair a = { NULL, NULL }, b = { NULL, NULL };
	X509 *xa = NULL, *xb = NULL;

	tls_ca_ensure(fresh_dir());
	if (CHECK_INT(tls_issue(dir, "localhost", 1, &a), 0) &&
	    CHECK_INT(tls_issue(dir, "localhost", 1, &b), 0)) {
		xa = parse(a.cert_pem);
		xb = parse(b.cert_pem);
		CHECK(strcmp(a.key_pem, b.key_pem) != 0);
		if (CHECK(xa && xb))
			CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(xa),
			    X509_get0_serialNumber(xb)) != 0);
	}
	X509_free(xa);
	X509_free(xb);
	tls_pair_release(&a);
	tls_pair_release(&b);
	rm_dir();
}

static void
test_issue_refuses_bad_host(void)
{
	static const char *bad[] = { "", "a,DNS:evil.example", "-x", ".x",
		"a b", "x\ny", "host/path" };
	struct tls_pair p = { NULL, NULL };
	char long_host[TLS_HOST_MAX + 2];

	tls_ca_ensure(fresh_dir());
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		CHECK(!tls_is_valid_host(bad[i]));
		CHECK_INT(tls_issue(dir, bad[i], 90, &p), -1);
		CHECK(p.cert_pem == NULL && p.key_pem == NULL);
	}
	CHECK(tls_is_valid_host("::1"));
	memset(long_host, 'a', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = '\0';
	CHECK(!tls_is_valid_host(long_host));
	long_host[TLS_HOST_MAX] = '\0';
	CHECK(tls_is_valid_host(long_host));
	CHECK(tls_is_valid_host("db-1.example.com"));
	rm_dir();
}

/* A host longer than a CN may be (64) is named in the SAN alone. */
static void
test_issue_long_host(void)
{
	char host[TLS_HOST_MAX + 1];
	struct tls_pair p = { NULL, NULL };
	X509 *x = NULL;

	memset(host, 'a', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	for (size_t i = 60; i < sizeof(host) - 1; i += 60)
		host[i] = '.';
	tls_ca_ensure(fresh_dir());
	if (CHECK_INT(tls_issue(dir, host, 90, &p), 0))
		x = parse(p.cert_pem);
	if (CHECK(x))
		CHECK_INT(X509_check_host(x, host, 0, 0, NULL), 1);
	X509_free(x);
	tls_pair_release(&p);
	rm_dir();
}

/* Issuing without a CA fails and says so. */
static void
test_issue_without_ca(void)
{
	struct tls_pair p = { NULL, NULL };

	fresh_dir();
	CHECK_INT(tls_issue(dir, "localhost", 90, &p), -1);
	CHECK(p.cert_pem == NULL);
	rm_dir();
}

static void
test_expiry(void)
{
	struct tls_pair p = { NULL, NULL };
	time_t end = 0, now = time(NULL);

	tls_ca_ensure(fresh_dir());
	if (CHECK_INT(tls_issue(dir, "localhost", 90, &p), 0)) {
		CHECK_INT(tls_cert_expiry(p.cert_pem, &end), 0);
		CHECK(end >= now + 90 * DAY - 5 && end <= now + 90 * DAY + 5);
	}
	CHECK_INT(tls_cert_expiry("not a certificate", &end), -1);
	tls_pair_release(&p);
	rm_dir();
}

static void
test_due(void)
{
	struct tls_pair p = { NULL, NULL }, other = { NULL, NULL };
	char other_dir[64];

	tls_ca_ensure(fresh_dir());
	if (!CHECK_INT(tls_issue(dir, "db.example.com", 90, &p), 0))
		return rm_dir();
	CHECK(!tls_cert_is_due(dir, p.cert_pem, "db.example.com", 30 * DAY));
	CHECK(tls_cert_is_due(dir, p.cert_pem, "db.example.com", 90 * DAY));
	CHECK(tls_cert_is_due(dir, p.cert_pem, "db2.example.com", 30 * DAY));
	/* named too, but issued for another host */
	CHECK(tls_cert_is_due(dir, p.cert_pem, "localhost", 30 * DAY));
	CHECK(tls_cert_is_due(dir, p.cert_pem, "127.0.0.1", 30 * DAY));
	CHECK(!tls_cert_is_due(dir, p.cert_pem, "DB.example.com", 30 * DAY));
	CHECK(tls_cert_is_due(dir, "garbage", "db.example.com", 30 * DAY));
	/* signed by another installation's CA */
	snprintf(other_dir, sizeof(other_dir), "%s", dir);
	tls_ca_ensure(fresh_dir());
	if (CHECK_INT(tls_issue(dir, "db.example.com", 90, &other), 0))
		CHECK(tls_cert_is_due(other_dir, other.cert_pem,
		    "db.example.com", 30 * DAY));
	tls_pair_release(&other);
	tls_pair_release(&p);
	rm_dir();
	snprintf(dir, sizeof(dir), "%s", other_dir);
	rm_dir();
}

static void
test_dir_default(void)
{
	struct conf c = { 0 };
	char out[64];

	c.state_dir = "/var/lib/dbtree";
	c.tls_dir = "";
	CHECK_INT(tls_dir(&c, out, sizeof(out)), 0);
	CHECK_STR(out, "/var/lib/dbtree/tls");
	c.tls_dir = "/etc/dbtree/tls";
	CHECK_INT(tls_dir(&c, out, sizeof(out)), 0);
	CHECK_STR(out, "/etc/dbtree/tls");
	CHECK_INT(tls_dir(&c, out, 8), -1);
}

static const struct test_case cases[] = {
	{ "ca_made_once", test_ca_made_once },
	{ "ca_is_a_ca", test_ca_is_a_ca },
	{ "ca_without_key_refused", test_ca_without_key_refused },
	{ "issue_verifies", test_issue_verifies },
	{ "issue_san_and_key", test_issue_san_and_key },
	{ "issue_fresh_each_time", test_issue_fresh_each_time },
	{ "issue_refuses_bad_host", test_issue_refuses_bad_host },
	{ "issue_long_host", test_issue_long_host },
	{ "issue_without_ca", test_issue_without_ca },
	{ "expiry", test_expiry },
	{ "due", test_due },
	{ "dir_default", test_dir_default },
};

int
main(void)
{
	return harness_run("tls", cases, ARRAY_LEN(cases));
}
