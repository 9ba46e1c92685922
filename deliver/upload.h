/*
 * upload: one object on its way into a COS or S3 store, driven by the
 * loop that reads object frames (deliver_remote; its files: loop.h).
 *
 * An object below the multipart threshold is one PUT.  A larger one is
 * Initiate, then its parts (queued together, sent in parallel within
 * --jobs), then Complete; a fatal error aborts it.  Each request retries
 * on its own (store.h); a write whose answer was lost is checked with
 * HEAD before it is sent again.  The ack line goes out when the object is
 * confirmed and its checks passed.
 *
 * An object that comes in part frames (P) is a multipart upload begun at
 * its first part, one part per P frame and the O frame's body as the
 * last, each sent as it arrives and its memory freed once stored; input
 * waits while PARTS_HELD parts are in memory.  With --exactly-once it is
 * instead spooled to an unlinked file in $TMPDIR as it arrives, its
 * hashes made on the way, and sent as one conditional PUT read from that
 * file (RGW ignores the condition on CompleteMultipartUpload).
 */
#ifndef DELIVER_UPLOAD_H
#define DELIVER_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "object.h"

struct req;

struct upload {
	struct upload	*prev, *next;	/* live uploads */
	struct object	 o;		/* owns its body */
	struct buf	 fullkey;	/* prefix + key */
	struct buf	 path;		/* decoded request path, for signing */
	char		*upload_id;	/* multipart, once initiated */
	unsigned	 nparts, parts_done;
	struct req	**parts;
	struct buf	*partmem;	/* in_parts: each body's memory, or empty */
	int		 in_parts;	/* its parts come as P frames */
	int		 ended;		/* in_parts: its O frame came */
	int		 spool;		/* the object's file, or -1 */
	struct req	*single;	/* the PUT, Initiate or Complete */
	uint64_t	 crc;		/* CRC-64 of the whole object */
	struct buf	 manifest;	/* --exactly-once: index line, or "" */
	struct buf	 meta;		/* it for the metadata (see META_MAX) */
	int		 held;		/* waits for its topic's upload before */
	uint64_t	 ticket;	/* its place for the markers (marker.h) */
	double		 started;
	unsigned	 retries;	/* of all its requests, so far */
};

/*
 * A single request of op on the object at fullkey ("" for the bucket
 * itself), with a borrowed body, outside the upload loop: for --list,
 * --cat and --probe.  target_end() frees what target_begin() made.
 */
struct store;
struct target {
	struct store	*s;
	struct upload	 up;
	struct req	*r;
};

void	target_begin(struct target *, struct store *, int op,
	    const char *fullkey, const char *body, size_t len);
void	target_end(struct target *);

#endif
