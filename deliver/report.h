/*
 * report: what deliver tells about its work, for people and machines.
 *
 * One logfmt line at level info per object stored ("stored" key= n=
 * bytes= ms= and lag_s= when the frame has pt=), retries as changes of
 * state (the first retry of an object says why, at level warn; the
 * "stored" line then counts them), one error line per object not stored
 * naming its key and what to do; the -P line once a second, data or not;
 * and the counters and gauges of the --metrics-file (lakepipe_deliver_*).
 * One struct report per run, owned by its loop.
 */
#ifndef DELIVER_REPORT_H
#define DELIVER_REPORT_H

#include <stdint.h>

#include "buf.h"
#include "log.h"

struct object;

struct report {
	struct progress	 pg;
	struct buf	 last;		/* the key last stored, for -P */
	uint64_t	*objects, *messages, *bytes, *retries, *failures;
	double		*lag, *last_ts;
};

void	report_init(struct report *, int progress);
void	report_release(struct report *);
/*
 * o stored as fullkey, size bytes long as stored (a redelivery's are the
 * stored object's, not o's), after retries retries, started at
 * monotime() t0.  Writes the --metrics-file, before the caller prints
 * the object's ack line.
 */
void	report_stored(struct report *, const struct object *,
	    const char *fullkey, uint64_t size, double t0, unsigned retries);
/* A retry of a request for fullkey; first: the object's first one. */
void	report_retry(struct report *, const char *fullkey, const char *op,
	    int first, double wait, const char *why);
/* fullkey is not stored: why, and what the operator can do (or NULL). */
void	report_failed(struct report *, const char *fullkey, const char *why,
	    const char *todo);
/*
 * A failure that ends the run, printf-like: one line at level error
 * (warnx(3) gives level warn, for what does not end it).
 */
void	report_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Milliseconds until report_tick() has something to do, -1 never. */
int	report_timeout_ms(const struct report *);
void	report_tick(struct report *);
/* At the end: the final -P line if ok, the metrics file written. */
void	report_done(struct report *, int ok);

#endif
