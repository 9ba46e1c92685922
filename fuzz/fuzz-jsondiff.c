/* unit: transform/json_valid.c transform/json_get.c transform/json_write.c fuzz/oracle-json.c */
/*
 * fuzz-jsondiff: transform's block-scanning JSON validator against the
 * token-at-a-time one it replaced (fuzz/oracle-json.c): for every input,
 * with each kernel this CPU runs (64-bit words, SSE2, SSSE3, AVX2), the
 * same answer from json_is_container and json_valid_index, and the same
 * top-level members indexed, each found by json_top_get where json_get
 * walking the text finds it.  The input is also tried at every offset
 * of its first bytes, so that each byte meets each position in a block,
 * and inside an array, where most of it is a string or a value.
 */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "oracle-json.h"
#include "../transform/json.h"

static const enum json_kernel kernels[] = { JSON_KERNEL_WORD,
	JSON_KERNEL_SSE2, JSON_KERNEL_SSSE3, JSON_KERNEL_AVX2,
	JSON_KERNEL_AVX2_PAIRS };

static void
same_top(const struct json_top *a, const struct json_top *b)
{
	size_t i;

	fuzz_check(a->usable == b->usable && a->over == b->over &&
	    a->count == b->count);
	for (i = 0; i < a->count && i < JSON_TOP_MAX; i++)
		fuzz_check(a->m[i].k == b->m[i].k && a->m[i].kn == b->m[i].kn &&
		    a->m[i].v == b->m[i].v);
}

/*
 * The index against the walk: each top-level key (decoded, if it has no
 * '.') finds the same value through json_top_get and json_get.
 */
static void
same_values(const char *s, size_t n, const struct json_top *t)
{
	struct buf key = BUF_INIT;
	struct json_val a, b;
	size_t i;

	for (i = 0; i < t->count && i < JSON_TOP_MAX; i++) {
		buf_setlen(&key, 0);
		fuzz_check(json_decode_string(&key, t->m[i].k,
		    t->m[i].kn) == 0);
		if (memchr(key.data, '.', key.len) != NULL)
			continue;
		fuzz_check(json_top_get(t, key.data, key.len, &a) ==
		    json_get(s, n, key.data, key.len, &b));
		fuzz_check(a.kind == b.kind && a.p == b.p && a.n == b.n);
	}
	buf_release(&key);
}

/* s against the oracle, with every kernel. */
static void
compare(const char *s, size_t n)
{
	struct json_top want, got;
	int strict, lenient;
	size_t k;

	strict = oracle_is_container(s, n);
	lenient = oracle_valid_index(s, n, &want);
	for (k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++) {
		if (json_kernel_use(kernels[k]) < 0)
			continue;
		fuzz_check(json_is_container(s, n) == strict);
		fuzz_check(json_valid_index(s, n, &got) == lenient);
		if (lenient) {
			same_top(&want, &got);
			same_values(s, n, &got);
		}
	}
	(void)json_kernel_use(JSON_KERNEL_BEST);
}

/* The masks of one block agree between the kernels, strict and lenient. */
static void
same_masks(const uint8_t *data, size_t size)
{
	unsigned char block[64];
	struct json_block want, got;
	size_t k;
	int lenient;

	memset(block, 0, sizeof(block));
	memcpy(block, data, size < 64 ? size : 64);
	for (lenient = 0; lenient < 2; lenient++) {
		(void)json_kernel_use(JSON_KERNEL_WORD);
		json_scan_block(block, lenient, &want);
		for (k = 1; k < sizeof(kernels) / sizeof(kernels[0]); k++) {
			if (json_kernel_use(kernels[k]) < 0)
				continue;
			json_scan_block(block, lenient, &got);
			fuzz_check(got.quote == want.quote &&
			    got.bslash == want.bslash && got.op == want.op &&
			    got.sep == want.sep && got.ctrl == want.ctrl &&
			    !got.high == !want.high);
		}
	}
	(void)json_kernel_use(JSON_KERNEL_BEST);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT;
	size_t i;

	same_masks(data, size);
	compare((const char *)data, size);
	for (i = 1; i < 64 && i < size; i++)
		compare((const char *)data + i, size - i);
	buf_addch(&b, '[');
	buf_add(&b, data, size);
	buf_addch(&b, ']');
	compare(b.data, b.len);
	buf_reset(&b);
	buf_add(&b, "[\"", 2);
	buf_add(&b, data, size);
	buf_add(&b, "\"]", 2);
	compare(b.data, b.len);
	buf_release(&b);
	return 0;
}
