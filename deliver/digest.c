/* Checksums, hashes and MACs; see digest.h. */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <isa-l/crc64.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "digest.h"
#include "pct.h"

/* CRC-64/XZ's polynomial, bit-reflected (ECMA-182). */
#define CRC64_POLY_REFL	0xc96c5795d7870f42ULL
/* x^0 in the reflected representation: the top bit. */
#define CRC64_ONE	0x8000000000000000ULL

uint64_t
crc64_update(uint64_t crc, const void *p, size_t n)
{
	/*
	 * ISA-L's reflected ECMA function inverts on the way in and out,
	 * which is exactly CRC-64/XZ's init and xorout: chaining the
	 * returned value as the next seed continues the same CRC.
	 */
	return crc64_ecma_refl(crc, p, n);
}

/* a * b modulo the polynomial, both in the reflected representation. */
static uint64_t
gf2_mulmod(uint64_t a, uint64_t b)
{
	uint64_t bit, prod = 0;

	for (bit = CRC64_ONE; bit != 0; bit >>= 1) {
		if (a & bit)
			prod ^= b;
		/* b *= x */
		b = (b & 1) ? (b >> 1) ^ CRC64_POLY_REFL : b >> 1;
	}
	return prod;
}

/*
 * Appending len_b bytes to A multiplies A's register by x^(8 len_b); the
 * pre- and post-inversion of the CRC cancel out between the two halves,
 * as with zlib's crc32_combine.
 */
uint64_t
crc64_combine(uint64_t crc_a, uint64_t crc_b, uint64_t len_b)
{
	uint64_t power = CRC64_ONE >> 8;	/* x^8: one byte */
	uint64_t shift = CRC64_ONE;		/* x^0 */

	for (; len_b != 0; len_b >>= 1) {
		if (len_b & 1)
			shift = gf2_mulmod(shift, power);
		power = gf2_mulmod(power, power);
	}
	return gf2_mulmod(shift, crc_a) ^ crc_b;
}

void
crc64_format(char out[CRC64_DEC_SIZE], uint64_t crc)
{
	snprintf(out, CRC64_DEC_SIZE, "%" PRIu64, crc);
}

/*
 * The algorithms fetched once: EVP_md5() and friends make OpenSSL 3 look
 * the implementation up again at every init, which costs more than
 * hashing a small body (and every request signs a few small strings).
 */
static const EVP_MD *
digest_md(enum digest_alg alg)
{
	static const char *const names[] = { "MD5", "SHA1", "SHA256" };
	static EVP_MD *md[3];

	if ((unsigned)alg >= sizeof(md) / sizeof(md[0]))
		errx(1, "digest: unknown algorithm %d", (int)alg);
	if (md[alg] == NULL && (md[alg] = EVP_MD_fetch(NULL, names[alg],
	    NULL)) == NULL)
		errx(1, "EVP_MD_fetch %s failed", names[alg]);
	return md[alg];
}

void
digest_init(struct digest *d, enum digest_alg alg)
{
	EVP_MD_CTX *ctx;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		errx(1, "EVP_MD_CTX_new: out of memory");
	if (!EVP_DigestInit_ex(ctx, digest_md(alg), NULL))
		errx(1, "EVP_DigestInit_ex failed");
	d->ctx = ctx;
	d->alg = alg;
}

void
digest_update(struct digest *d, const void *p, size_t n)
{
	if (!EVP_DigestUpdate(d->ctx, p, n))
		errx(1, "EVP_DigestUpdate failed");
}

size_t
digest_final(struct digest *d, unsigned char *out)
{
	unsigned int len = 0;

	if (!EVP_DigestFinal_ex(d->ctx, out, &len))
		errx(1, "EVP_DigestFinal_ex failed");
	digest_free(d);
	return len;
}

void
digest_free(struct digest *d)
{
	EVP_MD_CTX_free(d->ctx);
	d->ctx = NULL;
}

/* Small enough that a piece is still in the L1 cache for the next pass. */
#define BODY_PIECE	(32 * 1024)

void
body_sums_init(struct body_sums *b, int which)
{
	memset(b, 0, sizeof(*b));
	if (which & SUM_MD5)
		digest_init(&b->md5, DIGEST_MD5);
	if (which & SUM_SHA256)
		digest_init(&b->sha256, DIGEST_SHA256);
	b->which = which;
}

void
body_sums_add(struct body_sums *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t k;

	b->len += n;
	for (; n > 0; s += k, n -= k) {
		k = n < BODY_PIECE ? n : BODY_PIECE;
		if (b->which & SUM_MD5)
			digest_update(&b->md5, s, k);
		if (b->which & SUM_SHA256)
			digest_update(&b->sha256, s, k);
		b->crc = crc64_update(b->crc, s, k);
	}
}

void
body_sums_final(struct body_sums *b, unsigned char *md5,
    unsigned char *sha256)
{
	if (b->which & SUM_MD5)
		digest_final(&b->md5, md5);
	if (b->which & SUM_SHA256)
		digest_final(&b->sha256, sha256);
	b->which = 0;
}

void
body_sums_free(struct body_sums *b)
{
	if (b->which & SUM_MD5)
		digest_free(&b->md5);
	if (b->which & SUM_SHA256)
		digest_free(&b->sha256);
	b->which = 0;
}

void
digest_body(const void *p, size_t n, unsigned char *md5,
    unsigned char *sha256, uint64_t *crc)
{
	struct body_sums b;

	body_sums_init(&b, (md5 != NULL ? SUM_MD5 : 0) |
	    (sha256 != NULL ? SUM_SHA256 : 0));
	body_sums_add(&b, p, n);
	body_sums_final(&b, md5, sha256);
	if (crc != NULL)
		*crc = b.crc;
}

static size_t
digest_once(enum digest_alg alg, unsigned char *out, const void *p, size_t n)
{
	struct digest d;

	digest_init(&d, alg);
	digest_update(&d, p, n);
	return digest_final(&d, out);
}

void
md5_base64(char out[MD5_B64_SIZE], const void *p, size_t n)
{
	unsigned char md[MD5_LEN];

	digest_once(DIGEST_MD5, md, p, n);
	EVP_EncodeBlock((unsigned char *)out, md, MD5_LEN);
}

void
sha1_hex(char out[SHA1_HEX_SIZE], const void *p, size_t n)
{
	unsigned char md[SHA1_LEN];

	digest_once(DIGEST_SHA1, md, p, n);
	hex_format(out, md, SHA1_LEN);
}

void
sha256_hex(char out[SHA256_HEX_SIZE], const void *p, size_t n)
{
	unsigned char md[SHA256_LEN];

	digest_once(DIGEST_SHA256, md, p, n);
	hex_format(out, md, SHA256_LEN);
}

static void
hmac(const EVP_MD *md, unsigned char *out, unsigned int want,
    const void *key, size_t keylen, const void *p, size_t n)
{
	unsigned int len = 0;
	/* HMAC() takes an int key length and a non-NULL data pointer. */
	static const unsigned char nothing[1];

	if (keylen > INT32_MAX)
		errx(1, "HMAC key too long");
	if (HMAC(md, key, (int)keylen, n ? p : nothing, n, out, &len) ==
	    NULL || len != want)
		errx(1, "HMAC failed");
}

void
hmac_sha1(unsigned char out[SHA1_LEN], const void *key, size_t keylen,
    const void *p, size_t n)
{
	hmac(digest_md(DIGEST_SHA1), out, SHA1_LEN, key, keylen, p, n);
}

void
hmac_sha256(unsigned char out[SHA256_LEN], const void *key, size_t keylen,
    const void *p, size_t n)
{
	hmac(digest_md(DIGEST_SHA256), out, SHA256_LEN, key, keylen, p, n);
}

void
base64_encode(struct buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t chunk;

	/* EVP_EncodeBlock takes an int length: go in whole 3-byte groups. */
	while (n > 0) {
		chunk = n > 3 * 4096 ? 3 * 4096 : n;
		buf_grow(b, (chunk + 2) / 3 * 4 + 1);
		buf_setlen(b, b->len + EVP_EncodeBlock(
		    (unsigned char *)b->data + b->len, s, (int)chunk));
		s += chunk;
		n -= chunk;
	}
}

void
hex_format(char *out, const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[s[i] >> 4];
		out[2 * i + 1] = digits[s[i] & 15];
	}
	out[2 * n] = '\0';
}

int
hex_decode(unsigned char *out, size_t n, const char *s, size_t len)
{
	size_t i;
	int hi, lo;

	if (len != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((hi = pct_hexval((unsigned char)s[2 * i])) < 0 ||
		    (lo = pct_hexval((unsigned char)s[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void
hex_encode(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, 2 * n + 1);
	hex_format(b->data + b->len, p, n);
	buf_setlen(b, b->len + 2 * n);
}
