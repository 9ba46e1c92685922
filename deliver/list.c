/*
 * deliver --list and --cat: read back what is stored under the
 * destination, for `lakepipe test` and people.  See deliver.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "deliver.h"
#include "lake.h"
#include "object.h"
#include "report.h"

int
deliver_list(const struct dest *d, const struct options *opt)
{
	struct lake lk;
	struct lake_list l = { NULL, 0, 0 };
	size_t i;
	int status = EXIT_FAIL;

	if (lake_open(&lk, d, opt) < 0)
		return EXIT_FAIL;
	if (lake_list(&lk, "", &l) == 0) {
		for (i = 0; i < l.n; i++)
			printf("%s\t%llu\t%lld\n", l.e[i].key, l.e[i].size,
			    l.e[i].mtime);
		status = EXIT_OK;
		if (fflush(stdout) == EOF || ferror(stdout))
			status = stdout_failed(errno);
	}
	lake_list_free(&l);
	lake_close(&lk);
	return status;
}

int
deliver_cat(const struct dest *d, const struct options *opt, const char *key)
{
	struct lake lk;
	int rc, status = EXIT_FAIL;

	if (lake_open(&lk, d, opt) < 0)
		return EXIT_FAIL;
	rc = lake_copy(&lk, key, STDOUT_FILENO);
	if (rc == 0)
		status = EXIT_OK;
	else if (rc == -2)
		status = stdout_failed(errno);
	else if (rc == 1)
		report_error("%s: no such object (see deliver --list)", key);
	lake_close(&lk);
	return status;
}
