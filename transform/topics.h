/*
 * topics: transform's batches, one per topic, found by the topic's name
 * (the full name, partition suffix included, so that each partition of a
 * partitioned topic has its own).
 *
 * A slot stays after its batch closes, so that the next batch of the same
 * topic reuses its buffers and compressor; there are at most max slots
 * (--max-open).  Open slots are kept in the order they opened: the first
 * is the oldest batch, the one to flush when a new topic needs a slot,
 * and, since every batch gets the same --max-age, the one due first.
 *
 * Slots live inside their owner's structures (struct batch): topics only
 * links them and owns their name buffers.
 */
#ifndef TRANSFORM_TOPICS_H
#define TRANSFORM_TOPICS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

struct slot {
	struct buf	 name;		/* decoded topic name: the identity */
	struct buf	 raw;		/* its encoded form as last seen */
	uint64_t	 hash;		/* of name */
	int		 open;
	double		 deadline;	/* monotime() when due; 0: never */
	struct slot	*hnext;		/* hash chain */
	struct slot	*prev, *next;	/* open slots, oldest first */
};

struct topics {
	struct slot	**slot;		/* n slots, at most max */
	size_t		 n, max;
	struct slot	**bucket;	/* hash table, nbucket a power of 2 */
	size_t		 nbucket;
	struct slot	*last;		/* the previous message's slot */
	struct slot	*oldest, *newest;	/* the open slots */
	struct buf	 name;		/* decoding scratch */
};

void	 topics_init(struct topics *, size_t max);
/* Release the table and the slots' names, then hand each slot to fr. */
void	 topics_release(struct topics *, void (*fr)(struct slot *));
/* The slot of the topic whose encoded header value is val, or NULL. */
static inline struct slot *topics_find(struct topics *, const char *val,
	    size_t n);
/* The same, by the decoded name (what topics_find does after its test). */
struct slot *topics_find_decoded(struct topics *, const char *val, size_t n);
/*
 * For a topic that has no slot: NULL while fewer than max slots exist
 * (make one, topics_add), else the slot to take over (topics_reuse): an
 * idle one if there is one, else the oldest open one, which the caller
 * closes first.
 */
struct slot *topics_victim(const struct topics *);
/* Give a new slot, or a closed one taken over, the topic val names. */
void	 topics_add(struct topics *, struct slot *, const char *val,
	    size_t n);
void	 topics_reuse(struct topics *, struct slot *, const char *val,
	    size_t n);
/* A slot's batch opened (last in the open order) or closed. */
void	 topics_opened(struct topics *, struct slot *, double deadline);
void	 topics_closed(struct topics *, struct slot *);

static inline struct slot *
topics_find(struct topics *t, const char *val, size_t n)
{
	struct slot *s = t->last;

	/* A run of one topic's messages: the encoded value compares. */
	if (s != NULL && s->raw.len == n && memcmp(s->raw.data, val, n) == 0)
		return s;
	return topics_find_decoded(t, val, n);
}

#endif
