/* The CVM instance metadata service's role keys; see metadata.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "metadata.h"

#define CRED_PATH	"/latest/meta-data/cam/security-credentials/"
/* A role list or a key document is small; more is not an answer. */
#define MAX_ANSWER	(64 * 1024)

int
metadata_role_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_+=,.@-") == n;
}

void
role_keys_wipe(struct role_keys *k)
{
	char **p[] = { &k->id, &k->secret, &k->token };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (*p[i] != NULL) {
			explicit_bzero(*p[i], strlen(*p[i]));
			free(*p[i]);
		}
	}
	memset(k, 0, sizeof(*k));
}

static size_t
on_answer(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > MAX_ANSWER)
		return 0;	/* curl stops: a write error */
	buf_add(b, p, size * n);
	return size * n;
}

/* GET base + CRED_PATH + rest into out: 0, or -1 with why. */
static int
get(const char *rest, struct buf *out, char *why, size_t whylen)
{
	const char *base = getenv(METADATA_URL_ENV);
	struct buf url = BUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	long st = 0;
	CURLcode rc;
	CURL *e;

	if (base == NULL || *base == '\0')
		base = METADATA_DEFAULT_URL;
	buf_addstr(&url, base);
	while (url.len > 0 && url.data[url.len - 1] == '/')
		buf_setlen(&url, url.len - 1);
	buf_addf(&url, "%s%s", CRED_PATH, rest);
	if ((e = curl_easy_init()) == NULL) {
		snprintf(why, whylen, "instance-role: libcurl failed");
		buf_release(&url);
		return -1;
	}
	curl_easy_setopt(e, CURLOPT_URL, url.data);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_PROXY, "");	/* never via a proxy */
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 2L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(e);
	if (rc != CURLE_OK)
		snprintf(why, whylen, "instance-role: %s: %s", url.data,
		    errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else if (st != 200)
		snprintf(why, whylen, "instance-role: %s: HTTP %ld%s", url.data,
		    st, st == 404 ? " (no such role on this instance?)" : "");
	buf_release(&url);
	return rc == CURLE_OK && st == 200 ? 0 : -1;
}

/* --- a flat JSON object ---------------------------------------------- */

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* A JSON string at p (after its '"') into out; past its end, or NULL. */
static const char *
json_string(const char *p, struct buf *out)
{
	for (; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p != '\\') {
			buf_addch(out, *p);
			continue;
		}
		switch (*++p) {
		case '"': case '\\': case '/': buf_addch(out, *p); break;
		case 'n': buf_addch(out, '\n'); break;
		case 't': buf_addch(out, '\t'); break;
		case 'r': buf_addch(out, '\r'); break;
		case 'b': buf_addch(out, '\b'); break;
		case 'f': buf_addch(out, '\f'); break;
		default: return NULL;	/* \u: no key or token has one */
		}
	}
	return p + 1;
}

/*
 * The value of the member name of the flat object json into out (a
 * string's text, or a number or literal as written): 1, 0 when absent,
 * -1 when json is not such an object.
 */
static int
json_member(const char *json, const char *name, struct buf *out)
{
	struct buf k = BUF_INIT, v = BUF_INIT;
	const char *p = skip_ws(json);
	int found = 0;
	size_t n;

	if (*p++ != '{')
		return -1;
	for (p = skip_ws(p); *p != '}'; p = skip_ws(p)) {
		buf_reset(&k);
		buf_reset(&v);
		if (*p != '"' || (p = json_string(p + 1, &k)) == NULL ||
		    *(p = skip_ws(p)) != ':')
			goto bad;
		p = skip_ws(p + 1);
		if (*p == '"') {
			if ((p = json_string(p + 1, &v)) == NULL)
				goto bad;
		} else if ((n = strspn(p, "0123456789+-.eEtruefalsn")) > 0) {
			buf_add(&v, p, n);
			p += n;
		} else
			goto bad;
		if (!found && strcmp(k.data, name) == 0) {
			buf_add(out, v.data, v.len);
			found = 1;
		}
		p = skip_ws(p);
		if (*p == ',')
			p++;
		else if (*p != '}')
			goto bad;
	}
	explicit_bzero(v.data, v.len);
	buf_release(&k);
	buf_release(&v);
	return found;
bad:
	explicit_bzero(v.data, v.len);
	buf_release(&k);
	buf_release(&v);
	return -1;
}

/* A copy of member name, or NULL. */
static char *
member_dup(const char *json, const char *name)
{
	struct buf v = BUF_INIT;
	char *s = NULL;

	if (json_member(json, name, &v) == 1 && v.len > 0)
		s = xstrdup(v.data);
	explicit_bzero(v.data, v.len);
	buf_release(&v);
	return s;
}

/* ExpiredTime, or else Expiration (ISO 8601, UTC); 0 when neither. */
static time_t
expiry_of(const char *json)
{
	struct buf v = BUF_INIT;
	struct tm tm;
	time_t t = 0;
	long long n;
	char *e;

	if (json_member(json, "ExpiredTime", &v) == 1) {
		n = strtoll(v.data, &e, 10);
		if (*e == '\0' && n > 0)
			t = (time_t)n;
	}
	buf_reset(&v);
	if (t == 0 && json_member(json, "Expiration", &v) == 1) {
		memset(&tm, 0, sizeof(tm));
		if ((e = strptime(v.data, "%Y-%m-%dT%H:%M:%S", &tm)) != NULL &&
		    (*e == 'Z' || *e == '\0'))
			t = timegm(&tm);
	}
	buf_release(&v);
	return t;
}

int
metadata_parse_keys(const char *json, struct role_keys *k, char *why,
    size_t whylen)
{
	struct buf code = BUF_INIT;
	int rc = json_member(json, "Code", &code);

	memset(k, 0, sizeof(*k));
	if (rc < 0) {
		snprintf(why, whylen, "instance-role: the metadata service's "
		    "answer is not a JSON object");
		buf_release(&code);
		return -1;
	}
	if (rc == 1 && strcmp(code.data, "Success") != 0) {
		snprintf(why, whylen, "instance-role: the metadata service "
		    "says Code %.60s", code.data);
		buf_release(&code);
		return -1;
	}
	buf_release(&code);
	k->id = member_dup(json, "TmpSecretId");
	k->secret = member_dup(json, "TmpSecretKey");
	k->token = member_dup(json, "Token");
	k->expires = expiry_of(json);
	if (k->id == NULL || k->secret == NULL || k->token == NULL ||
	    k->expires == 0) {
		snprintf(why, whylen, "instance-role: the metadata service's "
		    "answer lacks TmpSecretId, TmpSecretKey, Token or "
		    "ExpiredTime");
		role_keys_wipe(k);
		return -1;
	}
	return 0;
}

/* The first role the service lists into *role. */
static int
first_role(char **role, char *why, size_t whylen)
{
	struct buf b = BUF_INIT;
	size_t n;

	if (get("", &b, why, whylen) < 0) {
		buf_release(&b);
		return -1;
	}
	n = strcspn(b.data, "\r\n");
	b.data[n] = '\0';
	if (!metadata_role_ok(b.data)) {
		snprintf(why, whylen, "instance-role: the metadata service "
		    "lists no role%s (is one bound to this instance?)",
		    n > 0 ? " name that CAM allows" : "");
		buf_release(&b);
		return -1;
	}
	*role = xstrdup(b.data);
	buf_release(&b);
	return 0;
}

int
metadata_role_keys(char **role, struct role_keys *k, char *why,
    size_t whylen)
{
	struct buf b = BUF_INIT;
	int rc;

	memset(k, 0, sizeof(*k));
	if (*role == NULL && first_role(role, why, whylen) < 0)
		return -1;
	if ((rc = get(*role, &b, why, whylen)) == 0)
		rc = metadata_parse_keys(b.data, k, why, whylen);
	explicit_bzero(b.data, b.len);
	buf_release(&b);
	return rc;
}
