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

#define DEC_U64_MAX_DIGITS	20

const char *dec_scan(const char *s, const char *end, uint64_t *v, int *ovf);
int	 dec_u64(const char *s, size_t n, uint64_t max, uint64_t *v);
unsigned dec_len(uint64_t v);
size_t	 dec_format(char *out, uint64_t v);

#endif
