/*
 * The replay sources: messages from files instead of a broker.
 *
 * Lines: every line of the input is one message, without its newline; a
 * last line without a newline is a message too, an empty line is a message
 * with an empty payload, and bytes are taken as they are (NUL, invalid
 * UTF-8, CR).  Each message gets a synthetic id that depends only on the
 * input, so that the same file replayed again gives the same ids (and so
 * the same object keys downstream):
 *
 *	ledger	 the FNV-1a 64-bit hash of "NAME:PT" shifted right by 17
 *		 bits, NAME the file's base name ("-" for stdin) and PT the
 *		 publish time below, in decimal
 *	entry	 the line number, from 1
 *	partition, batch  -1
 *
 * The publish time is the file's modification time in ms, the time
 * consume started for stdin, or --publish-time for every input.
 *
 * Frames: an existing frame stream; every M frame is emitted again with a
 * fresh seq and all its other fields carried through unchanged; frames of
 * other types are skipped.
 *
 * The reading itself, shared with the producer, is input.h's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "frame.h"
#include "input.h"
#include "log.h"
#include "msghead.h"
#include "msgid.h"
#include "pump.h"
#include "source.h"

struct replay {
	struct source	 base;
	struct replay_opts o;
	struct msghead	 head;		/* of the lines' frames */
	struct produce_input *in;	/* the paths borrowed */
	size_t		 nin;
	struct input	 rd;
	int		 started;	/* rd made from in */
	/* the input being read */
	int64_t		 ledger;
	uint64_t	 pt;
	int		 want_read;	/* wait until its fd is readable */
	size_t		 poll_i;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t
synthetic_ledger(const char *name, uint64_t pt)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char tmp[64];
	const unsigned char *p;
	size_t i, n;

	n = (size_t)snprintf(tmp, sizeof(tmp), ":%llu", (unsigned long long)pt);
	for (p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)tmp[i]) * 0x100000001b3ULL;
	return (int64_t)(h >> 17);
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	/* "dir/" has no base name worth hashing: use the path */
	return s && s[1] ? s + 1 : path;
}

/* An input was opened: its publish time and synthetic ledger. */
static void
input_opened(struct replay *r)
{
	const char *path = r->rd.in[r->rd.cur].path;
	int is_stdin = strcmp(path, "-") == 0;

	r->rd.opened = 0;
	r->pt = r->o.has_pt ? r->o.pt : is_stdin ? now_ms() : r->rd.mtime_ms;
	r->ledger = synthetic_ledger(is_stdin ? "-" : base_name(path), r->pt);
	log_verbose("%s: replaying %s, ledger %lld, publish time %llu",
	    r->rd.name, r->rd.in[r->rd.cur].mode == REPLAY_LINES ? "lines" :
	    "frames", (long long)r->ledger, (unsigned long long)r->pt);
}

static void
emit_line(struct replay *r, struct pump *p, const char *s, size_t n)
{
	struct buf *out = pump_out(p);
	struct msgid id;

	id.ledger = r->ledger;
	id.entry = (int64_t)r->rd.lineno;
	id.partition = -1;
	id.batch = -1;
	/* the whole frame: a line is never NULL (it points into the input) */
	msghead_put(&r->head, out, n, pump_seq(p), &id, r->pt, s);
	pump_commit(p, &id, 0, n);
}

static void
emit_frame(struct replay *r, struct pump *p, const struct frame *f)
{
	struct buf *out = pump_out(p);
	const struct frame_field *fl;
	struct msgid id = { -1, -1, -1, -1 };
	size_t i;

	frame_begin(out, 'M', f->len);
	frame_add_u64(out, "seq", pump_seq(p));
	for (i = 0; i < f->nfields; i++) {
		fl = &f->fields[i];
		if (fl->namelen == 3 && memcmp(fl->name, "seq", 3) == 0)
			continue;
		frame_add_field(out, fl);
	}
	frame_finish(out, f->body, f->len);
	if ((fl = frame_field(f, "id")) != NULL)
		(void)msgid_parse(&id, fl->val, fl->vallen);
	pump_commit(p, &id, 0, f->len);
}

static int
replay_prepare(struct source *s, struct pollset *ps, int can_emit)
{
	struct replay *r = (struct replay *)s;

	r->poll_i = SIZE_MAX;
	if (!can_emit)
		return -1;
	if (r->want_read) {
		r->poll_i = pollset_add(ps, r->rd.fd, POLLIN);
		return -1;
	}
	return 0;
}

static enum src_status
replay_run(struct source *s, struct pump *p, const struct pollset *ps)
{
	struct replay *r = (struct replay *)s;
	const struct frame *f;
	const char *line;
	size_t len;
	int readable = 0;

	if (!r->started) {
		input_init(&r->rd, r->in, r->nin, r->o.max_size);
		r->started = 1;
	}
	if (r->want_read) {
		if (pollset_revents(ps, r->poll_i) == 0)
			return SRC_OK;
		r->want_read = 0;
		readable = 1;
	}
	while (pump_room(p)) {
		switch (input_next(&r->rd, &line, &len, &f)) {
		case IN_LINE:
			emit_line(r, p, line, len);
			break;
		case IN_FRAME:
			emit_frame(r, p, f);
			break;
		case IN_MORE:
			/* a new input: poll it before its first read */
			if (r->rd.opened) {
				input_opened(r);
				readable = 0;
			}
			if (!readable) {
				r->want_read = 1;
				return SRC_OK;
			}
			readable = 0;
			if (input_fill(&r->rd) < 0)
				return SRC_FAIL;
			break;
		case IN_END:
			return SRC_END;
		default:
			return SRC_FAIL;
		}
	}
	return SRC_OK;
}

static void
replay_stop(struct source *s)
{
	struct replay *r = (struct replay *)s;

	/* read no further: what was emitted is what there is */
	if (r->started)
		input_stop(&r->rd);
	r->want_read = 0;
}

static void
replay_free(struct source *s)
{
	struct replay *r = (struct replay *)s;

	if (r->started)
		input_free(&r->rd);
	free(r->in);
	msghead_release(&r->head);
	free(r);
}

static const struct source_ops replay_ops = {
	.name = "replay",
	.prepare = replay_prepare,
	.run = replay_run,
	.stop = replay_stop,
	.free = replay_free,
};

struct source *
replay_source_new(const struct replay_opts *o)
{
	struct replay *r = xcalloc(1, sizeof(*r));

	r->base.ops = &replay_ops;
	r->o = *o;
	msghead_init(&r->head, o->topic);
	return &r->base;
}

void
replay_source_add(struct source *s, enum replay_mode mode, const char *path)
{
	struct replay *r = (struct replay *)s;

	r->in = xreallocarray(r->in, r->nin + 1, sizeof(*r->in));
	r->in[r->nin].mode = mode;
	r->in[r->nin].path = path;
	r->nin++;
}
