/*
 * Writing Protocol Buffers, as much as OTLP needs (base/trace.h,
 * net/otlp.h): varints, fixed64 and length-delimited fields, into a
 * caller's fixed buffer.  A message inside another is written into its own
 * struct pb first, then added with pb_bytes().  Writing past the end
 * leaves the buffer marked full (pb->full) and its content unusable.
 *
 *	uint8_t mem[256];
 *	struct pb kv = PB_INIT(mem);
 *	pb_str(&kv, 1, "db.system");
 */
#ifndef BASE_PB_H
#define BASE_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pb {
	uint8_t *data;
	size_t len, cap;
	bool full;
};

#define PB_INIT(mem) { (mem), 0, sizeof(mem), false }

enum pb_wire { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2 };

void pb_tag(struct pb *b, unsigned field, enum pb_wire wire);
void pb_varint(struct pb *b, uint64_t v);
/* Whole fields: tag and value. */
void pb_uint(struct pb *b, unsigned field, uint64_t v);
void pb_fixed64(struct pb *b, unsigned field, uint64_t v);
void pb_bytes(struct pb *b, unsigned field, const void *data, size_t n);
void pb_str(struct pb *b, unsigned field, const char *s);
/* A nested message already written to inner (nothing when inner is
 * full: the caller checks b->full). */
void pb_msg(struct pb *b, unsigned field, const struct pb *inner);
/* Bytes as they are (fields written elsewhere). */
void pb_raw(struct pb *b, const void *data, size_t n);

#include "base/banned.h"
#endif
