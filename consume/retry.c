/* Backoff with jitter, a give-up limit, and few lines; see pulsar.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "pulsar.h"

static uint64_t *
failures(void)
{
	return metrics_counter("failures_total", "Attempts (connect, lookup, "
	    "subscribe, produce) that failed.");
}

static uint64_t *
reconnects(void)
{
	return metrics_counter("reconnects_total", "Successful "
	    "reconnections after failures.");
}

/* Also registers the counters, so that they show from the start. */
void
retry_init(struct retry *r)
{
	memset(r, 0, sizeof(*r));
	r->backoff = RETRY_MIN;
	(void)failures();
	(void)reconnects();
}

double
retry_jitter(double d)
{
	return d * (0.5 + (double)arc4random_uniform(1001) / 1000.0);
}

void
pulsar_log(int level, const char *msg, const char *kvfmt, ...)
{
	va_list ap;

	va_start(ap, kvfmt);
	log_event(level, msg, kvfmt, ap);
	va_end(ap);
}

/* 1, 10, 100, ...: the counts worth a line of their own. */
static int
power_of_ten(unsigned n)
{
	while (n >= 10 && n % 10 == 0)
		n /= 10;
	return n == 1;
}

double
retry_failed(struct retry *r, const char *topic, int partition,
    const char *cause, double give_up)
{
	double now = monotime(), delay;
	int level = LOG_LVL_DEBUG;

	if (r->attempts++ == 0)
		r->since = now;
	(*failures())++;
	if (give_up > 0 && now - r->since >= give_up) {
		log_error("giving up", "topic=%s partition=%d cause=%s "
		    "attempts=%u after=%.1fs", topic, partition, cause,
		    r->attempts, now - r->since);
		return -1;
	}
	delay = retry_jitter(r->backoff);
	r->backoff = r->backoff * 2 > RETRY_MAX ? RETRY_MAX : r->backoff * 2;
	if (strcmp(cause, r->cause) != 0 || power_of_ten(r->attempts)) {
		level = LOG_LVL_WARN;
		(void)strlcpy(r->cause, cause, sizeof(r->cause));
	}
	pulsar_log(level, "reconnecting", "topic=%s partition=%d cause=%s "
	    "attempt=%u retry_in=%.1fs", topic, partition, cause, r->attempts,
	    delay);
	return delay;
}

int
retry_ok(struct retry *r, const char *topic, int partition)
{
	unsigned n = r->attempts;

	if (n > 0) {
		(*reconnects())++;
		log_info("reconnected", "topic=%s partition=%d attempts=%u "
		    "after=%.1fs", topic, partition, n, monotime() - r->since);
	}
	retry_init(r);
	return n > 0;
}
