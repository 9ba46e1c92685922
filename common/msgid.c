/* Message ids; see msgid.h. */
#include <stdint.h>

#include "buf.h"
#include "dec.h"
#include "msgid.h"

/*
 * One field at p, in a whole id [id, end): an optional '-' and digits, at
 * most neg below zero and pos above it.  Past it, or NULL.
 */
static inline const char *
id_field(const char *id, const char *p, const char *end, uint64_t neg,
    uint64_t pos, int64_t *v)
{
	const char *e;
	uint64_t u;
	int minus = p < end && *p == '-', ovf;

	p += minus;
	if ((e = dec_scan_in(id, p, end, &u, &ovf)) == p || ovf ||
	    u > (minus ? neg : pos))
		return NULL;
	*v = minus ? -(int64_t)u : (int64_t)u;
	return e;
}

/* The ':' after a field at p, or NULL (p NULL too). */
static inline const char *
colon(const char *p, const char *end)
{
	return p != NULL && p < end && *p == ':' ? p + 1 : NULL;
}

int
msgid_parse(struct msgid *id, const char *s, size_t n)
{
	const char *p, *end = s + n;
	int64_t ledger, entry, partition, batch;

	/* ledger and entry: -1 or more; partition and batch: int32 */
	if ((p = colon(id_field(s, s, end, 1, INT64_MAX, &ledger), end)) ==
	    NULL ||
	    (p = colon(id_field(s, p, end, 1, INT64_MAX, &entry), end)) ==
	    NULL ||
	    (p = colon(id_field(s, p, end, (uint64_t)INT32_MAX + 1, INT32_MAX,
	    &partition), end)) == NULL ||
	    id_field(s, p, end, (uint64_t)INT32_MAX + 1, INT32_MAX,
	    &batch) != end)
		return -1;
	id->ledger = ledger;
	id->entry = entry;
	id->partition = (int32_t)partition;
	id->batch = (int32_t)batch;
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
