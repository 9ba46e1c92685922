/*
 * The lake source (consume --lake): the messages stored under a
 * destination, read back and written as message frames again.
 *
 * The lake is read through deliver, run as a child with its stdout a pipe
 * and consume's environment (the store's credentials never pass through
 * argv): `deliver --list DEST` names the objects, `deliver --index DEST`
 * (a deliver that has it) gives the partition and first id of those that
 * exactly-once runs stored, and `deliver --cat KEY DEST` their bytes.
 *
 * Order: oldest first per partition.  Objects are sorted by topic,
 * partition and first message id; that of an object without an index
 * entry is the id of its first record, read once before anything is
 * emitted (so the list is all that is held besides one object's records).
 * Inside an object the records are in the order transform wrote them.
 *
 * Each object is streamed: its bytes are read when poll(2) says so,
 * decompressed (by its enc, its key's extension, or its magic number) a
 * chunk at a time and taken a record at a time: a line of a JSON lines
 * object (lakerec.h), a row of a CSV one (lakecsv.h).  A Parquet object
 * is read from its end, so its bytes are spooled to an unlinked file
 * first and its rows read from there (pqread.h), a row group at a time.
 * What cannot be restored (raw .txt and .bin objects, malformed records,
 * objects that cannot be read, objects without the columns a record needs,
 * indexed objects that are gone) is one warning line each, and exit
 * status 1 at the end; the rest is still written.  Before
 * all that, `deliver --check --list DEST` (lake_check) makes a destination
 * deliver refuses a usage error of consume's.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "buf.h"
#include "checkpoint.h"
#include "frame.h"
#include "lakecsv.h"
#include "lakerec.h"
#include "log.h"
#include "msgid.h"
#include "pqread.h"
#include "pump.h"
#include "source.h"

extern char **environ;

#define READ_CHUNK	(64 * 1024)	/* one read(2) of an object */
#define OUT_CHUNK	(256 * 1024)	/* decompressed per step at most */
#define INDEX_DIR	"_lakepipe/"
#define MARKER_NAME	"_SUCCESS"	/* deliver --markers: no messages */
#define MAX_BAD		20	/* malformed records said, per object */

enum zenc { CE_UNKNOWN, CE_PLAIN, CE_GZIP, CE_ZSTD };
/* What an object holds; OF_UNKNOWN: its first bytes say. */
enum ofmt { OF_UNKNOWN, OF_JSONL, OF_CSV, OF_PARQUET };

/* One object of the lake, as listed. */
struct obj {
	char		*key;		/* relative to the destination */
	char		*topic;		/* full name; NULL: not known */
	struct msgid	 first;
	enum zenc	 enc;
	enum ofmt	 fmt;
	int		 raw;		/* format raw: cannot be restored */
	int		 empty;		/* no records */
};

struct child {
	pid_t		 pid;		/* 0: none */
	int		 fd;
};

/* An object being read: deliver --cat, decompressed, split in lines. */
struct objreader {
	struct child	 ch;
	const char	*key;
	enum zenc	 enc;
	enum ofmt	 fmt;
	int		 eof;
	uint64_t	 nread;		/* bytes read from the pipe */
	z_stream	 z;
	int		 z_init, z_end;
	ZSTD_DStream	*zs;
	int		 zs_end;
	struct buf	 zin;		/* read, not yet decompressed */
	size_t		 zpos;
	struct buf	 lines;		/* decompressed, not yet taken */
	size_t		 lpos;
	uint64_t	 lineno;
	int		 nbad;		/* malformed records */
	size_t		 max_size;
	struct lakecsv	 csv;
	int		 spool;		/* Parquet: the object, or -1 */
	uint64_t	 spooled;
	struct pqr	*pq;
	size_t		 pqcol[LC_N];	/* its column of each lakecol */
	uint64_t	 row;
	int		 unfit;		/* why: it cannot be restored */
	int		 sniffed;	/* fmt from its first byte */
	int		 peek;		/* only its first id is wanted */
	char		 why[256];
};

/*
 * What reading an object gives: a line (jsonl) or a record, a row that
 * is no record (why), the need to read, its end, an error (why).
 */
enum { OR_LINE, OR_REC, OR_BAD, OR_MORE, OR_END, OR_ERR };

struct lake {
	struct source	 base;
	struct lake_opts o;
	char		*deliver;
	struct obj	*objs;
	size_t		 nobj, cur;
	int		 listed, open, want_read, stopped;
	size_t		 poll_i;
	struct objreader rd;
	struct lakerec	 rec;
	uint64_t	 failed;	/* objects and records not restored */
	uint64_t	 skipped;	/* records of other topics */
};

/*
 * Run deliver with the --deliver-option arguments, then extra[], then
 * the destination unless nodest: its stdout a pipe, stdin /dev/null.
 */
static int
child_start(struct lake *l, struct child *ch, const char *const *extra,
    size_t nextra, int nodest)
{
	posix_spawn_file_actions_t fa;
	const char **argv;
	size_t i, n = 0;
	int fds[2], rc;

	argv = xreallocarray(NULL, l->o.ndargs + nextra + 3, sizeof(*argv));
	argv[n++] = l->deliver;
	for (i = 0; i < l->o.ndargs; i++)
		argv[n++] = l->o.dargs[i];
	for (i = 0; i < nextra; i++)
		argv[n++] = extra[i];
	if (!nodest)
		argv[n++] = l->o.dest;
	argv[n] = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		warn("pipe");
		free(argv);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	rc = posix_spawnp(&ch->pid, l->deliver, &fa, NULL,
	    (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	close(fds[1]);
	if (rc != 0) {
		log_error("cannot run deliver (give --deliver PATH)",
		    "deliver=%s error=%s", l->deliver, strerror(rc));
		close(fds[0]);
		ch->pid = 0;
		return -1;
	}
	ch->fd = fds[0];
	log_debug("deliver started", "pid=%ld what=%s", (long)ch->pid,
	    nextra > 0 ? extra[0] : "");
	return 0;
}

/* Wait for it: its exit status, or -1 when a signal ended it. */
static int
child_wait(struct child *ch)
{
	int st;

	if (ch->pid == 0)
		return 0;
	close(ch->fd);
	while (waitpid(ch->pid, &st, 0) < 0)
		if (errno != EINTR) {
			st = -1;
			break;
		}
	ch->pid = 0;
	if (st != -1 && WIFEXITED(st))
		return WEXITSTATUS(st);
	return -1;
}

/* Stop it: what it would still write is not wanted. */
static void
child_kill(struct child *ch)
{
	if (ch->pid != 0) {
		(void)kill(ch->pid, SIGKILL);
		(void)child_wait(ch);
	}
}

/* All of a child's output (a listing) into b, and its exit status. */
static int
child_slurp(struct child *ch, struct buf *b)
{
	char tmp[READ_CHUNK];
	ssize_t n;

	for (;;) {
		n = read(ch->fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(b, tmp, (size_t)n);
	}
	if (n < 0)
		warn("reading from deliver");
	return child_wait(ch);
}

static int
run_listing(struct lake *l, const char *what, struct buf *out)
{
	const char *extra[1] = { what };
	struct child ch;
	int st;

	if (child_start(l, &ch, extra, 1, strcmp(what, "--list-options") ==
	    0) < 0)
		return -1;
	if ((st = child_slurp(&ch, out)) != 0) {
		warnx("%s %s %s failed (exit status %d)", l->deliver, what,
		    l->o.dest, st);
		return -1;
	}
	return 0;
}

/* ---- reading one object ---- */

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

static int
or_open(struct lake *l, struct objreader *r, const struct obj *o)
{
	const char *extra[2] = { "--cat", o->key };

	memset(r, 0, sizeof(*r));
	buf_init(&r->zin, 0);
	buf_init(&r->lines, 0);
	r->key = o->key;
	r->enc = o->enc;
	r->fmt = o->fmt;
	lakecsv_init(&r->csv);
	r->spool = -1;
	r->max_size = l->o.max_size;
	return child_start(l, &r->ch, extra, 2, 0);
}

/* The object ended early or failed: nothing more from it. */
static void
or_close(struct objreader *r)
{
	child_kill(&r->ch);
	if (r->z_init)
		inflateEnd(&r->z);
	ZSTD_freeDStream(r->zs);
	buf_release(&r->zin);
	buf_release(&r->lines);
	lakecsv_release(&r->csv);
	if (r->spool >= 0)
		close(r->spool);
	r->spool = -1;
	pqr_free(r->pq);
	r->pq = NULL;
	r->z_init = 0;
	r->zs = NULL;
}

/* One read(2): 0 (more, or eof set) or -1 with why set. */
static int
or_read(struct objreader *r)
{
	ssize_t n;

	if (r->zpos > 0) {
		buf_consume(&r->zin, r->zpos);
		r->zpos = 0;
	}
	buf_grow(&r->zin, READ_CHUNK);
	do
		n = read(r->ch.fd, r->zin.data + r->zin.len, READ_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(r->why, sizeof(r->why), "reading from deliver: %s",
		    strerror(errno));
		return -1;
	}
	if (n == 0)
		r->eof = 1;
	buf_setlen(&r->zin, r->zin.len + (size_t)n);
	r->nread += (uint64_t)n;
	return 0;
}

/* Without enc or a known extension: the magic number says. */
static void
sniff(struct objreader *r)
{
	const unsigned char *p = (const unsigned char *)r->zin.data;
	size_t n = r->zin.len;

	if (n >= 4 && memcmp(p, "PAR1", 4) == 0 && r->fmt == OF_UNKNOWN) {
		r->fmt = OF_PARQUET;
		r->enc = CE_PLAIN;
	} else if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		r->enc = CE_GZIP;
	else if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f &&
	    p[3] == 0xfd)
		r->enc = CE_ZSTD;
	else
		r->enc = CE_PLAIN;
}

static int
gzip_step(struct objreader *r)
{
	int rc;

	if (!r->z_init) {
		if (inflateInit2(&r->z, 15 + 16) != Z_OK) {
			snprintf(r->why, sizeof(r->why), "zlib: cannot start");
			return -1;
		}
		r->z_init = 1;
	} else if (r->z_end) {
		/* another gzip member follows */
		inflateReset(&r->z);
		r->z_end = 0;
	}
	buf_grow(&r->lines, OUT_CHUNK);
	r->z.next_in = (unsigned char *)r->zin.data + r->zpos;
	r->z.avail_in = (unsigned)(r->zin.len - r->zpos);
	r->z.next_out = (unsigned char *)r->lines.data + r->lines.len;
	r->z.avail_out = OUT_CHUNK;
	rc = inflate(&r->z, Z_NO_FLUSH);
	r->zpos = r->zin.len - r->z.avail_in;
	buf_setlen(&r->lines, r->lines.len + (OUT_CHUNK - r->z.avail_out));
	if (rc == Z_STREAM_END)
		r->z_end = 1;
	else if (rc != Z_OK && rc != Z_BUF_ERROR) {
		snprintf(r->why, sizeof(r->why), "bad gzip data: %s",
		    r->z.msg ? r->z.msg : "inflate failed");
		return -1;
	}
	return 0;
}

static int
zstd_step(struct objreader *r)
{
	ZSTD_inBuffer in;
	ZSTD_outBuffer out;
	size_t rc;

	if (r->zs == NULL)
		r->zs = ZSTD_createDStream();
	buf_grow(&r->lines, OUT_CHUNK);
	in.src = r->zin.data;
	in.size = r->zin.len;
	in.pos = r->zpos;
	out.dst = r->lines.data + r->lines.len;
	out.size = OUT_CHUNK;
	out.pos = 0;
	rc = ZSTD_decompressStream(r->zs, &out, &in);
	if (ZSTD_isError(rc)) {
		snprintf(r->why, sizeof(r->why), "bad zstd data: %s",
		    ZSTD_getErrorName(rc));
		return -1;
	}
	r->zs_end = rc == 0;
	r->zpos = in.pos;
	buf_setlen(&r->lines, r->lines.len + out.pos);
	return 0;
}

/* Decompress some of zin into lines: 1 progress, 0 none, -1 error. */
static int
or_decode(struct objreader *r)
{
	size_t zpos = r->zpos, len = r->lines.len;
	int rc = 0;

	if (r->enc == CE_UNKNOWN) {
		if (r->zin.len - r->zpos < 4 && !r->eof)
			return 0;
		sniff(r);
	}
	/* a stream that ended, and nothing after it: nothing to do */
	if (zpos == r->zin.len && (r->enc == CE_GZIP ? r->z_end :
	    r->enc == CE_ZSTD ? r->zs_end || r->zs == NULL : 1))
		return 0;
	switch (r->enc) {
	case CE_GZIP:
		rc = gzip_step(r);
		break;
	case CE_ZSTD:
		rc = zstd_step(r);
		break;
	default:
		buf_add(&r->lines, r->zin.data + r->zpos,
		    r->zin.len - r->zpos);
		r->zpos = r->zin.len;
		break;
	}
	if (rc < 0)
		return -1;
	return r->zpos != zpos || r->lines.len != len;
}

/* Is what was read a complete compressed stream (or none at all)? */
static int
or_complete(const struct objreader *r)
{
	if (r->nread == 0)
		return 1;
	switch (r->enc) {
	case CE_GZIP:
		return r->z_end;
	case CE_ZSTD:
		return r->zs_end;
	default:
		return 1;
	}
}

/* Drop the bytes taken, when they are many. */
static void
or_compact(struct objreader *r)
{
	if (r->lpos > OUT_CHUNK && r->lpos > r->lines.len / 2) {
		buf_consume(&r->lines, r->lpos);
		r->lpos = 0;
	}
}

enum { FILL_SOME, FILL_WAIT, FILL_DONE, FILL_ERR };

/*
 * More decompressed bytes: FILL_SOME, FILL_WAIT (poll, or_read),
 * FILL_DONE (none will come: the object ended whole), FILL_ERR (why).
 */
static int
or_fill(struct objreader *r)
{
	int rc;

	if ((rc = or_decode(r)) < 0)
		return FILL_ERR;
	if (rc > 0)
		return FILL_SOME;
	if (!r->eof)
		return FILL_WAIT;
	if (!or_complete(r)) {
		snprintf(r->why, sizeof(r->why), "truncated %s data",
		    r->enc == CE_GZIP ? "gzip" : "zstd");
		return FILL_ERR;
	}
	return FILL_DONE;
}

/*
 * The next line (record) of a jsonl object: OR_LINE with *line, *len
 * (valid until the next call), OR_MORE (poll, or_read), OR_END, OR_ERR.
 */
static int
or_line(struct objreader *r, const char **line, size_t *len)
{
	const char *s, *nl;
	size_t left;
	int rc;

	or_compact(r);
	for (;;) {
		s = r->lines.data + r->lpos;
		left = r->lines.len - r->lpos;
		if ((nl = memchr(s, '\n', left)) != NULL) {
			*line = s;
			*len = (size_t)(nl - s);
			r->lpos += *len + 1;
			r->lineno++;
			return OR_LINE;
		}
		if (left > r->max_size) {
			snprintf(r->why, sizeof(r->why), "line %llu: a record "
			    "longer than --max-size",
			    (unsigned long long)r->lineno + 1);
			return OR_ERR;
		}
		if ((rc = or_fill(r)) == FILL_SOME)
			continue;
		if (rc != FILL_DONE)
			return rc == FILL_WAIT ? OR_MORE : OR_ERR;
		if (left > 0) {		/* a last line without newline */
			*line = s;
			*len = left;
			r->lpos += left;
			r->lineno++;
			return OR_LINE;
		}
		return OR_END;
	}
}

/*
 * The next record of a CSV object into rec: OR_REC, OR_BAD (why),
 * OR_MORE, OR_END, OR_ERR (why; unfit when its header row is why).
 */
static int
or_csv(struct objreader *r, struct lakerec *rec)
{
	const char *why;
	size_t used, left;
	int rc, end = 0;

	for (;;) {
		or_compact(r);
		left = r->lines.len - r->lpos;
		rc = lakecsv_next(&r->csv, rec, r->lines.data + r->lpos, left,
		    end, &used, &why);
		r->lpos += used;
		r->lineno = r->csv.recline;
		if (rc != CSV_MORE) {
			if (rc == CSV_ROW || rc == CSV_END)
				return rc == CSV_ROW ? OR_REC : OR_END;
			strlcpy(r->why, why, sizeof(r->why));
			if (rc == CSV_BAD)
				return OR_BAD;
			r->unfit = !r->csv.header;
			if (r->unfit && r->sniffed)
				snprintf(r->why, sizeof(r->why), "line 1: "
				    "malformed record: %s; not a JSON lines, "
				    "CSV or Parquet object of transform's, "
				    "skipped", why);
			r->unfit &= !r->sniffed;
			return OR_ERR;
		}
		if (left - used > r->max_size) {
			snprintf(r->why, sizeof(r->why), "line %llu: a record "
			    "longer than --max-size",
			    (unsigned long long)r->csv.line + 1);
			return OR_ERR;
		}
		if (end) {		/* the reader wants more than all */
			snprintf(r->why, sizeof(r->why), "a CSV record "
			    "without its end");
			return OR_ERR;
		}
		if ((rc = or_fill(r)) == FILL_DONE)
			end = 1;
		else if (rc != FILL_SOME)
			return rc == FILL_WAIT ? OR_MORE : OR_ERR;
	}
}

/*
 * A Parquet object is read from its end (the footer), so it is first
 * spooled to an unlinked file in $TMPDIR: the bytes decoded so far go
 * there.  0, or -1 with why.
 */
static int
or_spool(struct objreader *r)
{
	const char *dir = getenv("TMPDIR");
	char path[1024];

	if (r->spool < 0) {
		snprintf(path, sizeof(path), "%s/lakepipe-restore.XXXXXX",
		    dir != NULL && *dir != '\0' ? dir : "/tmp");
		if ((r->spool = mkostemp(path, O_CLOEXEC)) < 0) {
			snprintf(r->why, sizeof(r->why), "cannot spool the "
			    "Parquet object: %.150s: %s", path,
			    strerror(errno));
			return -1;
		}
		(void)unlink(path);
	}
	if (write_all(r->spool, r->lines.data + r->lpos, r->lines.len -
	    r->lpos) < 0) {
		snprintf(r->why, sizeof(r->why), "cannot spool the Parquet "
		    "object: %s", strerror(errno));
		return -1;
	}
	r->spooled += r->lines.len - r->lpos;
	buf_reset(&r->lines);
	r->lpos = 0;
	return 0;
}

/* The spooled object's footer read, the columns a record needs chosen. */
static int
or_pq_open(struct objreader *r)
{
	const char *missing, *name;
	size_t i, len;
	int col[LC_N], k;

	if ((r->pq = pqr_open(r->spool, r->spooled, r->why,
	    sizeof(r->why))) == NULL)
		return -1;
	for (k = 0; k < LC_N; k++)
		col[k] = -1;
	for (i = 0; i < pqr_ncols(r->pq); i++) {
		name = pqr_name(r->pq, i, &len);
		if ((k = lakecol_find(name, len)) >= 0 && col[k] < 0)
			col[k] = (int)i;
	}
	r->unfit = 1;
	if ((missing = lakecol_missing(col)) != NULL) {
		strlcpy(r->why, missing, sizeof(r->why));
		return -1;
	}
	for (k = 0; k < LC_N; k++)
		r->pqcol[k] = (size_t)col[k];
	/* a peek reads message_id and topic, the first two */
	if (pqr_select(r->pq, r->pqcol, r->peek ? 2 : LC_N) < 0) {
		strlcpy(r->why, pqr_error(r->pq), sizeof(r->why));
		return -1;
	}
	r->unfit = 0;
	return 0;
}

/* A time in another unit than milliseconds, made milliseconds. */
static int64_t
to_ms(const struct pqr *pq, size_t col, int64_t t)
{
	switch (pqr_unit(pq, col)) {
	case PQR_MICROS:
		return t / 1000;
	case PQR_NANOS:
		return t / 1000000;
	default:
		return t;
	}
}

/* The topic and id of a row whose other columns were not read. */
static int
peek_row(struct lakerec *rec, const struct pqval *pv)
{
	if (pv[LC_MESSAGE_ID].kind != PQV_BYTES || pv[LC_TOPIC].kind !=
	    PQV_BYTES || msgid_parse(&rec->mid, pv[LC_MESSAGE_ID].s,
	    pv[LC_MESSAGE_ID].n) < 0)
		return OR_BAD;
	buf_reset(&rec->topic);
	buf_add(&rec->topic, pv[LC_TOPIC].s, pv[LC_TOPIC].n);
	return OR_REC;
}

/*
 * The next row of a Parquet object into rec: OR_REC, OR_BAD (why),
 * OR_MORE while it is spooled, OR_END, OR_ERR (why).
 */
static int
or_parquet(struct objreader *r, struct lakerec *rec)
{
	struct pqval pv[LC_N];
	struct lakeval v[LC_N];
	const char *why;
	int k, rc;

	while (r->pq == NULL) {
		if (or_spool(r) < 0)
			return OR_ERR;
		if ((rc = or_fill(r)) == FILL_DONE) {
			if (or_pq_open(r) < 0)
				return OR_ERR;
		} else if (rc != FILL_SOME)
			return rc == FILL_WAIT ? OR_MORE : OR_ERR;
	}
	if ((rc = pqr_next(r->pq, pv)) <= 0) {
		strlcpy(r->why, pqr_error(r->pq), sizeof(r->why));
		return rc == 0 ? OR_END : OR_ERR;
	}
	r->lineno = ++r->row;
	if (r->peek)
		return peek_row(rec, pv);
	for (k = 0; k < LC_N; k++) {
		v[k].kind = pv[k].kind == PQV_NULL ? LV_NULL :
		    pv[k].kind == PQV_INT ? LV_INT : LV_TEXT;
		v[k].s = pv[k].s;
		v[k].n = pv[k].n;
		v[k].i = pv[k].i;
	}
	v[LC_PUBLISH_TIME].i = to_ms(r->pq, r->pqcol[LC_PUBLISH_TIME],
	    v[LC_PUBLISH_TIME].i);
	v[LC_EVENT_TIME].i = to_ms(r->pq, r->pqcol[LC_EVENT_TIME],
	    v[LC_EVENT_TIME].i);
	if (lakerec_from_cols(rec, v, &why) < 0) {
		strlcpy(r->why, why, sizeof(r->why));
		return OR_BAD;
	}
	return OR_REC;
}

/* An object of no known format: its first byte says, '{' for jsonl. */
static int
or_sniff(struct objreader *r)
{
	int rc;

	while (r->fmt == OF_UNKNOWN && r->lpos == r->lines.len) {
		if ((rc = or_fill(r)) == FILL_DONE)
			break;
		if (rc != FILL_SOME)
			return rc == FILL_WAIT ? OR_MORE : OR_ERR;
	}
	if (r->fmt == OF_UNKNOWN) {
		r->fmt = r->lpos < r->lines.len && r->lines.data[r->lpos] !=
		    '{' ? OF_CSV : OF_JSONL;
		r->sniffed = 1;
	}
	return OR_REC;
}

/*
 * What comes next from the object: OR_LINE (jsonl: *line, *len), OR_REC
 * (rec), OR_BAD, OR_MORE, OR_END, OR_ERR.
 */
static int
or_next(struct objreader *r, struct lakerec *rec, const char **line,
    size_t *len)
{
	int rc;

	if (r->fmt == OF_UNKNOWN && (rc = or_sniff(r)) != OR_REC)
		return rc;
	switch (r->fmt) {
	case OF_CSV:
		return or_csv(r, rec);
	case OF_PARQUET:
		return or_parquet(r, rec);
	default:
		return or_line(r, line, len);
	}
}

/* ---- the list ---- */

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
read_index(struct lake *l, struct ientry **ep, size_t *np)
{
	struct buf b = BUF_INIT;
	struct ientry *e = NULL;
	size_t n = 0;
	char *s, *nl;

	*ep = NULL;
	*np = 0;
	if (run_listing(l, "--list-options", &b) < 0)
		goto fail;
	if (strncmp(b.data, "index\n", 6) != 0 && strstr(b.data, "\nindex\n")
	    == NULL) {
		log_verbose("%s has no --index: objects ordered by their "
		    "first records", l->deliver);
		buf_release(&b);
		return 0;
	}
	buf_reset(&b);
	if (run_listing(l, "--index", &b) < 0)
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
peek_first(struct lake *l, struct obj *o)
{
	struct objreader r;
	const char *line, *why;
	size_t len;
	int rc;

	if (or_open(l, &r, o) < 0) {
		or_close(&r);
		return;		/* said; the object fails again later */
	}
	r.max_size = l->o.max_size;
	r.peek = 1;
	while ((rc = or_next(&r, &l->rec, &line, &len)) == OR_MORE)
		if (or_read(&r) < 0)
			break;
	if (rc == OR_REC || (rc == OR_LINE && lakerec_parse(&l->rec, line,
	    len, &why) == 0)) {
		o->topic = xstrndup(l->rec.topic.data, l->rec.topic.len);
		o->first = l->rec.mid;
	} else if (rc == OR_END)
		o->empty = 1;
	if (o->enc == CE_UNKNOWN)
		o->enc = r.enc;
	/* the rest is not needed now: errors are said when it is read */
	or_close(&r);
}

static int
topic_wanted(const char *want, const char *t, size_t n)
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
add_obj(struct lake *l, const char *key, size_t n, const struct ientry *ie)
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
list_objects(struct lake *l, struct ientry *ie, size_t nie)
{
	struct buf b = BUF_INIT;
	struct ientry want, *hit;
	char *s, *nl, *tab;

	if (run_listing(l, "--list", &b) < 0) {
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

static int
build_list(struct lake *l)
{
	struct ientry *ie;
	size_t nie, i, j, nidx = 0;
	int rc;

	if (read_index(l, &ie, &nie) < 0)
		return -1;
	rc = list_objects(l, ie, nie);
	for (i = 0; i < nie; i++) {
		/* the index names what was stored: gone is lost */
		if (rc == 0 && !ie[i].listed && topic_wanted(l->o.topic,
		    ie[i].topic, strlen(ie[i].topic))) {
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
		if (l->objs[i].topic == NULL || topic_wanted(l->o.topic,
		    l->objs[i].topic, strlen(l->objs[i].topic)))
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
	    l->o.dest, l->nobj, nidx);
	return 0;
}

/* ---- the source ---- */

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
	if (!topic_wanted(l->o.topic, l->rec.topic.data, l->rec.topic.len)) {
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

	for (; l->cur < l->nobj; l->cur++) {
		o = &l->objs[l->cur];
		if (o->empty)
			continue;
		if (o->raw) {
			warnx("%s: a raw (--format raw) object: payloads "
			    "without their ids and times cannot be restored; "
			    "skipped", o->key);
			l->failed++;
			continue;
		}
		if (or_open(l, &l->rd, o) < 0) {
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
		if ((st = child_wait(&l->rd.ch)) != 0) {
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
		if (build_list(l) < 0)
			return SRC_FAIL;
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
	size_t i;

	if (l->open)
		or_close(&l->rd);
	for (i = 0; i < l->nobj; i++) {
		free(l->objs[i].key);
		free(l->objs[i].topic);
	}
	free(l->objs);
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
	struct lake l;
	struct child ch;
	struct buf b = BUF_INIT;
	int st;

	memset(&l, 0, sizeof(l));
	l.o = *o;
	l.deliver = xstrdup(deliver_program(o->deliver));
	if (child_start(&l, &ch, extra, 2, 0) < 0)
		st = EXIT_USAGE;
	else if ((st = child_slurp(&ch, &b)) < 0)
		st = EXIT_FAIL;
	buf_release(&b);
	free(l.deliver);
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
	return &l->base;
}
