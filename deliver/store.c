/* HTTP requests to COS and S3 with libcurl; see store.h. */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "deliver.h"
#include "dest.h"
#include "digest.h"
#include "log.h"
#include "sign.h"
#include "store.h"
#include "upload.h"
#include "xml.h"

/* Below this, no "Expect: 100-continue" round trip; above, a store can
 * refuse (403, 503) before the body is sent. */
#define EXPECT_MIN	(1024 * 1024)
/* COS: the key time window of a signature. */
#define SIGN_WINDOW	3600
/* A store's error document is small; more is not kept. */
#define MAX_RBODY	(1024 * 1024)

static const char *const op_names[] = {
	"PutObject", "InitiateMultipartUpload", "UploadPart",
	"CompleteMultipartUpload", "AbortMultipartUpload", "ListObjectsV2",
	"GetObject", "DeleteObject"
};

int
store_init(struct store *s, const struct dest *d, const struct options *opt,
    char *why, size_t whylen)
{
	memset(s, 0, sizeof(*s));
	s->d = d;
	s->opt = opt;
	if (creds_load(&s->creds, d->kind, opt->credentials, why, whylen) < 0)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		snprintf(why, whylen, "libcurl initialisation failed");
		return -1;
	}
	if ((s->multi = curl_multi_init()) == NULL) {
		snprintf(why, whylen, "libcurl: cannot make a multi handle");
		return -1;
	}
	curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)opt->jobs);
	curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)opt->jobs);
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)opt->jobs);
	return 0;
}

void
store_release(struct store *s)
{
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	creds_release(&s->creds);
	curl_global_cleanup();
}

struct req *
req_new(struct upload *up, enum req_op op, unsigned part, const char *body,
    size_t len)
{
	struct req *r = xcalloc(1, sizeof(*r));

	r->up = up;
	r->op = op;
	r->part = part;
	r->body = body;
	r->len = len;
	r->retry_after = -1;
	r->date = -1;
	r->sink = -1;
	r->src_fd = -1;
	buf_init(&r->ownbody, 0);
	buf_init(&r->rbody, 0);
	buf_init(&r->etag, 0);
	buf_init(&r->rmanifest, 0);
	return r;
}

/*
 * S3 requests are signed with their body's SHA-256, which the store
 * checks before it keeps the body (S3 and RGW answer a damaged one with
 * XAmzContentSHA256Mismatch): MD5 would check it again for more CPU than
 * the SHA-256 costs, so only COS requests carry Content-MD5, and S3 ones
 * once the store asked for it (want_md5).
 */
static int
sums_wanted(const struct store *s)
{
	if (s->d->kind != DEST_S3)
		return SUM_MD5;
	return SUM_SHA256 | (s->want_md5 ? SUM_MD5 : 0);
}

static void
req_set_md5(struct req *r, const unsigned char md5[MD5_LEN])
{
	struct buf b64 = BUF_INIT;

	memcpy(r->md5raw, md5, MD5_LEN);
	base64_encode(&b64, md5, MD5_LEN);
	strlcpy(r->md5, b64.data, sizeof(r->md5));
	buf_release(&b64);
	r->has_md5 = 1;
}

/* The text forms of the hashes in md5 and sha (those r's store wants). */
static void
req_set_sums(struct req *r, int which, const unsigned char *md5,
    const unsigned char *sha)
{
	if (which & SUM_MD5)
		req_set_md5(r, md5);
	if (which & SUM_SHA256)
		hex_format(r->sha256, sha, SHA256_LEN);
	r->hashed = 1;
}

void
req_hash(struct req *r, const struct store *s, int crc_given)
{
	unsigned char md5[MD5_LEN], sha[SHA256_LEN];
	int which = sums_wanted(s);

	/* one pass over the body for all of them */
	digest_body(r->body, r->len, which & SUM_MD5 ? md5 : NULL,
	    which & SUM_SHA256 ? sha : NULL, crc_given ? NULL : &r->crc);
	req_set_sums(r, which, md5, sha);
}

void
req_body_sums_init(struct body_sums *b, const struct store *s)
{
	body_sums_init(b, sums_wanted(s));
}

void
req_take_sums(struct req *r, struct body_sums *b)
{
	unsigned char md5[MD5_LEN], sha[SHA256_LEN];
	int which = b->which;

	body_sums_final(b, md5, sha);
	req_set_sums(r, which, md5, sha);
	r->crc = b->crc;
}

/* Read the spooled body of r again, hashing it into d: 0, or -1 (errno). */
static int
md5_of_file(struct digest *d, const struct req *r)
{
	char chunk[64 * 1024];
	uint64_t off = 0;
	ssize_t n;

	while (off < r->len) {
		n = pread(r->src_fd, chunk, r->len - off < sizeof(chunk) ?
		    (size_t)(r->len - off) : sizeof(chunk), (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* the spool file shrank */
			return -1;
		}
		digest_update(d, chunk, (size_t)n);
		off += (uint64_t)n;
	}
	return 0;
}

int
req_md5(struct req *r)
{
	unsigned char md[MD5_LEN];
	struct digest d;

	if (r->has_md5)
		return 0;
	digest_init(&d, DIGEST_MD5);
	if (r->src_fd < 0)
		digest_update(&d, r->body, r->len);
	else if (md5_of_file(&d, r) < 0) {
		digest_free(&d);
		return -1;
	}
	digest_final(&d, md);
	req_set_md5(r, md);
	return 0;
}

static void
req_end_attempt(struct req *r)
{
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	r->in_multi = 0;
	r->easy = NULL;
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
}

void
req_free(struct req *r, struct store *s)
{
	if (r == NULL)
		return;
	req_cancel(r, s);
	buf_release(&r->ownbody);
	buf_release(&r->rbody);
	buf_release(&r->etag);
	buf_release(&r->rmanifest);
	free(r);
}

void
req_cancel(struct req *r, struct store *s)
{
	if (r->in_multi) {
		curl_multi_remove_handle(s->multi, r->easy);
		s->active--;
	}
	req_end_attempt(r);
}

void
store_queue(struct store *s, struct req *r)
{
	r->next = NULL;
	if (s->tail != NULL)
		s->tail->next = r;
	else
		s->head = r;
	s->tail = r;
}

void
store_object_path(const struct store *s, struct buf *out, const char *key)
{
	buf_addstr(out, s->d->endpoint_path);
	if (s->d->path_style)
		buf_addf(out, "/%s", s->d->bucket);
	buf_addch(out, '/');
	buf_addstr(out, key);
}

void
store_object_url(const struct store *s, struct buf *out, const char *key)
{
	struct buf path = BUF_INIT;

	store_object_path(s, &path, key);
	buf_addf(out, "%s://%s", s->d->scheme, s->d->host);
	sign_encode_path(out, path.data);
	buf_release(&path);
}

/* --- the answer ------------------------------------------------------ */

/* Forget what the headers of an answer said. */
static void
reset_headers(struct req *r)
{
	buf_reset(&r->etag);
	buf_reset(&r->rmanifest);
	r->has_crc = r->has_rlen = 0;
	r->bucket_region[0] = '\0';
	r->retry_after = -1;
	r->date = -1;
}

/* The header value v..end as a string in tmp: 0, or -1 if empty or long. */
static int
header_copy(char *tmp, size_t size, const char *v, const char *end)
{
	size_t n = (size_t)(end - v);

	if (n == 0 || n >= size)
		return -1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	return 0;
}

/* Retry-After: seconds, or an HTTP date; -1 if neither. */
static long
retry_after_seconds(const char *s)
{
	time_t t, now = time(NULL);

	if (isdigit((unsigned char)s[0]))
		return strtol(s, NULL, 10);
	if ((t = curl_getdate(s, NULL)) == -1)
		return -1;
	return t > now ? (long)(t - now) : 0;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len = size * n, nl;
	const char *v, *end = p + len;
	char tmp[64], *e;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* a new header block (after a 100 Continue, say) */
		reset_headers(r);
		return len;
	}
	if ((v = memchr(p, ':', len)) == NULL)
		return len;
	nl = (size_t)(v - p);
	for (v++; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
	    end[-1] == ' '))
		end--;
#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(p, name, nl) == 0)
	if (IS("ETag")) {
		buf_reset(&r->etag);
		if (end - v >= 2 && *v == '"' && end[-1] == '"')
			buf_add(&r->etag, v + 1, (size_t)(end - v - 2));
		else
			buf_add(&r->etag, v, (size_t)(end - v));
	} else if (IS("x-cos-hash-crc64ecma")) {
		/* at most 20 digits */
		if (header_copy(tmp, 32, v, end) == 0 &&
		    isdigit((unsigned char)tmp[0])) {
			r->rcrc = strtoull(tmp, &e, 10);
			r->has_crc = *e == '\0';
		}
	} else if (IS("Content-Length")) {
		if (header_copy(tmp, 32, v, end) == 0) {
			r->rlen = strtoull(tmp, NULL, 10);
			r->has_rlen = 1;
		}
	} else if (IS("Date")) {
		if (header_copy(tmp, sizeof(tmp), v, end) == 0)
			r->date = curl_getdate(tmp, NULL);
	} else if (IS("x-amz-bucket-region")) {
		if (header_copy(tmp, sizeof(tmp), v, end) == 0)
			strlcpy(r->bucket_region, tmp,
			    sizeof(r->bucket_region));
	} else if (IS("x-amz-meta-lakepipe-manifest") ||
	    IS("x-cos-meta-lakepipe-manifest")) {
		buf_reset(&r->rmanifest);
		buf_add(&r->rmanifest, v, (size_t)(end - v));
	} else if (IS("Retry-After")) {
		if (header_copy(tmp, sizeof(tmp), v, end) == 0)
			r->retry_after = retry_after_seconds(tmp);
	}
#undef IS
	return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	long st = 0;

	if (r->op == OP_GET) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &st);
		if (st >= 200 && st < 300) {
			if (r->sink >= 0 && write_all(r->sink, p, size * n) < 0) {
				r->sink_errno = errno;
				return 0;	/* curl stops: a write error */
			}
			r->got += size * n;
			r->gotcrc = crc64_update(r->gotcrc, p, size * n);
			if (r->sink >= 0)
				return size * n;
		}
	}
	if (r->rbody.len + size * n <= MAX_RBODY)
		buf_add(&r->rbody, p, size * n);
	return size * n;
}

static size_t
on_read(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t want = size * n, left = r->len - r->sent;
	ssize_t got;

	if (want > left)
		want = left;
	if (r->src_fd >= 0) {
		/* a rewind for a retry is sent = 0: read at the offset */
		if ((got = pread(r->src_fd, p, want, (off_t)r->sent)) < 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)got;
	} else
		memcpy(p, r->body + r->sent, want);
	r->sent += want;
	return want;
}

/* Curl's seek, for a resend after a redirect or an auth round trip. */
static int
on_seek(void *arg, curl_off_t off, int origin)
{
	struct req *r = arg;

	if (origin != SEEK_SET || off < 0 || (size_t)off > r->len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->sent = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/* --- building an attempt --------------------------------------------- */

static const char *
method_of(const struct req *r)
{
	if (r->head)
		return "HEAD";
	switch (r->op) {
	case OP_INIT:
	case OP_COMPLETE:
		return "POST";
	case OP_ABORT:
	case OP_DELETE:
		return "DELETE";
	case OP_LIST:
	case OP_GET:
		return "GET";
	default:
		return "PUT";
	}
}

static int
has_body(const struct req *r)
{
	return !r->head && r->op != OP_ABORT && r->op < OP_LIST;
}

/*
 * A header whose name and value are formatted into scratch: h gets NULLs
 * and *off where they start, until scratch stops moving.
 */
static void
add_built(struct buf *scratch, struct sign_kv *h, size_t *off,
    const char *pfx, const char *name, const char *value)
{
	*off = scratch->len;
	buf_addf(scratch, "%s%s%c%s", pfx, name, '\0', value);
	buf_addch(scratch, '\0');
	*h = (struct sign_kv){ NULL, NULL };
}

/* The headers to sign and send, name/value pairs into h (room for 16). */
static size_t
build_headers(const struct store *s, const struct req *r, struct sign_kv *h,
    struct buf *scratch)
{
	const struct upload *up = r->up;
	const char *pfx = s->d->kind == DEST_COS ? "x-cos-" : "x-amz-";
	char num[32];
	size_t n = 0, off[8], k = 0, i;
	int meta = !r->head && (r->op == OP_PUT || r->op == OP_INIT);

	h[n++] = (struct sign_kv){ "Host", s->d->host };
	if (has_body(r)) {
		snprintf(num, sizeof(num), "%zu", r->len);
		add_built(scratch, &h[n++], &off[k++], "", "Content-Length",
		    num);
		if (r->has_md5)
			h[n++] = (struct sign_kv){ "Content-MD5", r->md5 };
	}
	if (r->op == OP_COMPLETE && !r->head)
		h[n++] = (struct sign_kv){ "Content-Type", "application/xml" };
	if (meta) {
		h[n++] = (struct sign_kv){ "Content-Type", up->o.type.len ?
		    up->o.type.data : "application/octet-stream" };
		if (up->o.enc.len)
			h[n++] = (struct sign_kv){ "Content-Encoding",
			    up->o.enc.data };
		if (up->o.has_n) {
			snprintf(num, sizeof(num), "%llu",
			    (unsigned long long)up->o.n);
			add_built(scratch, &h[n++], &off[k++], pfx,
			    "meta-lakepipe-n", num);
		}
		if (up->o.first.len)
			add_built(scratch, &h[n++], &off[k++], pfx,
			    "meta-lakepipe-first", up->o.first.data);
		if (up->o.last.len)
			add_built(scratch, &h[n++], &off[k++], pfx,
			    "meta-lakepipe-last", up->o.last.data);
		if (s->opt->storage_class != NULL)
			add_built(scratch, &h[n++], &off[k++], pfx,
			    "storage-class", s->opt->storage_class);
		if (up->meta.len)
			add_built(scratch, &h[n++], &off[k++], pfx,
			    "meta-lakepipe-manifest", up->meta.data);
	}
	/*
	 * --exactly-once: never replace an object (manifest.h), on the PUT
	 * and the Complete: S3's condition, or COS's own header.
	 */
	if (up->manifest.len && !r->head && (r->op == OP_PUT ||
	    r->op == OP_COMPLETE))
		h[n++] = s->d->kind == DEST_COS ?
		    (struct sign_kv){ "x-cos-forbid-overwrite", "true" } :
		    (struct sign_kv){ "If-None-Match", "*" };
	/* Now that scratch no longer moves, point into it. */
	for (i = 0, k = 0; i < n; i++) {
		if (h[i].name == NULL) {
			h[i].name = scratch->data + off[k++];
			h[i].value = h[i].name + strlen(h[i].name) + 1;
		}
	}
	return n;
}

static size_t
build_query(const struct req *r, struct sign_kv *q, char partno[16])
{
	size_t n = 0;

	if (r->head)
		return 0;
	switch (r->op) {
	case OP_LIST:
		for (n = 0; n < r->nquery && n < 4; n++)
			q[n] = r->query[n];
		break;
	case OP_INIT:
		q[n++] = (struct sign_kv){ "uploads", NULL };
		break;
	case OP_PART:
		snprintf(partno, 16, "%u", r->part);
		q[n++] = (struct sign_kv){ "partNumber", partno };
		/* FALLTHROUGH */
	case OP_COMPLETE:
	case OP_ABORT:
		q[n++] = (struct sign_kv){ "uploadId", r->up->upload_id };
		break;
	default:
		break;
	}
	return n;
}

static void
add_header(struct curl_slist **l, const char *name, const char *value)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s: %s", name, value);
	*l = curl_slist_append(*l, b.data);
	buf_release(&b);
}

static CURL *
build_easy(struct store *s, struct req *r)
{
	struct sign_kv h[16], q[4];
	struct sign_headers sh = SIGN_HEADERS_INIT;
	struct sign_creds sc;
	struct sign_request sr;
	struct sign_v4_scope scope = { s->d->region, "s3" };
	struct buf scratch = BUF_INIT, url = BUF_INIT;
	char partno[16];
	size_t nh, nq, i;
	time_t now = time(NULL) + s->skew;
	CURL *e;

	buf_grow(&scratch, 512);
	nh = build_headers(s, r, h, &scratch);
	nq = build_query(r, q, partno);
	memset(&sr, 0, sizeof(sr));
	sr.method = method_of(r);
	sr.path = r->up->path.data;
	sr.query = q;
	sr.nquery = nq;
	sr.headers = h;
	sr.nheaders = nh;
	creds_sign(&s->creds, &sc);
	r->creds_gen = s->creds.gen;
	if (s->d->kind == DEST_COS)
		sign_cos(&sh, &sc, &sr, now - 60, now + SIGN_WINDOW);
	else
		sign_v4(&sh, &sc, &sr, &scope, has_body(r) ? r->sha256 :
		    SHA256_EMPTY_HEX, now);

	buf_addf(&url, "%s://%s", s->d->scheme, s->d->host);
	sign_encode_path(&url, r->up->path.data);
	if (nq > 0) {
		buf_addch(&url, '?');
		sign_encode_query(&url, q, nq);
	}
	r->hdrs = NULL;
	for (i = 0; i < nh; i++)
		add_header(&r->hdrs, h[i].name, h[i].value);
	for (i = 0; i < sh.n; i++)
		r->hdrs = curl_slist_append(r->hdrs, sh.line[i]);
	/* no Accept, no Expect round trip for small bodies */
	r->hdrs = curl_slist_append(r->hdrs, "Accept:");
	r->hdrs = curl_slist_append(r->hdrs, has_body(r) &&
	    r->len >= EXPECT_MIN ? "Expect: 100-continue" : "Expect:");
	sign_headers_free(&sh);
	buf_release(&scratch);

	e = curl_easy_init();
	if (e == NULL)
		errx(EXIT_FAIL, "curl_easy_init failed");
	curl_easy_setopt(e, CURLOPT_URL, url.data);
	buf_release(&url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, s->opt->timeout);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, s->opt->timeout);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	if (s->opt->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (r->head)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (r->op == OP_ABORT || r->op == OP_DELETE)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
	else if (r->op == OP_LIST || r->op == OP_GET)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, r);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)r->len);
		if (r->op != OP_PUT && r->op != OP_PART)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "POST");
	}
	return e;
}

static void
reset_answer(struct req *r)
{
	r->sent = 0;
	r->got = r->gotcrc = 0;
	r->sink_errno = 0;
	r->status = 0;
	r->errbuf[0] = '\0';
	r->why[0] = '\0';
	r->code[0] = '\0';
	buf_reset(&r->rbody);
	reset_headers(r);
}

/* Ready a new attempt: hashes once, a fresh answer, a signed handle. */
static void
prepare_attempt(struct store *s, struct req *r)
{
	if (!r->hashed)
		req_hash(r, s, 0);
	reset_answer(r);
	r->easy = build_easy(s, r);
}

/* Send one attempt now. */
static void
store_start(struct store *s, struct req *r)
{
	prepare_attempt(s, r);
	curl_multi_add_handle(s->multi, r->easy);
	r->in_multi = 1;
	s->active++;
}

long
store_kick(struct store *s)
{
	struct req *r, *prev = NULL, *next;
	double now = monotime(), wait = 1.0;

	for (r = s->head; r != NULL && s->active < s->opt->jobs; r = next) {
		next = r->next;
		if (r->not_before > now) {
			if (r->not_before - now < wait)
				wait = r->not_before - now;
			prev = r;
			continue;
		}
		if (prev != NULL)
			prev->next = next;
		else
			s->head = next;
		if (s->tail == r)
			s->tail = prev;
		r->next = NULL;
		store_start(s, r);
	}
	return (long)(wait * 1000) + 1;
}

/* --- judging the answer ---------------------------------------------- */

/*
 * A body damaged on the way is worth sending again: S3 and COS say
 * BadDigest (Content-MD5), Ceph's RGW XAmzContentSHA256Mismatch (the
 * signed body hash); COS has no code of its own beyond BadDigest.
 */
static int
transient_code(const char *code)
{
	static const char *const codes[] = {
		"SlowDown", "InternalError", "RequestTimeout",
		"ServiceUnavailable", "TooManyRequests", "BadDigest",
		"XAmzContentSHA256Mismatch", "OperationAborted", "Throttling",
		"ThrottlingException", "RequestTimeTooSkewed", NULL
	};
	const char *const *c;

	for (c = codes; *c != NULL; c++)
		if (strcmp(code, *c) == 0)
			return 1;
	return 0;
}

static int
transient_status(long st)
{
	return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

const char *
req_op_name(const struct req *r)
{
	return r->head ? "HeadObject" : op_names[r->op];
}

/*
 * "PutObject: 503 SlowDown: Please reduce ... (request id X)" into why,
 * on one line whatever the store's text holds.
 */
static void
describe_error(struct req *r, const char *code, const char *msg,
    const char *reqid)
{
	char *p;

	snprintf(r->why, sizeof(r->why), "%s: %ld %s%s%s%s%s%s", req_op_name(r),
	    r->status, code, *msg ? ": " : "", msg, *reqid ? " (request id " :
	    "", reqid, *reqid ? ")" : "");
	for (p = r->why; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

static enum req_verdict
judge_curl_error(const struct store *s, struct req *r, CURLcode rc)
{
	curl_off_t up = 0;
	int writes = has_body(r) && r->op != OP_INIT;

	curl_easy_getinfo(r->easy, CURLINFO_SIZE_UPLOAD_T, &up);
	if (rc == CURLE_COULDNT_RESOLVE_HOST) {
		/* a name that does not resolve now will not in a minute */
		snprintf(r->why, sizeof(r->why), "cannot resolve %.*s: check "
		    "--endpoint / the region", (int)strcspn(s->d->host, ":"),
		    s->d->host);
		return V_FATAL;
	}
	snprintf(r->why, sizeof(r->why), "%s: %s", req_op_name(r),
	    r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_OUT_OF_MEMORY:
		return V_FATAL;
	default:
		break;
	}
	/* the whole body went out: the store may have stored it */
	if (writes && (size_t)up == r->len && rc != CURLE_COULDNT_CONNECT)
		return V_UNKNOWN;
	return V_RETRY;
}

enum req_verdict
store_finish(struct store *s, struct req *r, CURLcode rc)
{
	struct buf code = BUF_INIT, msg = BUF_INIT, reqid = BUF_INIT;
	enum req_verdict v;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (rc == CURLE_WRITE_ERROR && r->sink_errno != 0) {
		snprintf(r->why, sizeof(r->why), "stdout: %s",
		    strerror(r->sink_errno));
		v = V_FATAL;
		goto out;
	}
	if (rc != CURLE_OK) {
		v = judge_curl_error(s, r, rc);
		goto out;
	}
	if (r->head) {
		/* 404: not there; the caller compares the rest */
		if (r->status == 200 || r->status == 404)
			v = V_OK;
		else {
			describe_error(r, "", "", "");
			v = transient_status(r->status) ? V_RETRY :
			    r->status == 403 && creds_renew(&s->creds,
			    r->creds_gen) ? V_RETRY :
			    r->status == 403 ? V_SKEW : V_FATAL;
		}
		goto out;
	}
	xml_text(r->rbody.data, r->rbody.len, "Code", &code);
	xml_text(r->rbody.data, r->rbody.len, "Message", &msg);
	xml_text(r->rbody.data, r->rbody.len, "RequestId", &reqid);
	strlcpy(r->code, code.data, sizeof(r->code));
	if (r->status >= 200 && r->status < 300 &&
	    xml_root_is(r->rbody.data, r->rbody.len, "Error")) {
		/* a 200 that is an error: CompleteMultipartUpload does this */
		describe_error(r, code.len ? code.data : "Error", msg.data,
		    reqid.data);
		v = transient_code(code.data) ? V_RETRY : V_FATAL;
		goto out;
	}
	if (r->status >= 200 && r->status < 300) {
		v = V_OK;
		if ((r->op == OP_PUT || r->op == OP_PART) && r->has_crc &&
		    r->rcrc != r->crc) {
			snprintf(r->why, sizeof(r->why), "%s: CRC-64 mismatch: "
			    "sent %llu, store has %llu", req_op_name(r),
			    (unsigned long long)r->crc,
			    (unsigned long long)r->rcrc);
			v = V_RETRY;
		} else if (r->op == OP_COMPLETE && r->has_crc &&
		    r->rcrc != r->crc) {
			/* the parts are gone now: ask what was stored */
			snprintf(r->why, sizeof(r->why), "%s: CRC-64 mismatch: "
			    "object is %llu, store says %llu", req_op_name(r),
			    (unsigned long long)r->crc,
			    (unsigned long long)r->rcrc);
			v = V_UNKNOWN;
		} else if (r->op == OP_GET && ((r->has_rlen &&
		    r->got != r->rlen) || (r->has_crc &&
		    r->gotcrc != r->rcrc))) {
			snprintf(r->why, sizeof(r->why), "GetObject: got %llu "
			    "bytes, CRC-64 %llu; the store says %llu bytes, "
			    "CRC-64 %llu", (unsigned long long)r->got,
			    (unsigned long long)r->gotcrc,
			    (unsigned long long)r->rlen,
			    (unsigned long long)r->rcrc);
			v = V_FATAL;
		}
		goto out;
	}
	describe_error(r, code.len ? code.data : "(no code)", msg.data,
	    reqid.data);
	if (r->up->manifest.len && (r->status == 412 ||
	    (r->status == 409 && strstr(code.data, "AlreadyExists") !=
	    NULL))) {
		/* the no-overwrite write found the key taken: by whom? */
		r->exists = 1;
		v = V_UNKNOWN;
		goto out;
	}
	if (r->status == 400 && has_body(r) && !r->has_md5 &&
	    strcasestr(msg.data, "Content-MD5") != NULL) {
		/*
		 * AWS wants Content-MD5 (or an x-amz-checksum-*) on every
		 * upload to a bucket with Object Lock retention: from now on
		 * every body carries it.
		 */
		if (!s->want_md5)
			log_info("the store asks for Content-MD5: sent from now "
			    "on", "op=%s", req_op_name(r));
		s->want_md5 = 1;
		v = req_md5(r) == 0 ? V_RETRY : V_FATAL;
		goto out;
	}
	/* refused keys: renewed ones (a role's, a file's) may do */
	if ((r->status == 403 || strcmp(code.data, "ExpiredToken") == 0 ||
	    strcmp(code.data, "InvalidToken") == 0) &&
	    strcmp(code.data, "RequestTimeTooSkewed") != 0 &&
	    creds_renew(&s->creds, r->creds_gen))
		v = V_RETRY;
	else if (strcmp(code.data, "RequestTimeTooSkewed") == 0 ||
	    (r->status == 403 && (strcasestr(msg.data, "expired") != NULL ||
	    strcmp(code.data, "ExpiredToken") == 0 ||
	    strcmp(code.data, "RequestExpired") == 0)))
		v = V_SKEW;
	else if (transient_status(r->status) || transient_code(code.data))
		v = V_RETRY;
	else
		v = V_FATAL;
out:
	creds_redact(&s->creds, r->why);
	req_cancel(r, s);
	buf_release(&code);
	buf_release(&msg);
	buf_release(&reqid);
	return v;
}

enum req_verdict
store_run_sync(struct store *s, struct req *r, long timeout)
{
	CURLcode rc;

	prepare_attempt(s, r);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, timeout);
	if (timeout > 0 && timeout < s->opt->timeout)
		curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT, timeout);
	rc = curl_easy_perform(r->easy);
	return store_finish(s, r, rc);
}

enum req_verdict
store_run(struct store *s, struct req *r, int retries, long timeout)
{
	enum req_verdict v;

	for (;;) {
		v = store_run_sync(s, r, timeout);
		if (v == V_SKEW && !r->skew_retried && r->date != -1) {
			r->skew_retried = 1;
			s->skew = (long)(r->date - time(NULL));
			continue;
		}
		/* what went to a sink cannot be taken back */
		if ((v != V_RETRY && v != V_UNKNOWN) || r->got > 0 ||
		    r->attempt >= retries)
			return v;
		r->attempt++;
		usleep((useconds_t)(store_backoff(r->attempt,
		    r->retry_after) * 1e6));
	}
}

double
store_backoff(int attempt, long retry_after)
{
	double cap = 0.2 * ldexp(1.0, attempt - 1), t;

	if (cap > 20.0)
		cap = 20.0;
	/* full jitter: anywhere in [0, cap) */
	t = cap * ((double)arc4random() / 4294967296.0);
	if (retry_after > 0) {
		double ra = retry_after > 60 ? 60.0 : (double)retry_after;

		if (ra > t)
			t = ra;
	}
	return t;
}
