/*
 * The JSON validators (json_is_container, json_valid, json_valid_index)
 * and the kernels that classify their blocks; see json.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __x86_64__
#include <immintrin.h>
#endif

#include "json.h"
#include "json_lex.h"

/*
 * The validator reads its input 64 bytes at a time.  A kernel classifies
 * a block into bit masks, one bit a byte (struct json_block); from them
 * the validator finds which bytes are inside strings (the quotes that no
 * backslash escapes, and a prefix XOR) and the tokens (brackets, colons
 * and commas outside strings, opening quotes, the first byte of each
 * number or literal), and only these go through the grammar's state
 * machine, two tokens a step where it can.  The bytes of strings are
 * checked in the masks: no control byte, every escape well formed (one
 * test per backslash), UTF-8 once over the whole text when it has a byte
 * >= 0x80; numbers and literals each in a word of the block, most of
 * them.
 *
 * Four kernels give the same masks: 64-bit words (any CPU), SSE2 (every
 * x86-64), SSSE3 and AVX2, chosen when first used by what the CPU has.
 */

/*
 * Length of the escape sequence whose backslash is at p (2, 6, or 12
 * for a surrogate pair), 0 if it is malformed or a lone surrogate.
 */
static size_t
escape_len(const unsigned char *p, const unsigned char *end)
{
	static const unsigned char simple[256] = {
		['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1,
		['n'] = 1, ['r'] = 1, ['t'] = 1,
	};
	long u, lo;

	if (end - p < 2)
		return 0;
	if (p[1] != 'u')
		return simple[p[1]] ? 2 : 0;
	if ((u = hex4(p + 2, end)) < 0 || (u >= 0xdc00 && u <= 0xdfff))
		return 0;	/* bad digits, or a lone low surrogate */
	if (u < 0xd800 || u > 0xdbff)
		return 6;
	p += 6;
	if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
	    (lo = hex4(p + 2, end)) < 0xdc00 || lo > 0xdfff)
		return 0;		/* a high surrogate without its pair */
	return 12;
}

/* Skip a JSON number at *pp (RFC 8259 grammar); 0 or -1. */
static int
skip_number(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;

	if (p < end && *p == '-')
		p++;
	if (p == end || !is_digit(*p))
		return -1;
	if (*p == '0')
		p++;
	else
		while (p < end && is_digit(*p))
			p++;
	if (p < end && *p == '.') {
		if (++p == end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	*pp = p;
	return 0;
}

static int
skip_literal(const unsigned char **pp, const unsigned char *end,
    const char *lit, size_t n)
{
	if ((size_t)(end - *pp) < n || memcmp(*pp, lit, n) != 0)
		return -1;
	*pp += n;
	return 0;
}

/* Scalar value at *pp other than a string: number, true, false, null. */
static int
skip_scalar(const unsigned char **pp, const unsigned char *end)
{
	switch (**pp) {
	case 't':
		return skip_literal(pp, end, "true", 4);
	case 'f':
		return skip_literal(pp, end, "false", 5);
	case 'n':
		return skip_literal(pp, end, "null", 4);
	default:
		return skip_number(pp, end);
	}
}

/*
 * The word kernel looks each byte's classes up (these bits), eight bytes
 * to a word, and packs each class's bits of a word into a mask byte.
 */
#define K_QUOTE	0x01
#define K_BSL	0x02
#define K_OP	0x04
#define K_SEP	0x08
#define K_CTRL	0x10
#define K_HIGH	0x20
#define K8(b, k) [b] = k, [b + 1] = k, [b + 2] = k, [b + 3] = k, \
	[b + 4] = k, [b + 5] = k, [b + 6] = k, [b + 7] = k
#define K16(b, k) K8(b, k), K8(b + 8, k)
#define WORD_CLASSES(crlf) { \
	['"'] = K_QUOTE | K_SEP, ['\\'] = K_BSL, ['{'] = K_OP | K_SEP, \
	['}'] = K_OP | K_SEP, ['['] = K_OP | K_SEP, [']'] = K_OP | K_SEP, \
	[':'] = K_OP | K_SEP, [','] = K_OP | K_SEP, [' '] = K_SEP, \
	['\t'] = K_CTRL | K_SEP, ['\n'] = K_CTRL | (crlf), \
	['\r'] = K_CTRL | (crlf), K8(0x00, K_CTRL), [0x08] = K_CTRL, \
	[0x0b] = K_CTRL, [0x0c] = K_CTRL, [0x0e] = K_CTRL, \
	[0x0f] = K_CTRL, K16(0x10, K_CTRL), K16(0x80, K_HIGH), \
	K16(0x90, K_HIGH), K16(0xa0, K_HIGH), K16(0xb0, K_HIGH), \
	K16(0xc0, K_HIGH), K16(0xd0, K_HIGH), K16(0xe0, K_HIGH), \
	K16(0xf0, K_HIGH) }

static const unsigned char word_classes[2][256] = { WORD_CLASSES(0),
	WORD_CLASSES(K_SEP) };

/* Bit k of each byte of w, one bit a byte. */
static inline uint64_t
swar_pack(uint64_t w, int k)
{
	return ((w >> k) & ONES) * 0x0102040810204080ULL >> 56;
}

static inline __attribute__((always_inline)) void
scan_word(const unsigned char *p, size_t nb, int lenient,
    struct json_block *b)
{
	const unsigned char *cls = word_classes[lenient != 0];
	uint64_t w, hi;
	struct json_block m;
	int i;

	for (; nb > 0; nb--, p += 64, b++) {
		memset(&m, 0, sizeof(m));
		for (i = 0, hi = 0; i < 64; i += 8) {
			w = (uint64_t)cls[p[i]] |
			    (uint64_t)cls[p[i + 1]] << 8 |
			    (uint64_t)cls[p[i + 2]] << 16 |
			    (uint64_t)cls[p[i + 3]] << 24 |
			    (uint64_t)cls[p[i + 4]] << 32 |
			    (uint64_t)cls[p[i + 5]] << 40 |
			    (uint64_t)cls[p[i + 6]] << 48 |
			    (uint64_t)cls[p[i + 7]] << 56;
			m.quote |= swar_pack(w, 0) << i;
			m.bslash |= swar_pack(w, 1) << i;
			m.op |= swar_pack(w, 2) << i;
			m.sep |= swar_pack(w, 3) << i;
			m.ctrl |= swar_pack(w, 4) << i;
			hi |= w;
		}
		m.high = (hi & ONES * K_HIGH) != 0;
		*b = m;
	}
}

#ifdef __x86_64__
/* movemask's 16 bits, as the bits of a block at offset i */
#define MASK128(v, i)	((uint64_t)(uint16_t)_mm_movemask_epi8(v) << (i))

static inline __attribute__((always_inline)) void
scan_sse2(const unsigned char *p, size_t nb, int lenient,
    struct json_block *b)
{
	const __m128i crlf = _mm_set1_epi8(lenient ? -1 : 0);
	__m128i v, low, q, op, ws, hi;
	struct json_block m;
	int i;

	for (; nb > 0; nb--, p += 64, b++) {
		memset(&m, 0, sizeof(m));
		hi = _mm_setzero_si128();
		for (i = 0; i < 64; i += 16) {
			v = _mm_loadu_si128((const __m128i *)(const void *)
			    (p + i));
			low = _mm_or_si128(v, _mm_set1_epi8(0x20));
			q = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
			op = _mm_or_si128(_mm_or_si128(
			    _mm_cmpeq_epi8(low, _mm_set1_epi8('{')),
			    _mm_cmpeq_epi8(low, _mm_set1_epi8('}'))),
			    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(':')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8(','))));
			ws = _mm_or_si128(_mm_or_si128(
			    _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))),
			    _mm_and_si128(crlf, _mm_or_si128(
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')))));
			m.quote |= MASK128(q, i);
			m.bslash |= MASK128(_mm_cmpeq_epi8(v,
			    _mm_set1_epi8('\\')), i);
			m.op |= MASK128(op, i);
			m.sep |= MASK128(_mm_or_si128(_mm_or_si128(op, q),
			    ws), i);
			m.ctrl |= MASK128(_mm_cmpeq_epi8(_mm_min_epu8(v,
			    _mm_set1_epi8(0x1f)), v), i);
			hi = _mm_or_si128(hi, v);
		}
		m.high = _mm_movemask_epi8(hi) != 0;
		*b = m;
	}
}

/*
 * SSSE3 and AVX2 find whitespace and brackets by table: pshufb looks
 * each byte's low nibble up (0 for a byte >= 0x80), and a byte is of the
 * class when it equals what it found.  0xff marks a nibble no byte of
 * the class has (no byte below 0x80 equals it).
 */
#define NIBBLE_ROW(n0, n9, na, nb, nc, nd) \
	n0, -1, -1, -1, -1, -1, -1, -1, -1, n9, na, nb, nc, nd, -1, -1
#define OP1	NIBBLE_ROW(-1, -1, ':', '{', ',', '}')
#define OP2	NIBBLE_ROW(-1, -1, -1, '[', -1, ']')
#define WS_STRICT	NIBBLE_ROW(' ', '\t', -1, -1, -1, -1)
#define WS_LENIENT	NIBBLE_ROW(' ', '\t', '\n', -1, -1, '\r')

/*
 * The five masks of the vector v, into m[0] to m[4]: quote, bslash, op,
 * sep, ctrl (see json.h).  W names the intrinsics (nothing for 128 bits,
 * 256), B the vector's bits.
 */
#define VMASK(W, v)	((uint64_t)(uint32_t)_mm##W##_movemask_epi8(v))
#define VCLASSES(W, B, v, m) do { \
	__m##B##i q_ = _mm##W##_cmpeq_epi8(v, _mm##W##_set1_epi8('"')); \
	__m##B##i op_ = _mm##W##_or_si##B( \
	    _mm##W##_cmpeq_epi8(_mm##W##_shuffle_epi8(op1, v), v), \
	    _mm##W##_cmpeq_epi8(_mm##W##_shuffle_epi8(op2, v), v)); \
	__m##B##i ws_ = _mm##W##_cmpeq_epi8(_mm##W##_shuffle_epi8(wst, v), \
	    v); \
	(m)[0] = VMASK(W, q_); \
	(m)[1] = VMASK(W, _mm##W##_cmpeq_epi8(v, \
	    _mm##W##_set1_epi8('\\'))); \
	(m)[2] = VMASK(W, op_); \
	(m)[3] = VMASK(W, _mm##W##_or_si##B(_mm##W##_or_si##B(op_, q_), \
	    ws_)); \
	(m)[4] = VMASK(W, _mm##W##_cmpeq_epi8(_mm##W##_min_epu8(v, \
	    _mm##W##_set1_epi8(0x1f)), v)); \
} while (0)

__attribute__((target("ssse3"), always_inline)) static inline void
scan_ssse3(const unsigned char *p, size_t nb, int lenient,
    struct json_block *b)
{
	const __m128i op1 = _mm_setr_epi8(OP1), op2 = _mm_setr_epi8(OP2);
	const __m128i wst = lenient ? _mm_setr_epi8(WS_LENIENT) :
	    _mm_setr_epi8(WS_STRICT);
	__m128i v[4];
	uint64_t m[4][5];

	for (; nb > 0; nb--, p += 64, b++) {
		/* unrolled: inlined, the loop was not */
#define LOAD_CLASSES(i) do { \
	v[i] = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i)); \
	VCLASSES(, 128, v[i], m[i]); \
} while (0)
		LOAD_CLASSES(0);
		LOAD_CLASSES(1);
		LOAD_CLASSES(2);
		LOAD_CLASSES(3);
#undef LOAD_CLASSES
#define JOIN4(k) (m[0][k] | m[1][k] << 16 | m[2][k] << 32 | m[3][k] << 48)
		b->quote = JOIN4(0);
		b->bslash = JOIN4(1);
		b->op = JOIN4(2);
		b->sep = JOIN4(3);
		b->ctrl = JOIN4(4);
#undef JOIN4
		b->high = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(v[0],
		    v[1]), _mm_or_si128(v[2], v[3]))) != 0;
	}
}

__attribute__((target("avx2"), always_inline)) static inline void
scan_avx2(const unsigned char *p, size_t nb, int lenient,
    struct json_block *b)
{
	const __m256i op1 = _mm256_setr_epi8(OP1, OP1);
	const __m256i op2 = _mm256_setr_epi8(OP2, OP2);
	const __m256i wst = lenient ?
	    _mm256_setr_epi8(WS_LENIENT, WS_LENIENT) :
	    _mm256_setr_epi8(WS_STRICT, WS_STRICT);
	__m256i lo, hi;
	uint64_t l[5], h[5];

	for (; nb > 0; nb--, p += 64, b++) {
		lo = _mm256_loadu_si256((const __m256i *)(const void *)p);
		hi = _mm256_loadu_si256((const __m256i *)(const void *)
		    (p + 32));
		VCLASSES(256, 256, lo, l);
		VCLASSES(256, 256, hi, h);
		b->quote = l[0] | h[0] << 32;
		b->bslash = l[1] | h[1] << 32;
		b->op = l[2] | h[2] << 32;
		b->sep = l[3] | h[3] << 32;
		b->ctrl = l[4] | h[4] << 32;
		b->high = _mm256_movemask_epi8(_mm256_or_si256(lo, hi)) != 0;
	}
}

/*
 * The three bits of the code (see code_class) of each byte of the block
 * at p, into c[0] to c[2]; right for brackets, separators and quotes.
 * A table of low nibbles gives bits 0 and 1 in its bits 5 and 6, and in
 * bit 7 what flips bit 5 of the byte into bit 2 ('{' and '[' differ only
 * there, '}' and ']' too).
 */
#define CODE_ROW 0, 0, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0xe0, 0x40, 0, 0
__attribute__((target("avx2"), always_inline)) static inline void
codes_avx2(const unsigned char *p, uint64_t c[3])
{
	const __m256i row = _mm256_setr_epi8(CODE_ROW, CODE_ROW);
	const __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)p);
	const __m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)
	    (p + 32));
	const __m256i tl = _mm256_shuffle_epi8(row, lo);
	const __m256i th = _mm256_shuffle_epi8(row, hi);

	c[0] = VMASK(256, _mm256_slli_epi16(tl, 2)) |
	    VMASK(256, _mm256_slli_epi16(th, 2)) << 32;
	c[1] = VMASK(256, _mm256_add_epi8(tl, tl)) |
	    VMASK(256, _mm256_add_epi8(th, th)) << 32;
	c[2] = VMASK(256, _mm256_xor_si256(tl, _mm256_slli_epi16(lo, 2))) |
	    VMASK(256, _mm256_xor_si256(th, _mm256_slli_epi16(hi, 2))) << 32;
}
#endif

/* Classify nb blocks of 64 bytes at p into b[0] to b[nb - 1]. */
typedef void scan_fn(const unsigned char *p, size_t nb, int lenient,
    struct json_block *b);
static scan_fn scan_first, *scan_kernel = scan_first;

/*
 * Validate nb blocks at b, the text's bytes from base (see scan_blocks):
 * the validator with each kernel inlined, compiled for its CPU.
 */
struct scan;
typedef int blocks_fn(struct scan *, const unsigned char *b, size_t base,
    size_t nb);
static blocks_fn blocks_first, blocks_word, *scan_blocks = blocks_first;
#ifdef __x86_64__
static blocks_fn blocks_sse2, blocks_ssse3, blocks_avx2, blocks_avx2_pairs;
#endif

static int
kernel_set(scan_fn *classify, blocks_fn *blocks)
{
	scan_kernel = classify;
	scan_blocks = blocks;
	return 0;
}

#ifdef __x86_64__
/* AVX2, and the bit instructions its validator is compiled with */
static int
has_avx2(void)
{
	return __builtin_cpu_supports("avx2") &&
	    __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
	    __builtin_cpu_supports("pclmul") &&
	    __builtin_cpu_supports("popcnt");
}

/*
 * Whether pext and pdep are microcode here (AMD before Zen 3: a few
 * hundred cycles each, where Intel and Zen 3 take three): then the AVX2
 * validator steps two tokens at a time, as the others do, not by codes.
 */
static int
slow_pext(void)
{
	return __builtin_cpu_is("amdfam15h") || __builtin_cpu_is("amdfam17h");
}
#endif

int
json_kernel_use(enum json_kernel k)
{
	switch (k) {
	case JSON_KERNEL_BEST:
#ifdef __x86_64__
		if (has_avx2())
			return kernel_set(scan_avx2, slow_pext() ?
			    blocks_avx2_pairs : blocks_avx2);
		if (__builtin_cpu_supports("ssse3"))
			return kernel_set(scan_ssse3, blocks_ssse3);
		return kernel_set(scan_sse2, blocks_sse2);
#else
		return kernel_set(scan_word, blocks_word);
#endif
	case JSON_KERNEL_WORD:
		return kernel_set(scan_word, blocks_word);
#ifdef __x86_64__
	case JSON_KERNEL_SSE2:
		return kernel_set(scan_sse2, blocks_sse2);
	case JSON_KERNEL_SSSE3:
		if (!__builtin_cpu_supports("ssse3"))
			return -1;
		return kernel_set(scan_ssse3, blocks_ssse3);
	case JSON_KERNEL_AVX2:
		if (!has_avx2())
			return -1;
		return kernel_set(scan_avx2, blocks_avx2);
	case JSON_KERNEL_AVX2_PAIRS:
		if (!has_avx2())
			return -1;
		return kernel_set(scan_avx2, blocks_avx2_pairs);
#endif
	default:
		return -1;
	}
}

static void
scan_first(const unsigned char *p, size_t nb, int lenient,
    struct json_block *b)
{
	(void)json_kernel_use(JSON_KERNEL_BEST);
	scan_kernel(p, nb, lenient, b);
}

static int
blocks_first(struct scan *s, const unsigned char *b, size_t base, size_t nb)
{
	(void)json_kernel_use(JSON_KERNEL_BEST);
	return scan_blocks(s, b, base, nb);
}

void
json_scan_block(const unsigned char *p, int lenient, struct json_block *b)
{
	scan_kernel(p, 1, lenient, b);
}

/* Bit i set if an odd number of the bits 0 to i of x are. */
static inline uint64_t
prefix_xor(uint64_t x)
{
	x ^= x << 1;
	x ^= x << 2;
	x ^= x << 4;
	x ^= x << 8;
	x ^= x << 16;
	x ^= x << 32;
	return x;
}

#ifdef __x86_64__
/* prefix_xor in one carry-less multiplication (by all ones) */
__attribute__((target("pclmul"), always_inline)) static inline uint64_t
prefix_clmul(uint64_t x)
{
	return (uint64_t)_mm_cvtsi128_si64(_mm_clmulepi64_si128(
	    _mm_cvtsi64_si128((long long)x), _mm_set1_epi8(-1), 0));
}
#endif

/* The index of the lowest bit set in x (not 0), as a size_t. */
static inline size_t
lowest_bit(uint64_t x)
{
#ifdef __x86_64__
	size_t i;

	/* what __builtin_ctzll gives, without its widening to size_t */
	__asm__("bsfq %1, %0" : "=r" (i) : "rm" (x));
	return i;
#else
	return (size_t)__builtin_ctzll(x);
#endif
}

/* A top-level member's key [k, q) and, next, its value at v (json_top). */
static void
top_key(struct json_top *t, const unsigned char *k, const unsigned char *q)
{
	if (t->count == JSON_TOP_MAX) {
		t->over = 1;
		return;
	}
	t->m[t->count].k = (const char *)k;
	t->m[t->count].kn = (size_t)(q - k);
}

static int
top_value(struct json_top *t, const unsigned char *v)
{
	if (t->count == JSON_TOP_MAX)
		return 0;
	t->m[t->count].v = (const char *)v;
	t->m[t->count++].vn = 0;
	return 1;
}

/*
 * The grammar as a table: a state (what may come next, and in which
 * kind of container) and a token's class give the next state, or S_ERR
 * (0, whose row is all 0) when the token may not come there.  The
 * states of the first GRAMMAR_LEVELS levels of nesting also say which
 * containers enclose them (L_OA: in an array in the top-level object),
 * so that opening and closing a container there is one step of the
 * table; only deeper down does a bracket push or pop the state to resume
 * at its container's close (stack[]).  The entries with an action bit
 * also push or pop, or feed the top-level index (json_top: a key's
 * quote and its ':', a value and the ',' or '}' after it): only they
 * leave the table's fast path.  The top-level object has the index bits
 * in grammar[1] only.  States are kept times 8 (TO), the row they
 * select; the action bits are below.  Numbers and literals are checked
 * apart (scalars_ok), in any order: one that is not valid makes the text
 * not valid wherever it is.
 */
#define OSTATES(c) c##_KOC, c##_KEY, c##_COLON, c##_VALUE, c##_AFTER
#define ASTATES(c) c##_VOC, c##_VALUE, c##_AFTER
enum { S_ERR, S_START, S_DONE, OSTATES(D_O), ASTATES(D_A), OSTATES(L_O),
	ASTATES(L_A), OSTATES(L_OO), ASTATES(L_OA), OSTATES(L_AO),
	ASTATES(L_AA), OSTATES(L_OOO), ASTATES(L_OOA), OSTATES(L_OAO),
	ASTATES(L_OAA), OSTATES(L_AOO), ASTATES(L_AOA), OSTATES(L_AAO),
	ASTATES(L_AAA), S_COUNT };
#define GRAMMAR_LEVELS	3	/* L_ states: levels of nesting in the table */
#define TO(state)	((state) << 3)
#define A_INDEX		0x1
#define A_PUSH		0x2
#define A_POP		0x4
#define A_ANY		0x7
/*
 * A value where st wants one, after it the state after; a bracket opens
 * the object at state obj or the array at arr, with push (A_PUSH or 0).
 */
#define VALUE(st, after, obj, arr, push, ix) \
	[st][C_OBJ] = (push) | (ix) | TO(obj), \
	[st][C_ARR] = (push) | (ix) | TO(arr), \
	[st][C_QUOTE] = (ix) | TO(after), \
	[st][C_SCALAR] = (ix) | TO(after)
/*
 * The states of the object or array c, closed by close (the state after
 * it, or A_POP); a bracket in a value opens obj or arr (push: A_PUSH or
 * 0, what the deepest level of the table and those below it do).
 */
#define OBJECT(c, close, obj, arr, push, ix) \
	[c##_KOC][C_QUOTE] = (ix) | TO(c##_COLON), \
	[c##_KOC][C_OBJ_END] = (close), \
	[c##_KEY][C_QUOTE] = (ix) | TO(c##_COLON), \
	[c##_COLON][C_COLON] = (ix) | TO(c##_VALUE), \
	VALUE(c##_VALUE, c##_AFTER, obj, arr, push, ix), \
	[c##_AFTER][C_COMMA] = (ix) | TO(c##_KEY), \
	[c##_AFTER][C_OBJ_END] = (ix) | (close)
#define ARRAY(c, close, obj, arr, push) \
	VALUE(c##_VOC, c##_AFTER, obj, arr, push, 0), \
	[c##_VOC][C_ARR_END] = (close), \
	VALUE(c##_VALUE, c##_AFTER, obj, arr, push, 0), \
	[c##_AFTER][C_COMMA] = TO(c##_VALUE), \
	[c##_AFTER][C_ARR_END] = (close)
/* A level of the table: c in the container whose state after it is up */
#define INNER(c, up) \
	OBJECT(c##O, TO(up), c##OO_KOC, c##OA_VOC, 0, 0), \
	ARRAY(c##A, TO(up), c##AO_KOC, c##AA_VOC, 0)
#define DEEPEST(c, up) \
	OBJECT(c##O, TO(up), D_O_KOC, D_A_VOC, A_PUSH, 0), \
	ARRAY(c##A, TO(up), D_O_KOC, D_A_VOC, A_PUSH)
#define GRAMMAR(ix) { \
	[S_START][C_OBJ] = TO(L_O_KOC), [S_START][C_ARR] = TO(L_A_VOC), \
	OBJECT(L_O, TO(S_DONE), L_OO_KOC, L_OA_VOC, 0, ix), \
	ARRAY(L_A, TO(S_DONE), L_AO_KOC, L_AA_VOC, 0), \
	INNER(L_O, L_O_AFTER), INNER(L_A, L_A_AFTER), \
	DEEPEST(L_OO, L_OO_AFTER), DEEPEST(L_OA, L_OA_AFTER), \
	DEEPEST(L_AO, L_AO_AFTER), DEEPEST(L_AA, L_AA_AFTER), \
	OBJECT(D_O, A_POP, D_O_KOC, D_A_VOC, A_PUSH, 0), \
	ARRAY(D_A, A_POP, D_O_KOC, D_A_VOC, A_PUSH) }

/*
 * Two tokens a step: the state after a token of each class and then one
 * of each class, where neither has an action (A_PUSH where one has):
 * made from grammar[0] before main (pair_steps_make).
 */
static uint16_t pair_steps[S_COUNT * 8][8];

/*
 * Each table with the classes of the bytes beside it, so that the token
 * loop addresses both from one register; and its pairs of steps, if it
 * has any (the index's entries have actions: all would fail).
 */
struct grammar {
	uint16_t	 next[S_COUNT][8];
	unsigned char	 class[256];
	const uint16_t	*pairs;		/* [TO(state) + class][class] */
};
static const struct grammar grammar[2] = {
	{ GRAMMAR(0), TOKEN_CLASSES, &pair_steps[0][0] },
	{ GRAMMAR(A_INDEX), TOKEN_CLASSES, NULL },
};

static void __attribute__((constructor))
pair_steps_make(void)
{
	const uint16_t *next = &grammar[0].next[0][0];
	size_t st, c1, c2, e;

	for (st = 0; st < S_COUNT * 8; st += 8)
		for (c1 = 0; c1 < 8; c1++)
			for (c2 = 0; c2 < 8; c2++) {
				e = next[st + c1];
				if ((e & A_ANY) == 0)
					e = next[e + c2];
				pair_steps[st + c1][c2] = (e & A_ANY) != 0 ?
				    A_PUSH : e;
			}
}

#ifdef __x86_64__
/*
 * AVX2 steps through grammar[0] three tokens at a time by their codes:
 * three bits a token, found for all tokens of a block at once (see
 * codes_avx2), so that a step neither looks its bytes up nor finds its
 * bits.  code_class is what each code stands for; the scalars are 0.
 * The steps' entries are the next state times 512 (the row of 512 in
 * steps3, of 64 in steps2 shifted right by 3, of 8 in steps1 and
 * steps1f by 6) and the action bits: in steps1 a token's own, in the
 * others A_PUSH alone (no state: S_ERR's row) where a token has any.
 */
static const unsigned char code_class[8] = { C_SCALAR, C_ARR, C_ARR_END,
	C_COMMA, C_COLON, C_OBJ, C_OBJ_END, C_QUOTE };
#define CODE_STATE(e)	((size_t)(e) >> 3 << 9 | ((e) & A_ANY))
_Static_assert(S_COUNT * 512 <= 65536, "a state times 512 in 16 bits");
static uint16_t steps1[S_COUNT * 8], steps1f[S_COUNT * 8];
static uint16_t steps2[S_COUNT * 64], steps3[S_COUNT * 512];

static void __attribute__((constructor))
code_steps_make(void)
{
	const uint16_t *next = &grammar[0].next[0][0];
	static const uint16_t pushes[8] = { A_PUSH, A_PUSH, A_PUSH, A_PUSH,
	    A_PUSH, A_PUSH, A_PUSH, A_PUSH };
	const uint16_t *row;
	size_t st, i, c, e;

	for (st = 0; st < S_COUNT * 8; st++) {
		e = steps1[st] = CODE_STATE(next[st - st % 8 +
		    code_class[st % 8]]);
		steps1f[st] = (e & A_ANY) != 0 ? A_PUSH : e;
	}
	for (st = 0; st < S_COUNT * 512; st += 512)
		for (i = 0; i < 64; i++) {
			e = steps1[(st >> 6) + (i & 7)];
			if ((e & A_ANY) == 0)
				e = steps1[(e >> 6) + (i >> 3)];
			steps2[(st >> 3) + i] = (e & A_ANY) != 0 ? A_PUSH : e;
		}
	for (st = 0; st < S_COUNT * 512; st += 512)
		for (i = 0; i < 64; i++) {
			e = steps2[(st >> 3) + i];
			/* an action in the first two: A_PUSH, all three */
			row = (e & A_ANY) != 0 ? pushes : &steps1f[e >> 6];
			for (c = 0; c < 8; c++)
				steps3[st + c * 64 + i] = row[c];
		}
}
#endif

/* The state after a value closed in a container of each state's kind. */
#define OAFTER(c) [c##_KOC] = TO(c##_AFTER), [c##_KEY] = TO(c##_AFTER), \
	[c##_COLON] = TO(c##_AFTER), [c##_VALUE] = TO(c##_AFTER), \
	[c##_AFTER] = TO(c##_AFTER)
#define AAFTER(c) [c##_VOC] = TO(c##_AFTER), [c##_VALUE] = TO(c##_AFTER), \
	[c##_AFTER] = TO(c##_AFTER)
static const uint16_t resume[S_COUNT] = { OAFTER(D_O), AAFTER(D_A),
	OAFTER(L_OOO), AAFTER(L_OOA), OAFTER(L_OAO), AAFTER(L_OAA),
	OAFTER(L_AOO), AAFTER(L_AOA), OAFTER(L_AAO), AAFTER(L_AAA) };

/*
 * The validator's state, carried from block to block.  The nesting below
 * the table's levels is kept in stack[] (the states to resume), so deep
 * input cannot overflow the C stack.  check_container sets each field
 * (but stack[]): one added here is set there.
 */
struct scan {
	const unsigned char	*p, *end;	/* the text */
	size_t			 len;
	int			 lenient;	/* CR and LF are whitespace */
	struct json_top		*t;		/* or NULL: no index */
	const struct grammar	*grammar;	/* grammar[t != NULL] */
	uint64_t		 in_str;	/* all ones: a string goes on */
	uint64_t		 escaped;	/* 1: next byte escaped */
	uint64_t		 other;		/* 1: a scalar goes on */
	size_t			 esc_next;	/* escapes before: checked */
	size_t			 key;		/* where the last key began */
	int			 value;		/* 1: its value's end is due */
	size_t			 depth;
	size_t			 state;		/* TO(a state) */
	int			 high;
	uint16_t		 stack[JSON_MAX_DEPTH - GRAMMAR_LEVELS];
};

/*
 * The bytes a backslash escapes in a block whose backslashes are bs,
 * *carry being 1 if its first byte is escaped (and, on return, if the
 * next block's is); the escaping backslashes into *ers.  Runs of
 * backslashes pair up: an escaped backslash escapes nothing.
 */
static uint64_t
escapes(uint64_t bs, uint64_t *carry, uint64_t *ers)
{
	uint64_t esc = *carry, bit;

	bs &= ~*carry;
	*carry = 0;
	*ers = 0;
	while (bs != 0) {
		bit = bs & -bs;
		*ers |= bit;
		esc |= bit << 1;
		*carry = bit >> 63;
		bs &= ~(bit | bit << 1);
	}
	return esc;
}

/* Check the escapes at the bits of ers (inside strings); 0 or -1. */
static int
check_escapes(struct scan *s, size_t base, uint64_t ers)
{
	size_t at, k;

	for (; ers != 0; ers &= ers - 1) {
		at = base + (size_t)__builtin_ctzll(ers);
		if (at < s->esc_next)
			continue;	/* a surrogate pair's second half */
		if ((k = escape_len(s->p + at, s->end)) == 0)
			return -1;
		s->esc_next = at + k;
	}
	return 0;
}

/*
 * The index's part of the token at p, a top-level member's: its key's
 * opening quote, the ':' after it (the key ends at the last quote before
 * it), its value, or the ',' or '}' after that (the value ends at the
 * last byte that is not whitespace).
 */
static inline void
index_token(struct scan *s, size_t state, const unsigned char *p)
{
	struct json_top *t = s->t;
	const unsigned char *q = p;

	if (state == TO(L_O_VALUE))
		s->value = top_value(t, p);
	else if (state == TO(L_O_AFTER)) {
		while (is_ws(q[-1]))
			q--;
		if (s->value)
			t->m[t->count - 1].vn = (size_t)(q -
			    (const unsigned char *)t->m[t->count - 1].v);
		s->value = 0;
	} else if (*p == '"')
		s->key = (size_t)(p - s->p);
	else {
		while (q[-1] != '"')
			q--;		/* whitespace after the key */
		top_key(t, s->p + s->key, q);
	}
}

/* Nonzero if c may follow a number or literal. */
static int
ends_scalar(const struct scan *s, unsigned char c)
{
	return token_class[c] != C_SCALAR || c == ' ' || c == '\t' ||
	    (s->lenient && (c == '\r' || c == '\n'));
}

/*
 * Nonzero if the scalar at byte i of the block at b is valid for sure:
 * true, false, null, one digit, or up to 7 digits without a leading 0,
 * its bytes the run of bits of run (what is neither in a string nor a
 * separator) from i.  0 if the text must tell (skip_scalar): a sign, a
 * fraction, an exponent, more digits, a run that goes on in the next
 * block, one in the last 8 bytes of the block.
 */
static inline int
scalar_in_block(const unsigned char *b, size_t i, uint64_t run)
{
	uint64_t w, t, nd;
	size_t n;

	if (i > 56)
		return 0;
	n = lowest_bit(~(run >> i));	/* a 0 shifted in: not past 64 - i */
	if (n == 1)
		return (unsigned)(b[i] - '0') < 10;	/* one digit */
	memcpy(&w, b + i, 8);
	t = w ^ ONES * '0';		/* digits to 0-9 */
	if ((t & 0xff) - 1 < 9) {
		/* the high bits of the bytes that are not digits */
		nd = (((t & ~HIGH) + ONES * 0x76) | t) & HIGH;
		return nd != 0 && lowest_bit(nd) >> 3 == n;
	}
	if (n == 4)
		return memcmp(b + i, "true", 4) == 0 ||
		    memcmp(b + i, "null", 4) == 0;
	return n == 5 && memcmp(b + i, "false", 5) == 0;
}

/*
 * Check the numbers and literals that begin at the bits of starts in the
 * block at b (the text's bytes from base; other: the bytes of scalars):
 * 0, or -1 if one is not valid.
 */
static inline __attribute__((always_inline)) int
scalars_ok(const struct scan *s, const unsigned char *b, size_t base,
    uint64_t starts, uint64_t other)
{
	const unsigned char *end;
	size_t i;

	for (; starts != 0; starts &= starts - 1) {
		i = lowest_bit(starts);
		if (scalar_in_block(b, i, other))
			continue;
		end = s->p + base + i;
		if (skip_scalar(&end, s->end) < 0 ||
		    (end < s->end && !ends_scalar(s, *end)))
			return -1;
	}
	return 0;
}

/*
 * The push or pop of grammar entry e, in state: the next state,
 * TO(S_ERR) if the text is not valid.  (Only below the table's levels:
 * never with A_INDEX, which is the top-level object's.)
 */
static size_t
scan_action(struct scan *s, size_t state, size_t e)
{
	if (e & A_POP)
		return s->stack[--s->depth];
	if (s->depth == JSON_MAX_DEPTH - GRAMMAR_LEVELS)
		return TO(S_ERR);
	s->stack[s->depth++] = resume[state >> 3];
	return e & ~A_ANY;
}

/*
 * The tokens of the block at b (the text's bytes from base, classified
 * in m) into *tok, prefix finding the strings (see scan_blocks_with):
 * 0, or -1 if it is not valid.  The bytes of the last block past the
 * text are spaces: nothing, strict or lenient, not even in a string.
 */
static inline __attribute__((always_inline)) int
block_tokens(uint64_t (*prefix)(uint64_t), struct scan *s,
    const struct json_block *m,
    const unsigned char *b, size_t base, uint64_t *tok)
{
	uint64_t esc = 0, ers = 0, quote, in, other, starts;

	s->high |= m->high;
	if (m->bslash != 0 || s->escaped != 0)
		esc = escapes(m->bslash, &s->escaped, &ers);
	quote = m->quote & ~esc;
	in = prefix(quote) ^ s->in_str;	/* opening quotes are in */
	s->in_str = (uint64_t)((int64_t)in >> 63);
	if ((m->ctrl & in) != 0)
		return -1;		/* a raw control byte in a string */
	if ((ers &= in) != 0 && check_escapes(s, base, ers) < 0)
		return -1;
	other = ~(m->sep | in);
	starts = other & ~(other << 1 | s->other);
	s->other = other >> 63;
	if (starts != 0 && scalars_ok(s, b, base, starts, other) < 0)
		return -1;
	*tok = (m->op & ~in) | (quote & in) | starts;
	return 0;
}

/*
 * The tokens of a block by their codes: named (the bytes whose codes
 * are their own: brackets, separators, quotes; the other tokens are
 * scalars) and tok, in state: the next state.
 */
typedef size_t codes_fn(struct scan *, const unsigned char *b,
    uint64_t named, uint64_t tok, size_t state);

#ifdef __x86_64__
/*
 * The n tokens whose codes' bits are c[0] to c[2] (token i at bit i)
 * one at a time from state st (times 512), pushing and popping: what
 * tokens_avx2 does again when its steps met an action.
 */
static size_t
code_steps(struct scan *s, size_t st, const uint64_t c[3], size_t n)
{
	size_t i, e;

	for (i = 0; i < n; i++) {
		e = steps1[(st >> 6) + (c[0] >> i & 1) + (c[1] >> i & 1) * 2 +
		    (c[2] >> i & 1) * 4];
		if ((e & A_ANY) != 0)
			e = scan_action(s, st >> 6, e >> 6 | (e & A_ANY)) << 6;
		st = e;
	}
	return st;
}

#define CODES_RUN	21	/* the codes of 21 tokens in a word */
#define CODES_AT	0x1249249249249249ULL	/* their lowest bits */

/*
 * The tokens' codes gathered (pext) and spread three bits a token
 * (pdep) into runs of CODES_RUN, then three tokens a step; st and the
 * state returned are times 512.  A step with an action leads to S_ERR's
 * row (see code_steps_make), so that the steps do not test for one: the
 * block is stepped through again, one token at a time, if they end
 * there.
 */
__attribute__((target("avx2,bmi,bmi2,popcnt"), always_inline))
static inline size_t
tokens_avx2(struct scan *s, const unsigned char *b, uint64_t named,
    uint64_t tok, size_t st)
{
	uint64_t c[3], run;
	size_t n = (size_t)_mm_popcnt_u64(tok), k, i, at = st;

	codes_avx2(b, c);
	c[0] = _pext_u64(c[0] & named, tok);
	c[1] = _pext_u64(c[1] & named, tok);
	c[2] = _pext_u64(c[2] & named, tok);
	for (k = 0;; k += CODES_RUN) {
		run = _pdep_u64(c[0] >> k, CODES_AT) |
		    _pdep_u64(c[1] >> k, CODES_AT << 1) |
		    _pdep_u64(c[2] >> k, CODES_AT << 2);
		if (n - k <= CODES_RUN)
			break;
		for (i = 0; i < CODES_RUN; i += 3, run >>= 9)
			st = steps3[st | (run & 511)];
	}
	/* a bit above the last code tells how many are left */
	for (run |= 1ULL << 3 * (n - k); run >= 512; run >>= 9)
		st = steps3[st | (run & 511)];
	if (run >= 64)
		st = steps2[(st >> 3) | (run & 63)];
	else if (run >= 8)
		st = steps1f[(st >> 6) | (run & 7)];
	return st >= 512 ? st : code_steps(s, at, c, n);
}
#endif

/*
 * The masks m of a block of which only the first n bytes (1 to 63) are
 * the text's: the others as if spaces, whatever they are (a byte >= 0x80
 * among them only costs the UTF-8 check of the text).
 */
static inline void
past_end(struct json_block *m, size_t n)
{
	const uint64_t in = ~0ULL >> (64 - n);

	m->quote &= in;
	m->bslash &= in;
	m->op &= in;
	m->sep |= ~in;
	m->ctrl &= in;
}

/*
 * The tokens tok of the block at b (the text's bytes from base) through
 * the grammar g (whose rows are next) from state: the next state.
 */
static inline __attribute__((always_inline)) size_t
block_steps(struct scan *s, const struct grammar *g, const uint16_t *next,
    const unsigned char *b, size_t base, uint64_t tok, size_t state)
{
	uint64_t rest;
	size_t e, i;

	/* two at a time, then one, from an action on to the end */
	for (; g->pairs != NULL && (rest = tok & (tok - 1)) != 0;
	    tok = rest & (rest - 1)) {
		e = g->pairs[(state + g->class[b[lowest_bit(tok)]]) * 8 +
		    g->class[b[lowest_bit(rest)]]];
		if ((e & A_ANY) != 0)
			break;
		state = e;
	}
	for (; tok != 0; tok &= tok - 1) {
		i = lowest_bit(tok);
		e = next[state + g->class[b[i]]];
		/*
		 * No action: the next state (S_ERR's row keeps it).  The
		 * index's tokens here, pushes and pops apart.
		 */
		if ((e & A_ANY) == A_INDEX) {
			index_token(s, state, s->p + base + i);
			e &= ~A_ANY;
		} else if ((e & A_ANY) != 0)
			e = scan_action(s, state, e);
		state = e;
	}
	return state;
}

/*
 * The nb blocks at b, the text's bytes from base, classified by kernel
 * and through the grammar (prefix: prefix_xor, or what gives the same
 * on this CPU; codes: NULL, or what steps through grammar[0] by the
 * tokens' codes): 0 to go on, -1 if the text is not valid.  Inlined into
 * each kernel's blocks_ function: the masks stay in registers.
 */
static inline __attribute__((always_inline)) int
scan_blocks_with(scan_fn *kernel, uint64_t (*prefix)(uint64_t),
    codes_fn *codes, struct scan *s, const unsigned char *b, size_t base,
    size_t nb)
{
	const struct grammar *g = s->grammar;
	const uint16_t *next = &g->next[0][0];	/* rows of 8: TO() */
	const int lenient = s->lenient;	/* the kernel's set up once */
	/* codes: states times 512 (their rows in steps3), not 8 */
	const int by_codes = codes != NULL && g->pairs != NULL;
	struct json_block m;
	uint64_t tok;
	size_t state = by_codes ? s->state << 6 : s->state;

	for (; nb > 0; nb--, b += 64, base += 64) {
		kernel(b, 1, lenient, &m);
		if (s->len - base < 64)
			past_end(&m, s->len - base);
		if (block_tokens(prefix, s, &m, b, base, &tok) < 0)
			return -1;
		if (by_codes)
			state = codes(s, b, m.op | m.quote, tok, state);
		else
			state = block_steps(s, g, next, b, base, tok, state);
		if (state == TO(S_ERR))
			return -1;
	}
	s->state = by_codes ? state >> 6 : state;
	return 0;
}

static int
blocks_word(struct scan *s, const unsigned char *b, size_t base, size_t nb)
{
	return scan_blocks_with(scan_word, prefix_xor, NULL, s, b, base,
	    nb);
}

#ifdef __x86_64__
static int
blocks_sse2(struct scan *s, const unsigned char *b, size_t base, size_t nb)
{
	return scan_blocks_with(scan_sse2, prefix_xor, NULL, s, b, base,
	    nb);
}

__attribute__((target("ssse3"))) static int
blocks_ssse3(struct scan *s, const unsigned char *b, size_t base, size_t nb)
{
	return scan_blocks_with(scan_ssse3, prefix_xor, NULL, s, b, base,
	    nb);
}

__attribute__((target("avx2,bmi,bmi2,pclmul,popcnt"))) static int
blocks_avx2(struct scan *s, const unsigned char *b, size_t base, size_t nb)
{
	return scan_blocks_with(scan_avx2, prefix_clmul, tokens_avx2, s, b,
	    base, nb);
}

/* AVX2 without pext and pdep (slow_pext) */
__attribute__((target("avx2,bmi,bmi2,pclmul,popcnt"))) static int
blocks_avx2_pairs(struct scan *s, const unsigned char *b, size_t base,
    size_t nb)
{
	return scan_blocks_with(scan_avx2, prefix_clmul, NULL, s, b, base,
	    nb);
}
#endif

#if defined(__SANITIZE_ADDRESS__)
#define READ_PAST_END	0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define READ_PAST_END	0
#endif
#endif
#ifndef READ_PAST_END
#define READ_PAST_END	1
#endif

/*
 * Nonzero if the 64 bytes from p may be read although the text ends
 * before: they are in one page, which holds the text's last byte.  Not
 * under AddressSanitizer, which would report the bytes past the object.
 */
static int
block_readable(const unsigned char *p)
{
	return READ_PAST_END && ((uintptr_t)p & 4095) <= 4096 - 64;
}

/*
 * What fills the copy of a last block that cannot be read in place,
 * after the text: bytes that would change the answer unless past_end
 * hides them (it does in place, whatever follows the text).
 */
static const unsigned char past_fill[64] =
    "\"\\{[,:\x01\x80\"0\"\\}]\"1" "true\x1f{\"a\":1}[\\u"
    "0000]\"\"\"\\\"\"\x01\x02\x7f\xff" "{[{[{[\"\"\"\\\"\\{[,:\x01\"";

/*
 * The validator of both json_is_container (strict: only space and tab
 * between tokens, nothing around the value) and json_valid (lenient: any
 * RFC 8259 whitespace, also around the value).  The blocks are read in
 * place, the last one too (its bytes past the text masked) when that
 * does not cross into another page; else a copy of it.
 */
static int
check_container(const char *str, size_t n, int lenient, struct json_top *t)
{
	const unsigned char *p = (const unsigned char *)str, *end = p + n;
	unsigned char last[64];
	struct scan s;
	size_t nb, tail;
	int r;

	if (lenient) {
		while (p < end && is_ws(*p))
			p++;
		while (end > p && is_ws(end[-1]))
			end--;
	}
	if (end - p < 2 || (p[0] != '{' && p[0] != '['))
		return 0;
	/* each field but the stack, not memset: 20 instructions a text */
	s.p = p;
	s.end = end;
	s.len = (size_t)(end - p);
	s.lenient = lenient;
	s.t = t;
	s.grammar = &grammar[t != NULL];
	s.in_str = s.escaped = s.other = 0;
	s.esc_next = s.key = 0;
	s.value = 0;
	s.depth = 0;
	s.state = TO(S_START);
	s.high = 0;
	nb = (s.len + 63) / 64;
	tail = s.len % 64;
	if (tail == 0 || block_readable(end - tail))
		r = scan_blocks(&s, p, 0, nb);
	else if ((r = scan_blocks(&s, p, 0, nb - 1)) == 0) {
		memcpy(last, past_fill, sizeof(last));
		memcpy(last, end - tail, tail);
		r = scan_blocks(&s, last, s.len - tail, 1);
	}
	/*
	 * Closed: any token after the close went to S_ERR, but a blank
	 * would not have; the close must be the last byte.
	 */
	return r == 0 && s.state == TO(S_DONE) &&
	    (end[-1] == '}' || end[-1] == ']') &&
	    (!s.high || utf8_valid_nonul((const char *)p, s.len));
}

int
json_is_container(const char *str, size_t n)
{
	return check_container(str, n, 0, NULL);
}

int
json_valid(const char *str, size_t n)
{
	return check_container(str, n, 1, NULL);
}

int
json_valid_index(const char *str, size_t n, struct json_top *t)
{
	int ok;

	t->doc = str;
	t->n = n;
	t->count = 0;
	t->over = 0;
	ok = check_container(str, n, 1, t);
	t->usable = ok && !t->over && t->count > 0;
	return ok;
}
