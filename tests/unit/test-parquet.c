/* unit: transform/parquet.c transform/pq_col.c transform/pq_page.c transform/pq_meta.c transform/pq_rle.c transform/thrift.c transform/compress.c transform/workq.c */
/*
 * Unit tests of the Parquet writer's encoders (the Thrift compact
 * protocol, the RLE/bit-packed hybrid) against bytes worked out by hand
 * from their specifications; and, as "test-parquet write", the driver
 * that tests/t2100-parquet.sh uses to make files from a description:
 *
 *	test-parquet write [-t part-bytes] [-c codec] [-l level] [-p page-bytes]
 *	    [-g row-group-bytes] [-d dict-bytes] OUT <DESCRIPTION
 *
 * DESCRIPTION: a first line of tab-separated columns, name:type with a
 * trailing ? if nullable (types int64 double boolean string binary
 * timestamp), then one line per row of tab-separated values: \N a null,
 * strings with the escapes \\ \t \n \r, binary in hex, booleans 0 or 1,
 * doubles as strtod(3) reads them, int64 and timestamps in decimal.  -t
 * takes the file's bytes after every row (pq_take) in parts of at most
 * part-bytes, as a streaming caller would.  "test-parquet bench [ROWS]" measures the writer (see bench_main).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "pct.h"
#include "../../transform/parquet.h"
#include "../../transform/thrift.h"
#include "unit.h"

static int
bytes_eq(const struct buf *b, const char *want, size_t n, const char *what)
{
	size_t i;
	int ok = b->len == n && memcmp(b->data, want, n) == 0;

	if (!CHECK(ok, what)) {
		printf("#   got: ");
		for (i = 0; i < b->len; i++)
			printf(" %02x", (unsigned char)b->data[i]);
		printf("\n#   want:");
		for (i = 0; i < n; i++)
			printf(" %02x", (unsigned char)want[i]);
		printf("\n");
	}
	return ok;
}
#define BYTES_EQ(b, lit, what) bytes_eq((b), (lit), sizeof(lit) - 1, (what))

static void
test_thrift(void)
{
	struct buf b = BUF_INIT;
	struct thrift t;
	int i;

	tc_begin(&t, &b);
	tc_i32(&t, 1, 1);		/* delta 1, i32: 0x15, zigzag 1 = 2 */
	tc_i64(&t, 3, -1);		/* delta 2, i64: 0x26, zigzag -1 = 1 */
	tc_string(&t, 20, "ab");	/* delta 17: long form 0x08, id 40 */
	tc_bool(&t, 21, 1);		/* bool true in the type: 0x11 */
	tc_bool(&t, 22, 0);		/* false: 0x12 */
	tc_struct(&t, 23);		/* 0x1c */
	tc_i32(&t, 1, 150);		/* ids restart: 0x15, 300 = ac 02 */
	tc_struct_end(&t);		/* 0x00 */
	tc_list(&t, 24, TC_I32, 3);	/* 0x19, size 3 i32: 0x35 */
	tc_elem_i32(&t, 0);
	tc_elem_i32(&t, 1);
	tc_elem_i32(&t, -1);
	tc_i16(&t, 2, 7);		/* delta -22: long form 0x04, id 4 */
	tc_end(&t);
	BYTES_EQ(&b, "\x15\x02" "\x26\x01" "\x08\x28\x02" "ab" "\x11" "\x12"
	    "\x1c" "\x15\xac\x02" "\x00" "\x19\x35\x00\x02\x01"
	    "\x04\x04\x0e" "\x00", "thrift: fields, deltas, nesting, lists");

	buf_reset(&b);
	tc_begin(&t, &b);
	tc_double(&t, 1, 1.0);
	tc_list(&t, 2, TC_BINARY, 15);	/* 15 or more: 0xf8 and a varint */
	for (i = 0; i < 15; i++)
		tc_elem_binary(&t, "", 0);
	tc_i64(&t, 3, INT64_MIN);	/* zigzag: 2^64 - 1 */
	tc_end(&t);
	BYTES_EQ(&b, "\x17\x00\x00\x00\x00\x00\x00\xf0\x3f"
	    "\x19\xf8\x0f" "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	    "\x16\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01" "\x00",
	    "thrift: double, long list, i64 min");
	buf_release(&b);
}

static void
rle(struct buf *out, int width, const uint32_t *v, size_t n)
{
	struct buf scratch = BUF_INIT;
	struct rle r;
	size_t i;

	buf_reset(out);
	rle_init(&r, out, &scratch, width);
	for (i = 0; i < n; i++)
		rle_put(&r, v[i]);
	rle_flush(&r);
	buf_release(&scratch);
}

static void
test_rle(void)
{
	static const uint32_t seq[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const uint32_t ones_then[] = { 1, 1, 1, 1, 1, 1, 1, 1, 0, 1 };
	static const uint32_t runs[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0 };
	static const uint32_t mixed[] = { 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1,
	    1, 1, 1, 1, 1, 1, 1, 1, 0 };
	uint32_t many[100], wide[9];
	struct buf b = BUF_INIT;
	size_t i;

	/* Encodings.md: 0..7 at width 3 pack as 10001000 11000110 11111010 */
	rle(&b, 3, seq, 8);
	BYTES_EQ(&b, "\x03\x88\xc6\xfa", "rle: the spec's bit-packing example");
	for (i = 0; i < 100; i++)
		many[i] = 4;
	rle(&b, 3, many, 100);		/* header 100 << 1 = 200: c8 01 */
	BYTES_EQ(&b, "\xc8\x01\x04", "rle: a repeat run of 100");
	rle(&b, 1, ones_then, 10);
	BYTES_EQ(&b, "\x10\x01" "\x03\x02", "rle: a repeat, then a padded group");
	rle(&b, 1, runs, 13);
	BYTES_EQ(&b, "\x14\x01" "\x06\x00", "rle: two repeat runs");
	/*
	 * 1 0 1 1 0 0 1 0 is a bit-packed group, LSB first 0b01001101; the
	 * next eight are all 1, so they start a repeat (12 ones), and the
	 * last 0 alone ends as a repeat of 1.
	 */
	rle(&b, 1, mixed, 21);
	BYTES_EQ(&b, "\x03\x4d" "\x18\x01" "\x02\x00",
	    "rle: a bit-packed group, a repeat of 12, a last repeat");
	for (i = 0; i < 9; i++)
		wide[i] = 300;
	rle(&b, 9, wide, 9);		/* the value in 2 bytes, LE */
	BYTES_EQ(&b, "\x12\x2c\x01", "rle: width 9 repeats in two bytes");
	rle(&b, 3, seq, 3);		/* 0 1 2 padded: 000 001 010 ... */
	BYTES_EQ(&b, "\x03\x88\x00\x00", "rle: a short tail is padded");
	CHECK(pq_bit_width(0) == 0 && pq_bit_width(1) == 1 &&
	    pq_bit_width(7) == 3 && pq_bit_width(8) == 4 &&
	    pq_bit_width(UINT32_MAX) == 32, "bit widths");
	buf_release(&b);
}

static void
test_file(void)
{
	static const struct pq_column cols[] = {
		{ "id", PQ_INT64, 0 }, { "s", PQ_STRING, 1 } };
	struct pq_writer *w;
	struct buf b = BUF_INIT;
	uint32_t flen;
	int i;

	w = pq_new(cols, 2, NULL);
	for (i = 0; i < 1000; i++) {
		pq_int64(w, 0, i);
		if (i % 3)
			pq_bytes(w, 1, i % 2 ? "odd" : "even", i % 2 ? 3 : 4);
		pq_row_end(w);
	}
	CHECK(pq_rows(w) == 1000, "pq_rows counts rows");
	CHECK(pq_size(w) > 4, "pq_size counts the open row group");
	pq_finish(w, &b);
	pq_free(w);
	memcpy(&flen, b.data + b.len - 8, 4);	/* little-endian host */
	CHECK(b.len > 12 && memcmp(b.data, "PAR1", 4) == 0 &&
	    memcmp(b.data + b.len - 4, "PAR1", 4) == 0 && flen < b.len - 12,
	    "a file: magic, footer, its length, magic");
	buf_release(&b);
}

/* the driver */

/* Decode a field in place (escapes or hex); returns its length. */
static size_t
decode(char *s, int hex)
{
	char *o = s, *p = s;

	if (hex) {
		for (; p[0] && p[1]; p += 2) {
			if (pct_hexval(p[0]) < 0 || pct_hexval(p[1]) < 0)
				errx(1, "bad hex: %s", s);
			*o++ = (char)(pct_hexval(p[0]) << 4 | pct_hexval(p[1]));
		}
		return (size_t)(o - s);
	}
	for (; *p; p++) {
		if (*p != '\\' || p[1] == '\0') {
			*o++ = *p;
			continue;
		}
		p++;
		*o++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' :
		    *p;
	}
	return (size_t)(o - s);
}

static int
parse_type(const char *s)
{
	static const char *names[] = { "int64", "double", "boolean", "string",
	    "binary", "timestamp" };
	static const enum pq_type types[] = { PQ_INT64, PQ_DOUBLE, PQ_BOOLEAN,
	    PQ_STRING, PQ_BINARY, PQ_TIMESTAMP_MS };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return types[i];
	errx(1, "unknown type %s", s);
}

static size_t
parse_columns(char *line, struct pq_column **colsp)
{
	struct pq_column *cols = NULL;
	size_t n = 0;
	char *f, *ty;

	while ((f = strsep(&line, "\t")) != NULL) {
		cols = xreallocarray(cols, n + 1, sizeof(*cols));
		if ((ty = strchr(f, ':')) == NULL)
			errx(1, "column %s: no type", f);
		*ty++ = '\0';
		cols[n].nullable = ty[strlen(ty) - 1] == '?';
		if (cols[n].nullable)
			ty[strlen(ty) - 1] = '\0';
		cols[n].name = xstrdup(f);
		cols[n].type = parse_type(ty);
		n++;
	}
	*colsp = cols;
	return n;
}

static void
put_value(struct pq_writer *w, const struct pq_column *c, size_t i, char *f)
{
	char *end;
	size_t n;

	if (strcmp(f, "\\N") == 0) {
		pq_null(w, i);
		return;
	}
	errno = 0;
	switch (c->type) {
	case PQ_INT64:
	case PQ_TIMESTAMP_MS:
		pq_int64(w, i, strtoll(f, &end, 10));
		break;
	case PQ_DOUBLE:
		pq_double(w, i, strtod(f, &end));
		errno = 0;		/* ERANGE for subnormals is no error */
		break;
	case PQ_BOOLEAN:
		pq_bool(w, i, (int)strtol(f, &end, 10));
		break;
	default:
		n = decode(f, c->type == PQ_BINARY);
		pq_bytes(w, i, f, n);
		return;
	}
	if (errno != 0 || *end != '\0')
		errx(1, "column %s: bad value %s", c->name, f);
}

static size_t
size_arg(const char *s)
{
	const char *e;
	long long v = strtonum(s, 0, 1LL << 40, &e);

	if (e != NULL)
		errx(2, "size %s: %s", s, e);
	return (size_t)v;
}

static int
write_main(int argc, char **argv)
{
	struct pq_opts o;
	struct pq_column *cols;
	struct pq_writer *w;
	struct buf out = BUF_INIT;
	char *line = NULL, *p, *f;
	size_t cap = 0, ncols, i;
	ssize_t n;
	size_t take = 0;
	int ch, fd;

	pq_opts_init(&o);
	while ((ch = getopt(argc, argv, "c:d:g:l:p:t:")) != -1) {
		switch (ch) {
		case 'c':
			if ((o.codec = pq_codec_parse(optarg)) == (enum pq_codec)-1)
				errx(2, "unknown codec %s", optarg);
			break;
		case 'd':
			o.dict_bytes = size_arg(optarg);
			break;
		case 'g':
			o.row_group_bytes = size_arg(optarg);
			break;
		case 'l':
			o.level = (int)size_arg(optarg);
			break;
		case 'p':
			o.page_bytes = size_arg(optarg);
			break;
		case 't':
			take = size_arg(optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		errx(2, "usage: test-parquet write [options] OUT <DESCRIPTION");
	if ((fd = open(argv[optind], O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		err(1, "%s", argv[optind]);
	if ((n = getline(&line, &cap, stdin)) <= 0)
		errx(1, "no column line");
	line[strcspn(line, "\n")] = '\0';
	ncols = parse_columns(line, &cols);
	w = pq_new(cols, ncols, &o);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		p = line;
		for (i = 0; i < ncols; i++) {
			if ((f = strsep(&p, "\t")) == NULL)
				errx(1, "a row of %zu fields", i);
			put_value(w, &cols[i], i, f);
		}
		pq_row_end(w);
		while (take > 0 && pq_take(w, &out, take) > 0) {
			if (write_all(fd, out.data, out.len) != 0)
				err(1, "write");
			buf_reset(&out);
		}
	}
	pq_finish(w, &out);
	if (write_all(fd, out.data, out.len) != 0 || close(fd) != 0)
		err(1, "write");
	pq_free(w);
	for (i = 0; i < ncols; i++)
		free((char *)cols[i].name);
	free(cols);
	free(line);
	buf_release(&out);
	return 0;
}

/*
 * test-parquet bench [ROWS]: rows like a lake's (an id, a publish time, a
 * topic of four, a key of a thousand, a double, a JSON payload of about
 * 200 bytes), made before the clock starts, written with every codec;
 * prints the writer's CPU time, rows/s, MB/s of the values' PLAIN size
 * and the file's size.
 */
static int
bench_main(int argc, char **argv)
{
	static const struct pq_column cols[] = {
		{ "message_id", PQ_INT64, 0 }, { "publish_time", PQ_TIMESTAMP_MS, 0 },
		{ "topic", PQ_STRING, 0 }, { "key", PQ_STRING, 1 },
		{ "price", PQ_DOUBLE, 1 }, { "payload", PQ_STRING, 0 } };
	static const enum pq_codec codecs[] = { PQ_NONE, PQ_SNAPPY, PQ_GZIP,
	    PQ_ZSTD };
	static const char *topics[] = { "orders", "payments", "clicks",
	    "audit" };
	struct pq_opts o;
	struct pq_writer *w;
	struct buf out = BUF_INIT, pay = BUF_INIT;
	struct timespec t0, t1;
	char key[32];
	size_t *off, k, rows, i;
	uint64_t raw = 0, size;
	double s;

	rows = argc > 1 ? size_arg(argv[1]) : 300000;
	off = xreallocarray(NULL, rows + 1, sizeof(*off));
	for (i = 0; i < rows; i++) {
		off[i] = pay.len;
		buf_addf(&pay, "{\"id\":%zu,\"user\":\"user-%zu\",\"items\":"
		    "[%zu,%zu],\"note\":\"the quick brown fox jumps over the "
		    "lazy dog %zu\",\"ok\":%s,\"price\":%.2f}", i,
		    i * 2654435761U % 1000, i % 97, i % 13, i * 31 % 100000,
		    i % 3 ? "true" : "false", (double)(i % 10000) / 100);
	}
	off[rows] = pay.len;
	for (k = 0; k < sizeof(codecs) / sizeof(codecs[0]); k++) {
		pq_opts_init(&o);
		o.codec = codecs[k];
		w = pq_new(cols, 6, &o);
		raw = size = 0;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
		for (i = 0; i < rows; i++) {
			const char *t = topics[i % 4];
			size_t kn = (size_t)snprintf(key, sizeof(key),
			    "user-%zu", i * 2654435761U % 1000);

			pq_int64(w, 0, (int64_t)i);
			pq_int64(w, 1, 1764201600000 + (int64_t)i * 7);
			pq_bytes(w, 2, t, strlen(t));
			pq_bytes(w, 3, key, kn);
			pq_double(w, 4, (double)(i % 10000) / 100);
			pq_bytes(w, 5, pay.data + off[i], off[i + 1] - off[i]);
			pq_row_end(w);
			raw += 8 + 8 + 4 + strlen(t) + 4 + kn + 8 + 4 +
			    (off[i + 1] - off[i]);
			size += pq_take(w, &out, 0);
			buf_reset(&out);
		}
		pq_finish(w, &out);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
		size += out.len;
		s = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("%-7s %zu rows %.2f s cpu %.0f rows/s %.0f MB/s of %.1f MB"
		    " plain, file %.1f%% of it\n", pq_codec_name(codecs[k]),
		    rows, s, (double)rows / s, (double)raw / s / 1e6,
		    (double)raw / 1e6, 100.0 * (double)size / (double)raw);
		pq_free(w);
		buf_reset(&out);
	}
	free(off);
	buf_release(&pay);
	buf_release(&out);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "write") == 0)
		return write_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "bench") == 0)
		return bench_main(argc - 1, argv + 1);
	test_thrift();
	test_rle();
	test_file();
	return unit_done();
}
