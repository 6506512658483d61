/*
 * domain/health: the capacity ratio /metrics reports, including a
 * configuration with nothing usable (no division by zero) and instances
 * holding more than is usable (after the capacity was lowered).
 */
#include "domain/health.h"
#include "domain/instance.h"
#include "harness.h"

static void
ratio(double used_cpu, int64_t used_mb, double usable_cpu, int64_t usable_mb,
      double want_cpu, double want_mem)
{
	struct capacity c = { .used_cpu = used_cpu, .used_mb = used_mb };
	struct health_conf hc = { "local", usable_cpu, usable_mb, 1000 };
	double cpu = -1, mem = -1;

	health_capacity_ratio(&c, &hc, &cpu, &mem);
	CHECK(cpu > want_cpu - 1e-9 && cpu < want_cpu + 1e-9);
	CHECK(mem > want_mem - 1e-9 && mem < want_mem + 1e-9);
}

static void
test_share(void)
{
	ratio(0, 0, 4, 8192, 0, 0);
	ratio(1, 2048, 4, 8192, 0.25, 0.25);
	ratio(3.5, 1024, 3.5, 4096, 1, 0.25);
}

static void
test_nothing_usable(void)
{
	ratio(1, 512, 0, 0, 0, 0);
	ratio(1, 512, -1, -256, 0, 0);
}

static void
test_over(void)
{
	ratio(6, 16384, 4, 8192, 1.5, 2);
}

static const struct test_case cases[] = {
	{ "share", test_share },
	{ "nothing_usable", test_nothing_usable },
	{ "over", test_over },
};

int
main(void)
{
	return harness_run("health", cases, ARRAY_LEN(cases));
}
