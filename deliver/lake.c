/* Reading back what a destination holds; see lake.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "deliver.h"
#include "dest.h"
#include "lake.h"
#include "local.h"
#include "report.h"
#include "store.h"
#include "upload.h"
#include "xml.h"

int
lake_open(struct lake *lk, const struct dest *d, const struct options *opt)
{
	char why[1024];

	memset(lk, 0, sizeof(*lk));
	lk->d = d;
	lk->opt = opt;
	lk->rootfd = -1;
	if (d->kind == DEST_FILE) {
		lk->rootfd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (lk->rootfd < 0 && errno != ENOENT) {
			report_error("%s: %s", d->dir, strerror(errno));
			return -1;
		}
		return 0;	/* ENOENT: nothing stored yet */
	}
	lk->remote = 1;
	if (store_init(&lk->s, d, opt, why, sizeof(why)) < 0) {
		report_error("%s", why);
		store_release(&lk->s);
		return -1;
	}
	return 0;
}

void
lake_close(struct lake *lk)
{
	if (lk->remote)
		store_release(&lk->s);
	else if (lk->rootfd >= 0)
		close(lk->rootfd);
	lk->rootfd = -1;
	lk->remote = 0;
}

static void
list_add(struct lake_list *l, const char *key, size_t keylen,
    unsigned long long size, long long mtime)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->e = xreallocarray(l->e, l->cap, sizeof(*l->e));
	}
	l->e[l->n].key = xstrndup(key, keylen);
	l->e[l->n].size = size;
	l->e[l->n].mtime = mtime;
	l->n++;
}

void
lake_list_free(struct lake_list *l)
{
	while (l->n > 0)
		free(l->e[--l->n].key);
	free(l->e);
	memset(l, 0, sizeof(*l));
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lake_entry *)a)->key,
	    ((const struct lake_entry *)b)->key);
}

/* deliver's temporary files: ".NAME.PID.SERIAL.tmp" (see local.c). */
static int
is_temporary(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' && n > 4 && strcmp(name + n - 4, ".tmp") == 0;
}

/* Walk rel (below root, "" for root itself) into l; -1 on an error. */
static int
walk(int rootfd, const char *root, struct buf *rel, struct lake_list *l)
{
	DIR *dir;
	struct dirent *de;
	struct stat st;
	size_t len = rel->len;
	int rc = 0;

	if ((dir = local_opendir(rootfd, rel->data)) == NULL) {
		if (errno == ENOENT)
			return 0;	/* gone, or not made yet */
		report_error("%s%s: %s", root, rel->data, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 || is_temporary(de->d_name))
			continue;
		buf_setlen(rel, len);
		buf_addstr(rel, de->d_name);
		if (fstatat(rootfd, rel->data, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)	/* gone meanwhile */
				continue;
			report_error("%s%s: %s", root, rel->data,
			    strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			buf_addch(rel, '/');
			rc = walk(rootfd, root, rel, l);
		} else if (S_ISREG(st.st_mode))
			list_add(l, rel->data, rel->len,
			    (unsigned long long)st.st_size,
			    (long long)st.st_mtime);
	}
	closedir(dir);
	buf_setlen(rel, len);
	return rc;
}

static void
add_entry(void *arg, const char *key, size_t keylen, unsigned long long size,
    long long mtime)
{
	list_add(arg, key, keylen, size, mtime);
}

/* ListObjectsV2 pages of prefix+sub, following continuation tokens. */
static int
list_remote(struct store *s, const struct options *opt, const char *sub,
    struct lake_list *l)
{
	struct buf token = BUF_INIT, prefix = BUF_INIT;
	struct sign_kv q[3];
	struct target o;
	int more, rc = 0;

	buf_addf(&prefix, "%s%s", s->d->prefix, sub);
	do {
		q[0] = (struct sign_kv){ "list-type", "2" };
		q[1] = (struct sign_kv){ "prefix", prefix.data };
		q[2] = (struct sign_kv){ "continuation-token", token.data };
		target_begin(&o, s, OP_LIST, "", NULL, 0);
		o.r->query = q;
		o.r->nquery = token.len ? 3 : 2;
		if (store_run(s, o.r, opt->retries, 0) != V_OK) {
			report_error("%s: %s", s->d->base, o.r->why);
			target_end(&o);
			rc = -1;
			break;
		}
		xml_each_contents(o.r->rbody.data, o.r->rbody.len,
		    strlen(s->d->prefix), add_entry, l);
		buf_reset(&token);
		more = xml_text(o.r->rbody.data, o.r->rbody.len, "IsTruncated",
		    &token) && strcmp(token.data, "true") == 0;
		buf_reset(&token);
		if (more && (!xml_text(o.r->rbody.data, o.r->rbody.len,
		    "NextContinuationToken", &token) || token.len == 0))
			more = 0;
		target_end(&o);
	} while (more);
	buf_release(&token);
	buf_release(&prefix);
	return rc;
}

int
lake_list(struct lake *lk, const char *sub, struct lake_list *l)
{
	struct buf rel = BUF_INIT;
	const char *slash = strrchr(sub, '/');
	size_t i, n, keep;
	int rc;

	if (lk->remote)
		rc = list_remote(&lk->s, lk->opt, sub, l);
	else if (lk->rootfd < 0)
		rc = 0;
	else {
		/* walk the directory part of sub, keep what starts with sub */
		if (slash != NULL)
			buf_add(&rel, sub, slash - sub + 1);
		else
			buf_addstr(&rel, "");
		n = l->n;
		rc = walk(lk->rootfd, lk->d->dir, &rel, l);
		for (i = keep = n; i < l->n; i++) {
			if (strncmp(l->e[i].key, sub, strlen(sub)) == 0)
				l->e[keep++] = l->e[i];
			else
				free(l->e[i].key);
		}
		l->n = keep;
		buf_release(&rel);
	}
	if (rc < 0) {
		lake_list_free(l);
		return -1;
	}
	if (l->n > 0)		/* qsort(NULL, 0, ...) is undefined */
		qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
	return 0;
}

/* Copy the file key to fd (or append to out); its length must stay. */
static int
copy_local(struct lake *lk, const char *key, int fd, struct buf *out)
{
	char chunk[65536];
	struct stat st;
	unsigned long long total = 0;
	ssize_t n;
	int in, rc = -1;

	if (lk->rootfd < 0 || (in = openat(lk->rootfd, key, O_RDONLY |
	    O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (lk->rootfd < 0 || errno == ENOENT)
			return 1;
		report_error("%s%s: %s", lk->d->dir, key, strerror(errno));
		return -1;
	}
	if (fstat(in, &st) < 0) {
		report_error("%s%s: %s", lk->d->dir, key, strerror(errno));
		goto out;
	}
	while ((n = read(in, chunk, sizeof(chunk))) > 0) {
		if (out != NULL)
			buf_add(out, chunk, (size_t)n);
		else if (write_all(fd, chunk, (size_t)n) < 0) {
			rc = -2 - errno;
			goto out;
		}
		total += (unsigned long long)n;
	}
	if (n < 0)
		report_error("%s%s: read: %s", lk->d->dir, key,
		    strerror(errno));
	else if (total != (unsigned long long)st.st_size)
		report_error("%s%s: read %llu bytes, but it holds %lld "
		    "(changed while read?)", lk->d->dir, key, total,
		    (long long)st.st_size);
	else
		rc = 0;
out:
	close(in);
	return rc;
}

/*
 * GET into fd (fd >= 0) or out; a failed write to fd is -2 - errno.  The
 * bytes' count and CRC-64 in *size and *crc when not NULL.
 */
static int
copy_remote(struct lake *lk, const char *key, int fd, struct buf *out,
    uint64_t *size, uint64_t *crc)
{
	struct buf full = BUF_INIT;
	struct target o;
	int rc = 0;

	buf_addf(&full, "%s%s", lk->d->prefix, key);
	target_begin(&o, &lk->s, OP_GET, full.data, NULL, 0);
	o.r->sink = fd;
	if (store_run(&lk->s, o.r, lk->opt->retries, 0) != V_OK) {
		if (o.r->sink_errno != 0)
			rc = -2 - o.r->sink_errno;
		else if (o.r->status == 404)
			rc = 1;
		else {
			report_error("%s: %s", full.data, o.r->why);
			rc = -1;
		}
	} else if (out != NULL && o.r->got != o.r->rbody.len) {
		report_error("%s: larger than %zu bytes: not an index entry",
		    full.data, o.r->rbody.len);
		rc = -1;
	} else if (out != NULL)
		buf_add(out, o.r->rbody.data, o.r->rbody.len);
	if (size != NULL) {
		*size = o.r->got;
		*crc = o.r->gotcrc;
	}
	target_end(&o);
	buf_release(&full);
	return rc;
}

int
lake_read(struct lake *lk, const char *key, struct buf *out)
{
	return lk->remote ? copy_remote(lk, key, -1, out, NULL, NULL) :
	    copy_local(lk, key, -1, out);
}

int
lake_copy(struct lake *lk, const char *key, int fd)
{
	int rc = lk->remote ? copy_remote(lk, key, fd, NULL, NULL, NULL) :
	    copy_local(lk, key, fd, NULL);

	if (rc <= -2) {
		errno = -2 - rc;
		return -2;
	}
	return rc;
}

int
lake_sum(struct lake *lk, const char *key, uint64_t *size, uint64_t *crc)
{
	int fd, rc;

	if (lk->remote) {
		if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) {
			report_error("/dev/null: %s", strerror(errno));
			return -1;
		}
		rc = copy_remote(lk, key, fd, NULL, size, crc);
		close(fd);
		return rc <= -2 ? -1 : rc;
	}
	if (lk->rootfd < 0)
		return 1;
	if (local_file_sum(lk->rootfd, key, size, crc) == 0)
		return 0;
	if (errno == ENOENT)
		return 1;
	report_error("%s%s: %s", lk->d->dir, key, strerror(errno));
	return -1;
}
