/* unit: transform/json_valid.c transform/json_get.c transform/json_write.c */
/*
 * Unit tests of transform's block-scanning JSON validator: the three
 * kernels give the same masks for every byte at every place of a block;
 * each kernel gives the same answers, strict and lenient, where a block
 * boundary falls inside an escape, a surrogate pair, a run of
 * backslashes, a number or a literal; the top-level index (keys, values
 * and their ends) agrees with the walking json_get; the bytes after a
 * text change nothing, and a text that ends at an unreadable page is
 * read no further; json_add_string's one-copy path and its escaping
 * path give the same text.
 */
#include <sys/mman.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "../../transform/json.h"
#include "unit.h"

#define S(lit)	(lit), sizeof(lit) - 1

static const enum json_kernel kernels[] = { JSON_KERNEL_WORD,
	JSON_KERNEL_SSE2, JSON_KERNEL_SSSE3, JSON_KERNEL_AVX2,
	JSON_KERNEL_AVX2_PAIRS };
static const char *const kernel_names[] = { "word", "sse2", "ssse3",
	"avx2", "avx2 pairs" };
#define NKERNELS	(sizeof(kernels) / sizeof(kernels[0]))

static int
same_block(const struct json_block *a, const struct json_block *b)
{
	return a->quote == b->quote && a->bslash == b->bslash &&
	    a->op == b->op && a->sep == b->sep && a->ctrl == b->ctrl &&
	    !a->high == !b->high;
}

/* Every byte value at every offset: each kernel as the word kernel. */
static void
test_masks(void)
{
	unsigned char blk[64];
	struct json_block want, got;
	char what[80];
	size_t k;
	int c, i, lenient, same;

	for (k = 1; k < NKERNELS; k++) {
		if (json_kernel_use(kernels[k]) < 0) {
			printf("# no %s on this CPU\n", kernel_names[k]);
			continue;
		}
		same = 1;
		for (lenient = 0; lenient < 2; lenient++)
			for (c = 0; c < 256; c++)
				for (i = 0; i < 64; i++) {
					memset(blk, 'a', sizeof(blk));
					blk[i] = (unsigned char)c;
					blk[63 - i] = (unsigned char)(255 - c);
					(void)json_kernel_use(JSON_KERNEL_WORD);
					json_scan_block(blk, lenient, &want);
					(void)json_kernel_use(kernels[k]);
					json_scan_block(blk, lenient, &got);
					same &= same_block(&want, &got);
				}
		snprintf(what, sizeof(what), "masks: %s as words, every byte",
		    kernel_names[k]);
		CHECK(same, what);
	}
	(void)json_kernel_use(JSON_KERNEL_WORD);
	memset(blk, ' ', sizeof(blk));
	memcpy(blk, "{\"a\\\"\":[1,\t\x01\xc3\xa9]}\r\n", 18);
	json_scan_block(blk, 0, &want);
	CHECK(want.quote == (1 << 1 | 1 << 4 | 1 << 5) &&
	    want.bslash == 1 << 3 && want.op == (1 << 0 | 1 << 6 | 1 << 7 |
	    1 << 9 | 1 << 14 | 1 << 15) && want.ctrl == (1 << 10 |
	    1 << 11 | 1 << 16 | 1 << 17) && want.high,
	    "masks: the bits of a known block");
	CHECK((want.sep & (1 << 10 | 1 << 17)) == 1 << 10,
	    "masks: strict whitespace is space and tab");
	json_scan_block(blk, 1, &want);
	CHECK((want.sep & (1 << 16 | 1 << 17)) == (1 << 16 | 1 << 17),
	    "masks: lenient whitespace has CR and LF");
	(void)json_kernel_use(JSON_KERNEL_BEST);
}

/*
 * doc as the last element of an array whose first 0 to 69 bytes are
 * other elements ("[0,0," doc "]"), so that each of its bytes meets each
 * place in a block: with every kernel, strict and lenient, the answer
 * is want.
 */
static int
same_at_every_offset(const char *doc, int want)
{
	struct buf b = BUF_INIT;
	size_t k, off;
	int ok = 1;

	for (k = 0; k < NKERNELS; k++) {
		if (json_kernel_use(kernels[k]) < 0)
			continue;
		for (off = 0; off < 70; off++) {
			buf_setlen(&b, 0);
			buf_addch(&b, '[');
			while (b.len < off + 1)
				buf_addstr(&b, "0,");
			if (b.len > off + 1)
				buf_setlen(&b, off + 1);
			if (b.data[b.len - 1] == '0')
				buf_addch(&b, ',');
			buf_addstr(&b, doc);
			buf_addch(&b, ']');
			ok &= json_is_container(b.data, b.len) == want;
			ok &= json_valid(b.data, b.len) == want;
		}
	}
	(void)json_kernel_use(JSON_KERNEL_BEST);
	buf_release(&b);
	return ok;
}

static void
test_boundaries(void)
{
	static const char *const yes[] = {
		"\"\\\\\"", "\"\\\\\\\\\"", "\"\\\"\"", "\"a\\\\\\\"b\"",
		"\"\\ud83d\\ude00\"", "\"\\u00e9\\/\\b\\f\\n\\r\\t\"",
		"\"\xf0\x9f\x98\x80\xc3\xa9\"", "-0.5e+10", "true", "false",
		"null", "{\"k\":[{},[]]}", "\"\"", "[1 , 2]",
	};
	static const char *const no[] = {
		"\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"",
		"\"\\x\"", "\"\\u12g4\"", "\"\\\\\\\"", "\"\x01\"",
		"\"\xc3\"", "\"\xed\xa0\x80\"", "01", "1.", "-", "tru",
		"truex", "nul", "1\"a\"", "\"a\"1", "{\"k\"}", "[1,]",
		"{\"a\":1,}", "[}", "{]", "\\\"", "1 2", "\"a\" \"b\"",
		"\"\n\"",
	};
	char what[80];
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(what, sizeof(what), "boundaries: valid value %zu at "
		    "every offset", i);
		CHECK(same_at_every_offset(yes[i], 1), what);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		snprintf(what, sizeof(what), "boundaries: invalid value %zu at "
		    "every offset", i);
		CHECK(same_at_every_offset(no[i], 0), what);
	}
}

/* Long and deep documents, across many blocks and the kernel's batches. */
static void
test_long(void)
{
	struct buf b = BUF_INIT;
	size_t i, k;
	int ok;

	buf_addch(&b, '[');
	for (i = 0; i < 5000; i++)
		buf_addf(&b, "%s{\"k%zu\":\"v\\\\%zu\\\"\",\"n\":%zu}",
		    i ? "," : "", i, i, i);
	buf_addch(&b, ']');
	for (k = 0, ok = 1; k < NKERNELS; k++)
		if (json_kernel_use(kernels[k]) == 0)
			ok &= json_is_container(b.data, b.len) &&
			    !json_is_container(b.data, b.len - 1);
	CHECK(ok, "long: 5000 objects, and the same less its last byte");
	(void)json_kernel_use(JSON_KERNEL_BEST);
	buf_setlen(&b, 0);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		buf_addch(&b, '[');
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		buf_addch(&b, ']');
	CHECK(json_is_container(b.data, b.len), "long: JSON_MAX_DEPTH deep");
	buf_setlen(&b, 0);
	for (i = 0; i <= JSON_MAX_DEPTH; i++)
		buf_addch(&b, '[');
	for (i = 0; i <= JSON_MAX_DEPTH; i++)
		buf_addch(&b, ']');
	CHECK(!json_is_container(b.data, b.len), "long: one level deeper");
	buf_release(&b);
}

/*
 * The bytes after a text, which the validator may read to fill its last
 * block (json_valid.c, past_end), change nothing: each text ending at every
 * place in a block, followed by bytes that would change the answer were
 * they the text's, with every kernel, strict and lenient.
 */
static void
test_past_end(void)
{
	/* not valid, valid, ... */
	static const char *const docs[] = { "[1", "[1]", "[\"a", "[\"a\"]",
	    "{\"k\":tru", "{\"k\":true}", "[\"\\", "[\"\\\\\"]", "[1,",
	    "[1,2]", "[[]", "{}" };
	static const char *const after[] = { "]", "}", "\"]", "\\\"]", "e5]",
	    "\x01", "\xff\xfe", " ,1]", "\"", "{[" };
	struct buf b = BUF_INIT;
	size_t d, a, k, pad, n;
	int ok = 1, want;

	for (d = 0; d < sizeof(docs) / sizeof(docs[0]); d++)
		for (pad = 0; pad < 70; pad++) {
			buf_setlen(&b, 0);
			buf_addch(&b, '[');
			for (n = 0; n < pad; n++)
				buf_addstr(&b, "0,");
			buf_addstr(&b, docs[d]);
			buf_addch(&b, ']');
			n = b.len;
			want = d % 2;
			for (a = 0; a < sizeof(after) / sizeof(after[0]); a++) {
				buf_setlen(&b, n);
				buf_addstr(&b, after[a]);
				for (k = 0; k < NKERNELS; k++) {
					if (json_kernel_use(kernels[k]) < 0)
						continue;
					ok &= json_is_container(b.data, n) ==
					    want;
					ok &= json_valid(b.data, n) == want;
					ok &= json_is_container(b.data + 1 +
					    2 * pad, n - 2 - 2 * pad) == want;
				}
			}
		}
	(void)json_kernel_use(JSON_KERNEL_BEST);
	buf_release(&b);
	CHECK(ok, "past end: the bytes after a text change nothing");
}

/*
 * A text whose last byte is the last of a readable page: each length
 * from 1 to 200, with every kernel (a read past it would fault).
 */
static void
test_page_end(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m, *p;
	size_t n, i, k;
	int ok = 1;

	m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + pg, (size_t)pg, PROT_NONE) != 0) {
		CHECK(0, "page end: mmap");
		return;
	}
	for (n = 2; n <= 200; n++) {
		/* [], [1], [10], [1,1], [10,1], ... */
		p = m + pg - n;
		p[0] = '[';
		for (i = 1; i + 1 < n; i++)
			p[i] = (i + n + 1) % 2 ? '1' : ',';
		if (n % 2 == 0 && n > 2) {
			p[1] = '1';
			p[2] = '0';
		}
		p[n - 1] = ']';
		for (k = 0; k < NKERNELS; k++)
			if (json_kernel_use(kernels[k]) == 0)
				ok &= json_is_container(p, n) &&
				    json_valid(p, n) &&
				    !json_is_container(p, n - 1);
	}
	(void)json_kernel_use(JSON_KERNEL_BEST);
	munmap(m, (size_t)pg * 2);
	CHECK(ok, "page end: a text up to a page it cannot read");
}

/* The index of the validating pass against json_get, member by member. */
static void
test_index(void)
{
	static const char doc[] = " {\"a\" : [1, {\"b\":2}] ,\"s\":\"x\\\"y\","
	    "\"e\\u0073c\":true,\r\n\"n\":-1.5e3 ,\"o\":{\"p\":null}}\t";
	static const char *const keys[] = { "a", "s", "esc", "n", "o", "o.p",
	    "a.1.b", "a.0", "x" };
	struct json_top t;
	struct json_val a, b;
	size_t i;
	int ok = 1;

	CHECK(json_valid_index(S(doc), &t) && t.usable && t.count == 5,
	    "index: five members");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		(void)json_top_get(&t, keys[i], strlen(keys[i]), &a);
		(void)json_get(S(doc), keys[i], strlen(keys[i]), &b);
		ok &= a.kind == b.kind && a.n == b.n && a.p == b.p;
	}
	CHECK(ok, "index: every path as json_get finds it");
	CHECK(json_top_get(&t, "n", 1, &a) && a.n == 6 &&
	    memcmp(a.p, "-1.5e3", 6) == 0, "index: a value ends before "
	    "the whitespace after it");
	CHECK(json_top_get(&t, "esc", 3, &a) && a.kind == JV_TRUE,
	    "index: an escaped key");
	CHECK(!json_top_get(&t, "e\\u0073c", 8, &a),
	    "index: a key is compared decoded");
}

/* What json_add_string (not strict) writes for s, n bytes, into w. */
static size_t
escaped(char *w, const char *s, size_t n)
{
	size_t i, k = 0;

	w[k++] = '"';
	for (i = 0; i < n; i++)
		switch (s[i]) {
		case '"':
			k += (size_t)sprintf(w + k, "\\\"");
			break;
		case '\\':
			k += (size_t)sprintf(w + k, "\\\\");
			break;
		case '\x01':
			k += (size_t)sprintf(w + k, "\\u0001");
			break;
		case '\xc3':		/* only as a lone byte, here */
		case '\xff':
			k += (size_t)sprintf(w + k, "\xef\xbf\xbd");
			break;
		default:
			w[k++] = s[i];
			break;
		}
	w[k++] = '"';
	return k;
}

/* json_add_string's one-copy path and its escaping path. */
static void
test_add_string(void)
{
	static const char specials[] = "\"\\\x01\x7f\xc3\xff";
	char s[40], want[256];
	struct buf b = BUF_INIT;
	size_t n, at, k, w;
	int ok = 1;

	for (n = 0; n < sizeof(s); n++)
		for (at = 0; at <= n; at++)
			for (k = 0; k < sizeof(specials) - 1; k++) {
				memset(s, 'x', n);
				if (at < n)
					s[at] = specials[k];
				buf_setlen(&b, 0);
				(void)json_add_string(&b, s, n, 0);
				w = escaped(want, s, n);
				ok &= b.len == w && b.data[w] == '\0' &&
				    memcmp(b.data, want, w) == 0;
			}
	CHECK(ok, "add_string: one special byte at every place, lengths 0-39");
	buf_setlen(&b, 0);
	CHECK(json_add_string(&b, S("plain text"), 1) == 0 &&
	    b.len == 12 && json_add_string(&b, S("a\0b"), 1) < 0 &&
	    b.len == 12, "add_string: strict refuses NUL, leaves the buffer");
	buf_release(&b);
}

int
main(void)
{
	test_masks();
	test_boundaries();
	test_long();
	test_past_end();
	test_page_end();
	test_index();
	test_add_string();
	return unit_done();
}
