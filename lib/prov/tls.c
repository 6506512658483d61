/*
 * The installation's CA and the instances' server certificates, on
 * libcrypto.  Nothing here is hand-written crypto: keys come from
 * EVP_EC_gen, certificates are built and signed with the X509 API.
 *
 * EC P-256 rather than RSA: keys are made in a millisecond (the renewal
 * job may issue many at once), handshakes are cheaper, and every client
 * we hand connection strings to (libpq, redis-cli, mongosh, drivers)
 * takes ECDSA.  The subjectAltName is built as GENERAL_NAMEs, never from
 * an OpenSSL configuration string, so a host with a comma cannot add an
 * entry of its own (and tls_is_valid_host refuses it anyway).
 *
 * ca.key is written 0600 to a temporary name and renamed; ca.pem last, so
 * a CA directory with ca.pem always has the key that signed it.
 */
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "prov/tls.h"

#define TLS_SKEW_S 300		/* notBefore this far back */

/* Logs what failed with OpenSSL's first queued reason; -1. */
static int
ossl_fail(const char *what, const char *subject)
{
	char why[256] = "unknown error";
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, why, sizeof(why));
	ERR_clear_error();
	return fail("tls: %s '%s': %s", what, subject, why);
}

int
tls_dir(const struct conf *c, char *out, size_t size)
{
	int n;

	if (c->tls_dir[0])
		n = snprintf(out, size, "%s", c->tls_dir);
	else
		n = snprintf(out, size, "%s/tls", c->state_dir);
	if (n < 0 || (size_t)n >= size)
		return fail("tls: directory name too long");
	return 0;
}

/* The host as an IP address (the caller frees), NULL when it is not one. */
static ASN1_OCTET_STRING *
host_ip(const char *host)
{
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);

	ERR_clear_error();	/* "not an address" is an answer here */
	return ip;
}

static bool
host_ip_is(const char *host)
{
	ASN1_OCTET_STRING *ip = host_ip(host);

	ASN1_OCTET_STRING_free(ip);
	return ip != NULL;
}

bool
tls_is_valid_host(const char *host)
{
	size_t n = strlen(host);

	if (host_ip_is(host))
		return true;
	if (n == 0 || n > TLS_HOST_MAX || host[0] == '-' || host[0] == '.')
		return false;
	return strspn(host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == n;
}

/* ---- reading and writing PEM ------------------------------------------ */

/* The text of a memory BIO as a malloc'd string. */
static char *
bio_text(BIO *b)
{
	char *data, *out;
	long n = BIO_get_mem_data(b, &data);

	out = xmalloc((size_t)n + 1);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	return out;
}

static char *
cert_text(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;

	if (b && PEM_write_bio_X509(b, x))
		out = bio_text(b);
	else
		ossl_fail("write certificate", "PEM");
	BIO_free(b);
	return out;
}

/* The key as PKCS#8 PEM; the BIO is wiped when freed (secure memory). */
static char *
key_text(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *out = NULL;

	if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
		out = bio_text(b);
	else
		ossl_fail("write key", "PEM");
	BIO_free(b);
	return out;
}

static X509 *
cert_parse(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	if (!x)
		ossl_fail("read certificate", "PEM text");
	return x;
}

static X509 *
cert_load(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	if (!x)
		ossl_fail("read certificate", path);
	return x;
}

static EVP_PKEY *
key_load(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	if (!k)
		ossl_fail("read key", path);
	return k;
}

/* Writes text to path through path.tmp (exclusive, exactly mode whatever
 * the umask) and a rename.  0 or -1. */
static int
file_put(const char *path, const char *text, mode_t mode)
{
	char tmp[4096];
	size_t n = strlen(text);
	int fd, ret = -1;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0)
		return fail("tls: create '%s': %s", tmp, strerror(errno));
	if (fchmod(fd, mode) < 0 || write(fd, text, n) != (ssize_t)n ||
	    fsync(fd) < 0)
		log_err("tls: write '%s': %s", tmp, strerror(errno));
	else if (rename(tmp, path) < 0)
		log_err("tls: rename '%s': %s", tmp, strerror(errno));
	else
		ret = 0;
	close(fd);
	if (ret < 0)
		unlink(tmp);
	return ret;
}

/* ---- building certificates ------------------------------------------- */

/* A random positive 159-bit serial (RFC 5280: at most 20 octets). */
static int
set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok = bn && BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));

	BN_free(bn);
	return ok ? 0 : ossl_fail("make serial", "random");
}

static int
set_name(X509_NAME *name, const char *cn)
{
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"dbtree", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0))
		return ossl_fail("set name", cn);
	return 0;
}

/* Adds one extension from OpenSSL's text form (fixed texts only). */
static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = ext && X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : ossl_fail("add extension", value);
}

/* A new certificate for key: version 3, serial, validity, subject. */
static X509 *
cert_new(EVP_PKEY *key, const char *cn, int64_t days)
{
	X509 *x = X509_new();

	if (!x || !X509_set_version(x, X509_VERSION_3) || set_serial(x) < 0 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -TLS_SKEW_S) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) ||
	    !X509_set_pubkey(x, key) ||
	    set_name(X509_get_subject_name(x), cn) < 0) {
		ossl_fail("make certificate", cn);
		X509_free(x);
		return NULL;
	}
	return x;
}

static int
sign(X509 *x, EVP_PKEY *ca_key)
{
	if (!X509_sign(x, ca_key, EVP_sha256()))
		return ossl_fail("sign certificate", "sha256");
	return 0;
}

static EVP_PKEY *
key_new(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (!k)
		ossl_fail("make key", "P-256");
	return k;
}

/* ---- the CA ----------------------------------------------------------- */

static void
ca_paths(const char *dir, char *cert, char *key, size_t size)
{
	snprintf(cert, size, "%s/" TLS_CA_CERT, dir);
	snprintf(key, size, "%s/" TLS_CA_KEY, dir);
}

/* A self-signed CA certificate for key. */
static X509 *
ca_cert_new(EVP_PKEY *key)
{
	X509 *x = cert_new(key, "dbtree instances CA", TLS_CA_DAYS);

	if (x && (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
	    add_ext(x, x, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0") ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") ||
	    sign(x, key) < 0)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Makes ca.key and ca.pem (in that order). */
static int
ca_make(const char *cert_path, const char *key_path)
{
	EVP_PKEY *key = key_new();
	X509 *x = key ? ca_cert_new(key) : NULL;
	char *cert = x ? cert_text(x) : NULL;
	char *pem = key && cert ? key_text(key) : NULL;
	int ret = -1;

	if (pem && file_put(key_path, pem, 0600) == 0 &&
	    file_put(cert_path, cert, 0644) == 0)
		ret = 0;
	if (pem)
		OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	free(cert);
	X509_free(x);
	EVP_PKEY_free(key);
	return ret;
}

/* Under the lock: the CA exists, or is made now. */
static int
ca_ensure_locked(const char *dir)
{
	char cert[4096], key[4096];

	ca_paths(dir, cert, key, sizeof(cert));
	if (access(cert, F_OK) == 0) {
		if (access(key, R_OK) != 0)
			return fail("tls: CA '%s' has no readable key '%s'",
			    cert, key);
		return 0;
	}
	if (errno != ENOENT)
		return fail("tls: '%s': %s", cert, strerror(errno));
	if (ca_make(cert, key) < 0)
		return -1;
	log_info("tls: certificate authority made in '%s'", dir);
	return 0;
}

int
tls_ca_ensure(const char *dir)
{
	char lock[4096];
	int fd, ret;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail("tls: create '%s': %s", dir, strerror(errno));
	snprintf(lock, sizeof(lock), "%s/lock", dir);
	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail("tls: open '%s': %s", lock, strerror(errno));
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return fail("tls: lock '%s': %s", lock, strerror(errno));
	}
	ret = ca_ensure_locked(dir);
	close(fd);
	return ret;
}

char *
tls_ca_pem(const char *dir)
{
	char cert[4096], key[4096];
	X509 *x;
	char *out;

	ca_paths(dir, cert, key, sizeof(cert));
	x = cert_load(cert);
	if (!x)
		return NULL;
	out = cert_text(x);
	X509_free(x);
	return out;
}

/* ---- server certificates ----------------------------------------------- */

/* Appends host to names: an IP entry for an address, DNS otherwise. */
static int
add_name(GENERAL_NAMES *names, const char *host)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_OCTET_STRING *ip = host_ip(host);
	ASN1_IA5STRING *dns = NULL;

	if (!gn)
		return -1;
	if (ip) {
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
	} else {
		dns = ASN1_IA5STRING_new();
		if (!dns || !ASN1_STRING_set(dns, host, -1)) {
			ASN1_IA5STRING_free(dns);
			GENERAL_NAME_free(gn);
			return -1;
		}
		GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
	}
	if (!sk_GENERAL_NAME_push(names, gn)) {
		GENERAL_NAME_free(gn);
		return -1;
	}
	return 0;
}

/* subjectAltName: host, then localhost and 127.0.0.1 unless host is one. */
static int
add_san(X509 *x, const char *host)
{
	static const char *const local[] = { "localhost", "127.0.0.1" };
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	int ok = names && add_name(names, host) == 0;

	for (size_t i = 0; ok && i < ARRAY_LEN(local); i++)
		if (strcmp(host, local[i]) != 0)
			ok = add_name(names, local[i]) == 0;
	ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0,
	    X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(names);
	return ok ? 0 : ossl_fail("add subjectAltName", host);
}

/* A server certificate for key and host, signed by the CA.  Clients go
 * by the subjectAltName; the CN (at most 64 characters) is for people. */
static X509 *
server_cert_new(EVP_PKEY *key, const char *host, int64_t days, X509 *ca,
		EVP_PKEY *ca_key)
{
	X509 *x = cert_new(key, strlen(host) <= 64 ? host : "dbtree instance",
	    days);

	if (x && (X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1 ||
	    add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, ca, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(x, ca, NID_ext_key_usage, "serverAuth") ||
	    add_ext(x, ca, NID_subject_key_identifier, "hash") ||
	    add_ext(x, ca, NID_authority_key_identifier, "keyid:always") ||
	    add_san(x, host) < 0 || sign(x, ca_key) < 0)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int
tls_issue(const char *dir, const char *host, int64_t days,
	  struct tls_pair *out)
{
	char cert[4096], key[4096];
	X509 *ca = NULL, *x = NULL;
	EVP_PKEY *ca_key = NULL, *k = NULL;
	struct tls_pair p = { NULL, NULL };

	if (!tls_is_valid_host(host))
		return fail("tls: '%s' is not a host name or address", host);
	ca_paths(dir, cert, key, sizeof(cert));
	if ((ca = cert_load(cert)) && (ca_key = key_load(key)) &&
	    (k = key_new()) &&
	    (x = server_cert_new(k, host, days, ca, ca_key)) &&
	    (p.cert_pem = cert_text(x)))
		p.key_pem = key_text(k);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(ca_key);
	if (!p.key_pem) {
		tls_pair_release(&p);
		return -1;
	}
	*out = p;
	return 0;
}

void
tls_pair_release(struct tls_pair *p)
{
	if (p->key_pem)
		OPENSSL_cleanse(p->key_pem, strlen(p->key_pem));
	free(p->key_pem);
	free(p->cert_pem);
	p->key_pem = p->cert_pem = NULL;
}

/* ---- reading certificates ---------------------------------------------- */

static int
not_after(X509 *x, time_t *out)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
		return ossl_fail("read expiry", "notAfter");
	*out = timegm(&tm);
	return 0;
}

int
tls_cert_expiry(const char *cert_pem, time_t *out)
{
	X509 *x = cert_parse(cert_pem);
	int ret;

	if (!x)
		return -1;
	ret = not_after(x, out);
	X509_free(x);
	return ret;
}

/* 1 when x chains to ca and names host (as a server certificate), now. */
static int
verify(X509 *x, X509 *ca, const char *host)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	int ok = 0;

	if (store && ctx && X509_STORE_add_cert(store, ca) &&
	    X509_STORE_CTX_init(ctx, store, x, NULL)) {
		param = X509_STORE_CTX_get0_param(ctx);
		X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
		if (host_ip_is(host))
			X509_VERIFY_PARAM_set1_ip_asc(param, host);
		else
			X509_VERIFY_PARAM_set1_host(param, host, 0);
		ok = X509_verify_cert(ctx) == 1;
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

/* True when the first subjectAltName entry of x is host: what tls_issue
 * put there (the entries after it are the same for every host). */
static bool
issued_for(X509 *x, const char *host)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name,
	    NULL, NULL);
	GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, 0);
	ASN1_OCTET_STRING *ip = host_ip(host);
	bool same = false;

	if (gn && gn->type == GEN_IPADD && ip)
		same = ASN1_OCTET_STRING_cmp(gn->d.iPAddress, ip) == 0;
	else if (gn && gn->type == GEN_DNS && !ip)
		same = (size_t)ASN1_STRING_length(gn->d.dNSName) ==
		    strlen(host) && strncasecmp((const char *)
		    ASN1_STRING_get0_data(gn->d.dNSName), host,
		    strlen(host)) == 0;
	ASN1_OCTET_STRING_free(ip);
	GENERAL_NAMES_free(names);
	return same;
}

bool
tls_cert_is_due(const char *dir, const char *cert_pem, const char *host,
		int64_t margin_s)
{
	char cert[4096], key[4096];
	X509 *x = cert_parse(cert_pem), *ca = NULL;
	time_t end = 0;
	bool due = true;

	ca_paths(dir, cert, key, sizeof(cert));
	if (x && (ca = cert_load(cert)) && verify(x, ca, host) &&
	    issued_for(x, host) && not_after(x, &end) == 0)
		due = (int64_t)end - (int64_t)time(NULL) <= margin_s;
	X509_free(ca);
	X509_free(x);
	return due;
}
