/* unit: */
/* Unit tests of common/buf.c: growth, the inline fast paths, numbers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"

static void
test_numbers(void)
{
	static const unsigned long long u[] = { 0, 9, 10, 99, 100, 101, 999,
	    1000, 12345678901234ULL, UINT64_MAX };
	struct buf b = BUF_INIT;
	char want[32];
	size_t i;
	int ok = 1;

	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		buf_reset(&b);
		buf_addu64(&b, u[i]);
		snprintf(want, sizeof(want), "%llu", u[i]);
		ok &= strcmp(b.data, want) == 0;
	}
	CHECK(ok, "buf_addu64 matches printf at the edges");
	for (i = 0, ok = 1; i < 100000; i++) {
		unsigned long long v = (unsigned long long)random() *
		    (unsigned long long)random();

		buf_reset(&b);
		buf_addu64(&b, v);
		snprintf(want, sizeof(want), "%llu", v);
		ok &= strcmp(b.data, want) == 0;
	}
	CHECK(ok, "buf_addu64 matches printf on random values");
	buf_reset(&b);
	buf_addi64(&b, INT64_MIN);
	CHECK_STR(b.data, "-9223372036854775808", "buf_addi64 INT64_MIN");
	buf_release(&b);
}

static void
test_growth(void)
{
	struct buf b = BUF_INIT;
	size_t i, len;
	char *p;
	int ok = 1;

	CHECK(b.len == 0 && b.data[0] == '\0', "empty buffer is a C string");
	for (i = 0; i < 100000; i++)
		buf_addch(&b, 'a' + (int)(i % 26));
	for (i = 0; i < b.len; i++)
		ok &= b.data[i] == 'a' + (int)(i % 26);
	CHECK(ok && b.len == 100000 && b.data[b.len] == '\0',
	    "buf_addch grows and stays terminated");
	buf_consume(&b, 99990);
	CHECK(b.len == 10 && b.data[0] == 'a' + (int)(99990 % 26),
	    "buf_consume keeps the tail");
	buf_add(&b, "xyz", 3);
	buf_addf(&b, "%d-%s", 42, "q");
	CHECK(memcmp(b.data + 10, "xyz42-q", 8) == 0, "buf_add, buf_addf");
	p = buf_detach(&b, &len);
	CHECK(len == 17 && b.len == 0 && b.cap == 0, "detach hands over");
	free(p);
	p = buf_detach(&b, &len);
	CHECK(len == 0 && p[0] == '\0', "detach of an empty buffer");
	free(p);
	buf_release(&b);
}

int
main(void)
{
	test_numbers();
	test_growth();
	return unit_done();
}
