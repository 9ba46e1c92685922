/*
 * marker: completeness markers (deliver --markers, see deliver(1)).
 *
 * Object frames name their time bucket (bucket=DIR, bucket_start=,
 * bucket_end=: transform does, when its key template has a time
 * directory).  Once every object before it in the input is stored, an
 * object counts: its n= messages go to its bucket's count for its
 * partition (topic=), and its latest publish time (pt=) raises that
 * partition's watermark.  When the watermark of the stream (the lowest
 * over its partitions, an idle one left out) reaches a bucket's end,
 * DIR/_SUCCESS is written: a small JSON object with the counts.  The
 * input order is the one condition: transform writes each partition's
 * objects in order, so a partition's objects of a bucket all come before
 * the one that takes its watermark past the bucket.
 *
 * Across runs: a marker already there is read before the first write of
 * its bucket, and its counts are merged (the higher at least once, the
 * sum exactly once); exactly once, a bucket begun before the run's first
 * message of a partition is counted from the lake's index instead.  A
 * bucket stays after its marker (up to MAX_KEPT in marker.c), so that a
 * late object adds to it and the marker is written again.
 *
 * A struct markers owns its own connection to the destination (a lake,
 * lake.h) for reading a marker already there and writing; every function
 * takes NULL (--markers off) and does nothing then.
 */
#ifndef DELIVER_MARKER_H
#define DELIVER_MARKER_H

#include <stdint.h>

struct dest;
struct object;
struct options;

struct markers;

/* A marker's name, the last segment of its key. */
#define MARKER_NAME	"_SUCCESS"
/* Nonzero if key (relative to the prefix) names a marker. */
int	marker_key(const char *key);

/* NULL when --markers is off, or (said why) the lake cannot be opened. */
struct markers *markers_open(const struct dest *, const struct options *,
	    int *failed);
void	markers_close(struct markers *);
/* Object o came in (input order): its ticket for markers_stored(). */
uint64_t markers_begin(struct markers *, const struct object *o);
/*
 * The object of the ticket is stored and acked: it counts once those
 * before it do, and the markers that completes are written.  0, or -1
 * when a marker could not be written (said why).
 */
int	markers_stored(struct markers *, uint64_t ticket);
/* Milliseconds until a partition turns idle and may free a marker; -1. */
int	markers_timeout_ms(const struct markers *);
/* Write the markers idle partitions no longer hold back: 0, or -1. */
int	markers_tick(struct markers *);

#endif
