/* Completeness markers of time buckets; see marker.h and deliver(1). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "deliver.h"
#include "dest.h"
#include "index.h"
#include "lake.h"
#include "local.h"
#include "log.h"
#include "manifest.h"
#include "marker.h"
#include "metrics.h"
#include "object.h"
#include "report.h"
#include "store.h"
#include "upload.h"
#include "utctime.h"

/* Buckets remembered after their marker, so that a late object adds. */
#define MAX_KEPT	256
#define SUFFIX		"-partition-"

/* A partition of the stream: seen, or expected (--partitions). */
struct part {
	char		*topic;		/* full name */
	size_t		 baselen;	/* without "-partition-N" */
	long		 index;		/* N, -1 when not partitioned */
	uint64_t	 wm;		/* highest publish time stored */
	int		 has_wm;
	uint64_t	 first;		/* its first publish time in this run */
	double		 last;		/* monotime() of its last object */
};

/* What a marker held before this run (read once, before the first write). */
struct had {
	char		*label;
	uint64_t	 n;
};

struct bucket {
	char		*dir;		/* relative to the prefix */
	uint64_t	 start, end;	/* ms, end exclusive */
	uint64_t	*count;		/* messages per part (index in parts) */
	size_t		 ncount;
	int		 written;	/* marker written in this run */
	int		 late;		/* objects counted after it was */
	int		 read;		/* had[] read from the store */
	struct had	*had;
	size_t		 nhad;
	char		**indexed;	/* counted from the index, sorted */
	size_t		 nindexed;
};

/* An object taken in, waiting for those before it to be stored. */
struct pending {
	char		*key;
	char		*topic;
	char		*dir;		/* NULL: no bucket */
	uint64_t	 start, end, n, pt;
	int		 has_pt, stored;
};

struct markers {
	const struct dest	*d;
	const struct options	*opt;
	struct lake		 lk;	/* reads; remote writes (lk.s) */
	struct local		*local;	/* file:// writes */
	struct part		*parts;
	size_t			 nparts;
	struct bucket		**b;	/* oldest first */
	size_t			 nb;
	struct pending		*q;	/* q[qoff..qn): in input order */
	size_t			 qoff, qn, qcap;
	uint64_t		 head;	/* ticket of q[qoff] */
	int			 any_bucket;	/* an object named one */
	int			 any_data;	/* an object held messages */
	uint64_t		*markers, *late;	/* metrics */
	double			*watermark;
};

struct markers *
markers_open(const struct dest *d, const struct options *opt, int *failed)
{
	struct markers *m;
	char why[1024];

	*failed = 0;
	if (!opt->markers)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->d = d;
	m->opt = opt;
	m->markers = metrics_counter("markers_total", "Completeness markers "
	    "written (rewritten ones too).");
	m->late = metrics_counter("late_messages_total", "Messages stored "
	    "after their bucket's marker.");
	m->watermark = metrics_gauge("watermark_timestamp_seconds", "The "
	    "publish time every partition that is not idle has stored.");
	if (d->kind == DEST_FILE &&
	    (m->local = local_open(d->dir, why, sizeof(why))) == NULL) {
		report_error("markers: %s", why);
		free(m);
		*failed = 1;
		return NULL;
	}
	if (lake_open(&m->lk, d, opt) < 0) {
		if (m->local != NULL)
			local_close(m->local);
		free(m);
		*failed = 1;
		return NULL;
	}
	return m;
}

static void
bucket_free(struct bucket *b)
{
	size_t i;

	for (i = 0; i < b->nhad; i++)
		free(b->had[i].label);
	free(b->had);
	for (i = 0; i < b->nindexed; i++)
		free(b->indexed[i]);
	free(b->indexed);
	free(b->count);
	free(b->dir);
	free(b);
}

void
markers_close(struct markers *m)
{
	size_t i;

	if (m == NULL)
		return;
	/* rejects name no bucket: only a stream of none at all is told */
	if (m->any_data && !m->any_bucket)
		log_warn("markers: no object named a time bucket", "todo=%s",
		    "give transform a key template with a time directory, "
		    "such as {yyyy}/{mm}/{dd}/{hh}/ (see transform(1))");
	for (i = m->qoff; i < m->qn; i++) {
		free(m->q[i].key);
		free(m->q[i].topic);
		free(m->q[i].dir);
	}
	free(m->q);
	for (i = 0; i < m->nb; i++)
		bucket_free(m->b[i]);
	free(m->b);
	for (i = 0; i < m->nparts; i++)
		free(m->parts[i].topic);
	free(m->parts);
	lake_close(&m->lk);
	if (m->local != NULL)
		local_close(m->local);
	free(m);
}

int
marker_key(const char *key)
{
	const char *name = strrchr(key, '/');

	return strcmp(name != NULL ? name + 1 : key, MARKER_NAME) == 0;
}

/* --- partitions ------------------------------------------------------- */

/* The partition number of a "...-partition-N" name (baselen set), or -1. */
static long
partition_of(const char *t, size_t *baselen)
{
	size_t n = strlen(t), d = 0, sl = strlen(SUFFIX), i;
	long v = 0;

	*baselen = n;
	while (d < n && d < 9 && isdigit((unsigned char)t[n - 1 - d]))
		d++;
	if (d == 0 || n - d < sl || memcmp(t + n - d - sl, SUFFIX, sl) != 0)
		return -1;
	for (i = n - d; i < n; i++)
		v = v * 10 + (t[i] - '0');
	*baselen = n - d - sl;
	return v;
}

static size_t
part_add(struct markers *m, const char *topic)
{
	struct part *p;

	m->parts = xreallocarray(m->parts, m->nparts + 1, sizeof(*m->parts));
	p = &m->parts[m->nparts];
	memset(p, 0, sizeof(*p));
	p->topic = xstrdup(topic);
	p->index = partition_of(p->topic, &p->baselen);
	/* its idle clock starts when it is first known */
	p->last = monotime();
	return m->nparts++;
}

static int
part_find(const struct markers *m, const char *topic, size_t *at)
{
	size_t i;

	for (i = 0; i < m->nparts; i++)
		if (strcmp(m->parts[i].topic, topic) == 0) {
			*at = i;
			return 1;
		}
	return 0;
}

static int
base_known(const struct markers *m, const char *t, size_t baselen)
{
	size_t i;

	for (i = 0; i < m->nparts; i++)
		if (m->parts[i].baselen == baselen &&
		    memcmp(m->parts[i].topic, t, baselen) == 0)
			return 1;
	return 0;
}

/*
 * The partition of topic, added if new; with --partitions N, a topic
 * first seen brings its N partitions along, so that one that has sent
 * nothing yet holds the markers back (until it is idle).
 */
static size_t
part_of(struct markers *m, const char *topic)
{
	struct buf name = BUF_INIT;
	size_t at, baselen;
	long i, index = partition_of(topic, &baselen);

	if (part_find(m, topic, &at))
		return at;
	if (m->opt->partitions > 0 && index >= 0 &&
	    !base_known(m, topic, baselen))
		for (i = 0; i < m->opt->partitions; i++) {
			buf_reset(&name);
			buf_add(&name, topic, baselen);
			buf_addf(&name, "%s%ld", SUFFIX, i);
			if (strcmp(name.data, topic) != 0)
				part_add(m, name.data);
		}
	buf_release(&name);
	return part_add(m, topic);
}

static int
part_idle(const struct markers *m, const struct part *p, double now)
{
	return now - p->last >= m->opt->marker_idle;
}

/*
 * The stream's watermark: the lowest of the partitions that are not
 * idle; when every one is, the highest (they all stopped, and the others
 * moved on past the one behind).  0 when a partition that counts has
 * stored nothing yet.
 */
static uint64_t
watermark(const struct markers *m)
{
	double now = monotime();
	uint64_t low = UINT64_MAX, high = 0;
	size_t i;
	int active = 0;

	for (i = 0; i < m->nparts; i++) {
		const struct part *p = &m->parts[i];

		if (p->has_wm && p->wm > high)
			high = p->wm;
		if (part_idle(m, p, now))
			continue;
		active = 1;
		if (!p->has_wm)
			return 0;
		if (p->wm < low)
			low = p->wm;
	}
	return active ? low : high;
}

static int
same_base(const struct part *p, const char *t, size_t baselen, long index)
{
	return index >= 0 && p->index >= 0 && p->baselen == baselen &&
	    memcmp(p->topic, t, baselen) == 0;
}

/*
 * The name of a partition in a marker: its number when the stream is one
 * partitioned topic, else its full topic name.
 */
static void
topic_label(const struct markers *m, const char *topic, struct buf *out)
{
	size_t j, baselen;
	long index = partition_of(topic, &baselen);
	int numbers = 1;

	for (j = 0; j < m->nparts && numbers; j++)
		numbers = same_base(&m->parts[j], topic, baselen, index);
	if (numbers)
		buf_addf(out, "%ld", index);
	else
		buf_addstr(out, topic);
}

static void
part_label(const struct markers *m, size_t i, struct buf *out)
{
	topic_label(m, m->parts[i].topic, out);
}

/* --- buckets ---------------------------------------------------------- */

static struct bucket *
bucket_of(struct markers *m, const struct pending *pe)
{
	struct bucket *b;
	size_t i;

	for (i = 0; i < m->nb; i++)
		if (strcmp(m->b[i]->dir, pe->dir) == 0)
			return m->b[i];
	b = xcalloc(1, sizeof(*b));
	b->dir = xstrdup(pe->dir);
	b->start = pe->start;
	b->end = pe->end;
	m->b = xreallocarray(m->b, m->nb + 1, sizeof(*m->b));
	m->b[m->nb++] = b;
	return b;
}

static void
bucket_add(struct bucket *b, size_t part, uint64_t n)
{
	if (part >= b->ncount) {
		b->count = xreallocarray(b->count, part + 1, sizeof(*b->count));
		memset(b->count + b->ncount, 0,
		    (part + 1 - b->ncount) * sizeof(*b->count));
		b->ncount = part + 1;
	}
	b->count[part] += n;
}

/* Forget the oldest buckets whose markers are written, beyond MAX_KEPT. */
static void
forget_written(struct markers *m)
{
	size_t i, j, written = 0;

	for (i = 0; i < m->nb; i++)
		written += m->b[i]->written && !m->b[i]->late;
	for (i = 0, j = 0; i < m->nb; i++) {
		if (written > MAX_KEPT && m->b[i]->written && !m->b[i]->late) {
			bucket_free(m->b[i]);
			written--;
			continue;
		}
		m->b[j++] = m->b[i];
	}
	m->nb = j;
}

/* --- the marker object ------------------------------------------------ */

static void
json_string(struct buf *out, const char *s)
{
	buf_addch(out, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_addf(out, "\\%c", c);
		else if (c < 0x20)
			buf_addf(out, "\\u%04x", c);
		else
			buf_addch(out, (char)c);
	}
	buf_addch(out, '"');
}

static void
json_time(struct buf *out, uint64_t ms)
{
	buf_addch(out, '"');
	utc_add_iso(out, ms);
	buf_addch(out, '"');
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
had_add(struct bucket *b, const char *label, uint64_t n)
{
	size_t i;

	for (i = 0; i < b->nhad; i++)
		if (strcmp(b->had[i].label, label) == 0) {
			b->had[i].n += n;
			return;
		}
	b->had = xreallocarray(b->had, b->nhad + 1, sizeof(*b->had));
	b->had[b->nhad].label = xstrdup(label);
	b->had[b->nhad++].n = n;
}

/* index_load_back(): on while the entries are of the bucket or later. */
static int
not_before(const struct manifest *e, void *arg)
{
	return e->pt_max >= ((const struct bucket *)arg)->start;
}

/*
 * Exactly once, a bucket that began before this run's first message of
 * some partition: earlier runs may have stored part of it, and the index
 * knows every object stored (this run's too: each is indexed before its
 * ack).  So the counts come from the entries of the bucket's objects,
 * read newest first back to the bucket's start, and those objects do not
 * count again when their turn comes: 0, or -1.
 */
static int
count_from_index(struct markers *m, struct bucket *b)
{
	struct index ix = { NULL, 0, 0 };
	struct buf sub = BUF_INIT, label = BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < m->nparts; i++)
		rc = index_load_back(&m->lk, m->parts[i].topic, not_before, b,
		    &ix);
	buf_addf(&sub, "%s/", b->dir);
	for (i = 0; rc == 0 && i < ix.n; i++) {
		const struct manifest *e = ix.m[i];

		if (e->key.len <= sub.len ||
		    memcmp(e->key.data, sub.data, sub.len) != 0 ||
		    strchr(e->key.data + sub.len, '/') != NULL)
			continue;
		buf_reset(&label);
		topic_label(m, e->topic.data, &label);
		had_add(b, label.data, e->n);
		b->indexed = xreallocarray(b->indexed, b->nindexed + 1,
		    sizeof(*b->indexed));
		b->indexed[b->nindexed++] = xstrdup(e->key.data);
	}
	index_free(&ix);
	buf_release(&sub);
	buf_release(&label);
	if (rc < 0)
		return -1;
	if (b->nindexed > 0)
		qsort(b->indexed, b->nindexed, sizeof(*b->indexed), str_cmp);
	/* what this run counted is in the index */
	if (b->ncount > 0)
		memset(b->count, 0, b->ncount * sizeof(*b->count));
	log_info("marker counted from the lake's index", "bucket=%s "
	    "objects=%zu", b->dir, b->nindexed);
	return 0;
}

/* Whether the bucket began before a partition's first message of the run. */
static int
began_before_run(const struct markers *m, const struct bucket *b)
{
	size_t i;

	for (i = 0; i < m->nparts; i++)
		if (m->parts[i].has_wm && b->start < m->parts[i].first)
			return 1;
	return 0;
}

/* A marker's "partitions" object back into had[]: 0, or -1 if not ours. */
static int
parse_had(struct bucket *b, const char *s)
{
	struct buf label = BUF_INIT;
	const char *p = strstr(s, "\"partitions\":{");
	char *end;
	int rc = -1;

	if (p == NULL)
		return -1;
	for (p += 14; *p != '}'; p++) {
		if (*p++ != '"')
			goto out;
		buf_reset(&label);
		for (; *p != '"'; p++) {
			if (*p == '\0' || (*p == '\\' && *++p != '"' &&
			    *p != '\\'))
				goto out;
			buf_addch(&label, *p);
		}
		if (*++p != ':' || !isdigit((unsigned char)p[1]))
			goto out;
		had_add(b, label.data, strtoull(p + 1, &end, 10));
		p = end;
		if (*p == '}')
			break;
		if (*p != ',')
			goto out;
	}
	rc = 0;
out:
	buf_release(&label);
	return rc;
}

/* What a marker already there holds, before the first write: 0, or -1. */
static int
read_had(struct markers *m, struct bucket *b, const char *key)
{
	struct buf body = BUF_INIT;
	int rc;

	b->read = 1;
	if ((rc = m->lk.remote || m->lk.rootfd >= 0 ? lake_read(&m->lk, key,
	    &body) : 1) < 0) {
		buf_release(&body);
		return -1;
	}
	if (rc == 0 && parse_had(b, body.data != NULL ? body.data : "") < 0)
		log_warn("a marker not written by deliver is replaced",
		    "key=%s", key);
	buf_release(&body);
	return 0;
}

/*
 * The count of a partition: this run's, and what the marker held.
 * Exactly once, this run stored other messages than the runs before
 * (consume skips what the lake holds): they add.  At least once, they
 * may be the same messages again: the higher count stands.
 */
static uint64_t
merged(const struct markers *m, const struct bucket *b, const char *label,
    uint64_t ours)
{
	size_t i;

	for (i = 0; i < b->nhad; i++)
		if (strcmp(b->had[i].label, label) == 0) {
			if (m->opt->exactly_once)
				return ours + b->had[i].n;
			return ours > b->had[i].n ? ours : b->had[i].n;
		}
	return ours;
}

/* Labels of had[] that no partition of this run has. */
static int
had_other(const struct markers *m, const struct bucket *b, const char *label)
{
	struct buf l = BUF_INIT;
	size_t i;
	int found = 0;

	for (i = 0; i < m->nparts && !found; i++) {
		buf_reset(&l);
		part_label(m, i, &l);
		found = strcmp(l.data, label) == 0;
	}
	buf_release(&l);
	return !found;
}

/* Partitions in order: by topic, then by number. */
static int
part_cmp(const void *a, const void *b)
{
	const struct part *p = *(const struct part *const *)a;
	const struct part *q = *(const struct part *const *)b;
	size_t n = p->baselen < q->baselen ? p->baselen : q->baselen;
	int c = memcmp(p->topic, q->topic, n);

	if (c != 0 || p->baselen != q->baselen)
		return c != 0 ? c : p->baselen < q->baselen ? -1 : 1;
	return p->index < q->index ? -1 : p->index > q->index;
}

static void
marker_body(const struct markers *m, const struct bucket *b, struct buf *out)
{
	struct buf label = BUF_INIT;
	struct timespec now;
	const struct part **order;
	uint64_t total = 0, n;
	size_t i, k;
	const char *sep = "";

	buf_addstr(out, "{\"bucket\":");
	json_string(out, b->dir);
	buf_addstr(out, ",\"start\":");
	json_time(out, b->start);
	buf_addstr(out, ",\"end\":");
	json_time(out, b->end);
	buf_addstr(out, ",\"partitions\":{");
	order = xreallocarray(NULL, m->nparts, sizeof(*order));
	for (i = 0; i < m->nparts; i++)
		order[i] = &m->parts[i];
	qsort(order, m->nparts, sizeof(*order), part_cmp);
	for (k = 0; k < m->nparts; k++) {
		i = (size_t)(order[k] - m->parts);
		buf_reset(&label);
		part_label(m, i, &label);
		n = merged(m, b, label.data, i < b->ncount ? b->count[i] : 0);
		buf_addstr(out, sep);
		json_string(out, label.data);
		buf_addf(out, ":%llu", (unsigned long long)n);
		total += n;
		sep = ",";
	}
	for (i = 0; i < b->nhad; i++)
		if (had_other(m, b, b->had[i].label)) {
			buf_addstr(out, sep);
			json_string(out, b->had[i].label);
			buf_addf(out, ":%llu", (unsigned long long)b->had[i].n);
			total += b->had[i].n;
			sep = ",";
		}
	buf_addf(out, "},\"messages\":%llu,\"written\":",
	    (unsigned long long)total);
	clock_gettime(CLOCK_REALTIME, &now);
	json_time(out, (uint64_t)now.tv_sec * 1000 +
	    (uint64_t)now.tv_nsec / 1000000);
	buf_addstr(out, "}\n");
	free(order);
	buf_release(&label);
}

/* The destination's key prefix, "" for file:// (whose keys are paths). */
static const char *
prefix_of(const struct markers *m)
{
	return m->d->prefix != NULL ? m->d->prefix : "";
}

/* Store body as key (relative to the prefix): 0, or -1 with why. */
static int
put_marker(struct markers *m, const char *key, const struct buf *body,
    char *why, size_t whylen)
{
	struct buf full = BUF_INIT;
	struct object o;
	struct target t;
	int rc = -1;

	if (m->local != NULL) {
		object_init(&o);
		buf_addstr(&o.key, key);
		o.body = body->data;
		o.len = body->len;
		rc = local_put(m->local, &o, why, whylen);
		object_release(&o);
		return rc;
	}
	buf_addf(&full, "%s%s", prefix_of(m), key);
	target_begin(&t, &m->lk.s, OP_PUT, full.data, body->data, body->len);
	buf_addstr(&t.up.o.type, "application/json");
	if (store_run(&m->lk.s, t.r, m->opt->retries, 0) == V_OK)
		rc = 0;
	else
		snprintf(why, whylen, "%s", t.r->why);
	target_end(&t);
	buf_release(&full);
	return rc;
}

static int
write_marker(struct markers *m, struct bucket *b)
{
	struct buf key = BUF_INIT, full = BUF_INIT, body = BUF_INIT;
	char why[1024];
	int rc = -1;

	buf_addf(&key, "%s/%s", b->dir, MARKER_NAME);
	buf_addf(&full, "%s%s", prefix_of(m), key.data);
	if (!b->read && m->opt->exactly_once && began_before_run(m, b)) {
		b->read = 1;
		if (count_from_index(m, b) < 0)
			goto out;
	}
	if (!b->read && read_had(m, b, key.data) < 0)
		goto out;
	marker_body(m, b, &body);
	if (put_marker(m, key.data, &body, why, sizeof(why)) < 0) {
		report_error("marker %s not written: %s", full.data, why);
		goto out;
	}
	log_info(b->late ? "marker written again (late messages)" :
	    "marker written", "key=%s", full.data);
	b->written = 1;
	b->late = 0;
	(*m->markers)++;
	rc = 0;
out:
	buf_release(&key);
	buf_release(&full);
	buf_release(&body);
	return rc;
}

/* Write every marker the watermark has reached; 0, or -1. */
static int
complete(struct markers *m)
{
	uint64_t wm = watermark(m);
	size_t i;

	*m->watermark = (double)wm / 1000;
	for (i = 0; i < m->nb; i++) {
		struct bucket *b = m->b[i];

		if ((!b->written || b->late) && b->end <= wm &&
		    write_marker(m, b) < 0)
			return -1;
	}
	forget_written(m);
	return 0;
}

/* --- objects ---------------------------------------------------------- */

uint64_t
markers_begin(struct markers *m, const struct object *o)
{
	struct pending *pe;

	if (m == NULL)
		return 0;
	if (m->qoff == m->qn)
		m->qoff = m->qn = 0;
	if (m->qn == m->qcap) {
		m->qcap = m->qcap ? 2 * m->qcap : 64;
		m->q = xreallocarray(m->q, m->qcap, sizeof(*m->q));
	}
	pe = &m->q[m->qn++];
	memset(pe, 0, sizeof(*pe));
	pe->key = xstrndup(o->key.data, o->key.len);
	pe->topic = xstrndup(o->topic.data != NULL ? o->topic.data : "",
	    o->topic.len);
	if (o->bucket.len > 0) {
		pe->dir = xstrndup(o->bucket.data, o->bucket.len);
		pe->start = o->bucket_start;
		pe->end = o->bucket_end;
		m->any_bucket = 1;
	}
	m->any_data |= o->n > 0;
	pe->n = o->has_n ? o->n : 0;
	pe->pt = o->pt_max;
	pe->has_pt = o->has_pt;
	return m->head + (m->qn - m->qoff) - 1;
}

/* The object at the head of the line counts. */
static void
count(struct markers *m, struct pending *pe)
{
	size_t part = part_of(m, pe->topic);
	struct part *p = &m->parts[part];
	struct bucket *b;

	if (pe->has_pt) {
		if (!p->has_wm)
			p->first = pe->pt;
		if (!p->has_wm || pe->pt > p->wm)
			p->wm = pe->pt;
		p->has_wm = 1;
		p->last = monotime();
	}
	if (pe->dir != NULL && pe->n > 0) {
		b = bucket_of(m, pe);
		if (b->nindexed > 0 && bsearch(&pe->key, b->indexed,
		    b->nindexed, sizeof(*b->indexed), str_cmp) != NULL)
			goto out;	/* counted from the index */
		bucket_add(b, part, pe->n);
		if (b->written) {
			log_warn("late messages: their bucket's marker is "
			    "written; it is written again", "bucket=%s n=%llu",
			    b->dir, (unsigned long long)pe->n);
			b->late = 1;
			*m->late += pe->n;
		}
	}
out:
	free(pe->topic);
	free(pe->dir);
	free(pe->key);
}

int
markers_stored(struct markers *m, uint64_t ticket)
{
	if (m == NULL)
		return 0;
	if (ticket < m->head || ticket - m->head >= m->qn - m->qoff)
		return 0;
	m->q[m->qoff + (ticket - m->head)].stored = 1;
	while (m->qoff < m->qn && m->q[m->qoff].stored) {
		count(m, &m->q[m->qoff++]);
		m->head++;
	}
	return complete(m);
}

int
markers_timeout_ms(const struct markers *m)
{
	double now, soonest = -1, left;
	size_t i;
	int open = 0;

	if (m == NULL)
		return -1;
	for (i = 0; i < m->nb && !open; i++)
		open = !m->b[i]->written || m->b[i]->late;
	if (!open)
		return -1;
	now = monotime();
	for (i = 0; i < m->nparts; i++) {
		if (part_idle(m, &m->parts[i], now))
			continue;
		left = m->parts[i].last + m->opt->marker_idle - now;
		if (soonest < 0 || left < soonest)
			soonest = left;
	}
	if (soonest < 0)
		return -1;
	/* just after the moment, so that the partition is idle then */
	return (int)(soonest * 1000) + 1;
}

int
markers_tick(struct markers *m)
{
	return m == NULL ? 0 : complete(m);
}
