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
 * as much as the digits.  Eight digits at a time needs a little-endian
 * load of eight bytes (the first digit in the lowest byte); other
 * machines take the byte loop.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DEC_SWAR 1
#endif

#ifdef DEC_SWAR
/* All eight bytes in '0'..'9': the high nibble is 3, and 3 after adding 6. */
static inline int
dec_eight_digits(uint64_t w)
{
	return ((w & 0xf0f0f0f0f0f0f0f0ULL) |
	    (((w + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) >> 4)) ==
	    0x3333333333333333ULL;
}

/* Their value: pairs, then fours, then the eight, three multiplications. */
static inline uint64_t
dec_eight_value(uint64_t w)
{
	w -= 0x3030303030303030ULL;
	w = w * 10 + (w >> 8);
	w = ((w & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32)) +
	    ((w >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32))) >> 32;
	return w & 0xffffffffULL;
}

/* The same for four digits: most numbers of a header are short. */
static inline int
dec_four_digits(uint32_t w)
{
	return ((w & 0xf0f0f0f0U) | (((w + 0x06060606U) & 0xf0f0f0f0U) >> 4)) ==
	    0x33333333U;
}

static inline uint32_t
dec_four_value(uint32_t w)
{
	w -= 0x30303030U;
	w = w * 10 + (w >> 8);
	return (w & 0xff) * 100 + ((w >> 16) & 0xff);
}
#endif

static inline const char *
dec_scan(const char *s, const char *end, uint64_t *v, int *ovf)
{
	uint64_t x = 0;
	unsigned d;

	*ovf = 0;
#ifdef DEC_SWAR
	while (end - s >= 8 && x <= (UINT64_MAX - 99999999) / 100000000) {
		uint64_t w;

		memcpy(&w, s, sizeof(w));
		if (!dec_eight_digits(w))
			break;
		x = x * 100000000 + dec_eight_value(w);
		s += 8;
	}
	if (end - s >= 4 && x <= (UINT64_MAX - 9999) / 10000) {
		uint32_t w;

		memcpy(&w, s, sizeof(w));
		if (dec_four_digits(w)) {
			x = x * 10000 + dec_four_value(w);
			s += 4;
		}
	}
#endif
	for (; s < end && (d = (unsigned char)*s - '0') <= 9; s++) {
		if (x > UINT64_MAX / 10 ||
		    (x == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			*ovf = 1;
		else
			x = x * 10 + d;
	}
	*v = x;
	return s;
}


int	 dec_u64(const char *s, size_t n, uint64_t max, uint64_t *v);
unsigned dec_len(uint64_t v);
size_t	 dec_format(char *out, uint64_t v);

#endif
