/* Atomic, durable writes into a local directory; see local.h. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "deliver.h"
#include "dest.h"
#include "digest.h"
#include "frame.h"
#include "local.h"
#include "log.h"
#include "manifest.h"
#include "marker.h"
#include "object.h"
#include "pct.h"
#include "report.h"
#include "stop.h"

struct local {
	char		*root;		/* ends with '/' */
	int		 rootfd;
	struct buf	 lastdir;	/* relative directory known to exist */
	unsigned long	 serial;	/* for temporary names */
};

static int
sys_fail(char *why, size_t whylen, const char *what, const char *path,
    const char *sub)
{
	snprintf(why, whylen, "%s%s: %s: %s", path, sub, what,
	    strerror(errno));
	return -1;
}

static int
fsync_dir_at(int dirfd, const char *rel)
{
	int fd, rc, saved;

	fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* mkdir -p of an absolute path, fsyncing each new directory's parent. */
static int
make_root(const char *root, char *why, size_t whylen)
{
	char *p = xstrdup(root), *s;
	struct stat st;
	int rc = 0;

	for (s = p + 1; rc == 0 && (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0777) == 0) {
			char *slash = strrchr(p, '/');
			char keep = slash[1];

			slash[1] = '\0';
			if (fsync_dir_at(AT_FDCWD, p) < 0)
				rc = sys_fail(why, whylen, "fsync", p, "");
			slash[1] = keep;
		} else if (errno != EEXIST)
			rc = sys_fail(why, whylen, "cannot make directory",
			    p, "");
		else if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			rc = sys_fail(why, whylen, "not a directory", p, "");
		}
		*s = '/';
	}
	free(p);
	return rc;
}

struct local *
local_open(const char *dir, char *why, size_t whylen)
{
	struct local *l;
	int fd;

	if (make_root(dir, why, whylen) < 0)
		return NULL;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		sys_fail(why, whylen, "open", dir, "");
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->root = xstrdup(dir);
	l->rootfd = fd;
	buf_init(&l->lastdir, 0);
	return l;
}

void
local_close(struct local *l)
{
	if (l == NULL)
		return;
	close(l->rootfd);
	buf_release(&l->lastdir);
	free(l->root);
	free(l);
}

/*
 * Make the directories of the relative path dir (no trailing '/'),
 * below the root, fsyncing the parent of each one made.
 */
static int
make_dirs(struct local *l, const char *dir, size_t n, char *why,
    size_t whylen)
{
	char *p;
	size_t i;
	int rc = 0;

	if (n == 0 || (l->lastdir.len == n && memcmp(l->lastdir.data, dir,
	    n) == 0))
		return 0;
	p = xstrndup(dir, n);
	for (i = 0; rc == 0 && i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdirat(l->rootfd, p, 0777) == 0) {
			char *slash = strrchr(p, '/');

			if (slash != NULL)
				*slash = '\0';
			if (fsync_dir_at(l->rootfd, slash ? p : ".") < 0)
				rc = sys_fail(why, whylen, "fsync", l->root, p);
			if (slash != NULL)
				*slash = '/';
		} else if (errno != EEXIST)
			rc = sys_fail(why, whylen, "cannot make directory",
			    l->root, p);
		if (i < n)
			p[i] = '/';
	}
	free(p);
	if (rc == 0) {
		buf_reset(&l->lastdir);
		buf_add(&l->lastdir, dir, n);
	}
	return rc;
}

/*
 * A temporary file ".NAME.PID.SERIAL.tmp" in the directory of its key
 * (made if missing), written as the object's pieces come; its name
 * below the root, and the size and CRC-64 of what was written.
 */
struct temp {
	int		 fd;		/* -1 once closed */
	struct buf	 name;		/* empty: none */
	uint64_t	 size, crc;
};

static void
temp_init(struct temp *t)
{
	t->fd = -1;
	buf_init(&t->name, 0);
	t->size = t->crc = 0;
}

/* Close and remove t, if there is one; t is ready for the next object. */
static void
temp_drop(struct local *l, struct temp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->name.len > 0)
		unlinkat(l->rootfd, t->name.data, 0);
	buf_release(&t->name);
	temp_init(t);
}

static int
temp_open(struct local *l, const char *key, struct temp *t, char *why,
    size_t whylen)
{
	const char *slash = strrchr(key, '/');
	size_t dirlen = slash ? (size_t)(slash - key) : 0;

	if (make_dirs(l, key, dirlen, why, whylen) < 0)
		return -1;
	/* hidden, unique, and in the same directory */
	buf_reset(&t->name);
	if (slash)
		buf_add(&t->name, key, dirlen + 1);
	buf_addf(&t->name, ".%.160s.%ld.%lu.tmp", slash ? slash + 1 : key,
	    (long)getpid(), l->serial++);
	t->fd = openat(l->rootfd, t->name.data, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0666);
	t->size = t->crc = 0;
	if (t->fd < 0) {
		sys_fail(why, whylen, "cannot create temporary file", l->root,
		    t->name.data);
		buf_reset(&t->name);
		return -1;
	}
	return 0;
}

/* Append a piece: 0, or -1 with why (t dropped). */
static int
temp_write(struct local *l, struct temp *t, const void *p, size_t n,
    char *why, size_t whylen)
{
	if (write_all(t->fd, p, n) < 0) {
		sys_fail(why, whylen, "write", l->root, t->name.data);
		temp_drop(l, t);
		return -1;
	}
	t->size += n;
	t->crc = crc64_update(t->crc, p, n);
	return 0;
}

/* fsync and close: 0, or -1 with why (t dropped). */
static int
temp_finish(struct local *l, struct temp *t, char *why, size_t whylen)
{
	int rc;

	if ((rc = fsync(t->fd)) < 0)
		sys_fail(why, whylen, "write", l->root, t->name.data);
	if (close(t->fd) < 0 && rc == 0)
		rc = sys_fail(why, whylen, "close", l->root, t->name.data);
	t->fd = -1;
	if (rc < 0)
		temp_drop(l, t);
	return rc;
}

/* A whole temporary file of len bytes at body, fsynced, in t. */
static int
write_temp(struct local *l, const char *key, const void *body, size_t len,
    struct temp *t, char *why, size_t whylen)
{
	if (temp_open(l, key, t, why, whylen) < 0 ||
	    temp_write(l, t, body, len, why, whylen) < 0)
		return -1;
	return temp_finish(l, t, why, whylen);
}

/* fsync the directory that holds key. */
static int
sync_dir_of(struct local *l, const char *key, char *why, size_t whylen)
{
	const char *slash = strrchr(key, '/');
	char *dir = slash ? xstrndup(key, slash - key) : xstrdup(".");
	int rc = 0;

	if (fsync_dir_at(l->rootfd, dir) < 0)
		rc = sys_fail(why, whylen, "fsync directory", l->root, dir);
	free(dir);
	return rc;
}

/* The finished temporary file t renamed to key: 0, or -1 with why. */
static int
place(struct local *l, struct temp *t, const char *key, char *why,
    size_t whylen)
{
	if (renameat(l->rootfd, t->name.data, l->rootfd, key) < 0) {
		sys_fail(why, whylen, "rename into place", l->root, key);
		temp_drop(l, t);
		return -1;
	}
	buf_reset(&t->name);
	return sync_dir_of(l, key, why, whylen);
}

int
local_put(struct local *l, const struct object *o, char *why, size_t whylen)
{
	struct temp t;
	int rc = -1;

	temp_init(&t);
	if (write_temp(l, o->key.data, o->body, o->len, &t, why, whylen) == 0)
		rc = place(l, &t, o->key.data, why, whylen);
	temp_drop(l, &t);
	return rc;
}

/* Whether the files a and b below the root hold the same bytes. */
static int
same_content(struct local *l, const char *a, const char *b)
{
	char ca[65536], cb[65536];
	struct stat sa, sb;
	ssize_t n, m;
	int fa, fb, same = 0;

	fa = openat(l->rootfd, a, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	fb = openat(l->rootfd, b, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fa < 0 || fb < 0 || fstat(fa, &sa) < 0 || fstat(fb, &sb) < 0 ||
	    !S_ISREG(sa.st_mode) || sa.st_size != sb.st_size)
		goto out;
	while ((n = read(fa, ca, sizeof(ca))) > 0) {
		if ((m = read(fb, cb, (size_t)n)) != n || memcmp(ca, cb, n))
			goto out;
	}
	same = n == 0;
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return same;
}

/*
 * Whether the object stored at o's key, other bytes than ours, holds o's
 * messages all the same (manifest_same_messages): its index entry, of
 * the same range and so of the same name ikey as ours, says so and
 * describes the stored file.  Its size then in *size.
 */
static int
stored_before(struct local *l, const char *ikey, const struct manifest *m,
    uint64_t *size)
{
	struct manifest stored;
	int same;

	manifest_init(&stored);
	same = local_entry_stored(l->rootfd, ikey, &stored) &&
	    manifest_same_messages(m, &stored);
	if (same)
		*size = stored.size;
	manifest_release(&stored);
	return same;
}

/*
 * Exactly once (manifest.h): the data and its index entry are written as
 * temporary files first, then the data is linked to its key, which fails
 * if the key exists: the no-overwrite write.  A key holding the same
 * bytes is this object stored before (a lost ack); so is one holding
 * other bytes for the same messages (stored_before: a message redelivered
 * carries another redelivery count), which keeps its own index entry.
 * Other bytes else are another cut of the same first message,
 * LOCAL_CONFLICT.  Only then is our index entry renamed into place.  A
 * crash between the link and the rename leaves the entry's temporary
 * file, which local_sweep() renames into place once its writer is gone
 * (the object is stored).  *size becomes the stored object's size when
 * it is not ours.
 */
static int
place_once(struct local *l, struct temp *data, const struct object *o,
    const struct manifest *m, uint64_t *size, char *why, size_t whylen)
{
	struct buf ikey = BUF_INIT, line = BUF_INIT;
	struct temp idx;
	int rc = -1, ours = 1;

	temp_init(&idx);
	manifest_index_key(&ikey, m);
	manifest_format(&line, m);
	if (write_temp(l, ikey.data, line.data, line.len, &idx, why,
	    whylen) < 0)
		goto out;
	if (linkat(l->rootfd, data->name.data, l->rootfd, o->key.data,
	    0) < 0) {
		if (errno != EEXIST) {
			sys_fail(why, whylen, "link into place", l->root,
			    o->key.data);
			goto out;
		}
		if (same_content(l, o->key.data, data->name.data))
			log_info("already stored", "key=%s", o->key.data);
		else if (stored_before(l, ikey.data, m, size)) {
			log_info("already stored (a redelivery: same "
			    "messages, other bytes)", "key=%s", o->key.data);
			ours = 0;
		} else {
			snprintf(why, whylen, "%s%s exists and holds other "
			    "messages than %s..%s (another writer, or a cut "
			    "made before a crash)", l->root, o->key.data,
			    o->first.data, o->last.data);
			rc = LOCAL_CONFLICT;
			goto out;
		}
	}
	if (ours) {
		if (renameat(l->rootfd, idx.name.data, l->rootfd,
		    ikey.data) < 0) {
			sys_fail(why, whylen, "rename into place", l->root,
			    ikey.data);
			goto out;
		}
		buf_reset(&idx.name);
	}
	temp_drop(l, data);
	if (sync_dir_of(l, o->key.data, why, whylen) < 0 ||
	    sync_dir_of(l, ikey.data, why, whylen) < 0)
		goto out;
	rc = 0;
out:
	temp_drop(l, &idx);
	buf_release(&ikey);
	buf_release(&line);
	return rc;
}

/*
 * Store o, whose bytes are all in the temporary file t, exactly once
 * when asked: 0, -1 or LOCAL_CONFLICT, with why; *size: the size of the
 * object stored at its key.  t is gone after.
 */
static int
put(struct local *l, const struct options *opt, const struct object *o,
    struct temp *t, uint64_t *size, char *why, size_t whylen)
{
	struct manifest m;
	int rc;

	*size = o->total;
	if (temp_finish(l, t, why, whylen) < 0)
		return -1;
	if (!opt->exactly_once) {
		rc = place(l, t, o->key.data, why, whylen);
		temp_drop(l, t);
		return rc;
	}
	manifest_init(&m);
	rc = manifest_of_object(&m, o, t->crc, why, whylen);
	if (rc == 0)
		rc = place_once(l, t, o, &m, size, why, whylen);
	manifest_release(&m);
	temp_drop(l, t);
	return rc;
}

/*
 * Store o and ack it: 0, or -1 with why.  Its parts, if any, are in t
 * already; its body goes there now.
 */
static int
store_and_ack(struct local *l, const struct dest *d,
    const struct options *opt, const struct object *o, struct temp *t,
    struct report *rp, char *why, size_t whylen)
{
	struct buf ack = BUF_INIT, extra = BUF_INIT;
	double t0 = monotime();
	uint64_t size;
	int rc = -1, prc = -1;

	if (object_is_empty(o)) {
		buf_addstr(&extra, " n=0");
		log_debug("empty object acked, not stored", "key=%s",
		    o->key.data);
	} else {
		if ((o->parts == 0 && temp_open(l, o->key.data, t, why,
		    whylen) < 0) || temp_write(l, t, o->body, o->len, why,
		    whylen) < 0 || (prc = put(l, opt, o, t, &size, why, whylen)) < 0) {
			report_failed(rp, o->key.data, why,
			    prc == LOCAL_CONFLICT ? "restart: the pipeline "
			    "reads the lake again and cuts after what is "
			    "stored" : "make the directory writable, or free "
			    "space (deliver --probe)");
			*why = '\0';
			goto out;
		}
		buf_addf(&extra, " size=%llu url=file://",
		    (unsigned long long)size);
		pct_encode_uri(&extra, d->dir, strlen(d->dir), 1);
		pct_encode_uri(&extra, o->key.data, o->key.len, 1);
		report_stored(rp, o, o->key.data, size, t0, 0);
	}
	ack_format(&ack, o, o->key.data, o->key.len, extra.data);
	if (ack_emit(&ack) < 0) {
		stdout_failed(errno);
		*why = '\0';
		goto out;
	}
	rc = 0;
out:
	buf_release(&ack);
	buf_release(&extra);
	return rc;
}

/*
 * A part frame: the first opens the object's temporary file, each is
 * written to it: 0, or -1 with why.
 */
static int
store_part(struct local *l, const struct parts_in *p, const struct frame *f,
    struct temp *t, struct report *rp, char *why, size_t whylen)
{
	if ((p->n == 1 && temp_open(l, p->key.data, t, why, whylen) < 0) ||
	    temp_write(l, t, f->body, f->len, why, whylen) < 0) {
		report_failed(rp, p->key.data, why, "make the directory "
		    "writable, or free space (deliver --probe)");
		*why = '\0';
		return -1;
	}
	return 0;
}

/*
 * Wait for input, drawing -P, writing metrics and the markers that idle
 * partitions no longer hold back meanwhile; read what
 * came: 0, or -1 with why (a read error or a signal to stop).
 */
static int
wait_input(struct frame_reader *r, struct report *rp, struct markers *mk,
    char *why, size_t whylen)
{
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
	int n, ms, mms;

	for (;;) {
		stop_tell();
		if (stop_now()) {
			snprintf(why, whylen, "stopped by signal %d",
			    stop_now());
			return -1;
		}
		ms = report_timeout_ms(rp);
		if ((mms = markers_timeout_ms(mk)) >= 0 && (ms < 0 || mms < ms))
			ms = mms;
		n = poll(&pfd, 1, ms);
		report_tick(rp);
		if (markers_tick(mk) < 0) {
			*why = '\0';
			return -1;
		}
		if (n > 0)
			break;
		if (n < 0 && errno != EINTR) {
			snprintf(why, whylen, "stdin: poll: %s",
			    strerror(errno));
			return -1;
		}
	}
	if (frame_reader_fill(r) < 0 && errno != EINTR && errno != EAGAIN) {
		snprintf(why, whylen, "stdin: read: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The file:// loop: objects in stdin order, each stored and then acked
 * before the next is read; an object in parts is written to its
 * temporary file as they come, so that only a part is in memory.  An object with n=0 and an empty body (every
 * message of it filtered out) is acked without writing a file: there is
 * nothing to store, and an empty file would only litter the lake.
 */
int
deliver_local(const struct dest *d, const struct options *opt)
{
	struct frame_reader r;
	struct frame f;
	struct object o;
	struct parts_in p;
	struct temp t;
	struct report rp;
	struct local *l;
	struct markers *mk;
	uint64_t ticket;
	char why[1024];
	int rc, failed;

	if ((l = local_open(d->dir, why, sizeof(why))) == NULL) {
		log_error("cannot open the destination", "error=%s todo=%s",
		    why, "make the directory writable, or choose another");
		return EXIT_FAIL;
	}
	if ((mk = markers_open(d, opt, &failed)) == NULL && failed) {
		local_close(l);
		return EXIT_FAIL;
	}
	frame_reader_init(&r, STDIN_FILENO, "stdin");
	frame_init(&f);
	object_init(&o);
	parts_init(&p);
	temp_init(&t);
	report_init(&rp, opt->progress);
	stop_catch();
	local_sweep(l->rootfd, l->root, "");
	log_info("storing", "destination=%s", d->dir);
	while ((rc = object_next(&r, &f, &o, &p, why, sizeof(why))) > 0) {
		if (rc == 1) {
			ticket = markers_begin(mk, &o);
			rc = store_and_ack(l, d, opt, &o, &t, &rp, why,
			    sizeof(why));
			if (rc == 0 && markers_stored(mk, ticket) < 0) {
				*why = '\0';
				rc = -1;
			}
		} else if (rc == 3)
			rc = store_part(l, &p, &f, &t, &rp, why, sizeof(why));
		else
			rc = wait_input(&r, &rp, mk, why, sizeof(why));
		if (rc == 0 && stop_now()) {
			snprintf(why, sizeof(why), "stopped by signal %d",
			    stop_now());
			rc = -1;
		}
		if (rc < 0)
			break;
		report_tick(&rp);
	}
	if (rc < 0 && why[0] != '\0')
		log_error(why, "");
	report_done(&rp, rc == 0);
	report_release(&rp);
	temp_drop(l, &t);	/* an object whose parts did not end */
	parts_release(&p);
	object_release(&o);
	frame_release(&f);
	frame_reader_release(&r);
	markers_close(mk);
	local_close(l);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
