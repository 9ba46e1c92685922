/*
 * Percent-encoding of frame header values (and of object keys in URLs).
 *
 * pct_encode_value escapes exactly what a frame header value may not hold
 * literally: bytes 0x00-0x20 (controls and space), 0x7f, '%' and '='.
 * Everything else, UTF-8 included, stays as it is so that headers remain
 * readable and greppable.
 *
 * pct_encode_uri escapes everything but RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - _ . ~) and, when keep_slash is set, '/'; it is what
 * object stores expect in request paths and signed query strings.
 *
 * pct_decode accepts %XX in either case and fails on a '%' that is not
 * followed by two hex digits.
 */
#ifndef LAKEPIPE_PCT_H
#define LAKEPIPE_PCT_H

#include <stddef.h>

struct buf;

void	pct_encode_value(struct buf *, const void *, size_t);
void	pct_encode_uri(struct buf *, const void *, size_t, int keep_slash);
/* Append the decoded bytes; 0 on success, -1 on a malformed escape. */
int	pct_decode(struct buf *, const char *, size_t);
/* The value of the hex digit c (either case), or -1 if c is not one. */
int	pct_hexval(int c);

#endif
