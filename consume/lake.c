/*
 * The lake source (consume --lake): the messages stored under a
 * destination, read back and written as message frames again.  Its
 * parts: deliver run as a child (lakechild.h), the objects in the order
 * they are read (lakelist.h), one object's records (lakeobj.h).
 *
 * What cannot be restored (raw .txt and .bin objects, malformed records,
 * objects that cannot be read, objects without the columns a record needs,
 * indexed objects that are gone) is one warning line each, and exit
 * status 1 at the end; the rest is still written.  Before
 * all that, `deliver --check --list DEST` (lake_check) makes a destination
 * deliver refuses a usage error of consume's.
 */
#include <err.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "checkpoint.h"
#include "lakechild.h"
#include "lakelist.h"
#include "lakeobj.h"
#include "lakerec.h"
#include "log.h"
#include "pump.h"
#include "source.h"

#define MAX_BAD		20	/* malformed records said, per object */

struct lake {
	struct source	 base;
	struct lake_opts o;
	char		*deliver;
	struct lakelist	 list;		/* borrows deliver, o and rec */
	size_t		 cur;
	int		 listed, open, want_read, stopped;
	size_t		 poll_i;
	struct objreader rd;
	struct lakerec	 rec;
	uint64_t	 failed;	/* objects and records not restored */
	uint64_t	 skipped;	/* records of other topics */
};

/*
 * A record (a line or a row) that is none: said; 0, or -1 when the rest
 * of the object is not worth reading: the first line of a jsonl object
 * is no record (it is no JSON lines object of transform's), or MAX_BAD
 * records were not.
 */
static int
bad_record(struct lake *l, const char *why)
{
	l->failed++;
	if (l->rd.lineno == 1 && l->rd.fmt == OF_JSONL) {
		warnx("%s: line 1: malformed record: %s; not a JSON lines "
		    "object of transform's, skipped", l->rd.key, why);
		return -1;
	}
	warnx("%s: %s %llu: malformed record: %s", l->rd.key,
	    l->rd.fmt == OF_PARQUET ? "row" : "line",
	    (unsigned long long)l->rd.lineno, why);
	if (++l->rd.nbad == MAX_BAD) {
		warnx("%s: %d malformed records: the rest skipped",
		    l->rd.key, MAX_BAD);
		return -1;
	}
	return 0;
}

/* The record in l->rec as a message frame, if its topic is wanted. */
static void
emit_record(struct lake *l, struct pump *p)
{
	if (!lakelist_topic_wanted(l->o.topic, l->rec.topic.data,
	    l->rec.topic.len)) {
		l->skipped++;
		return;
	}
	lakerec_frame(pump_out(p), &l->rec, pump_seq(p));
	pump_commit(p, &l->rec.mid, 0, l->rec.len);
}

/* The next object to read, if any: 1 opened, 0 none left. */
static int
open_next(struct lake *l)
{
	struct obj *o;

	for (; l->cur < l->list.nobj; l->cur++) {
		o = &l->list.objs[l->cur];
		if (o->empty)
			continue;
		if (o->raw) {
			warnx("%s: a raw (--format raw) object: payloads "
			    "without their ids and times cannot be restored; "
			    "skipped", o->key);
			l->failed++;
			continue;
		}
		if (or_open(l->deliver, &l->o, &l->rd, o) < 0) {
			or_close(&l->rd);
			l->failed++;
			continue;
		}
		l->open = 1;
		return 1;
	}
	return 0;
}

/* The rest of the object is not read (said why). */
static void
drop_object(struct lake *l)
{
	or_close(&l->rd);
	l->open = 0;
	l->want_read = 0;
	l->cur++;
}

/* The object being read ended (ok) or failed. */
static void
close_object(struct lake *l, int ok)
{
	int st;

	if (ok) {
		if ((st = lakechild_wait(&l->rd.ch)) != 0) {
			warnx("%s: deliver --cat failed (exit status %d)",
			    l->rd.key, st);
			l->failed++;
		}
	} else {
		if (l->rd.unfit)
			warnx("cannot restore %s: %s", l->rd.key, l->rd.why);
		else
			warnx("%s: %s", l->rd.key, l->rd.why);
		l->failed++;
	}
	drop_object(l);
}

static int
lake_prepare(struct source *s, struct pollset *ps, int can_emit)
{
	struct lake *l = (struct lake *)s;

	l->poll_i = SIZE_MAX;
	if (!can_emit)
		return -1;
	if (l->open && l->want_read) {
		l->poll_i = pollset_add(ps, l->rd.ch.fd, POLLIN);
		return -1;
	}
	return 0;
}

static enum src_status
lake_run(struct source *s, struct pump *p, const struct pollset *ps)
{
	struct lake *l = (struct lake *)s;
	const char *line, *why;
	size_t len;

	if (!l->listed) {
		if (lakelist_build(&l->list) < 0)
			return SRC_FAIL;
		l->failed += l->list.failed;
		l->listed = 1;
	}
	if (l->want_read) {
		if (pollset_revents(ps, l->poll_i) == 0)
			return SRC_OK;
		l->want_read = 0;
		if (or_read(&l->rd) < 0)
			close_object(l, 0);
	}
	while (pump_room(p)) {
		if (l->stopped)
			return SRC_END;
		if (!l->open && !open_next(l))
			return SRC_END;
		switch (or_next(&l->rd, &l->rec, &line, &len)) {
		case OR_LINE:
			if (lakerec_parse(&l->rec, line, len, &why) == 0)
				emit_record(l, p);
			else if (bad_record(l, why) < 0)
				drop_object(l);
			break;
		case OR_REC:
			emit_record(l, p);
			break;
		case OR_BAD:
			if (bad_record(l, l->rd.why) < 0)
				drop_object(l);
			break;
		case OR_MORE:
			l->want_read = 1;
			return SRC_OK;
		case OR_END:
			close_object(l, 1);
			break;
		default:
			close_object(l, 0);
			break;
		}
	}
	return SRC_OK;
}

static void
lake_stop(struct source *s)
{
	struct lake *l = (struct lake *)s;

	l->stopped = 1;
	if (l->open) {
		or_close(&l->rd);
		l->open = 0;
		l->want_read = 0;
	}
}

static int
lake_finish(struct source *s)
{
	struct lake *l = (struct lake *)s;

	if (l->skipped > 0)
		log_verbose("%llu records of other topics skipped",
		    (unsigned long long)l->skipped);
	if (l->failed == 0)
		return 0;
	warnx("%s: %llu objects or records not restored (see above)",
	    l->o.dest, (unsigned long long)l->failed);
	return -1;
}

static void
lake_free(struct source *s)
{
	struct lake *l = (struct lake *)s;

	if (l->open)
		or_close(&l->rd);
	lakelist_free(&l->list);
	lakerec_release(&l->rec);
	free(l->deliver);
	free(l);
}

/*
 * deliver --check --list on the destination, before anything runs: a
 * destination or a --deliver-option deliver refuses is its one line and
 * exit status 2, as a bad option of consume's own would be.
 */
int
lake_check(const struct lake_opts *o)
{
	const char *extra[2] = { "--check", "--list" };
	struct lakechild ch;
	struct buf b = BUF_INIT;
	char *deliver;
	int st;

	deliver = xstrdup(deliver_program(o->deliver));
	if (lakechild_start(deliver, o, &ch, extra, 2, 0) < 0)
		st = EXIT_USAGE;
	else if ((st = lakechild_slurp(&ch, &b)) < 0)
		st = EXIT_FAIL;
	buf_release(&b);
	free(deliver);
	return st;
}

static const struct source_ops lake_ops = {
	.name = "lake",
	.prepare = lake_prepare,
	.run = lake_run,
	.stop = lake_stop,
	.finish = lake_finish,
	.free = lake_free,
};

struct source *
lake_source_new(const struct lake_opts *o)
{
	struct lake *l = xcalloc(1, sizeof(*l));

	l->base.ops = &lake_ops;
	l->o = *o;
	l->deliver = xstrdup(deliver_program(o->deliver));
	lakerec_init(&l->rec);
	l->list.deliver = l->deliver;
	l->list.o = &l->o;
	l->list.rec = &l->rec;
	return &l->base;
}
