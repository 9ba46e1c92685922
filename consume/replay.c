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
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "log.h"
#include "msgid.h"
#include "pct.h"
#include "pump.h"
#include "source.h"

#define READ_SIZE	(1024 * 1024)

struct input {
	enum replay_mode mode;
	char		*path;
};

struct replay {
	struct source	 base;
	struct replay_opts o;
	struct buf	 topic;		/* percent-encoded, ready to append */
	struct input	*in;
	size_t		 nin, cur;
	/* the input being read */
	int		 fd;		/* -1: none open */
	const char	*name;		/* for messages */
	int64_t		 ledger;
	uint64_t	 pt, lineno;
	struct buf	 ib;		/* lines: unparsed input from pos */
	size_t		 pos;
	int		 eof;
	struct frame_reader fr;
	struct frame	 f;
	int		 want_read;	/* wait until fd is readable */
	size_t		 poll_i;
	uint64_t	 skipped;
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

static int
open_input(struct replay *r)
{
	struct input *in = &r->in[r->cur];
	struct stat st;

	if (strcmp(in->path, "-") == 0) {
		r->fd = STDIN_FILENO;
		r->name = "stdin";
		r->pt = now_ms();
	} else {
		if ((r->fd = open(in->path, O_RDONLY | O_CLOEXEC)) < 0) {
			warn("%s", in->path);
			return -1;
		}
		if (fstat(r->fd, &st) < 0) {
			warn("%s", in->path);
			return -1;
		}
		if (S_ISDIR(st.st_mode)) {
			warnx("%s: is a directory", in->path);
			return -1;
		}
		r->name = in->path;
		r->pt = (uint64_t)st.st_mtim.tv_sec * 1000 +
		    (uint64_t)st.st_mtim.tv_nsec / 1000000;
	}
	if (r->o.has_pt)
		r->pt = r->o.pt;
	r->ledger = synthetic_ledger(strcmp(in->path, "-") == 0 ? "-" :
	    base_name(in->path), r->pt);
	r->lineno = 0;
	buf_reset(&r->ib);
	r->pos = 0;
	r->eof = 0;
	r->want_read = 1;
	if (in->mode == REPLAY_FRAMES) {
		frame_reader_init(&r->fr, r->fd, r->name);
		r->fr.max_body = r->o.max_size;
	}
	log_verbose("%s: replaying %s, ledger %lld, publish time %llu",
	    r->name, in->mode == REPLAY_LINES ? "lines" : "frames",
	    (long long)r->ledger, (unsigned long long)r->pt);
	return 0;
}

static void
close_input(struct replay *r)
{
	if (r->in[r->cur].mode == REPLAY_FRAMES)
		frame_reader_release(&r->fr);
	if (r->fd != STDIN_FILENO)
		close(r->fd);
	r->fd = -1;
	r->cur++;
}

static void
emit_line(struct replay *r, struct pump *p, const char *s, size_t n)
{
	struct buf *out = pump_out(p);
	struct msgid id;

	id.ledger = r->ledger;
	id.entry = (int64_t)++r->lineno;
	id.partition = -1;
	id.batch = -1;
	frame_begin(out, 'M', n);
	frame_add_u64(out, "seq", pump_seq(p));
	buf_add(out, " id=", 4);
	buf_addi64(out, id.ledger);
	buf_addch(out, ':');
	buf_addi64(out, id.entry);
	buf_add(out, ":-1:-1 topic=", 13);
	buf_add(out, r->topic.data, r->topic.len);
	frame_add_u64(out, "pt", r->pt);
	frame_finish(out, s, n);
	pump_commit(p, &id, 0, n);
}

/* One read(2) into ib; -1 on an error (said). */
static int
read_lines_input(struct replay *r)
{
	ssize_t n;

	if (r->pos > 0) {
		buf_consume(&r->ib, r->pos);
		r->pos = 0;
	}
	buf_grow(&r->ib, READ_SIZE);
	do
		n = read(r->fd, r->ib.data + r->ib.len, r->ib.cap - r->ib.len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		warn("%s", r->name);
		return -1;
	}
	if (n == 0)
		r->eof = 1;
	else
		buf_setlen(&r->ib, r->ib.len + (size_t)n);
	return 0;
}

/* Emit lines while there is room: SRC_OK (wait), SRC_END (input done). */
static enum src_status
run_lines(struct replay *r, struct pump *p, int readable)
{
	const char *s, *nl;
	size_t avail;

	for (;;) {
		while (pump_room(p)) {
			s = r->ib.data + r->pos;
			avail = r->ib.len - r->pos;
			nl = memchr(s, '\n', avail);
			if (nl == NULL)
				break;
			if ((size_t)(nl - s) > r->o.max_size)
				goto too_long;
			emit_line(r, p, s, (size_t)(nl - s));
			r->pos += (size_t)(nl - s) + 1;
		}
		if (!pump_room(p))
			return SRC_OK;
		avail = r->ib.len - r->pos;
		if (avail > r->o.max_size)
			goto too_long;
		if (r->eof) {
			if (avail > 0) {
				emit_line(r, p, r->ib.data + r->pos, avail);
				r->pos += avail;
			}
			return SRC_END;
		}
		if (!readable) {
			r->want_read = 1;
			return SRC_OK;
		}
		if (read_lines_input(r) < 0)
			return SRC_FAIL;
		readable = 0;
	}
too_long:
	warnx("%s: line %llu is longer than %zu bytes (--max-size)", r->name,
	    (unsigned long long)r->lineno + 1, r->o.max_size);
	return SRC_FAIL;
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

static enum src_status
run_frames(struct replay *r, struct pump *p, int readable)
{
	ssize_t n;
	int rc = FRAME_MORE;

	for (;;) {
		while (pump_room(p) && (rc = frame_next(&r->fr, &r->f)) ==
		    FRAME_OK) {
			if (r->f.type == 'M' && r->f.has_body)
				emit_frame(r, p, &r->f);
			else if (r->skipped++ == 0)
				log_verbose("%s: byte %llu: skipping frames "
				    "that are not messages", r->name,
				    (unsigned long long)r->f.offset);
		}
		if (!pump_room(p))
			return SRC_OK;
		if (rc == FRAME_ERR) {
			warnx("%s", r->fr.err);
			return SRC_FAIL;
		}
		if (frame_reader_done(&r->fr))
			return SRC_END;
		if (!readable) {
			r->want_read = 1;
			return SRC_OK;
		}
		do
			n = frame_reader_fill(&r->fr);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			warn("%s", r->name);
			return SRC_FAIL;
		}
		readable = 0;
	}
}

static int
replay_prepare(struct source *s, struct pollset *ps, int can_emit)
{
	struct replay *r = (struct replay *)s;

	r->poll_i = SIZE_MAX;
	if (!can_emit)
		return -1;
	if (r->fd >= 0 && r->want_read) {
		r->poll_i = pollset_add(ps, r->fd, POLLIN);
		return -1;
	}
	return 0;
}

static enum src_status
replay_run(struct source *s, struct pump *p, const struct pollset *ps)
{
	struct replay *r = (struct replay *)s;
	enum src_status rc;
	int readable;

	while (pump_room(p)) {
		if (r->fd < 0) {
			if (r->cur == r->nin)
				return SRC_END;
			if (open_input(r) < 0)
				return SRC_FAIL;
			return SRC_OK;		/* poll before the first read */
		}
		readable = 0;
		if (r->want_read) {
			if (pollset_revents(ps, r->poll_i) == 0)
				return SRC_OK;
			r->want_read = 0;
			readable = 1;
		}
		if (r->in[r->cur].mode == REPLAY_LINES)
			rc = run_lines(r, p, readable);
		else
			rc = run_frames(r, p, readable);
		if (rc != SRC_END)
			return rc;
		close_input(r);
	}
	return SRC_OK;
}

static void
replay_stop(struct source *s)
{
	struct replay *r = (struct replay *)s;

	/* read no further: what was emitted is what there is */
	if (r->fd >= 0)
		close_input(r);
	r->cur = r->nin;
}

static void
replay_free(struct source *s)
{
	struct replay *r = (struct replay *)s;
	size_t i;

	if (r->fd >= 0)
		close_input(r);
	for (i = 0; i < r->nin; i++)
		free(r->in[i].path);
	free(r->in);
	buf_release(&r->topic);
	buf_release(&r->ib);
	frame_release(&r->f);
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
	r->fd = -1;
	buf_init(&r->topic, 0);
	pct_encode_value(&r->topic, o->topic, strlen(o->topic));
	buf_init(&r->ib, 0);
	frame_init(&r->f);
	return &r->base;
}

void
replay_source_add(struct source *s, enum replay_mode mode, const char *path)
{
	struct replay *r = (struct replay *)s;

	r->in = xreallocarray(r->in, r->nin + 1, sizeof(*r->in));
	r->in[r->nin].mode = mode;
	r->in[r->nin].path = xstrdup(path);
	r->nin++;
}
