/* Message ids; see msgid.h. */
#include <limits.h>

#include "buf.h"
#include "msgid.h"

static int
parse_i64(const char **p, const char *end, int64_t min, int64_t max,
    int64_t *v)
{
	const char *s = *p;
	int neg = 0;
	int64_t x = 0;

	if (s < end && *s == '-') {
		neg = 1;
		s++;
	}
	if (s == end || *s < '0' || *s > '9')
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (x > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		x = x * 10 + (*s - '0');
	}
	if (neg)
		x = -x;
	if (x < min || x > max)
		return -1;
	*p = s;
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
