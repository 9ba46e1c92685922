/*
 * local: deliver objects into a directory (file:///DIR/), each atomically
 * and durably: a temporary file in the final directory (O_EXCL), write,
 * fsync, rename over the final name, fsync of the directory.  Missing
 * directories are made, and each new one's parent is fsynced, so that
 * after the ack a crash cannot lose the object or its name.  An object
 * that comes in part frames is written to its temporary file part by
 * part.
 */
#ifndef DELIVER_LOCAL_H
#define DELIVER_LOCAL_H

#include <stdint.h>

#include <dirent.h>
#include <stddef.h>

struct local;
struct manifest;
struct object;

/* Open the root directory (made if missing); NULL with a reason in why. */
struct local *local_open(const char *dir, char *why, size_t whylen);
/* Store one object under its key: 0, or -1 with a reason in why. */
int	local_put(struct local *, const struct object *, char *why,
	    size_t whylen);
/* deliver_local's answer when the key holds other messages (exactly once). */
#define LOCAL_CONFLICT	(-2)
void	local_close(struct local *);

/* opendir of rel below rootfd ("" for rootfd itself), not following links. */
DIR	*local_opendir(int rootfd, const char *rel);
/*
 * The size and CRC-64 of the regular file rel below rootfd (sweep.c):
 * 0, or -1 with errno (ENOENT: no such file).
 */
int	local_file_sum(int rootfd, const char *rel, uint64_t *size,
	    uint64_t *crc);
/*
 * Whether the index entry rel below rootfd (an index line, read into m)
 * describes a stored object: its key holds a file of its size and CRC-64.
 */
int	local_entry_stored(int rootfd, const char *rel, struct manifest *m);
/* The PID in a name of deliver's temporary files, else 0 (sweep.c). */
long	local_temp_pid(const char *name);
/*
 * Remove, below the directory sub ("" or "a/b/") of the directory rootfd
 * (named root), the temporary files of deliver processes that no longer
 * run, putting index entries of stored objects in place instead; their
 * count, logged if any.
 */
unsigned long local_sweep(int rootfd, const char *root, const char *sub);

#endif
