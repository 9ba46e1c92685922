/* Credentials from the environment or a file; see creds.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "creds.h"

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

static struct kv *
read_file(const char *path, char *why, size_t whylen)
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

int
creds_load(struct creds *c, enum dest_kind kind, const char *file,
    char *why, size_t whylen)
{
	const struct names *nm = kind == DEST_COS ? &cos_names : &s3_names;
	struct kv *kv = NULL;
	const char *id, *secret, *token, *where = file ? file : "the environment";
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (file != NULL && (kv = read_file(file, why, whylen)) == NULL)
		return -1;
	id = first_of(kv, nm->id, &c->id_name);
	secret = first_of(kv, nm->secret, &c->secret_name);
	token = first_of(kv, nm->token, &c->token_name);
	if (id == NULL || secret == NULL) {
		const char *const *n = id == NULL ? nm->id : nm->secret;

		snprintf(why, whylen, "no credentials: %s%s%s%s is not set in "
		    "%s; set it, or name a file with --credentials", n[0],
		    n[1] ? " (or " : "", n[1] ? n[1] : "", n[1] ? ")" : "",
		    where);
	} else {
		c->id = xstrdup(id);
		c->secret = xstrdup(secret);
		c->token = token ? xstrdup(token) : NULL;
		rc = 0;
	}
	kv_free(kv);
	return rc;
}

void
creds_sign(const struct creds *c, struct sign_creds *s)
{
	s->id = c->id;
	s->secret = c->secret;
	s->token = c->token;
}

static void
wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
creds_release(struct creds *c)
{
	wipe(c->id);
	wipe(c->secret);
	wipe(c->token);
	memset(c, 0, sizeof(*c));
}
