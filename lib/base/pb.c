/* Protocol Buffers writer (see pb.h). */
#include <string.h>

#include "base/pb.h"

void
pb_raw(struct pb *b, const void *data, size_t n)
{
	if (b->full || n > b->cap - b->len) {
		b->full = true;
		return;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
}

void
pb_varint(struct pb *b, uint64_t v)
{
	uint8_t out[10];
	size_t n = 0;

	do {
		out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	pb_raw(b, out, n);
}

void
pb_tag(struct pb *b, unsigned field, enum pb_wire wire)
{
	pb_varint(b, (uint64_t)field << 3 | wire);
}

void
pb_uint(struct pb *b, unsigned field, uint64_t v)
{
	pb_tag(b, field, PB_VARINT);
	pb_varint(b, v);
}

void
pb_fixed64(struct pb *b, unsigned field, uint64_t v)
{
	uint8_t out[8];

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
	pb_tag(b, field, PB_FIXED64);
	pb_raw(b, out, sizeof(out));
}

void
pb_bytes(struct pb *b, unsigned field, const void *data, size_t n)
{
	pb_tag(b, field, PB_LEN);
	pb_varint(b, n);
	pb_raw(b, data, n);
}

void
pb_str(struct pb *b, unsigned field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

void
pb_msg(struct pb *b, unsigned field, const struct pb *inner)
{
	if (inner->full)
		b->full = true;
	else
		pb_bytes(b, field, inner->data, inner->len);
}
