/*
 * json: the small JSON toolkit transform needs to write JSON lines: a
 * validator that tells whether a payload may be embedded verbatim, string
 * escaping per RFC 8259, strict UTF-8 checks and base64; and for --fields
 * a lenient validator and a path extractor over the same scanner.
 *
 * Nothing here builds a tree: a value found is a span of the input.
 *
 * One file a job: the validators and their kernels in json_valid.c, the
 * path extractor (json_get, json_top_*, json_decode_string,
 * json_add_compact) in json_get.c, strings, UTF-8 and base64 out in
 * json_write.c; what the first two share in json_lex.h.
 */
#ifndef TRANSFORM_JSON_H
#define TRANSFORM_JSON_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * Nonzero if s is one JSON object or array (RFC 8259) in valid UTF-8,
 * whitespace (space, tab, CR, LF) allowed anywhere between tokens and
 * around it, at most JSON_MAX_DEPTH levels: what json_get may search.
 */
int	json_valid(const char *s, size_t n);

/*
 * The validators' first step, exposed for tests: the bytes of a block of
 * 64 at p, one bit each (byte i at bit i) in each mask.  Whitespace is
 * space and tab, and if lenient also CR and LF.
 */
struct json_block {
	uint64_t	quote;	/* '"' */
	uint64_t	bslash;	/* '\\' */
	uint64_t	op;	/* { } [ ] : , */
	uint64_t	sep;	/* op, '"' or whitespace: what ends a number */
	uint64_t	ctrl;	/* below 0x20 */
	int		high;	/* nonzero: a byte >= 0x80 */
};
void	json_scan_block(const unsigned char *p, int lenient,
	    struct json_block *);

/*
 * The kernel that classifies blocks: the best this CPU has (AVX2 with
 * BMI1, BMI2, PCLMUL and POPCNT, SSSE3 or SSE2 on x86-64; 64-bit words
 * elsewhere) unless a test asks for another.  All give the same masks.
 * AVX2 steps through the grammar three tokens at a time with pext and
 * pdep, or two at a time where those are slow (JSON_KERNEL_AVX2_PAIRS,
 * AMD before Zen 3).
 * 0, or -1 if this CPU cannot run it.
 * The choice is a global: set it (or let the first validation set it)
 * before threads validate JSON.
 */
enum json_kernel { JSON_KERNEL_BEST, JSON_KERNEL_WORD, JSON_KERNEL_SSE2,
	JSON_KERNEL_SSSE3, JSON_KERNEL_AVX2, JSON_KERNEL_AVX2_PAIRS };
int	json_kernel_use(enum json_kernel);

enum json_kind { JV_MISSING, JV_NULL, JV_FALSE, JV_TRUE, JV_NUMBER,
	JV_STRING, JV_OBJECT, JV_ARRAY };

/* A value found in a document: its kind and its text (in the document). */
struct json_val {
	enum json_kind	 kind;
	const char	*p;	/* a string's text includes its quotes */
	size_t		 n;
};

/*
 * Find the value at path ("user.name", "items.0.id": '.'-separated
 * member names, a segment of digits also indexes an array) in s, which
 * has passed json_valid.  1 if found, 0 (kind JV_MISSING) if not.
 */
int	json_get(const char *s, size_t n, const char *path, size_t pathlen,
	    struct json_val *);
/*
 * The members of a document's top-level object, found in one pass, so
 * that each of many paths does not scan the document again.  Past
 * JSON_TOP_MAX members (or for an array) json_top_get is json_get.
 */
#define JSON_TOP_MAX	256	/* --fields auto's most columns (fields.h) */
struct json_top {
	const char	*doc;
	size_t		 n;
	int		 usable, over;
	size_t		 count;
	struct {
		const char	*k;	/* the key's literal, quotes included */
		size_t		 kn;
		const char	*v;	/* its value */
		size_t		 vn;
	} m[JSON_TOP_MAX];
};

/* Index s, which has passed json_valid; it must outlive the index. */
void	json_top_index(struct json_top *, const char *s, size_t n);
/* json_valid, indexing the top-level members on the way: one pass. */
int	json_valid_index(const char *s, size_t n, struct json_top *);
/* json_get on the indexed document. */
int	json_top_get(const struct json_top *, const char *path, size_t plen,
	    struct json_val *);
/* The value of indexed member i (i < count). */
void	json_top_value(const struct json_top *, size_t i, struct json_val *);
/*
 * Append the decoded text of the JSON string literal s (quotes included)
 * as UTF-8; 0, or -1 if it is malformed.  \u0000 gives a NUL byte.
 */
int	json_decode_string(struct buf *, const char *s, size_t n);
/* Append valid JSON text s without the whitespace between its tokens. */
void	json_add_compact(struct buf *, const char *s, size_t n);

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
