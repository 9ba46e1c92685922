/*
 * json: the small JSON toolkit transform needs to write JSON lines: a
 * validator that tells whether a payload may be embedded verbatim, string
 * escaping per RFC 8259, strict UTF-8 checks and base64.
 *
 * Nothing here parses JSON into values: transform only ever copies bytes.
 */
#ifndef TRANSFORM_JSON_H
#define TRANSFORM_JSON_H

#include <stddef.h>

struct buf;

/* Deeper nesting is not embedded (readers with recursion limits choke). */
#define JSON_MAX_DEPTH	256

/*
 * Nonzero if s is one JSON object or array (RFC 8259) in valid UTF-8, with
 * no whitespace before or after it, no CR or LF byte anywhere, no escaped
 * lone surrogate (\ud800 without its pair) and at most JSON_MAX_DEPTH
 * levels of nesting.  Such bytes can stand verbatim in a JSON line.
 */
int	json_is_container(const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s (1-4), 0 if invalid. */
size_t	utf8_seq_len(const unsigned char *s, size_t n);
/* Nonzero if s is valid UTF-8 (RFC 3629) without NUL bytes. */
int	utf8_valid_nonul(const char *s, size_t n);

/*
 * Append s as a JSON string, quotes included.  strict: return -1 (and
 * leave b as it was) if s is not valid UTF-8 or holds a NUL byte.  Not
 * strict: every byte of an invalid sequence becomes U+FFFD, NUL becomes
 * \u0000; returns 0.
 */
int	json_add_string(struct buf *b, const char *s, size_t n, int strict);

/* Append the base64 (RFC 4648, standard alphabet, padded) of s. */
void	base64_add(struct buf *b, const void *s, size_t n);

#endif
