/*
 * object: one object frame (type O) as deliver sees it, and the ack line
 * that confirms it.
 *
 * object_parse() checks what deliver relies on, whatever the writer
 * promised: a key that is safe as a relative path (object_key_check), a
 * seqs field that parses, numeric n when present, and a bucket= that is
 * a safe key with its bucket_start= and bucket_end=.  The parsed object
 * owns copies of every field, so it outlives the frame reader's buffer;
 * the body stays borrowed (body, len) unless object_own_body() copies it.
 *
 * An object larger than transform's part size comes as part frames (P)
 * and then its O frame, whose body is the object's last piece and whose
 * parts= counts the P frames (lakepipe-frames(5)); struct parts_in
 * follows them and checks that they make one object.
 */
#ifndef DELIVER_OBJECT_H
#define DELIVER_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"

struct object {
	struct buf	 key;		/* decoded, relative to the prefix */
	struct buf	 type;		/* content type, decoded; may be empty */
	struct buf	 schema;	/* schema=: columns name:type,..., or "" */
	struct buf	 enc;		/* content encoding, decoded; may be empty */
	struct buf	 seqs;		/* still encoded, copied to the ack */
	struct buf	 first, last;	/* decoded message ids, may be empty */
	struct buf	 topic;		/* decoded topic= (one partition's) */
	struct buf	 prev;		/* prev=: the lake's previous last id */
	uint64_t	 n;
	int		 has_n;
	uint64_t	 pt_min, pt_max;	/* publish times (ms), pt= */
	int		 has_pt;
	struct buf	 bucket;	/* bucket=: time bucket's directory, or "" */
	uint64_t	 bucket_start, bucket_end;	/* its ms, end exclusive */
	unsigned	 parts;		/* parts=: P frames before this one */
	const char	*body;		/* this frame's body: the last piece */
	size_t		 len;
	uint64_t	 total;		/* the whole object: parts and body */
	/*
	 * The memory body is in when o owns it, else empty: a copy, or the
	 * frame reader's buffer taken over (len: the bytes written in it,
	 * which are resident; body points inside).
	 */
	struct buf	 owned;
	uint64_t	 offset;	/* of the frame in the input stream */
};

void	object_init(struct object *);
void	object_release(struct object *);
/*
 * Fill o from an O frame: 0, or -1 with a one-line reason in why (which
 * names the frame's byte offset).
 */
int	object_parse(struct object *, const struct frame *, char *why,
	    size_t whylen);
/* Copy the body into memory the object owns. */
void	object_own_body(struct object *);
/* Nonzero for the "nothing to store" case: n=0 and an empty body. */
int	object_is_empty(const struct object *);
/*
 * NULL if the key is a safe relative path (not empty, not absolute, no
 * empty, "." or ".." segment, no control byte), else why not.
 */
const char *object_key_check(const char *, size_t);

/*
 * Append the ack line for o, stored as fullkey, to out: "A key=... seqs=..."
 * then the extra fields already formatted as " name=value..." (may be
 * NULL), then a newline.
 */
void	ack_format(struct buf *out, const struct object *o, const char *fullkey,
	    size_t fullkeylen, const char *extra);

/*
 * The P frames of the object being received: consecutive, one object at
 * a time, each body at least PART_MIN bytes (S3's smallest part, so that
 * each can be a part of a multipart upload as it is).
 */
#define PART_MIN	(5 * 1024 * 1024)

struct parts_in {
	struct buf	 key;		/* decoded; empty: no object in parts */
	struct buf	 type, enc, first;	/* as its first P frame says */
	unsigned	 n;		/* P frames so far */
	uint64_t	 bytes;		/* their bodies' bytes */
	uint64_t	 offset;	/* of its first P frame */
};

void	parts_init(struct parts_in *);
void	parts_release(struct parts_in *);
/*
 * Take a P frame: 0, or -1 with a one-line reason in why (another
 * object's key while one is in parts, no key, a body below PART_MIN).
 * p->n == 1 after the first P frame of an object.
 */
int	parts_take(struct parts_in *, const struct frame *, char *why,
	    size_t whylen);
/*
 * The O frame o (parsed) ends the object in parts, if any: o->total set,
 * p emptied for the next object; 0, or -1 with why when o's key or
 * parts= does not match the P frames.
 */
int	parts_end(struct parts_in *, struct object *o, char *why,
	    size_t whylen);
/* At the end of input: 0, or -1 with why if an object lacks its O frame. */
int	parts_at_eof(const struct parts_in *, char *why, size_t whylen);

/*
 * The input side: the next frame buffered in r for deliver: an object
 * frame parsed into o (which the caller has initialised or released), or
 * a part frame taken into p (its body in f).  Frames of other types are
 * skipped, except message frames (M), an error: deliver reads what
 * transform writes.  1 object, 3 part, 2 none buffered (fill r and call
 * again), 0 end of input, -1 error (one line in why; the end of input
 * inside an object in parts is one).
 */
int	object_next(struct frame_reader *, struct frame *, struct object *,
	    struct parts_in *p, char *why, size_t whylen);
/* Write an ack line to stdout at once: 0, or -1 (errno). */
int	ack_emit(const struct buf *);
/*
 * Say that a write to stdout failed with errno e, in one line ("stdout
 * closed" for EPIPE: a reader such as head(1) went away); EXIT_FAIL.
 */
int	stdout_failed(int e);

#endif
