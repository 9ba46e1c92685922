/*
 * seqs: sets of frame sequence numbers, written as ascending ranges
 * "1-5,7,9-12" in object frames and ack lines.
 *
 * Adding in ascending order (the common case: a batch covers the frames it
 * read, in order) is O(1); out-of-order adds are kept sorted and merged.
 */
#ifndef LAKEPIPE_SEQS_H
#define LAKEPIPE_SEQS_H

#include <stddef.h>
#include <stdint.h>

struct buf;

struct seq_range {
	uint64_t lo, hi;	/* inclusive */
};

struct seqs {
	struct seq_range *r;
	size_t n, cap;
};

#define SEQS_INIT { NULL, 0, 0 }

void	 seqs_add(struct seqs *, uint64_t);
void	 seqs_add_range(struct seqs *, uint64_t lo, uint64_t hi);
void	 seqs_clear(struct seqs *);
void	 seqs_free(struct seqs *);
uint64_t seqs_count(const struct seqs *);
int	 seqs_contains(const struct seqs *, uint64_t);
void	 seqs_format(struct buf *, const struct seqs *);
/* Parse "a-b,c,..." adding to the set; 0 or -1 on a malformed list. */
int	 seqs_parse(struct seqs *, const char *, size_t);

#endif
