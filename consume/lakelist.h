/*
 * lakelist: the objects consume --lake reads, in the order it reads
 * them: those deliver --list names (not the index's own, under
 * _lakepipe/, nor deliver --markers' _SUCCESS), with what deliver --index
 * says of them (lakechild.h).
 *
 * Order: oldest first per partition.  Objects are sorted by topic,
 * partition and first message id; that of an object without an index
 * entry is the id of its first record, read once before anything is
 * emitted (so the list is all that is held besides one object's records).
 * Those whose topic is not known (raw objects, and those whose first
 * record could not be read) come last, by key; an object found to have
 * no records is marked empty.  An object of a topic not wanted is
 * dropped; an indexed object that is not stored is a warning, counted in
 * failed.
 *
 * Ownership: deliver, o and rec are the caller's, set before
 * lakelist_build and kept while it runs; objs (their keys and topics) is
 * the list's until lakelist_free.
 */
#ifndef CONSUME_LAKELIST_H
#define CONSUME_LAKELIST_H

#include <stddef.h>
#include <stdint.h>

#include "lakeobj.h"
#include "lakerec.h"
#include "source.h"

struct lakelist {
	const char	*deliver;	/* the program */
	const struct lake_opts *o;
	struct lakerec	*rec;		/* where the first records are read */
	struct obj	*objs;		/* in the order they are read */
	size_t		 nobj;
	uint64_t	 failed;	/* indexed objects not stored */
};

/* Build objs (NULL, nobj 0, before): 0, or -1 said (deliver failed). */
int	lakelist_build(struct lakelist *);
void	lakelist_free(struct lakelist *);
/*
 * Is topic t (n bytes) wanted: want itself or one of its partitions
 * (want-partition-N); want NULL: every topic.
 */
int	lakelist_topic_wanted(const char *want, const char *t, size_t n);

#endif
