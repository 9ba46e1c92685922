/*
 * deliver --audit: check a lake written with --exactly-once against its
 * index (manifest.h).  For each topic (partition), its entries in message
 * id order must form one chain: no two ranges overlap (a message stored
 * twice), and each entry's prev= is the last id of the entry before it
 * (else an object is missing: a gap).  Each entry's object must be there
 * with the size and CRC-64 it was stored with, read back in full.
 * Objects that no entry names are reported too, as notes: a lake may hold
 * objects written without --exactly-once.
 *
 * One line per finding on stdout, then a summary line; exit 0 when there
 * is no gap, overlap, missing or damaged object, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "deliver.h"
#include "digest.h"
#include "index.h"
#include "lake.h"
#include "manifest.h"
#include "marker.h"
#include "msgid.h"
#include "object.h"
#include "report.h"

struct tally {
	unsigned long long objects, messages, topics;
	unsigned long long gaps, overlaps, missing, damaged, unindexed;
};

static const char *
id_str(struct buf *b, const struct msgid *id)
{
	buf_reset(b);
	msgid_format(b, id);
	return b->data;
}

static int
same_topic(const struct manifest *a, const struct manifest *b)
{
	return a->topic.len == b->topic.len &&
	    memcmp(a->topic.data, b->topic.data, a->topic.len) == 0;
}

/* The chain of one topic's entries, m[0..n) (sorted by first id). */
static void
check_chain(struct manifest **m, size_t n, struct tally *t)
{
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	size_t i;

	t->topics++;
	if (m[0]->has_prev) {
		/* the object the first one follows is not in the lake */
		printf("gap topic=%s before=%s missing_last=%s\n",
		    m[0]->topic.data, id_str(&a, &m[0]->first),
		    id_str(&b, &m[0]->prev));
		t->gaps++;
	}
	for (i = 1; i < n; i++) {
		const struct manifest *p = m[i - 1], *x = m[i];

		if (msgid_cmp(&x->first, &p->last) <= 0) {
			printf("overlap topic=%s key=%s key=%s from=%s\n",
			    x->topic.data, p->key.data, x->key.data,
			    id_str(&a, &x->first));
			t->overlaps++;
		} else if (x->has_prev && msgid_cmp(&x->prev, &p->last) != 0) {
			printf("gap topic=%s after=%s before=%s "
			    "missing_last=%s\n", x->topic.data,
			    id_str(&a, &p->last), id_str(&b, &x->first),
			    id_str(&c, &x->prev));
			t->gaps++;
		}
	}
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
}

/* Read the object of entry m back; count it missing or damaged. */
static void
check_object(struct lake *lk, const struct manifest *m, struct tally *t)
{
	uint64_t size, crc;
	int rc;

	if ((rc = lake_sum(lk, m->key.data, &size, &crc)) == 1) {
		printf("missing key=%s n=%llu\n", m->key.data,
		    (unsigned long long)m->n);
		t->missing++;
		return;
	}
	if (rc < 0) {
		printf("unreadable key=%s\n", m->key.data);
		t->damaged++;
		return;
	}
	if (size != m->size || crc != m->crc) {
		printf("damaged key=%s size=%llu crc64=%llu stored_size=%llu "
		    "stored_crc64=%llu\n", m->key.data, (unsigned long long)size,
		    (unsigned long long)crc, (unsigned long long)m->size,
		    (unsigned long long)m->crc);
		t->damaged++;
	}
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Objects outside _lakepipe/ that no entry names, markers aside. */
static int
check_unindexed(struct lake *lk, const struct index *ix, struct tally *t)
{
	struct lake_list l = { NULL, 0, 0 };
	char **keys = xreallocarray(NULL, ix->n + 1, sizeof(*keys));
	size_t i;
	int rc = -1;

	for (i = 0; i < ix->n; i++)
		keys[i] = ix->m[i]->key.data;
	if (ix->n > 0)
		qsort(keys, ix->n, sizeof(*keys), str_cmp);
	if (lake_list(lk, "", &l) < 0)
		goto out;
	for (i = 0; i < l.n; i++) {
		if (strncmp(l.e[i].key, "_lakepipe/", 10) == 0 ||
		    marker_key(l.e[i].key) ||
		    (ix->n > 0 && bsearch(&l.e[i].key, keys, ix->n,
		    sizeof(*keys), str_cmp) != NULL))
			continue;
		printf("note unindexed key=%s\n", l.e[i].key);
		t->unindexed++;
	}
	rc = 0;
out:
	lake_list_free(&l);
	free(keys);
	return rc;
}

int
deliver_audit(const struct dest *d, const struct options *opt)
{
	struct lake lk;
	struct index ix = { NULL, 0, 0 };
	struct tally t;
	size_t i, start;
	int status = EXIT_FAIL;

	memset(&t, 0, sizeof(t));
	if (lake_open(&lk, d, opt) < 0)
		return EXIT_FAIL;
	if (index_load(&lk, opt->topics, opt->ntopics, &ix) < 0)
		goto out;
	for (i = 0; i < ix.n; i++) {
		check_object(&lk, ix.m[i], &t);
		t.objects++;
		t.messages += ix.m[i]->n;
	}
	for (start = 0; start < ix.n; start = i) {
		for (i = start + 1; i < ix.n && same_topic(ix.m[start],
		    ix.m[i]); i++)
			;
		check_chain(ix.m + start, i - start, &t);
	}
	if (opt->ntopics == 0 && check_unindexed(&lk, &ix, &t) < 0)
		goto out;
	printf("audit: %llu objects, %llu messages, %llu partitions; "
	    "%llu gaps, %llu overlaps, %llu missing, %llu damaged; "
	    "%llu unindexed\n", t.objects, t.messages, t.topics, t.gaps,
	    t.overlaps, t.missing, t.damaged, t.unindexed);
	status = t.gaps + t.overlaps + t.missing + t.damaged > 0 ?
	    EXIT_FAIL : EXIT_OK;
	if (fflush(stdout) == EOF || ferror(stdout))
		status = stdout_failed(errno);
out:
	index_free(&ix);
	lake_close(&lk);
	return status;
}
