/* Sequence number sets; see seqs.h. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "seqs.h"

static void
insert_at(struct seqs *s, size_t i, uint64_t lo, uint64_t hi)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->r = xreallocarray(s->r, s->cap, sizeof(*s->r));
	}
	memmove(s->r + i + 1, s->r + i, (s->n - i) * sizeof(*s->r));
	s->r[i].lo = lo;
	s->r[i].hi = hi;
	s->n++;
}

/* Merge range i with its successors while they touch or overlap. */
static void
merge_forward(struct seqs *s, size_t i)
{
	size_t j = i + 1;

	/* r[j].lo > r[i].lo >= 0: lo - 1 cannot wrap, as hi + 1 could */
	while (j < s->n && s->r[j].lo - 1 <= s->r[i].hi) {
		if (s->r[j].hi > s->r[i].hi)
			s->r[i].hi = s->r[j].hi;
		j++;
	}
	memmove(s->r + i + 1, s->r + j, (s->n - j) * sizeof(*s->r));
	s->n -= j - i - 1;
}

void
seqs_add_range(struct seqs *s, uint64_t lo, uint64_t hi)
{
	size_t i;

	if (lo > hi)
		return;
	/* fast path: appending at the end */
	if (s->n == 0 || lo > s->r[s->n - 1].hi) {
		if (s->n && lo == s->r[s->n - 1].hi + 1)
			s->r[s->n - 1].hi = hi;
		else
			insert_at(s, s->n, lo, hi);
		return;
	}
	/*
	 * Skip the ranges wholly below lo, not touching it; then merge with
	 * the next one if it touches [lo, hi].  Written without hi + 1, which
	 * wraps to 0 at UINT64_MAX (an ack line may name any number): that
	 * put a range after a higher one, or left two overlapping.
	 */
	for (i = 0; i < s->n && lo > 0 && s->r[i].hi < lo - 1; i++)
		;
	if (i < s->n && (s->r[i].lo == 0 || s->r[i].lo - 1 <= hi)) {
		if (lo < s->r[i].lo)
			s->r[i].lo = lo;
		if (hi > s->r[i].hi)
			s->r[i].hi = hi;
	} else
		insert_at(s, i, lo, hi);
	merge_forward(s, i);
}

void
seqs_add(struct seqs *s, uint64_t v)
{
	seqs_add_range(s, v, v);
}

void
seqs_clear(struct seqs *s)
{
	s->n = 0;
}

void
seqs_free(struct seqs *s)
{
	free(s->r);
	s->r = NULL;
	s->n = s->cap = 0;
}

uint64_t
seqs_count(const struct seqs *s)
{
	uint64_t c = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		c += s->r[i].hi - s->r[i].lo + 1;
	return c;
}

int
seqs_contains(const struct seqs *s, uint64_t v)
{
	size_t lo = 0, hi = s->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v < s->r[mid].lo)
			hi = mid;
		else if (v > s->r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

void
seqs_format(struct buf *b, const struct seqs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (i)
			buf_addch(b, ',');
		buf_addu64(b, s->r[i].lo);
		if (s->r[i].hi != s->r[i].lo) {
			buf_addch(b, '-');
			buf_addu64(b, s->r[i].hi);
		}
	}
}

/* Parse a decimal number without sign or leading zeros; advance *p. */
static int
parse_u64(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;

	if (s == end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end &&
	    s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*v = x;
	return 0;
}

int
seqs_parse(struct seqs *s, const char *str, size_t n)
{
	const char *p = str, *end = str + n;
	uint64_t lo, hi;

	if (n == 0)
		return 0;
	for (;;) {
		if (parse_u64(&p, end, &lo) < 0)
			return -1;
		hi = lo;
		if (p < end && *p == '-') {
			p++;
			if (parse_u64(&p, end, &hi) < 0 || hi < lo)
				return -1;
		}
		seqs_add_range(s, lo, hi);
		if (p == end)
			return 0;
		if (*p++ != ',')
			return -1;
	}
}
