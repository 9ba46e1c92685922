/*
 * checkpoint: what the lake already holds of one partition, for consume
 * --exactly-once (lakepipe(1), "Exactly once").  The lake is the
 * checkpoint: deliver --exactly-once records every object it stores as
 * an index entry with its first and last message id, and consume, each
 * time it subscribes to a partition, reads those ranges back by running
 * `deliver --ranges --topic PARTITION DESTINATION` (deliver knows the
 * stores and their credentials; consume does not), so that it can
 * acknowledge what is stored instead of emitting it again.
 */
#ifndef CONSUME_CHECKPOINT_H
#define CONSUME_CHECKPOINT_H

#include <stddef.h>

#include "msgid.h"

struct ckpt_range {
	struct msgid	 first, last;
};

struct ckpt {
	struct ckpt_range *r;		/* sorted by first, not overlapping */
	size_t		 n, cap;
};

/* How to run deliver: the program, its options (the store's). */
struct deliver_cmd {
	const char	*path;
	char		**opts;
	size_t		 nopts;
};

/*
 * Replace c's ranges with those the lake at dest holds for topic (a
 * partition's full name), running deliver: 0, or -1 with a one-line
 * reason in why.
 */
int	ckpt_load(struct ckpt *, const struct deliver_cmd *, const char *dest,
	    const char *topic, char *why, size_t whylen);
/* The stored range that holds id, or NULL. */
const struct ckpt_range *ckpt_find(const struct ckpt *, const struct msgid *);
/* The last id of the last range that ends before id, or NULL. */
const struct msgid *ckpt_before(const struct ckpt *, const struct msgid *);
void	ckpt_free(struct ckpt *);

/*
 * The deliver program: path when given, else lakepipe-deliver beside
 * this program (installed), else deliver/deliver of the build tree
 * beside consume/, else lakepipe-deliver on the PATH.  Static storage.
 */
const char *deliver_program(const char *path);

#endif
