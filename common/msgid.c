/* Message ids; see msgid.h. */
#include <limits.h>

#include "buf.h"
#include "dec.h"
#include "msgid.h"

/* An optional '-' and digits at *p, in [min, max]; advance *p. */
static int
parse_i64(const char **p, const char *end, int64_t min, int64_t max,
    int64_t *v)
{
	const char *s = *p, *e;
	int neg = 0, ovf;
	uint64_t u;
	int64_t x;

	if (s < end && *s == '-') {
		neg = 1;
		s++;
	}
	if ((e = dec_scan(s, end, &u, &ovf)) == s || ovf ||
	    u > (uint64_t)INT64_MAX)
		return -1;
	x = neg ? -(int64_t)u : (int64_t)u;
	if (x < min || x > max)
		return -1;
	*p = e;
	*v = x;
	return 0;
}

int
msgid_parse(struct msgid *id, const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	int64_t v[4];
	int i;

	for (i = 0; i < 4; i++) {
		if (parse_i64(&p, end, i < 2 ? -1 : INT32_MIN,
		    i < 2 ? INT64_MAX : INT32_MAX, &v[i]) < 0)
			return -1;
		if (i < 3 && (p == end || *p++ != ':'))
			return -1;
	}
	if (p != end)
		return -1;
	id->ledger = v[0];
	id->entry = v[1];
	id->partition = (int32_t)v[2];
	id->batch = (int32_t)v[3];
	return 0;
}

void
msgid_format(struct buf *b, const struct msgid *id)
{
	buf_addi64(b, id->ledger);
	buf_addch(b, ':');
	buf_addi64(b, id->entry);
	buf_addch(b, ':');
	buf_addi64(b, id->partition);
	buf_addch(b, ':');
	buf_addi64(b, id->batch);
}

int
msgid_cmp(const struct msgid *a, const struct msgid *b)
{
	if (a->ledger != b->ledger)
		return a->ledger < b->ledger ? -1 : 1;
	if (a->entry != b->entry)
		return a->entry < b->entry ? -1 : 1;
	if (a->batch != b->batch)
		return a->batch < b->batch ? -1 : 1;
	return 0;
}
