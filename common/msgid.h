/*
 * Pulsar message ids as frames carry them: "ledger:entry:partition:batch",
 * decimal, partition and batch -1 when the topic is not partitioned or the
 * message was not part of a batch.
 */
#ifndef LAKEPIPE_MSGID_H
#define LAKEPIPE_MSGID_H

#include <stddef.h>
#include <stdint.h>

struct buf;

struct msgid {
	int64_t	ledger;
	int64_t	entry;
	int32_t	partition;
	int32_t	batch;
};

/*
 * 0 with *id set, or -1 when [s, s + n) is not four fields of an
 * optional '-' and digits (leading zeros allowed, "-0" is 0) with a ':'
 * between them: ledger and entry in [-1, INT64_MAX], partition and batch
 * int32.  It keeps the last id it read, per thread, to read the next of a
 * stream faster; what it returns never depends on that.
 */
int	msgid_parse(struct msgid *, const char *s, size_t n);
void	msgid_format(struct buf *, const struct msgid *);
/* <0, 0, >0 in the broker's order (ledger, entry, batch). */
int	msgid_cmp(const struct msgid *, const struct msgid *);

#endif
