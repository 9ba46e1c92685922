/* Decimal numbers; see dec.h. */
#include <string.h>

#include "dec.h"

/* The rest of a run from s, x the value of the digits before it. */
static const char *
scan_rest(const char *s, const char *end, uint64_t x, uint64_t *v, int *ovf)
{
	unsigned d;

	*ovf = 0;
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

/*
 * What dec_scan_in leaves: fewer than eight bytes to read, or a run of
 * eight digits or more (the next eight bytes then are readable too).
 */
const char *
dec_scan_long(const char *base, const char *s, const char *end, uint64_t *v,
    int *ovf)
{
#ifdef DEC_SWAR
	static const uint32_t tens[8] = { 1, 10, 100, 1000, 10000, 100000,
	    1000000, 10000000 };
	uint64_t w, m, x;
	unsigned k;

	if (!dec_load(base, s, end, &w))
		return scan_rest(s, end, 0, v, ovf);
	x = dec_run_value(w, 8);
	(void)dec_load(base, s + 8, end, &w);
	if ((m = dec_nondigits(w)) != 0) {
		k = (unsigned)__builtin_ctzll(m) / 8;
		*v = k > 0 ? x * tens[k] + dec_run_value(w, k) : x;
		*ovf = 0;
		return s + 8 + k;
	}
	return scan_rest(s + 16, end, x * 100000000 + dec_run_value(w, 8), v,
	    ovf);
#else
	(void)base;
	return scan_rest(s, end, 0, v, ovf);
#endif
}

int
dec_u64(const char *s, size_t n, uint64_t max, uint64_t *v)
{
	return dec_u64_in(s, s, n, max, v);
}

/* pow10[0] is 0 so that the estimate below gives 1 digit for 0 too. */
static const uint64_t pow10[DEC_U64_MAX_DIGITS] = {
	0, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
	10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
	100000000000ULL, 1000000000000ULL, 10000000000000ULL,
	100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL,
	10000000000000000000ULL,
};

unsigned
dec_len(uint64_t v)
{
	/* bits * log10(2), from below; one comparison corrects it */
	unsigned t = (unsigned)(64 - __builtin_clzll(v | 1)) * 1233 >> 12;

	return t + (v >= pow10[t]);
}

#ifdef DEC_SWAR
/*
 * The eight digits of v < 10^8 (leading zeros included) as eight bytes,
 * the first in the lowest: split into 4-digit halves in 32-bit lanes,
 * those into 2-digit 16-bit lanes, those into digits, each step one
 * multiplication for every lane at once (the constants divide by 100 and
 * by 10 exactly in the ranges they are used on).
 */
static inline uint64_t
eight_ascii(uint32_t v)
{
	uint64_t m = v / 10000 | (uint64_t)(v % 10000) << 32, top, h, t;

	top = ((m * 10486) >> 20) & 0x0000007f0000007fULL;
	h = ((m - 100 * top) << 16) + top;
	t = ((h * 103) >> 10) & 0x000f000f000f000fULL;
	t += (h - 10 * t) << 8;
	return t + 0x3030303030303030ULL;
}

/* The last n of those digits at p; writes eight bytes. */
static inline void
put_ascii(char *p, uint64_t x, unsigned n)
{
	x >>= 8 * (8 - n);
	memcpy(p, &x, sizeof(x));
}

size_t
dec_format(char *out, uint64_t v)
{
	unsigned n = dec_len(v);
	uint64_t q, q2;

	if (n <= 8)
		put_ascii(out, eight_ascii((uint32_t)v), n);
	else if (n <= 16) {
		q = v / 100000000;
		put_ascii(out, eight_ascii((uint32_t)q), n - 8);
		put_ascii(out + n - 8, eight_ascii((uint32_t)(v - q *
		    100000000)), 8);
	} else {
		q = v / 100000000;
		q2 = q / 100000000;
		put_ascii(out, eight_ascii((uint32_t)q2), n - 16);
		put_ascii(out + n - 16, eight_ascii((uint32_t)(q - q2 *
		    100000000)), 8);
		put_ascii(out + n - 8, eight_ascii((uint32_t)(v - q *
		    100000000)), 8);
	}
	return n;
}
#else
/* Two decimal digits at a time: a division per pair, not per digit. */
static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

size_t
dec_format(char *out, uint64_t v)
{
	size_t n = dec_len(v);
	char *p = out + n;

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		*--p = digit_pairs[d + 1];
		*--p = digit_pairs[d];
	}
	if (v >= 10) {
		*--p = digit_pairs[v * 2 + 1];
		*--p = digit_pairs[v * 2];
	} else
		*--p = (char)('0' + v);
	return n;
}
#endif
