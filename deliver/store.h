/*
 * store: HTTP requests to COS and S3 stores with libcurl.
 *
 * One struct store holds a curl multi handle (its connection cache keeps
 * connections alive across objects), the credentials, the destination and
 * the clock offset learnt from the server.  A struct req is one logical
 * request of an upload (a PUT, one part, the Complete, ...) across its
 * attempts: it knows its body and that body's MD5, CRC-64 (and SHA-256
 * for SigV4), computed once; each attempt is signed afresh.
 *
 * store_kick() sends the queued attempts it may; when curl reports one done,
 * store_finish() reads the answer and classifies it (enum req_verdict),
 * leaving the store's code and message in req->why.  What to do next is
 * the upload loop's business (answer.c, see loop.h).
 *
 * Signing is the other half of the deliver team's work: sign.h
 * (sign_cos, sign_v4) and digest.h (MD5, SHA-256, CRC-64/XZ).
 */
#ifndef DELIVER_STORE_H
#define DELIVER_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "creds.h"
#include "digest.h"
#include "sign.h"

struct dest;
struct options;
struct upload;

enum req_op {
	OP_PUT, OP_INIT, OP_PART, OP_COMPLETE, OP_ABORT,
	OP_LIST, OP_GET, OP_DELETE	/* --list, --cat, --probe */
};

enum req_verdict {
	V_OK,		/* 2xx and every check passed (HEAD: also 404) */
	V_RETRY,	/* transient: back off and send again */
	V_UNKNOWN,	/* the write may or may not have happened: HEAD */
	V_SKEW,		/* clock skew or expiry: re-sign with the offset */
	V_FATAL		/* stop */
};

struct req {
	struct req	*next;		/* in the store's queue */
	struct upload	*up;
	enum req_op	 op;
	int		 head;		/* this attempt is a HEAD check */
	unsigned	 part;		/* OP_PART: 1-based */
	const char	*body;		/* borrowed; NULL with src_fd */
	size_t		 len;
	int		 src_fd;	/* the body is in this file, or -1 */
	struct buf	 ownbody;	/* OP_COMPLETE's XML */
	int		 has_md5;	/* md5, md5raw are set */
	char		 md5[MD5_B64_SIZE];
	unsigned char	 md5raw[MD5_LEN];
	char		 sha256[SHA256_HEX_SIZE];
	uint64_t	 crc;		/* of the body; of the object for Complete */
	const struct sign_kv *query;	/* OP_LIST: parameters, borrowed */
	size_t		 nquery;
	int		 sink;		/* OP_GET: the body goes here (fd) */
	uint64_t	 got;		/* OP_GET: bytes written to sink */
	uint64_t	 gotcrc;	/* OP_GET: their CRC-64 */
	int		 sink_errno;	/* OP_GET: a failed write, or 0 */
	int		 attempt;	/* retries so far */
	int		 skew_retried;
	unsigned	 creds_gen;	/* creds.gen it was signed with */
	int		 checked;	/* NoSuchUpload checked with HEAD */
	int		 exists;	/* a no-overwrite write found the key */
	double		 not_before;	/* monotime() before which not to send */
	/* one attempt */
	CURL		*easy;
	int		 in_multi;
	int		 hashed;
	struct curl_slist *hdrs;
	size_t		 sent;
	char		 errbuf[CURL_ERROR_SIZE];
	/* its answer */
	long		 status;
	struct buf	 rbody;
	struct buf	 etag;		/* without quotes */
	int		 has_crc;
	uint64_t	 rcrc;
	int		 has_rlen;
	uint64_t	 rlen;
	long		 retry_after;	/* seconds, -1 when absent */
	time_t		 date;		/* server Date, -1 when absent */
	char		 code[64];	/* the store's error code, or "" */
	char		 bucket_region[64];	/* x-amz-bucket-region, or "" */
	struct buf	 rmanifest;	/* x-*-meta-lakepipe-manifest, or "" */
	char		 why[512];	/* verdict's reason, one line */
};

struct store {
	const struct dest	*d;
	const struct options	*opt;
	struct creds		 creds;
	CURLM			*multi;
	long			 skew;	/* seconds to add to our clock */
	int			 want_md5;	/* s3: asked for Content-MD5 */
	int			 active;
	struct req		*head, *tail;	/* waiting to be sent */
};

/* 0, or -1 with a reason in why. */
int	store_init(struct store *, const struct dest *, const struct options *,
	    char *why, size_t whylen);
void	store_release(struct store *);

/* A new request for up; body is borrowed (or ownbody filled after). */
struct req *req_new(struct upload *, enum req_op, unsigned part,
	    const char *body, size_t len);
/*
 * Hash the body for its store: MD5 for COS (sent as Content-MD5),
 * SHA-256 for s3 (signed, and checked by the store), and CRC-64 unless
 * crc_given.  Sending does it for a request not hashed yet.
 */
void	req_hash(struct req *, const struct store *, int crc_given);
/* Start sums with the hashes that req_hash would make for s. */
void	req_body_sums_init(struct body_sums *, const struct store *);
/*
 * The body's hashes from sums made as it was written (a body read from
 * src_fd) by req_body_sums_init; sums is finalized.
 */
void	req_take_sums(struct req *, struct body_sums *);
/*
 * Make sure md5raw holds the body's MD5, computing it now if the store
 * did not want it (s3), from memory or from src_fd: 0, or -1 (a read
 * error: errno).
 */
int	req_md5(struct req *);
void	req_free(struct req *, struct store *);
/* "PutObject", "HeadObject", ...: what the request is, for logs. */
const char *req_op_name(const struct req *);
/* Stop the attempt in flight, if any. */
void	req_cancel(struct req *, struct store *);

/* Queue for sending (not before not_before). */
void	store_queue(struct store *, struct req *);
/* Start queued requests while fewer than --jobs run; the next wait, ms. */
long	store_kick(struct store *);
/* After curl's done: read the answer; the easy handle is released. */
enum req_verdict store_finish(struct store *, struct req *, CURLcode);
/*
 * Run one request to completion, blocking, within timeout seconds (0: no
 * limit but the low-speed one); for the aborts on the way out and for
 * --list, --cat and --probe.
 */
enum req_verdict store_run_sync(struct store *, struct req *, long timeout);
/*
 * store_run_sync() with up to retries retries of a transient failure
 * (backoff as for uploads) and one re-signing after clock skew; for the
 * idempotent requests of --list and --cat (a GET that has written to its
 * sink is not retried).
 */
enum req_verdict store_run(struct store *, struct req *, int retries,
	    long timeout);
/* The backoff before retry number attempt (from 1), seconds. */
double	store_backoff(int attempt, long retry_after);
/* Abort the multipart uploads under the prefix older than --orphan-age. */
void	store_abort_orphans(struct store *, const struct options *);
/* "https://host/path" of the object with this full key (for acks). */
void	store_object_url(const struct store *, struct buf *, const char *key);
/* The decoded request path of the object with this full key. */
void	store_object_path(const struct store *, struct buf *, const char *key);

#endif
