/*
 * The instance state machine's table: names round-trip through the SQL and
 * JSON text, delete wins over everything, and each writer may start only
 * where the design says (the rest is tested against PostgreSQL in
 * tests/integration/test_lifecycle.py).
 */
#include <stdbool.h>
#include <string.h>

#include "domain/lifecycle.h"
#include "harness.h"

static void
test_names_round_trip(void)
{
	enum lc_status s;
	enum lc_desired d;

	for (int i = 0; i < LC_STATUS_COUNT; i++) {
		CHECK_INT(lc_status_parse(lc_status_name((enum lc_status)i), &s),
		    0);
		CHECK_INT(s, i);
	}
	for (int i = 0; i < LC_DESIRED_COUNT; i++) {
		CHECK_INT(lc_desired_parse(lc_desired_name((enum lc_desired)i),
		    &d), 0);
		CHECK_INT(d, i);
	}
	CHECK_STR(lc_status_name(LC_BACKING_UP), "backing_up");
	CHECK_STR(lc_desired_name(LC_WANT_DELETED), "deleted");
	CHECK_INT(lc_status_parse("Running", &s), -1);
	CHECK_INT(lc_desired_parse("", &d), -1);
	for (int e = 0; e < LC_EVENT_COUNT; e++)
		CHECK(strcmp(lc_event_name((enum lc_event)e), "unknown") != 0);
}

/* Nothing moves a deleted instance but its destruction. */
static void
test_delete_wins(void)
{
	for (int e = 0; e < LC_EVENT_COUNT; e++)
		for (int s = 0; s < LC_STATUS_COUNT; s++)
			CHECK(lifecycle_allows((enum lc_event)e,
			    (enum lc_status)s, LC_WANT_DELETED) ==
			    (e == LC_DESTROYED && s == LC_DELETING));
}

/* The person can delete from every visible state. */
static void
test_delete_from_every_live_state(void)
{
	static const enum lc_status live[] = { LC_PROVISIONING, LC_RUNNING,
		LC_PAUSED, LC_STOPPED, LC_ERROR, LC_BACKING_UP, LC_RESTORING };

	for (size_t i = 0; i < ARRAY_LEN(live); i++) {
		CHECK(lifecycle_allows(LC_DELETE, live[i], LC_WANT_RUNNING));
		CHECK(lifecycle_allows(LC_DELETE, live[i], LC_WANT_STOPPED));
		CHECK(lifecycle_allows(LC_ACCOUNT_DELETE, live[i],
		    LC_WANT_PAUSED));
	}
}

/* Billing never pauses a stop, never resumes what it did not pause, and
 * charges only what runs and should. */
static void
test_billing_respects_the_person(void)
{
	CHECK(lifecycle_allows(LC_PAUSE, LC_RUNNING, LC_WANT_RUNNING));
	CHECK(!lifecycle_allows(LC_PAUSE, LC_RUNNING, LC_WANT_STOPPED));
	CHECK(!lifecycle_allows(LC_PAUSE, LC_STOPPED, LC_WANT_STOPPED));
	CHECK(lifecycle_allows(LC_RESUME, LC_PAUSED, LC_WANT_PAUSED));
	CHECK(!lifecycle_allows(LC_RESUME, LC_STOPPED, LC_WANT_STOPPED));
	CHECK(!lifecycle_allows(LC_RESUME, LC_PAUSED, LC_WANT_RUNNING));
	CHECK(lifecycle_allows(LC_CHARGE, LC_RUNNING, LC_WANT_RUNNING));
	CHECK(!lifecycle_allows(LC_CHARGE, LC_RUNNING, LC_WANT_STOPPED));
	CHECK(!lifecycle_allows(LC_CHARGE, LC_STOPPED, LC_WANT_RUNNING));
	CHECK(!lifecycle_allows(LC_EXPIRE, LC_RUNNING, LC_WANT_RUNNING));
}

/* Observations only ever follow the intent. */
static void
test_observations_follow_intent(void)
{
	CHECK(lifecycle_allows(LC_SEEN_READY, LC_PROVISIONING,
	    LC_WANT_RUNNING));
	CHECK(lifecycle_allows(LC_SEEN_UP, LC_STOPPED, LC_WANT_RUNNING));
	CHECK(!lifecycle_allows(LC_SEEN_UP, LC_STOPPED, LC_WANT_STOPPED));
	CHECK(!lifecycle_allows(LC_SEEN_PAUSED, LC_RUNNING, LC_WANT_STOPPED));
	CHECK(lifecycle_allows(LC_SEEN_STOPPED, LC_RUNNING, LC_WANT_STOPPED));
	CHECK(!lifecycle_allows(LC_SEEN_FAILED, LC_ERROR, LC_WANT_RUNNING));
	CHECK(!lifecycle_allows(LC_NEVER_READY, LC_RUNNING, LC_WANT_RUNNING));
	CHECK(!lifecycle_allows(LC_START, LC_PROVISIONING, LC_WANT_STOPPED));
	CHECK(!lifecycle_allows(LC_STOP, LC_ERROR, LC_WANT_STOPPED));
}

/* A backup or a restore starts only from a running instance the person
 * wants running, and no reconciler observation moves it meanwhile; the
 * person may still delete it, and billing still charges it. */
static void
test_backups_own_the_instance_meanwhile(void)
{
	static const enum lc_event seen[] = { LC_SEEN_READY, LC_SEEN_UP,
		LC_SEEN_STOPPED, LC_SEEN_PAUSED, LC_SEEN_FAILED, LC_NEVER_READY };

	CHECK(lifecycle_allows(LC_BACKUP_BEGIN, LC_RUNNING, LC_WANT_RUNNING));
	CHECK(!lifecycle_allows(LC_BACKUP_BEGIN, LC_STOPPED, LC_WANT_RUNNING));
	CHECK(!lifecycle_allows(LC_BACKUP_BEGIN, LC_RUNNING, LC_WANT_STOPPED));
	CHECK(!lifecycle_allows(LC_RESTORE_BEGIN, LC_BACKING_UP,
	    LC_WANT_RUNNING));
	for (size_t i = 0; i < ARRAY_LEN(seen); i++) {
		CHECK(!lifecycle_allows(seen[i], LC_BACKING_UP, LC_WANT_RUNNING));
		CHECK(!lifecycle_allows(seen[i], LC_RESTORING, LC_WANT_RUNNING));
	}
	CHECK(!lifecycle_allows(LC_STOP, LC_BACKING_UP, LC_WANT_RUNNING));
	CHECK(lifecycle_allows(LC_CHARGE, LC_BACKING_UP, LC_WANT_RUNNING));
	CHECK(lifecycle_allows(LC_BACKUP_END, LC_BACKING_UP, LC_WANT_RUNNING));
	CHECK(lifecycle_allows(LC_RESTORE_END, LC_RESTORING, LC_WANT_RUNNING));
	CHECK(!lifecycle_allows(LC_BACKUP_END, LC_RESTORING, LC_WANT_RUNNING));
}

static const struct test_case cases[] = {
	{ "backups_own_the_instance_meanwhile",
	  test_backups_own_the_instance_meanwhile },
	{ "names_round_trip", test_names_round_trip },
	{ "delete_wins", test_delete_wins },
	{ "delete_from_every_live_state", test_delete_from_every_live_state },
	{ "billing_respects_the_person", test_billing_respects_the_person },
	{ "observations_follow_intent", test_observations_follow_intent },
};

int
main(void)
{
	return harness_run("lifecycle", cases, ARRAY_LEN(cases));
}
