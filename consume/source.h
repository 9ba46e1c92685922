/*
 * source: where consume's messages come from.
 *
 * A source is a small object behind a table of functions, so that the
 * replay sources (lines, frames) and the Pulsar source plug into the same
 * loop (pump.c), which owns stdout, the ack channel and the window of
 * unacknowledged messages.  The loop calls, over and over:
 *
 *	prepare()	add the descriptors the source waits for to the poll
 *			set and return a poll timeout in ms (0: work is
 *			ready now, -1: nothing to wait for but descriptors);
 *	run()		after poll(2): do I/O, and emit messages (each
 *			one frame written into pump_out(), then registered
 *			with pump_commit()) while pump_room() allows.
 *
 * acked() tells the source that downstream stored messages it emitted
 * (with an ack channel, or once written with ack_on_write): n of them,
 * seq to seq + n - 1, as the window kept them (window.h), in order: a
 * run of messages is told in one call, not one per message; stop() asks
 * it to end early (SIGTERM);
 * finish() is called once at the very end, after the last ack came in, to
 * send what remains (Pulsar ACK commands) before the process exits.
 */
#ifndef CONSUME_SOURCE_H
#define CONSUME_SOURCE_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "msgid.h"

struct pump;
struct wentry;

struct pollset {
	struct pollfd	*fds;
	size_t		 n, cap;
};

/* Add fd to the set; returns its index, for looking at revents later. */
size_t	pollset_add(struct pollset *, int fd, short events);
/* The revents of entry i, 0 if i is out of range (not added this round). */
short	pollset_revents(const struct pollset *, size_t i);

enum src_status {
	SRC_OK,			/* more to come */
	SRC_END,		/* no more messages: the input ended */
	SRC_FAIL		/* failed; the source said why (warnx) */
};

struct source;

struct source_ops {
	const char *name;
	int	(*prepare)(struct source *, struct pollset *, int can_emit);
	enum src_status (*run)(struct source *, struct pump *,
		    const struct pollset *);
	void	(*acked)(struct source *, uint64_t seq,
		    const struct wentry *, size_t n);
	void	(*stop)(struct source *);
	int	(*finish)(struct source *);	/* 0 or -1 (said why) */
	void	(*free)(struct source *);
};

struct source {
	const struct source_ops *ops;
};

/* Replay sources (replay.c). */
enum replay_mode { REPLAY_LINES, REPLAY_FRAMES };

struct replay_opts {
	const char	*topic;		/* full topic name, as written */
	int		 has_pt;	/* --publish-time given */
	uint64_t	 pt;
	size_t		 max_size;	/* longest line or frame body */
};

struct source *replay_source_new(const struct replay_opts *);
/* Queue one input: a path (borrowed: it must outlive the source), or "-"
   for stdin; before the source runs. */
void	replay_source_add(struct source *, enum replay_mode, const char *path);

/* The lake source (lake.c): the messages stored under a destination. */
struct lake_opts {
	const char	*dest;		/* as deliver takes it */
	const char	*deliver;	/* --deliver; NULL: find it */
	const char *const *dargs;	/* --deliver-option, in order */
	size_t		 ndargs;
	const char	*topic;		/* full name (and its partitions);
					   NULL: every topic */
	size_t		 max_size;	/* longest record */
};

struct source *lake_source_new(const struct lake_opts *);
/* deliver's check of the destination: its exit status (2: it said why). */
int	lake_check(const struct lake_opts *);

/* The Pulsar source (psource.c). */
enum start_kind { START_NONE, START_EARLIEST, START_LATEST, START_TIME,
	START_ID };

struct pulsar_opts {
	const char	*url;		/* --url */
	const char	*topic;		/* --topic, as given */
	const char	*subscription;
	int		 sub_type;	/* enum pw_sub_type */
	enum start_kind	 start;
	uint64_t	 start_time;	/* ms */
	struct msgid	 start_id;
	const char	*token;		/* NULL: no authentication */
	const char	*ca_file;
	const char	*listener;
	int		 stop_at_end;
	uint32_t	 queue;		/* receiver queue: permits */
	double		 give_up;	/* seconds of failing in a row; 0: never */
	const char	*lake;		/* --exactly-once DESTINATION, or NULL */
	const char	*deliver;	/* the deliver program, for lake */
	char		**deliver_opts;	/* --deliver-option, for it */
	size_t		 ndeliver_opts;
};

/* NULL after a warning when the options cannot work. */
struct source *pulsar_source_new(const struct pulsar_opts *);

#endif
