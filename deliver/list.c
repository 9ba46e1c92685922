/*
 * deliver --list and --cat: read back what is stored under the
 * destination, for `lakepipe test` and the lake audit.  See deliver.h.
 */
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
#include "local.h"
#include "log.h"
#include "object.h"
#include "report.h"
#include "store.h"
#include "upload.h"
#include "xml.h"

/* One listing line, KEY TAB SIZE TAB MTIME. */
struct entry {
	char		*key;
	unsigned long long size;
	long long	 mtime;
};

struct listing {
	struct entry	*e;
	size_t		 n, cap;
};

static void
listing_add(struct listing *l, const char *key, size_t keylen,
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

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key,
	    ((const struct entry *)b)->key);
}

/* Print in key order (as a store lists) and free; the exit status. */
static int
listing_print(struct listing *l)
{
	size_t i;
	int status = EXIT_OK;

	if (l->n > 0)		/* qsort(NULL, 0, ...) is undefined */
		qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
	for (i = 0; i < l->n; i++) {
		printf("%s\t%llu\t%lld\n", l->e[i].key, l->e[i].size,
		    l->e[i].mtime);
		free(l->e[i].key);
	}
	free(l->e);
	if (fflush(stdout) == EOF || ferror(stdout))
		status = stdout_failed(errno);
	return status;
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
walk(int rootfd, const char *root, struct buf *rel, struct listing *l)
{
	DIR *dir;
	struct dirent *de;
	struct stat st;
	size_t len = rel->len;
	int rc = 0;

	if ((dir = local_opendir(rootfd, rel->data)) == NULL) {
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
			listing_add(l, rel->data, rel->len,
			    (unsigned long long)st.st_size,
			    (long long)st.st_mtime);
	}
	closedir(dir);
	buf_setlen(rel, len);
	return rc;
}

static int
list_local(const struct dest *d)
{
	struct listing l = { NULL, 0, 0 };
	struct buf rel = BUF_INIT;
	int fd, rc;

	if ((fd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT) {
			report_error("%s: %s", d->dir, strerror(errno));
			return EXIT_FAIL;
		}
		return EXIT_OK;		/* nothing stored yet */
	}
	buf_addstr(&rel, "");
	rc = walk(fd, d->dir, &rel, &l);
	close(fd);
	buf_release(&rel);
	if (rc < 0) {
		while (l.n > 0)
			free(l.e[--l.n].key);
		free(l.e);
		return EXIT_FAIL;
	}
	return listing_print(&l);
}

/* "2026-12-01T08:00:00.000Z" as seconds since the epoch; -1 if not. */
static long long
iso8601_seconds(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		return -1;
	return (long long)timegm(&tm);
}

/* The <Contents> of one ListObjectsV2 page into l; keys minus prefix. */
static void
take_page(const struct buf *page, size_t plen, struct listing *l)
{
	const char *p = page->data, *end = page->data + page->len, *close;
	struct buf key = BUF_INIT, size = BUF_INIT, mtime = BUF_INIT;

	while ((p = memmem(p, (size_t)(end - p), "<Contents>", 10)) != NULL &&
	    (close = memmem(p, (size_t)(end - p), "</Contents>", 11)) != NULL) {
		size_t n = (size_t)(close - p);

		buf_reset(&key);
		buf_reset(&size);
		buf_reset(&mtime);
		if (xml_text(p, n, "Key", &key) && key.len > plen &&
		    xml_text(p, n, "Size", &size) &&
		    xml_text(p, n, "LastModified", &mtime))
			listing_add(l, key.data + plen, key.len - plen,
			    strtoull(size.data, NULL, 10),
			    iso8601_seconds(mtime.data));
		p = close + 11;
	}
	buf_release(&key);
	buf_release(&size);
	buf_release(&mtime);
}

static int
list_remote(struct store *s, const struct options *opt)
{
	struct listing l = { NULL, 0, 0 };
	struct buf token = BUF_INIT;
	struct sign_kv q[3];
	struct target o;
	enum req_verdict v;
	int more;

	do {
		q[0] = (struct sign_kv){ "list-type", "2" };
		q[1] = (struct sign_kv){ "prefix", s->d->prefix };
		q[2] = (struct sign_kv){ "continuation-token", token.data };
		target_begin(&o, s, OP_LIST, "", NULL, 0);
		o.r->query = q;
		o.r->nquery = token.len ? 3 : 2;
		v = store_run(s, o.r, opt->retries, 0);
		if (v != V_OK) {
			report_error("%s: %s", s->d->base, o.r->why);
			target_end(&o);
			buf_release(&token);
			while (l.n > 0)
				free(l.e[--l.n].key);
			free(l.e);
			return EXIT_FAIL;
		}
		take_page(&o.r->rbody, strlen(s->d->prefix), &l);
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
	return listing_print(&l);
}

/* Copy fd to stdout; its length must stay st_size. */
static int
cat_local(const struct dest *d, const char *key)
{
	struct buf path = BUF_INIT;
	char chunk[65536];
	struct stat st;
	unsigned long long total = 0;
	ssize_t n;
	int fd, status = EXIT_FAIL;

	buf_addf(&path, "%s%s", d->dir, key);
	if ((fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    fstat(fd, &st) < 0) {
		report_error("%s: %s", path.data, errno == ENOENT ?
		    "no such object (see deliver --list)" : strerror(errno));
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (write_all(STDOUT_FILENO, chunk, (size_t)n) < 0) {
			status = stdout_failed(errno);
			goto out;
		}
		total += (unsigned long long)n;
	}
	if (n < 0)
		report_error("%s: read: %s", path.data, strerror(errno));
	else if (total != (unsigned long long)st.st_size)
		report_error("%s: read %llu bytes, but it holds %lld "
		    "(changed while read?)", path.data, total,
		    (long long)st.st_size);
	else
		status = EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	buf_release(&path);
	return status;
}

static int
cat_remote(struct store *s, const struct options *opt, const char *key)
{
	struct buf full = BUF_INIT;
	struct target o;
	int status = EXIT_OK;

	buf_addf(&full, "%s%s", s->d->prefix, key);
	target_begin(&o, s, OP_GET, full.data, NULL, 0);
	o.r->sink = STDOUT_FILENO;
	if (store_run(s, o.r, opt->retries, 0) != V_OK) {
		if (o.r->sink_errno != 0)
			status = stdout_failed(o.r->sink_errno);
		else {
			report_error("%s: %s%s", full.data, o.r->why,
			    o.r->status == 404 ? " (see deliver --list)" : "");
			status = EXIT_FAIL;
		}
	}
	target_end(&o);
	buf_release(&full);
	return status;
}

int
deliver_list(const struct dest *d, const struct options *opt)
{
	struct store s;
	char why[1024];
	int status;

	if (d->kind == DEST_FILE)
		return list_local(d);
	if (store_init(&s, d, opt, why, sizeof(why)) < 0) {
		report_error("%s", why);
		status = EXIT_FAIL;
	} else
		status = list_remote(&s, opt);
	store_release(&s);
	return status;
}

int
deliver_cat(const struct dest *d, const struct options *opt, const char *key)
{
	struct store s;
	char why[1024];
	int status;

	if (d->kind == DEST_FILE)
		return cat_local(d, key);
	if (store_init(&s, d, opt, why, sizeof(why)) < 0) {
		report_error("%s", why);
		status = EXIT_FAIL;
	} else
		status = cat_remote(&s, opt, key);
	store_release(&s);
	return status;
}
