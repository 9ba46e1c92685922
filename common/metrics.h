/*
 * Metrics for machines: counters and gauges that a program updates where
 * things happen, written in the Prometheus text exposition format to the
 * --metrics-file, replaced atomically (a temporary file renamed over it)
 * every METRICS_INTERVAL seconds, when the program asks and at exit, so
 * that a node_exporter textfile collector, or `lakepipe status`, never
 * reads a partial file.  Names get the prefix lakepipe_<prog>_.
 *
 * The pointers returned stay valid until the process exits; registering
 * a name twice returns the same one.  With no path every function still
 * works (the values are kept, never written).
 */
#ifndef LAKEPIPE_METRICS_H
#define LAKEPIPE_METRICS_H

#include <stdint.h>

#define METRICS_INTERVAL	5	/* seconds */

void	metrics_init(const char *path, const char *prog);
/* "messages_total"; labels may follow: "backlog_messages{partition=\"3\"}". */
uint64_t *metrics_counter(const char *name, const char *help);
double	*metrics_gauge(const char *name, const char *help);
/* A gauge of 1 whose label carries a text: last_object_info{key="..."}. */
void	metrics_info(const char *name, const char *help, const char *label,
	    const char *value);
/* Milliseconds until the next write is due, -1 without a path. */
int	metrics_timeout_ms(void);
/* Write the file if it is due. */
void	metrics_tick(void);
/*
 * Write it now (at exit, or where a reader must see a change at once);
 * -1 with a warning the first time it could not be.
 */
int	metrics_flush(void);

#endif
