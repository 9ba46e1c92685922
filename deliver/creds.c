/* Credentials from the environment, a file or an instance role; creds.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "creds.h"
#include "log.h"
#include "metadata.h"

/* Renew a role's keys this long before they expire, at most. */
#define ROLE_MARGIN	300
/* After a failed renewal, try again after this long (seconds). */
#define RETRY_AFTER	1.0

/* The variable names, in order of preference, for each part. */
struct names {
	const char *id[2], *secret[2], *token[2];
};

static const struct names cos_names = {
	{ "TENCENTCLOUD_SECRET_ID", "COS_SECRET_ID" },
	{ "TENCENTCLOUD_SECRET_KEY", "COS_SECRET_KEY" },
	{ "TENCENTCLOUD_SESSION_TOKEN", "COS_SESSION_TOKEN" },
};
static const struct names s3_names = {
	{ "AWS_ACCESS_KEY_ID", NULL },
	{ "AWS_SECRET_ACCESS_KEY", NULL },
	{ "AWS_SESSION_TOKEN", NULL },
};

/* NAME=VALUE pairs of a credentials file, NULL-terminated, or NULL. */
struct kv {
	char	*name, *value;
};

static void
kv_free(struct kv *kv)
{
	struct kv *p;

	for (p = kv; p != NULL && p->name != NULL; p++) {
		explicit_bzero(p->value, strlen(p->value));
		free(p->name);
		free(p->value);
	}
	free(kv);
}

/* The pairs of the file at path, and in *st what was read. */
static struct kv *
read_file(const char *path, struct stat *st, char *why, size_t whylen)
{
	FILE *fp;
	char *line = NULL, *eq, *s, *e;
	size_t cap = 0, n = 0;
	ssize_t len;
	struct kv *kv = xcalloc(1, sizeof(*kv));
	unsigned lineno = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		free(kv);
		return NULL;
	}
	if (fstat(fileno(fp), st) < 0)
		memset(st, 0, sizeof(*st));
	while ((len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		e = s + strcspn(s, "\r\n");
		*e = '\0';
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "export ", 7) == 0)
			s += 7;
		if ((eq = strchr(s, '=')) == NULL || eq == s) {
			/* say where, never what: the line may hold a secret */
			snprintf(why, whylen, "%s: line %u: expected NAME=VALUE",
			    path, lineno);
			explicit_bzero(line, cap);
			free(line);
			fclose(fp);
			kv_free(kv);
			return NULL;
		}
		*eq = '\0';
		kv = xreallocarray(kv, n + 2, sizeof(*kv));
		kv[n].name = xstrdup(s);
		kv[n].value = xstrdup(eq + 1);
		kv[++n].name = NULL;
	}
	if (line != NULL)
		explicit_bzero(line, cap);
	free(line);
	fclose(fp);
	return kv;
}

static const char *
lookup(const struct kv *kv, const char *name)
{
	const char *v;

	if (name == NULL)
		return NULL;
	if (kv != NULL) {
		for (; kv->name != NULL; kv++)
			if (strcmp(kv->name, name) == 0)
				return kv->value[0] ? kv->value : NULL;
		return NULL;
	}
	v = getenv(name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The first of the two names that is set, and which one in *name. */
static const char *
first_of(const struct kv *kv, const char *const names[2], const char **name)
{
	const char *v = lookup(kv, names[0]);

	*name = names[0];
	if (v == NULL && (v = lookup(kv, names[1])) != NULL)
		*name = names[1];
	return v;
}

static void
wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL &&
	    strcmp(a, b) == 0);
}

/* Take copies of the keys: 1 when they differ from those in hand. */
static int
set_keys(struct creds *c, const char *id, const char *secret,
    const char *token)
{
	if (c->id != NULL && same(c->id, id) && same(c->secret, secret) &&
	    same(c->token, token))
		return 0;
	wipe(c->id);
	wipe(c->secret);
	wipe(c->token);
	c->id = xstrdup(id);
	c->secret = xstrdup(secret);
	c->token = token ? xstrdup(token) : NULL;
	c->gen++;
	return 1;
}

/* The environment (kv NULL) or a file's pairs (kv): -1 with why. */
static int
take_named(struct creds *c, const struct kv *kv, const char *where,
    int *changed, char *why, size_t whylen)
{
	const struct names *nm = c->kind == DEST_COS ? &cos_names : &s3_names;
	const char *id, *secret, *token;

	id = first_of(kv, nm->id, &c->id_name);
	secret = first_of(kv, nm->secret, &c->secret_name);
	token = first_of(kv, nm->token, &c->token_name);
	if (id == NULL || secret == NULL) {
		const char *const *n = id == NULL ? nm->id : nm->secret;

		snprintf(why, whylen, "no credentials: %s%s%s%s is not set in "
		    "%s; set it, or name a file with --credentials", n[0],
		    n[1] ? " (or " : "", n[1] ? n[1] : "", n[1] ? ")" : "",
		    where);
		return -1;
	}
	*changed = set_keys(c, id, secret, token);
	return 0;
}

static int
load_file(struct creds *c, int *changed, char *why, size_t whylen)
{
	struct stat st;
	struct kv *kv;
	int rc;

	if ((kv = read_file(c->file, &st, why, whylen)) == NULL)
		return -1;
	if ((rc = take_named(c, kv, c->file, changed, why, whylen)) == 0)
		c->st = st;
	kv_free(kv);
	return rc;
}

static int
load_role(struct creds *c, int *changed, char *why, size_t whylen)
{
	struct role_keys k;
	double left;

	if (metadata_role_keys(&c->role, &k, why, whylen) < 0)
		return -1;
	*changed = set_keys(c, k.id, k.secret, k.token);
	if (*changed || c->expires != k.expires) {
		/* a third of what is left for keys that live minutes, and
		 * a second at least: ExpiredTime counts whole seconds.  Now
		 * to the millisecond: in whole seconds, where in its second
		 * a fetch ended (later in a slow process) moved the renewal
		 * by a second, a third of the life of a key of 9 s. */
		left = k.expires - wallclock_ms() / 1000.0;
		c->margin = left / 3 < ROLE_MARGIN ? left / 3 : ROLE_MARGIN;
		if (c->margin < 1)
			c->margin = 1;
	}
	c->expires = k.expires;
	role_keys_wipe(&k);
	return 0;
}

static int
load(struct creds *c, int *changed, char *why, size_t whylen)
{
	*changed = 0;
	switch (c->source) {
	case CREDS_FILE:
		return load_file(c, changed, why, whylen);
	case CREDS_ROLE:
		return load_role(c, changed, why, whylen);
	default:
		return take_named(c, NULL, "the environment", changed, why,
		    whylen);
	}
}

/* "instance-role" or "instance-role:ROLE": 1 and *role (or NULL). */
static int
is_role(const char *spec, const char **role)
{
	size_t n = sizeof(CREDS_ROLE_SPEC) - 1;

	*role = NULL;
	if (spec == NULL || strncmp(spec, CREDS_ROLE_SPEC, n) != 0 ||
	    (spec[n] != '\0' && spec[n] != ':'))
		return 0;
	if (spec[n] == ':')
		*role = spec + n + 1;
	return 1;
}

static int
role_spec_ok(const char *role, char *why, size_t whylen)
{
	if (role == NULL || metadata_role_ok(role))
		return 0;
	snprintf(why, whylen, "--credentials %s:ROLE: '%.130s' is not a role "
	    "name (1 to 128 of A-Z a-z 0-9 _+=,.@-)", CREDS_ROLE_SPEC, role);
	return -1;
}

int
creds_load(struct creds *c, enum dest_kind kind, const char *spec,
    char *why, size_t whylen)
{
	const char *role;
	int changed;

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	if (is_role(spec, &role)) {
		if (role_spec_ok(role, why, whylen) < 0)
			return -1;
		c->source = CREDS_ROLE;
		c->role = role ? xstrdup(role) : NULL;
		c->id_name = "TmpSecretId";
		c->secret_name = "TmpSecretKey";
		c->token_name = "Token";
	} else if (spec != NULL) {
		c->source = CREDS_FILE;
		c->file = xstrdup(spec);
	}
	if (load(c, &changed, why, whylen) < 0) {
		creds_release(c);
		return -1;
	}
	return 0;
}

int
creds_check(enum dest_kind kind, const char *spec, char *why, size_t whylen)
{
	struct creds c;
	const char *role;

	if (is_role(spec, &role))
		return role_spec_ok(role, why, whylen);
	if (creds_load(&c, kind, spec, why, whylen) < 0)
		return -1;
	creds_release(&c);
	return 0;
}

/* Has the file changed since it was read? */
static int
file_changed(const struct creds *c)
{
	struct stat st;

	if (stat(c->file, &st) < 0)
		return 0;	/* gone for a moment: keep what we have */
	return st.st_dev != c->st.st_dev || st.st_ino != c->st.st_ino ||
	    st.st_size != c->st.st_size ||
	    st.st_mtim.tv_sec != c->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != c->st.st_mtim.tv_nsec;
}

static int
due(const struct creds *c)
{
	if (c->failing && monotime() < c->next_try)
		return 0;
	switch (c->source) {
	case CREDS_FILE:
		return file_changed(c);
	case CREDS_ROLE:
		return wallclock_ms() / 1000.0 >= c->expires - c->margin &&
		    monotime() >= c->next_try;
	default:
		return 0;
	}
}

/* Fetch or read again: 1 when the keys changed. */
static int
renew(struct creds *c, const char *cause)
{
	char why[512];
	int changed;
	long long left;

	if (load(c, &changed, why, sizeof(why)) < 0) {
		if (!c->failing)
			log_warn("cannot renew the credentials, keeping those "
			    "in hand", "source=%s cause=%s error=%s",
			    c->source == CREDS_FILE ? c->file : CREDS_ROLE_SPEC,
			    cause, why);
		c->failing = 1;
		c->next_try = monotime() + RETRY_AFTER;
		return 0;
	}
	c->failing = 0;
	/* the service may not have new keys yet: ask again in a second */
	c->next_try = monotime() + RETRY_AFTER;
	if (!changed)
		return 0;
	left = c->source == CREDS_ROLE ? (long long)(c->expires -
	    time(NULL)) : -1;
	if (c->source == CREDS_ROLE)
		log_info("credentials renewed", "source=%s role=%s cause=%s "
		    "expires_in_s=%lld", CREDS_ROLE_SPEC, c->role, cause,
		    left);
	else
		log_info("credentials renewed", "source=%s cause=%s", c->file,
		    cause);
	return 1;
}

void
creds_sign(struct creds *c, struct sign_creds *s)
{
	if (due(c))
		renew(c, c->source == CREDS_FILE ? "changed" : "expiring");
	s->id = c->id;
	s->secret = c->secret;
	s->token = c->token;
}

int
creds_renew(struct creds *c, unsigned gen)
{
	if (c->gen != gen)
		return 1;
	if (c->source == CREDS_ENV)
		return 0;
	return renew(c, "refused");
}

void
creds_redact(const struct creds *c, char *text)
{
	const char *v[] = { c->id, c->secret, c->token };
	size_t i, n;
	char *p;

	for (i = 0; i < 3; i++) {
		if (v[i] == NULL || (n = strlen(v[i])) < 4)
			continue;
		for (p = text; (p = strstr(p, v[i])) != NULL; p += n)
			memset(p, '*', n);
	}
}

void
creds_release(struct creds *c)
{
	wipe(c->id);
	wipe(c->secret);
	wipe(c->token);
	free(c->file);
	free(c->role);
	memset(c, 0, sizeof(*c));
}
