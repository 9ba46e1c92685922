/*
 * Logging for the three programs: errors go through err(3)/warnx(3) with
 * the program's name; log_verbose() only when -v was given; progress lines
 * (-P or --progress) at most once a second, on stderr, never on stdout,
 * which carries frames.
 *
 * Exit statuses shared by all programs.
 */
#ifndef LAKEPIPE_LOG_H
#define LAKEPIPE_LOG_H

#include <stdint.h>

#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

extern int log_verbosity;

void	log_verbose(const char *, ...) __attribute__((format(printf, 1, 2)));

struct progress {
	int		enabled;
	const char	*what;		/* "messages", "objects" */
	uint64_t	count, bytes;
	double		start, last;	/* monotonic seconds */
};

void	progress_init(struct progress *, int enabled, const char *what);
/* Count n items of len bytes; prints when a second has passed. */
void	progress_add(struct progress *, uint64_t n, uint64_t bytes);
/* The final line, printed if enabled. */
void	progress_done(struct progress *);
double	monotime(void);

#endif
