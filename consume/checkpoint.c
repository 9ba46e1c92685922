/* Reading the lake's index for --exactly-once; see checkpoint.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "checkpoint.h"
#include "frame.h"
#include "log.h"
#include "msgid.h"

#define LOAD_TIMEOUT	120.0	/* seconds for one deliver --ranges */

extern char **environ;

void
ckpt_free(struct ckpt *c)
{
	free(c->r);
	memset(c, 0, sizeof(*c));
}

static int
get_id(const struct frame *f, const char *name, struct msgid *id)
{
	const struct frame_field *fl = frame_field(f, name);

	return fl == NULL ? -1 : msgid_parse(id, fl->val, fl->vallen);
}

/* Take the range lines in text (in id order: index entry names sort so). */
static int
parse_lines(struct ckpt *c, const char *text, size_t len, char *why,
    size_t whylen)
{
	struct frame f;
	const char *p = text, *end = text + len, *nl, *fwhy;
	int rc = 0;

	frame_init(&f);
	for (; rc == 0 && p < end; p = nl + 1) {
		struct ckpt_range r;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (frame_parse_header(&f, p, (size_t)(nl - p), 0, &fwhy) < 0 ||
		    f.type != 'R' || get_id(&f, "first", &r.first) < 0 ||
		    get_id(&f, "last", &r.last) < 0) {
			snprintf(why, whylen, "deliver --ranges: not a range "
			    "line: %.80s", p);
			rc = -1;
			break;
		}
		if (c->n > 0 && msgid_cmp(&r.first, &c->r[c->n - 1].last) <= 0) {
			/* overlapping entries: keep the union, in order */
			if (msgid_cmp(&r.last, &c->r[c->n - 1].last) > 0)
				c->r[c->n - 1].last = r.last;
			continue;
		}
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 16;
			c->r = xreallocarray(c->r, c->cap, sizeof(*c->r));
		}
		c->r[c->n++] = r;
	}
	frame_release(&f);
	return rc;
}

/* Read fd to its end within the deadline into out: 0, or -1 (timeout). */
static int
read_all(int fd, struct buf *out, double deadline)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char chunk[16384];
	ssize_t n;

	for (;;) {
		int ms = (int)((deadline - monotime()) * 1000);

		if (ms <= 0)
			return -1;
		if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
			return -1;
		if ((n = read(fd, chunk, sizeof(chunk))) > 0)
			buf_add(out, chunk, (size_t)n);
		else if (n == 0)
			return 0;
		else if (errno != EINTR && errno != EAGAIN)
			return -1;
	}
}

int
ckpt_load(struct ckpt *c, const struct deliver_cmd *dc, const char *dest,
    const char *topic, char *why, size_t whylen)
{
	const char *deliver = dc->path;
	char **argv = xreallocarray(NULL, dc->nopts + 7, sizeof(*argv));
	posix_spawn_file_actions_t fa;
	size_t i, n = 0;
	struct buf out = BUF_INIT;
	int pfd[2], status, rc = -1, timed_out;
	pid_t pid;

	argv[n++] = (char *)deliver;
	argv[n++] = "-q";
	for (i = 0; i < dc->nopts; i++)
		argv[n++] = dc->opts[i];
	argv[n++] = "--ranges";
	argv[n++] = "--topic";
	argv[n++] = (char *)topic;
	argv[n++] = (char *)dest;
	argv[n] = NULL;
	c->n = 0;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		free(argv);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	/* stdin is not the index reader's: it must not eat our input */
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	errno = posix_spawnp(&pid, deliver, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	close(pfd[1]);
	if (errno != 0) {
		snprintf(why, whylen, "cannot run %s: %s (see --deliver)",
		    deliver, strerror(errno));
		close(pfd[0]);
		return -1;
	}
	timed_out = read_all(pfd[0], &out, monotime() + LOAD_TIMEOUT) < 0;
	close(pfd[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		snprintf(why, whylen, "%s --ranges: no answer in %.0f s",
		    deliver, LOAD_TIMEOUT);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		snprintf(why, whylen, "%s --ranges %s failed (exit %d; its "
		    "error is above)", deliver, dest, WIFEXITED(status) ?
		    WEXITSTATUS(status) : 128 + WTERMSIG(status));
	else
		rc = parse_lines(c, out.data, out.len, why, whylen);
	buf_release(&out);
	return rc;
}

/* The index of the first range whose last id is >= id (n if none). */
static size_t
first_not_before(const struct ckpt *c, const struct msgid *id)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (msgid_cmp(&c->r[mid].last, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct ckpt_range *
ckpt_find(const struct ckpt *c, const struct msgid *id)
{
	size_t i = first_not_before(c, id);

	return i < c->n && msgid_cmp(&c->r[i].first, id) <= 0 ? &c->r[i] :
	    NULL;
}

const struct msgid *
ckpt_before(const struct ckpt *c, const struct msgid *id)
{
	size_t i = first_not_before(c, id);

	return i > 0 ? &c->r[i - 1].last : NULL;
}

static int
executable(const char *p)
{
	return access(p, X_OK) == 0;
}

const char *
deliver_program(const char *path)
{
	static char buf[PATH_MAX + 32];
	char *slash;
	ssize_t n;

	if (path != NULL)
		return path;
	n = readlink("/proc/self/exe", buf, PATH_MAX);
	if (n > 0) {
		buf[n] = '\0';
		if ((slash = strrchr(buf, '/')) != NULL) {
			strlcpy(slash + 1, "lakepipe-deliver",
			    sizeof(buf) - (size_t)(slash + 1 - buf));
			if (executable(buf))
				return buf;
			strlcpy(slash + 1, "../deliver/deliver",
			    sizeof(buf) - (size_t)(slash + 1 - buf));
			if (executable(buf))
				return buf;
		}
	}
	return "lakepipe-deliver";
}
