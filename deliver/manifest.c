/* Object manifests and index entries; see manifest.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "manifest.h"
#include "msgid.h"
#include "object.h"

void
manifest_init(struct manifest *m)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->key, 0);
	buf_init(&m->topic, 0);
	buf_init(&m->enc, 0);
	buf_init(&m->type, 0);
	buf_init(&m->schema, 0);
}

void
manifest_release(struct manifest *m)
{
	buf_release(&m->key);
	buf_release(&m->topic);
	buf_release(&m->enc);
	buf_release(&m->type);
	buf_release(&m->schema);
	manifest_init(m);
}

static int
fail(char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "%s", what);
	return -1;
}

int
manifest_of_object(struct manifest *m, const struct object *o, uint64_t crc,
    char *why, size_t whylen)
{
	manifest_release(m);
	if (o->topic.len == 0)
		return fail(why, whylen, "no topic= in the object frame "
		    "(--exactly-once needs transform 2026-12 or later)");
	if (msgid_parse(&m->first, o->first.data, o->first.len) < 0 ||
	    msgid_parse(&m->last, o->last.data, o->last.len) < 0)
		return fail(why, whylen, "no valid first= and last= message "
		    "ids in the object frame (needed by --exactly-once)");
	if (m->first.partition != m->last.partition ||
	    msgid_cmp(&m->first, &m->last) > 0)
		return fail(why, whylen, "first= and last= are not one "
		    "partition's range");
	if (o->prev.len > 0) {
		if (msgid_parse(&m->prev, o->prev.data, o->prev.len) < 0)
			return fail(why, whylen, "malformed prev= message id");
		m->has_prev = 1;
	}
	buf_add(&m->key, o->key.data, o->key.len);
	buf_add(&m->topic, o->topic.data, o->topic.len);
	buf_add(&m->enc, o->enc.data, o->enc.len);
	buf_add(&m->type, o->type.data, o->type.len);
	buf_add(&m->schema, o->schema.data, o->schema.len);
	m->n = o->has_n ? o->n : 0;
	m->pt_min = o->has_pt ? o->pt_min : 0;
	m->pt_max = o->has_pt ? o->pt_max : 0;
	m->size = o->total;
	m->crc = crc;
	return 0;
}

static int
same_text(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

int
manifest_same_messages(const struct manifest *a, const struct manifest *b)
{
	return same_text(&a->key, &b->key) && same_text(&a->topic, &b->topic) &&
	    a->first.partition == b->first.partition &&
	    msgid_cmp(&a->first, &b->first) == 0 &&
	    a->last.partition == b->last.partition &&
	    msgid_cmp(&a->last, &b->last) == 0 &&
	    (a->n == b->n || a->n == 0 || b->n == 0);
}

static void
add_id(struct buf *out, const char *name, const struct msgid *id)
{
	buf_addf(out, " %s=", name);
	msgid_format(out, id);
}

void
manifest_format(struct buf *out, const struct manifest *m)
{
	frame_begin_nobody(out, 'I');
	frame_add(out, "key", m->key.data, m->key.len);
	frame_add(out, "topic", m->topic.data, m->topic.len);
	buf_addf(out, " partition=%d", (int)m->first.partition);
	add_id(out, "first", &m->first);
	add_id(out, "last", &m->last);
	if (m->has_prev)
		add_id(out, "prev", &m->prev);
	buf_addf(out, " n=%llu pt=%llu-%llu size=%llu crc64=%llu",
	    (unsigned long long)m->n, (unsigned long long)m->pt_min,
	    (unsigned long long)m->pt_max, (unsigned long long)m->size,
	    (unsigned long long)m->crc);
	if (m->enc.len > 0)
		frame_add(out, "enc", m->enc.data, m->enc.len);
	if (m->type.len > 0)
		frame_add(out, "type", m->type.data, m->type.len);
	if (m->schema.len > 0)
		frame_add(out, "schema", m->schema.data, m->schema.len);
	buf_addch(out, '\n');
}

static int
get_id(const struct frame *f, const char *name, struct msgid *id,
    struct buf *tmp)
{
	buf_reset(tmp);
	if (frame_get(f, name, tmp) <= 0)
		return -1;
	return msgid_parse(id, tmp->data, tmp->len);
}

/* pt=MIN-MAX */
static int
get_range(const struct frame *f, uint64_t *lo, uint64_t *hi)
{
	const struct frame_field *fl = frame_field(f, "pt");
	char tmp[48], *dash, *e1, *e2;

	if (fl == NULL || fl->vallen >= sizeof(tmp))
		return -1;
	memcpy(tmp, fl->val, fl->vallen);
	tmp[fl->vallen] = '\0';
	if ((dash = strchr(tmp, '-')) == NULL)
		return -1;
	*dash = '\0';
	*lo = strtoull(tmp, &e1, 10);
	*hi = strtoull(dash + 1, &e2, 10);
	return *e1 == '\0' && *e2 == '\0' && e1 != tmp && e2 != dash + 1 ?
	    0 : -1;
}

int
manifest_parse(struct manifest *m, const char *line, size_t len, char *why,
    size_t whylen)
{
	struct frame f;
	struct buf tmp = BUF_INIT;
	const char *fwhy;
	int rc = -1;

	manifest_release(m);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	frame_init(&f);
	if (frame_parse_header(&f, line, len, 0, &fwhy) < 0) {
		snprintf(why, whylen, "malformed index line: %s", fwhy);
		goto out;
	}
	if (f.type != 'I' || f.has_body) {
		snprintf(why, whylen, "not an index line (type I)");
		goto out;
	}
	if (frame_get(&f, "key", &m->key) <= 0 ||
	    frame_get(&f, "topic", &m->topic) <= 0 ||
	    get_id(&f, "first", &m->first, &tmp) < 0 ||
	    get_id(&f, "last", &m->last, &tmp) < 0 ||
	    frame_get_u64(&f, "n", &m->n) <= 0 ||
	    frame_get_u64(&f, "size", &m->size) <= 0 ||
	    frame_get_u64(&f, "crc64", &m->crc) <= 0 ||
	    get_range(&f, &m->pt_min, &m->pt_max) < 0 ||
	    frame_get(&f, "enc", &m->enc) < 0 ||
	    frame_get(&f, "type", &m->type) < 0 ||
	    frame_get(&f, "schema", &m->schema) < 0) {
		snprintf(why, whylen, "index line without a valid key, topic, "
		    "first, last, n, pt, size or crc64");
		goto out;
	}
	if (frame_field(&f, "prev") != NULL) {
		if (get_id(&f, "prev", &m->prev, &tmp) < 0) {
			snprintf(why, whylen, "index line with a bad prev=");
			goto out;
		}
		m->has_prev = 1;
	}
	rc = 0;
out:
	buf_release(&tmp);
	frame_release(&f);
	return rc;
}

static int
safe_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '=';
}

/* Make the segment from start to the end of out never empty nor dots. */
static void
safe_segment(struct buf *out, size_t start)
{
	size_t n = out->len - start;
	const char *s = out->data + start;

	if (n == 0 || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.')) {
		buf_setlen(out, start);
		buf_addch(out, '_');
	}
}

/*
 * "persistent://t/ns/orders-partition-2" as the path
 * "persistent/t/ns/orders-partition-2/": the scheme's "://" a '/', every
 * byte a key may not hold a '_', and empty, "." and ".." segments '_'.
 */
void
manifest_topic_dir(struct buf *out, const char *t, size_t n)
{
	size_t i, seg;

	buf_addstr(out, INDEX_DIR);
	seg = out->len;
	for (i = 0; i < n; i++) {
		if (t[i] == ':' && i + 2 < n && t[i + 1] == '/' &&
		    t[i + 2] == '/')
			i += 2;		/* the scheme's "://" is one '/' */
		else if (t[i] != '/') {
			buf_addch(out, safe_char((unsigned char)t[i]) ?
			    t[i] : '_');
			continue;
		}
		safe_segment(out, seg);
		buf_addch(out, '/');
		seg = out->len;
	}
	safe_segment(out, seg);
	buf_addch(out, '/');
}

static void
add_padded(struct buf *out, const struct msgid *id)
{
	buf_addf(out, "%020lld.%020lld.%010lld", (long long)id->ledger,
	    (long long)id->entry, (long long)id->batch + 1);
}

void
manifest_index_key(struct buf *out, const struct manifest *m)
{
	manifest_topic_dir(out, m->topic.data, m->topic.len);
	add_padded(out, &m->first);
	buf_addch(out, '_');
	add_padded(out, &m->last);
}

static const char *
parse_padded(const char *s, struct msgid *id)
{
	long long v[3];
	int i, k;

	for (i = 0; i < 3; i++) {
		v[i] = 0;
		for (k = 0; k < (i == 2 ? 10 : 20); k++, s++) {
			if (*s < '0' || *s > '9' || v[i] > (INT64_MAX - 9) / 10)
				return NULL;
			v[i] = v[i] * 10 + (*s - '0');
		}
		if (i < 2 && *s++ != '.')
			return NULL;
	}
	if (v[2] > INT32_MAX)
		return NULL;
	id->ledger = v[0];
	id->entry = v[1];
	id->batch = (int32_t)(v[2] - 1);
	id->partition = -1;
	return s;
}

int
manifest_name_range(const char *name, struct msgid *first,
    struct msgid *last)
{
	const char *p;

	if ((p = parse_padded(name, first)) == NULL || *p++ != '_' ||
	    (p = parse_padded(p, last)) == NULL || *p != '\0')
		return -1;
	return 0;
}

int
manifest_cmp(const void *a, const void *b)
{
	const struct manifest *x = *(const struct manifest *const *)a;
	const struct manifest *y = *(const struct manifest *const *)b;
	size_t n = x->topic.len < y->topic.len ? x->topic.len : y->topic.len;
	int c = memcmp(x->topic.data, y->topic.data, n);

	if (c != 0)
		return c;
	if (x->topic.len != y->topic.len)
		return x->topic.len < y->topic.len ? -1 : 1;
	return msgid_cmp(&x->first, &y->first);
}
