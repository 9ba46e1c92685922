/* Verbose logging and progress reports on stderr; see log.h. */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

int log_verbosity;

void
log_verbose(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity == 0)
		return;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

double
monotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
progress_init(struct progress *p, int enabled, const char *what)
{
	p->enabled = enabled;
	p->what = what;
	p->count = p->bytes = 0;
	p->start = p->last = monotime();
}

static void
progress_print(struct progress *p, double now, const char *tag)
{
	double secs = now - p->start > 1e-9 ? now - p->start : 1e-9;

	warnx("%s%llu %s, %.1f MB, %.1f s, %.1f MB/s", tag,
	    (unsigned long long)p->count, p->what, (double)p->bytes / 1e6,
	    now - p->start, (double)p->bytes / 1e6 / secs);
}

void
progress_add(struct progress *p, uint64_t n, uint64_t bytes)
{
	double now;

	p->count += n;
	p->bytes += bytes;
	if (!p->enabled)
		return;
	now = monotime();
	if (now - p->last >= 1.0) {
		p->last = now;
		progress_print(p, now, "");
	}
}

void
progress_done(struct progress *p)
{
	if (p->enabled)
		progress_print(p, monotime(), "done: ");
}
