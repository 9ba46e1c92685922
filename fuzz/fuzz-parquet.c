/* unit: consume/pqread.c consume/tcread.c */
/*
 * fuzz-parquet: a lake object as consume --lake reads a Parquet one
 * (pqread.h): the footer, then every row of the columns it can read.
 * Properties checked: a file refused says why; every row has a value
 * per selected column, of the kind the column's type gives, its bytes
 * inside the reader's memory (ASan sees them read); as many rows as
 * pqr_rows says when none failed.  The input's bytes are also read as
 * RLE/bit-packed runs of a width taken from the first byte: each value
 * fits that width.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../consume/pqread.h"
#include "buf.h"
#include "fuzz.h"

#define MAX_SEL		16
#define MAX_RLE		4096

static void
check_rows(struct pqr *r)
{
	struct pqval v[MAX_SEL];
	size_t cols[MAX_SEL], n = 0, i, k;
	uint64_t rows = 0;
	volatile unsigned char sink = 0;
	int t, rc;

	for (i = 0; i < pqr_ncols(r) && n < MAX_SEL; i++) {
		t = pqr_type(r, i);
		if (t == PQR_INT32 || t == PQR_INT64 || t == PQR_BYTE_ARRAY)
			cols[n++] = i;
	}
	if (pqr_select(r, cols, n) < 0)
		fuzz_fail("a column of a type read refused");
	while ((rc = pqr_next(r, v)) == 1) {
		for (i = 0; i < n; i++) {
			t = pqr_type(r, cols[i]);
			fuzz_check(v[i].kind == PQV_NULL || v[i].kind ==
			    (t == PQR_BYTE_ARRAY ? PQV_BYTES : PQV_INT));
			for (k = 0; v[i].kind == PQV_BYTES && k < v[i].n; k++)
				sink ^= (unsigned char)v[i].s[k];
		}
		rows++;
	}
	fuzz_check(rc == 0 || *pqr_error(r) != '\0');
	fuzz_check(rc < 0 || rows == pqr_rows(r));
	(void)sink;
}

/* Runs of the width of the first byte: values of that width. */
static void
check_rle(const uint8_t *data, size_t size)
{
	struct rled d;
	uint32_t v;
	size_t n;
	int width;

	if (size == 0)
		return;
	width = data[0] % 33;
	rled_init(&d, data + 1, size - 1, width);
	/* a repeat may hold 2^31 values: the first MAX_RLE are enough */
	for (n = 0; n < MAX_RLE && rled_next(&d, &v) == 0; n++)
		fuzz_check(width == 32 || v < (1u << width));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pqr *r;
	char why[256];
	int fd;

	check_rle(data, size);
	if ((fd = memfd_create("fuzz-parquet", MFD_CLOEXEC)) < 0)
		fuzz_fail("memfd_create");
	if (write_all(fd, data, size) < 0)
		fuzz_fail("write");
	why[0] = '\0';
	r = pqr_open(fd, size, why, sizeof(why));
	if (r == NULL)
		fuzz_check(why[0] != '\0');
	else {
		check_rows(r);
		pqr_free(r);
	}
	close(fd);
	return 0;
}
