/* What a record's key takes from the record; see keyval.h. */
#include <string.h>

#include "dec.h"
#include "json.h"
#include "key.h"
#include "keyval.h"
#include "record.h"
#include "utctime.h"

/* The latest time a key may hold: 9999-12-31T23:59:59.999Z. */
#define MAX_KEY_MS	253402300799999ULL

/* Whether the payload is JSON that json_get may search, checked once. */
static int
payload_json(const struct msg *m, int *json)
{
	if (*json < 0)
		*json = !m->null && json_valid(m->body, m->len);
	return *json;
}

static int
get(const struct msg *m, const char *path, size_t plen, int *json,
    struct json_val *v)
{
	return payload_json(m, json) &&
	    json_get(m->body, m->len, path, plen, v);
}

/* The time at the member: 0 with *ms set, or -1 (none, or not a time). */
static int
member_time(const struct msg *m, const struct keytime *kt, int *json,
    uint64_t *ms)
{
	struct json_val v;
	int64_t t;
	uint64_t u;

	if (!get(m, kt->path, kt->pathlen, json, &v))
		return -1;
	if (v.kind == JV_NUMBER) {
		if (dec_u64(v.p, v.n, MAX_KEY_MS, &u) < 0)
			return -1;
		*ms = u;
		return 0;
	}
	if (v.kind != JV_STRING || v.n < 2 ||
	    rfc3339_ms(v.p + 1, v.n - 2, &t) < 0 || t < 0 ||
	    (uint64_t)t > MAX_KEY_MS)
		return -1;
	*ms = (uint64_t)t;
	return 0;
}

static void
add_value(struct keyval *kv, const struct msg *m, const struct key_part *p,
    int *json)
{
	struct json_val v;

	if (!get(m, p->lit, p->len, json, &v))
		v.kind = JV_MISSING;
	switch (v.kind) {
	case JV_STRING:
		buf_reset(&kv->scratch);
		if (json_decode_string(&kv->scratch, v.p, v.n) == 0) {
			key_field_add(&kv->fields, kv->scratch.data,
			    kv->scratch.len);
			break;
		}
		/* FALLTHROUGH */
	case JV_MISSING:
	case JV_NULL:
	case JV_OBJECT:
	case JV_ARRAY:
		key_field_add(&kv->fields, NULL, 0);
		break;
	case JV_FALSE:
	case JV_TRUE:
	case JV_NUMBER:
		key_field_add(&kv->fields, v.p, v.n);
		break;
	}
}

void
keyval_make(struct keyval *kv, const struct keytime *kt,
    const struct key_tmpl *t, const struct msg *m)
{
	int json = -1;		/* not yet checked */
	size_t i;

	if (kt->event && m->has_et)
		kv->ms = m->et;
	else if (kt->path == NULL || member_time(m, kt, &json, &kv->ms) < 0)
		kv->ms = m->pt;
	buf_reset(&kv->fields);
	for (i = 0; t->nfields > 0 && i < t->n; i++)
		if (t->parts[i].var == KV_FIELD)
			add_value(kv, m, &t->parts[i], &json);
}

void
keyval_free(struct keyval *kv)
{
	buf_release(&kv->fields);
	buf_release(&kv->scratch);
}
