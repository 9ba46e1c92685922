/*
 * frame: reading and writing lakepipe frames (see lakepipe-frames(5)).
 *
 * A frame is a header line, and for types that carry one, a body:
 *
 *	TYPE [LEN] [NAME=VALUE]...\n
 *	LEN bytes of body\n			(only when LEN is present)
 *
 * TYPE is one upper-case ASCII letter: M (message), O (object), P (part
 * of an object), A (ack).
 * Values are percent-encoded (pct.h).  Readers keep fields they do not
 * know, so that writers can add new ones.
 *
 * Reading, in the style of git's pkt-line: a frame_reader owns an input
 * buffer over a file descriptor.  frame_next() parses the next frame out of
 * what is buffered without blocking, frame_reader_fill() does one read(2),
 * and frame_read() combines them for callers that may block.  A parsed
 * frame's body, header and fields point into the reader's buffer: they stay
 * valid until the next call on that reader.
 *
 * Every error names the stream and the byte offset of the offending frame,
 * in r->err, so that "truncated", "garbage" and "too large" inputs give one
 * clear line.
 *
 * Writing: build the header in a struct buf with frame_begin() and the
 * frame_add*() calls, then frame_finish() appends the newline and the body
 * (for buffered output) or frame_write() writes header and body with one
 * writev(2) (for large bodies).
 */
#ifndef LAKEPIPE_FRAME_H
#define LAKEPIPE_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define FRAME_MAX_HEADER	(1024 * 1024)	/* one header line, bytes */
#define FRAME_DEFAULT_MAX_BODY	((size_t)1 << 30)

struct frame_field {
	const char	*name;
	size_t		 namelen;
	const char	*val;		/* still percent-encoded */
	size_t		 vallen;
};

struct frame_layout;

/*
 * A parsed frame.  One struct frame is meant to be reused for a stream's
 * frames: it keeps the layout of the last header parsed into it (its
 * fields' names, places and lengths after the length), and a header that
 * has that layout and differs from the last one only in digits of values
 * (seq=, id=: most of a stream's headers) is compared with it, not
 * parsed.  Then same is 1 and bit i of changed is set when field i's
 * value differs from the last header's (all bits when same is 0).  The
 * fields are those the full parser would give either way.
 */
struct frame {
	char		 type;
	int		 has_body;
	const char	*body;
	size_t		 len;
	const char	*hdr;		/* the header line, without newline */
	size_t		 hdrlen;
	struct frame_field *fields;
	size_t		 nfields, fieldcap;
	uint64_t	 offset;	/* of the header in the stream */
	uint64_t	 parsed;	/* headers parsed into it, counted */
	int		 same;		/* the last header's layout */
	uint64_t	 changed;	/* fields whose values changed */
	struct frame_layout *layout;	/* owned; NULL until needed */
};

struct frame_reader {
	int		 fd;
	const char	*name;		/* for messages: "stdin", a path */
	struct buf	 in;
	size_t		 pos;		/* parsed up to here in in.data */
	uint64_t	 base;		/* stream offset of in.data[0] */
	size_t		 max_body;
	size_t		 want;		/* bytes needed to finish a frame */
	int		 eof;
	char		 err[512];
};

enum { FRAME_ERR = -1, FRAME_MORE = 0, FRAME_OK = 1 };

/*
 * A pipe fd is grown to 1 MiB if it is smaller: its writer blocks, and
 * wakes the reader, less often.
 */
void	frame_reader_init(struct frame_reader *, int fd, const char *name);
void	frame_reader_release(struct frame_reader *);
/*
 * One read(2) into the buffer: >0 bytes read, 0 at end of input, -1 on an
 * error (errno kept; EAGAIN and EINTR are the caller's business).
 */
ssize_t	frame_reader_fill(struct frame_reader *);
/*
 * Parse the next buffered frame: FRAME_OK, FRAME_MORE (need more input;
 * at end of input a partial frame is an error instead), or FRAME_ERR
 * with r->err set.  At end of input with nothing left, FRAME_MORE and
 * frame_reader_done() is true.
 */
int	frame_next(struct frame_reader *, struct frame *);
int	frame_reader_done(const struct frame_reader *);
/* Blocking: 1 frame, 0 clean end of input, -1 error (r->err). */
int	frame_read(struct frame_reader *, struct frame *);

void	frame_init(struct frame *);
void	frame_release(struct frame *);
/* Parse one header line (without its newline) into f; -1 with why set. */
int	frame_parse_header(struct frame *, const char *, size_t, size_t max_body,
	    const char **why);

const struct frame_field *frame_field(const struct frame *, const char *name);
/* Decoded value of a field appended to out; 1 found, 0 absent, -1 bad. */
int	frame_get(const struct frame *, const char *name, struct buf *out);
/* Unsigned decimal field; 1 found, 0 absent, -1 malformed. */
int	frame_get_u64(const struct frame *, const char *name, uint64_t *);

void	frame_begin(struct buf *, char type, size_t bodylen);
void	frame_begin_nobody(struct buf *, char type);
void	frame_add(struct buf *, const char *name, const void *val, size_t);
void	frame_add_str(struct buf *, const char *name, const char *val);
void	frame_add_u64(struct buf *, const char *name, uint64_t);
/* Copy a field read from another frame unchanged (carry-through). */
void	frame_add_field(struct buf *, const struct frame_field *);
/* End the header, append body and the trailing newline to hdr. */
void	frame_finish(struct buf *, const void *body, size_t len);
/* End the header and write header, body, newline to fd: 0 or -1 (errno). */
int	frame_write(int fd, struct buf *hdr, const void *body, size_t len);

#endif
