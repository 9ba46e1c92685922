/*
 * The leftovers of a killed deliver under a file:// destination: the
 * temporary files that deliver never renamed.  See local.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdint.h>
#include <unistd.h>

#include "buf.h"
#include "local.h"
#include "log.h"
#include "manifest.h"
#include "digest.h"

/*
 * The PID in a temporary name ".NAME.PID.SERIAL.tmp" (local.c), or
 * 0 if the name is not one: files that merely look alike are not ours
 * to remove.
 */
long
local_temp_pid(const char *name)
{
	const char *end, *p, *q;
	const char *errstr;
	char num[24];
	long pid;
	size_t n = strlen(name);

	if (name[0] != '.' || n < 4 || strcmp(name + n - 4, ".tmp") != 0)
		return 0;
	end = name + n - 4;
	for (p = end; p > name && p[-1] >= '0' && p[-1] <= '9'; p--)
		;
	if (p == end || p - 1 <= name || p[-1] != '.')
		return 0;			/* no SERIAL */
	end = p - 1;
	for (q = end; q > name && q[-1] >= '0' && q[-1] <= '9'; q--)
		;
	if (q == end || q - 1 <= name + 1 || q[-1] != '.' ||
	    (size_t)(end - q) >= sizeof(num))
		return 0;			/* no PID, or no NAME */
	memcpy(num, q, end - q);
	num[end - q] = '\0';
	pid = strtonum(num, 1, INT_MAX, &errstr);
	return errstr == NULL ? pid : 0;
}

DIR *
local_opendir(int rootfd, const char *rel)
{
	DIR *dir;
	int fd, saved;

	fd = openat(rootfd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if ((dir = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return dir;
}

/* Whether a process pid runs on this host (EPERM: it does, not ours). */
static int
pid_alive(long pid)
{
	if (pid == (long)getpid())
		return 1;
	return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

int
local_file_sum(int rootfd, const char *rel, uint64_t *size, uint64_t *crc)
{
	char chunk[65536];
	struct stat st;
	ssize_t n;
	int fd, saved;

	if ((fd = openat(rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		saved = S_ISREG(st.st_mode) ? errno : EISDIR;
		close(fd);
		errno = saved;
		return -1;
	}
	*size = *crc = 0;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		*crc = crc64_update(*crc, chunk, (size_t)n);
		*size += (uint64_t)n;
	}
	saved = errno;
	close(fd);
	errno = saved;
	return n == 0 ? 0 : -1;
}

int
local_entry_stored(int rootfd, const char *rel, struct manifest *m)
{
	char text[8192], why[256];
	uint64_t size, crc;
	ssize_t n = -1;
	int fd;

	if ((fd = openat(rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		n = read(fd, text, sizeof(text));
		close(fd);
	}
	return n > 0 && manifest_parse(m, text, n, why, sizeof(why)) == 0 &&
	    local_file_sum(rootfd, m->key.data, &size, &crc) == 0 &&
	    size == m->size && crc == m->crc;
}

/*
 * An index entry's temporary file (exactly once, local.c) whose writer is
 * gone: if the object it describes is stored, with its size and CRC,
 * the writer died between storing it and renaming the entry into place,
 * so rename it now (the lake holds the object: its entry must say so);
 * otherwise remove it.  1 renamed, 0 removed, -1 neither.
 */
static int
roll_forward(int rootfd, const char *rel, const char *name)
{
	struct manifest m;
	struct buf final = BUF_INIT;
	int rc = 0;

	manifest_init(&m);
	if (local_entry_stored(rootfd, rel, &m)) {
		/* ".NAME.PID.SERIAL.tmp" back to NAME, in the same directory */
		const char *end = name + strlen(name) - 4;
		int dots = 0;

		while (end > name && dots < 2)
			if (*--end == '.')
				dots++;
		buf_add(&final, rel, strlen(rel) - strlen(name));
		buf_add(&final, name + 1, end - name - 1);
		rc = renameat(rootfd, rel, rootfd, final.data) == 0 ? 1 : -1;
	}
	if (rc == 0 && unlinkat(rootfd, rel, 0) < 0 && errno != ENOENT)
		rc = -1;
	buf_release(&final);
	manifest_release(&m);
	return rc;
}

/* Sweep rel (below rootfd, "" for the root) and its subdirectories. */
static void
sweep_dir(int rootfd, const char *root, struct buf *rel, unsigned long *n)
{
	DIR *dir;
	struct dirent *de;
	struct stat st;
	size_t len = rel->len;
	long pid;

	if ((dir = local_opendir(rootfd, rel->data)) == NULL) {
		if (errno == ENOENT)
			return;		/* nothing there (yet) */
		log_warn("cannot look for leftover temporary files",
		    "dir=%s%s error=%s", root, rel->data, strerror(errno));
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		buf_setlen(rel, len);
		buf_addstr(rel, de->d_name);
		if (fstatat(rootfd, rel->data, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;		/* gone meanwhile */
		if (S_ISDIR(st.st_mode)) {
			buf_addch(rel, '/');
			sweep_dir(rootfd, root, rel, n);
			continue;
		}
		if (!S_ISREG(st.st_mode) ||
		    (pid = local_temp_pid(de->d_name)) == 0 || pid_alive(pid))
			continue;
		if (strncmp(rel->data, INDEX_DIR, strlen(INDEX_DIR)) == 0) {
			int done = roll_forward(rootfd, rel->data, de->d_name);

			if (done == 1)
				log_info("index entry of a stored object put "
				    "in place", "file=%s%s", root, rel->data);
			if (done >= 0)
				(*n)++;
			else
				log_warn("cannot put an index entry in place",
				    "file=%s%s error=%s", root, rel->data,
				    strerror(errno));
		} else if (unlinkat(rootfd, rel->data, 0) == 0)
			(*n)++;
		else if (errno != ENOENT)
			log_warn("cannot remove a leftover temporary file",
			    "file=%s%s error=%s", root, rel->data,
			    strerror(errno));
	}
	closedir(dir);
	buf_setlen(rel, len);
}

/*
 * Remove the temporary files of deliver processes that are gone.  A
 * file whose PID runs is kept: it may be a second deliver writing to the
 * same destination (or an unrelated process that took the PID, whose
 * leftover waits for a later start).  No fsync: a removal lost to a
 * crash is only done again next time.
 */
unsigned long
local_sweep(int rootfd, const char *root, const char *sub)
{
	struct buf rel = BUF_INIT;
	unsigned long n = 0;

	buf_addstr(&rel, sub);
	sweep_dir(rootfd, root, &rel, &n);
	buf_release(&rel);
	if (n > 0)
		log_info("removed leftover temporary files", "count=%lu dir=%s",
		    n, root);
	return n;
}
