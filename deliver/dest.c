/* Destination URLs; see dest.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dest.h"
#include "object.h"
#include "pct.h"

static int
fail(char *why, size_t whylen, const char *fmt, const char *arg)
{
	snprintf(why, whylen, fmt, arg);
	return -1;
}

int
dest_cos_bucket_ok(const char *b)
{
	const char *dash = strrchr(b, '-');
	size_t i, namelen;

	/* name-appid: name 1-50 of [a-z0-9-], no '-' at its ends; digits */
	if (dash == NULL || dash == b || dash[1] == '\0' ||
	    strlen(dash + 1) > 20)
		return 0;
	for (i = 1; dash[i] != '\0'; i++)
		if (!isdigit((unsigned char)dash[i]))
			return 0;
	namelen = (size_t)(dash - b);
	if (namelen > 50 || b[0] == '-' || b[namelen - 1] == '-')
		return 0;
	for (i = 0; i < namelen; i++)
		if (!islower((unsigned char)b[i]) &&
		    !isdigit((unsigned char)b[i]) && b[i] != '-')
			return 0;
	return 1;
}

int
dest_s3_bucket_ok(const char *b)
{
	size_t i, n = strlen(b);
	int alldigitsdots = 1;

	/* 3-63 of [a-z0-9.-], alphanumeric at both ends, no "..", not an IP */
	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];

		if (!islower(c) && !isdigit(c) && c != '.' && c != '-')
			return 0;
		if (c != '.' && !isdigit(c))
			alldigitsdots = 0;
		if (c == '.' && i > 0 && b[i - 1] == '.')
			return 0;
	}
	if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
		return 0;
	return !alldigitsdots;
}

int
dest_region_ok(const char *r)
{
	size_t i, n = strlen(r);

	if (n == 0 || n > 50 || !islower((unsigned char)r[0]) ||
	    r[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)r[i]) &&
		    !isdigit((unsigned char)r[i]) && r[i] != '-')
			return 0;
	return 1;
}

/* Decode a URL component into a new string; NULL on a bad escape or NUL. */
static char *
decode(const char *s, size_t n)
{
	struct buf b = BUF_INIT;

	if (pct_decode(&b, s, n) < 0 || memchr(b.data, '\0', b.len) != NULL) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static int
parse_file(struct dest *d, const char *rest, char *why, size_t whylen)
{
	const char *path;

	if (strncmp(rest, "localhost/", 10) == 0)
		rest += 9;
	if (rest[0] != '/')
		return fail(why, whylen, "file URL must name an absolute "
		    "directory: file:///ABSOLUTE/DIR/ (got host part \"%.60s\")",
		    rest);
	if (strchr(rest, '?') != NULL || strchr(rest, '#') != NULL)
		return fail(why, whylen, "file URL may not have a query or "
		    "fragment: %.100s", rest);
	if ((d->dir = decode(rest, strlen(rest))) == NULL)
		return fail(why, whylen, "bad %%-escape in the file URL: %.100s",
		    rest);
	path = d->dir;
	if (path[strlen(path) - 1] != '/')
		return fail(why, whylen, "the directory must end with '/': "
		    "file://%.200s/", path);
	return 0;
}

/* The query: only region=R is known. */
static int
parse_query(struct dest *d, const char *q, char *why, size_t whylen)
{
	const char *p, *amp;
	size_t n;

	for (p = q; *p != '\0'; p = *amp ? amp + 1 : amp) {
		amp = p + strcspn(p, "&");
		n = (size_t)(amp - p);
		if (n == 0)
			continue;
		if (n >= 7 && strncmp(p, "region=", 7) == 0) {
			free(d->region);
			if ((d->region = decode(p + 7, n - 7)) == NULL)
				return fail(why, whylen, "%s",
				    "bad %-escape in region=");
			if (!dest_region_ok(d->region))
				return fail(why, whylen, "bad region name "
				    "\"%.60s\" (lower-case letters, digits and "
				    "'-', e.g. ap-guangzhou)", d->region);
		} else {
			char param[64];

			snprintf(param, sizeof(param), "%.*s",
			    (int)(n > 60 ? 60 : n), p);
			return fail(why, whylen, "unknown URL parameter \"%s\" "
			    "(only region= is known)", param);
		}
	}
	return 0;
}

static int
parse_bucket_url(struct dest *d, const char *rest, char *why, size_t whylen)
{
	size_t blen = strcspn(rest, "/?#");
	const char *path = rest + blen, *q;
	size_t plen;
	const char *kwhy;

	if (strchr(rest, '#') != NULL)
		return fail(why, whylen, "%s", "a destination URL has no "
		    "fragment ('#')");
	d->bucket = xstrndup(rest, blen);
	if (d->kind == DEST_COS && !dest_cos_bucket_ok(d->bucket))
		return fail(why, whylen, "bad COS bucket \"%.80s\": it is "
		    "NAME-APPID, lower-case letters, digits and '-', e.g. "
		    "examplebucket-1250000000", d->bucket);
	if (d->kind == DEST_S3 && !dest_s3_bucket_ok(d->bucket))
		return fail(why, whylen, "bad S3 bucket name \"%.80s\" "
		    "(3-63 lower-case letters, digits, '.' and '-')",
		    d->bucket);
	q = strchr(path, '?');
	plen = q ? (size_t)(q - path) : strlen(path);
	if (plen > 0)
		path++, plen--;			/* the '/' after the bucket */
	if ((d->prefix = decode(path, plen)) == NULL)
		return fail(why, whylen, "%s", "bad %-escape in the prefix");
	plen = strlen(d->prefix);
	if (plen > 0 && d->prefix[plen - 1] != '/')
		return fail(why, whylen, "the delivery path prefix must be "
		    "empty or end with '/': \"%.200s\" (add a '/')", d->prefix);
	if (plen > 0 && (kwhy = object_key_check(d->prefix, plen - 1)) != NULL)
		return fail(why, whylen, "bad delivery path prefix: %s", kwhy);
	if (q != NULL && parse_query(d, q + 1, why, whylen) < 0)
		return -1;
	return 0;
}

int
dest_parse(struct dest *d, const char *url, char *why, size_t whylen)
{
	memset(d, 0, sizeof(*d));
	if (strncmp(url, "file://", 7) == 0) {
		d->kind = DEST_FILE;
		return parse_file(d, url + 7, why, whylen);
	}
	if (strncmp(url, "cos://", 6) == 0) {
		d->kind = DEST_COS;
		return parse_bucket_url(d, url + 6, why, whylen);
	}
	if (strncmp(url, "s3://", 5) == 0) {
		d->kind = DEST_S3;
		return parse_bucket_url(d, url + 5, why, whylen);
	}
	return fail(why, whylen, "unknown destination \"%.100s\": expected "
	    "file:///DIR/, cos://BUCKET-APPID/PREFIX/?region=R or "
	    "s3://BUCKET/PREFIX/?region=R", url);
}

static int
host_ok(const char *h, size_t n)
{
	const char *colon, *close = memchr(h, ']', n);
	size_t i, plen;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && strchr("-.:[]_", h[i]) ==
		    NULL)
			return 0;
	/* a port, after the host (or after "[IPv6]"): 1 to 5 digits */
	colon = close != NULL ? (close + 1 < h + n && close[1] == ':' ?
	    close + 1 : NULL) : memchr(h, ':', n);
	if (colon == NULL)
		return close == NULL || close == h + n - 1;
	plen = n - (size_t)(colon + 1 - h);
	if (plen == 0 || plen > 5 || colon == h)
		return 0;
	for (i = 1; i <= plen; i++)
		if (!isdigit((unsigned char)colon[i]))
			return 0;
	return 1;
}

/*
 * An IP address or "localhost" (with or without a port) has no DNS names
 * below it: a bucket in front of it ("bucket.127.0.0.1") cannot resolve.
 * The AWS SDKs use path-style addressing for such an endpoint; so do we.
 */
static int
needs_path_style(const char *h, size_t n)
{
	size_t i;

	if (n > 0 && h[0] == '[')
		return 1;			/* [IPv6]:port */
	for (i = 0; i < n && h[i] != ':'; i++)
		if (!isdigit((unsigned char)h[i]) && h[i] != '.')
			break;
	if (i > 0 && (i == n || h[i] == ':'))
		return 1;			/* dotted digits: IPv4 */
	return (n == 9 || (n > 9 && h[9] == ':')) &&
	    strncasecmp(h, "localhost", 9) == 0;
}

int
dest_endpoint(struct dest *d, const char *endpoint, int path_style,
    char *why, size_t whylen)
{
	struct buf host = BUF_INIT, base = BUF_INIT;
	const char *h, *p;
	size_t hlen;

	d->path_style = path_style;
	if (endpoint != NULL) {
		if (strncmp(endpoint, "https://", 8) == 0)
			d->scheme = xstrdup("https");
		else if (strncmp(endpoint, "http://", 7) == 0)
			d->scheme = xstrdup("http");
		else
			return fail(why, whylen, "--endpoint must be an "
			    "http:// or https:// URL: \"%.100s\"", endpoint);
		h = endpoint + strlen(d->scheme) + 3;
		hlen = strcspn(h, "/?#");
		p = h + hlen;
		if (!host_ok(h, hlen) || (*p != '\0' && *p != '/'))
			return fail(why, whylen, "bad --endpoint \"%.100s\": "
			    "expected SCHEME://HOST[:PORT][/PATH]", endpoint);
		d->endpoint_path = xstrdup(p);
		hlen = strlen(d->endpoint_path);
		if (hlen > 0 && d->endpoint_path[hlen - 1] == '/')
			d->endpoint_path[hlen - 1] = '\0';
		if (!path_style && needs_path_style(h, (size_t)(p - h)))
			path_style = d->path_style = d->auto_path_style = 1;
		if (!path_style)
			buf_addf(&host, "%s.", d->bucket);
		buf_add(&host, h, (size_t)(p - h));
	} else {
		d->scheme = xstrdup("https");
		d->endpoint_path = xstrdup("");
		if (d->kind == DEST_COS && d->region == NULL)
			return fail(why, whylen, "%s", "a cos:// destination "
			    "needs ?region=REGION (or --endpoint URL)");
		if (!path_style)
			buf_addf(&host, "%s.", d->bucket);
		if (d->kind == DEST_COS)
			buf_addf(&host, "cos.%s.myqcloud.com", d->region);
		else
			buf_addf(&host, "s3.%s.amazonaws.com",
			    d->region ? d->region : "us-east-1");
	}
	if (d->region == NULL && d->kind == DEST_S3)
		d->region = xstrdup("us-east-1");
	d->host = buf_detach(&host, NULL);
	buf_addf(&base, "%s://%s%s", d->scheme, d->host, d->endpoint_path);
	if (path_style)
		buf_addf(&base, "/%s", d->bucket);
	d->base = buf_detach(&base, NULL);
	return 0;
}

void
dest_release(struct dest *d)
{
	free(d->dir);
	free(d->bucket);
	free(d->prefix);
	free(d->region);
	free(d->scheme);
	free(d->host);
	free(d->base);
	free(d->endpoint_path);
	memset(d, 0, sizeof(*d));
}
