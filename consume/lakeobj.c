/*
 * One stored object of the lake read for consume --lake (lakeobj.h): its
 * bytes from deliver --cat, decompressed, taken a record at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "buf.h"
#include "lakecsv.h"
#include "lakeobj.h"
#include "lakerec.h"
#include "msgid.h"
#include "pqread.h"

#define OUT_CHUNK	(256 * 1024)	/* decompressed per step at most */

int
or_open(const char *deliver, const struct lake_opts *lo,
    struct objreader *r, const struct obj *o)
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
	r->max_size = lo->max_size;
	return lakechild_start(deliver, lo, &r->ch, extra, 2, 0);
}

void
or_close(struct objreader *r)
{
	lakechild_kill(&r->ch);
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

int
or_read(struct objreader *r)
{
	ssize_t n;

	if (r->zpos > 0) {
		buf_consume(&r->zin, r->zpos);
		r->zpos = 0;
	}
	buf_grow(&r->zin, LAKECHILD_READ);
	do
		n = read(r->ch.fd, r->zin.data + r->zin.len, LAKECHILD_READ);
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

int
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
