/* Message frames to jsonl or raw records; see record.h, transform(1). */
#include <string.h>

#include "buf.h"
#include "dec.h"
#include "frame.h"
#include "json.h"
#include "msgid.h"
#include "pct.h"
#include "record.h"
#include "utctime.h"

#define ADD_LIT(b, s)	buf_add((b), (s), sizeof(s) - 1)

static int
name_is(const struct frame_field *fl, const char *s, size_t n)
{
	return fl->namelen == n && memcmp(fl->name, s, n) == 0;
}

/* A p.NAME field: one of the message's properties. */
static int
is_property(const struct frame_field *fl)
{
	return fl->namelen >= 2 && fl->name[0] == 'p' && fl->name[1] == '.';
}

/*
 * An unsigned decimal value (never percent-encoded: digits only).  It is
 * in f's header line, all of which may be read: a short one at its end
 * is still taken eight bytes at a time.
 */
static int
field_u64(const struct frame *f, const struct frame_field *fl, uint64_t *v)
{
	return dec_u64_in(f->hdr, fl->val, fl->vallen, UINT64_MAX, v);
}

/*
 * Whether a and b hold the same n bytes: two words each when n is 8 to 16
 * (a time in ms is 13 digits), not a call to memcmp.
 */
static int
same_text(const char *a, const char *b, size_t n)
{
	uint64_t a0, a1, b0, b1;

	if (n < 8 || n > 16)
		return memcmp(a, b, n) == 0;
	memcpy(&a0, a, 8);
	memcpy(&a1, a + n - 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + n - 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/*
 * The publish time: the messages of a Pulsar batch share theirs, so the
 * last one's text and value are kept, and the text compared first.
 */
static int
field_pt(const struct frame *f, const struct frame_field *fl, uint64_t *v)
{
	static _Thread_local struct {
		size_t		n;	/* 0: none yet */
		uint64_t	v;
		char		text[DEC_U64_MAX_DIGITS];
	} last;

	if (fl->vallen == last.n && last.n > 0 &&
	    same_text(fl->val, last.text, last.n)) {
		*v = last.v;
		return 0;
	}
	if (field_u64(f, fl, v) < 0)
		return -1;
	last.n = 0;
	if (fl->vallen <= sizeof(last.text)) {
		memcpy(last.text, fl->val, fl->vallen);
		last.n = fl->vallen;
		last.v = *v;
	}
	return 0;
}

#define BAD_SEQ	"message frame without a valid seq="
#define BAD_PT	"message frame without a valid pt= (publish time, ms)"
#define BAD_ID	"message frame without a valid id=ledger:entry:partition:batch"

/* What msg_parse takes from a field: 1 seq=, 2 pt=, 0 others. */
enum { TOOK_OTHER, TOOK_SEQ, TOOK_PT };

static int
msg_seq(struct msg *m, const struct frame *f, const struct frame_field *fl,
    const char **why)
{
	if (field_u64(f, fl, &m->seq) < 0) {
		*why = BAD_SEQ;
		return -1;
	}
	m->seq_field = fl;
	return TOOK_SEQ;
}

/*
 * Take field fl of f into m: what it was (TOOK_), or -1 with why set
 * when its value is malformed.
 */
static int
msg_field(struct msg *m, const struct frame *f, const struct frame_field *fl,
    const char **why)
{
	if (name_is(fl, "seq", 3))
		return msg_seq(m, f, fl, why);
	else if (name_is(fl, "id", 2))
		m->id = fl;
	else if (name_is(fl, "topic", 5))
		m->topic = fl;
	else if (name_is(fl, "pt", 2)) {
		if (field_pt(f, fl, &m->pt) < 0) {
			*why = BAD_PT;
			return -1;
		}
		return TOOK_PT;
	} else if (name_is(fl, "et", 2)) {
		if (field_u64(f, fl, &m->et) < 0) {
			*why = "message frame with a malformed et=";
			return -1;
		}
		m->has_et = 1;
	} else if (name_is(fl, "key", 3))
		m->key = fl;
	else if (name_is(fl, "rc", 2)) {
		if (field_u64(f, fl, &m->rc) < 0) {
			*why = "message frame with a malformed rc=";
			return -1;
		}
	} else if (name_is(fl, "null", 4))
		m->null = fl->vallen == 1 && fl->val[0] == '1';
	else if (name_is(fl, "cut", 3))
		m->cut = fl->vallen == 1 && fl->val[0] == '1';
	else if (name_is(fl, "prev", 4))
		m->prev = fl;
	else if (is_property(fl))
		m->has_props = 1;
	return TOOK_OTHER;
}

static int
msg_id(struct msg *m, const char **why)
{
	if (msgid_parse(&m->mid, m->id->val, m->id->vallen) < 0) {
		*why = BAD_ID;
		return -1;
	}
	return 0;
}

/*
 * The frame has the fields of the last one, m's (frame.h): only those
 * whose values changed are taken again.  The field pointers stay: the
 * frame's array holds the same fields in the same places.
 */
static int
msg_changed(struct msg *m, const struct frame *f, const char **why)
{
	uint64_t c;
	int id = 0;

	for (c = f->changed; c != 0; c &= c - 1) {
		const struct frame_field *fl = &f->fields[__builtin_ctzll(c)];

		if (fl == m->id)	/* the two that change most */
			id = 1;
		else if ((fl == m->seq_field ? msg_seq(m, f, fl, why) :
		    msg_field(m, f, fl, why)) < 0)
			return -1;
	}
	return id ? msg_id(m, why) : 0;
}

int
msg_parse(struct msg *m, const struct frame *f, const char **why)
{
	int kept = f->same && m->f == f && m->parsed + 1 == f->parsed;
	int has_seq = 0, has_pt = 0, took;
	size_t i;

	if (!kept) {
		memset(m, 0, sizeof(*m));
		m->f = f;
	}
	/*
	 * A frame without a length has no body (f->body NULL): an empty
	 * payload, "" so that the JSON and base64 code never does
	 * arithmetic on, or memcpy from, a null pointer (undefined).
	 */
	m->body = f->has_body ? f->body : "";
	m->len = f->has_body ? f->len : 0;
	if (kept) {
		m->parsed = f->parsed;
		return msg_changed(m, f, why);
	}
	for (i = 0; i < f->nfields; i++) {
		if ((took = msg_field(m, f, &f->fields[i], why)) < 0)
			return -1;
		has_seq |= took == TOOK_SEQ;
		has_pt |= took == TOOK_PT;
	}
	if (!has_seq) {
		*why = BAD_SEQ;
		return -1;
	}
	if (!has_pt) {
		*why = BAD_PT;
		return -1;
	}
	if (m->id == NULL) {
		*why = BAD_ID;
		return -1;
	}
	if (msg_id(m, why) < 0)
		return -1;
	if (m->topic == NULL || m->topic->vallen == 0) {
		*why = "message frame without topic=";
		return -1;
	}
	m->parsed = f->parsed;
	return 0;
}

void
record_decode(struct buf *out, const char *v, size_t n)
{
	size_t start = out->len;

	if (memchr(v, '%', n) == NULL || pct_decode(out, v, n) < 0) {
		buf_setlen(out, start);
		buf_add(out, v, n);
	}
}

/* A header value as a JSON string, decoded only when it holds a '%'. */
static void
add_value(struct buf *out, const char *v, size_t n, struct buf *scratch)
{
	if (memchr(v, '%', n) == NULL) {
		json_add_string(out, v, n, 0);
		return;
	}
	buf_reset(scratch);
	if (pct_decode(scratch, v, n) < 0) {
		/* a property name's bad escape: keep its bytes as they are */
		buf_reset(scratch);
		buf_add(scratch, v, n);
	}
	json_add_string(out, scratch->data, scratch->len, 0);
}

/*
 * The members a run of records shares, from the end of the message id to
 * the publish time: the topic, partition and publish time of a Pulsar
 * partition's batch.  Their text (the topic percent-decoded and escaped,
 * the time formatted twice) is the dearest part of the envelope, so the
 * last one is kept and copied while it lasts.
 */
static _Thread_local struct {
	size_t	n, len;		/* len 0: none yet */
	int32_t	partition;
	uint64_t pt;
	char	raw[256];
	/* the names (62), the topic quoted with each byte as \u00XX, a
	   partition, the two times */
	char	text[62 + 256 * 6 + 2 + 11 + 24 + 20];
} shared;

/* Whether m's shared members are the ones kept. */
static int
shared_kept(const struct msg *m)
{
	size_t n = m->topic->vallen;

	return shared.len > 0 && shared.pt == m->pt &&
	    shared.partition == m->mid.partition && shared.n == n &&
	    memcmp(shared.raw, m->topic->val, n) == 0;
}

static void
add_shared(struct buf *out, const struct msg *m, struct buf *scratch)
{
	const char *v = m->topic->val;
	size_t n = m->topic->vallen, start = out->len;

	if (shared_kept(m)) {
		buf_add(out, shared.text, shared.len);
		return;
	}
	ADD_LIT(out, "\",\"topic\":");
	add_value(out, v, n, scratch);
	ADD_LIT(out, ",\"partition\":");
	buf_addi64(out, m->mid.partition);
	ADD_LIT(out, ",\"publish_time\":\"");
	utc_add_iso(out, m->pt);
	ADD_LIT(out, "\",\"publish_time_ms\":");
	buf_addu64(out, m->pt);
	shared.len = 0;
	if (n <= sizeof(shared.raw) && out->len - start <= sizeof(shared.text)) {
		memcpy(shared.raw, v, n);
		shared.n = n;
		shared.partition = m->mid.partition;
		shared.pt = m->pt;
		shared.len = out->len - start;
		memcpy(shared.text, out->data + start, shared.len);
	}
}

void
record_add_properties(struct buf *out, const struct frame *f,
    struct buf *scratch)
{
	const struct frame_field *fl;
	size_t i;
	int first = 1;

	buf_addch(out, '{');
	for (i = 0; i < f->nfields; i++) {
		fl = &f->fields[i];
		if (!is_property(fl))
			continue;
		if (!first)
			buf_addch(out, ',');
		first = 0;
		add_value(out, fl->name + 2, fl->namelen - 2, scratch);
		buf_addch(out, ':');
		add_value(out, fl->val, fl->vallen, scratch);
	}
	buf_addch(out, '}');
}

/* The members every record has, before and after the shared ones. */
#define ID_MEMBER	"{\"message_id\":\""
#define JSON_PAYLOAD	",\"payload_encoding\":\"json\",\"payload_size\":"
#define PAYLOAD		",\"payload\":"
#define RECORD_END	"}\n"
/* The usual record's: no event time, key, properties or redeliveries. */
#define USUAL_MEMBERS	",\"event_time\":null,\"event_time_ms\":null," \
			"\"key\":null,\"properties\":{},\"redelivery_count\":0"

/*
 * The payload, last in the record so that a reader can cut the verbatim
 * JSON out of the line: it is the payload_size bytes before the final '}'.
 */
static void
add_payload(struct buf *out, const struct msg *m, int base64, int json)
{
	size_t start = out->len;

	if (m->null) {
		ADD_LIT(out, ",\"payload_encoding\":\"null\","
		    "\"payload_size\":0,\"payload\":null");
		return;
	}
	if (base64)
		goto base64;
	if (json) {
		ADD_LIT(out, JSON_PAYLOAD);
		buf_addu64(out, m->len);
		ADD_LIT(out, PAYLOAD);
		buf_add(out, m->body, m->len);
		return;
	}
	ADD_LIT(out, ",\"payload_encoding\":\"string\",\"payload_size\":");
	buf_addu64(out, m->len);
	ADD_LIT(out, ",\"payload\":");
	if (json_add_string(out, m->body, m->len, 1) == 0)
		return;
	buf_setlen(out, start);
base64:
	ADD_LIT(out, ",\"payload_encoding\":\"base64\",\"payload_size\":");
	buf_addu64(out, m->len);
	ADD_LIT(out, ",\"payload\":\"");
	base64_add(out, m->body, m->len);
	buf_addch(out, '"');
}

/* The event time, key, properties and redelivery count. */
static void
add_members(struct buf *out, const struct msg *m, struct buf *scratch)
{
	if (m->has_et) {
		ADD_LIT(out, ",\"event_time\":\"");
		utc_add_iso(out, m->et);
		ADD_LIT(out, "\",\"event_time_ms\":");
		buf_addu64(out, m->et);
	} else
		ADD_LIT(out, ",\"event_time\":null,\"event_time_ms\":null");
	ADD_LIT(out, ",\"key\":");
	if (m->key != NULL)
		add_value(out, m->key->val, m->key->vallen, scratch);
	else
		ADD_LIT(out, "null");
	ADD_LIT(out, ",\"properties\":");
	record_add_properties(out, m->f, scratch);
	ADD_LIT(out, ",\"redelivery_count\":");
	buf_addu64(out, m->rc);
}

static int
is_usual(const struct msg *m)
{
	return !m->has_et && m->key == NULL && m->rc == 0 && !m->has_props;
}

#define PUT_LIT(p, s)	buf_put((p), (s), sizeof(s) - 1)

/*
 * The usual record with a JSON payload and the shared members kept: most
 * of a stream's, written at a cursor (one check for room, not one a
 * member).
 */
static void
add_usual_json(struct buf *out, const struct msg *m)
{
	char *p;

	p = buf_room(out, sizeof(ID_MEMBER) + m->id->vallen + shared.len +
	    sizeof(USUAL_MEMBERS) + sizeof(JSON_PAYLOAD) + DEC_U64_MAX_DIGITS +
	    sizeof(PAYLOAD) + m->len + sizeof(RECORD_END));
	p = PUT_LIT(p, ID_MEMBER);
	p = buf_put(p, m->id->val, m->id->vallen);
	p = buf_put(p, shared.text, shared.len);
	p = PUT_LIT(p, USUAL_MEMBERS);
	p = PUT_LIT(p, JSON_PAYLOAD);
	p += dec_format(p, m->len);
	p = PUT_LIT(p, PAYLOAD);
	p = buf_put(p, m->body, m->len);
	p = PUT_LIT(p, RECORD_END);
	buf_setend(out, p);
}

/*
 * The envelope; with reason, a reject's: that member, and base64.  The id
 * passed msgid_parse: digits, ':' and '-' need no escaping.
 */
static void
add_jsonl(struct buf *out, const struct msg *m, struct buf *scratch,
    const char *reason)
{
	int json;

	json = reason == NULL && !m->null && json_is_container(m->body, m->len);
	if (json && is_usual(m) && shared_kept(m)) {
		add_usual_json(out, m);
		return;
	}
	ADD_LIT(out, ID_MEMBER);
	buf_add(out, m->id->val, m->id->vallen);
	add_shared(out, m, scratch);
	if (is_usual(m))
		ADD_LIT(out, USUAL_MEMBERS);
	else
		add_members(out, m, scratch);
	if (reason != NULL) {
		ADD_LIT(out, ",\"reason\":");
		(void)json_add_string(out, reason, strlen(reason), 0);
	}
	add_payload(out, m, reason != NULL, json);
	ADD_LIT(out, RECORD_END);
}

void
record_add_reject(struct buf *out, const struct msg *m, struct buf *scratch,
    const char *reason)
{
	add_jsonl(out, m, scratch, reason);
}

void
record_add(struct buf *out, enum format fmt, const struct msg *m,
    struct buf *scratch)
{
	if (fmt == FMT_JSONL) {
		add_jsonl(out, m, scratch, NULL);
		return;
	}
	buf_grow(out, m->len + 1);
	buf_add(out, m->body, m->len);
	buf_addch(out, '\n');
}
