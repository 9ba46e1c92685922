/* Log lines, progress and metrics of deliver; see report.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "object.h"
#include "report.h"

void
report_init(struct report *rp, int progress)
{
	progress_init(&rp->pg, progress, "objects");
	buf_init(&rp->last, 0);
	rp->objects = metrics_counter("objects_total", "Objects stored.");
	rp->messages = metrics_counter("messages_total",
	    "Messages in the objects stored (their n=).");
	rp->bytes = metrics_counter("bytes_total",
	    "Bytes of the objects stored.");
	rp->retries = metrics_counter("retries_total",
	    "Requests sent again after a transient failure.");
	rp->failures = metrics_counter("failures_total",
	    "Objects that could not be stored.");
	rp->lag = metrics_gauge("lag_seconds", "From the newest message's "
	    "publish time to its object stored, for the last object.");
	rp->last_ts = metrics_gauge("last_object_timestamp_seconds",
	    "When the last object was stored (Unix time).");
}

void
report_release(struct report *rp)
{
	buf_release(&rp->last);
}

void
report_stored(struct report *rp, const struct object *o,
    const char *fullkey, uint64_t size, double t0, unsigned retries)
{
	double now = (double)wallclock_ms() / 1000, lag = 0;
	double ms = (monotime() - t0) * 1000;
	unsigned long long n = o->has_n ? o->n : 0;
	unsigned long long bytes = size;

	if (o->has_pt) {
		lag = now - (double)o->pt_max / 1000;
		*rp->lag = lag;
	}
	if (o->has_pt && retries > 0)
		log_info("stored", "key=%s n=%llu bytes=%llu ms=%.0f lag_s=%.3f "
		    "retries=%u", fullkey, n, bytes, ms, lag, retries);
	else if (o->has_pt)
		log_info("stored", "key=%s n=%llu bytes=%llu ms=%.0f lag_s=%.3f",
		    fullkey, n, bytes, ms, lag);
	else if (retries > 0)
		log_info("stored", "key=%s n=%llu bytes=%llu ms=%.0f retries=%u",
		    fullkey, n, bytes, ms, retries);
	else
		log_info("stored", "key=%s n=%llu bytes=%llu ms=%.0f", fullkey,
		    n, bytes, ms);
	(*rp->objects)++;
	*rp->messages += n;
	*rp->bytes += size;
	*rp->last_ts = now;
	metrics_info("last_object_info", "The key of the last object stored.",
	    "key", fullkey);
	buf_reset(&rp->last);
	buf_addstr(&rp->last, fullkey);
	progress_add(&rp->pg, 1, o->total);
	/*
	 * Written now, before the ack line: consume counts the ack when it
	 * comes, so a reader of both files (lakepipe status) never sees a
	 * message acknowledged whose object this file does not count yet.
	 */
	(void)metrics_flush();
}

void
report_retry(struct report *rp, const char *fullkey, const char *op,
    int first, double wait, const char *why)
{
	(*rp->retries)++;
	if (first)
		log_warn("retrying", "key=%s op=%s wait_s=%.2f cause=%s",
		    fullkey, op, wait, why);
	else
		log_debug("retrying", "key=%s op=%s wait_s=%.2f cause=%s",
		    fullkey, op, wait, why);
}

void
report_failed(struct report *rp, const char *fullkey, const char *why,
    const char *todo)
{
	(*rp->failures)++;
	if (todo != NULL)
		log_error("not stored", "key=%s error=%s todo=%s", fullkey, why,
		    todo);
	else
		log_error("not stored", "key=%s error=%s", fullkey, why);
}

void
report_error(const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_error(text, NULL);
}

static int
earlier(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

int
report_timeout_ms(const struct report *rp)
{
	return earlier(progress_timeout_ms(&rp->pg), metrics_timeout_ms());
}

void
report_tick(struct report *rp)
{
	progress_tick(&rp->pg, rp->last.len ? rp->last.data : NULL);
	metrics_tick();
}

void
report_done(struct report *rp, int ok)
{
	if (ok)
		progress_done(&rp->pg);
	metrics_flush();
}
