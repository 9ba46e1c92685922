/*
 * produce: consume's producer mode, `consume --produce` (consume(1),
 * PRODUCER): every line, or every message frame, of the inputs becomes
 * one message published to a Pulsar topic, through the connection pool and
 * lookup of pulsar.h.
 *
 * Delivery is at least once: a message counts as published when its
 * SEND_RECEIPT came; after a SEND_ERROR or a lost connection the producer
 * connects again (backoff with jitter, bounded by --give-up) and sends
 * again everything that has no receipt, so the topic may hold a message
 * twice, never none.
 */
#ifndef CONSUME_PRODUCE_H
#define CONSUME_PRODUCE_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"
#include "pulsar.h"

/*
 * What consume's main parsed for --produce.  Every pointer is borrowed: it
 * must stay valid until produce_main() returns.  The token (pulsar.token)
 * is already read (--token-file or PULSAR_TOKEN); it is never printed.
 */
struct produce_opts {
	struct pool_opts pulsar;	/* --url, --ca-file, --listener, the
					   token; timeout 0: 10 s */
	const char	*topic;		/* --topic, as given */
	const struct produce_input *inputs;	/* none: --lines - */
	size_t		 ninputs;
	size_t		 max_size;	/* --max-size: longest line or body */
	uint32_t	 max_pending;	/* --max-pending: messages in flight */
	double		 give_up;	/* --give-up: seconds without getting
					   anywhere, then exit 1; 0: never */
	int		 print_ids;	/* --print-ids */
	int		 progress;	/* -P: receipts, once a second */
};

/*
 * Publish every input in order, then wait for the last receipt and close
 * the producers.  Returns the exit status: 0 once every message read has a
 * receipt, 1 on a failure (said in one line), 2 on options that cannot
 * work (said).  SIGINT or SIGTERM: read no further, wait for the receipts
 * of what was read, exit 0; a second one: exit 1 at once.
 */
int	produce_main(const struct produce_opts *);

/*
 * The partition, of n, of a message with this key: Pulsar's JavaStringHash
 * (the Java client's default), Java's String.hashCode() of the key read
 * as UTF-8 without its sign bit, modulo n.  Keyless messages go round
 * robin, from partition 0.
 */
unsigned produce_partition(const void *key, size_t len, unsigned n);

#endif
