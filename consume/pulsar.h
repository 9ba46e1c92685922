/*
 * pulsar: the client side of a Pulsar cluster, shared by the consumer
 * (psource.c, psrc.h) and the producer (produce.c).  Private to consume/.
 *
 *	conn.c		the pool of broker connections: CONNECT with the
 *			token, PING/PONG, AUTH_CHALLENGE, and blocking
 *			request/response exchanges with a deadline;
 *	lookup.c	which broker owns a topic (binary LOOKUP with its
 *			redirects, or the HTTP web service) and how many
 *			partitions it has;
 *	retry.c		the retry policy (backoff, jitter, --give-up) and
 *			the few lines a retry loop logs;
 *	packs.c		the messages of one broker entry (a batch) or the
 *			entries of one message (chunks) until every part is
 *			acknowledged downstream.
 *
 * How a producer uses them: pool_new() with no frame hook but its own
 * (SEND_RECEIPT, CLOSE_PRODUCER); lookup_topic() for the connection to the
 * broker that owns a partition, CONNECTed and authenticated; a command
 * encoded into bc->c->out and pool_request() for its answer (PRODUCER ->
 * PRODUCER_SUCCESS), bounded by pool_opts.timeout; then, in its own poll
 * loop, pool_prepare(), poll(2), pool_run(), pool_flush().  Failures are
 * in pool->fail (pool->fatal when permanent): the user logs them, once.
 * Blocking waits end early on a stop signal (stop.h).
 *
 * Ownership: the pool owns its connections (struct bconn) and frees them;
 * a bconn pointer held by a user stays valid until the pool's lost hook
 * was called for it and pool_flush() reaped it.  The pool copies nothing
 * of struct pool_opts but the pointers: the strings must outlive it.
 */
#ifndef CONSUME_PULSAR_H
#define CONSUME_PULSAR_H

#include <stddef.h>
#include <stdint.h>

#include "msgid.h"
#include "net.h"
#include "pulsar_wire.h"
#include "weblookup.h"

struct pollset;
struct topic;

#define CLIENT_VERSION	"lakepipe-consume 1.0"

/* One connection to a broker (or to a proxy, for proxy_to). */
struct bconn {
	struct conn	*c;		/* encode commands into c->out */
	char		*host, *port, *proxy_to;
	int		 tls;
	int		 ready;		/* CONNECTED */
	int		 dead;		/* lost: the pool frees it */
	size_t		 max_frame;
	int32_t		 max_message_size;	/* CONNECTED's; 0: not said */
	size_t		 poll_i;
	double		 last_in, ping_at;
	/*
	 * Bytes the broker is sure to send soon (its user's estimate from
	 * the permits granted, 0: none known): while they stream, poll(2)
	 * wakes for a socket holding a share of them, or after LOWAT_WAIT,
	 * not for every segment.  A wait that times out sets it to 0, the
	 * next estimate sets it again.  read_at: the last read.
	 */
	int		 lowat_want;
	double		 read_at;
	struct bconn	*next;
};

/* The answer to the request waited for, copied out of its frame. */
struct pool_resp {
	int		 type, error, has_error;
	char		 msg[256];
	char		*broker_url, *broker_url_tls;
	int		 lookup_type, authoritative, proxy;
	uint32_t	 partitions;
	struct pw_msgid	 last, md;
	int		 has_md;
	char		*producer_name;	/* PRODUCER_SUCCESS */
};

struct pool_opts {
	const char	*url;		/* --url: the service URL */
	const char	*token;		/* NULL: no authentication */
	const char	*ca_file;	/* NULL: the system's CAs */
	const char	*listener;	/* advertised listener, or NULL */
	double		 timeout;	/* seconds for a connect or request */
};

/*
 * What the pool hands to its user.  frame: a command the pool does not
 * handle itself (MESSAGE, CLOSE_CONSUMER, ..., a producer's SEND_RECEIPT);
 * lost: bc is gone (closed, reset, a bad frame, no answer in time), forget
 * what runs on it; side_fd/side_ready: a descriptor to serve while a
 * request blocks (consume's ack channel, -1 for none).  Any may be NULL.
 */
struct pool_hooks {
	void	*arg;
	void	(*frame)(void *, struct bconn *, struct pw_cmd *,
		    const struct pw_frame *);
	void	(*lost)(void *, struct bconn *);
	int	(*side_fd)(void *);
	void	(*side_ready)(void *);
};

struct pool {
	struct pool_opts o;
	struct pool_hooks h;
	struct url	 url;
	struct web	 web;		/* http(s) URLs: the web service */
	void		*tls;		/* SSL_CTX, made when first needed */
	struct bconn	*conns;
	uint64_t	 next_req;
	uint64_t	 await_req;
	int		 got;
	struct pool_resp resp;
	/*
	 * Why the last call failed (the pool says nothing itself: its user
	 * says a permanent failure once and counts transient ones); fatal
	 * once a failure was permanent, which then stays the one kept.
	 */
	struct failure	 fail;
	int		 fatal;
	int		 ending;	/* set by the user at its end: requests
					   then wait even after a stop signal */
	char		**seen;		/* "host:port" connected to before */
	size_t		 nseen;
};

struct pulsar_opts;

/* The pool's options out of consume's (source.h); timeout 0: default. */
void	pulsar_pool_opts(struct pool_opts *, const struct pulsar_opts *,
	    double timeout);

/* NULL with *why set when the URL is not one (see url_parse()). */
struct pool *pool_new(const struct pool_opts *, const struct pool_hooks *,
	    const char **why);
void	pool_free(struct pool *);

/* Note a failure (see fail above); printf-like. */
void	pool_fail(struct pool *, int permanent, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* A fresh request id. */
uint64_t pool_req(struct pool *);

/*
 * A CONNECTED connection to host:port (through the proxy at host:port to
 * proxy_to when set), authenticated with the token; an existing one when
 * there is one.  NULL with pool->fail set; pool->fatal when retrying
 * cannot help: an ERROR answer to CONNECT (the token refused), TLS that
 * fails, an answer that is not Pulsar (the wrong port), an unknown host.
 * Logs "connected" (info the first time per broker, then debug: a loop
 * that reconnects says so itself).
 */
struct bconn *pool_connect(struct pool *, const char *host, const char *port,
	    int tls, const char *proxy_to);
/* The same for a broker URL as a lookup answers it. */
struct bconn *pool_connect_url(struct pool *, const char *url,
	    const char *proxy_to);
/* To the service URL (--url) itself. */
struct bconn *pool_service(struct pool *);

/*
 * Send what bc->c->out holds and wait (at most o.timeout seconds) for the
 * answer to request req: 0 with pool->resp filled in (it may be an ERROR),
 * or -1 with pool->fail set (bc then lost, unless a stop signal cut the
 * wait short: see ending).  Other frames on bc are dispatched meanwhile
 * and the side descriptor is served.
 */
int	pool_request(struct pool *, struct bconn *, uint64_t req,
	    const char *what);
/*
 * An error answer in pool->resp to what (about topic) into pool->fail,
 * permanent for those that retrying cannot mend (auth, a topic that does
 * not exist, not allowed).
 */
void	pool_request_failed(struct pool *, const char *what,
	    const char *topic);

/* bc is gone: calls the lost hook once. */
void	pool_lost(struct pool *, struct bconn *);

/*
 * In the poll loop: pool_prepare() adds every connection to the poll set;
 * after poll(2), pool_run() reads and dispatches what came in, and
 * pool_flush() pings idle connections, drops silent ones, writes what is
 * buffered and frees the lost.
 */
void	pool_prepare(struct pool *, struct pollset *);
void	pool_run(struct pool *, const struct pollset *);
void	pool_flush(struct pool *, double now);
/* The sooner of t and the end of the pool's low-water waits. */
double	pool_timer(const struct pool *, double t);

/* lookup.c: the connection to the broker that owns topic (a full name,
   a partition's for partitioned topics); NULL to try again later
   (pool->fail says why; pool->fatal when that cannot help). */
struct bconn *lookup_topic(struct pool *, const char *topic);
/* Partitions of the topic (0: not partitioned); 0, or -1 as above. */
int	lookup_partitions(struct pool *, const struct topic *, unsigned *n);

/*
 * retry.c: the retry policy of consume(1) for transient failures: a
 * delay of 0.1 s doubling to 30 s, each jittered (50 % to 150 %), and,
 * with a give-up limit, failure once attempts have failed for that long.
 * The loop logs its state changes and a count, not a line per attempt:
 * at warn the first failure, each new cause, and the 10th, 100th, ...
 * attempt; the others at debug; "reconnected" (info) when one succeeds.
 */
struct retry {
	double		 backoff;	/* the next delay, before jitter */
	double		 since;		/* first failure of this run, 0: none */
	unsigned	 attempts;	/* failed in a row */
	char		 cause[512];	/* the last one logged at warn */
};

#define RETRY_MIN	0.1
#define RETRY_MAX	30.0

void	retry_init(struct retry *);
/*
 * An attempt at topic (partition, -1 for none) failed with cause: the
 * delay before the next attempt, or -1 (said, at error) when give_up
 * seconds (0: never) have passed since the first failure.
 */
double	retry_failed(struct retry *, const char *topic, int partition,
	    const char *cause, double give_up);
/* It worked: says "reconnected" when attempts had failed; 1 then. */
int	retry_ok(struct retry *, const char *topic, int partition);
/* A delay of d seconds, jittered. */
double	retry_jitter(double d);

/* packs.c */
struct packs;
struct wentry;

/*
 * An id to acknowledge at the broker: a whole entry (set NULL), or a batch
 * entry with the bit set of its messages still unacknowledged.
 */
typedef void pack_ack_fn(void *arg, const struct msgid *id,
	    const uint64_t *set, int setlen, int32_t batch_size);

struct packs *packs_new(void);
void	packs_free(struct packs *);
/* m is emitted: remember its batch or chunks; the aux for pump_commit(). */
uint32_t packs_emitted(struct packs *, const struct pw_msg *m);
/*
 * The message id (with the aux from packs_emitted()) is acknowledged
 * downstream: ack() gets the ids the broker must now be told about (none
 * while a batch has messages left, every chunk of a chunked message).
 */
void	packs_acked(struct packs *, const struct msgid *, uint32_t aux,
	    pack_ack_fn *ack, void *arg);
/* The same for n messages in a row, as the window keeps them (window.h):
   a batch's pack is looked up once for its messages there. */
void	packs_acked_run(struct packs *, const struct wentry *, size_t n,
	    pack_ack_fn *ack, void *arg);
/* At the end: partly acknowledged batches go to ack() with their set;
   everything is forgotten. */
void	packs_end(struct packs *, pack_ack_fn *ack, void *arg);

#endif
