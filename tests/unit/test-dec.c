/* unit: */
/* Unit tests of common/dec.c: the decimal parser and formatter. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dec.h"
#include "unit.h"

/* What dec_scan should say of s, from strtoull. */
static int
scan_agrees(const char *s)
{
	size_t run = strspn(s, "0123456789"), n = strlen(s);
	unsigned long long want;
	char digits[64];
	uint64_t v;
	int ovf;

	if (dec_scan(s, s + n, &v, &ovf) != s + run)
		return 0;
	if (run == 0)
		return v == 0 && !ovf;
	memcpy(digits, s, run);
	digits[run] = '\0';
	errno = 0;
	want = strtoull(digits, NULL, 10);
	if (errno == ERANGE)
		return ovf;
	return !ovf && v == want;
}

static void
test_scan(void)
{
	static const char *const s[] = { "", "x", "0", "7", "12", "1234",
	    "12345678", "123456789", "1234567890123", "00000000000000000000001",
	    "18446744073709551615", "18446744073709551616",
	    "99999999999999999999", "184467440737095516150", "12:34",
	    "12345678 x", "1234567a", "-1" };
	char r[32];
	size_t i, j;
	int ok = 1;
	uint64_t v;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		ok &= scan_agrees(s[i]);
	CHECK(ok, "dec_scan at the edges: runs, leading zeros, overflow");
	for (i = 0, ok = 1; i < 200000; i++) {
		size_t n = (size_t)random() % 26;

		for (j = 0; j < n; j++)
			r[j] = random() % 9 ? (char)('0' + random() % 10) :
			    ":- x"[random() % 4];
		r[n] = '\0';
		ok &= scan_agrees(r);
	}
	CHECK(ok, "dec_scan agrees with strtoull on random strings");
	CHECK(dec_u64("123", 3, 123, &v) == 0 && v == 123, "dec_u64 at max");
	CHECK(dec_u64("124", 3, 123, &v) < 0, "dec_u64 above max");
	CHECK(dec_u64("", 0, 5, &v) < 0 && dec_u64("1 ", 2, 5, &v) < 0,
	    "dec_u64 wants digits only");
}

/*
 * dec_scan_in at the end of a buffer of exactly its bytes (the sanitizer
 * build sees any read past it) with 0..11 bytes before it, and dec_scan:
 * both as strtoull says, for runs of every length up to 25, of 9s and of
 * a 1 and zeros, each followed by nothing or by a non-digit, and for
 * UINT64_MAX and one more.
 */
static int
scan_in_agrees(const char *s)
{
	size_t n = strlen(s), pre, run = strspn(s, "0123456789");
	uint64_t v, w;
	int ok = scan_agrees(s), ovf, ovf2;
	char *b;

	for (pre = 0; pre < 12; pre++) {
		b = malloc(pre + n + 1);
		memset(b, '7', pre);
		memcpy(b + pre, s, n);
		ok &= dec_scan_in(b, b + pre, b + pre + n, &v, &ovf) ==
		    b + pre + run;
		ok &= dec_scan(b + pre, b + pre + n, &w, &ovf2) ==
		    b + pre + run && ovf == ovf2 && (ovf || v == w);
		free(b);
	}
	return ok;
}

static void
test_scan_in(void)
{
	static const char tails[] = "\0:x /9";
	char s[40];
	size_t len, t;
	int ok = 1;

	for (len = 0; len <= 25; len++)
		for (t = 0; t < sizeof(tails) - 1; t++) {
			memset(s, '9', len);
			s[len] = tails[t];
			s[len + 1] = '\0';
			ok &= scan_in_agrees(s);
			memset(s, '0', len);
			if (len > 0)
				s[0] = '1';
			ok &= scan_in_agrees(s);
		}
	CHECK(ok, "dec_scan_in: runs of 0..25 digits at every offset");
	CHECK(scan_in_agrees("18446744073709551615") &&
	    scan_in_agrees("18446744073709551616") &&
	    scan_in_agrees("18446744073709551615:") &&
	    scan_in_agrees("0000000018446744073709551615") &&
	    scan_in_agrees("1844674407370955161") &&
	    scan_in_agrees("12345678:"), "dec_scan_in at UINT64_MAX");
}

static void
test_format(void)
{
	char got[DEC_U64_MAX_DIGITS + 1], want[32];
	uint64_t v, p;
	size_t n, i;
	int ok = 1, d;

	for (p = 1; p <= UINT64_MAX / 10; p *= 10)
		for (d = -2; d <= 2; d++) {
			v = p * 10 + (uint64_t)d;
			n = dec_format(got, v);
			got[n] = '\0';
			snprintf(want, sizeof(want), "%" PRIu64, v);
			ok &= strcmp(got, want) == 0 && dec_len(v) == n;
		}
	n = dec_format(got, UINT64_MAX);
	got[n] = '\0';
	ok &= strcmp(got, "18446744073709551615") == 0;
	n = dec_format(got, 0);
	ok &= n == 1 && got[0] == '0';
	CHECK(ok, "dec_format and dec_len at every power of ten");
	for (i = 0, ok = 1; i < 200000; i++) {
		v = (uint64_t)random() << 33 ^ (uint64_t)random();
		v >>= random() % 64;
		n = dec_format(got, v);
		got[n] = '\0';
		snprintf(want, sizeof(want), "%" PRIu64, v);
		ok &= strcmp(got, want) == 0;
	}
	CHECK(ok, "dec_format matches printf on random values");
}

int
main(void)
{
	test_scan();
	test_scan_in();
	test_format();
	return unit_done();
}
