/*
 * lake: reading back what is stored under a destination, the same way
 * for file://, cos:// and s3://: the listing of the objects under a part
 * of the prefix, and the bytes of one object.  For --list, --cat,
 * --index and --audit.
 *
 * A struct lake owns the store connection (remote) or the root
 * directory's descriptor (file://).  Failures are said with
 * report_error() once, and returned as -1.
 */
#ifndef DELIVER_LAKE_H
#define DELIVER_LAKE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "store.h"

struct dest;
struct options;

struct lake_entry {
	char		*key;		/* relative to the prefix */
	unsigned long long size;
	long long	 mtime;		/* seconds since the epoch */
};

struct lake_list {
	struct lake_entry *e;		/* sorted by key */
	size_t		 n, cap;
};

struct lake {
	const struct dest	*d;
	const struct options	*opt;
	int			 remote;
	struct store		 s;	/* remote */
	int			 rootfd;	/* file://, -1 if none yet */
};

/* 0, or -1 (said why). */
int	lake_open(struct lake *, const struct dest *, const struct options *);
void	lake_close(struct lake *);
/*
 * The objects whose keys start with sub ("" for all), relative to the
 * prefix, into l (initialised to zeroes), sorted by key, without
 * deliver's temporary files: 0, or -1.
 */
int	lake_list(struct lake *, const char *sub, struct lake_list *l);
void	lake_list_free(struct lake_list *);
/*
 * Append the bytes of the object key to out: 0, -1, or 1 if not found;
 * for small objects (at most 1 MiB from a remote store).
 */
int	lake_read(struct lake *, const char *key, struct buf *out);
/*
 * Copy the object key to fd: 0, -1 (said why), 1 if not found, or -2 when
 * a write to fd failed (errno set, not said).
 */
int	lake_copy(struct lake *, const char *key, int fd);

/* The size and CRC-64 of the object key, read in full: 0, -1, 1. */
int	lake_sum(struct lake *, const char *key, uint64_t *size,
	    uint64_t *crc);

#endif
