/* consume's main loop: stdout, the ack channel, the window; see pump.h. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "log.h"
#include "metrics.h"
#include "pump.h"
#include "seqs.h"
#include "source.h"
#include "stop.h"
#include "window.h"

#define FLUSH_AT	(256 * 1024)	/* write stdout when this much waits */
#define OUT_HIGH	(1024 * 1024)	/* stop emitting above this */
#define CUT_WAIT	1.0		/* s full, no ack, before a flush frame */

enum pump_state { ST_RUN, ST_FLUSH, ST_WAIT, ST_DONE };

struct pump {
	struct pump_opts opts;
	struct buf	 out;
	size_t		 off;		/* written up to here */
	int		 out_open;
	int		 out_nonblock;
	int		 out_blocked;	/* last write said EAGAIN */
	int		 track;		/* acks tracked: an ack channel, or
					   ack_on_write */
	struct window	 win;
	uint64_t	 emitted;
	struct progress	 prog;
	int		 ackfd;
	struct frame_reader ackr;
	struct frame	 ackf;
	struct seqs	 ackseqs;
	struct seqs	 early;		/* acks for seqs not emitted yet */
	int		 ack_eof;
	int		 ack_failed;	/* pump_take_acks() met a bad channel */
	uint64_t	 unknown_acks, dup_acks;
	struct source	*src;
	struct msgid	 last_id;	/* of the last message emitted */
	uint64_t	*m_messages, *m_bytes, *m_acks;
	enum pump_state	 state;
	int		 stopped;	/* the source was told to stop */
	double		 deadline;	/* ST_WAIT: of --ack-timeout */
	int		 failed;
	double		 full_since;	/* the window full, no ack since */
	uint64_t	 full_nacked;	/* win.nacked then */
	int		 cut_asked;	/* a flush frame went out since */
};

size_t
pollset_add(struct pollset *ps, int fd, short events)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 16;
		ps->fds = xreallocarray(ps->fds, ps->cap, sizeof(*ps->fds));
	}
	ps->fds[ps->n].fd = fd;
	ps->fds[ps->n].events = events;
	ps->fds[ps->n].revents = 0;
	return ps->n++;
}

short
pollset_revents(const struct pollset *ps, size_t i)
{
	return i < ps->n ? ps->fds[i].revents : 0;
}

static void
setup_stdout(struct pump *p)
{
	struct stat st;
	int fl;

	/*
	 * Only a pipe or socket can fill up while we wait for acks, and only
	 * there is O_NONBLOCK safe: a terminal or a file may be shared with
	 * the parent shell, whose own descriptor would change too.
	 */
	if (fstat(STDOUT_FILENO, &st) < 0)
		err(EXIT_FAIL, "stdout");
	if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
		return;
#ifdef F_SETPIPE_SZ
	if (S_ISFIFO(st.st_mode))
		(void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1024 * 1024);
#endif
	if ((fl = fcntl(STDOUT_FILENO, F_GETFL)) >= 0 &&
	    fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK) == 0)
		p->out_nonblock = 1;
}

static void
restore_stdout(struct pump *p)
{
	int fl;

	if (p->out_nonblock && (fl = fcntl(STDOUT_FILENO, F_GETFL)) >= 0)
		(void)fcntl(STDOUT_FILENO, F_SETFL, fl & ~O_NONBLOCK);
}

struct pump *
pump_new(const struct pump_opts *o)
{
	struct pump *p = xcalloc(1, sizeof(*p));

	p->opts = *o;
	buf_init(&p->out, 2 * OUT_HIGH);
	p->out_open = 1;
	window_init(&p->win);
	progress_init(&p->prog, o->progress, "messages");
	p->m_messages = metrics_counter("messages_total",
	    "Messages written on stdout.");
	p->m_bytes = metrics_counter("bytes_total",
	    "Payload bytes of the messages written on stdout.");
	p->m_acks = metrics_counter("acks_total",
	    "Messages acknowledged downstream (the ack channel).");
	p->ackfd = -1;
	if (o->acks != NULL) {
		/*
		 * O_NONBLOCK: opening a FIFO for reading would otherwise
		 * wait for a writer, and nothing would be emitted until
		 * deliver (or whatever writes acks) opened it.  On Linux a
		 * FIFO opened this way reports no hang-up before its first
		 * writer came, so poll(2) just waits.
		 */
		p->ackfd = open(o->acks, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (p->ackfd < 0)
			err(EXIT_FAIL, "%s", o->acks);
		frame_reader_init(&p->ackr, p->ackfd, o->acks);
		frame_init(&p->ackf);
	}
	/* asked per message: found out once */
	p->track = p->ackfd >= 0 || p->opts.ack_on_write;
	setup_stdout(p);
	stop_catch();
	return p;
}

void
pump_free(struct pump *p)
{
	restore_stdout(p);
	buf_release(&p->out);
	window_free(&p->win);
	if (p->ackfd >= 0) {
		frame_reader_release(&p->ackr);
		frame_release(&p->ackf);
		close(p->ackfd);
	}
	seqs_free(&p->ackseqs);
	seqs_free(&p->early);
	free(p);
}

static void deliver_ack(struct pump *, uint64_t);

static int
tracking(const struct pump *p)
{
	return p->track;
}

int
pump_room(const struct pump *p)
{
	if (p->out.len - p->off >= OUT_HIGH || p->state != ST_RUN)
		return 0;
	return !tracking(p) || window_outstanding(&p->win) <
	    p->opts.max_unacked;
}

struct buf *
pump_out(struct pump *p)
{
	return &p->out;
}

uint64_t
pump_seq(const struct pump *p)
{
	return p->win.next;
}

void
pump_commit(struct pump *p, const struct msgid *id, uint32_t aux,
    size_t payload_len)
{
	uint64_t seq;

	if (tracking(p)) {
		seq = window_push(&p->win, id, aux);
		/* an ack file read ahead may already name this seq */
		if (p->early.n > 0 && seqs_contains(&p->early, seq))
			deliver_ack(p, seq);
	} else
		p->win.base = ++p->win.next;
	p->emitted++;
	p->last_id = *id;
	progress_add(&p->prog, 1, payload_len);
	(*p->m_messages)++;
	*p->m_bytes += payload_len;
}

static void
deliver_ack(struct pump *p, uint64_t seq)
{
	const struct wentry *e;

	switch (window_ack(&p->win, seq, &e)) {
	case WIN_ACKED:
		(*p->m_acks)++;
		if (p->src->ops->acked != NULL)
			p->src->ops->acked(p->src, seq, e, 1);
		break;
	case WIN_DUP:
		if (p->dup_acks++ == 0)
			log_verbose("ack for seq %llu, already acked "
			    "(ignored)", (unsigned long long)seq);
		break;
	default:
		if (p->unknown_acks++ == 0)
			warnx("%s: ack for seq %llu, which was never "
			    "emitted (ignored)", p->opts.acks,
			    (unsigned long long)seq);
		break;
	}
}

/*
 * Acks for seqs lo to hi, none past the newest emitted: the runs of them
 * the window marks go to the source in one call each; a seq acked
 * before or never emitted is told as deliver_ack() tells it.
 */
static void
deliver_acks(struct pump *p, uint64_t lo, uint64_t hi)
{
	const struct wentry *e;
	size_t n;

	while (lo <= hi) {
		if ((n = window_ack_run(&p->win, lo, hi, &e)) == 0) {
			deliver_ack(p, lo++);
			continue;
		}
		*p->m_acks += n;
		if (p->src->ops->acked != NULL)
			p->src->ops->acked(p->src, lo, e, n);
		lo += n;
	}
}

/* Everything written to stdout counts as acknowledged (ack_on_write). */
static void
ack_written(struct pump *p)
{
	if (p->win.base < p->win.next)
		deliver_acks(p, p->win.base, p->win.next - 1);
}

/* Write what we can; -1 on a write error (said). */
static int
flush_out(struct pump *p)
{
	ssize_t n;

	while (p->off < p->out.len) {
		n = write(STDOUT_FILENO, p->out.data + p->off,
		    p->out.len - p->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				p->out_blocked = 1;
				break;
			}
			if (errno == EPIPE)
				warnx("stdout closed");
			else
				warn("stdout");
			return -1;
		}
		p->off += (size_t)n;
	}
	if (p->off == p->out.len) {
		buf_reset(&p->out);
		p->off = 0;
		if (p->opts.ack_on_write && p->ackfd < 0)
			ack_written(p);
	} else if (p->off >= FLUSH_AT) {
		buf_consume(&p->out, p->off);
		p->off = 0;
	}
	return 0;
}

/* Take in what the ack channel has; -1 on a malformed channel (said). */
static int
read_acks(struct pump *p)
{
	const struct frame_field *fl;
	ssize_t n;
	size_t i;
	uint64_t hi;
	int rc;

	for (;;) {
		while ((rc = frame_next(&p->ackr, &p->ackf)) == FRAME_OK) {
			if (p->ackf.type != 'A')
				continue;
			fl = frame_field(&p->ackf, "seqs");
			seqs_clear(&p->ackseqs);
			if (fl == NULL || seqs_parse(&p->ackseqs, fl->val,
			    fl->vallen) < 0) {
				warnx("%s: byte %llu: ack line without a "
				    "valid seqs= field", p->opts.acks,
				    (unsigned long long)p->ackf.offset);
				return -1;
			}
			for (i = 0; i < p->ackseqs.n; i++) {
				hi = p->ackseqs.r[i].hi;
				/*
				 * Never loop over seqs not emitted yet: keep
				 * them for when they are (an ack file that was
				 * written before this run is read at once).
				 */
				if (hi >= p->win.next) {
					seqs_add_range(&p->early, p->win.next >
					    p->ackseqs.r[i].lo ? p->win.next :
					    p->ackseqs.r[i].lo, hi);
					hi = p->win.next - 1;
				}
				deliver_acks(p, p->ackseqs.r[i].lo, hi);
			}
		}
		if (rc == FRAME_ERR) {
			warnx("%s", p->ackr.err);
			return -1;
		}
		if (frame_reader_done(&p->ackr)) {
			p->ack_eof = 1;
			log_verbose("%s: end of the ack channel", p->opts.acks);
			return 0;
		}
		n = frame_reader_fill(&p->ackr);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			warn("%s", p->opts.acks);
			return -1;
		}
	}
}

int
pump_ack_fd(const struct pump *p)
{
	if (p->ackfd < 0 || p->ack_eof || p->ack_failed ||
	    p->state == ST_DONE)
		return -1;
	return p->ackfd;
}

void
pump_take_acks(struct pump *p)
{
	if (pump_ack_fd(p) >= 0 && read_acks(p) < 0)
		p->ack_failed = 1;
}

static void
close_stdout(struct pump *p)
{
	restore_stdout(p);
	if (close(STDOUT_FILENO) < 0 && errno != EINTR) {
		warn("stdout");
		p->failed = 1;
	}
	p->out_open = 0;
}

static int
report(struct pump *p)
{
	const struct wentry *e;
	struct buf id = BUF_INIT;
	int status = p->failed ? EXIT_FAIL : EXIT_OK;
	char text[80];
	size_t i;

	progress_done(&p->prog);
	for (i = 0; i < p->early.n; i++)
		if (p->early.r[i].hi >= p->win.next) {
			warnx("%s: ack for seq %llu, which was never emitted "
			    "(ignored)", p->opts.acks, (unsigned long long)
			    (p->early.r[i].lo > p->win.next ? p->early.r[i].lo :
			    p->win.next));
			break;
		}
	if (p->ackfd < 0) {
		log_verbose("%llu messages emitted",
		    (unsigned long long)p->emitted);
		return status;
	}
	e = window_oldest(&p->win);
	if (e == NULL) {
		/* the text as before, for scripts; the counts for machines */
		snprintf(text, sizeof(text), "%llu messages emitted, %llu "
		    "acked", (unsigned long long)p->emitted,
		    (unsigned long long)p->win.nacked);
		log_info(text, "emitted=%llu acked=%llu",
		    (unsigned long long)p->emitted,
		    (unsigned long long)p->win.nacked);
		return status;
	}
	msgid_format(&id, &e->id);
	warnx("%llu messages emitted, %llu acked; never acked: seq %llu "
	    "(id %s)%s", (unsigned long long)p->emitted,
	    (unsigned long long)p->win.nacked,
	    (unsigned long long)p->win.base, id.data,
	    window_outstanding(&p->win) > 1 ? " and others" : "");
	buf_release(&id);
	return p->opts.must_ack_all ? EXIT_FAIL : status;
}

/* The earlier of two poll timeouts (-1: none). */
static int
soonest(int a, int b)
{
	if (a < 0)
		return b;
	return b >= 0 && b < a ? b : a;
}

/* Once a second -P's line, every few the metrics file: data or not. */
static void
tick(struct pump *p)
{
	struct buf id = BUF_INIT;

	if (p->prog.enabled && p->emitted > 0) {
		msgid_format(&id, &p->last_id);
		progress_tick(&p->prog, id.data);
		buf_release(&id);
	} else
		progress_tick(&p->prog, NULL);
	metrics_tick();
}

/* Every message emitted is acknowledged (with an ack channel). */
static int
all_acked(const struct pump *p)
{
	return p->ackfd >= 0 && window_outstanding(&p->win) == 0;
}

/* The poll timeout in ms for the end phase, -1 to wait forever. */
static int
wait_timeout(const struct pump *p, double deadline)
{
	double left;

	if (p->opts.ack_timeout <= 0)
		return -1;
	left = deadline - monotime();
	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/*
 * One poll(2) on what prepare() added, stdout when it is full and the ack
 * channel, with the ticks of -P and the metrics; then what it found:
 * stdout writable again, acks.  1 when a signal cut it short, -1 on a
 * failure (said).
 */
static int
poll_round(struct pump *p, struct pollset *ps, int timeout)
{
	size_t out_i = SIZE_MAX, ack_i = SIZE_MAX;
	int n;

	if (p->out_blocked)
		out_i = pollset_add(ps, STDOUT_FILENO, POLLOUT);
	if (p->ackfd >= 0 && !p->ack_eof)
		ack_i = pollset_add(ps, p->ackfd, POLLIN);
	timeout = soonest(timeout, progress_timeout_ms(&p->prog));
	timeout = soonest(timeout, metrics_timeout_ms());
	n = poll(ps->fds, ps->n, timeout);
	tick(p);
	if (n < 0) {
		if (errno == EINTR)
			return 1;
		warn("poll");
		return -1;
	}
	if (pollset_revents(ps, out_i))
		p->out_blocked = 0;
	if (pollset_revents(ps, ack_i) && read_acks(p) < 0)
		return -1;
	return 0;
}

/* Let downstream have what is buffered, unless stdout is full. */
static int
write_out(struct pump *p)
{
	if (p->off < p->out.len && !p->out_blocked)
		return flush_out(p);
	return 0;
}

/* The source's turn after a poll; -1 when it failed. */
static int
source_round(struct pump *p, const struct pollset *ps)
{
	enum src_status rc;

	rc = p->src->ops->run(p->src, p, ps);
	if (rc == SRC_FAIL || p->ack_failed)
		return -1;
	if (rc == SRC_END && p->state == ST_RUN)
		p->state = ST_FLUSH;
	if (p->out.len - p->off >= FLUSH_AT)
		return write_out(p);
	return 0;
}

/*
 * The window has been full for CUT_WAIT and no ack came: what we emitted
 * may all wait downstream in objects that are not full yet (transform
 * holding many partitions or time buckets open), for messages we may not
 * emit until some are acknowledged.  A flush frame (lakepipe-frames(5))
 * names the oldest not acknowledged (base=): transform writes its
 * objects out now if one of them holds it.  Once a stall, after all that
 * was emitted is written (a full pipe is downstream at work, not
 * stalled).  The poll timeout until one is due, or -1.
 */
static int
ask_cut(struct pump *p)
{
	double now, left;

	if (p->ackfd < 0 || p->ack_eof ||
	    window_outstanding(&p->win) < p->opts.max_unacked) {
		p->full_since = 0;
		return -1;
	}
	now = monotime();
	if (p->full_since == 0 || p->win.nacked != p->full_nacked) {
		p->full_since = now;
		p->full_nacked = p->win.nacked;
		p->cut_asked = 0;
	}
	if (p->cut_asked)
		return -1;
	if ((left = p->full_since + CUT_WAIT - now) > 0)
		return (int)(left * 1000) + 1;
	if (p->off < p->out.len)
		return -1;
	buf_addf(&p->out, "F base=%llu reason=max-unacked\n",
	    (unsigned long long)p->win.base);
	p->cut_asked = 1;
	log_info("flush asked", "base=%llu unacked=%llu waited_s=%.1f",
	    (unsigned long long)p->win.base,
	    (unsigned long long)window_outstanding(&p->win),
	    now - p->full_since);
	return -1;
}

/* ST_RUN: the source emits while there is room. */
static int
state_run(struct pump *p, struct pollset *ps)
{
	int timeout, rc;

	if (stop_asked() && !p->stopped) {
		p->stopped = 1;
		log_debug("stopping: signal received", NULL);
		if (p->src->ops->stop != NULL)
			p->src->ops->stop(p->src);
	}
	if (p->ack_eof && tracking(p) &&
	    window_outstanding(&p->win) >= p->opts.max_unacked) {
		warnx("%s: ack channel closed with %llu messages "
		    "unacknowledged", p->opts.acks, (unsigned long long)
		    window_outstanding(&p->win));
		return -1;
	}
	/*
	 * Over the high mark: write out now, before prepare(), so that the
	 * source sees the room it will have (the Pulsar source grants the
	 * broker more permits only then).
	 */
	if (!pump_room(p) && write_out(p) < 0)
		return -1;
	timeout = p->src->ops->prepare(p->src, ps, pump_room(p));
	timeout = soonest(timeout, ask_cut(p));
	/* about to wait: let downstream have what we have */
	if (timeout != 0 && write_out(p) < 0)
		return -1;
	if ((rc = poll_round(p, ps, timeout)) != 0)
		return rc < 0 ? -1 : 0;
	return source_round(p, ps);
}

/* ST_FLUSH: the source ended; write everything out, close stdout. */
static int
state_flush(struct pump *p, struct pollset *ps)
{
	if (write_out(p) < 0)
		return -1;
	if (p->off < p->out.len)
		return poll_round(p, ps, -1) < 0 ? -1 : 0;
	close_stdout(p);
	if (p->ackfd < 0 || p->ack_eof || all_acked(p))
		p->state = ST_DONE;
	else {
		p->state = ST_WAIT;
		p->deadline = monotime() + p->opts.ack_timeout;
	}
	return 0;
}

/*
 * ST_WAIT: stdout is closed; wait for the acks of what was emitted.
 * Done once all is acknowledged: whatever else holds the pipe that
 * deliver reads, the channel may never end.
 */
static int
state_wait(struct pump *p, struct pollset *ps)
{
	int timeout, t, rc;

	timeout = p->src->ops->prepare(p->src, ps, 0);
	if ((t = wait_timeout(p, p->deadline)) == 0) {
		warnx("%s: no end of the ack channel after %g s",
		    p->opts.acks, p->opts.ack_timeout);
		p->state = ST_DONE;
		return 0;
	}
	if ((rc = poll_round(p, ps, soonest(timeout, t))) != 0)
		return rc < 0 ? -1 : 0;
	if (p->ack_eof || all_acked(p)) {
		p->state = ST_DONE;
		return 0;
	}
	return source_round(p, ps);
}

int
pump_run(struct pump *p, struct source *src)
{
	struct pollset ps = { NULL, 0, 0 };
	int rc = 0;

	p->src = src;
	p->state = ST_RUN;
	while (p->state != ST_DONE && rc == 0) {
		ps.n = 0;
		switch (p->state) {
		case ST_RUN:
			rc = state_run(p, &ps);
			break;
		case ST_FLUSH:
			rc = state_flush(p, &ps);
			break;
		case ST_WAIT:
			rc = state_wait(p, &ps);
			break;
		case ST_DONE:
			break;
		}
	}
	free(ps.fds);
	if (rc < 0) {
		/* hand on the whole frames we have: they are good */
		if (p->out_open && p->off < p->out.len) {
			restore_stdout(p);
			(void)write_all(STDOUT_FILENO, p->out.data + p->off,
			    p->out.len - p->off);
		}
		return EXIT_FAIL;
	}
	if (src->ops->finish != NULL && src->ops->finish(src) < 0)
		p->failed = 1;
	return report(p);
}
