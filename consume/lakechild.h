/*
 * lakechild: deliver run as a child, for consume --lake.
 *
 * The lake is read through deliver, run as a child with its stdout a pipe
 * and consume's environment (the store's credentials never pass through
 * argv): `deliver --list DEST` names the objects, `deliver --index DEST`
 * (a deliver that has it) gives the partition and first id of those that
 * exactly-once runs stored, and `deliver --cat KEY DEST` their bytes
 * (lakelist.h, lakeobj.h).
 *
 * Ownership: a started child's pid and the read end of its pipe are the
 * struct lakechild's until lakechild_wait (or lakechild_kill) closes and
 * reaps them; pid 0 says there is none, and waiting for none is 0.  The
 * program and options are borrowed, for the call only.
 */
#ifndef CONSUME_LAKECHILD_H
#define CONSUME_LAKECHILD_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "source.h"

#define LAKECHILD_READ	(64 * 1024)	/* one read(2) of an object */

struct lakechild {
	pid_t		 pid;		/* 0: none */
	int		 fd;
};

/*
 * Run deliver (the program) with o's --deliver-option arguments, then
 * extra[], then o's destination unless nodest: its stdout a pipe, stdin
 * /dev/null.  0, or -1 said (and pid 0).
 */
int	lakechild_start(const char *deliver, const struct lake_opts *o,
	    struct lakechild *, const char *const *extra, size_t nextra,
	    int nodest);
/* Wait for it: its exit status, or -1 when a signal ended it. */
int	lakechild_wait(struct lakechild *);
/* Stop it: what it would still write is not wanted. */
void	lakechild_kill(struct lakechild *);
/* All of a child's output (a listing) into b, and its exit status. */
int	lakechild_slurp(struct lakechild *, struct buf *b);
/*
 * deliver what (--list, --index, --list-options: that one without the
 * destination), its output into out: 0, or -1 said.
 */
int	lakechild_listing(const char *deliver, const struct lake_opts *o,
	    const char *what, struct buf *out);

#endif
