/* Time helpers: monotonic milliseconds for durations, wall time for data. */
#ifndef BASE_CLOCK_H
#define BASE_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on the monotonic clock (for timeouts and latencies). */
int64_t clock_mono_ms(void);
/* Microseconds on the monotonic clock. */
int64_t clock_mono_us(void);
/* Seconds since the epoch. */
time_t clock_now(void);
/* Milliseconds since the epoch (wall time, for timestamps in data). */
int64_t clock_epoch_ms(void);
/* RFC 3339 UTC text ("2026-11-21T07:10:40Z") of t into out (>= 21 bytes). */
void clock_rfc3339(char *out, size_t size, time_t t);
/* Sleep ms milliseconds (restarts after signals unless *stop is set). */
void clock_sleep_ms(int64_t ms, volatile int *stop);

#include "base/banned.h"
#endif
