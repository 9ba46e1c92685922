/*
 * Logging for every program: one logfmt line per event on stderr,
 *
 *	ts=2026-12-01T08:00:00.123Z level=info prog=deliver msg="stored" key=a/b.gz n=10
 *
 * so that an operator can read it and a machine can parse it.  stdout is
 * never used: it carries frames.  The level is LOG_LVL_INFO by default
 * (the life cycle: connected, subscribed, each object stored, retries),
 * LOG_LVL_WARN with -q and LOG_LVL_DEBUG with -v.
 *
 * err(3), errx(3), warn(3), warnx(3) and their v* forms are replaced by
 * log.c's own, which print the same text as msg= of one logfmt line
 * (err and errx at level error, warn and warnx at level warn), so that
 * programs keep the usual idiom and every line on stderr is still logfmt.
 *
 * Progress (-P) is a live line on a terminal, redrawn once a second
 * whether or not data arrive; on anything else, a logfmt line.
 *
 * Exit statuses shared by all programs.
 */
#ifndef LAKEPIPE_LOG_H
#define LAKEPIPE_LOG_H

#include <stdarg.h>
#include <stdint.h>

#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

enum { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern int log_level;

/* The program's name in prog=; first thing in main(). */
void	log_init(const char *prog);

/*
 * One event.  msg is a short fixed text ("stored"); kvfmt is printf-like
 * ("key=%s n=%llu"), NULL or "" for none.  A %s value is quoted and
 * escaped when logfmt needs it, so pass raw strings; other conversions
 * are printed as printf(3) would.
 */
void	log_error(const char *msg, const char *kvfmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_warn(const char *msg, const char *kvfmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_info(const char *msg, const char *kvfmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_debug(const char *msg, const char *kvfmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The same at a level chosen at run time (LOG_LVL_...). */
void	log_at(int level, const char *msg, const char *kvfmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_event(int level, const char *msg, const char *kvfmt, va_list);

/* Free text at level debug (msg= is the whole text). */
void	log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct buf;
/* Append value as a logfmt value: bare when it can be, else quoted. */
void	log_quote(struct buf *, const char *value);

struct progress {
	int		enabled;
	const char	*what;		/* "messages", "objects" */
	uint64_t	count, bytes;
	double		start, last;	/* monotonic seconds */
	int		drawn;		/* a live line is on the terminal */
};

void	progress_init(struct progress *, int enabled, const char *what);
/* Count n items of len bytes (inline: consume does it per message). */
static inline void
progress_add(struct progress *p, uint64_t n, uint64_t bytes)
{
	p->count += n;
	p->bytes += bytes;
}

/* Milliseconds until the next line is due, -1 if disabled: for poll(2). */
int	progress_timeout_ms(const struct progress *);
/* Draw the line if a second has passed; last (may be NULL) is shown. */
void	progress_tick(struct progress *, const char *last);
/* The final line, printed if enabled. */
void	progress_done(struct progress *);
double	monotime(void);
/* Wall clock, milliseconds since the epoch. */
uint64_t wallclock_ms(void);

#endif
