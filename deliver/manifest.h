/*
 * manifest: what deliver --exactly-once records of every object it
 * stores, so that the lake itself is the checkpoint (lakepipe(1),
 * "Exactly once").
 *
 * An object's manifest is one index line (lakepipe-frames(5), type I):
 *
 *	I key=K topic=T partition=P first=ID last=ID [prev=ID] n=N
 *	  pt=MIN-MAX size=BYTES crc64=CRC [enc=E] type=MIME [schema=COLS]
 *
 * It is stored as the body of an index entry, a small object of its own
 * under _lakepipe/index/<topic>/<FIRST>_<LAST> below the destination
 * prefix, and in the data object's metadata where the store has some.
 * FIRST and LAST are the ids zero-padded (ledger.entry.batch+1), so that
 * a listing of one topic's entries comes in message id order and gives
 * every stored range without reading a byte.
 */
#ifndef DELIVER_MANIFEST_H
#define DELIVER_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "msgid.h"

struct object;

#define INDEX_DIR	"_lakepipe/index/"

struct manifest {
	struct buf	 key;		/* data key, relative to the prefix */
	struct buf	 topic;		/* full topic name, decoded */
	struct msgid	 first, last, prev;
	int		 has_prev;
	uint64_t	 n, pt_min, pt_max, size, crc;
	struct buf	 enc, type;	/* may be empty */
	struct buf	 schema;	/* the object frame's schema=, or "" */
};

void	manifest_init(struct manifest *);
void	manifest_release(struct manifest *);
/*
 * The manifest of object o, whose stored bytes (o->total of them) have
 * CRC-64 crc: 0, or -1 with why when o lacks what exactly-once needs
 * (topic=, first=, last=, all of one partition).
 */
int	manifest_of_object(struct manifest *, const struct object *o,
	    uint64_t crc, char *why, size_t whylen);
/*
 * Whether a and b name the same messages: the same key, topic and
 * partition, first and last message, and count (when both have one: n=0
 * is an object frame without n=).  Their bytes may differ: a message
 * redelivered carries another redelivery count in its envelope.
 */
int	manifest_same_messages(const struct manifest *a,
	    const struct manifest *b);
/* Append the index line, with its newline. */
void	manifest_format(struct buf *, const struct manifest *);
/* Parse an index line (its newline optional): 0, or -1 with why. */
int	manifest_parse(struct manifest *, const char *line, size_t len,
	    char *why, size_t whylen);
/* Append the index entry's key, relative to the prefix. */
void	manifest_index_key(struct buf *, const struct manifest *);
/* Append the directory of a topic's index entries (with its '/'). */
void	manifest_topic_dir(struct buf *, const char *topic, size_t len);
/* The range FIRST_LAST of an index entry's name: 0, or -1 if not one. */
int	manifest_name_range(const char *name, struct msgid *first,
	    struct msgid *last);
/* Order by topic, then first id (for qsort of manifest pointers). */
int	manifest_cmp(const void *, const void *);

#endif
