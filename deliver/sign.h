/*
 * sign: request signatures for object stores, written with OpenSSL.
 *
 * Two schemes:
 *
 * - COS native ("q-sign-algorithm=sha1"): HMAC-SHA1 over a key time
 *   window, as in COS's "Request Signature" documentation.  The value goes
 *   in the Authorization header.
 * - AWS Signature Version 4, for S3-compatible stores and COS's S3 API.
 *
 * The caller describes the request once, in struct sign_request, with
 * DECODED path, query names and values; the signer encodes them the way
 * each scheme wants, and sign_encode_path / sign_encode_query give the
 * matching encoded forms for the URL, so the request line and the
 * signature cannot disagree.
 *
 * Usage, for one request:
 *
 *	struct sign_kv q[] = { { "uploads", NULL } };
 *	struct sign_kv h[] = {
 *		{ "Host", "bkt-1250000000.cos.ap-guangzhou.myqcloud.com" },
 *		{ "Content-Type", "application/json" },
 *	};
 *	struct sign_request req = {
 *		.method = "POST", .path = "/lake/a b.json",
 *		.query = q, .nquery = 1, .headers = h, .nheaders = 2,
 *	};
 *	struct sign_headers out = SIGN_HEADERS_INIT;
 *
 *	sign_cos(&out, &creds, &req, now, now + 900);
 *	URL: "https://" host, then sign_encode_path(&url, req.path), then
 *	'?' and sign_encode_query(&url, q, 1) when nquery > 0.
 *	Send every header of h and every line of out.line[0 .. out.n - 1].
 *	sign_headers_free(&out);
 *
 * Which headers to sign: all that are passed, and only those.  Pass Host
 * always (SigV4 requires it); Content-Type, Content-MD5 and the store's
 * own headers (x-cos-*, x-amz-*, e.g. x-cos-meta-*, x-cos-storage-class)
 * should be passed too, so that nobody on the way can change them.  Do not
 * pass headers that libcurl or a proxy may rewrite (Expect, Transfer-
 * Encoding, Connection, User-Agent); Content-Length is safe to pass when
 * it is exact.  Header names are matched case-insensitively; a header
 * must not be passed twice.
 *
 * Temporary credentials: when creds->token is set, the signer adds the
 * token header itself (x-cos-security-token for COS, x-amz-security-token
 * for SigV4) to out and signs it; do not pass it in headers.
 *
 * The functions keep no state: they may run in parallel threads.  They
 * die (err(3), status 1) only when memory or OpenSSL fails.
 *
 * Nothing here prints or logs a secret; trace output (sign_request.trace)
 * holds the canonical request and the string to sign, which hold no
 * secret (the access key id appears, as in every Authorization header).
 */
#ifndef LAKEPIPE_SIGN_H
#define LAKEPIPE_SIGN_H

#include <stddef.h>
#include <time.h>

struct buf;

/*
 * A query parameter or a header, decoded.  value NULL: a parameter
 * without value ("?uploads"); for a header, the same as "".
 */
struct sign_kv {
	const char	*name;
	const char	*value;
};

struct sign_creds {
	const char	*id;		/* SecretId / AWS_ACCESS_KEY_ID */
	const char	*secret;	/* SecretKey / AWS_SECRET_ACCESS_KEY */
	const char	*token;		/* session token; NULL or "" if none */
};

struct sign_request {
	const char		*method;	/* "PUT", "get": any case */
	/*
	 * The decoded request path, starting with '/': "/" + key for COS and
	 * virtual-hosted S3, "/" + bucket + "/" + key for path-style S3.
	 * UTF-8, spaces, '+', runs of '/' are all taken literally; a
	 * missing leading '/' is added ("" means "/").
	 */
	const char		*path;
	const struct sign_kv	*query;		/* decoded; may be NULL if 0 */
	size_t			 nquery;
	const struct sign_kv	*headers;	/* to sign; may be NULL if 0 */
	size_t			 nheaders;
	struct buf		*trace;		/* NULL, or what was signed */
};

/* Header lines the signer adds, each "Name: value" (libcurl's form). */
struct sign_headers {
	char	**line;
	size_t	  n;
};
#define SIGN_HEADERS_INIT { NULL, 0 }

void	sign_headers_free(struct sign_headers *);
/* The value of the header named name (any case) in out, or NULL. */
const char *sign_headers_get(const struct sign_headers *, const char *name);

/*
 * COS native signature, valid from start to end (seconds since the
 * epoch; both the sign time and the key time).  Adds to out:
 * "Authorization: q-sign-algorithm=sha1&q-ak=...&q-signature=..." and,
 * with a token, "x-cos-security-token: TOKEN".
 */
void	sign_cos(struct sign_headers *out, const struct sign_creds *,
	    const struct sign_request *, time_t start, time_t end);
/* Just the Authorization value, appended to auth (same inputs). */
void	sign_cos_authorization(struct buf *auth, const struct sign_creds *,
	    const struct sign_request *, time_t start, time_t end);

/*
 * AWS SigV4 at time now, for region (e.g. "us-east-1", "ap-guangzhou")
 * and service ("s3").  payload_sha256 is the lower-case hex SHA-256 of the
 * body (SHA256_EMPTY_HEX from digest.h for none), or NULL to sign
 * "UNSIGNED-PAYLOAD".  Adds to out: "x-amz-date: 20130524T000000Z",
 * "x-amz-content-sha256: ...", with a token "x-amz-security-token: ...",
 * and "Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=...".  Do not pass those in req->headers.
 */
struct sign_v4_scope {
	const char	*region;
	const char	*service;	/* NULL means "s3" */
};

void	sign_v4(struct sign_headers *out, const struct sign_creds *,
	    const struct sign_request *, const struct sign_v4_scope *,
	    const char *payload_sha256, time_t now);
/* Just the Authorization value (x-amz-date etc. are still signed). */
void	sign_v4_authorization(struct buf *auth, const struct sign_creds *,
	    const struct sign_request *, const struct sign_v4_scope *,
	    const char *payload_sha256, time_t now);

/*
 * Encoded forms for the URL: the path with every byte but RFC 3986
 * unreserved characters and '/' percent-encoded (each segment once, as S3
 * and COS expect); the query as name[=value]&... in the given order,
 * names and values fully encoded ("uploads", "partNumber=1&uploadId=x").
 */
void	sign_encode_path(struct buf *, const char *path);
void	sign_encode_query(struct buf *, const struct sign_kv *, size_t);

#endif
