/*
 * The error table: every row filled, codes and names unique and stable,
 * names snake_case, statuses 4xx/5xx, and the mappings the product
 * specification fixes.
 */
#include <string.h>

#include "base/xalloc.h"
#include "harness.h"
#include "web/errors.h"

/* Codes and names as the product reference (spec section 2) defines
 * them; 1002..1005 are dbtree's own.  Clients match on both. */
static const struct {
	enum err e;
	int code;
	const char *name;
} codes[] = {
	{ ERR_UNKNOWN, 1000, "unknown_error" },
	{ ERR_INTERNAL, 1001, "internal_server_error" },
	{ ERR_UNAVAILABLE, 1002, "service_unavailable" },
	{ ERR_PAYLOAD_TOO_LARGE, 1003, "payload_too_large" },
	{ ERR_UNSUPPORTED_MEDIA_TYPE, 1004, "unsupported_media_type" },
	{ ERR_TOO_MANY_REQUESTS, 1005, "too_many_requests" },
	{ ERR_INVALID_PARAMETER, 1100, "invalid_parameter" },
	{ ERR_MISSING_PARAMETER, 1101, "missing_parameter" },
	{ ERR_METHOD_NOT_ALLOWED, 1102, "method_not_allowed" },
	{ ERR_ENDPOINT_NOT_FOUND, 1103, "endpoint_not_found" },
	{ ERR_INVALID_OTP, 1200, "invalid_otp" },
	{ ERR_EXPIRED_OTP, 1201, "expired_otp" },
	{ ERR_SESSION_NOT_FOUND, 1202, "session_not_found" },
	{ ERR_TOO_MANY_RESENDS, 1203, "too_many_resends" },
	{ ERR_TOO_EARLY_RESEND, 1204, "too_early_resend" },
	{ ERR_INVALID_TOKEN, 1205, "invalid_token" },
	{ ERR_UNAUTHORIZED, 1206, "unauthorized" },
	{ ERR_SESSION_EXPIRED, 1207, "session_expired" },
	{ ERR_ALREADY_VERIFIED, 1208, "already_verified" },
	{ ERR_INVALID_EMAIL, 1301, "invalid_email" },
	{ ERR_RESOURCE_NOT_FOUND, 1400, "resource_not_found" },
	{ ERR_RESOURCE_CONFLICT, 1401, "resource_conflict" },
	{ ERR_HARVEST_COOLDOWN, 1500, "harvest_cooldown" },
	{ ERR_LEMON_STORAGE_FULL, 1501, "lemon_storage_full" },
	{ ERR_INSUFFICIENT_LEMONS, 1502, "insufficient_lemons" },
	{ ERR_QUIZ_IN_PROGRESS, 1600, "quiz_in_progress" },
	{ ERR_NO_QUIZ_PASSED, 1601, "no_quiz_passed" },
	{ ERR_HARVEST_ALREADY_PROCESSED, 1602, "harvest_already_processed" },
	{ ERR_TIME_EXPIRED, 1603, "time_expired" },
	{ ERR_CLICK_TIME_EXPIRED, 1604, "click_circle_time_expired" },
	{ ERR_NO_QUIZ_IN_PROGRESS, 1605, "no_quiz_in_progress" },
	{ ERR_LEMON_ALREADY_HARVESTED, 1606, "lemon_already_harvested" },
	{ ERR_LEMON_LOCKED_OUT, 1607, "lemon_locked_out" },
	{ ERR_INVALID_STATUS_TRANSITION, 1700, "invalid_status_transition" },
	{ ERR_INSTANCE_QUOTA_EXCEEDED, 1701, "instance_quota_exceeded" },
	{ ERR_INVALID_INSTANCE_NAME, 1702, "invalid_instance_name" },
	{ ERR_INVALID_RESOURCE_SPEC, 1703, "invalid_resource_spec" },
	{ ERR_INSTANCE_NOT_READY, 1704, "instance_not_ready" },
	{ ERR_RESET_IN_PROGRESS, 1705, "credentials_reset_in_progress" },
	{ ERR_BACKUP_IN_PROGRESS, 1706, "backup_in_progress" },
	{ ERR_BACKUP_STORAGE_FULL, 1707, "backup_storage_full" },
	{ ERR_BACKUP_NOT_READY, 1708, "backup_not_ready" },
	{ ERR_RESTORE_IN_PROGRESS, 1709, "restore_in_progress" },
	{ ERR_LIMIT_EXCEEDED, 1805, "limit_exceeded" },
	{ ERR_RESOURCE_EXHAUSTED, 1900, "resource_exhausted" },
	{ ERR_SYSTEM_CAPACITY_EXCEEDED, 1901, "system_capacity_exceeded" },
};

static bool
is_snake_case(const char *s)
{
	if (!s || !(*s >= 'a' && *s <= 'z'))
		return false;
	for (const char *p = s; *p; p++) {
		bool lower = *p >= 'a' && *p <= 'z';
		bool digit = *p >= '0' && *p <= '9';

		if (!lower && !digit && *p != '_')
			return false;
		if (*p == '_' && (p[1] == '_' || p[1] == '\0'))
			return false;
	}
	return true;
}

/* Every enum value has its own row: a real code, not the fallback. */
static void
test_every_value_has_a_row(void)
{
	for (int e = 0; e < ERR__COUNT; e++) {
		const struct err_info *info = err_info((enum err)e);

		if (!CHECK(info != NULL))
			continue;
		CHECK(info->name != NULL);
		CHECK(info->message != NULL && info->message[0] != '\0');
		CHECK(info->code >= 1000 && info->code <= 1999);
		if (e != ERR_UNKNOWN && !CHECK(info != err_info(ERR_UNKNOWN)))
			fprintf(stderr, "  enum value %d has no row\n", e);
	}
}

static void
test_codes_and_names_unique(void)
{
	for (int a = 0; a < ERR__COUNT; a++) {
		const struct err_info *x = err_info((enum err)a);

		for (int b = a + 1; b < ERR__COUNT; b++) {
			const struct err_info *y = err_info((enum err)b);

			if (!CHECK(x->code != y->code))
				fprintf(stderr, "  code %d twice\n", x->code);
			if (x->name && y->name &&
			    !CHECK(strcmp(x->name, y->name) != 0))
				fprintf(stderr, "  name %s twice\n", x->name);
		}
	}
}

static void
test_names_snake_case(void)
{
	for (int e = 0; e < ERR__COUNT; e++) {
		const char *name = err_info((enum err)e)->name;

		if (!CHECK(is_snake_case(name)))
			fprintf(stderr, "  name '%s'\n", name ? name : "NULL");
	}
	/* the checker itself tells good from bad */
	CHECK(is_snake_case("a_b2"));
	CHECK(!is_snake_case("A_b"));
	CHECK(!is_snake_case("a-b"));
	CHECK(!is_snake_case("a__b"));
	CHECK(!is_snake_case("a_"));
	CHECK(!is_snake_case("_a"));
	CHECK(!is_snake_case(""));
}

static void
test_statuses_are_errors(void)
{
	for (int e = 0; e < ERR__COUNT; e++) {
		const struct err_info *info = err_info((enum err)e);
		int status = info->http_status;

		if (!CHECK(status >= 400 && status <= 599))
			fprintf(stderr, "  %d -> %d\n", info->code,
			    info->http_status);
	}
}

static void
test_codes_match_spec(void)
{
	CHECK_INT(ARRAY_LEN(codes), ERR__COUNT);
	for (size_t i = 0; i < ARRAY_LEN(codes); i++) {
		CHECK_INT(err_info(codes[i].e)->code, codes[i].code);
		CHECK_STR(err_info(codes[i].e)->name, codes[i].name);
	}
}

/* The statuses PRODUCT requires for these codes. */
static void
test_required_statuses(void)
{
	static const struct {
		enum err e;
		int code, status;
	} t[] = {
		{ ERR_INVALID_EMAIL, 1301, 400 },
		{ ERR_QUIZ_IN_PROGRESS, 1600, 409 },
		{ ERR_NO_QUIZ_PASSED, 1601, 409 },
		{ ERR_CLICK_TIME_EXPIRED, 1604, 409 },
		{ ERR_SESSION_EXPIRED, 1207, 401 },
		{ ERR_METHOD_NOT_ALLOWED, 1102, 405 },
		{ ERR_ENDPOINT_NOT_FOUND, 1103, 404 },
		{ ERR_INVALID_PARAMETER, 1100, 400 },
		{ ERR_MISSING_PARAMETER, 1101, 400 },
		{ ERR_INTERNAL, 1001, 500 },
		{ ERR_PAYLOAD_TOO_LARGE, 1003, 413 },
		{ ERR_UNSUPPORTED_MEDIA_TYPE, 1004, 415 },
	};

	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		const struct err_info *info = err_info(t[i].e);

		CHECK_INT(info->code, t[i].code);
		CHECK_INT(info->http_status, t[i].status);
	}
}

static void
test_out_of_range(void)
{
	const struct err_info *unknown = err_info(ERR_UNKNOWN);

	CHECK_INT(unknown->code, 1000);
	CHECK_INT(unknown->http_status, 500);
	CHECK(err_info(ERR__COUNT) == unknown);
	CHECK(err_info((enum err)(ERR__COUNT + 1)) == unknown);
	CHECK(err_info((enum err)1000) == unknown);
}

static const struct test_case cases[] = {
	{ "every_value_has_a_row", test_every_value_has_a_row },
	{ "codes_and_names_unique", test_codes_and_names_unique },
	{ "names_snake_case", test_names_snake_case },
	{ "statuses_are_errors", test_statuses_are_errors },
	{ "codes_match_spec", test_codes_match_spec },
	{ "required_statuses", test_required_statuses },
	{ "out_of_range", test_out_of_range },
};

int
main(void)
{
	return harness_run("errors", cases, ARRAY_LEN(cases));
}
