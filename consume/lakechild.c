/*
 * Running deliver for consume --lake (lakechild.h): a child with its
 * stdout a pipe, stdin /dev/null and consume's environment.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "lakechild.h"
#include "log.h"

extern char **environ;

int
lakechild_start(const char *deliver, const struct lake_opts *o,
    struct lakechild *ch, const char *const *extra, size_t nextra, int nodest)
{
	posix_spawn_file_actions_t fa;
	const char **argv;
	size_t i, n = 0;
	int fds[2], rc;

	argv = xreallocarray(NULL, o->ndargs + nextra + 3, sizeof(*argv));
	argv[n++] = deliver;
	for (i = 0; i < o->ndargs; i++)
		argv[n++] = o->dargs[i];
	for (i = 0; i < nextra; i++)
		argv[n++] = extra[i];
	if (!nodest)
		argv[n++] = o->dest;
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
	rc = posix_spawnp(&ch->pid, deliver, &fa, NULL,
	    (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	close(fds[1]);
	if (rc != 0) {
		log_error("cannot run deliver (give --deliver PATH)",
		    "deliver=%s error=%s", deliver, strerror(rc));
		close(fds[0]);
		ch->pid = 0;
		return -1;
	}
	ch->fd = fds[0];
	log_debug("deliver started", "pid=%ld what=%s", (long)ch->pid,
	    nextra > 0 ? extra[0] : "");
	return 0;
}

int
lakechild_wait(struct lakechild *ch)
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

void
lakechild_kill(struct lakechild *ch)
{
	if (ch->pid != 0) {
		(void)kill(ch->pid, SIGKILL);
		(void)lakechild_wait(ch);
	}
}

int
lakechild_slurp(struct lakechild *ch, struct buf *b)
{
	char tmp[LAKECHILD_READ];
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
	return lakechild_wait(ch);
}

int
lakechild_listing(const char *deliver, const struct lake_opts *o,
    const char *what, struct buf *out)
{
	const char *extra[1] = { what };
	struct lakechild ch;
	int st;

	if (lakechild_start(deliver, o, &ch, extra, 1, strcmp(what,
	    "--list-options") == 0) < 0)
		return -1;
	if ((st = lakechild_slurp(&ch, out)) != 0) {
		warnx("%s %s %s failed (exit status %d)", deliver, what,
		    o->dest, st);
		return -1;
	}
	return 0;
}
