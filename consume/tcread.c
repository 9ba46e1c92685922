/* The Thrift compact protocol decoder; see tcread.h. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tcread.h"

void
tcr_init(struct tcr *t, const void *p, size_t n)
{
	t->p = p;
	t->end = t->p + n;
	t->err = 0;
	t->depth = 0;
}

static uint64_t
varint(struct tcr *t)
{
	uint64_t v = 0;
	int shift;

	for (shift = 0; shift < 64 && !t->err; shift += 7) {
		if (t->p >= t->end)
			break;
		v |= (uint64_t)(*t->p & 0x7f) << shift;
		if ((*t->p++ & 0x80) == 0)
			return v;
	}
	t->err = 1;
	return 0;
}

static int64_t
zigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static int
byte(struct tcr *t)
{
	if (t->err || t->p >= t->end) {
		t->err = 1;
		return 0;
	}
	return *t->p++;
}

int
tcr_field(struct tcr *t, int *id, int *type)
{
	int b = byte(t);
	int64_t v;

	if (t->err || b == TCR_STOP)
		return 0;
	*type = b & 0x0f;
	if (b >> 4 != 0)
		*id += b >> 4;
	else {
		v = zigzag(varint(t));
		if (v < INT16_MIN || v > INT16_MAX)
			t->err = 1;
		*id = (int)v;
	}
	if (*type > TCR_STRUCT)
		t->err = 1;
	return !t->err;
}

int64_t
tcr_int(struct tcr *t, int type)
{
	switch (type) {
	case TCR_TRUE:
		return 1;
	case TCR_FALSE:
		return 0;
	case TCR_I8:
		return (int8_t)byte(t);
	case TCR_I16:
	case TCR_I32:
	case TCR_I64:
		return zigzag(varint(t));
	default:
		t->err = 1;
		return 0;
	}
}

size_t
tcr_binary(struct tcr *t, const unsigned char **p)
{
	uint64_t n = varint(t);

	*p = t->p;
	if (t->err || n > (uint64_t)(t->end - t->p)) {
		t->err = 1;
		return 0;
	}
	t->p += n;
	return (size_t)n;
}

uint32_t
tcr_list(struct tcr *t, int *type)
{
	int b = byte(t);
	uint64_t n = (unsigned)b >> 4;

	*type = b & 0x0f;
	if (n == 15)
		n = varint(t);
	/* every element takes a byte at least, but booleans in a struct */
	if (t->err || n > (uint64_t)(t->end - t->p) || *type == TCR_STOP) {
		t->err = 1;
		return 0;
	}
	return (uint32_t)n;
}

void
tcr_enter(struct tcr *t)
{
	if (++t->depth > TCR_DEPTH)
		t->err = 1;
}

void
tcr_leave(struct tcr *t)
{
	t->depth--;
}

static void
skip_bytes(struct tcr *t, size_t n)
{
	if (t->err || n > (size_t)(t->end - t->p)) {
		t->err = 1;
		return;
	}
	t->p += n;
}

/* A list element or map entry of a type holding a boolean as a byte. */
static void
skip_elem(struct tcr *t, int type)
{
	if (type == TCR_TRUE || type == TCR_FALSE)
		skip_bytes(t, 1);
	else
		tcr_skip(t, type);
}

void
tcr_skip(struct tcr *t, int type)
{
	const unsigned char *p;
	uint64_t i, n;
	int id = 0, ft, kv;

	if (t->err)
		return;
	switch (type) {
	case TCR_TRUE:
	case TCR_FALSE:
		return;
	case TCR_I8:
		skip_bytes(t, 1);
		return;
	case TCR_I16:
	case TCR_I32:
	case TCR_I64:
		(void)varint(t);
		return;
	case TCR_DOUBLE:
		skip_bytes(t, 8);
		return;
	case TCR_BINARY:
		(void)tcr_binary(t, &p);
		return;
	}
	tcr_enter(t);
	switch (type) {
	case TCR_LIST:
	case TCR_SET:
		n = tcr_list(t, &ft);
		for (i = 0; i < n && !t->err; i++)
			skip_elem(t, ft);
		break;
	case TCR_MAP:
		n = varint(t);
		if (n > (uint64_t)(t->end - t->p))
			t->err = 1;
		kv = n > 0 ? byte(t) : 0;
		for (i = 0; i < n && !t->err; i++) {
			skip_elem(t, kv >> 4);
			skip_elem(t, kv & 0x0f);
		}
		break;
	case TCR_STRUCT:
		while (tcr_field(t, &id, &ft))
			tcr_skip(t, ft);
		break;
	default:
		t->err = 1;
		break;
	}
	tcr_leave(t);
}
