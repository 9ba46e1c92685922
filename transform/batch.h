/*
 * batch: the transform loop.  Each topic (each partition of a partitioned
 * topic) has its own batch, so that an object holds one partition's
 * messages in order (topics.h).  Message frames are read without ever
 * blocking while a batch is open (poll(2) until the first age deadline),
 * formatted into the batch's small staging buffer, compressed as they
 * come, and an object is written as one object frame when its batch is
 * full, too old, its slot is needed for another topic, the next record
 * falls in another time bucket of the key template (a batch never crosses
 * the finest time unit its key names) or gives another value to one of
 * its {field:PATH} placeholders, or the input ends.
 *
 * An object larger than --part-size goes out in pieces as it is made:
 * part frames (P) of exactly part_size stored bytes each, then its object
 * frame with the rest and parts=N (lakepipe-frames(5)), so that no stage
 * holds a whole object.  One object at a time is written in parts: a
 * batch that reaches the part size while another batch's object is in
 * parts closes that one first (why=parts), so that the frames of two
 * objects never interleave.
 *
 * What an object's bytes are is its format's business (format.h); with
 * --fields each record is first converted into a row (fields.h), and a
 * record that cannot be converted goes to the reject stream.  A run of
 * rejects is an object of its own (under the reject key), between the
 * partition's data objects: every object holds a contiguous run of one
 * partition's messages, as exactly once's index and audit require.
 */
#ifndef TRANSFORM_BATCH_H
#define TRANSFORM_BATCH_H

#include <stdint.h>

#include "compress.h"
#include "fields.h"
#include "format.h"
#include "key.h"
#include "keyval.h"
#include "record.h"
#include "utctime.h"

struct options {
	const struct fmt_ops *format;
	enum codec	 codec;		/* stream formats and rejects */
	int		 level;
	uint64_t	 max_messages;
	uint64_t	 max_bytes;	/* as stored (compressed) */
	size_t		 part_size;	/* P frames' bodies, bytes */
	double		 max_age;	/* seconds; 0: no limit */
	size_t		 max_open;	/* batches open at once */
	size_t		 max_memory;	/* what the open batches hold */
	struct key_tmpl	 key;
	struct key_tmpl	 reject_key;	/* the reject stream's objects */
	struct keytime	 ktime;		/* --partition-time */
	struct tzone	*tz;		/* --timezone */
	int		 rows;		/* records converted (schema) */
	struct schema	 schema;
	struct fmt_conf	 conf;
	int		 progress;
	int		 threads;	/* compressing beside the main one */
};

#define REJECT_KEY_DEFAULT \
	"_errors/{topic}/{yyyy}/{mm}/{dd}/{hh}/{seq_id}-{partition}.{ext}"

#define DEFAULT_MAX_MESSAGES	100000
#define DEFAULT_MAX_BYTES	(64 * 1024 * 1024)
#define DEFAULT_PART_SIZE	(8 * 1024 * 1024)
#define MIN_PART_SIZE		(5 * 1024 * 1024)	/* S3's smallest part */
#define MAX_PARTS		10000			/* S3's most parts */
#define MAX_MAX_BYTES		(5ULL << 40)		/* S3's largest object */
#define DEFAULT_MAX_AGE		60
#define DEFAULT_MAX_OPEN	64
#define MAX_MAX_OPEN		4096
#define MEMORY_PARTS		3	/* --max-memory's default, in parts */

/* Read message frames from in, write object frames to out; exit status. */
int	transform_run(const struct options *, int in, int out);

#endif
