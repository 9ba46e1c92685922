/*
 * dec: the one decimal parser and formatter of the common library.
 *
 * Frame headers are mostly decimal numbers (lengths, seqs, ids, times), and
 * every program reads and writes millions of them a second: the parser
 * takes eight digits at a time where the bytes allow it, and the formatter
 * writes straight into the caller's memory, two digits per division.
 *
 * dec_scan reads the longest run of ASCII digits in [s, end) and returns a
 * pointer past it (s itself when there is none); *v gets its value, and
 * *ovf is set when the value exceeds UINT64_MAX (the run is still
 * skipped, *v is then meaningless).  Leading zeros are accepted: refusing
 * them is the caller's rule where it has one (frame lengths, seqs).
 *
 * dec_u64 takes the whole of [s, s + n): 0 with *v set when it is one or
 * more digits and at most max, -1 otherwise (*v untouched).
 *
 * dec_len is the number of digits of v (1 for 0); dec_format writes the
 * dec_len(v) digits at out, without a NUL, and returns that count; out
 * must have room for DEC_U64_MAX_DIGITS bytes (it writes eight bytes at
 * a time, so bytes past the digits may change).
 */
#ifndef LAKEPIPE_DEC_H
#define LAKEPIPE_DEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DEC_U64_MAX_DIGITS	20

/*
 * dec_scan is inline: ids and times are parsed a few at a time, millions
 * of times a second, and most are short enough that a call would cost
 * as much as the digits.  A run of fewer than eight digits is found and
 * converted from one load of eight bytes, with no loop (where it ends by
 * bit tricks, its value by one multiplication per halving); longer runs
 * take dec_scan_long, a call that does sixteen digits from two loads.
 * That needs a little-endian load of eight bytes (the first digit in the
 * lowest byte); other machines take the byte loop.
 *
 * dec_scan_in is dec_scan for a run inside a larger buffer: [base, end)
 * must be readable, base <= s.  Near end it reads the eight bytes that
 * end there instead of going byte by byte, which needs eight of them.
 * dec_u64_in is dec_u64 with the same base.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DEC_SWAR 1
#endif

#ifdef DEC_SWAR
/*
 * The eight bytes at s, the first lowest, when [s, end) holds them; else
 * the last end - s bytes of the eight that end at end, shifted down, zero
 * bytes (not digits) after them, when [base, end) holds eight.  0 when
 * there are not eight bytes to read.
 */
static inline int
dec_load(const char *base, const char *s, const char *end, uint64_t *w)
{
	if (end - s >= 8)
		memcpy(w, s, sizeof(*w));
	else if (s == end)
		*w = 0;
	else if (end - base >= 8) {
		memcpy(w, end - 8, sizeof(*w));
		*w >>= 8 * (8 - (end - s));
	} else
		return 0;
	return 1;
}

/*
 * The high bit of each byte of w that is not a digit: above '9' (or 0x80
 * and up) by adding 0x46, below '0' by subtracting 0x30 from the byte with
 * its high bit set, which cannot borrow.  The carries of the addition
 * start only at a byte that is flagged anyway, so the lowest flag is
 * exact, and that is the one asked for.
 */
static inline uint64_t
dec_nondigits(uint64_t w)
{
	const uint64_t high = 0x8080808080808080ULL;

	return (w | (w + 0x4646464646464646ULL) |
	    ~((w | high) - 0x3030303030303030ULL)) & high;
}

/*
 * The value of the first k (1..8) bytes of w, digits: shifted to the top
 * (zeros, leading, below them), then pairs, fours and the eight, three
 * multiplications.
 */
static inline uint64_t
dec_run_value(uint64_t w, unsigned k)
{
	unsigned sh = 8 * (8 - k);

	w = (w << sh) - (0x3030303030303030ULL << sh);
	w = w * 10 + (w >> 8);
	w = ((w & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32)) +
	    ((w >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32))) >> 32;
	return w & 0xffffffffULL;
}
#endif

/* What dec_scan_in leaves to a call: long runs, short buffers. */
const char *dec_scan_long(const char *base, const char *s, const char *end,
	    uint64_t *v, int *ovf);

static inline const char *
dec_scan_in(const char *base, const char *s, const char *end, uint64_t *v,
    int *ovf)
{
#ifdef DEC_SWAR
	uint64_t w, m;
	unsigned k;

	if (dec_load(base, s, end, &w) && (m = dec_nondigits(w)) != 0) {
		k = (unsigned)__builtin_ctzll(m) / 8;
		*v = k > 0 ? dec_run_value(w, k) : 0;
		*ovf = 0;
		return s + k;
	}
#endif
	return dec_scan_long(base, s, end, v, ovf);
}

static inline const char *
dec_scan(const char *s, const char *end, uint64_t *v, int *ovf)
{
	return dec_scan_in(s, s, end, v, ovf);
}

static inline int
dec_u64_in(const char *base, const char *s, size_t n, uint64_t max,
    uint64_t *v)
{
	uint64_t x;
	int ovf;

	if (n == 0 || dec_scan_in(base, s, s + n, &x, &ovf) != s + n || ovf ||
	    x > max)
		return -1;
	*v = x;
	return 0;
}

int	 dec_u64(const char *s, size_t n, uint64_t max, uint64_t *v);
unsigned dec_len(uint64_t v);
size_t	 dec_format(char *out, uint64_t v);

#endif
