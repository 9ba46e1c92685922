/* Batches by topic: a small hash table and the open order; see topics.h. */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "pct.h"
#include "topics.h"

/*
 * The length and the last 16 bytes: the names of one run differ mostly in
 * their partition suffix, and a full comparison follows anyway.
 */
static uint64_t
hash_name(const char *s, size_t n)
{
	uint64_t a = 0, b = 0;

	if (n >= 16) {
		memcpy(&a, s + n - 16, 8);
		memcpy(&b, s + n - 8, 8);
	} else if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
	} else
		memcpy(&a, s, n);
	/* MurmurHash3's finalizer: the last bytes are b's high bits. */
	a = a * 0x9e3779b97f4a7c15ULL ^ b ^ n;
	a = (a ^ a >> 33) * 0xff51afd7ed558ccdULL;
	a = (a ^ a >> 33) * 0xc4ceb9fe1a85ec53ULL;
	return a ^ a >> 33;
}

/* The decoded name into t->name (as it is if it cannot be decoded). */
static void
decode_name(struct topics *t, const char *val, size_t n)
{
	buf_reset(&t->name);
	if (pct_decode(&t->name, val, n) < 0) {
		buf_reset(&t->name);
		buf_add(&t->name, val, n);
	}
}

void
topics_init(struct topics *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	t->slot = xreallocarray(NULL, max, sizeof(*t->slot));
	for (t->nbucket = 16; t->nbucket < 2 * max; t->nbucket *= 2)
		;
	t->bucket = xcalloc(t->nbucket, sizeof(*t->bucket));
	buf_init(&t->name, 256);
}

void
topics_release(struct topics *t, void (*fr)(struct slot *))
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		buf_release(&t->slot[i]->name);
		buf_release(&t->slot[i]->raw);
		fr(t->slot[i]);
	}
	free(t->slot);
	free(t->bucket);
	buf_release(&t->name);
	memset(t, 0, sizeof(*t));
}

static struct slot **
chain(const struct topics *t, uint64_t hash)
{
	return &t->bucket[hash & (t->nbucket - 1)];
}

struct slot *
topics_find_decoded(struct topics *t, const char *val, size_t n)
{
	const char *name = val;
	size_t len = n;
	struct slot *s;
	uint64_t h;

	if (memchr(val, '%', n) != NULL) {
		decode_name(t, val, n);
		name = t->name.data;
		len = t->name.len;
	}
	h = hash_name(name, len);
	for (s = *chain(t, h); s != NULL; s = s->hnext)
		if (s->hash == h && s->name.len == len &&
		    memcmp(s->name.data, name, len) == 0)
			break;
	if (s == NULL)
		return NULL;
	if (s->raw.len != n || memcmp(s->raw.data, val, n) != 0) {
		buf_reset(&s->raw);
		buf_add(&s->raw, val, n);
	}
	t->last = s;
	return s;
}

struct slot *
topics_victim(const struct topics *t)
{
	size_t i;

	if (t->n < t->max)
		return NULL;
	for (i = 0; i < t->n; i++)
		if (!t->slot[i]->open)
			return t->slot[i];
	return t->oldest;
}

/* Name s after val and hash it in. */
static void
name_slot(struct topics *t, struct slot *s, const char *val, size_t n)
{
	struct slot **c;

	decode_name(t, val, n);
	buf_reset(&s->name);
	buf_add(&s->name, t->name.data, t->name.len);
	buf_reset(&s->raw);
	buf_add(&s->raw, val, n);
	s->hash = hash_name(s->name.data, s->name.len);
	c = chain(t, s->hash);
	s->hnext = *c;
	*c = s;
	t->last = s;
}

void
topics_add(struct topics *t, struct slot *s, const char *val, size_t n)
{
	if (t->n >= t->max)
		errx(1, "topics_add: no room for another slot");
	memset(s, 0, sizeof(*s));
	buf_init(&s->name, 0);
	buf_init(&s->raw, 0);
	t->slot[t->n++] = s;
	name_slot(t, s, val, n);
}

void
topics_reuse(struct topics *t, struct slot *s, const char *val, size_t n)
{
	struct slot **p;

	if (s->open)
		errx(1, "topics_reuse: the slot's batch is open");
	for (p = chain(t, s->hash); *p != s; p = &(*p)->hnext)
		;
	*p = s->hnext;
	name_slot(t, s, val, n);
}

void
topics_opened(struct topics *t, struct slot *s, double deadline)
{
	s->open = 1;
	s->deadline = deadline;
	s->next = NULL;
	s->prev = t->newest;
	if (t->newest != NULL)
		t->newest->next = s;
	else
		t->oldest = s;
	t->newest = s;
}

void
topics_closed(struct topics *t, struct slot *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		t->oldest = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		t->newest = s->prev;
	s->prev = s->next = NULL;
	s->open = 0;
}
