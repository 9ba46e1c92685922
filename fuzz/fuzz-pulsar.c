/* unit: consume/pulsar_proto.c consume/pulsar_msg.c consume/pulsar_chunk.c consume/packs.c transform/record.c transform/json_valid.c transform/json_get.c transform/json_write.c */
/*
 * fuzz-pulsar: bytes from a broker as consume's connection reads them: a
 * stream of Pulsar frames (pw_frame_next), each command decoded
 * (pw_cmd_decode), each MESSAGE through pw_message_process with one
 * decoder for the whole input, so that metadata, checksums, broker entry
 * metadata, every codec (LZ4, ZLIB, ZSTD, SNAPPY), batches, ack sets and
 * chunk reassembly across frames (with timeouts: the clock moves a
 * second a frame) all run.  Each message becomes the message frame
 * consume writes (as psrc_recv.c's sink_msg does), and goes through packs
 * (batch and chunk acks).
 *
 * A wrong CRC32C would stop almost every mutation at the checksum: the
 * harness writes the right one into its copy of each MESSAGE first (the
 * mismatch path is the unit tests' business).
 *
 * Properties checked: the message frame parses, and transform's
 * msg_parse takes it; the properties pw_props_next walks are the count
 * the decoder saw; every id packs asks to ack is one that was emitted
 * or one of its chunks.
 */
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "fuzz.h"
#include "msgid.h"
#include "pct.h"
#include "../consume/pulsar.h"
#include "../consume/pulsar_pb.h"
#include "../consume/pulsar_wire.h"
#include "../transform/record.h"

struct emitted {
	struct msgid	 id;
	uint32_t	 aux;
};

struct ctx {
	struct packs	*packs;
	struct buf	 out;
	struct frame	 f;
	struct emitted	*e;
	size_t		 n;
	size_t		 drops;
};

static void
add_props(struct buf *out, const struct pw_msg *m)
{
	struct pw_props it = m->props;
	struct pw_bytes k, v;
	size_t n = 0;

	while (pw_props_next(&it, &k, &v)) {
		buf_add(out, " p.", 3);
		pct_encode_uri(out, k.p, k.len, 0);
		buf_addch(out, '=');
		pct_encode_value(out, v.p, v.len);
		n++;
	}
	fuzz_check(n == m->props.count);
}

static int
sink_msg(void *arg, const struct pw_msg *m)
{
	struct ctx *x = arg;
	struct msg rec;
	const char *why;
	char *nl;

	buf_reset(&x->out);
	frame_begin(&x->out, 'M', m->payload.len);
	frame_add_u64(&x->out, "seq", x->n + 1);
	buf_add(&x->out, " id=", 4);
	msgid_format(&x->out, &m->id);
	frame_add_str(&x->out, "topic", "persistent://t/ns/fuzz");
	frame_add_u64(&x->out, "pt", m->publish_time);
	if (m->event_time)
		frame_add_u64(&x->out, "et", m->event_time);
	if (m->has_key)
		frame_add(&x->out, "key", m->key.p, m->key.len);
	if (m->has_ordering_key)
		frame_add(&x->out, "okey", m->ordering_key.p,
		    m->ordering_key.len);
	if (m->redelivery_count)
		frame_add_u64(&x->out, "rc", m->redelivery_count);
	if (m->null_value)
		buf_add(&x->out, " null=1", 7);
	add_props(&x->out, m);
	frame_finish(&x->out, m->payload.p, m->payload.len);
	nl = memchr(x->out.data, '\n', x->out.len);
	fuzz_check(nl != NULL);
	if (frame_parse_header(&x->f, x->out.data, (size_t)(nl - x->out.data),
	    FRAME_DEFAULT_MAX_BODY, &why) < 0)
		fuzz_fail(why);
	x->f.body = nl + 1;
	fuzz_check(x->f.has_body && x->f.len == m->payload.len);
	if (msg_parse(&rec, &x->f, &why) < 0)
		fuzz_fail(why);
	if (m->num_chunks > 1)
		fuzz_check(m->chunk_ids != NULL);
	x->e = xreallocarray(x->e, x->n + 1, sizeof(*x->e));
	x->e[x->n].id = m->id;
	x->e[x->n].aux = packs_emitted(x->packs, m);
	x->n++;
	return 0;
}

static void
sink_drop(void *arg, const struct msgid *ids, size_t n,
    enum pw_drop_reason why, const char *text)
{
	struct ctx *x = arg;

	fuzz_check(n > 0 && ids != NULL);
	fuzz_check(why >= PW_DROP_SKIPPED && why <= PW_DROP_CHUNK_OVERFLOW);
	x->drops += n;
}

static void
on_ack(void *arg, const struct msgid *id, const uint64_t *set, int setlen,
    int32_t batch_size)
{
	fuzz_check(id != NULL && setlen >= 0 && (setlen == 0 || set != NULL));
}

/* The checksum over what follows it, as the broker computes it. */
static void
fix_checksum(char *p, size_t len)
{
	uint32_t msz;

	if (len >= 6 && pb_get_be32(p) >> 16 == 0x0e02) {
		msz = pb_get_be32(p + 2);
		if (msz > len - 6)
			return;
		p += 6 + msz;
		len -= 6 + msz;
	}
	if (len >= 6 && pb_get_be32(p) >> 16 == 0x0e01)
		pb_put_be32(p + 2, pw_crc32c(p + 6, len - 6));
}

static void
message(struct pw_decoder *d, struct pw_cmd *c, const struct pw_frame *f,
    uint64_t now, struct ctx *x)
{
	struct pw_sink sink = { sink_msg, sink_drop, x, NULL };
	char *rest = xmalloc(f->rest_len ? f->rest_len : 1);
	int rc;

	memcpy(rest, f->rest, f->rest_len);
	fix_checksum(rest, f->rest_len);
	c->msgid.id.partition = -1;
	rc = pw_message_process(d, c, rest, f->rest_len, now, &sink);
	if (rc < 0)
		fuzz_check(pw_decoder_error(d)[0] != '\0');
	free(rest);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pw_limits lim = {
		.max_uncompressed = 1 << 20, .max_batch = 5000,
		.max_chunked_size = 1 << 20, .max_pending_chunked = 4,
		.max_pending_bytes = 2 << 20, .chunk_timeout_ms = 5000,
	};
	struct pw_decoder *d = pw_decoder_new(&lim);
	struct pw_sink sink;
	struct pw_frame f;
	struct pw_cmd c;
	struct ctx x;
	const char *err;
	uint64_t now = 1;
	size_t off = 0, i;

	memset(&x, 0, sizeof(x));
	x.packs = packs_new();
	buf_init(&x.out, 0);
	frame_init(&x.f);
	sink.msg = sink_msg;
	sink.drop = sink_drop;
	sink.batch = NULL;
	sink.arg = &x;
	while (pw_frame_next(data + off, size - off, 0, &f, &err) == 1) {
		off += f.frame_len;
		now += 1000;
		if (pw_cmd_decode(&c, f.cmd, f.cmd_len, &err) < 0)
			break;		/* consume drops the connection */
		(void)pw_cmd_name(c.type);
		(void)pw_server_error_name(c.error);
		if (c.type == PW_MESSAGE)
			message(d, &c, &f, now, &x);
		if (c.type == PW_CLOSE_CONSUMER)	/* a reconnect */
			pw_decoder_reset(d);
	}
	pw_decoder_expire(d, now + 3600000, &sink);
	/* the messages stored downstream, in order, but every fifth: packs
	   acks entries, and at the end what is left partly acked */
	for (i = 0; i < x.n; i++)
		if (i % 5 != 4)
			packs_acked(x.packs, &x.e[i].id, x.e[i].aux, on_ack, &x);
	packs_end(x.packs, on_ack, &x);
	packs_free(x.packs);
	free(x.e);
	frame_release(&x.f);
	buf_release(&x.out);
	pw_decoder_free(d);
	return 0;
}
