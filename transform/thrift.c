/* The Thrift compact protocol encoder; see thrift.h. */
#include <err.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "thrift.h"

void
tc_varint(struct buf *b, uint64_t v)
{
	unsigned char t[10];
	size_t n = 0;

	while (v >= 0x80) {
		t[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	t[n++] = (unsigned char)v;
	buf_add(b, t, n);
}

uint64_t
tc_zigzag(int64_t v)
{
	/* (v << 1) ^ (v >> 63), without shifting a negative value */
	return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
}

void
tc_begin(struct thrift *t, struct buf *out)
{
	t->out = out;
	t->depth = 1;
	t->last[0] = 0;
}

void
tc_end(struct thrift *t)
{
	if (t->depth != 1)
		errx(1, "thrift: %d structs left open", t->depth - 1);
	buf_addch(t->out, TC_STOP);
	t->depth = 0;
}

/* A field header: the id as a delta from the last one when it fits. */
static void
field(struct thrift *t, int id, enum tc_type type)
{
	int16_t *last;
	int delta;

	if (t->depth < 1 || id <= 0 || id > INT16_MAX)
		errx(1, "thrift: bad field id %d", id);
	last = &t->last[t->depth - 1];
	delta = id - *last;
	if (delta > 0 && delta <= 15)
		buf_addch(t->out, (delta << 4) | type);
	else {
		buf_addch(t->out, type);
		tc_varint(t->out, tc_zigzag(id));
	}
	*last = (int16_t)id;
}

void
tc_i16(struct thrift *t, int id, int16_t v)
{
	field(t, id, TC_I16);
	tc_varint(t->out, tc_zigzag(v));
}

void
tc_i32(struct thrift *t, int id, int32_t v)
{
	field(t, id, TC_I32);
	tc_varint(t->out, tc_zigzag(v));
}

void
tc_i64(struct thrift *t, int id, int64_t v)
{
	field(t, id, TC_I64);
	tc_varint(t->out, tc_zigzag(v));
}

void
tc_bool(struct thrift *t, int id, int v)
{
	/* a bool field's value is its type code */
	field(t, id, v ? TC_TRUE : TC_FALSE);
}

void
tc_double(struct thrift *t, int id, double v)
{
	unsigned char le[8];
	uint64_t u;
	int i;

	field(t, id, TC_DOUBLE);
	memcpy(&u, &v, 8);
	for (i = 0; i < 8; i++)
		le[i] = (unsigned char)(u >> (8 * i));
	buf_add(t->out, le, 8);
}

void
tc_elem_binary(struct thrift *t, const void *p, size_t n)
{
	tc_varint(t->out, n);
	buf_add(t->out, p, n);
}

void
tc_binary(struct thrift *t, int id, const void *p, size_t n)
{
	field(t, id, TC_BINARY);
	tc_elem_binary(t, p, n);
}

void
tc_string(struct thrift *t, int id, const char *s)
{
	tc_binary(t, id, s, strlen(s));
}

void
tc_elem_struct(struct thrift *t)
{
	if (t->depth >= TC_DEPTH)
		errx(1, "thrift: structs nested deeper than %d", TC_DEPTH);
	t->last[t->depth++] = 0;
}

void
tc_struct(struct thrift *t, int id)
{
	field(t, id, TC_STRUCT);
	tc_elem_struct(t);
}

void
tc_struct_end(struct thrift *t)
{
	if (t->depth <= 1)
		errx(1, "thrift: no struct open");
	buf_addch(t->out, TC_STOP);
	t->depth--;
}

void
tc_list(struct thrift *t, int id, enum tc_type type, size_t n)
{
	field(t, id, TC_LIST);
	if (n < 15)
		buf_addch(t->out, (int)(n << 4) | type);
	else {
		buf_addch(t->out, 0xf0 | type);
		tc_varint(t->out, n);
	}
}

void
tc_elem_i32(struct thrift *t, int32_t v)
{
	tc_varint(t->out, tc_zigzag(v));
}
