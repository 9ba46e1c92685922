/*
 * batch: the transform loop.  Message frames are read without ever
 * blocking while a batch is open (poll(2) with the batch's age deadline),
 * formatted into a small staging buffer, compressed as they come, and the
 * object is written as one object frame when the batch is full, too old,
 * or the input ends.
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
	struct key_tmpl	 key;
	int		 progress;
};

#define DEFAULT_MAX_MESSAGES	100000
#define DEFAULT_MAX_BYTES	(64 * 1024 * 1024)
#define DEFAULT_MAX_AGE		60

/* Read message frames from in, write object frames to out; exit status. */
int	transform_run(const struct options *, int in, int out);

#endif
