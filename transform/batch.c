/* The transform loop: batching, compression, object frames; see batch.h. */
#include <err.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "buf.h"
#include "frame.h"
#include "keyval.h"
#include "log.h"
#include "metrics.h"
#include "seqs.h"
#include "topics.h"

/* Records are compressed in chunks of this size: big enough to make the
 * compressor's calls cheap, small enough to stay in the cache. */
#define STAGE_CHUNK	(256 * 1024)
/* A closed batch keeps the memory of its object up to this for the next. */
#define BODY_KEEP	(2 * STAGE_CHUNK)

/* What every batch shares: the output, scratch buffers, counters. */
struct run {
	const struct options *o;
	int		 out;
	struct topics	 topics;	/* the batches, one per topic */
	struct buf	 spill, scratch, hdr, key;
	struct buf	 schema;	/* schema_format's, when o->rows */
	struct batch	*parting;	/* whose object is out in parts */
	struct workq	*q;		/* compression threads, or NULL */
	struct fmt_conf	 conf;		/* o->conf, with q */
	struct row	 row;		/* the record converted (o->rows) */
	struct keyval	 kv;		/* the record's key time and values */
	struct msg	 msg;		/* the last message (msg_parse) */
	uint64_t	 objects;
	struct progress	 prog;
	struct {
		uint64_t *messages, *bytes, *objects, *object_bytes;
		uint64_t *rejects;
	} m;
};

/* SIGINT: 1 after the first, which lets the input end by itself. */
static volatile sig_atomic_t interrupted;

/* One topic's batch; it stays, closed, for the topic's next batch. */
struct batch {
	struct slot	 slot;		/* first: a slot is its batch */
	uint64_t	 n, bytes;	/* messages, uncompressed bytes */
	struct seqs	 seqs;
	struct msgid	 first;
	uint64_t	 first_pt, pt_min, pt_max;
	uint64_t	 key_ms;	/* the key's time: the first record's */
	uint64_t	 bucket;	/* its time bucket (key_bucket) */
	uint64_t	 bucket_lo, bucket_hi;	/* its times, when known */
	struct buf	 fields;	/* its {field:PATH} values (keyval.h) */
	struct buf	 first_id, last_id;
	/*
	 * prev_id: the last id of the object before this one in the lake
	 * (the topic's previous object, or what consume said with prev=);
	 * empty when unknown.  done_id: the last id of the topic's last
	 * object written, for the next one's prev_id.
	 */
	struct buf	 prev_id, done_id;
	struct buf	 stage;		/* records not yet compressed */
	/*
	 * The staged bytes at which the object's estimated stored size is
	 * over --max-bytes, and at which it reaches it (batch_limits).
	 */
	size_t		 over_at, full_at;
	struct buf	 body;		/* the object so far, compressed */
	uint64_t	 stored;	/* bytes of it written as P frames */
	unsigned	 parts;		/* those P frames */
	/*
	 * The open object's: its format (the data format or fmt_reject),
	 * its codec and compressor (comp[1], the reject stream's, made when
	 * first needed: only a format that compresses itself differs).
	 */
	int		 reject;
	const struct fmt_ops *fmt;
	int		 direct;	/* records go straight into body */
	uint64_t	 bytes_seen;	/* bytes at the last limit_memory */
	const char	*ext;		/* its {ext} (fmt->ext_of) */
	void		*st;		/* the data format's state */
	void		 (*st_free)(void *);
	/*
	 * --fields auto: the topic's own schema, which only widens (fields.h),
	 * its schema_format text and the format's conf naming it; a data
	 * object open has the schema it began with (a change closes it).
	 */
	struct schema	 sch;
	struct buf	 sch_text;
	struct fmt_conf	 conf;
	struct compressor comp[2];
	int		 has_comp[2];
};

/* The codec of the data (0) or reject (1) objects. */
static enum codec
codec_of(const struct options *o, int reject)
{
	return !reject && o->format->self_compressed ? CODEC_NONE : o->codec;
}

/*
 * Where the format writes: a stream format's staging buffer, or the body
 * (b->direct) when no compressor stands between (a format that compresses
 * itself, or --compress none: staging would only copy).
 */
static struct buf *
fmt_out(struct batch *b)
{
	return b->direct ? &b->body : &b->stage;
}

static const struct key_tmpl *
key_of(const struct options *o, int reject)
{
	return reject ? &o->reject_key : &o->key;
}

/* The time bucket of a record's key time in the template it goes under. */
static uint64_t
bucket_of(const struct options *o, uint64_t ms, int reject)
{
	const struct key_tmpl *t = key_of(o, reject);
	struct utc tm;

	if (t->unit == KU_NONE)
		return 0;
	tz_local(o->tz, ms, &tm);
	return key_bucket(t, &tm);
}

/*
 * The times of b's bucket, so that most records are placed by two
 * comparisons: in UTC or at a fixed offset, where a bucket is one range
 * of times (a zone's clock may go back, and show an hour twice).
 */
static void
bucket_times(const struct options *o, struct batch *b, int reject)
{
	const struct key_tmpl *t = key_of(o, reject);

	b->bucket_lo = b->bucket_hi = 0;
	if (t->unit >= KU_DAY && (o->tz == NULL || o->tz->kind != TZ_NAMED))
		key_bucket_range(t, o->tz, b->key_ms, &b->bucket_lo,
		    &b->bucket_hi);
}

/* Whether a record of key time ms goes in b's bucket. */
static int
in_bucket(const struct options *o, const struct batch *b, uint64_t ms,
    int reject)
{
	if (ms >= b->bucket_lo && ms < b->bucket_hi)
		return 1;
	return bucket_of(o, ms, reject) == b->bucket;
}

/*
 * Where --max-bytes falls in the staged bytes, found when the compressor
 * was last given bytes rather than estimated again for every record (a
 * batch without a codec counts its body instead: stored_over).
 */
static void
batch_limits(const struct options *o, struct batch *b)
{
	const struct compressor *c = &b->comp[b->reject];

	if (b->direct)
		return;
	b->over_at = comp_staged_over(c, o->max_bytes);
	b->full_at = comp_staged_over(c, o->max_bytes - 1);	/* >= 1 */
}

/* Open b with m, whose key time and values are r->kv's. */
static void
batch_open(struct run *r, struct batch *b, const struct msg *m, int reject)
{
	const struct options *o = r->o;

	topics_opened(&r->topics, &b->slot,
	    r->o->max_age > 0 ? monotime() + r->o->max_age : 0);
	b->n = b->bytes = b->bytes_seen = 0;
	b->first = m->mid;
	b->first_pt = b->pt_min = b->pt_max = m->pt;
	b->key_ms = r->kv.ms;
	b->bucket = bucket_of(o, r->kv.ms, reject);
	bucket_times(o, b, reject);
	buf_reset(&b->fields);
	buf_add(&b->fields, r->kv.fields.data, r->kv.fields.len);
	buf_reset(&b->first_id);
	buf_add(&b->first_id, m->id->val, m->id->vallen);
	buf_reset(&b->prev_id);
	if (m->prev != NULL)
		buf_add(&b->prev_id, m->prev->val, m->prev->vallen);
	else
		buf_add(&b->prev_id, b->done_id.data, b->done_id.len);
	buf_reset(&b->body);
	b->stored = 0;
	b->parts = 0;
	seqs_clear(&b->seqs);
	b->reject = reject;
	b->fmt = reject ? &fmt_reject : o->format;
	b->direct = codec_of(o, reject) == CODEC_NONE;
	if (!b->has_comp[reject]) {
		comp_init(&b->comp[reject], codec_of(o, reject), o->level);
		comp_attach(&b->comp[reject], r->q);
		b->has_comp[reject] = 1;
	}
	comp_begin(&b->comp[reject]);
	batch_limits(o, b);
	b->fmt->begin(reject ? NULL : b->st, fmt_out(b));
	/* a header counts (a format that compresses itself counts its own) */
	b->bytes = b->fmt->self_compressed ? 0 : fmt_out(b)->len;
}

/*
 * Append the key of b's object to r->key; the length of its time bucket's
 * directory, 0 for none (and for the reject stream: no markers there).
 */
static size_t
make_key(struct run *r, struct batch *b)
{
	struct key_vars v;
	char ext[32];
	size_t dirlen;

	/* once its first part is out, an object's key stays */
	if (b->parts == 0)
		b->ext = b->fmt->ext_of != NULL && !b->reject ?
		    b->fmt->ext_of(b->st) : b->fmt->ext;
	snprintf(ext, sizeof(ext), "%s%s", b->ext,
	    codec_suffix(codec_of(r->o, b->reject)));
	v.topic = b->slot.name.data;
	v.topiclen = b->slot.name.len;
	v.ledger = b->first.ledger;
	v.entry = b->first.entry;
	v.partition = b->first.partition;
	v.batch = b->first.batch;
	v.pt_ms = b->key_ms;
	v.tz = r->o->tz;
	v.ext = ext;
	v.fields = b->fields.data;
	v.fieldslen = b->fields.len;
	buf_reset(&r->key);
	if (key_render_bucket(key_of(r->o, b->reject), &v, &r->key,
	    &dirlen) < 0)
		errx(EXIT_FAIL, "object key for message %s would be unsafe or "
		    "longer than %d bytes", b->first_id.data, KEY_MAX);
	return b->reject ? 0 : dirlen;
}

/* bucket=, bucket_start=, bucket_end= of the object (for deliver --markers). */
static void
add_bucket(struct run *r, struct batch *b, struct buf *hdr, size_t dirlen)
{
	uint64_t start, end;

	key_bucket_range(&r->o->key, r->o->tz, b->key_ms, &start, &end);
	frame_add(hdr, "bucket", r->key.data, dirlen);
	frame_add_u64(hdr, "bucket_start", start);
	frame_add_u64(hdr, "bucket_end", end);
}

/* The next stage is gone (EPIPE) or stdout broke: nothing more to do. */
static void __attribute__((noreturn))
write_failed(void)
{
	if (errno == EPIPE)
		errx(EXIT_FAIL, "stdout closed by the reader: stopping (the "
		    "messages not written are not acknowledged)");
	err(EXIT_FAIL, "stdout");
}

static void batch_close(struct run *, struct batch *, const char *);

/*
 * Write the object's stored bytes beyond the part size as P frames of
 * part_size bytes, keeping the rest (at least one byte, so that the O
 * frame is never empty after parts).  Another object out in parts is
 * closed first: frames of two objects never interleave.
 */
static void
flush_parts(struct run *r, struct batch *b)
{
	size_t ps = r->o->part_size;
	struct buf *hdr = &r->hdr;
	const char *enc;

	if (b->body.len <= ps)
		return;
	enc = codec_enc(codec_of(r->o, b->reject));
	if (r->parting != NULL && r->parting != b)
		batch_close(r, r->parting, "parts");
	r->parting = b;
	(void)make_key(r, b);
	while (b->body.len > ps) {
		buf_reset(hdr);
		frame_begin(hdr, 'P', ps);
		frame_add(hdr, "key", r->key.data, r->key.len);
		frame_add_str(hdr, "type", b->fmt->type);
		if (enc != NULL)
			frame_add_str(hdr, "enc", enc);
		frame_add(hdr, "first", b->first_id.data, b->first_id.len);
		if (frame_write(r->out, hdr, b->body.data, ps) < 0)
			write_failed();
		buf_consume(&b->body, ps);
		b->stored += ps;
		b->parts++;
		*r->m.object_bytes += ps;
	}
}

static void
batch_close(struct run *r, struct batch *b, const char *why)
{
	const char *enc = codec_enc(codec_of(r->o, b->reject));
	struct compressor *c = &b->comp[b->reject];
	struct buf *hdr = &r->hdr;
	size_t dirlen;

	if (!b->slot.open)
		return;
	b->fmt->end(b->reject ? NULL : b->st, fmt_out(b));
	comp_write(c, &b->body, b->stage.data, b->stage.len);	/* waits */
	buf_reset(&b->stage);
	comp_end(c, &b->body);
	flush_parts(r, b);
	dirlen = make_key(r, b);
	buf_reset(hdr);
	frame_begin(hdr, 'O', b->body.len);
	frame_add(hdr, "key", r->key.data, r->key.len);
	buf_addstr(hdr, " topic=");
	buf_add(hdr, b->slot.raw.data, b->slot.raw.len);
	frame_add_str(hdr, "type", b->fmt->type);
	if (enc != NULL)
		frame_add_str(hdr, "enc", enc);
	frame_add_u64(hdr, "n", b->n);
	buf_addstr(hdr, " seqs=");
	seqs_format(hdr, &b->seqs);
	frame_add(hdr, "first", b->first_id.data, b->first_id.len);
	frame_add(hdr, "last", b->last_id.data, b->last_id.len);
	if (b->prev_id.len > 0)
		frame_add(hdr, "prev", b->prev_id.data, b->prev_id.len);
	buf_addf(hdr, " pt=%llu-%llu", (unsigned long long)b->pt_min,
	    (unsigned long long)b->pt_max);
	frame_add_u64(hdr, "size", b->bytes);
	if (r->o->schema.infer && !b->reject)
		frame_add(hdr, "schema", b->sch_text.data, b->sch_text.len);
	else if (r->schema.len > 0 && !b->reject)
		frame_add(hdr, "schema", r->schema.data, r->schema.len);
	if (dirlen > 0)
		add_bucket(r, b, hdr, dirlen);
	if (b->parts > 0)
		frame_add_u64(hdr, "parts", b->parts);
	if (frame_write(r->out, hdr, b->body.data, b->body.len) < 0)
		write_failed();
	log_debug("object", "key=%s n=%llu bytes=%llu stored_bytes=%llu "
	    "parts=%u why=%s", r->key.data, (unsigned long long)b->n,
	    (unsigned long long)b->bytes,
	    (unsigned long long)(b->stored + b->body.len), b->parts, why);
	if (r->parting == b)
		r->parting = NULL;
	buf_reset(&b->done_id);
	buf_add(&b->done_id, b->last_id.data, b->last_id.len);
	r->objects++;
	(*r->m.objects)++;
	*r->m.object_bytes += b->body.len;
	if (b->body.cap > BODY_KEEP)
		buf_release(&b->body);	/* a part's worth, idle till it fills */
	topics_closed(&r->topics, &b->slot);
}

/* Close every open batch, oldest first; with due, only those due by now. */
static void
close_open(struct run *r, int due, const char *why)
{
	struct slot *s;
	double now = monotime();

	while ((s = r->topics.oldest) != NULL &&
	    (!due || (s->deadline != 0 && s->deadline <= now)))
		batch_close(r, (struct batch *)s, why);
}

/*
 * --fields auto: next (moved, the caller's copy left empty) becomes the
 * batch's schema, and the format's state is made again for it; no data
 * object may be open.
 */
static void
batch_schema(const struct run *r, struct batch *b, struct schema *next)
{
	const struct fmt_ops *f = r->o->format;

	if (b->st != NULL)
		b->st_free(b->st);
	schema_free(&b->sch);
	b->sch = *next;
	memset(next, 0, sizeof(*next));
	buf_reset(&b->sch_text);
	schema_format(&b->sch_text, &b->sch);
	b->conf = r->conf;
	b->conf.schema = &b->sch;
	b->st = f->state_new != NULL ? f->state_new(&b->conf) : NULL;
}

/* --fields auto: the batch starts again from the metadata columns. */
static void
batch_schema_reset(const struct run *r, struct batch *b)
{
	struct schema base;

	schema_copy(&base, &r->o->schema);
	batch_schema(r, b, &base);
}

static struct batch *
batch_new(const struct run *r)
{
	const struct options *o = r->o;
	struct batch *b = xcalloc(1, sizeof(*b));

	buf_init(&b->first_id, 64);
	buf_init(&b->last_id, 64);
	buf_init(&b->prev_id, 64);
	buf_init(&b->done_id, 64);
	buf_init(&b->stage, 0);
	buf_init(&b->body, 0);
	buf_init(&b->sch_text, 0);
	buf_init(&b->fields, 0);
	b->fmt = o->format;
	b->st_free = o->format->state_free;
	if (o->schema.infer)
		batch_schema_reset(r, b);
	else if (o->format->state_new != NULL)
		b->st = o->format->state_new(&r->conf);
	return b;
}

static void
batch_free(struct slot *s)
{
	struct batch *b = (struct batch *)s;

	seqs_free(&b->seqs);
	buf_release(&b->first_id);
	buf_release(&b->last_id);
	buf_release(&b->prev_id);
	buf_release(&b->done_id);
	buf_release(&b->stage);
	buf_release(&b->body);
	if (b->has_comp[0])
		comp_free(&b->comp[0]);
	if (b->has_comp[1])
		comp_free(&b->comp[1]);
	if (b->st != NULL)
		b->st_free(b->st);
	schema_free(&b->sch);
	buf_release(&b->sch_text);
	buf_release(&b->fields);
	free(b);
}

/*
 * The batch of the message's topic: its own, a new one, or one taken over
 * from another topic when --max-open are there already (an idle one, else
 * the oldest, flushed first).
 */
static struct batch *
batch_of(struct run *r, const struct msg *m)
{
	const char *val = m->topic->val;
	size_t n = m->topic->vallen;
	struct slot *s;
	struct batch *b;

	if ((s = topics_find(&r->topics, val, n)) != NULL)
		return (struct batch *)s;
	if ((s = topics_victim(&r->topics)) == NULL) {
		b = batch_new(r);
		topics_add(&r->topics, &b->slot, val, n);
		return b;
	}
	b = (struct batch *)s;
	batch_close(r, b, "max-open");
	topics_reuse(&r->topics, s, val, n);
	buf_reset(&b->done_id);		/* another topic's */
	if (r->o->schema.infer)
		batch_schema_reset(r, b);	/* another topic's too */
	return b;
}

/*
 * --fields auto: the record does not fit the batch's schema; widen it
 * (the data object open is closed first: an object has one schema) and
 * convert the record again.  0, or -1 (a reject, row->why) if it cannot
 * be widened, the schema then unchanged.
 */
static int
widen(struct run *r, struct batch *b, const struct msg *m)
{
	struct schema next;
	int rc;

	schema_copy(&next, &b->sch);
	if (schema_widen(&next, &r->row, &r->scratch) < 0) {
		schema_free(&next);
		return -1;
	}
	if (b->slot.open && !b->reject)
		batch_close(r, b, "schema");
	batch_schema(r, b, &next);
	if ((rc = row_make(&r->row, &b->sch, m, &r->scratch)) > 0)
		errx(EXIT_FAIL, "message %.*s: the widened schema does not "
		    "fit it (a bug)", (int)m->id->vallen, m->id->val);
	return rc;
}

/*
 * Convert the message when --fields (or the format) asks for rows: the
 * row, or NULL; *reject set when it cannot be converted (row->why).
 */
static const struct row *
convert(struct run *r, struct batch *b, const struct msg *m, int *reject)
{
	int rc;

	*reject = 0;
	if (!r->o->rows)
		return NULL;
	rc = row_make(&r->row, r->o->schema.infer ? &b->sch : &r->o->schema,
	    m, &r->scratch);
	if (rc > 0)
		rc = widen(r, b, m);
	if (rc < 0) {
		*reject = 1;
		(*r->m.rejects)++;
		log_verbose("reject: message %.*s: %s", (int)m->id->vallen,
		    m->id->val, r->row.why);
	}
	return &r->row;
}

/*
 * Whether the open object's size as stored is over --max-bytes (full:
 * has reached it): exact without a codec, else estimated (comp_estimate,
 * through batch_limits).  A format that compresses itself counts its own
 * estimate (Parquet: pq_size) in b->bytes.
 */
static int
stored_over(const struct options *o, const struct batch *b, int full)
{
	uint64_t n;

	if (b->fmt->self_compressed)
		return full ? b->bytes >= o->max_bytes : b->bytes > o->max_bytes;
	if (!b->direct)
		return b->stage.len >= (full ? b->full_at : b->over_at);
	n = b->stored + b->body.len;
	return full ? n >= o->max_bytes : n > o->max_bytes;
}

/*
 * Give the staged records to the compressor (its thread compresses them
 * while the next are built).  The chunks it reaps are in the body, whose
 * parts go out now: the same with threads or without (compress.h), so
 * the frames and where objects are cut are too.
 */
static void
submit_stage(struct run *r, struct batch *b)
{
	struct compressor *c = &b->comp[b->reject];

	comp_submit(c, &b->body, &b->stage);
	flush_parts(r, b);
	batch_limits(r->o, b);
}

/*
 * What an open batch holds: its staged records, the bytes of its object
 * not out yet, and what its format's state holds (Parquet's row group).
 * (The one object out in parts also keeps the memory of a part it
 * wrote, until it closes.)
 */
static size_t
batch_held(const struct batch *b)
{
	size_t n = b->stage.len + b->body.len;

	if (b->fmt->held != NULL && !b->reject)
		n += b->fmt->held(b->st);
	return n;
}

/*
 * Past --max-memory, the open batches together, the oldest is written
 * out, as if full, until they are below it: each may hold up to a part
 * of its object, and with many partitions or time buckets open the sum
 * would grow with their number.  The oldest, as for --max-open: a
 * partition that has had few messages since its batch opened (and that
 * --max-age would cut next) goes before a busy one.  The object out in
 * parts goes last: what it holds is at most a part, and it is on its way.
 */
static void
limit_memory(struct run *r)
{
	struct slot *s;
	struct batch *victim;
	size_t held;

	for (;;) {
		held = 0;
		victim = NULL;
		for (s = r->topics.oldest; s != NULL; s = s->next) {
			held += batch_held((struct batch *)s);
			if (victim == NULL && (struct batch *)s != r->parting)
				victim = (struct batch *)s;
		}
		if (held <= r->o->max_memory)
			return;
		if (victim == NULL)
			victim = r->parting;
		batch_close(r, victim, "max-memory");
	}
}

/* Add one message to its topic's batch (opening it if needed). */
static void
batch_add(struct run *r, const struct msg *m)
{
	struct batch *b = batch_of(r, m);
	const struct options *o = r->o;
	const struct row *row;
	size_t start, len;
	int reject;

	row = convert(r, b, m, &reject);
	if (b->slot.open && m->cut && b->n > 0)
		batch_close(r, b, "cut");	/* consume skipped what is stored */
	if (b->slot.open && b->reject != reject && b->n > 0)
		batch_close(r, b, reject ? "reject" : "accept");
	/*
	 * Another time bucket or field value: the batch closes rather than a
	 * second one of the partition opening, so that an object stays a
	 * contiguous run of the partition (exactly once's index); publish
	 * time only grows.
	 */
	keyval_make(&r->kv, &o->ktime, key_of(o, reject), m);
	if (b->slot.open && b->n > 0 && !in_bucket(o, b, r->kv.ms, reject))
		batch_close(r, b, "time-bucket");
	if (b->slot.open && b->n > 0 && (b->fields.len != r->kv.fields.len ||
	    memcmp(b->fields.data, r->kv.fields.data, b->fields.len) != 0))
		batch_close(r, b, "field");
	if (!b->slot.open)
		batch_open(r, b, m, reject);
	start = fmt_out(b)->len;
	len = b->fmt->add(reject ? NULL : b->st, fmt_out(b), m, row);
	if (b->n > 0 && !b->fmt->self_compressed && stored_over(o, b, 0)) {
		/* Would overflow: this record starts the next object. */
		buf_reset(&r->spill);
		buf_add(&r->spill, fmt_out(b)->data + start, len);
		buf_setlen(fmt_out(b), start);
		batch_close(r, b, "max-bytes");
		batch_open(r, b, m, reject);
		buf_add(fmt_out(b), r->spill.data, len);
	}
	b->n++;
	b->bytes += len;
	if (m->pt < b->pt_min)
		b->pt_min = m->pt;
	if (m->pt > b->pt_max)
		b->pt_max = m->pt;
	seqs_add(&b->seqs, m->seq);
	buf_reset(&b->last_id);
	buf_add(&b->last_id, m->id->val, m->id->vallen);
	if (b->stage.len >= STAGE_CHUNK) {
		submit_stage(r, b);
		limit_memory(r);
	} else if (b->direct) {
		flush_parts(r, b);
		/* looked at every chunk's worth, as the staged are */
		if (b->bytes - b->bytes_seen >= STAGE_CHUNK) {
			b->bytes_seen = b->bytes;
			limit_memory(r);
		}
	}
	if (!b->slot.open)
		return;		/* written out by limit_memory */
	if (b->n >= o->max_messages)
		batch_close(r, b, "max-messages");
	else if (stored_over(o, b, 1))
		batch_close(r, b, "max-bytes");
}

/* The earlier of two poll(2) timeouts, -1 being none. */
static int
earlier(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/*
 * Milliseconds poll(2) may wait: until the oldest open batch is due, which
 * is the first due, as every batch gets the same --max-age.
 */
static int
age_timeout(const struct run *r)
{
	const struct slot *s = r->topics.oldest;
	double left;

	if (s == NULL || s->deadline == 0)
		return -1;
	left = s->deadline - monotime();
	if (left <= 0)
		return 0;
	return left > 86400 ? 86400 * 1000 : (int)ceil(left * 1000);
}

static void
on_sigint(int sig)
{
	if (interrupted) {	/* the second: at once */
		(void)signal(sig, SIG_DFL);
		(void)raise(sig);
	}
	interrupted = 1;
}

/*
 * A first SIGINT (a terminal's Ctrl-C reaches the whole pipeline) lets
 * consume end the input, so that every batch is written; one ignored at
 * start (a background job) stays ignored.
 */
static void
catch_signals(void)
{
	struct sigaction sa;

	(void)signal(SIGPIPE, SIG_IGN);		/* EPIPE is reported */
	if (sigaction(SIGINT, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
}

static void
count_init(struct run *r)
{
	r->m.messages = metrics_counter("messages_total",
	    "Messages read.");
	r->m.bytes = metrics_counter("bytes_total",
	    "Payload bytes of the messages read.");
	r->m.objects = metrics_counter("objects_total", "Objects written.");
	r->m.object_bytes = metrics_counter("object_bytes_total",
	    "Bytes of the objects written, as stored (compressed).");
	r->m.rejects = metrics_counter("rejects_total",
	    "Records that could not be converted, written to the reject "
	    "stream.");
}

/*
 * A flush frame: consume may emit no more until its oldest message not
 * acknowledged (base=) is.  When an open batch holds it, the stream
 * waits on us: every open batch is written out.  When none does, it is
 * downstream already (deliver storing it), and cutting would only make
 * objects smaller.  Without base=, every open batch is written.
 */
static void
on_flush(struct run *run, const struct frame *f)
{
	struct slot *s;
	uint64_t base;

	if (frame_get_u64(f, "base", &base) == 1) {
		for (s = run->topics.oldest; s != NULL; s = s->next)
			if (seqs_contains(&((struct batch *)s)->seqs, base))
				break;
		if (s == NULL) {
			log_debug("flush not needed", "base=%llu",
			    (unsigned long long)base);
			return;
		}
	}
	close_open(run, 0, "flush");
}

/* Parse every frame that is buffered; 0, or -1 on a malformed one. */
static int
drain(struct run *run, struct frame_reader *r, struct frame *f)
{
	struct msg *m = &run->msg;
	const char *why;
	uint64_t n = 0, bytes = 0;
	int rc;

	while ((rc = frame_next(r, f)) == FRAME_OK) {
		if (f->type == 'F') {
			on_flush(run, f);
			continue;
		}
		if (f->type != 'M') {
			log_verbose("byte %llu: skipping a frame of type %c",
			    (unsigned long long)f->offset, f->type);
			continue;
		}
		if (msg_parse(m, f, &why) < 0) {
			snprintf(r->err, sizeof(r->err), "%s: byte %llu: %s",
			    r->name, (unsigned long long)f->offset, why);
			return -1;
		}
		batch_add(run, m);
		n++;
		bytes += m->len;
	}
	progress_add(&run->prog, n, bytes);
	*run->m.messages += n;
	*run->m.bytes += bytes;
	return rc == FRAME_ERR ? -1 : 0;
}

/* The finished line: rejects=N too when there were any. */
static void
log_finished(const struct run *r)
{
	if (*r->m.rejects > 0)
		log_info("finished", "messages=%llu objects=%llu rejects=%llu",
		    (unsigned long long)*r->m.messages,
		    (unsigned long long)r->objects,
		    (unsigned long long)*r->m.rejects);
	else
		log_info("finished", "messages=%llu objects=%llu",
		    (unsigned long long)*r->m.messages,
		    (unsigned long long)r->objects);
}

int
transform_run(const struct options *o, int in, int out)
{
	struct run run;
	struct frame_reader r;
	struct frame f;
	struct pollfd pfd;
	int status = EXIT_OK, t;
	ssize_t got;

	memset(&run, 0, sizeof(run));
	run.o = o;
	run.out = out;
	topics_init(&run.topics, o->max_open);
	buf_init(&run.spill, 0);
	buf_init(&run.scratch, 0);
	buf_init(&run.hdr, 256);
	buf_init(&run.key, 256);
	buf_init(&run.kv.fields, 0);
	buf_init(&run.kv.scratch, 0);
	row_init(&run.row, &o->schema);
	buf_init(&run.schema, 0);
	if (o->rows)
		schema_format(&run.schema, &o->schema);
	if (o->threads > 0)
		run.q = workq_new(o->threads);
	run.conf = o->conf;
	run.conf.q = run.q;
	progress_init(&run.prog, o->progress, "messages");
	count_init(&run);
	catch_signals();
	frame_reader_init(&r, in, "stdin");
	frame_init(&f);
	for (;;) {
		if (drain(&run, &r, &f) < 0) {
			/*
			 * The open batches are dropped: every object written
			 * is one that a clean run would write too (the P
			 * frames of one in parts end without their O frame,
			 * which deliver refuses).
			 */
			log_error(r.err, "");
			status = EXIT_FAIL;
			break;
		}
		if (frame_reader_done(&r))
			break;
		if (interrupted == 1) {
			interrupted = 2;
			log_info("interrupted", "then=%s", "writing every batch "
			    "at the end of input (interrupt again to stop now)");
		}
		progress_tick(&run.prog, run.key.len > 0 ? run.key.data :
		    NULL);
		metrics_tick();
		if ((t = age_timeout(&run)) == 0) {
			close_open(&run, 1, "max-age");
			continue;
		}
		t = earlier(t, earlier(progress_timeout_ms(&run.prog),
		    metrics_timeout_ms()));
		pfd.fd = in;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, t) < 0) {
			if (errno == EINTR)
				continue;
			err(EXIT_FAIL, "poll");
		}
		if (pfd.revents == 0)
			continue;	/* timed out: closed above next time */
		if ((got = frame_reader_fill(&r)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			err(EXIT_FAIL, "read stdin");
		}
	}
	if (status == EXIT_OK)
		close_open(&run, 0, "end of input");
	progress_done(&run.prog);
	(void)metrics_flush();
	if (status == EXIT_OK)
		log_finished(&run);
	frame_release(&f);
	frame_reader_release(&r);
	topics_release(&run.topics, batch_free);
	workq_free(run.q);
	buf_release(&run.spill);
	buf_release(&run.scratch);
	buf_release(&run.hdr);
	buf_release(&run.key);
	buf_release(&run.schema);
	row_free(&run.row);
	keyval_free(&run.kv);
	return status;
}
