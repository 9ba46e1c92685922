/*
 * index: the index entries of a destination (manifest.h), read back for
 * deliver --index (consume --exactly-once runs it to learn what is
 * stored) and deliver --audit.
 */
#ifndef DELIVER_INDEX_H
#define DELIVER_INDEX_H

#include <stddef.h>

struct lake;
struct manifest;
struct options;
struct dest;

struct index {
	struct manifest	**m;		/* sorted by topic, then first id */
	size_t		  n, cap;
};

/*
 * Read the entries of the topics named in topics (all when ntopics is
 * 0) into ix (zeroed by the caller): 0, or -1 (said why).  A file://
 * destination first gets the entries of stored objects whose writer died
 * put in place (local_sweep()).
 */
int	index_load(struct lake *, const char **topics, size_t ntopics,
	    struct index *ix);
void	index_free(struct index *);
/*
 * The entries of one topic (a partition), newest first, appended to ix
 * (not sorted) until more() returns 0 for one: for reading back only
 * the last few of a long index.  0, or -1 (said why).
 */
int	index_load_back(struct lake *, const char *topic,
	    int (*more)(const struct manifest *, void *), void *arg,
	    struct index *ix);

/* --index: the index lines on stdout; the exit status. */
int	deliver_index(const struct dest *, const struct options *);
/* --ranges: each --topic's stored ranges, from the entries' names. */
int	deliver_ranges(const struct dest *, const struct options *);

#endif
