/* Reading a destination's index entries; see index.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "buf.h"
#include "deliver.h"
#include "frame.h"
#include "dest.h"
#include "index.h"
#include "lake.h"
#include "local.h"
#include "manifest.h"
#include "object.h"
#include "report.h"

static void
index_add(struct index *ix, struct manifest *m)
{
	if (ix->n == ix->cap) {
		ix->cap = ix->cap ? 2 * ix->cap : 64;
		ix->m = xreallocarray(ix->m, ix->cap, sizeof(*ix->m));
	}
	ix->m[ix->n++] = m;
}

void
index_free(struct index *ix)
{
	while (ix->n > 0) {
		manifest_release(ix->m[--ix->n]);
		free(ix->m[ix->n]);
	}
	free(ix->m);
	memset(ix, 0, sizeof(*ix));
}

/*
 * The entry listed as key into *mp: 1, 0 if it is no entry or gone
 * meanwhile, -1 if it does not parse (said why).
 */
static int
entry_read(struct lake *lk, const char *key, struct buf *text,
    struct manifest **mp)
{
	const char *name = strrchr(key, '/');
	struct manifest *m;
	struct msgid a, b;
	char why[512];

	name = name ? name + 1 : key;
	if (manifest_name_range(name, &a, &b) < 0)
		return 0;
	buf_reset(text);
	if (lake_read(lk, key, text) != 0)
		return 0;
	m = xmalloc(sizeof(*m));
	manifest_init(m);
	if (manifest_parse(m, text->data, text->len, why, sizeof(why)) < 0) {
		report_error("%s: %s", key, why);
		free(m);
		return -1;
	}
	*mp = m;
	return 1;
}

/* Read and parse the entries listed in l; -1 on the first bad one. */
static int
load_entries(struct lake *lk, const struct lake_list *l, struct index *ix)
{
	struct buf text = BUF_INIT;
	struct manifest *m;
	size_t i;
	int rc = 0;

	for (i = 0; rc >= 0 && i < l->n; i++)
		if ((rc = entry_read(lk, l->e[i].key, &text, &m)) > 0)
			index_add(ix, m);
	buf_release(&text);
	return rc < 0 ? -1 : 0;
}

int
index_load_back(struct lake *lk, const char *topic,
    int (*more)(const struct manifest *, void *), void *arg,
    struct index *ix)
{
	struct lake_list l = { NULL, 0, 0 };
	struct buf sub = BUF_INIT, text = BUF_INIT;
	struct manifest *m;
	size_t i;
	int rc;

	manifest_topic_dir(&sub, topic, strlen(topic));
	rc = lake_list(lk, sub.data, &l);
	for (i = l.n; rc >= 0 && i > 0; i--) {
		if ((rc = entry_read(lk, l.e[i - 1].key, &text, &m)) <= 0)
			continue;
		index_add(ix, m);
		if (!more(m, arg))
			break;
	}
	lake_list_free(&l);
	buf_release(&sub);
	buf_release(&text);
	return rc < 0 ? -1 : 0;
}

int
index_load(struct lake *lk, const char **topics, size_t ntopics,
    struct index *ix)
{
	struct lake_list l = { NULL, 0, 0 };
	struct buf sub = BUF_INIT;
	size_t t = 0;
	int rc = 0;

	if (!lk->remote && lk->rootfd >= 0)
		local_sweep(lk->rootfd, lk->d->dir, INDEX_DIR);
	do {
		buf_reset(&sub);
		if (ntopics > 0)
			manifest_topic_dir(&sub, topics[t], strlen(topics[t]));
		else
			buf_addstr(&sub, INDEX_DIR);
		if ((rc = lake_list(lk, sub.data, &l)) == 0)
			rc = load_entries(lk, &l, ix);
		lake_list_free(&l);
	} while (rc == 0 && ++t < ntopics);
	buf_release(&sub);
	if (rc < 0) {
		index_free(ix);
		return -1;
	}
	if (ix->n > 0)
		qsort(ix->m, ix->n, sizeof(*ix->m), manifest_cmp);
	return 0;
}

int
deliver_index(const struct dest *d, const struct options *opt)
{
	struct lake lk;
	struct index ix = { NULL, 0, 0 };
	struct buf line = BUF_INIT;
	size_t i;
	int status = EXIT_FAIL;

	if (lake_open(&lk, d, opt) < 0)
		return EXIT_FAIL;
	if (index_load(&lk, opt->topics, opt->ntopics, &ix) == 0) {
		for (i = 0; i < ix.n; i++) {
			buf_reset(&line);
			manifest_format(&line, ix.m[i]);
			fwrite(line.data, 1, line.len, stdout);
		}
		status = EXIT_OK;
		if (fflush(stdout) == EOF || ferror(stdout))
			status = stdout_failed(errno);
	}
	buf_release(&line);
	index_free(&ix);
	lake_close(&lk);
	return status;
}

/* The partition of a topic name ("...-partition-N"), else -1. */
static int32_t
partition_of(const char *topic)
{
	const char *p = strrchr(topic, '-'), *errstr;
	long long n;

	if (p == NULL || p - topic < 10 || strncmp(p - 10, "-partition", 10))
		return -1;
	n = strtonum(p + 1, 0, INT32_MAX, &errstr);
	return errstr == NULL ? (int32_t)n : -1;
}

/*
 * --ranges: "R topic=T first=ID last=ID" for each index entry of each
 * --topic, from the entries' names alone (a listing, no object read):
 * what consume --exactly-once needs, at the cost of one request per
 * thousand objects.
 */
int
deliver_ranges(const struct dest *d, const struct options *opt)
{
	struct lake lk;
	struct lake_list l = { NULL, 0, 0 };
	struct buf sub = BUF_INIT, line = BUF_INIT;
	struct msgid a, b;
	size_t t, i;
	int status = EXIT_OK;

	if (lake_open(&lk, d, opt) < 0)
		return EXIT_FAIL;
	if (!lk.remote && lk.rootfd >= 0)
		local_sweep(lk.rootfd, d->dir, INDEX_DIR);
	for (t = 0; status == EXIT_OK && t < opt->ntopics; t++) {
		buf_reset(&sub);
		manifest_topic_dir(&sub, opt->topics[t], strlen(opt->topics[t]));
		if (lake_list(&lk, sub.data, &l) < 0) {
			status = EXIT_FAIL;
			break;
		}
		for (i = 0; i < l.n; i++) {
			const char *name = l.e[i].key + sub.len;

			if (strchr(name, '/') != NULL ||
			    manifest_name_range(name, &a, &b) < 0)
				continue;
			a.partition = b.partition = partition_of(opt->topics[t]);
			buf_reset(&line);
			frame_begin_nobody(&line, 'R');
			frame_add_str(&line, "topic", opt->topics[t]);
			buf_addstr(&line, " first=");
			msgid_format(&line, &a);
			buf_addstr(&line, " last=");
			msgid_format(&line, &b);
			buf_addch(&line, '\n');
			fwrite(line.data, 1, line.len, stdout);
		}
		lake_list_free(&l);
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		status = stdout_failed(errno);
	buf_release(&sub);
	buf_release(&line);
	lake_close(&lk);
	return status;
}
