/* unit: consume/lakecsv.c consume/lakerec.c */
/*
 * fuzz-csv: a lake object as consume --lake reads a CSV one (lakecsv.h):
 * records taken from the start of the bytes, as lakeobj.c gives them.
 * Property checked: the reader's answers (each record's frame, each bad
 * row's and failure's reason, the bytes taken) are the same when it has
 * the whole object at once as when the bytes come a few at a time (the
 * input's last byte says how many), as they do from a pipe.
 */
#include <string.h>

#include "../consume/lakecsv.h"
#include "../consume/lakerec.h"
#include "buf.h"
#include "fuzz.h"

#define MAX_RECORDS	10000

/* The reader's answers over data, given step bytes at a time. */
static void
answers(const uint8_t *data, size_t size, size_t step, struct buf *out)
{
	struct lakecsv c;
	struct lakerec r;
	const char *why;
	size_t pos = 0, avail = step < size ? step : size, used;
	int rc, n = 0;

	lakecsv_init(&c);
	lakerec_init(&r);
	while (n < MAX_RECORDS) {
		rc = lakecsv_next(&c, &r, (const char *)data + pos,
		    avail - pos, avail == size, &used, &why);
		pos += used;
		fuzz_check(pos <= avail);
		if (rc == CSV_MORE) {
			fuzz_check(avail < size);
			avail = size - avail > step ? avail + step : size;
			continue;
		}
		buf_addf(out, "%d %zu %llu ", rc, pos,
		    (unsigned long long)c.recline);
		if (rc == CSV_ROW)
			lakerec_frame(out, &r, 1);
		else if (rc == CSV_BAD || rc == CSV_FAIL)
			buf_addstr(out, why);
		buf_addch(out, '\n');
		if (rc == CSV_END || rc == CSV_FAIL)
			break;
		n++;
	}
	lakerec_release(&r);
	lakecsv_release(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole = BUF_INIT, parts = BUF_INIT;

	answers(data, size, size, &whole);
	answers(data, size, size > 0 ? 1 + data[size - 1] % 7 : 1, &parts);
	fuzz_check(whole.len == parts.len &&
	    memcmp(whole.data, parts.data, whole.len) == 0);
	buf_release(&whole);
	buf_release(&parts);
	return 0;
}
