/*
 * regress-main: the harness of a fuzz target without libFuzzer.  Runs
 * LLVMFuzzerTestOneInput once over each FILE (each file of a DIR), in an
 * allocation of exactly its size, so that the sanitizers see a read past
 * its end as libFuzzer's own driver would.  Exit 0 when every input ran
 * (a crash aborts), 2 on usage, 1 when an input cannot be read.
 *
 *	regress-TARGET [-v] FILE|DIR...
 */
#include <dirent.h>
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fuzz.h"

static int verbose;

static int
run_file(const char *path)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	uint8_t *copy;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		warn("%s", path);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	if (n < 0) {
		warn("%s", path);
		buf_release(&b);
		return -1;
	}
	if (verbose)
		fprintf(stderr, "%s (%zu bytes)\n", path, b.len);
	/* an exact-size copy: the buf's slack would hide an over-read */
	copy = xmalloc(b.len ? b.len : 1);
	memcpy(copy, b.data, b.len);
	LLVMFuzzerTestOneInput(copy, b.len);
	free(copy);
	buf_release(&b);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of a directory in name order (dot files skipped). */
static int
run_dir(const char *dir)
{
	struct buf path = BUF_INIT;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		warn("%s", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		buf_reset(&path);
		buf_addf(&path, "%s/%s", dir, names[i]);
		if (run_file(path.data) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	buf_release(&path);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct stat st;
	int i, rc = 0;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: regress-TARGET [-v] FILE|DIR...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			warn("%s", argv[i]);
			rc = 1;
		} else if (S_ISDIR(st.st_mode) ? run_dir(argv[i]) < 0 :
		    run_file(argv[i]) < 0)
			rc = 1;
	}
	return rc;
}
