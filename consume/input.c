/*
 * input (input.h): lines and frames from the inputs, one read(2) at a
 * time, for the replay source and the producer.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "input.h"
#include "log.h"

#define READ_SIZE	(1024 * 1024)

void
input_init(struct input *r, const struct produce_input *in, size_t n,
    size_t max_size)
{
	memset(r, 0, sizeof(*r));
	r->in = in;
	r->nin = n;
	r->max_size = max_size;
	r->fd = -1;
	buf_init(&r->ib, 0);
	frame_init(&r->f);
}

static int
open_file(struct input *r, const char *path)
{
	struct stat st;

	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(r->fd, &st) < 0) {
		warn("%s", path);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		warnx("%s: is a directory", path);
		return -1;
	}
	r->mtime_ms = (uint64_t)st.st_mtim.tv_sec * 1000 +
	    (uint64_t)st.st_mtim.tv_nsec / 1000000;
	return 0;
}

static int
open_input(struct input *r)
{
	const struct produce_input *in = &r->in[r->cur];

	r->lineno = 0;
	buf_reset(&r->ib);
	r->pos = 0;
	r->eof = 0;
	r->opened = 1;
	if (strcmp(in->path, "-") == 0) {
		r->fd = STDIN_FILENO;
		r->name = "stdin";
		r->mtime_ms = 0;
	} else {
		r->name = in->path;
		if (open_file(r, in->path) < 0)
			return -1;
	}
	if (in->mode == REPLAY_FRAMES) {
		frame_reader_init(&r->fr, r->fd, r->name);
		r->fr.max_body = r->max_size;
	}
	return 0;
}

static void
close_input(struct input *r)
{
	if (r->fd < 0)
		return;
	if (r->in[r->cur].mode == REPLAY_FRAMES)
		frame_reader_release(&r->fr);
	if (r->fd != STDIN_FILENO)
		close(r->fd);
	r->fd = -1;
	r->cur++;
}

void
input_stop(struct input *r)
{
	close_input(r);
	r->cur = r->nin;
}

void
input_free(struct input *r)
{
	close_input(r);
	buf_release(&r->ib);
	frame_release(&r->f);
}

/* The next line of a lines input: IN_LINE, IN_MORE, or IN_END of it. */
static int
next_line(struct input *r, const char **line, size_t *len)
{
	const char *s = r->ib.data + r->pos, *nl;
	size_t avail = r->ib.len - r->pos;

	if ((nl = memchr(s, '\n', avail)) != NULL)
		avail = (size_t)(nl - s);
	if (avail > r->max_size) {
		warnx("%s: line %llu is longer than %zu bytes (--max-size)",
		    r->name, (unsigned long long)r->lineno + 1, r->max_size);
		return IN_FAIL;
	}
	if (nl == NULL && !r->eof)
		return IN_MORE;
	if (nl == NULL && avail == 0)
		return IN_END;
	*line = s;
	*len = avail;
	r->lineno++;
	r->pos += avail + (nl != NULL);
	return IN_LINE;
}

static int
next_frame(struct input *r, const struct frame **f)
{
	int rc;

	while ((rc = frame_next(&r->fr, &r->f)) == FRAME_OK) {
		if (r->f.type == 'M' && r->f.has_body) {
			*f = &r->f;
			return IN_FRAME;
		}
		if (r->skipped++ == 0)
			log_verbose("%s: byte %llu: skipping frames that are "
			    "not messages", r->name,
			    (unsigned long long)r->f.offset);
	}
	if (rc == FRAME_ERR) {
		warnx("%s", r->fr.err);
		return IN_FAIL;
	}
	return frame_reader_done(&r->fr) ? IN_END : IN_MORE;
}

int
input_next(struct input *r, const char **line, size_t *len,
    const struct frame **f)
{
	int rc;

	for (;;) {
		if (r->fd < 0) {
			if (r->cur == r->nin)
				return IN_END;
			if (open_input(r) < 0)
				return IN_FAIL;
			return IN_MORE;	/* poll before the first read */
		}
		if (r->in[r->cur].mode == REPLAY_LINES)
			rc = next_line(r, line, len);
		else
			rc = next_frame(r, f);
		if (rc != IN_END)
			return rc;
		close_input(r);
	}
}

int
input_fill(struct input *r)
{
	ssize_t n;

	if (r->fd < 0)
		return 0;
	if (r->in[r->cur].mode == REPLAY_FRAMES)
		n = frame_reader_fill(&r->fr);
	else {
		buf_consume(&r->ib, r->pos);
		r->pos = 0;
		buf_grow(&r->ib, READ_SIZE);
		n = read(r->fd, r->ib.data + r->ib.len,
		    r->ib.cap - r->ib.len - 1);
		if (n == 0)
			r->eof = 1;
		else if (n > 0)
			buf_setlen(&r->ib, r->ib.len + (size_t)n);
	}
	if (n < 0 && errno != EINTR && errno != EAGAIN) {
		warn("%s", r->name);
		return -1;
	}
	return 0;
}
