/*
 * batch: the transform loop.  Each topic (each partition of a partitioned
 * topic) has its own batch, so that an object holds one partition's
 * messages in order (topics.h).  Message frames are read without ever
 * blocking while a batch is open (poll(2) until the first age deadline),
 * formatted into the batch's small staging buffer, compressed as they
 * come, and an object is written as one object frame when its batch is
 * full, too old, its slot is needed for another topic, or the input ends.
 */
#ifndef TRANSFORM_BATCH_H
#define TRANSFORM_BATCH_H

#include <stdint.h>

#include "compress.h"
#include "key.h"
#include "record.h"

struct options {
	enum format	 format;
	enum codec	 codec;
	int		 level;
	uint64_t	 max_messages;
	uint64_t	 max_bytes;	/* uncompressed */
	double		 max_age;	/* seconds; 0: no limit */
	size_t		 max_open;	/* batches open at once */
	struct key_tmpl	 key;
	int		 progress;
};

#define DEFAULT_MAX_MESSAGES	100000
#define DEFAULT_MAX_BYTES	(64 * 1024 * 1024)
#define DEFAULT_MAX_AGE		60
#define DEFAULT_MAX_OPEN	64
#define MAX_MAX_OPEN		4096

/* Read message frames from in, write object frames to out; exit status. */
int	transform_run(const struct options *, int in, int out);

#endif
