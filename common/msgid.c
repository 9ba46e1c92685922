/* Message ids; see msgid.h. */
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buf.h"
#include "dec.h"
#include "msgid.h"

/*
 * What each field may be, below zero and above it: ledger and entry -1
 * or more, partition and batch int32.
 */
static const uint64_t below[4] = { 1, 1, (uint64_t)INT32_MAX + 1,
	(uint64_t)INT32_MAX + 1 };
static const uint64_t above[4] = { INT64_MAX, INT64_MAX, INT32_MAX,
	INT32_MAX };

/*
 * Field i at p, in a whole id [id, end): an optional '-' and digits, in
 * its range.  Past it, or NULL.
 */
static inline const char *
id_field(const char *id, const char *p, const char *end, int i, int64_t *v)
{
	const char *e;
	uint64_t u;
	int minus = p < end && *p == '-', ovf;

	p += minus;
	if ((e = dec_scan_in(id, p, end, &u, &ovf)) == p || ovf ||
	    u > (minus ? below[i] : above[i]))
		return NULL;
	*v = minus ? -(int64_t)u : (int64_t)u;
	return e;
}

#if defined(__SSE2__) && defined(DEC_SWAR)
/* Bitmaps of the digits, ':' and '-' among the 16 bytes at p. */
static inline void
classify16(const char *p, uint32_t *dig, uint32_t *col, uint32_t *neg)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);

	*dig = (uint32_t)_mm_movemask_epi8(_mm_and_si128(
	    _mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
	    _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), x)));
	*col = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x,
	    _mm_set1_epi8(':')));
	*neg = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x,
	    _mm_set1_epi8('-')));
}

/*
 * Field i, [a, b) of the id [s, end) (at least eight bytes), of the shape
 * "-?[0-9]+" already: 0 with *v set when it has at most 16 digits and is
 * in its range.  Inline, each of the four calls folds its constants.
 */
static inline __attribute__((always_inline)) int
short_field(const char *s, size_t a, size_t b, const char *end, int i,
    int64_t *v)
{
	static const uint32_t tens[9] = { 1, 10, 100, 1000, 10000, 100000,
	    1000000, 10000000, 100000000 };
	int minus = s[a] == '-';
	size_t k = b - a - (size_t)minus;
	const char *p = s + a + minus;
	uint64_t w = 0, u;

	if (k > 16)
		return -1;
	if (k == 1)		/* -1 of a partition or batch, mostly */
		u = (uint64_t)(*p - '0');
	else {
		(void)dec_load(s, p, end, &w);	/* the id has eight bytes */
		u = dec_run_value(w, k < 8 ? (unsigned)k : 8);
		if (k > 8) {
			(void)dec_load(s, p + 8, end, &w);
			u = u * tens[k - 8] + dec_run_value(w, (unsigned)k - 8);
		}
	}
	if (u > (minus ? below[i] : above[i]))
		return -1;
	*v = minus ? -(int64_t)u : (int64_t)u;
	return 0;
}

/*
 * The last id this thread parsed in one piece, for the next: the ids of
 * a stream share their ledger, partition and batch while their entries
 * count up, so one that has the same "ledger:" and ":partition:batch",
 * byte for byte, needs only its entry read.  head holds the first (up to
 * 16 bytes), tail the second (up to 8) as the last bytes of a word; the
 * masks say which bytes count.  headlen 0: nothing to compare with.
 */
static _Thread_local struct {
	uint64_t	 head[2], headmask[2], tail, tailmask;
	size_t		 headlen, taillen;
	int64_t		 v[4];
} last;

/* The mask of the first k (0..8) bytes of a word. */
static inline uint64_t
first_bytes(size_t k)
{
	return k == 0 ? 0 : ~0ULL >> (64 - 8 * k);
}

/* Keep the good id [s, s + n), its ':' at c1 and c2, for like_last. */
static void
remember(const char *s, size_t n, size_t c1, size_t c2, const int64_t v[4])
{
	last.headlen = c1 + 1;
	last.taillen = n - c2;
	if (last.headlen > 16 || last.taillen > 8) {
		last.headlen = 0;
		return;
	}
	memcpy(last.head, s, sizeof(last.head));
	last.headmask[0] = first_bytes(last.headlen < 8 ? last.headlen : 8);
	last.headmask[1] = first_bytes(last.headlen > 8 ? last.headlen - 8 :
	    0);
	memcpy(&last.tail, s + n - 8, sizeof(last.tail));
	last.tailmask = ~0ULL << (64 - 8 * last.taillen);
	memcpy(last.v, v, sizeof(last.v));
}

/* An id of 16 bytes or more, the last one but for its entry: 0, or -1. */
static int
like_last(const char *s, size_t n, int64_t v[4])
{
	uint64_t w[2], t, entry;

	if (last.headlen == 0 || n < last.headlen + 1 + last.taillen)
		return -1;
	memcpy(w, s, sizeof(w));
	memcpy(&t, s + n - 8, sizeof(t));
	if ((((w[0] ^ last.head[0]) & last.headmask[0]) |
	    ((w[1] ^ last.head[1]) & last.headmask[1]) |
	    ((t ^ last.tail) & last.tailmask)) != 0 ||
	    dec_u64_in(s, s + last.headlen, n - last.headlen - last.taillen,
	    INT64_MAX, &entry) < 0)
		return -1;
	v[0] = last.v[0];
	v[1] = (int64_t)entry;
	v[2] = last.v[2];
	v[3] = last.v[3];
	return 0;
}

/*
 * An id of 16 to 32 bytes, the usual, with no search: its bytes sorted
 * into digits, ':' and '-' 16 at a time (the second 16 those that end
 * it), its shape checked on those bitmaps, and each field converted from
 * one or two loads of eight bytes; remembered for like_last.  0 when it
 * is a good id; -1 when it is not, or has a field of more than 16
 * digits, for parse_long to decide.
 */
static int
parse_short(const char *s, size_t n, int64_t v[4])
{
	const char *end = s + n;
	uint32_t d, c, m;
	uint64_t dig, col, neg, starts, firsts, all = (1ULL << n) - 1;
	size_t c1, c2, c3;

	classify16(s, &d, &c, &m);
	dig = d, col = c, neg = m;
	classify16(end - 16, &d, &c, &m);
	dig |= (uint64_t)d << (n - 16);
	col |= (uint64_t)c << (n - 16);
	neg |= (uint64_t)m << (n - 16);
	/* every field: an optional '-' at its start, then a digit */
	starts = (col << 1) | 1;
	firsts = (starts & ~neg) | (neg << 1);
	if ((dig | col | neg) != all || (neg & ~starts) != 0 ||
	    (firsts & ~dig) != 0 || col == 0)
		return -1;
	/* three ':', the fields' ends */
	c1 = (size_t)__builtin_ctzll(col);
	if ((col &= col - 1) == 0)
		return -1;
	c2 = (size_t)__builtin_ctzll(col);
	if ((col &= col - 1) == 0)
		return -1;
	c3 = (size_t)__builtin_ctzll(col);
	if ((col & (col - 1)) != 0)
		return -1;
	if (short_field(s, 0, c1, end, 0, &v[0]) < 0 ||
	    short_field(s, c1 + 1, c2, end, 1, &v[1]) < 0 ||
	    short_field(s, c2 + 1, c3, end, 2, &v[2]) < 0 ||
	    short_field(s, c3 + 1, n, end, 3, &v[3]) < 0)
		return -1;
	remember(s, n, c1, c2, v);
	return 0;
}
#endif

/* The four fields one after the other. */
static int
parse_long(const char *s, size_t n, int64_t v[4])
{
	const char *p = s, *end = s + n;
	int i;

	for (i = 0; i < 4; i++) {
		if ((p = id_field(s, p, end, i, &v[i])) == NULL)
			return -1;
		if (i < 3 && (p == end || *p++ != ':'))
			return -1;
	}
	return p == end ? 0 : -1;
}

int
msgid_parse(struct msgid *id, const char *s, size_t n)
{
	int64_t v[4];

#if defined(__SSE2__) && defined(DEC_SWAR)
	if ((n < 16 || n > 32 ||
	    (like_last(s, n, v) < 0 && parse_short(s, n, v) < 0)) &&
	    parse_long(s, n, v) < 0)
		return -1;
#else
	if (parse_long(s, n, v) < 0)
		return -1;
#endif
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
