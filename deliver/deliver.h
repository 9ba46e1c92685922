/*
 * deliver: what deliver.c's main() hands to the two ways of storing
 * objects (local.c for file://, the remote side for cos:// and s3://).
 */
#ifndef DELIVER_DELIVER_H
#define DELIVER_DELIVER_H

#include <stddef.h>
#include <stdint.h>

struct dest;

/*
 * A multipart part's size without --part-size (below 10000 parts an
 * object), and transform's part size: the largest frame it writes.
 */
#define DEFAULT_PART_SIZE	((size_t)8 << 20)

struct options {
	const char	*endpoint;	/* --endpoint URL, or NULL */
	int		 path_style;	/* --path-style */
	int		 progress;	/* -P */
	const char	*credentials;	/* --credentials FILE, or NULL */
	const char	*storage_class;	/* --storage-class, or NULL */
	int		 jobs;		/* --jobs: parallel requests */
	uint64_t	 part_size;	/* --part-size, 0 = automatic */
	uint64_t	 multipart_threshold;	/* --multipart-threshold */
	int		 retries;	/* --retries: attempts after the first */
	long		 timeout;	/* --timeout: low-speed window, seconds */
	uint64_t	 max_memory;	/* --max-memory: bytes in flight */
	const char	*metrics_file;	/* --metrics-file, or NULL */
	int		 exactly_once;	/* --exactly-once */
	double		 orphan_age;	/* --orphan-age, seconds */
	const char	**topics;	/* --topic (--index, --audit) */
	size_t		 ntopics;
	int		 insecure;	/* --insecure: TLS not verified */
	int		 markers;	/* --markers: _SUCCESS of time buckets */
	long		 partitions;	/* --partitions: of each topic, or 0 */
	double		 marker_idle;	/* --marker-idle, seconds */
};

/* Each returns the exit status: EXIT_OK or EXIT_FAIL. */
int	deliver_local(const struct dest *, const struct options *);
int	deliver_remote(const struct dest *, const struct options *);
/* --list: KEY TAB SIZE TAB MTIME lines of what is under the prefix. */
int	deliver_list(const struct dest *, const struct options *);
/* --cat: the bytes of the object KEY (relative to the prefix). */
int	deliver_cat(const struct dest *, const struct options *,
	    const char *key);
/* --audit: the lake checked against its index (audit.c). */
int	deliver_audit(const struct dest *, const struct options *);
/* --probe: "ok SETTING: ..." / "fail SETTING: ..." lines on stdout. */
int	deliver_probe(const struct dest *, const struct options *);

#endif
