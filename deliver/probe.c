/*
 * deliver --probe: check, online and once, what storing needs: the
 * credentials, the endpoint, the bucket, its region, and the right to
 * write and delete under the prefix (a probe object, then gone).  One
 * line per check on stdout, "ok SETTING: ..." or "fail SETTING: what is
 * wrong; what to do" (CONTRACT.md), each request within PROBE_TIMEOUT
 * seconds and never retried.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "deliver.h"
#include "dest.h"
#include "local.h"
#include "log.h"
#include "object.h"
#include "store.h"
#include "upload.h"
#include "xml.h"

#define PROBE_TIMEOUT	5	/* seconds per request; see deliver(1) */
#define PROBE_DIR	"_lakepipe_probe/"

static const char probe_body[] = "lakepipe deliver --probe\n";

struct probe {
	int	failed;
	int	out_errno;		/* a failed write to stdout */
};

static void __attribute__((format(printf, 4, 5)))
say(struct probe *p, int ok, const char *setting, const char *fmt, ...)
{
	va_list ap;

	if (!ok)
		p->failed = 1;
	printf("%s %s: ", ok ? "ok" : "fail", setting);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (fflush(stdout) == EOF && p->out_errno == 0)
		p->out_errno = errno;
}

static int
probe_status(const struct probe *p)
{
	if (p->out_errno != 0)
		return stdout_failed(p->out_errno);
	return p->failed ? EXIT_FAIL : EXIT_OK;
}

/* "_lakepipe_probe/HOST-PID-RANDOM": unique, and plain in any store. */
static void
probe_key(struct buf *key)
{
	char host[256], *h;

	if (gethostname(host, sizeof(host)) < 0)
		strlcpy(host, "host", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	for (h = host; *h != '\0'; h++)
		if (!isalnum((unsigned char)*h) && *h != '-' && *h != '.')
			*h = '_';
	buf_addf(key, PROBE_DIR "%.64s-%ld-%08x", host, (long)getpid(),
	    arc4random());
}

/* --- file:// --------------------------------------------------------- */

static int
probe_local(const struct dest *d)
{
	struct probe p = { 0, 0 };
	struct local *l;
	struct object o;
	struct buf path = BUF_INIT;
	char why[1024];

	if ((l = local_open(d->dir, why, sizeof(why))) == NULL) {
		say(&p, 0, "destination", "%s; make the directory writable, "
		    "or choose another", why);
		return probe_status(&p);
	}
	say(&p, 1, "destination", "directory %s", d->dir);
	object_init(&o);
	probe_key(&o.key);
	o.body = probe_body;
	o.len = sizeof(probe_body) - 1;
	if (local_put(l, &o, why, sizeof(why)) < 0)
		say(&p, 0, "destination", "%s; make the directory writable, "
		    "or choose another", why);
	else {
		say(&p, 1, "destination", "wrote %s", o.key.data);
		buf_addf(&path, "%s%s", d->dir, o.key.data);
		if (unlink(path.data) < 0)
			say(&p, 0, "destination", "cannot delete %s: %s; "
			    "remove it by hand", path.data, strerror(errno));
		else
			say(&p, 1, "destination", "deleted %s", o.key.data);
		/* the probe directory goes too, unless another probe uses it */
		buf_reset(&path);
		buf_addf(&path, "%s" PROBE_DIR, d->dir);
		rmdir(path.data);
	}
	buf_release(&path);
	object_release(&o);
	local_close(l);
	return probe_status(&p);
}

/* --- cos://, s3:// --------------------------------------------------- */

static void
say_credentials(struct probe *p, const struct store *s)
{
	const struct creds *c = &s->creds;
	const char *from = s->opt->credentials;

	say(p, 1, "credentials", "%s and %s%s%s from %s%s", c->id_name,
	    c->secret_name, c->token ? " and " : "", c->token ?
	    c->token_name : "", from ? "--credentials " : "the environment",
	    from ? from : "");
}

/* The region the store says the bucket is in, or NULL. */
static const char *
told_region(const struct req *r, struct buf *tmp)
{
	if (r->bucket_region[0] != '\0')
		return r->bucket_region;
	if (xml_text(r->rbody.data, r->rbody.len, "Region", tmp) &&
	    tmp->len > 0)
		return tmp->data;
	return NULL;
}

/* Say what a failed request means for the settings; r->why says how. */
static void
say_store_error(struct probe *p, const struct store *s, const struct req *r)
{
	const struct dest *d = s->d;
	const struct creds *c = &s->creds;
	struct buf tmp = BUF_INIT;
	const char *region = told_region(r, &tmp), *code = r->code;
	const char *ours = d->region != NULL ? d->region : "(none)";

	if (r->status == 0 && strstr(r->why, "check --endpoint") != NULL)
		say(p, 0, "endpoint", "%s", r->why);
	else if (r->status == 0)
		say(p, 0, "endpoint", "%s; check --endpoint and the network",
		    r->why);
	else if (region != NULL && strcmp(region, ours) != 0)
		say(p, 0, "region", "bucket %s is in region %s, not %s (%s); "
		    "use ?region=%s", d->bucket, region, ours,
		    code[0] ? code : "redirect", region);
	else if (strcmp(code, "NoSuchBucket") == 0)
		say(p, 0, "destination", "no bucket %s in region %s (404 "
		    "NoSuchBucket); check the bucket name and the region%s",
		    d->bucket, ours, d->kind == DEST_COS ?
		    " (COS does not find a bucket of another region either)" :
		    "");
	else if (strcmp(code, "InvalidAccessKeyId") == 0)
		say(p, 0, "credentials", "the store does not know the key id "
		    "in %s (%ld InvalidAccessKeyId); check it", c->id_name,
		    r->status);
	else if (strcmp(code, "SignatureDoesNotMatch") == 0)
		say(p, 0, "credentials", "the secret key in %s does not match "
		    "the key id (%ld SignatureDoesNotMatch); check it",
		    c->secret_name, r->status);
	else if (strcmp(code, "InvalidToken") == 0 ||
	    strcmp(code, "ExpiredToken") == 0)
		say(p, 0, "credentials", "the session token is refused (%ld "
		    "%s); renew %s", r->status, code, c->token_name);
	else if (strcmp(code, "RequestTimeTooSkewed") == 0)
		say(p, 0, "credentials", "this machine's clock is off the "
		    "store's (%ld RequestTimeTooSkewed); set it (NTP)",
		    r->status);
	else if (strcmp(code, "AccessDenied") == 0)
		say(p, 0, "credentials", "%s; the key needs permission to "
		    "list, write and delete under %s%s", r->why, d->bucket,
		    d->prefix[0] ? "/" : "");
	else
		say(p, 0, "destination", "%s", r->why);
	buf_release(&tmp);
}

/* One request, once, within PROBE_TIMEOUT: nonzero if it went well. */
static int
probe_request(struct probe *p, struct store *s, struct target *t)
{
	if (store_run(s, t->r, 0, PROBE_TIMEOUT) == V_OK)
		return 1;
	if (t->r->status == 0 && strstr(t->r->why, "imed out") != NULL)
		snprintf(t->r->why, sizeof(t->r->why), "no answer from %s "
		    "within %d s", s->d->host, PROBE_TIMEOUT);
	say_store_error(p, s, t->r);
	return 0;
}

/* The bucket, seen through a one-key listing of the prefix. */
static int
probe_bucket(struct probe *p, struct store *s)
{
	struct sign_kv q[3] = {
		{ "list-type", "2" }, { "max-keys", "1" },
		{ "prefix", s->d->prefix },
	};
	struct target t;
	int ok;

	target_begin(&t, s, OP_LIST, "", NULL, 0);
	t.r->query = q;
	t.r->nquery = 3;
	if ((ok = probe_request(p, s, &t))) {
		say(p, 1, "endpoint", "%s answers", s->d->base);
		say(p, 1, "destination", "bucket %s, listing allowed",
		    s->d->bucket);
		say(p, 1, "region", "%s", s->d->region ? s->d->region :
		    "(none: the endpoint's)");
	}
	target_end(&t);
	return ok;
}

static void
probe_write(struct probe *p, struct store *s)
{
	struct buf key = BUF_INIT, full = BUF_INIT;
	struct target t;

	probe_key(&key);
	buf_addf(&full, "%s%s", s->d->prefix, key.data);
	target_begin(&t, s, OP_PUT, full.data, probe_body,
	    sizeof(probe_body) - 1);
	if (probe_request(p, s, &t)) {
		say(p, 1, "destination", "wrote %s", full.data);
		target_end(&t);
		target_begin(&t, s, OP_DELETE, full.data, NULL, 0);
		if (probe_request(p, s, &t))
			say(p, 1, "destination", "deleted %s", full.data);
		else
			say(p, 0, "destination", "%s is left behind; delete "
			    "it by hand", full.data);
	}
	target_end(&t);
	buf_release(&key);
	buf_release(&full);
}

static int
probe_remote(const struct dest *d, const struct options *opt)
{
	struct probe p = { 0, 0 };
	struct store s;
	char why[1024];

	if (store_init(&s, d, opt, why, sizeof(why)) < 0)
		say(&p, 0, "credentials", "%s", why);
	else {
		say_credentials(&p, &s);
		if (probe_bucket(&p, &s))
			probe_write(&p, &s);
	}
	store_release(&s);
	return probe_status(&p);
}

int
deliver_probe(const struct dest *d, const struct options *opt)
{
	return d->kind == DEST_FILE ? probe_local(d) : probe_remote(d, opt);
}
