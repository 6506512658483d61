/*
 * The kubernetes driver's pure parts: the objects of an instance compared
 * with golden files (tests/unit/golden/<engine>-<size>-<kind>.json, run
 * from the project root), the name and label rules, the patches, and the
 * observations read back from listed objects (k8s_observe.c).
 *
 * Regenerate the goldens after an intended change, then review the diff:
 *	DBTREE_UPDATE_GOLDEN=1 build/tests/test_k8s_manifest
 * On a mismatch the actual text is written under $TMPDIR (or /tmp) for
 * `diff -u`.
 */
#include <json.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "harness.h"
#include "prov/k8s_dump.h"
#include "prov/k8s_manifest.h"
#include "prov/k8s_observe.h"
#include "prov/prov.h"

#define GOLDEN_DIR "tests/unit/golden"
#define GOLDEN_FMT (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | \
	JSON_C_TO_STRING_NOSLASHESCAPE)
#define ID "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f"
#define OTHER_ID "0b1c2d3e-4f50-4617-8899-aabbccddeeff"
#define STS_UID "00000000-0000-4000-8000-000000000001"
#define PASSWORD "s3cret-Pass"
#define ROOT "r00t-Pass-0123456789"
#define NOW 1767225600		/* 2026-01-01T00:00:00Z */
#define BACKUP_ID "7b1e0c2a-5d3f-4a6b-9c8d-0e1f2a3b4c5d"

static const struct k8s_manifest_conf mc_default = {
	"dbtree", "postgres:16", "redis:7.2", "mongo:7.0", "", "db.example.com",
	"", "Issuer"
};
static const struct k8s_manifest_conf mc_ssd = {
	"dbtree", "postgres:16", "redis:7.2", "mongo:7.0", "fast-ssd",
	"203.0.113.7", "", "Issuer"
};
/* cert-manager issues the certificates */
static const struct k8s_manifest_conf mc_cm = {
	"dbtree", "postgres:16", "redis:7.2", "mongo:7.0", "", "db.example.com",
	"dbtree-ca", "ClusterIssuer"
};
static const struct k8s_manifest_conf mc_cm_ip = {
	"dbtree", "postgres:16", "redis:7.2", "mongo:7.0", "", "203.0.113.7",
	"dbtree-ca", "Issuer"
};

/* Made-up PEM texts: the builders only carry them. */
#define CERT_PEM "-----BEGIN CERTIFICATE-----\nMIIBcert\n" \
	"-----END CERTIFICATE-----\n"
#define KEY_PEM "-----BEGIN PRIVATE KEY-----\nMIIBkey\n" \
	"-----END PRIVATE KEY-----\n"
#define CA_PEM "-----BEGIN CERTIFICATE-----\nMIIBca\n" \
	"-----END CERTIFICATE-----\n"
static const struct k8s_tls tls_fixture = { CERT_PEM, KEY_PEM, CA_PEM,
	"db.example.com", NOW + 90 * 86400 };

static const char *const engines[] = { "postgres", "redis", "mongodb" };

/* tiny: running, default storage class; large: stopped, a named one. */
static struct prov_spec
spec_for(const char *type, bool large)
{
	struct prov_spec s = { ID, type, "shop", 0.1, 256, 1, 30001, true };

	if (strcmp(type, "mongodb") == 0)
		s.memory_mb = 512;
	if (large)
		s = (struct prov_spec){ ID, type, "shop", 1.0, 2048, 20, 31999,
			false };
	return s;
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT(1 << 20);
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b);
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) == 0 ? ret : -1;
}

/* Prints where want and got first differ, line by line. */
static void
report_diff(const char *path, const char *want, const char *got,
	    const char *saved)
{
	int line = 1;
	size_t i = 0;

	while (want[i] && want[i] == got[i])
		if (want[i++] == '\n')
			line++;
	while (i > 0 && want[i - 1] != '\n')
		i--;
	fprintf(stderr, "golden mismatch: %s, line %d\n  expected: %.*s\n"
	    "  actual:   %.*s\n  actual text: %s\n  review: diff -u %s %s\n"
	    "  accept:  DBTREE_UPDATE_GOLDEN=1 <this test program>\n", path,
	    line, (int)strcspn(want + i, "\n"), want + i,
	    (int)strcspn(got + i, "\n"), got + i, saved, path, saved);
}

/* Compares o (consumed) with the golden file name, or rewrites it. */
static void
check_golden(const char *name, struct json_object *o)
{
	char path[256], saved[512];
	const char *tmp = getenv("TMPDIR");
	struct buf got = BUF_INIT(1 << 20);
	char *want;

	snprintf(path, sizeof(path), GOLDEN_DIR "/%s.json", name);
	buf_adds(&got, json_object_to_json_string_ext(o, GOLDEN_FMT));
	buf_addc(&got, '\n');
	json_object_put(o);
	if (getenv("DBTREE_UPDATE_GOLDEN")) {
		CHECK_INT(write_file(path, buf_cstr(&got)), 0);
		printf("  wrote %s\n", path);
	} else if (!(want = read_file(path))) {
		CHECK(!"golden file is missing (DBTREE_UPDATE_GOLDEN=1)");
		fprintf(stderr, "  missing: %s\n", path);
	} else {
		if (!CHECK(strcmp(want, buf_cstr(&got)) == 0)) {
			snprintf(saved, sizeof(saved), "%s/%s.json",
			    tmp && *tmp ? tmp : "/tmp", name);
			write_file(saved, buf_cstr(&got));
			report_diff(path, want, buf_cstr(&got), saved);
		}
		free(want);
	}
	buf_release(&got);
}

/* Decodes base64 text into out (a NUL-terminated string) with
 * libcrypto: 0 or -1. */
static int
unb64(const char *in, char *out, size_t size)
{
	size_t n = in ? strlen(in) : 0;
	int len;

	if (n % 4 || n / 4 * 3 >= size || n > INT32_MAX)
		return -1;
	len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in,
	    (int)n);
	if (len < 0)
		return -1;
	len -= (n > 0 && in[n - 1] == '=') + (n > 1 && in[n - 2] == '=');
	out[len] = '\0';
	return 0;
}

/* Checks that data[key] is the base64 of want, then puts a placeholder
 * in its place. */
static void
check_b64_value(struct json_object *data, const char *key, const char *want)
{
	struct json_object *v;
	char got[4096], placeholder[64];

	if (!CHECK(json_object_object_get_ex(data, key, &v)))
		return;
	CHECK_INT(unb64(json_object_get_string(v), got, sizeof(got)), 0);
	CHECK_STR(got, want);
	snprintf(placeholder, sizeof(placeholder), "<base64 of %s>", key);
	json_object_object_add(data, key,
	    json_object_new_string(placeholder));
}

/* The Secret with each data value replaced by a placeholder, after
 * checking that it is the base64 of what went in. */
static struct json_object *
secret_shape(const struct k8s_manifest_conf *mc, const struct prov_spec *s)
{
	struct json_object *o = k8s_manifest_secret(mc, s, PASSWORD, ROOT,
	    &tls_fixture);
	struct json_object *data, *v;

	if (!CHECK(json_object_object_get_ex(o, "data", &data)))
		return o;
	check_b64_value(data, K8S_KEY_TLS_CERT, CERT_PEM);
	check_b64_value(data, K8S_KEY_TLS_KEY, KEY_PEM);
	check_b64_value(data, K8S_KEY_TLS_CA, CA_PEM);
	check_b64_value(data, K8S_KEY_TLS_PEM, KEY_PEM CERT_PEM);
	CHECK(json_object_object_get_ex(data, K8S_KEY_PASSWORD, &v));
	CHECK_STR(json_object_get_string(v), "czNjcmV0LVBhc3M=");
	CHECK(json_object_object_get_ex(data, K8S_KEY_ROOT, &v));
	CHECK_STR(json_object_get_string(v), "cjAwdC1QYXNzLTAxMjM0NTY3ODk=");
	json_object_object_add(data, K8S_KEY_PASSWORD,
	    json_object_new_string("<base64 of the password>"));
	json_object_object_add(data, K8S_KEY_ROOT,
	    json_object_new_string("<base64 of the root password>"));
	return o;
}

static void
goldens_for(bool large)
{
	const struct k8s_manifest_conf *mc = large ? &mc_ssd : &mc_default;
	const char *size = large ? "large" : "tiny";
	char name[128];

	for (size_t i = 0; i < ARRAY_LEN(engines); i++) {
		struct prov_spec s = spec_for(engines[i], large);

		snprintf(name, sizeof(name), "%s-%s-statefulset", engines[i],
		    size);
		check_golden(name, k8s_manifest_statefulset(mc, &s));
		snprintf(name, sizeof(name), "%s-%s-service", engines[i],
		    size);
		check_golden(name, k8s_manifest_service(mc, &s, STS_UID));
		snprintf(name, sizeof(name), "%s-%s-secret", engines[i], size);
		check_golden(name, secret_shape(mc, &s));
		snprintf(name, sizeof(name), "%s-%s-networkpolicy",
		    engines[i], size);
		check_golden(name, k8s_manifest_networkpolicy(mc, &s,
		    STS_UID));
		snprintf(name, sizeof(name), "%s-%s-certificate", engines[i],
		    size);
		check_golden(name, k8s_manifest_certificate(large ? &mc_cm_ip :
		    &mc_cm, &s, STS_UID));
	}
	if (!large) {
		struct prov_spec s = spec_for("mongodb", false);

		check_golden("mongodb-tiny-dump-job", k8s_dump_job(mc, &s,
		    BACKUP_ID));
		check_golden("mongodb-tiny-backup-claim", k8s_dump_claim(mc,
		    &s));
	}
}

static void
test_goldens_tiny(void)
{
	goldens_for(false);
}

static void
test_goldens_large(void)
{
	goldens_for(true);
}

/* The value under the keys (NULL-terminated) of o, borrowed, or NULL. */
static struct json_object *
at(struct json_object *o, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, o);
	while (o && (key = va_arg(ap, const char *)))
		if (!json_object_object_get_ex(o, key, &o))
			o = NULL;
	va_end(ap);
	return o;
}

#define AT(o, ...) at((o), __VA_ARGS__, (const char *)NULL)

static const char *
at_str(struct json_object *o)
{
	return o ? json_object_get_string(o) : NULL;
}

static void
test_name_rule(void)
{
	char name[K8S_NAME_MAX];

	CHECK_INT(k8s_manifest_name(ID, name), 0);
	CHECK_STR(name, "db-3f2a9c1e7b4d");
	CHECK(strlen(name) <= K8S_STS_NAME_LIMIT);
	CHECK_INT(strlen(name), 3 + K8S_NAME_HEX);
	/* dashes do not count: the 12 digits run across the first dash */
	CHECK_INT(k8s_manifest_name("0123-4567-89ab-cdef", name), 0);
	CHECK_STR(name, "db-0123456789ab");
	CHECK_INT(k8s_manifest_name("0123456789abcdef0123456789abcdef", name),
	    0);
	CHECK_STR(name, "db-0123456789ab");
	/* not a valid instance id: nothing is named after it */
	CHECK_INT(k8s_manifest_name("0123456789a", name), -1);
	CHECK_STR(name, "");
	CHECK_INT(k8s_manifest_name("3F2A9C1E-7B4D-4E8A-9C2F-1A2B3C4D5E6F",
	    name), -1);
	CHECK_INT(k8s_manifest_name("3f2a9c1e-7b4d/../x", name), -1);
	CHECK_INT(k8s_manifest_name("", name), -1);
	CHECK_INT(k8s_manifest_name(NULL, name), -1);
	CHECK_INT(k8s_manifest_name("------------------------", name), -1);
}

static void
test_selectors(void)
{
	char sel[128], small[16];

	CHECK_STR(K8S_SELECTOR, "app.kubernetes.io/managed-by=dbtree");
	CHECK_INT(k8s_manifest_id_selector(ID, sel, sizeof(sel)), 0);
	CHECK_STR(sel, "dbtree.io/instance-id=" ID);
	CHECK_INT(k8s_manifest_id_selector(ID, small, sizeof(small)), -1);
}

/* Every object carries the three labels; the selectors pick the pods. */
static void
test_labels_and_selectors_agree(void)
{
	for (size_t i = 0; i < ARRAY_LEN(engines); i++) {
		struct prov_spec s = spec_for(engines[i], false);
		struct json_object *sts = k8s_manifest_statefulset(
		    &mc_default, &s);
		struct json_object *svc = k8s_manifest_service(&mc_default, &s,
		    NULL);
		struct json_object *pod = AT(sts, "spec", "template",
		    "metadata", "labels");

		CHECK_STR(at_str(AT(sts, "metadata", "labels",
		    K8S_LABEL_MANAGED)), "dbtree");
		CHECK_STR(at_str(AT(sts, "metadata", "labels", K8S_LABEL_APP)),
		    engines[i]);
		CHECK_STR(at_str(AT(svc, "metadata", "labels", K8S_LABEL_ID)),
		    ID);
		CHECK_STR(at_str(AT(pod, K8S_LABEL_ID)), ID);
		CHECK_STR(at_str(AT(pod, K8S_LABEL_MANAGED)), "dbtree");
		CHECK_STR(at_str(AT(sts, "spec", "selector", "matchLabels",
		    K8S_LABEL_ID)), ID);
		CHECK_STR(at_str(AT(svc, "spec", "selector", K8S_LABEL_ID)),
		    ID);
		CHECK(AT(svc, "metadata", "ownerReferences") == NULL);
		CHECK_STR(at_str(AT(sts, "spec", "serviceName")),
		    "db-3f2a9c1e7b4d");
		json_object_put(sts);
		json_object_put(svc);
	}
}

static void
test_check_spec(void)
{
	struct prov_spec s = spec_for("postgres", false);
	char why[128];

	CHECK_INT(k8s_manifest_check(&s, why, sizeof(why)), 0);
	CHECK_STR(why, "");
	s.type = "mysql";
	CHECK_INT(k8s_manifest_check(&s, why, sizeof(why)), -1);
	CHECK_STR(why, "type 'mysql' is not supported");
	s = spec_for("redis", false);
	s.id = "not-an-id";
	CHECK_INT(k8s_manifest_check(&s, why, sizeof(why)), -1);
	s = spec_for("postgres", false);
	s.name = "Shop; DROP";
	CHECK_INT(k8s_manifest_check(&s, why, sizeof(why)), -1);
	s = spec_for("postgres", false);
	s.port = 0;
	CHECK_INT(k8s_manifest_check(&s, why, sizeof(why)), -1);
	s = spec_for("postgres", false);
	s.memory_mb = 8;
	CHECK_INT(k8s_manifest_check(&s, why, sizeof(why)), -1);
	s = spec_for("mongodb", true);
	s.disk_gb = 0;
	CHECK_INT(k8s_manifest_check(&s, why, sizeof(why)), -1);
	CHECK_INT(k8s_manifest_engine_port("postgres"), 5432);
	CHECK_INT(k8s_manifest_engine_port("redis"), 6379);
	CHECK_INT(k8s_manifest_engine_port("mongodb"), 27017);
	CHECK_INT(k8s_manifest_engine_port("mysql"), 0);
}

static void
test_hash_follows_spec(void)
{
	struct prov_spec s = spec_for("redis", false);
	struct json_object *sts = k8s_manifest_statefulset(&mc_default, &s);
	char h1[K8S_HASH_LEN + 1], h2[K8S_HASH_LEN + 1];

	k8s_manifest_statefulset_hash(&mc_default, &s, h1);
	CHECK_INT(strlen(h1), K8S_HASH_LEN);
	CHECK_STR(at_str(AT(sts, "metadata", "annotations", K8S_ANN_HASH)),
	    h1);
	s.running = false;
	k8s_manifest_statefulset_hash(&mc_default, &s, h2);
	CHECK(strcmp(h1, h2) != 0);
	s.running = true;
	s.memory_mb = 512;
	k8s_manifest_statefulset_hash(&mc_default, &s, h2);
	CHECK(strcmp(h1, h2) != 0);
	s.memory_mb = 256;
	k8s_manifest_statefulset_hash(&mc_ssd, &s, h2);
	CHECK(strcmp(h1, h2) != 0);
	k8s_manifest_statefulset_hash(&mc_default, &s, h2);
	CHECK_STR(h2, h1);
	json_object_put(sts);
}

static void
test_patches(void)
{
	struct json_object *p = k8s_manifest_password_patch(ID, PASSWORD);
	struct json_object *add;
	char v1[K8S_HASH_LEN + 1], v2[K8S_HASH_LEN + 1];

	CHECK_STR(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), "[{\"op\":\"test\",\"path\":"
	    "\"/metadata/labels/dbtree.io~1instance-id\",\"value\":\"" ID
	    "\"},{\"op\":\"add\",\"path\":\"/data/password\",\"value\":"
	    "\"czNjcmV0LVBhc3M=\"}]");
	json_object_put(p);
	p = k8s_manifest_owner_patch(ID, "db-3f2a9c1e7b4d", STS_UID);
	add = json_object_array_get_idx(p, 1);
	CHECK_STR(at_str(AT(json_object_array_get_idx(p, 0), "op")), "test");
	CHECK_STR(at_str(AT(add, "path")), "/metadata/ownerReferences");
	if (CHECK(json_object_is_type(AT(add, "value"), json_type_array)))
		CHECK_STR(at_str(AT(json_object_array_get_idx(AT(add, "value"),
		    0), "uid")), STS_UID);
	json_object_put(p);
	k8s_manifest_secret_version(PASSWORD, v1);
	k8s_manifest_secret_version("another-pass", v2);
	CHECK_INT(strlen(v1), K8S_HASH_LEN);
	CHECK(strcmp(v1, v2) != 0);
	CHECK(strstr(v1, PASSWORD) == NULL);
	p = k8s_manifest_restart_patch(K8S_ANN_SECRET_VERSION, v1);
	CHECK_STR(at_str(AT(p, "spec", "template", "metadata", "annotations",
	    K8S_ANN_SECRET_VERSION)), v1);
	json_object_put(p);
}

/* The password never appears in a StatefulSet, only a reference. */
static void
test_no_password_in_statefulset(void)
{
	for (size_t i = 0; i < ARRAY_LEN(engines); i++) {
		struct prov_spec s = spec_for(engines[i], false);
		struct json_object *sts = k8s_manifest_statefulset(
		    &mc_default, &s);
		const char *text = json_object_to_json_string_ext(sts,
		    JSON_C_TO_STRING_PLAIN);

		CHECK(strstr(text, "secretKeyRef") != NULL);
		CHECK(strstr(text, "\"runAsNonRoot\":true") != NULL);
		CHECK(strstr(text, PASSWORD) == NULL);
		json_object_put(sts);
	}
}

/* Element i of array a (borrowed), or NULL. */
static struct json_object *
idx(struct json_object *a, size_t i)
{
	return json_object_is_type(a, json_type_array) &&
	    i < json_object_array_length(a) ?
	    json_object_array_get_idx(a, i) : NULL;
}

/* True when the array of strings a holds s. */
static bool
has_str(struct json_object *a, const char *s)
{
	for (size_t i = 0; idx(a, i); i++)
		if (strcmp(json_object_get_string(idx(a, i)), s) == 0)
			return true;
	return false;
}

/* The text of the strings of a joined by spaces, into out. */
static const char *
joined(struct json_object *a, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; idx(a, i) && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", i ? " " : "",
		    json_object_get_string(idx(a, i)));
	return out;
}

/* The item keys of the StatefulSet's "tls" volume joined, into out. */
static const char *
tls_items(struct json_object *sts, char *out, size_t size)
{
	struct json_object *vol = idx(AT(sts, "spec", "template", "spec",
	    "volumes"), 0), *items = AT(vol, "secret", "items");
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; idx(items, i) && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s>%s",
		    i ? " " : "", at_str(AT(idx(items, i), "key")),
		    at_str(AT(idx(items, i), "path")));
	return out;
}

/* Every engine mounts its TLS files read-only, 0440, and only those. */
static void
test_tls_volume_and_mount(void)
{
	char items[256];

	for (size_t i = 0; i < ARRAY_LEN(engines); i++) {
		struct prov_spec s = spec_for(engines[i], false);
		struct json_object *sts = k8s_manifest_statefulset(
		    &mc_default, &s);
		struct json_object *pod = AT(sts, "spec", "template", "spec");
		struct json_object *vol = idx(AT(pod, "volumes"), 0);
		struct json_object *c = idx(AT(pod, "containers"), 0);
		struct json_object *m = idx(AT(c, "volumeMounts"), 1);

		CHECK_STR(at_str(AT(vol, "name")), "tls");
		CHECK_STR(at_str(AT(vol, "secret", "secretName")),
		    "db-3f2a9c1e7b4d");
		CHECK_INT(json_object_get_int(AT(vol, "secret",
		    "defaultMode")), 0440);
		CHECK_STR(at_str(AT(m, "name")), "tls");
		CHECK_STR(at_str(AT(m, "mountPath")), K8S_TLS_DIR);
		CHECK(json_object_get_boolean(AT(m, "readOnly")));
		CHECK_INT(json_object_get_int(AT(pod, "securityContext",
		    "fsGroup")), 999);
		tls_items(sts, items, sizeof(items));
		CHECK(strstr(items, "password") == NULL);
		CHECK_STR(items, strcmp(engines[i], "mongodb") == 0 ?
		    "tls.crt>tls.crt tls.key>tls.key ca.crt>ca.crt"
		    " tls.pem>tls.pem" :
		    "tls.crt>tls.crt tls.key>tls.key ca.crt>ca.crt");
		json_object_put(sts);
	}
}

static struct json_object *
container_of(const struct k8s_manifest_conf *mc, const char *type)
{
	struct prov_spec s = spec_for(type, false);
	struct json_object *sts = k8s_manifest_statefulset(mc, &s);
	struct json_object *c = json_object_get(idx(AT(sts, "spec",
	    "template", "spec", "containers"), 0));

	json_object_put(sts);
	return c;
}

static void
test_tls_postgres(void)
{
	struct json_object *c = container_of(&mc_default, "postgres");
	struct json_object *args = AT(c, "args");
	const char *script = at_str(idx(AT(c, "command"), 2));
	char text[2048];

	CHECK(has_str(args, "ssl=on"));
	CHECK(has_str(args, "ssl_cert_file=" K8S_TLS_DIR "/tls.crt"));
	CHECK(has_str(args, "ssl_key_file=" K8S_TLS_DIR "/tls.key"));
	CHECK(has_str(args, "hba_file=/tmp/dbtree-hba.conf"));
	/* TCP only through hostssl; nothing that matches a plain "host" */
	CHECK(strstr(script, "\\nhostssl all all all scram-sha-256") != NULL);
	CHECK(strstr(script, "\\nhost ") == NULL);
	CHECK(strstr(script, "export PGSSLMODE=require\n") != NULL);
	joined(AT(c, "readinessProbe", "exec", "command"), text,
	    sizeof(text));
	CHECK(strstr(text, "PGSSLMODE=require pg_isready") != NULL);
	json_object_put(c);
}

static void
test_tls_redis(void)
{
	struct json_object *c = container_of(&mc_default, "redis");
	char text[2048];

	joined(AT(c, "args"), text, sizeof(text));
	CHECK(strstr(text, "--port 0 --tls-port 6379 --tls-cert-file "
	    K8S_TLS_DIR "/tls.crt --tls-key-file " K8S_TLS_DIR "/tls.key"
	    " --tls-ca-cert-file " K8S_TLS_DIR "/ca.crt --tls-auth-clients"
	    " no") != NULL);
	CHECK(strstr(text, "--port 6379") == NULL);
	joined(AT(c, "readinessProbe", "exec", "command"), text,
	    sizeof(text));
	CHECK(strstr(text, "redis-cli --tls --cacert " K8S_TLS_DIR
	    "/ca.crt") != NULL);
	json_object_put(c);
}

static void
test_tls_mongodb(void)
{
	struct json_object *c = container_of(&mc_default, "mongodb");
	const char *script = at_str(idx(AT(c, "command"), 2));
	char text[2048];

	joined(AT(c, "args"), text, sizeof(text));
	CHECK(strstr(text, "--tlsMode requireTLS --tlsCertificateKeyFile "
	    K8S_TLS_DIR "/tls.pem --tlsCAFile " K8S_TLS_DIR "/ca.crt"
	    " --tlsAllowConnectionsWithoutCertificates") != NULL);
	CHECK(strstr(script, "mongodb://127.0.0.1:27017/admin?tls=true"
	    "&tlsCAFile=" K8S_TLS_DIR "/ca.crt") != NULL);
	json_object_put(c);
}

/* With cert-manager the pod mounts its Secret, the combined PEM under
 * the name mongod is given, and the manifest hash changes (pods roll). */
static void
test_tls_cert_manager_volume(void)
{
	struct prov_spec s = spec_for("mongodb", false);
	struct json_object *sts = k8s_manifest_statefulset(&mc_cm, &s);
	char items[256], h1[K8S_HASH_LEN + 1], h2[K8S_HASH_LEN + 1];
	char name[K8S_TLS_NAME_MAX];

	CHECK(k8s_manifest_uses_cert_manager(&mc_cm));
	CHECK(!k8s_manifest_uses_cert_manager(&mc_default));
	CHECK_STR(at_str(AT(idx(AT(sts, "spec", "template", "spec",
	    "volumes"), 0), "secret", "secretName")), "db-3f2a9c1e7b4d-tls");
	CHECK_STR(tls_items(sts, items, sizeof(items)), "tls.crt>tls.crt"
	    " tls.key>tls.key ca.crt>ca.crt tls-combined.pem>tls.pem");
	k8s_manifest_statefulset_hash(&mc_default, &s, h1);
	k8s_manifest_statefulset_hash(&mc_cm, &s, h2);
	CHECK(strcmp(h1, h2) != 0);
	CHECK_INT(k8s_manifest_tls_secret_name(&mc_cm, ID, name), 0);
	CHECK_STR(name, "db-3f2a9c1e7b4d-tls");
	CHECK_INT(k8s_manifest_tls_secret_name(&mc_default, ID, name), 0);
	CHECK_STR(name, "db-3f2a9c1e7b4d");
	CHECK_INT(k8s_manifest_tls_secret_name(&mc_cm, "x", name), -1);
	json_object_put(sts);
}

static void
test_certificate(void)
{
	struct prov_spec s = spec_for("postgres", false);
	struct json_object *c = k8s_manifest_certificate(&mc_cm, &s, NULL);

	CHECK_STR(at_str(AT(c, "apiVersion")), "cert-manager.io/v1");
	CHECK_STR(at_str(AT(c, "spec", "secretName")), "db-3f2a9c1e7b4d-tls");
	CHECK_STR(at_str(AT(c, "spec", "issuerRef", "name")), "dbtree-ca");
	CHECK_STR(at_str(AT(c, "spec", "issuerRef", "kind")),
	    "ClusterIssuer");
	CHECK(has_str(AT(c, "spec", "dnsNames"), "db.example.com"));
	CHECK(AT(c, "spec", "ipAddresses") == NULL);
	CHECK(AT(c, "spec", "additionalOutputFormats") == NULL);
	CHECK(AT(c, "metadata", "ownerReferences") == NULL);
	CHECK_STR(at_str(AT(c, "spec", "secretTemplate", "labels",
	    K8S_LABEL_ID)), ID);
	json_object_put(c);
	s = spec_for("mongodb", false);
	c = k8s_manifest_certificate(&mc_cm_ip, &s, STS_UID);
	CHECK(has_str(AT(c, "spec", "ipAddresses"), "203.0.113.7"));
	CHECK(AT(c, "spec", "dnsNames") == NULL);
	CHECK_STR(at_str(AT(c, "spec", "issuerRef", "kind")), "Issuer");
	CHECK_STR(at_str(AT(idx(AT(c, "spec", "additionalOutputFormats"), 0),
	    "type")), "CombinedPEM");
	CHECK_STR(at_str(AT(idx(AT(c, "metadata", "ownerReferences"), 0),
	    "uid")), STS_UID);
	json_object_put(c);
}

static void
test_tls_patch_and_versions(void)
{
	struct json_object *p = k8s_manifest_tls_patch(ID, &tls_fixture, false);
	char got[4096], v1[K8S_HASH_LEN + 1], v2[K8S_HASH_LEN + 1];
	char v3[K8S_HASH_LEN + 1];

	CHECK_INT(json_object_array_length(p), 8);
	CHECK_STR(at_str(AT(idx(p, 0), "op")), "test");
	CHECK_STR(at_str(AT(idx(p, 0), "value")), ID);
	CHECK_STR(at_str(AT(idx(p, 1), "path")), "/data/tls.crt");
	CHECK_INT(unb64(at_str(AT(idx(p, 1), "value")), got, sizeof(got)), 0);
	CHECK_STR(got, CERT_PEM);
	CHECK_STR(at_str(AT(idx(p, 2), "path")), "/data/tls.key");
	CHECK_STR(at_str(AT(idx(p, 3), "path")), "/data/ca.crt");
	CHECK_STR(at_str(AT(idx(p, 4), "path")), "/data/tls.pem");
	CHECK_INT(unb64(at_str(AT(idx(p, 4), "value")), got, sizeof(got)), 0);
	CHECK_STR(got, KEY_PEM CERT_PEM);
	CHECK_STR(at_str(AT(idx(p, 5), "path")),
	    "/metadata/annotations/dbtree.io~1tls-host");
	CHECK_STR(at_str(AT(idx(p, 5), "value")), "db.example.com");
	CHECK_STR(at_str(AT(idx(p, 6), "path")),
	    "/metadata/annotations/dbtree.io~1tls-not-after");
	CHECK_STR(at_str(AT(idx(p, 6), "value")), "1775001600");
	json_object_put(p);
	/* a Secret without annotations gets the whole map */
	p = k8s_manifest_tls_patch(ID, &tls_fixture, true);
	CHECK_INT(json_object_array_length(p), 6);
	CHECK_STR(at_str(AT(idx(p, 5), "path")), "/metadata/annotations");
	CHECK_STR(at_str(AT(idx(p, 5), "value", K8S_ANN_TLS_HOST)),
	    "db.example.com");
	CHECK(AT(idx(p, 5), "value", K8S_ANN_TLS_CA) != NULL);
	json_object_put(p);
	k8s_manifest_tls_version(CERT_PEM, v1);
	k8s_manifest_tls_version(CA_PEM, v2);
	k8s_manifest_secret_version(CERT_PEM, v3);
	CHECK_INT(strlen(v1), K8S_HASH_LEN);
	CHECK(strcmp(v1, v2) != 0);
	CHECK(strcmp(v1, v3) != 0);
	p = k8s_manifest_restart_patch(K8S_ANN_TLS_VERSION, v1);
	CHECK_STR(at_str(AT(p, "spec", "template", "metadata", "annotations",
	    K8S_ANN_TLS_VERSION)), v1);
	CHECK(AT(p, "spec", "template", "metadata", "annotations",
	    K8S_ANN_SECRET_VERSION) == NULL);
	json_object_put(p);
}

/* Due: no certificate, another host or CA, or expiring within the
 * margin; by the Secret's annotations alone. */
static void
test_tls_is_due(void)
{
	struct prov_spec s = spec_for("redis", false);
	struct json_object *sec = k8s_manifest_secret(&mc_default, &s,
	    PASSWORD, ROOT, &tls_fixture);
	struct json_object *bare = k8s_manifest_secret(&mc_default, &s,
	    PASSWORD, ROOT, NULL);
	char ca[K8S_HASH_LEN + 1];
	int64_t day = 86400;

	k8s_manifest_ca_version(CA_PEM, ca);
	CHECK(k8s_manifest_has_tls(sec));
	CHECK(!k8s_manifest_has_tls(bare));
	CHECK(k8s_manifest_tls_is_due(bare, "db.example.com", ca, NOW, 0));
	CHECK(!k8s_manifest_tls_is_due(sec, "db.example.com", ca, NOW,
	    30 * day));
	CHECK(k8s_manifest_tls_is_due(sec, "db.example.com", ca, NOW,
	    90 * day));
	CHECK(k8s_manifest_tls_is_due(sec, "db.example.com", ca,
	    NOW + 61 * day, 30 * day));
	CHECK(k8s_manifest_tls_is_due(sec, "other.example.com", ca, NOW, 0));
	CHECK(k8s_manifest_tls_is_due(sec, "db.example.com",
	    "0000000000000000", NOW, 0));
	/* the metadata alone (a metadata-only list) says the same */
	CHECK(!k8s_manifest_tls_is_due(AT(sec, "metadata"), "db.example.com",
	    ca, NOW, 30 * day));
	json_object_put(sec);
	json_object_put(bare);
}

/* A Secret without TLS (cert-manager's case) has only the passwords. */
static void
test_secret_without_tls(void)
{
	struct prov_spec s = spec_for("redis", false);
	struct json_object *o = k8s_manifest_secret(&mc_cm, &s, PASSWORD, ROOT,
	    NULL);

	CHECK_INT(json_object_object_length(AT(o, "data")), 2);
	CHECK(AT(o, "data", K8S_KEY_TLS_KEY) == NULL);
	json_object_put(o);
}

static void
test_dump_ids(void)
{
	char name[K8S_DUMP_NAME_MAX];

	CHECK(k8s_dump_id_ok(BACKUP_ID));
	CHECK(k8s_dump_id_ok("42"));
	CHECK(!k8s_dump_id_ok(""));
	CHECK(!k8s_dump_id_ok(NULL));
	CHECK(!k8s_dump_id_ok("-42"));
	CHECK(!k8s_dump_id_ok("42-"));
	CHECK(!k8s_dump_id_ok("Backup"));
	CHECK(!k8s_dump_id_ok("a/../b"));
	CHECK(!k8s_dump_id_ok("0123456789012345678901234567890123456789x"));
	CHECK(k8s_dump_id_ok("0123456789012345678901234567890123456789"));
	CHECK_INT(k8s_dump_name("42", name), 0);
	CHECK_STR(name, "dbtree-dump-42");
	CHECK_INT(k8s_dump_name("4 2", name), -1);
	CHECK_STR(name, "");
	CHECK_INT(k8s_dump_name("0123456789012345678901234567890123456789",
	    name), 0);
	CHECK(strlen(name) <= 63);
}

/* The password reaches mongodump through the environment only, and the
 * dump pod is not selected by the instance's Service. */
static void
test_dump_job(void)
{
	struct prov_spec s = spec_for("mongodb", false);
	struct json_object *job = k8s_dump_job(&mc_default, &s, "42");
	struct json_object *pod = AT(job, "spec", "template");
	struct json_object *c = idx(AT(pod, "spec", "containers"), 0);
	struct json_object *env = idx(AT(c, "env"), 0);
	const char *script = at_str(idx(AT(c, "command"), 2));
	char text[4096];

	CHECK_STR(at_str(AT(job, "metadata", "name")), "dbtree-dump-42");
	CHECK_STR(at_str(AT(job, "metadata", "labels", K8S_LABEL_ID)), ID);
	CHECK(AT(pod, "metadata", "labels", K8S_LABEL_ID) == NULL);
	CHECK_STR(at_str(AT(pod, "metadata", "labels", K8S_LABEL_BACKUP)),
	    "42");
	CHECK_INT(json_object_get_int(AT(job, "spec", "backoffLimit")), 0);
	CHECK_STR(at_str(AT(pod, "spec", "restartPolicy")), "Never");
	CHECK_STR(at_str(AT(env, "name")), "DBTREE_ROOT_PASSWORD");
	CHECK_STR(at_str(AT(env, "valueFrom", "secretKeyRef", "key")),
	    K8S_KEY_ROOT);
	CHECK_STR(at_str(AT(env, "valueFrom", "secretKeyRef", "name")),
	    "db-3f2a9c1e7b4d");
	CHECK(strstr(script, "--password") == NULL);
	CHECK(strstr(script, "--config=/tmp/") != NULL);
	CHECK(strstr(script, "umask 077") != NULL);
	CHECK(strstr(script, "--gzip --archive=\"$3.part\"") != NULL);
	joined(AT(c, "args"), text, sizeof(text));
	CHECK_STR(text, "dbtree-dump db-3f2a9c1e7b4d.dbtree.svc 27017"
	    " /backup/42.archive");
	CHECK_STR(at_str(AT(idx(AT(pod, "spec", "volumes"), 0),
	    "persistentVolumeClaim", "claimName")), K8S_BACKUP_CLAIM);
	CHECK_STR(at_str(AT(idx(AT(pod, "spec", "volumes"), 1), "secret",
	    "secretName")), "db-3f2a9c1e7b4d");
	CHECK_INT(json_object_get_int(AT(pod, "spec", "securityContext",
	    "runAsUser")), 999);
	json_object_put(job);
	job = k8s_dump_job(&mc_cm, &s, "42");
	CHECK_STR(at_str(AT(idx(AT(job, "spec", "template", "spec",
	    "volumes"), 1), "secret", "secretName")), "db-3f2a9c1e7b4d-tls");
	json_object_put(job);
}

static enum prov_dump_state
dump_state_of(const char *status, char *reason, size_t size)
{
	char text[1024];
	struct json_object *job;
	enum prov_dump_state st;

	snprintf(text, sizeof(text), "{\"metadata\": {\"name\": \"j\"}%s%s}",
	    status ? ", \"status\": " : "", status ? status : "");
	job = json_tokener_parse(text);
	CHECK(job != NULL);
	st = k8s_dump_state(job, reason, size);
	json_object_put(job);
	return st;
}

static void
test_dump_state(void)
{
	char why[PROV_REASON_LEN];

	CHECK_INT(dump_state_of(NULL, why, sizeof(why)), PROV_DUMP_RUNNING);
	CHECK_STR(why, "waiting to start");
	CHECK_INT(dump_state_of("{\"startTime\": \"2026-01-01T00:00:00Z\","
	    " \"active\": 1}", why, sizeof(why)), PROV_DUMP_RUNNING);
	CHECK_STR(why, "running");
	CHECK_INT(dump_state_of("{\"succeeded\": 1, \"conditions\": ["
	    "{\"type\": \"SuccessCriteriaMet\", \"status\": \"True\"},"
	    " {\"type\": \"Complete\", \"status\": \"True\"}]}", why,
	    sizeof(why)), PROV_DUMP_DONE);
	CHECK_STR(why, "");
	/* a condition that does not hold says nothing */
	CHECK_INT(dump_state_of("{\"conditions\": [{\"type\": \"Complete\","
	    " \"status\": \"False\"}]}", why, sizeof(why)), PROV_DUMP_RUNNING);
	CHECK_INT(dump_state_of("{\"failed\": 1, \"conditions\": [{\"type\":"
	    " \"Failed\", \"status\": \"True\", \"reason\":"
	    " \"DeadlineExceeded\", \"message\": \"Job was active longer than"
	    " specified deadline\"}]}", why, sizeof(why)), PROV_DUMP_FAILED);
	CHECK_STR(why, "the dump failed (DeadlineExceeded): Job was active"
	    " longer than specified deadline");
	CHECK_INT(dump_state_of("{\"conditions\": \"bogus\"}", why,
	    sizeof(why)), PROV_DUMP_RUNNING);
}

/* One pass's lists, built from the manifests themselves (what an API
 * server would hand back) plus made-up status. */
struct world {
	struct json_object *sts, *svc, *pods, *np;	/* arrays */
	struct k8s_observe_index ix;
};

static void
world_init(struct world *w)
{
	w->sts = json_object_new_array();
	w->svc = json_object_new_array();
	w->pods = json_object_new_array();
	w->np = json_object_new_array();
	memset(&w->ix, 0, sizeof(w->ix));
}

/* Adds the objects of s as applied; ready replicas; no_np leaves the
 * NetworkPolicy out. */
static void
world_add(struct world *w, const struct prov_spec *s, int ready, bool no_np)
{
	struct json_object *sts = k8s_manifest_statefulset(&mc_default, s);
	struct json_object *st = json_object_new_object();

	json_object_object_add(st, "readyReplicas", json_object_new_int(ready));
	json_object_object_add(sts, "status", st);
	json_object_array_add(w->sts, sts);
	json_object_array_add(w->svc, k8s_manifest_service(&mc_default, s,
	    STS_UID));
	if (!no_np)
		json_object_array_add(w->np, k8s_manifest_networkpolicy(
		    &mc_default, s, STS_UID));
}

/* Adds a pod of instance ID made from a JSON status text. */
static void
world_pod(struct world *w, const char *created, const char *status)
{
	struct buf b = BUF_INIT(4096);
	struct json_object *pod;

	buf_addf(&b, "{\"metadata\": {\"name\": \"db-3f2a9c1e7b4d-0\","
	    " \"creationTimestamp\": \"%s\", \"labels\": {\"" K8S_LABEL_ID
	    "\": \"" ID "\"}}, \"status\": %s}", created, status);
	pod = json_tokener_parse(buf_cstr(&b));
	CHECK(pod != NULL);
	if (pod)
		json_object_array_add(w->pods, pod);
	buf_release(&b);
}

static void
world_observe(struct world *w, const struct prov_spec *s,
	      struct prov_observation *o)
{
	k8s_observe_keep_all(&w->ix.sts, w->sts);
	k8s_observe_keep_all(&w->ix.svc, w->svc);
	k8s_observe_keep_all(&w->ix.pods, w->pods);
	k8s_observe_keep_all(&w->ix.np, w->np);
	k8s_observe_one(&mc_default, s, &w->ix, NOW, o);
	k8s_observe_index_release(&w->ix);
}

static void
world_release(struct world *w)
{
	json_object_put(w->sts);
	json_object_put(w->svc);
	json_object_put(w->pods);
	json_object_put(w->np);
}

static void
test_observe_absent_running_stopped(void)
{
	struct prov_spec s = spec_for("postgres", false);
	struct prov_observation o;
	struct world w;

	world_init(&w);
	world_observe(&w, &s, &o);
	CHECK_INT(o.state, PROV_ABSENT);
	CHECK(!o.drift);
	CHECK_INT(o.connections, -1);
	world_add(&w, &s, 1, false);
	world_observe(&w, &s, &o);
	CHECK_INT(o.state, PROV_RUNNING);
	CHECK(!o.drift);
	CHECK_INT(o.storage_bytes, -1);
	world_release(&w);

	s.running = false;
	world_init(&w);
	world_add(&w, &s, 0, false);
	world_observe(&w, &s, &o);
	CHECK_INT(o.state, PROV_STOPPED);
	CHECK(!o.drift);
	CHECK_STR(o.reason, "");
	world_release(&w);
}

/* Pods are read only for a StatefulSet that wants a replica and has none
 * ready; a stopped one still stopping says so by its status.replicas. */
static void
test_observe_needs_pods(void)
{
	struct prov_spec s = spec_for("postgres", false);
	struct prov_spec t = spec_for("redis", false);
	struct json_object *st;
	struct prov_observation o;
	struct world w;

	world_init(&w);
	world_add(&w, &s, 1, false);
	k8s_observe_keep_all(&w.ix.sts, w.sts);
	CHECK(!k8s_observe_needs_pods(&w.ix.sts));	/* running */
	k8s_observe_index_release(&w.ix);
	t.id = OTHER_ID;
	world_add(&w, &t, 0, false);
	k8s_observe_keep_all(&w.ix.sts, w.sts);
	CHECK(k8s_observe_needs_pods(&w.ix.sts));	/* t starts */
	k8s_observe_index_release(&w.ix);
	world_release(&w);

	s.running = false;
	world_init(&w);
	world_add(&w, &s, 0, false);
	k8s_observe_keep_all(&w.ix.sts, w.sts);
	CHECK(!k8s_observe_needs_pods(&w.ix.sts));	/* stopped */
	k8s_observe_index_release(&w.ix);
	/* its pod not gone yet: status.replicas 1, no pod listed */
	st = json_object_object_get(json_object_array_get_idx(w.sts, 0),
	    "status");
	json_object_object_add(st, "replicas", json_object_new_int(1));
	world_observe(&w, &s, &o);
	CHECK_INT(o.state, PROV_STOPPED);
	CHECK_STR(o.reason, "stopping");
	world_release(&w);
}

static void
test_observe_drift(void)
{
	struct prov_spec s = spec_for("redis", false);
	struct prov_observation o;
	struct world w;

	world_init(&w);
	world_add(&w, &s, 1, false);
	s.running = false;		/* applied running, wanted stopped */
	world_observe(&w, &s, &o);
	CHECK_INT(o.state, PROV_RUNNING);
	CHECK(o.drift);
	s.running = true;
	s.port = 30002;			/* the Service has 30001 */
	world_observe(&w, &s, &o);
	CHECK(o.drift);
	s.port = 30001;
	s.cpu = 0.25;			/* the manifest hash differs */
	world_observe(&w, &s, &o);
	CHECK(o.drift);
	s.cpu = 0.1;
	world_observe(&w, &s, &o);
	CHECK(!o.drift);
	world_release(&w);

	world_init(&w);
	world_add(&w, &s, 1, true);	/* no NetworkPolicy */
	world_observe(&w, &s, &o);
	CHECK(o.drift);
	world_release(&w);
}

static void
test_observe_starting(void)
{
	struct prov_spec s = spec_for("mongodb", false);
	struct prov_observation o;
	struct world w;

	world_init(&w);
	world_add(&w, &s, 0, false);
	world_observe(&w, &s, &o);
	CHECK_INT(o.state, PROV_STARTING);
	CHECK_STR(o.reason, "waiting for its pod");
	world_pod(&w, "2025-12-31T23:59:00Z", "{\"phase\": \"Running\","
	    " \"containerStatuses\": [{\"name\": \"db\", \"ready\": false,"
	    " \"state\": {\"running\": {}}}]}");
	world_observe(&w, &s, &o);
	CHECK_INT(o.state, PROV_STARTING);
	CHECK_STR(o.reason, "starting");
	world_release(&w);
}

static const char unschedulable[] = "{\"phase\": \"Pending\","
	" \"conditions\": [{\"type\": \"PodScheduled\", \"status\": \"False\","
	" \"reason\": \"Unschedulable\", \"message\": \"0/3 nodes\"}]}";
static const char pull_backoff[] = "{\"phase\": \"Pending\","
	" \"containerStatuses\": [{\"name\": \"db\", \"state\": {\"waiting\":"
	" {\"reason\": \"ImagePullBackOff\"}}}]}";

/* A problem that may pass is STARTING while the pod is young, FAILED
 * once it is older than the grace period. */
static void
problem_over_time(const char *status, const char *reason)
{
	struct prov_spec s = spec_for("postgres", false);
	struct prov_observation o;
	struct world w;

	world_init(&w);
	world_add(&w, &s, 0, false);
	world_pod(&w, "2025-12-31T23:59:30Z", status);	/* 30 s old */
	world_observe(&w, &s, &o);
	CHECK_INT(o.state, PROV_STARTING);
	CHECK_STR(o.reason, reason);
	world_release(&w);

	world_init(&w);
	world_add(&w, &s, 0, false);
	world_pod(&w, "2025-12-31T23:50:00Z", status);	/* 10 min old */
	world_observe(&w, &s, &o);
	CHECK_INT(o.state, PROV_FAILED);
	CHECK_STR(o.reason, reason);
	world_release(&w);
}

static void
test_observe_problems(void)
{
	problem_over_time(unschedulable,
	    "no node has room for it (Unschedulable)");
	problem_over_time(pull_backoff,
	    "its image cannot be pulled (ImagePullBackOff)");
}

static void
test_observe_crash_loop(void)
{
	struct prov_spec s = spec_for("redis", false);
	struct prov_observation o;
	struct world w;

	world_init(&w);
	world_add(&w, &s, 0, false);
	world_pod(&w, "2025-12-31T23:59:50Z", "{\"phase\": \"Running\","
	    " \"containerStatuses\": [{\"name\": \"db\", \"state\":"
	    " {\"waiting\": {\"reason\": \"CrashLoopBackOff\"}}, \"lastState\":"
	    " {\"terminated\": {\"reason\": \"OOMKilled\"}}}]}");
	world_observe(&w, &s, &o);
	CHECK_INT(o.state, PROV_FAILED);	/* at once: it crashed twice */
	CHECK_STR(o.reason, "it runs out of memory and keeps restarting"
	    " (OOMKilled)");
	world_release(&w);
}

static void
test_observe_invalid_spec(void)
{
	struct prov_spec s = spec_for("postgres", false);
	struct prov_observation o;
	struct world w;

	s.type = "mysql";
	world_init(&w);
	world_observe(&w, &s, &o);
	CHECK_INT(o.state, PROV_FAILED);
	CHECK_STR(o.reason, "type 'mysql' is not supported");
	world_release(&w);
}

static void
test_ids(void)
{
	struct json_object *items = json_tokener_parse("["
	    "{\"metadata\": {\"labels\": {\"" K8S_LABEL_ID "\": \"" ID "\"}}},"
	    "{\"metadata\": {\"labels\": {\"" K8S_LABEL_ID "\": \"" ID "\"}}},"
	    "{\"metadata\": {\"deletionTimestamp\": \"2026-01-01T00:00:00Z\","
	    " \"labels\": {\"" K8S_LABEL_ID "\": \"" OTHER_ID "\"}}},"
	    "{\"metadata\": {\"labels\": {\"other\": \"x\"}}}]");
	struct json_object *set = json_object_new_object();
	struct k8s_observe_list l = { NULL, 0, 0, false };

	if (!CHECK(items != NULL))
		return;
	k8s_observe_keep_all(&l, items);
	CHECK_INT(l.n, 3);
	k8s_observe_ids(&l, set);
	CHECK_INT(json_object_object_length(set), 1);
	CHECK(json_object_object_get_ex(set, ID, NULL));
	CHECK(k8s_observe_find(&l, OTHER_ID) != NULL);
	CHECK(k8s_observe_find(&l, "x") == NULL);
	k8s_observe_list_release(&l);
	json_object_put(set);
	json_object_put(items);
}

/* What observe keeps of an object: the fields it reads, nothing else. */
static void
test_observe_keep(void)
{
	struct json_object *items = json_tokener_parse("["
	    "{\"metadata\": {\"name\": \"db-3f2a9c1e7b4d\", \"labels\": {\""
	    K8S_LABEL_ID "\": \"" ID "\"}, \"annotations\": {\"" K8S_ANN_HASH
	    "\": \"0123456789abcdef\"}, \"deletionTimestamp\":"
	    " \"2026-01-01T00:00:00Z\", \"creationTimestamp\":"
	    " \"2026-01-01T00:00:00Z\"}, \"spec\": {\"replicas\": 0,"
	    " \"ports\": [{\"nodePort\": 30001}, {\"nodePort\": 30002}]},"
	    " \"status\": {\"readyReplicas\": 1, \"replicas\": 2,"
	    " \"conditions\": [{\"type\":"
	    " \"PodScheduled\", \"status\": \"False\", \"reason\":"
	    " \"Unschedulable\"}]}},"
	    "{\"metadata\": {\"labels\": {\"" K8S_LABEL_ID "\": \"" OTHER_ID
	    "\"}, \"annotations\": {\"" K8S_ANN_HASH "\": \"short\"}},"
	    " \"spec\": {\"replicas\": \"2\"}, \"status\": {"
	    "\"containerStatuses\": [{\"state\": {\"waiting\": {\"reason\":"
	    " \"CrashLoopBackOff\"}}}]}},"
	    "{\"metadata\": {\"labels\": {\"" K8S_LABEL_ID "\": \""
	    ID "-and-far-too-long-to-be-an-id\"}}},"
	    "{\"metadata\": {\"labels\": {\"" K8S_LABEL_ID "\": 7}}}, 5]");
	struct k8s_observe_list l = { NULL, 0, 0, false };
	const struct k8s_observe_item *a, *b;

	if (!CHECK(items != NULL))
		return;
	k8s_observe_keep_all(&l, items);
	CHECK_INT(l.n, 2);
	a = k8s_observe_find(&l, ID);
	b = k8s_observe_find(&l, OTHER_ID);
	if (!CHECK(a != NULL) || !CHECK(b != NULL))
		goto out;
	CHECK(a->deleting);
	CHECK_STR(a->hash, "0123456789abcdef");
	CHECK_INT(a->replicas, 0);
	CHECK_INT(a->ready, 1);
	CHECK_INT(a->pods, 2);
	CHECK_INT(a->node_port, 30001);
	CHECK_INT(a->born, 1767225600);
	CHECK_STR(a->problem, "no node has room for it (Unschedulable)");
	CHECK(!a->problem_at_once);
	CHECK(!b->deleting);
	CHECK_STR(b->hash, "");	/* not a hash: drift, as when absent */
	CHECK_INT(b->replicas, 1);	/* "2" is not a number: the default */
	CHECK_INT(b->ready, 0);
	CHECK_INT(b->pods, 0);
	CHECK_INT(b->node_port, 0);
	CHECK_INT(b->born, 0);
	CHECK_STR(b->problem, "it keeps crashing (CrashLoopBackOff)");
	CHECK(b->problem_at_once);
	k8s_observe_clear(&l);
	CHECK(k8s_observe_find(&l, ID) == NULL);
out:
	k8s_observe_list_release(&l);
	json_object_put(items);
}

static void
test_names_and_tls_roll(void)
{
	struct json_object *items = json_tokener_parse("["
	    "{\"metadata\": {\"name\": \"a\", \"labels\": {\"" K8S_LABEL_ID
	    "\": \"" ID "\"}}}, {\"metadata\": {\"name\": \"b\"}}, {}]");
	struct json_object *ix, *cert, *sts, *a = NULL;
	char v[32];

	if (!CHECK(items != NULL))
		return;
	ix = k8s_observe_names(items);
	CHECK_INT(json_object_object_length(ix), 2);
	CHECK(json_object_object_get_ex(ix, "a", &a));
	CHECK(k8s_observe_is_instance(a, ID));
	CHECK(!k8s_observe_is_instance(a, OTHER_ID));
	json_object_put(ix);
	json_object_put(items);
	/* the copy keeps what renew_cert reads, and nothing else */
	items = json_tokener_parse("[{\"metadata\": {\"name\": \"a\","
	    " \"annotations\": {\"x\": \"1\"}, \"managedFields\": [{}],"
	    " \"uid\": \"u\"}, \"data\": {\"password\": \"cA==\"},"
	    " \"spec\": {\"replicas\": 1, \"template\": {\"metadata\":"
	    " {\"annotations\": {\"y\": \"2\"}}, \"spec\": {}}},"
	    " \"status\": {\"revision\": 3, \"conditions\": []}}]");
	if (!CHECK(items != NULL))
		return;
	ix = k8s_observe_names(items);
	json_object_put(items);
	CHECK(json_object_object_get_ex(ix, "a", &a));
	CHECK_STR(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
	    "{\"metadata\":{\"name\":\"a\",\"annotations\":{\"x\":\"1\"}},"
	    "\"spec\":{\"template\":{\"metadata\":{\"annotations\":"
	    "{\"y\":\"2\"}}}},\"status\":{\"revision\":3}}");
	json_object_put(ix);
	cert = json_tokener_parse("{\"status\": {\"revision\": 1}}");
	sts = json_tokener_parse("{\"spec\": {\"template\": {\"metadata\":"
	    " {}}}}");
	/* revision 1 is what a new pod starts with */
	CHECK(!k8s_observe_tls_roll(cert, sts, v, sizeof(v)));
	CHECK(!k8s_observe_tls_roll(NULL, sts, v, sizeof(v)));
	CHECK(!k8s_observe_tls_roll(cert, NULL, v, sizeof(v)));
	json_object_put(cert);
	cert = json_tokener_parse("{\"status\": {\"revision\": 2}}");
	CHECK(k8s_observe_tls_roll(cert, sts, v, sizeof(v)));
	CHECK_STR(v, "revision-2");
	json_object_put(sts);
	sts = json_tokener_parse("{\"spec\": {\"template\": {\"metadata\":"
	    " {\"annotations\": {\"" K8S_ANN_TLS_VERSION "\":"
	    " \"revision-2\"}}}}}");
	CHECK(!k8s_observe_tls_roll(cert, sts, v, sizeof(v)));
	json_object_put(cert);
	cert = json_tokener_parse("{\"status\": {}}");
	CHECK(!k8s_observe_tls_roll(cert, sts, v, sizeof(v)));
	json_object_put(cert);
	json_object_put(sts);
}

static const struct test_case cases[] = {
	{ "goldens_tiny", test_goldens_tiny },
	{ "goldens_large", test_goldens_large },
	{ "name_rule", test_name_rule },
	{ "selectors", test_selectors },
	{ "labels_and_selectors_agree", test_labels_and_selectors_agree },
	{ "check_spec", test_check_spec },
	{ "hash_follows_spec", test_hash_follows_spec },
	{ "patches", test_patches },
	{ "no_password_in_statefulset", test_no_password_in_statefulset },
	{ "observe_absent_running_stopped",
	  test_observe_absent_running_stopped },
	{ "observe_needs_pods", test_observe_needs_pods },
	{ "observe_drift", test_observe_drift },
	{ "observe_starting", test_observe_starting },
	{ "observe_problems", test_observe_problems },
	{ "observe_crash_loop", test_observe_crash_loop },
	{ "observe_invalid_spec", test_observe_invalid_spec },
	{ "ids", test_ids },
	{ "observe_keep", test_observe_keep },
	{ "tls_volume_and_mount", test_tls_volume_and_mount },
	{ "tls_postgres", test_tls_postgres },
	{ "tls_redis", test_tls_redis },
	{ "tls_mongodb", test_tls_mongodb },
	{ "tls_cert_manager_volume", test_tls_cert_manager_volume },
	{ "certificate", test_certificate },
	{ "tls_patch_and_versions", test_tls_patch_and_versions },
	{ "secret_without_tls", test_secret_without_tls },
	{ "tls_is_due", test_tls_is_due },
	{ "names_and_tls_roll", test_names_and_tls_roll },
	{ "dump_ids", test_dump_ids },
	{ "dump_job", test_dump_job },
	{ "dump_state", test_dump_state },
};

int
main(void)
{
	return harness_run("k8s_manifest", cases, ARRAY_LEN(cases));
}
