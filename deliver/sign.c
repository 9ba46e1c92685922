/*
 * Request signatures: COS native (q-sign-algorithm=sha1) and AWS SigV4.
 * See sign.h for the interface.  Both schemes canonicalize the same
 * decoded description of a request; they differ in how names and values
 * are encoded, sorted and joined, which is what struct canon_rule says.
 */
#include <ctype.h>
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "digest.h"
#include "pct.h"
#include "sign.h"

/* A name and value after a scheme's encoding, owned. */
struct canon_kv {
	char	*name;
	char	*value;
};

enum canon_rule {
	COS_PARAM,	/* encode, then lower-case the name; encode the value */
	COS_HEADER,	/* as COS_PARAM, value trimmed first */
	V4_PARAM,	/* encode name and value, case kept */
	V4_HEADER,	/* lower-case name; value trimmed, space runs folded */
};

/* Is c optional white space around a header value? */
static int
is_ows(int c)
{
	return c == ' ' || c == '\t';
}

static void
add_lower(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		buf_addch(b, tolower((unsigned char)*s));
}

static void
lower_from(struct buf *b, size_t from)
{
	for (; from < b->len; from++)
		b->data[from] = tolower((unsigned char)b->data[from]);
}

/*
 * A header value as the server will see it: HTTP drops the white space
 * around it.  SigV4 also folds inner runs of spaces into one.
 */
static void
add_trimmed(struct buf *b, const char *v, int fold)
{
	const char *end;

	while (is_ows((unsigned char)*v))
		v++;
	end = v + strlen(v);
	while (end > v && is_ows((unsigned char)end[-1]))
		end--;
	for (; v < end; v++) {
		if (fold && is_ows((unsigned char)*v)) {
			buf_addch(b, ' ');
			while (v + 1 < end && is_ows((unsigned char)v[1]))
				v++;
		} else
			buf_addch(b, *v);
	}
}

static void
canon_one(struct canon_kv *c, const struct sign_kv *kv, enum canon_rule rule)
{
	struct buf name = BUF_INIT, value = BUF_INIT, tmp = BUF_INIT;
	const char *v = kv->value != NULL ? kv->value : "";

	switch (rule) {
	case COS_PARAM:
	case COS_HEADER:
		pct_encode_uri(&name, kv->name, strlen(kv->name), 0);
		lower_from(&name, 0);
		if (rule == COS_HEADER) {
			add_trimmed(&tmp, v, 0);
			pct_encode_uri(&value, tmp.data, tmp.len, 0);
		} else
			pct_encode_uri(&value, v, strlen(v), 0);
		break;
	case V4_PARAM:
		pct_encode_uri(&name, kv->name, strlen(kv->name), 0);
		pct_encode_uri(&value, v, strlen(v), 0);
		break;
	case V4_HEADER:
		add_lower(&name, kv->name);
		add_trimmed(&value, v, 1);
		break;
	}
	buf_release(&tmp);
	/* buf_detach of an empty buf still gives an allocated "" */
	c->name = buf_detach(&name, NULL);
	c->value = buf_detach(&value, NULL);
}

static int
canon_cmp(const void *a, const void *b)
{
	const struct canon_kv *x = a, *y = b;
	int c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->value, y->value);
}

/* Encode and sort n pairs; the caller frees with canon_free. */
static struct canon_kv *
canon_list(const struct sign_kv *kv, size_t n, enum canon_rule rule)
{
	struct canon_kv *c;
	size_t i;

	c = xreallocarray(NULL, n ? n : 1, sizeof(*c));
	for (i = 0; i < n; i++)
		canon_one(&c[i], &kv[i], rule);
	qsort(c, n, sizeof(*c), canon_cmp);
	return c;
}

static void
canon_free(struct canon_kv *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(c[i].name);
		free(c[i].value);
	}
	free(c);
}

/* "a;b;c" */
static void
add_name_list(struct buf *b, const struct canon_kv *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addch(b, ';');
		buf_addstr(b, c[i].name);
	}
}

/* "a=1&b=2" */
static void
add_pair_list(struct buf *b, const struct canon_kv *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addch(b, '&');
		buf_addf(b, "%s=%s", c[i].name, c[i].value);
	}
}

static int
has_header(const struct sign_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return 1;
	return 0;
}

/* The caller's headers plus those the signer adds, in one array. */
static struct sign_kv *
headers_with(const struct sign_request *req, const struct sign_kv *extra,
    size_t nextra, size_t *np)
{
	struct sign_kv *h;
	size_t i;

	h = xreallocarray(NULL, req->nheaders + nextra + 1, sizeof(*h));
	for (i = 0; i < req->nheaders; i++) {
		if (req->headers[i].name == NULL)
			errx(1, "sign: header %zu has no name", i);
		h[i] = req->headers[i];
	}
	for (i = 0; i < nextra; i++) {
		/* the signer's own headers: a second copy would be sent */
		if (has_header(req, extra[i].name))
			errx(1, "sign: header %s is the signer's to add",
			    extra[i].name);
		h[req->nheaders + i] = extra[i];
	}
	*np = req->nheaders + nextra;
	return h;
}

static int
has_token(const struct sign_creds *creds)
{
	return creds->token != NULL && creds->token[0] != '\0';
}

/* The path as signed, decoded or encoded: always with its leading '/'. */
static void
add_path(struct buf *b, const struct sign_request *req, int encode)
{
	const char *p = req->path != NULL ? req->path : "";

	if (*p != '/')
		buf_addch(b, '/');
	if (encode)
		sign_encode_path(b, p);
	else
		buf_addstr(b, p);
}

/*
 * Append text to a trace, with the session token (raw or percent-encoded)
 * replaced by "<token>": a trace may end up in a log.
 */
static void
add_redacted(struct buf *trace, const char *text,
    const struct sign_creds *creds)
{
	struct buf enc = BUF_INIT;
	const char *hit, *hit2;
	size_t rawlen;

	if (!has_token(creds)) {
		buf_addstr(trace, text);
		return;
	}
	rawlen = strlen(creds->token);
	pct_encode_uri(&enc, creds->token, rawlen, 0);
	for (;;) {
		hit = strstr(text, creds->token);
		hit2 = strstr(text, enc.data);
		if (hit2 != NULL && (hit == NULL || hit2 < hit)) {
			buf_add(trace, text, hit2 - text);
			text = hit2 + enc.len;
		} else if (hit != NULL) {
			buf_add(trace, text, hit - text);
			text = hit + rawlen;
		} else
			break;
		buf_addstr(trace, "<token>");
	}
	buf_addstr(trace, text);
	buf_release(&enc);
}

static void
add_line(struct sign_headers *out, const char *name, const char *value)
{
	struct buf line = BUF_INIT;

	buf_addf(&line, "%s: %s", name, value);
	out->line = xreallocarray(out->line, out->n + 1, sizeof(*out->line));
	out->line[out->n++] = buf_detach(&line, NULL);
}

void
sign_headers_free(struct sign_headers *out)
{
	size_t i;

	for (i = 0; i < out->n; i++)
		free(out->line[i]);
	free(out->line);
	out->line = NULL;
	out->n = 0;
}

const char *
sign_headers_get(const struct sign_headers *out, const char *name)
{
	size_t i, len = strlen(name);
	const char *v;

	for (i = 0; i < out->n; i++) {
		if (strncasecmp(out->line[i], name, len) != 0 ||
		    out->line[i][len] != ':')
			continue;
		for (v = out->line[i] + len + 1; *v == ' '; v++)
			;
		return v;
	}
	return NULL;
}

/*
 * COS native signature, per COS's "Request Signature" documentation:
 *	SignKey = hex(HMAC-SHA1(SecretKey, KeyTime))
 *	HttpString = method \n path \n params \n headers \n
 *	StringToSign = sha1 \n KeyTime \n hex(SHA1(HttpString)) \n
 *	Signature = hex(HMAC-SHA1(SignKey as hex text, StringToSign))
 */
void
sign_cos_authorization(struct buf *auth, const struct sign_creds *creds,
    const struct sign_request *req, time_t start, time_t end)
{
	struct buf keytime = BUF_INIT, http = BUF_INIT, sts = BUF_INIT;
	struct sign_kv token = { "x-cos-security-token", creds->token };
	struct sign_kv *hdrs;
	struct canon_kv *params, *headers;
	unsigned char mac[SHA1_LEN];
	char signkey[SHA1_HEX_SIZE], hash[SHA1_HEX_SIZE], sig[SHA1_HEX_SIZE];
	size_t nhdrs;

	hdrs = headers_with(req, &token, has_token(creds), &nhdrs);
	params = canon_list(req->query, req->nquery, COS_PARAM);
	headers = canon_list(hdrs, nhdrs, COS_HEADER);

	buf_addf(&keytime, "%lld;%lld", (long long)start, (long long)end);
	hmac_sha1(mac, creds->secret, strlen(creds->secret), keytime.data,
	    keytime.len);
	hex_format(signkey, mac, SHA1_LEN);

	add_lower(&http, req->method);
	buf_addch(&http, '\n');
	add_path(&http, req, 0);
	buf_addch(&http, '\n');
	add_pair_list(&http, params, req->nquery);
	buf_addch(&http, '\n');
	add_pair_list(&http, headers, nhdrs);
	buf_addch(&http, '\n');

	sha1_hex(hash, http.data, http.len);
	buf_addf(&sts, "sha1\n%s\n%s\n", keytime.data, hash);
	hmac_sha1(mac, signkey, strlen(signkey), sts.data, sts.len);
	hex_format(sig, mac, SHA1_LEN);

	buf_addf(auth, "q-sign-algorithm=sha1&q-ak=%s&q-sign-time=%s"
	    "&q-key-time=%s&q-header-list=", creds->id, keytime.data,
	    keytime.data);
	add_name_list(auth, headers, nhdrs);
	buf_addstr(auth, "&q-url-param-list=");
	add_name_list(auth, params, req->nquery);
	buf_addf(auth, "&q-signature=%s", sig);

	if (req->trace != NULL) {
		buf_addstr(req->trace, "HttpString:\n");
		add_redacted(req->trace, http.data, creds);
		buf_addf(req->trace, "\nStringToSign:\n%s", sts.data);
	}

	explicit_bzero(mac, sizeof(mac));
	explicit_bzero(signkey, sizeof(signkey));
	canon_free(params, req->nquery);
	canon_free(headers, nhdrs);
	free(hdrs);
	buf_release(&keytime);
	buf_release(&http);
	buf_release(&sts);
}

void
sign_cos(struct sign_headers *out, const struct sign_creds *creds,
    const struct sign_request *req, time_t start, time_t end)
{
	struct buf auth = BUF_INIT;

	sign_cos_authorization(&auth, creds, req, start, end);
	if (has_token(creds))
		add_line(out, "x-cos-security-token", creds->token);
	add_line(out, "Authorization", auth.data);
	buf_release(&auth);
}

/* The x-amz-date form, 20130524T000000Z; the first 8 are the date. */
static void
format_amz_date(char out[17], time_t now)
{
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		errx(1, "sign: cannot format time %lld", (long long)now);
}

/* Everything SigV4 derives from one request, owned. */
struct v4 {
	char		 date[17];
	const char	*service;
	const char	*payload;
	struct buf	 scope;		/* 20130524/us-east-1/s3/aws4_request */
	struct buf	 signed_headers;
	struct buf	 canonical;
	struct buf	 sts;
	char		 sig[SHA256_HEX_SIZE];
};

static void
v4_canonical(struct v4 *v, const struct sign_request *req,
    const struct sign_kv *hdrs, size_t nhdrs)
{
	struct canon_kv *params, *headers;
	struct buf *c = &v->canonical;
	size_t i;

	params = canon_list(req->query, req->nquery, V4_PARAM);
	headers = canon_list(hdrs, nhdrs, V4_HEADER);
	for (i = 0; req->method[i] != '\0'; i++)
		buf_addch(c, toupper((unsigned char)req->method[i]));
	buf_addch(c, '\n');
	add_path(c, req, 1);
	buf_addch(c, '\n');
	add_pair_list(c, params, req->nquery);
	buf_addch(c, '\n');
	for (i = 0; i < nhdrs; i++)
		buf_addf(c, "%s:%s\n", headers[i].name, headers[i].value);
	buf_addch(c, '\n');
	add_name_list(&v->signed_headers, headers, nhdrs);
	buf_addf(c, "%s\n%s", v->signed_headers.data, v->payload);
	canon_free(params, req->nquery);
	canon_free(headers, nhdrs);
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), ...)) */
static void
v4_signature(struct v4 *v, const struct sign_creds *creds,
    const char *region)
{
	struct buf k = BUF_INIT;
	unsigned char key[SHA256_LEN], mac[SHA256_LEN];
	char hash[SHA256_HEX_SIZE];

	sha256_hex(hash, v->canonical.data, v->canonical.len);
	buf_addf(&v->sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", v->date,
	    v->scope.data, hash);

	buf_addf(&k, "AWS4%s", creds->secret);
	hmac_sha256(key, k.data, k.len, v->date, 8);
	explicit_bzero(k.data, k.len);
	buf_release(&k);
	hmac_sha256(key, key, SHA256_LEN, region, strlen(region));
	hmac_sha256(key, key, SHA256_LEN, v->service, strlen(v->service));
	hmac_sha256(key, key, SHA256_LEN, "aws4_request", 12);
	hmac_sha256(mac, key, SHA256_LEN, v->sts.data, v->sts.len);
	hex_format(v->sig, mac, SHA256_LEN);
	explicit_bzero(key, sizeof(key));
}

static void
v4_release(struct v4 *v)
{
	buf_release(&v->scope);
	buf_release(&v->signed_headers);
	buf_release(&v->canonical);
	buf_release(&v->sts);
}

/* Fills v; the headers the signer adds are x-amz-date and friends. */
static void
v4_sign(struct v4 *v, const struct sign_creds *creds,
    const struct sign_request *req, const struct sign_v4_scope *scope,
    const char *payload_sha256, time_t now)
{
	struct sign_kv extra[3], *hdrs;
	size_t nextra = 0, nhdrs;

	memset(v, 0, sizeof(*v));
	buf_init(&v->scope, 64);
	buf_init(&v->signed_headers, 128);
	buf_init(&v->canonical, 512);
	buf_init(&v->sts, 256);
	format_amz_date(v->date, now);
	v->service = scope->service != NULL ? scope->service : "s3";
	v->payload = payload_sha256 != NULL ? payload_sha256 :
	    "UNSIGNED-PAYLOAD";
	buf_addf(&v->scope, "%.8s/%s/%s/aws4_request", v->date,
	    scope->region, v->service);

	extra[nextra++] = (struct sign_kv){ "x-amz-date", v->date };
	extra[nextra++] = (struct sign_kv){ "x-amz-content-sha256",
	    v->payload };
	if (has_token(creds))
		extra[nextra++] = (struct sign_kv){ "x-amz-security-token",
		    creds->token };
	hdrs = headers_with(req, extra, nextra, &nhdrs);
	v4_canonical(v, req, hdrs, nhdrs);
	free(hdrs);
	v4_signature(v, creds, scope->region);
	if (req->trace != NULL) {
		buf_addstr(req->trace, "CanonicalRequest:\n");
		add_redacted(req->trace, v->canonical.data, creds);
		buf_addf(req->trace, "\nStringToSign:\n%s\n", v->sts.data);
	}
}

static void
v4_add_authorization(struct buf *auth, const struct v4 *v,
    const struct sign_creds *creds)
{
	buf_addf(auth, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
	    "Signature=%s", creds->id, v->scope.data, v->signed_headers.data,
	    v->sig);
}

void
sign_v4_authorization(struct buf *auth, const struct sign_creds *creds,
    const struct sign_request *req, const struct sign_v4_scope *scope,
    const char *payload_sha256, time_t now)
{
	struct v4 v;

	v4_sign(&v, creds, req, scope, payload_sha256, now);
	v4_add_authorization(auth, &v, creds);
	v4_release(&v);
}

void
sign_v4(struct sign_headers *out, const struct sign_creds *creds,
    const struct sign_request *req, const struct sign_v4_scope *scope,
    const char *payload_sha256, time_t now)
{
	struct buf auth = BUF_INIT;
	struct v4 v;

	v4_sign(&v, creds, req, scope, payload_sha256, now);
	v4_add_authorization(&auth, &v, creds);
	add_line(out, "x-amz-date", v.date);
	add_line(out, "x-amz-content-sha256", v.payload);
	if (has_token(creds))
		add_line(out, "x-amz-security-token", creds->token);
	add_line(out, "Authorization", auth.data);
	buf_release(&auth);
	v4_release(&v);
}

void
sign_encode_path(struct buf *b, const char *path)
{
	pct_encode_uri(b, path, strlen(path), 1);
}

void
sign_encode_query(struct buf *b, const struct sign_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addch(b, '&');
		pct_encode_uri(b, kv[i].name, strlen(kv[i].name), 0);
		if (kv[i].value != NULL) {
			buf_addch(b, '=');
			pct_encode_uri(b, kv[i].value, strlen(kv[i].value), 0);
		}
	}
}
