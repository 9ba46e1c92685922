/* Placeholder until the COS/S3 uploader lands. */
#include <err.h>

#include "deliver.h"
#include "dest.h"
#include "log.h"

int
deliver_remote(struct dest *d, const struct options *opt)
{
	warnx("cos:// and s3:// destinations are not built yet");
	return EXIT_FAIL;
}
