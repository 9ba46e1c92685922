/* unit: consume/pqread.c consume/tcread.c transform/parquet.c transform/pq_col.c transform/pq_page.c transform/pq_meta.c transform/pq_rle.c transform/thrift.c transform/compress.c transform/workq.c */
/*
 * Unit tests of consume --lake's Parquet reader (consume/pqread.c): the
 * RLE/bit-packed hybrid decoder against runs worked out by hand from
 * Encodings.md and against transform's encoder at every width; files
 * made by transform's writer (small pages, several row groups,
 * dictionaries that fill up, required and optional columns, every
 * codec) read back value for value; what it refuses, refused by name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "../../consume/pqread.h"
#include "../../transform/parquet.h"
#include "unit.h"

/* Decode n values of width from p; how many came before the end. */
static size_t
decode(const void *p, size_t len, int width, uint32_t *out, size_t n)
{
	struct rled d;
	size_t i;

	rled_init(&d, p, len, width);
	for (i = 0; i < n; i++)
		if (rled_next(&d, &out[i]) < 0)
			break;
	return i;
}

static void
test_rle_by_hand(void)
{
	/* Encodings.md's example: 0..7 bit-packed at width 3 */
	static const unsigned char packed[] = { 0x03, 0x88, 0xc6, 0xfa };
	static const unsigned char rep[] = { 0xc8, 0x01, 0x05 };
	static const unsigned char wide[] = { 0x06, 0x01, 0x00, 0x01 };
	static const unsigned char zero[] = { 0x08 };
	static const unsigned char mixed[] = { 0x04, 0x01, 0x03, 0xa5 };
	static const unsigned char shortrun[] = { 0x05, 0xff };
	uint32_t v[200];
	size_t i, n;
	int ok;

	n = decode(packed, sizeof(packed), 3, v, 9);
	for (ok = n == 8, i = 0; ok && i < 8; i++)
		ok = v[i] == i;
	CHECK(ok, "rle: a bit-packed run of 0..7 at width 3");
	n = decode(rep, sizeof(rep), 3, v, 101);
	for (ok = n == 100, i = 0; ok && i < 100; i++)
		ok = v[i] == 5;
	CHECK(ok, "rle: a repeat of 100 fives, a varint count");
	n = decode(wide, sizeof(wide), 17, v, 4);
	CHECK(n == 3 && v[0] == 0x10001 && v[2] == 0x10001,
	    "rle: a repeated value of 17 bits in 3 bytes");
	n = decode(zero, sizeof(zero), 0, v, 5);
	CHECK(n == 4 && v[0] == 0 && v[3] == 0, "rle: width 0");
	n = decode(mixed, sizeof(mixed), 1, v, 12);
	for (ok = n == 10, i = 0; ok && i < 10; i++)
		ok = v[i] == (i < 2 ? 1u : 0xa5u >> (i - 2) & 1);
	CHECK(ok, "rle: a repeat, then a bit-packed run");
	n = decode(shortrun, sizeof(shortrun), 1, v, 20);
	CHECK(n == 8, "rle: a bit-packed run cut short ends with the data");
	n = decode(rep, 2, 3, v, 5);
	CHECK(n == 0, "rle: a repeat without its value is an end");
}

/* Runs and noise at every width through transform's encoder and back. */
static void
test_rle_round_trip(void)
{
	struct buf out = BUF_INIT, scratch = BUF_INIT;
	struct rle e;
	uint32_t *want, *got, mask;
	size_t i, n = 3000, k;
	int w, bad = 0;

	want = calloc(n, sizeof(*want));
	got = calloc(n + 8, sizeof(*got));
	srandom(8);
	for (w = 1; w <= 32; w++) {
		mask = w == 32 ? UINT32_MAX : (1u << w) - 1;
		buf_reset(&out);
		rle_init(&e, &out, &scratch, w);
		for (i = 0; i < n; i++) {
			k = i % 300 < 120 ? 7 : (size_t)random();
			want[i] = (uint32_t)k & mask;
			rle_put(&e, want[i]);
		}
		rle_flush(&e);
		if (decode(out.data, out.len, w, got, n) != n ||
		    memcmp(want, got, n * sizeof(*got)) != 0)
			bad++;
	}
	CHECK(bad == 0, "rle: transform's runs at widths 1 to 32 decode");
	free(want);
	free(got);
	buf_release(&out);
	buf_release(&scratch);
}

#define NROWS	5000

static const struct pq_column cols[] = {
	{ "id", PQ_INT64, 0 },
	{ "s", PQ_STRING, 1 },
	{ "b", PQ_BINARY, 1 },
	{ "t", PQ_TIMESTAMP_MS, 1 },
	{ "d", PQ_DOUBLE, 1 },
};

/* Row i's string: few distinct ones at first, then every one new. */
static size_t
str_of(size_t i, char *s, size_t n)
{
	if (i < NROWS / 2)
		return (size_t)snprintf(s, n, "k%zu", i % 13);
	return (size_t)snprintf(s, n, "unique value %zu %0*d", i,
	    (int)(i % 50), 0);
}

/* A file of transform's writer into a temporary file: its fd. */
static int
make_file(enum pq_codec codec, uint64_t *size)
{
	struct pq_opts o;
	struct pq_writer *w;
	struct buf out = BUF_INIT;
	unsigned char bin[4];
	char s[128];
	size_t i, n;
	FILE *f = tmpfile();
	int fd;

	pq_opts_init(&o);
	o.codec = codec;
	o.page_bytes = 700;
	o.row_group_bytes = 40000;
	o.dict_bytes = 3000;
	w = pq_new(cols, 5, &o);
	for (i = 0; i < NROWS; i++) {
		pq_int64(w, 0, (int64_t)i - 100);
		if (i % 7 != 3) {
			n = str_of(i, s, sizeof(s));
			pq_bytes(w, 1, s, n);
		}
		if (i % 5 != 0) {
			memcpy(bin, &i, sizeof(bin));
			pq_bytes(w, 2, bin, i % 4);
		}
		if (i % 3 != 0)
			pq_int64(w, 3, 1764201600000 + (int64_t)i);
		pq_double(w, 4, (double)i);
		pq_row_end(w);
		(void)pq_take(w, &out, 0);
	}
	pq_finish(w, &out);
	pq_free(w);
	fd = dup(fileno(f));
	fclose(f);
	if (write_all(fd, out.data, out.len) < 0)
		return -1;
	*size = out.len;
	buf_release(&out);
	return fd;
}

/* Row i as read: the columns t, id, s, b in that order. */
static int
row_ok(size_t i, const struct pqval *v)
{
	unsigned char bin[4];
	char s[128];
	size_t n;

	if (i % 3 != 0 ? v[0].kind != PQV_INT || v[0].i != 1764201600000 +
	    (int64_t)i : v[0].kind != PQV_NULL)
		return 0;
	if (v[1].kind != PQV_INT || v[1].i != (int64_t)i - 100)
		return 0;
	n = str_of(i, s, sizeof(s));
	if (i % 7 != 3 ? v[2].kind != PQV_BYTES || v[2].n != n ||
	    memcmp(v[2].s, s, n) != 0 : v[2].kind != PQV_NULL)
		return 0;
	memcpy(bin, &i, sizeof(bin));
	if (i % 5 != 0)
		return v[3].kind == PQV_BYTES && v[3].n == i % 4 &&
		    memcmp(v[3].s, bin, i % 4) == 0;
	return v[3].kind == PQV_NULL;
}

static void
test_file(enum pq_codec codec)
{
	static const size_t sel[] = { 3, 0, 1, 2 };
	struct pqval v[4];
	struct pqr *r;
	char why[256], what[100];
	uint64_t size;
	size_t i, len;
	int fd = make_file(codec, &size), rc = 1, ok = 1;

	r = pqr_open(fd, size, why, sizeof(why));
	snprintf(what, sizeof(what), "pqread: a %s file: its footer read",
	    pq_codec_name(codec));
	if (!CHECK(r != NULL, what)) {
		printf("#   %s\n", why);
		close(fd);
		return;
	}
	CHECK(pqr_ncols(r) == 5 && pqr_rows(r) == NROWS &&
	    strcmp(pqr_name(r, 1, &len), "s") == 0 && len == 1 &&
	    pqr_type(r, 0) == PQR_INT64 && pqr_unit(r, 3) == PQR_MILLIS &&
	    pqr_unit(r, 0) == PQR_PLAIN, "pqread: its schema");
	CHECK(pqr_select(r, sel, 4) == 0, "pqread: columns selected");
	for (i = 0; ok && (rc = pqr_next(r, v)) == 1; i++)
		ok = row_ok(i, v);
	snprintf(what, sizeof(what), "pqread: a %s file: every value back",
	    pq_codec_name(codec));
	if (!CHECK(ok && rc == 0 && i == NROWS, what))
		printf("#   row %zu rc %d: %s\n", i, rc, pqr_error(r));
	pqr_free(r);
	close(fd);
}

/* What the reader refuses: a damaged file, a type it does not read. */
static void
test_refusals(void)
{
	static const size_t dbl[] = { 4 };
	struct pqr *r;
	char why[256];
	uint64_t size;
	int fd = make_file(PQ_SNAPPY, &size);

	r = pqr_open(fd, size - 1, why, sizeof(why));
	CHECK(r == NULL && strstr(why, "no PAR1 at its end") != NULL,
	    "pqread: a truncated file is refused");
	r = pqr_open(fd, 11, why, sizeof(why));
	CHECK(r == NULL && strstr(why, "not a Parquet file") != NULL,
	    "pqread: a tiny file is refused");
	r = pqr_open(fd, size, why, sizeof(why));
	CHECK(r != NULL && pqr_select(r, dbl, 1) < 0 &&
	    strstr(pqr_error(r), "column d: physical type 5: not read"),
	    "pqread: a DOUBLE column is not read, and says so");
	pqr_free(r);
	close(fd);
}

int
main(void)
{
	test_rle_by_hand();
	test_rle_round_trip();
	test_file(PQ_NONE);
	test_file(PQ_SNAPPY);
	test_file(PQ_GZIP);
	test_file(PQ_ZSTD);
	test_refusals();
	return unit_done();
}
