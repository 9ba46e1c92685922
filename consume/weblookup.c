/* Lookup over Pulsar's web service with libcurl; see weblookup.h. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "pct.h"
#include "stop.h"
#include "topic.h"
#include "weblookup.h"

#define MAX_BODY	(1024 * 1024)

/*
 * Whether the web service has given an HTTP answer in this run: once it
 * has, a connection that it accepts and closes without a word is a
 * broker restarting (or a proxy in front of one), to retry, not the
 * wrong port.  One web service per process.
 */
static int answered;

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > MAX_BODY)
		return 0;
	buf_add(b, p, size * n);
	return size * n;
}

/* A stop asked during a transfer ends it (see stop.h), unless ending. */
static int
check_stop(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	const struct web *w = arg;

	return stop_asked() && !(w->ending != NULL && *w->ending);
}

/* The curl errors that retrying cannot mend, with what to do. */
static const char *
curl_hint(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return " (give its CA with --ca-file)";
	case CURLE_SSL_CONNECT_ERROR:
		return " (is it a TLS port? https:// needs one)";
	case CURLE_GOT_NOTHING:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return " (not a web service port? http:// and https:// are "
		    "for the web service, pulsar:// for the broker's port)";
	case CURLE_COULDNT_RESOLVE_HOST:
		return " (check --url's host)";
	default:
		return NULL;
	}
}

/*
 * GET base+path; the body in *body.  WEB_OK on 200, WEB_FATAL on 401 and
 * 403 (a bad token does not get better), on 404 and on the curl errors of
 * curl_hint(), WEB_RETRY otherwise.
 */
static int
get(const struct web *w, const char *path, struct buf *body)
{
	struct curl_slist *hdr = NULL;
	struct buf url = BUF_INIT, auth = BUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *h;
	CURLcode rc;
	const char *hint;
	long status = 0;
	int ret;

	if ((h = curl_easy_init()) == NULL)
		errx(EXIT_FAIL, "libcurl: cannot start");
	buf_addf(&url, "%s%s", w->base, path);
	if (w->token != NULL) {
		buf_addf(&auth, "Authorization: Bearer %s", w->token);
		hdr = curl_slist_append(hdr, auth.data);
	}
	hdr = curl_slist_append(hdr, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url.data);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	/* the redirect names another broker of the same cluster */
	curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(w->timeout * 1000));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, check_stop);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)w);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (w->ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, w->ca_file);
	if (net_insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 0)
		answered = 1;
	if (rc != CURLE_OK) {
		hint = curl_hint(rc);
		if (answered && (rc == CURLE_GOT_NOTHING ||
		    rc == CURLE_WEIRD_SERVER_REPLY))
			hint = NULL;
		failure_set(w->fail, hint != NULL, "%s%s: %s%s", w->base, path,
		    errbuf[0] ? errbuf : curl_easy_strerror(rc),
		    hint ? hint : "");
		ret = hint != NULL ? WEB_FATAL : WEB_RETRY;
	} else if (status == 200)
		ret = WEB_OK;
	else {
		ret = status == 401 || status == 403 || status == 404 ?
		    WEB_FATAL : WEB_RETRY;
		failure_set(w->fail, ret == WEB_FATAL, "%s%s: HTTP %ld%s",
		    w->base, path, status, status == 401 || status == 403 ?
		    " (check the token: --token-file or PULSAR_TOKEN)" :
		    status == 404 ? " (no such topic?)" : "");
		w->fail->auth = status == 401 || status == 403;
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	buf_release(&url);
	if (auth.len)
		explicit_bzero(auth.data, auth.len);
	buf_release(&auth);
	return ret;
}

/* The string value of "name" in a flat JSON object; malloc'd or NULL. */
static char *
json_string(const char *js, const char *name)
{
	struct buf key = BUF_INIT;
	const char *p, *e;
	char *v = NULL;

	buf_addf(&key, "\"%s\"", name);
	if ((p = strstr(js, key.data)) != NULL) {
		p += key.len;
		p += strspn(p, " \t\r\n");
		if (*p == ':') {
			p++;
			p += strspn(p, " \t\r\n");
			if (*p == '"' && (e = strchr(p + 1, '"')) != NULL)
				v = xstrndup(p + 1, (size_t)(e - p - 1));
		}
	}
	buf_release(&key);
	return v;
}

static void
topic_path(struct buf *b, const struct topic *t)
{
	buf_addf(b, "%s/", t->domain);
	pct_encode_uri(b, t->tenant, strlen(t->tenant), 0);
	buf_addch(b, '/');
	pct_encode_uri(b, t->ns, strlen(t->ns), 0);
	buf_addch(b, '/');
	pct_encode_uri(b, t->local, strlen(t->local), 0);
}

int
web_partitions(const struct web *w, const struct topic *t, unsigned *np)
{
	struct buf path = BUF_INIT, body = BUF_INIT;
	const char *p;
	int rc;

	buf_addstr(&path, "/admin/v2/");
	topic_path(&path, t);
	buf_addstr(&path, "/partitions");
	if ((rc = get(w, path.data, &body)) == WEB_OK) {
		if ((p = strstr(body.data, "\"partitions\"")) == NULL ||
		    (p = strchr(p, ':')) == NULL) {
			failure_set(w->fail, 0, "%s%s: no partitions in the "
			    "answer", w->base, path.data);
			rc = WEB_RETRY;
		} else
			*np = (unsigned)strtoul(p + 1, NULL, 10);
	}
	buf_release(&path);
	buf_release(&body);
	return rc;
}

int
web_has_subscription(const struct web *w, const struct topic *t,
    const char *name, int *exists)
{
	struct buf path = BUF_INIT, body = BUF_INIT, want = BUF_INIT;
	int rc;

	buf_addstr(&path, "/admin/v2/");
	topic_path(&path, t);
	buf_addstr(&path, "/subscriptions");
	/* a JSON array of names: look for this one, quoted */
	buf_addf(&want, "\"%s\"", name);
	if ((rc = get(w, path.data, &body)) == WEB_OK)
		*exists = strstr(body.data, want.data) != NULL;
	buf_release(&path);
	buf_release(&body);
	buf_release(&want);
	return rc;
}

int
web_lookup(const struct web *w, const char *topic, int tls, char **url)
{
	struct buf path = BUF_INIT, body = BUF_INIT;
	struct topic t;
	const char *why;
	int rc;

	if (topic_parse(&t, topic, &why) < 0) {
		failure_set(w->fail, 1, "%s: %s", topic, why);
		return WEB_FATAL;
	}
	buf_addstr(&path, "/lookup/v2/topic/");
	topic_path(&path, &t);
	if ((rc = get(w, path.data, &body)) == WEB_OK) {
		*url = json_string(body.data, tls ? "brokerUrlTls" :
		    "brokerUrl");
		if (*url == NULL) {
			failure_set(w->fail, 0, "%s%s: no %s in the answer",
			    w->base, path.data, tls ? "brokerUrlTls" :
			    "brokerUrl");
			rc = WEB_RETRY;
		}
	}
	topic_free(&t);
	buf_release(&path);
	buf_release(&body);
	return rc;
}
