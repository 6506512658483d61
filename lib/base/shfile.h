/*
 * Files shared through mmap by a writer process and readers (the pools'
 * metrics, web/metrics.c; the operation metrics, base/meter.c): mapping
 * one read-only when it has the size its layout says, and telling
 * whether its writer is gone.
 */
#ifndef BASE_SHFILE_H
#define BASE_SHFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* path mapped read-only when it is exactly size bytes; NULL otherwise
 * (munmap the result with size). */
const void *shfile_map_ro(const char *path, size_t size);
/* True when no process pid exists any more. */
bool shfile_writer_gone(int64_t pid);

#include "base/banned.h"
#endif
