/*
 * The upload loop (deliver_remote, loop.c): its state, and what its files
 * ask of one another.  Private to deliver's remote side:
 *
 *   loop.c    deliver_remote: reads stdin and drives libcurl, a turn at a
 *             time; on a fatal error cancels and aborts what is in flight
 *   intake.c  object and part frames from stdin, their bodies taken
 *             without a copy where large, spooled with --exactly-once
 *   upload.c  an upload's life: made, begun (one PUT, or Initiate, parts
 *             and Complete), freed
 *   answer.c  what the store answered each request: the next step, a
 *             retry, a HEAD after a lost answer, a conflict, a failure
 *   stored.c  an object stored: its index entry, its ack line, the next
 *             upload of its topic
 *
 * One struct loop lives on deliver_remote's stack; every upload on its
 * list is owned by it and freed by upload_free().
 */
#ifndef DELIVER_LOOP_H
#define DELIVER_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "digest.h"
#include "frame.h"
#include "object.h"
#include "report.h"
#include "store.h"
#include "upload.h"

#define MAX_PARTS		10000	/* S3's most parts in an upload */

struct markers;
struct options;

struct loop {
	struct store	 s;
	const struct options *opt;
	struct frame_reader r;
	struct frame	 f;
	struct upload	*first, *last;
	size_t		 nlive;
	uint64_t	 inflight;	/* bytes of the live objects */
	int		 eof, input_error, fatal;
	struct report	 rp;
	struct markers	*mk;		/* --markers, or NULL */
	/*
	 * The object in parts being read: its P frames so far, its upload
	 * (cur), or with --exactly-once its spool file and the hashes of
	 * what is in it; held: part bodies in memory (at most PARTS_HELD,
	 * intake.c).
	 */
	struct parts_in	 pin;
	struct upload	*cur;
	int		 spool;
	struct body_sums sums;
	unsigned	 held;
	/*
	 * The memory of the last large body stored, kept for the reader to
	 * read the next one into (intake.c: spare_adopt): its pages are
	 * resident already, and faulting fresh ones in for every object was
	 * a quarter of deliver's CPU.  At most one; freed when unused for
	 * SPARE_IDLE (spare_at: since when it waits) and at end of input.
	 */
	struct buf	 spare;
	double		 spare_at;
};

/* intake.c */
int	want_input(const struct loop *);
void	read_input(struct loop *);
void	parse_buffered(struct loop *);
void	ended_in_parts(struct loop *);
void	spool_drop(struct loop *);
void	body_done(struct loop *, struct buf *);
void	spare_expire(struct loop *);

/* upload.c */
struct upload *upload_new(struct loop *, struct object *);
void	upload_begin(struct loop *, struct object *, int spool,
	    struct body_sums *);
int	headers_ok(struct loop *, const struct object *);
void	start_parts(struct loop *, struct upload *);
void	queue_parts(struct loop *, struct upload *);
void	start_complete(struct loop *, struct upload *);
void	part_forget(struct loop *, struct upload *, unsigned);
void	upload_free(struct loop *, struct upload *);

/* answer.c */
void	on_done(struct loop *, struct req *, enum req_verdict);
void	fail_upload(struct loop *, const struct upload *, const struct req *,
	    const char *why);

/* stored.c */
void	emit_ack(struct loop *, const struct object *, const char *fullkey,
	    const char *extra);
int	topic_busy(const struct loop *, const struct upload *);
int	put_index(struct loop *, const char *line, char *why, size_t whylen);
void	ack_stored(struct loop *, struct upload *, const char *line,
	    uint64_t size, uint64_t crc, const struct buf *etag);
void	upload_acked(struct loop *, struct upload *, const struct buf *etag);

#endif
