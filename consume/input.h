/*
 * input: the FILE operands of consume's replay and produce modes, read in
 * order without ever blocking on a read: every line of a lines input is a
 * message (without its newline; a last line without one is a message too,
 * an empty line an empty message, bytes taken as they are), and so is
 * every M frame of a frames input (frames of other types are skipped).
 * "-" is stdin.
 *
 * The caller polls input_fd() for POLLIN whenever input_next() said
 * IN_MORE, and then calls input_fill() once.  A line or a frame handed out
 * points into the reader's buffers: it stays valid until the next call.
 */
#ifndef CONSUME_INPUT_H
#define CONSUME_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"
#include "source.h"

struct input {
	const struct produce_input *in;	/* borrowed */
	size_t		 nin, cur;
	size_t		 max_size;	/* longest line or frame body */
	int		 fd;		/* -1: none open */
	const char	*name;		/* "stdin" or the path, for messages */
	uint64_t	 mtime_ms;	/* the file's; 0 for stdin */
	int		 opened;	/* set when an input is opened: the
					   caller clears it */
	uint64_t	 lineno;	/* lines taken from this input */
	struct buf	 ib;		/* lines: input not yet taken */
	size_t		 pos;
	int		 eof;
	struct frame_reader fr;
	struct frame	 f;
	uint64_t	 skipped;	/* frames that are not messages */
};

/* One input operand, read as lines or frames; "-" is stdin. */
struct produce_input {
	enum replay_mode mode;
	const char	*path;
};

enum { IN_LINE, IN_FRAME, IN_MORE, IN_END, IN_FAIL };

/* in[0..n) are borrowed until input_free(). */
void	input_init(struct input *, const struct produce_input *in, size_t n,
	    size_t max_size);
void	input_free(struct input *);
/*
 * The next message from what is buffered: IN_LINE with *line, *len set
 * (not NUL-terminated), IN_FRAME
 * with *f set, IN_MORE (poll, then input_fill()), IN_END of the last
 * input, or IN_FAIL (said: an input that cannot be opened or read, a line
 * longer than max_size, a bad frame).
 */
int	input_next(struct input *, const char **line, size_t *len,
	    const struct frame **f);
/* One read(2) of the input being read: 0, or -1 on an error (said). */
int	input_fill(struct input *);
/* Read no further: the current input is closed, the others dropped. */
void	input_stop(struct input *);

#endif
