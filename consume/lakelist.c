/*
 * The objects consume --lake reads, in order (lakelist.h): deliver's
 * listing and index, and the first record of each object not indexed.
 */
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "lakechild.h"
#include "lakelist.h"
#include "lakeobj.h"
#include "lakerec.h"
#include "log.h"
#include "msgid.h"

#define INDEX_DIR	"_lakepipe/"
#define MARKER_NAME	"_SUCCESS"	/* deliver --markers: no messages */

static const char *
key_ext(const char *key, const char *ext)
{
	size_t k = strlen(key), e = strlen(ext);

	return k >= e && strcmp(key + k - e, ext) == 0 ? key + k - e : NULL;
}

static enum zenc
enc_of_key(const char *key)
{
	if (key_ext(key, ".gz"))
		return CE_GZIP;
	if (key_ext(key, ".zst"))
		return CE_ZSTD;
	if (key_ext(key, ".jsonl") || key_ext(key, ".txt") ||
	    key_ext(key, ".bin") || key_ext(key, ".csv") ||
	    key_ext(key, ".parquet"))
		return CE_PLAIN;
	return CE_UNKNOWN;
}

static enum ofmt
fmt_of_key(const char *key)
{
	static const char *const ext[] = { ".jsonl", ".csv" };
	static const char *const zext[] = { "", ".gz", ".zst" };
	char e[16];
	size_t i, j;

	if (key_ext(key, ".parquet"))
		return OF_PARQUET;
	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++) {
			snprintf(e, sizeof(e), "%s%s", ext[i], zext[j]);
			if (key_ext(key, e))
				return i == 0 ? OF_JSONL : OF_CSV;
		}
	return OF_UNKNOWN;
}

static int
is_raw_key(const char *key)
{
	return key_ext(key, ".txt") || key_ext(key, ".txt.gz") ||
	    key_ext(key, ".txt.zst") || key_ext(key, ".bin") ||
	    key_ext(key, ".bin.gz") || key_ext(key, ".bin.zst");
}

struct ientry {
	char		*key, *topic;
	struct msgid	 first;
	enum zenc	 enc;
	enum ofmt	 fmt;
	int		 raw;
	int		 listed;	/* deliver --list has its key */
};

static int
ientry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ientry *)a)->key,
	    ((const struct ientry *)b)->key);
}

static char *
field_str(const struct frame *f, const char *name)
{
	struct buf b = BUF_INIT;

	if (frame_get(f, name, &b) <= 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* The format of an index entry's type=; OF_UNKNOWN: not restorable. */
static enum ofmt
fmt_of_type(const char *type)
{
	if (strcmp(type, "application/x-ndjson") == 0)
		return OF_JSONL;
	if (strcmp(type, "text/csv") == 0)
		return OF_CSV;
	if (strcmp(type, "application/vnd.apache.parquet") == 0)
		return OF_PARQUET;
	return OF_UNKNOWN;
}

/* One "I key=... first=..." line into e; -1 if it is not one. */
static int
index_line(struct ientry *e, const char *s, size_t n)
{
	struct frame f;
	struct buf v = BUF_INIT;
	const char *why;
	int rc = -1;

	frame_init(&f);
	memset(e, 0, sizeof(*e));
	if (frame_parse_header(&f, s, n, 0, &why) < 0 || f.type != 'I')
		goto out;
	e->key = field_str(&f, "key");
	e->topic = field_str(&f, "topic");
	if (e->key == NULL || e->topic == NULL ||
	    frame_get(&f, "first", &v) <= 0 ||
	    msgid_parse(&e->first, v.data, v.len) < 0)
		goto out;
	buf_reset(&v);
	e->enc = CE_PLAIN;
	if (frame_get(&f, "enc", &v) > 0)
		e->enc = strcmp(v.data, "gzip") == 0 ? CE_GZIP :
		    strcmp(v.data, "zstd") == 0 ? CE_ZSTD : CE_UNKNOWN;
	buf_reset(&v);
	e->fmt = OF_UNKNOWN;
	if (frame_get(&f, "type", &v) > 0)
		e->fmt = fmt_of_type(v.data);
	e->raw = e->fmt == OF_UNKNOWN && v.len > 0;
	rc = 0;
out:
	if (rc < 0) {
		free(e->key);
		free(e->topic);
	}
	buf_release(&v);
	frame_release(&f);
	return rc;
}

/* deliver --index, when this deliver has it: entries sorted by key. */
static int
read_index(struct lakelist *l, struct ientry **ep, size_t *np)
{
	struct buf b = BUF_INIT;
	struct ientry *e = NULL;
	size_t n = 0;
	char *s, *nl;

	*ep = NULL;
	*np = 0;
	if (lakechild_listing(l->deliver, l->o, "--list-options", &b) < 0)
		goto fail;
	if (strncmp(b.data, "index\n", 6) != 0 && strstr(b.data, "\nindex\n")
	    == NULL) {
		log_verbose("%s has no --index: objects ordered by their "
		    "first records", l->deliver);
		buf_release(&b);
		return 0;
	}
	buf_reset(&b);
	if (lakechild_listing(l->deliver, l->o, "--index", &b) < 0)
		goto fail;
	for (s = b.data; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		e = xreallocarray(e, n + 1, sizeof(*e));
		if (index_line(&e[n], s, (size_t)(nl - s)) < 0) {
			warnx("%s --index: not an index line: '%.*s'",
			    l->deliver, (int)(nl - s > 200 ? 200 : nl - s), s);
			continue;
		}
		n++;
	}
	buf_release(&b);
	if (n > 0)
		qsort(e, n, sizeof(*e), ientry_cmp);
	*ep = e;
	*np = n;
	return 0;
fail:
	buf_release(&b);
	return -1;
}

/* An object without an index entry: its first record says. */
static void
peek_first(struct lakelist *l, struct obj *o)
{
	struct objreader r;
	const char *line, *why;
	size_t len;
	int rc;

	if (or_open(l->deliver, l->o, &r, o) < 0) {
		or_close(&r);
		return;		/* said; the object fails again later */
	}
	r.max_size = l->o->max_size;
	r.peek = 1;
	while ((rc = or_next(&r, l->rec, &line, &len)) == OR_MORE)
		if (or_read(&r) < 0)
			break;
	if (rc == OR_REC || (rc == OR_LINE && lakerec_parse(l->rec, line,
	    len, &why) == 0)) {
		o->topic = xstrndup(l->rec->topic.data, l->rec->topic.len);
		o->first = l->rec->mid;
	} else if (rc == OR_END)
		o->empty = 1;
	if (o->enc == CE_UNKNOWN)
		o->enc = r.enc;
	/* the rest is not needed now: errors are said when it is read */
	or_close(&r);
}

int
lakelist_topic_wanted(const char *want, const char *t, size_t n)
{
	size_t w;

	if (want == NULL)
		return 1;
	w = strlen(want);
	if (n == w && memcmp(t, want, n) == 0)
		return 1;
	return n > w + 11 && memcmp(t, want, w) == 0 &&
	    memcmp(t + w, "-partition-", 11) == 0;
}

/* Known objects by topic, partition, first id; the others by key. */
static int
obj_cmp(const void *a, const void *b)
{
	const struct obj *x = a, *y = b;
	int c;

	if ((x->topic == NULL) != (y->topic == NULL))
		return x->topic == NULL ? 1 : -1;
	if (x->topic == NULL)
		return strcmp(x->key, y->key);
	if ((c = strcmp(x->topic, y->topic)) != 0)
		return c;
	if (x->first.partition != y->first.partition)
		return x->first.partition < y->first.partition ? -1 : 1;
	if ((c = msgid_cmp(&x->first, &y->first)) != 0)
		return c;
	return strcmp(x->key, y->key);
}

static void
add_obj(struct lakelist *l, const char *key, size_t n,
    const struct ientry *ie)
{
	struct obj *o;

	l->objs = xreallocarray(l->objs, l->nobj + 1, sizeof(*l->objs));
	o = &l->objs[l->nobj++];
	memset(o, 0, sizeof(*o));
	o->key = xstrndup(key, n);
	if (ie != NULL) {
		o->topic = xstrdup(ie->topic);
		o->first = ie->first;
		o->enc = ie->enc;
		o->fmt = ie->fmt;
		o->raw = ie->raw;
	} else {
		o->enc = enc_of_key(o->key);
		o->fmt = fmt_of_key(o->key);
		o->raw = is_raw_key(o->key);
	}
}

/* A completeness marker of deliver --markers, DIR/_SUCCESS. */
static int
is_marker(const char *key)
{
	const char *name = strrchr(key, '/');

	return strcmp(name != NULL ? name + 1 : key, MARKER_NAME) == 0;
}

/* The objects of deliver --list, with what the index says of them. */
static int
list_objects(struct lakelist *l, struct ientry *ie, size_t nie)
{
	struct buf b = BUF_INIT;
	struct ientry want, *hit;
	char *s, *nl, *tab;

	if (lakechild_listing(l->deliver, l->o, "--list", &b) < 0) {
		buf_release(&b);
		return -1;
	}
	for (s = b.data; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		*nl = '\0';
		if ((tab = strchr(s, '\t')) != NULL)
			*tab = '\0';
		if (*s == '\0' || strncmp(s, INDEX_DIR, strlen(INDEX_DIR))
		    == 0 || is_marker(s))
			continue;
		want.key = s;
		hit = nie > 0 ? bsearch(&want, ie, nie, sizeof(*ie),
		    ientry_cmp) : NULL;
		if (hit != NULL)
			hit->listed = 1;
		add_obj(l, s, strlen(s), hit);
	}
	buf_release(&b);
	return 0;
}

int
lakelist_build(struct lakelist *l)
{
	struct ientry *ie;
	size_t nie, i, j, nidx = 0;
	int rc;

	if (read_index(l, &ie, &nie) < 0)
		return -1;
	rc = list_objects(l, ie, nie);
	for (i = 0; i < nie; i++) {
		/* the index names what was stored: gone is lost */
		if (rc == 0 && !ie[i].listed &&
		    lakelist_topic_wanted(l->o->topic, ie[i].topic,
		    strlen(ie[i].topic))) {
			warnx("%s: in the index but not stored: its messages "
			    "cannot be restored", ie[i].key);
			l->failed++;
		}
		free(ie[i].key);
		free(ie[i].topic);
	}
	free(ie);
	if (rc < 0)
		return -1;
	for (i = 0; i < l->nobj; i++) {
		if (l->objs[i].topic != NULL)
			nidx++;
		else if (!l->objs[i].raw)
			peek_first(l, &l->objs[i]);
	}
	/* drop the objects of other topics (those known) */
	for (i = j = 0; i < l->nobj; i++) {
		if (l->objs[i].topic == NULL ||
		    lakelist_topic_wanted(l->o->topic, l->objs[i].topic,
		    strlen(l->objs[i].topic)))
			l->objs[j++] = l->objs[i];
		else {
			free(l->objs[i].key);
			free(l->objs[i].topic);
		}
	}
	l->nobj = j;
	if (l->nobj > 0)
		qsort(l->objs, l->nobj, sizeof(*l->objs), obj_cmp);
	log_verbose("%s: %zu objects to restore, %zu of them indexed",
	    l->o->dest, l->nobj, nidx);
	return 0;
}

void
lakelist_free(struct lakelist *l)
{
	size_t i;

	for (i = 0; i < l->nobj; i++) {
		free(l->objs[i].key);
		free(l->objs[i].topic);
	}
	free(l->objs);
}
