/*
 * Test pause points (see pause.h).  Files rather than signals or sockets:
 * a test arms a point before it starts the process that will reach it,
 * and any number of processes (pool workers, dbtreectl) can share one
 * directory.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/pause.h"

#define PAUSE_MAX_MS 60000
#define PAUSE_POLL_MS 5

static char pause_dir[1024];

void
pause_setup(const char *dir)
{
	snprintf(pause_dir, sizeof(pause_dir), "%s", dir ? dir : "");
}

bool
pause_enabled(void)
{
	return pause_dir[0] != '\0';
}

static void
mark_reached(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		log_warn("pause point '%s': %s", path, strerror(errno));
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

void
pause_point(const char *name)
{
	char armed[1200], reached[1300];
	int64_t until;

	if (!pause_enabled())
		return;
	snprintf(armed, sizeof(armed), "%s/%s", pause_dir, name);
	if (access(armed, F_OK) != 0)
		return;
	snprintf(reached, sizeof(reached), "%s.reached", armed);
	log_info("held at pause point '%s'", name);
	mark_reached(reached);
	until = clock_mono_ms() + PAUSE_MAX_MS;
	while (access(armed, F_OK) == 0 && clock_mono_ms() < until)
		clock_sleep_ms(PAUSE_POLL_MS, NULL);
	unlink(reached);
	log_info("released from pause point '%s'", name);
}

long long
pause_clock_offset(void)
{
	char path[1100], text[32];
	FILE *f;
	long long off = 0;

	if (!pause_enabled())
		return 0;
	snprintf(path, sizeof(path), "%s/clock-offset", pause_dir);
	if (!(f = fopen(path, "r")))
		return 0;
	if (fgets(text, sizeof(text), f))
		off = strtoll(text, NULL, 10);
	fclose(f);
	return off;
}
