/*
 * json_lex: what the validator (json_valid.c) and the path extractor
 * (json_get.c) both read JSON text with, private to transform/json_*.c:
 * whitespace, digits, the hex digits of a \u escape, the SWAR constants
 * (eight bytes of a word at once) and the class of a token by its first
 * byte.
 */
#ifndef TRANSFORM_JSON_LEX_H
#define TRANSFORM_JSON_LEX_H

#include <stdint.h>

#include "pct.h"

static inline int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* The 4 hex digits of a \u escape at p (end-p bytes left); -1 if bad. */
static inline long
hex4(const unsigned char *p, const unsigned char *end)
{
	long v = 0;
	int i, d;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((d = pct_hexval(p[i])) < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* SWAR, a word's eight bytes at once: 1 in each, the high bit of each */
#define ONES	0x0101010101010101ULL
#define HIGH	(ONES * 0x80)

/*
 * A token's class by its first byte, the grammar's columns (json_valid.c):
 * brackets, colon, comma and quote each their own; any other byte,
 * whitespace too, C_SCALAR.
 */
enum { C_SCALAR, C_OBJ, C_ARR, C_OBJ_END, C_ARR_END, C_COLON, C_COMMA,
	C_QUOTE };
#define TOKEN_CLASSES { \
	['{'] = C_OBJ, ['['] = C_ARR, \
	['}'] = C_OBJ_END, [']'] = C_ARR_END, [':'] = C_COLON, \
	[','] = C_COMMA, ['"'] = C_QUOTE, }

static const unsigned char token_class[256] = TOKEN_CLASSES;

#endif
