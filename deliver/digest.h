/*
 * digest: the checksums and MACs that object stores ask for.
 *
 * - CRC-64/XZ (reflected ECMA-182 polynomial, init and xorout all ones):
 *   COS returns it as x-cos-hash-crc64ecma, in unsigned decimal.  Start
 *   with crc = 0 and feed chunks through crc64_update; the value after the
 *   last chunk is the CRC of the whole ("123456789" gives
 *   11051210869376104954).  crc64_combine gives the CRC of A||B from the
 *   CRCs of A and B and the length of B, so a multipart object's CRC is
 *   the fold of its parts' CRCs in part order.
 * - MD5 (Content-MD5 wants it in base64) and SHA-256 (x-amz-content-sha256
 *   wants it in lower-case hex), incrementally through struct digest.
 * - HMAC-SHA1 (COS signatures) and HMAC-SHA256 (AWS SigV4).
 * - base64 and lower-case hex encoding.
 *
 * Every function dies (err(3), status 1) if OpenSSL fails, which only
 * happens when memory runs out: callers never check.
 */
#ifndef LAKEPIPE_DIGEST_H
#define LAKEPIPE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define MD5_LEN		16
#define SHA1_LEN	20
#define SHA256_LEN	32
/* Sizes of the NUL-terminated text forms. */
#define MD5_B64_SIZE	25	/* 24 characters of base64 */
#define SHA1_HEX_SIZE	41
#define SHA256_HEX_SIZE	65
#define CRC64_DEC_SIZE	21	/* up to 20 decimal digits */

uint64_t crc64_update(uint64_t crc, const void *, size_t);
uint64_t crc64_combine(uint64_t crc_a, uint64_t crc_b, uint64_t len_b);
/* The unsigned decimal form COS sends and expects. */
void	 crc64_format(char out[CRC64_DEC_SIZE], uint64_t crc);

/*
 * An incremental hash.  digest_init picks the algorithm; digest_final
 * writes the raw digest (MD5_LEN or SHA256_LEN bytes) and frees the
 * context, after which the struct may be initialized again.  A struct
 * that was initialized and not finalized must be given to digest_free.
 */
enum digest_alg { DIGEST_MD5, DIGEST_SHA1, DIGEST_SHA256 };

struct digest {
	void		*ctx;		/* EVP_MD_CTX, private */
	enum digest_alg	 alg;
};

void	digest_init(struct digest *, enum digest_alg);
void	digest_update(struct digest *, const void *, size_t);
/* Returns the digest length in bytes. */
size_t	digest_final(struct digest *, unsigned char *out);
void	digest_free(struct digest *);

/*
 * Every sum a request body needs, in one pass: MD5 into md5 and SHA-256
 * into sha256 when they are not NULL, CRC-64/XZ into *crc when it is not
 * NULL.  The body goes through all of them a cache-sized piece at a
 * time, so that memory is read once rather than once per algorithm.
 */
void	digest_body(const void *, size_t, unsigned char *md5,
	    unsigned char *sha256, uint64_t *crc);

/*
 * The same sums over a body that comes in pieces (an object spooled from
 * its parts): body_sums_init with the hashes wanted (SUM_MD5, SUM_SHA256,
 * or'ed; the CRC-64 is always kept), any number of body_sums_add, then
 * body_sums_final, which writes the hashes wanted and frees them; crc is
 * the CRC-64 of the bytes added so far.
 */
#define SUM_MD5		0x1
#define SUM_SHA256	0x2

struct body_sums {
	struct digest	 md5, sha256;
	int		 which;		/* SUM_* of the hashes not final */
	uint64_t	 crc;
	uint64_t	 len;
};

void	body_sums_init(struct body_sums *, int which);
void	body_sums_add(struct body_sums *, const void *, size_t);
void	body_sums_final(struct body_sums *, unsigned char *md5,
	    unsigned char *sha256);
/* Free the hashes of sums not finalized. */
void	body_sums_free(struct body_sums *);

/* One-shot helpers. */
void	md5_base64(char out[MD5_B64_SIZE], const void *, size_t);
void	sha1_hex(char out[SHA1_HEX_SIZE], const void *, size_t);
void	sha256_hex(char out[SHA256_HEX_SIZE], const void *, size_t);
/* Lower-case hex of the SHA-256 of nothing: the empty body. */
#define SHA256_EMPTY_HEX \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

void	hmac_sha1(unsigned char out[SHA1_LEN], const void *key, size_t keylen,
	    const void *, size_t);
void	hmac_sha256(unsigned char out[SHA256_LEN], const void *key,
	    size_t keylen, const void *, size_t);

/* Append encodings to a buf. */
void	base64_encode(struct buf *, const void *, size_t);
void	hex_encode(struct buf *, const void *, size_t);
/* Write NUL-terminated lower-case hex into out (2 * n + 1 bytes). */
void	hex_format(char *out, const void *, size_t n);
/* The n bytes that exactly 2 * n hex digits of either case stand for: 0,
 * or -1 if s is not that (out is then undefined). */
int	hex_decode(unsigned char *out, size_t n, const char *s, size_t len);

#endif
