/* The transform loop: batching, compression, object frames; see batch.h. */
#include <err.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "buf.h"
#include "frame.h"
#include "log.h"
#include "pct.h"
#include "seqs.h"

/* Records are compressed in chunks of this size: big enough to make the
 * compressor's calls cheap, small enough to stay in the cache. */
#define STAGE_CHUNK	(256 * 1024)

struct batch {
	const struct options *o;
	int		 out;
	int		 open;
	uint64_t	 n, bytes;	/* messages, uncompressed bytes */
	double		 deadline;	/* monotime() when it must close */
	struct seqs	 seqs;
	struct msgid	 first;
	uint64_t	 first_pt;
	struct buf	 first_id, last_id, topic;
	struct buf	 stage;		/* records not yet compressed */
	struct buf	 body;		/* the object so far, compressed */
	struct buf	 spill, scratch, hdr, key;
	struct compressor comp;
	uint64_t	 objects;
	struct progress	 prog;
};

static const char *
content_type(enum format f)
{
	return f == FMT_JSONL ? "application/x-ndjson" :
	    "application/octet-stream";
}

static void
batch_open(struct batch *b, const struct msg *m)
{
	b->open = 1;
	b->n = b->bytes = 0;
	b->deadline = b->o->max_age > 0 ? monotime() + b->o->max_age : 0;
	b->first = m->mid;
	b->first_pt = m->pt;
	buf_reset(&b->first_id);
	buf_add(&b->first_id, m->id->val, m->id->vallen);
	buf_reset(&b->topic);
	if (pct_decode(&b->topic, m->topic->val, m->topic->vallen) < 0)
		buf_add(&b->topic, m->topic->val, m->topic->vallen);
	buf_reset(&b->body);
	seqs_clear(&b->seqs);
	comp_begin(&b->comp);
}

static void
make_key(struct batch *b)
{
	struct key_vars v;
	char ext[32];

	snprintf(ext, sizeof(ext), "%s%s",
	    b->o->format == FMT_JSONL ? "jsonl" : "txt",
	    codec_suffix(b->o->codec));
	v.topic = b->topic.data;
	v.topiclen = b->topic.len;
	v.ledger = b->first.ledger;
	v.entry = b->first.entry;
	v.partition = b->first.partition;
	v.batch = b->first.batch;
	v.pt_ms = b->first_pt;
	v.ext = ext;
	buf_reset(&b->key);
	if (key_render(&b->o->key, &v, &b->key) < 0)
		errx(EXIT_FAIL, "object key for message %s would be unsafe or "
		    "longer than %d bytes", b->first_id.data, KEY_MAX);
}

static void
batch_close(struct batch *b, const char *why)
{
	const char *enc = codec_enc(b->o->codec);

	if (!b->open)
		return;
	comp_write(&b->comp, &b->body, b->stage.data, b->stage.len);
	buf_reset(&b->stage);
	comp_end(&b->comp, &b->body);
	make_key(b);
	buf_reset(&b->hdr);
	frame_begin(&b->hdr, 'O', b->body.len);
	frame_add(&b->hdr, "key", b->key.data, b->key.len);
	frame_add_str(&b->hdr, "type", content_type(b->o->format));
	if (enc != NULL)
		frame_add_str(&b->hdr, "enc", enc);
	frame_add_u64(&b->hdr, "n", b->n);
	buf_addstr(&b->hdr, " seqs=");
	seqs_format(&b->hdr, &b->seqs);
	frame_add(&b->hdr, "first", b->first_id.data, b->first_id.len);
	frame_add(&b->hdr, "last", b->last_id.data, b->last_id.len);
	frame_add_u64(&b->hdr, "pt", b->first_pt);
	frame_add_u64(&b->hdr, "size", b->bytes);
	if (frame_write(b->out, &b->hdr, b->body.data, b->body.len) < 0)
		err(EXIT_FAIL, "stdout");
	log_verbose("object %s: %llu messages, %llu bytes, %zu stored "
	    "(%s)", b->key.data, (unsigned long long)b->n,
	    (unsigned long long)b->bytes, b->body.len, why);
	b->objects++;
	b->open = 0;
}

/* Add one message to the open batch (opening one if needed). */
static void
batch_add(struct batch *b, const struct msg *m)
{
	size_t start, len;

	if (!b->open)
		batch_open(b, m);
	start = b->stage.len;
	record_add(&b->stage, b->o->format, m, &b->scratch);
	len = b->stage.len - start;
	if (b->n > 0 && b->bytes + len > b->o->max_bytes) {
		/* Would overflow: this record starts the next object. */
		buf_reset(&b->spill);
		buf_add(&b->spill, b->stage.data + start, len);
		buf_setlen(&b->stage, start);
		batch_close(b, "max-bytes");
		batch_open(b, m);
		buf_add(&b->stage, b->spill.data, len);
	}
	b->n++;
	b->bytes += len;
	seqs_add(&b->seqs, m->seq);
	buf_reset(&b->last_id);
	buf_add(&b->last_id, m->id->val, m->id->vallen);
	if (b->stage.len >= STAGE_CHUNK) {
		comp_write(&b->comp, &b->body, b->stage.data, b->stage.len);
		buf_reset(&b->stage);
	}
	if (b->n >= b->o->max_messages)
		batch_close(b, "max-messages");
	else if (b->bytes >= b->o->max_bytes)
		batch_close(b, "max-bytes");
}

/* Milliseconds poll(2) may wait: until the open batch's deadline. */
static int
poll_timeout(const struct batch *b)
{
	double left;

	if (!b->open || b->deadline == 0)
		return -1;
	left = b->deadline - monotime();
	if (left <= 0)
		return 0;
	return left > 86400 ? 86400 * 1000 : (int)ceil(left * 1000);
}

/* Parse every frame that is buffered; 0, or -1 on a malformed one. */
static int
drain(struct batch *b, struct frame_reader *r, struct frame *f)
{
	struct msg m;
	const char *why;
	uint64_t n = 0, bytes = 0;
	int rc;

	while ((rc = frame_next(r, f)) == FRAME_OK) {
		if (f->type != 'M') {
			log_verbose("byte %llu: skipping a frame of type %c",
			    (unsigned long long)f->offset, f->type);
			continue;
		}
		if (msg_parse(&m, f, &why) < 0) {
			snprintf(r->err, sizeof(r->err), "%s: byte %llu: %s",
			    r->name, (unsigned long long)f->offset, why);
			return -1;
		}
		batch_add(b, &m);
		n++;
		bytes += m.len;
	}
	progress_add(&b->prog, n, bytes);
	return rc == FRAME_ERR ? -1 : 0;
}

static void
batch_free(struct batch *b)
{
	seqs_free(&b->seqs);
	buf_release(&b->first_id);
	buf_release(&b->last_id);
	buf_release(&b->topic);
	buf_release(&b->stage);
	buf_release(&b->body);
	buf_release(&b->spill);
	buf_release(&b->scratch);
	buf_release(&b->hdr);
	buf_release(&b->key);
	comp_free(&b->comp);
}

int
transform_run(const struct options *o, int in, int out)
{
	struct batch b;
	struct frame_reader r;
	struct frame f;
	struct pollfd pfd;
	int status = EXIT_OK, t;
	ssize_t got;

	memset(&b, 0, sizeof(b));
	b.o = o;
	b.out = out;
	buf_init(&b.first_id, 64);
	buf_init(&b.last_id, 64);
	buf_init(&b.topic, 256);
	buf_init(&b.stage, STAGE_CHUNK + 64 * 1024);
	buf_init(&b.body, 0);
	buf_init(&b.spill, 0);
	buf_init(&b.scratch, 0);
	buf_init(&b.hdr, 256);
	buf_init(&b.key, 256);
	comp_init(&b.comp, o->codec, o->level);
	progress_init(&b.prog, o->progress, "messages");
	frame_reader_init(&r, in, "stdin");
	frame_init(&f);
	for (;;) {
		if (drain(&b, &r, &f) < 0) {
			/*
			 * The open batch is dropped: every object written
			 * is one that a clean run would write too.
			 */
			warnx("%s", r.err);
			status = EXIT_FAIL;
			break;
		}
		if (frame_reader_done(&r))
			break;
		if ((t = poll_timeout(&b)) == 0) {
			batch_close(&b, "max-age");
			continue;
		}
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
		batch_close(&b, "end of input");
	progress_done(&b.prog);
	log_verbose("%llu objects", (unsigned long long)b.objects);
	frame_release(&f);
	frame_reader_release(&r);
	batch_free(&b);
	return status;
}
