/*
 * pulsar_proto: Pulsar commands to and from bytes (BaseCommand and the
 * Command* messages a consumer uses); see pulsar_wire.h.  Field numbers are
 * those of Pulsar's PulsarApi.proto.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "pulsar_pb.h"
#include "pulsar_wire.h"

/* Field numbers, by message. */
enum {
	MID_LEDGER = 1, MID_ENTRY = 2, MID_PARTITION = 3, MID_BATCH_INDEX = 4,
	MID_ACK_SET = 5, MID_BATCH_SIZE = 6, MID_FIRST_CHUNK = 7,
};

const char *
pw_server_error_name(int e)
{
	static const char *const names[] = {
		"UnknownError", "MetadataError", "PersistenceError",
		"AuthenticationError", "AuthorizationError", "ConsumerBusy",
		"ServiceNotReady", "ProducerBlockedQuotaExceededError",
		"ProducerBlockedQuotaExceededException", "ChecksumError",
		"UnsupportedVersionError", "TopicNotFound",
		"SubscriptionNotFound", "ConsumerNotFound", "TooManyRequests",
		"TopicTerminatedError", "ProducerBusy", "InvalidTopicName",
		"IncompatibleSchema", "ConsumerAssignError",
		"TransactionCoordinatorNotFound", "InvalidTxnStatus",
		"NotAllowedError", "TransactionConflict", "TransactionNotFound",
		"ProducerFenced",
	};
	static char other[32];

	if (e >= 0 && (size_t)e < sizeof(names) / sizeof(names[0]))
		return names[e];
	snprintf(other, sizeof(other), "ServerError(%d)", e);
	return other;
}

/* The command types this codec knows, by number. */
static const char *const cmd_names[] = {
	[PW_CONNECT] = "CONNECT",
	[PW_CONNECTED] = "CONNECTED",
	[PW_SUBSCRIBE] = "SUBSCRIBE",
	[PW_PRODUCER] = "PRODUCER",
	[PW_SEND] = "SEND",
	[PW_SEND_RECEIPT] = "SEND_RECEIPT",
	[PW_SEND_ERROR] = "SEND_ERROR",
	[PW_MESSAGE] = "MESSAGE",
	[PW_ACK] = "ACK",
	[PW_FLOW] = "FLOW",
	[PW_UNSUBSCRIBE] = "UNSUBSCRIBE",
	[PW_SUCCESS] = "SUCCESS",
	[PW_ERROR] = "ERROR",
	[PW_CLOSE_PRODUCER] = "CLOSE_PRODUCER",
	[PW_CLOSE_CONSUMER] = "CLOSE_CONSUMER",
	[PW_PRODUCER_SUCCESS] = "PRODUCER_SUCCESS",
	[PW_PING] = "PING",
	[PW_PONG] = "PONG",
	[PW_REDELIVER_UNACKNOWLEDGED_MESSAGES] =
	    "REDELIVER_UNACKNOWLEDGED_MESSAGES",
	[PW_PARTITIONED_METADATA] = "PARTITIONED_METADATA",
	[PW_PARTITIONED_METADATA_RESPONSE] = "PARTITIONED_METADATA_RESPONSE",
	[PW_LOOKUP] = "LOOKUP",
	[PW_LOOKUP_RESPONSE] = "LOOKUP_RESPONSE",
	[PW_CONSUMER_STATS] = "CONSUMER_STATS",
	[PW_CONSUMER_STATS_RESPONSE] = "CONSUMER_STATS_RESPONSE",
	[PW_REACHED_END_OF_TOPIC] = "REACHED_END_OF_TOPIC",
	[PW_SEEK] = "SEEK",
	[PW_GET_LAST_MESSAGE_ID] = "GET_LAST_MESSAGE_ID",
	[PW_GET_LAST_MESSAGE_ID_RESPONSE] = "GET_LAST_MESSAGE_ID_RESPONSE",
	[PW_ACTIVE_CONSUMER_CHANGE] = "ACTIVE_CONSUMER_CHANGE",
	[PW_AUTH_CHALLENGE] = "AUTH_CHALLENGE",
	[PW_AUTH_RESPONSE] = "AUTH_RESPONSE",
	[PW_ACK_RESPONSE] = "ACK_RESPONSE",
};

static int
cmd_known(int t)
{
	return t >= 0 && (size_t)t < sizeof(cmd_names) / sizeof(cmd_names[0])
	    && cmd_names[t] != NULL;
}

const char *
pw_cmd_name(int t)
{
	static char other[32];

	if (cmd_known(t))
		return cmd_names[t];
	snprintf(other, sizeof(other), "command %d", t);
	return other;
}

/* ------------------------------------------------------------------ */
/* Framing */

int
pw_frame_next(const void *buf, size_t len, size_t max_frame,
    struct pw_frame *f, const char **errstr)
{
	const char *p = buf;
	uint32_t total, cmdsize;

	if (max_frame == 0)
		max_frame = PW_DEFAULT_MAX_FRAME;
	if (len < 4)
		return 0;
	total = pb_get_be32(p);
	if (total > max_frame) {
		*errstr = "frame larger than the maximum frame size";
		return -1;
	}
	if (total < 4) {
		*errstr = "frame too short to hold a command size";
		return -1;
	}
	/* The command size is checked as soon as it is there, so that
	   garbage is refused without waiting for "total" bytes. */
	if (len < 8)
		return 0;
	cmdsize = pb_get_be32(p + 4);
	if (cmdsize == 0 || cmdsize > total - 4) {
		*errstr = "command size does not fit in the frame";
		return -1;
	}
	if (len - 4 < total)
		return 0;
	f->cmd = p + 8;
	f->cmd_len = cmdsize;
	f->rest = p + 8 + cmdsize;
	f->rest_len = total - 4 - cmdsize;
	f->frame_len = (size_t)total + 4;
	return 1;
}

size_t
pw_frame_begin(struct buf *b, int type, size_t *sub)
{
	size_t at = b->len;

	buf_add(b, "\0\0\0\0\0\0\0\0", 8);
	pb_add_u64(b, 1, (uint64_t)type);
	/* Every command's body sits in the field numbered as its type. */
	*sub = pb_begin(b, (uint32_t)type);
	return at;
}

void
pw_frame_end(struct buf *b, size_t at, size_t sub)
{
	pb_end(b, sub);
	pb_put_be32(b->data + at, (uint32_t)(b->len - at - 4));
	pb_put_be32(b->data + at + 4, (uint32_t)(b->len - at - 8));
}

/* ------------------------------------------------------------------ */
/* MessageIdData */

void
pw_msgid_encode(struct buf *b, uint32_t num, const struct msgid *id,
    const uint64_t *ack_set, int ack_set_len, int32_t batch_size)
{
	size_t at = pb_begin(b, num);
	int i;

	pb_add_u64(b, MID_LEDGER, (uint64_t)id->ledger);
	pb_add_u64(b, MID_ENTRY, (uint64_t)id->entry);
	if (id->partition >= 0)
		pb_add_i32(b, MID_PARTITION, id->partition);
	if (id->batch >= 0)
		pb_add_i32(b, MID_BATCH_INDEX, id->batch);
	for (i = 0; i < ack_set_len; i++)
		pb_add_u64(b, MID_ACK_SET, ack_set[i]);
	if (batch_size > 0)
		pb_add_i32(b, MID_BATCH_SIZE, batch_size);
	pb_end(b, at);
}

static void
msgid_clear(struct msgid *id)
{
	id->ledger = id->entry = -1;
	id->partition = id->batch = -1;
}

static int
msgid_decode_plain(struct msgid *id, const struct pw_bytes *in)
{
	struct pw_msgid m;

	if (pw_msgid_decode(&m, in) < 0)
		return -1;
	*id = m.id;
	return 0;
}

int
pw_msgid_decode(struct pw_msgid *m, const struct pw_bytes *in)
{
	struct pb_rd r;
	struct pb_field f;
	int rc, have = 0;

	memset(m, 0, sizeof(*m));
	msgid_clear(&m->id);
	msgid_clear(&m->first_chunk);
	pb_rd_init(&r, in->p, in->len);
	while ((rc = pb_next(&r, &f)) > 0) {
		if (f.num == MID_FIRST_CHUNK) {
			if (f.wt != PB_LEN ||
			    msgid_decode_plain(&m->first_chunk, &f.b) < 0)
				return -1;
			m->has_first_chunk = 1;
			continue;
		}
		if (f.num > MID_FIRST_CHUNK || f.num == MID_ACK_SET)
			continue;	/* unknown, or ack_set: not needed */
		if (f.wt != PB_VARINT)
			return -1;
		switch (f.num) {
		case MID_LEDGER:
			m->id.ledger = (int64_t)f.v;
			have |= 1;
			break;
		case MID_ENTRY:
			m->id.entry = (int64_t)f.v;
			have |= 2;
			break;
		case MID_PARTITION:
			m->id.partition = (int32_t)f.v;
			break;
		case MID_BATCH_INDEX:
			m->id.batch = (int32_t)f.v;
			break;
		case MID_BATCH_SIZE:
			m->batch_size = (int32_t)f.v;
			break;
		}
	}
	return rc < 0 || have != 3 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Decoding commands */

/* A repeated int64: one varint, or a packed run of them. */
static int
add_int64s(struct pw_cmd *c, const struct pb_field *f)
{
	struct pb_rd r;
	uint64_t v;

	if (f->wt == PB_VARINT) {
		if (c->ack_set_len >= 0 && c->ack_set_len < PW_ACKSET_MAX)
			c->ack_set[c->ack_set_len++] = f->v;
		else
			c->ack_set_len = -1;
		return 0;
	}
	if (f->wt != PB_LEN)
		return -1;
	pb_rd_init(&r, f->b.p, f->b.len);
	while (r.p < r.end) {
		if (pb_varint(&r, &v) < 0)
			return -1;
		if (c->ack_set_len >= 0 && c->ack_set_len < PW_ACKSET_MAX)
			c->ack_set[c->ack_set_len++] = v;
		else
			c->ack_set_len = -1;
	}
	return 0;
}

static int
decode_auth_data(struct pw_cmd *c, const struct pw_bytes *in)
{
	struct pb_rd r;
	struct pb_field f;
	int rc;

	pb_rd_init(&r, in->p, in->len);
	while ((rc = pb_next(&r, &f)) > 0) {
		if (f.num == 1 && f.wt == PB_LEN)
			c->auth_method_name = f.b;
		else if (f.num == 2 && f.wt == PB_LEN)
			c->auth_data = f.b;
		else if (f.num <= 2)
			return -1;
	}
	return rc;
}

/*
 * The fields of one command body.  Each known (type, field number) pair
 * says where the value goes; the wire type must match.
 */
enum slot {
	S_SKIP, S_REQ, S_CONS, S_ERROR, S_MESSAGE, S_VERSION, S_PROTO,
	S_MAXSIZE, S_AUTH_NAME, S_AUTH_DATA, S_AUTH_SUB, S_URL, S_URL_TLS,
	S_LTYPE, S_AUTHORITATIVE, S_PROXY, S_PARTITIONS, S_MSGID, S_REDELIV,
	S_ACKSET, S_MARK_DELETE, S_ACTIVE, S_PERMITS, S_ACKTYPE, S_IDS,
	S_TOPIC, S_SUBSCRIPTION, S_SUBTYPE, S_PUBTIME, S_BACKLOG,
	S_PROD, S_SEQ, S_PNAME, S_LASTSEQ, S_NUMMSG,
};

static enum slot
slot_of(int type, uint32_t num)
{
	switch (type) {
	case PW_CONNECT:
		switch (num) {
		case 1: return S_VERSION;
		case 3: return S_AUTH_DATA;
		case 4: return S_PROTO;
		case 5: return S_AUTH_NAME;
		case 6: return S_URL;
		}
		break;
	case PW_CONNECTED:
		switch (num) {
		case 1: return S_VERSION;
		case 2: return S_PROTO;
		case 3: return S_MAXSIZE;
		}
		break;
	case PW_AUTH_CHALLENGE:
	case PW_AUTH_RESPONSE:
		switch (num) {
		case 1: return S_VERSION;
		case 2: return S_AUTH_SUB;
		case 3: return S_PROTO;
		}
		break;
	case PW_SUBSCRIBE:
		switch (num) {
		case 1: return S_TOPIC;
		case 2: return S_SUBSCRIPTION;
		case 3: return S_SUBTYPE;
		case 4: return S_CONS;
		case 5: return S_REQ;
		case 9: return S_MSGID;
		}
		break;
	case PW_MESSAGE:
		switch (num) {
		case 1: return S_CONS;
		case 2: return S_MSGID;
		case 3: return S_REDELIV;
		case 4: return S_ACKSET;
		}
		break;
	case PW_ACK:
		switch (num) {
		case 1: return S_CONS;
		case 2: return S_ACKTYPE;
		case 3: return S_IDS;
		case 8: return S_REQ;
		}
		break;
	case PW_FLOW:
		switch (num) {
		case 1: return S_CONS;
		case 2: return S_PERMITS;
		}
		break;
	case PW_SUCCESS:
		if (num == 1)
			return S_REQ;
		break;
	case PW_ERROR:
		switch (num) {
		case 1: return S_REQ;
		case 2: return S_ERROR;
		case 3: return S_MESSAGE;
		}
		break;
	case PW_CLOSE_CONSUMER:
		switch (num) {
		case 1: return S_CONS;
		case 2: return S_REQ;
		case 3: return S_URL;		/* assignedBrokerServiceUrl */
		case 4: return S_URL_TLS;
		}
		break;
	case PW_CLOSE_PRODUCER:
		switch (num) {
		case 1: return S_PROD;
		case 2: return S_REQ;
		}
		break;
	case PW_PRODUCER:
		switch (num) {
		case 1: return S_TOPIC;
		case 2: return S_PROD;
		case 3: return S_REQ;
		case 4: return S_PNAME;
		}
		break;
	case PW_PRODUCER_SUCCESS:
		switch (num) {
		case 1: return S_REQ;
		case 2: return S_PNAME;
		case 3: return S_LASTSEQ;
		}
		break;
	case PW_SEND:
		switch (num) {
		case 1: return S_PROD;
		case 2: return S_SEQ;
		case 3: return S_NUMMSG;
		}
		break;
	case PW_SEND_RECEIPT:
		switch (num) {
		case 1: return S_PROD;
		case 2: return S_SEQ;
		case 3: return S_MSGID;
		}
		break;
	case PW_SEND_ERROR:
		switch (num) {
		case 1: return S_PROD;
		case 2: return S_SEQ;
		case 3: return S_ERROR;
		case 4: return S_MESSAGE;
		}
		break;
	case PW_REDELIVER_UNACKNOWLEDGED_MESSAGES:
		switch (num) {
		case 1: return S_CONS;
		case 2: return S_IDS;
		}
		break;
	case PW_PARTITIONED_METADATA:
	case PW_LOOKUP:
		switch (num) {
		case 1: return S_TOPIC;
		case 2: return S_REQ;
		case 3: return type == PW_LOOKUP ? S_AUTHORITATIVE : S_SKIP;
		}
		break;
	case PW_PARTITIONED_METADATA_RESPONSE:
		switch (num) {
		case 1: return S_PARTITIONS;
		case 2: return S_REQ;
		case 3: return S_LTYPE;
		case 4: return S_ERROR;
		case 5: return S_MESSAGE;
		}
		break;
	case PW_LOOKUP_RESPONSE:
		switch (num) {
		case 1: return S_URL;
		case 2: return S_URL_TLS;
		case 3: return S_LTYPE;
		case 4: return S_REQ;
		case 5: return S_AUTHORITATIVE;
		case 6: return S_ERROR;
		case 7: return S_MESSAGE;
		case 8: return S_PROXY;
		}
		break;
	case PW_CONSUMER_STATS:
		switch (num) {
		case 1: return S_REQ;
		case 4: return S_CONS;
		}
		break;
	case PW_CONSUMER_STATS_RESPONSE:
		switch (num) {
		case 1: return S_REQ;
		case 2: return S_ERROR;
		case 3: return S_MESSAGE;
		case 15: return S_BACKLOG;
		}
		break;
	case PW_REACHED_END_OF_TOPIC:
		if (num == 1)
			return S_CONS;
		break;
	case PW_SEEK:
		switch (num) {
		case 1: return S_CONS;
		case 2: return S_REQ;
		case 3: return S_MSGID;
		case 4: return S_PUBTIME;
		}
		break;
	case PW_GET_LAST_MESSAGE_ID:
		switch (num) {
		case 1: return S_CONS;
		case 2: return S_REQ;
		}
		break;
	case PW_GET_LAST_MESSAGE_ID_RESPONSE:
		switch (num) {
		case 1: return S_MSGID;
		case 2: return S_REQ;
		case 3: return S_MARK_DELETE;
		}
		break;
	case PW_ACTIVE_CONSUMER_CHANGE:
		switch (num) {
		case 1: return S_CONS;
		case 2: return S_ACTIVE;
		}
		break;
	case PW_ACK_RESPONSE:
		switch (num) {
		case 1: return S_CONS;
		case 4: return S_ERROR;
		case 5: return S_MESSAGE;
		case 6: return S_REQ;
		}
		break;
	}
	return S_SKIP;
}

static int
slot_is_len(enum slot s)
{
	switch (s) {
	case S_MESSAGE: case S_VERSION: case S_AUTH_NAME: case S_AUTH_DATA:
	case S_AUTH_SUB: case S_URL: case S_URL_TLS: case S_MSGID:
	case S_MARK_DELETE: case S_IDS: case S_TOPIC: case S_SUBSCRIPTION:
	case S_PNAME:
		return 1;
	default:
		return 0;
	}
}

static int
decode_body(struct pw_cmd *c, const struct pw_bytes *body)
{
	struct pb_rd r;
	struct pb_field f;
	enum slot s;
	int rc;

	pb_rd_init(&r, body->p, body->len);
	while ((rc = pb_next(&r, &f)) > 0) {
		if ((s = slot_of(c->type, f.num)) == S_SKIP)
			continue;
		if (s == S_ACKSET) {
			if (add_int64s(c, &f) < 0)
				return -1;
			continue;
		}
		if (slot_is_len(s) != (f.wt == PB_LEN) ||
		    (f.wt != PB_LEN && f.wt != PB_VARINT))
			return -1;
		switch (s) {
		case S_REQ: c->request_id = f.v; break;
		case S_CONS: c->consumer_id = f.v; break;
		case S_ERROR: c->has_error = 1; c->error = (int)f.v; break;
		case S_MESSAGE: c->message = f.b; break;
		case S_VERSION: c->server_version = f.b; break;
		case S_PROTO: c->protocol_version = (int32_t)f.v; break;
		case S_MAXSIZE: c->max_message_size = (int32_t)f.v; break;
		case S_AUTH_NAME: c->auth_method_name = f.b; break;
		case S_AUTH_DATA: c->auth_data = f.b; break;
		case S_AUTH_SUB:
			if (decode_auth_data(c, &f.b) < 0)
				return -1;
			break;
		case S_URL: c->broker_url = f.b; break;
		case S_URL_TLS: c->broker_url_tls = f.b; break;
		case S_LTYPE: c->lookup_type = (int)f.v; break;
		case S_AUTHORITATIVE: c->authoritative = f.v != 0; break;
		case S_PROXY: c->proxy_through_service_url = f.v != 0; break;
		case S_PARTITIONS: c->partitions = (uint32_t)f.v; break;
		case S_MSGID:
			if (pw_msgid_decode(&c->msgid, &f.b) < 0)
				return -1;
			break;
		case S_REDELIV: c->redelivery_count = (uint32_t)f.v; break;
		case S_MARK_DELETE:
			if (pw_msgid_decode(&c->mark_delete, &f.b) < 0)
				return -1;
			c->has_mark_delete = 1;
			break;
		case S_ACTIVE: c->is_active = f.v != 0; break;
		case S_PERMITS: c->permits = (uint32_t)f.v; break;
		case S_ACKTYPE: c->ack_type = (int)f.v; break;
		case S_IDS:
			/* Keep the first; count them all. */
			if (c->n_ids++ == 0 &&
			    pw_msgid_decode(&c->msgid, &f.b) < 0)
				return -1;
			break;
		case S_TOPIC: c->topic = f.b; break;
		case S_SUBSCRIPTION: c->subscription = f.b; break;
		case S_SUBTYPE: c->sub_type = (int)f.v; break;
		case S_PUBTIME: c->publish_time = f.v; break;
		case S_BACKLOG:
			c->has_backlog = 1;
			c->msg_backlog = f.v;
			break;
		case S_PROD: c->producer_id = f.v; break;
		case S_SEQ: c->sequence_id = f.v; break;
		case S_PNAME: c->producer_name = f.b; break;
		case S_LASTSEQ: c->last_sequence_id = (int64_t)f.v; break;
		case S_NUMMSG: c->num_messages = (int32_t)f.v; break;
		default: break;
		}
	}
	return rc;
}

/*
 * BaseCommand: the type (field 1) and the body, in the field numbered as
 * the type.  A first pass takes the type and checks that every field is
 * well formed; a second decodes the body (each occurrence of it, in order,
 * as protobuf merges a repeated message field).  The body of a command
 * type we do not know is never looked into: it need not follow any of
 * our rules.  Other fields are skipped, whatever their wire type.
 */
int
pw_cmd_decode(struct pw_cmd *c, const void *cmd, size_t len,
    const char **errstr)
{
	struct pb_rd r;
	struct pb_field f;
	int rc, have_type = 0;

	/* Clearing all of struct pw_cmd costs more than the decoding of a
	   MESSAGE command; clear all but the ack_set words. */
	memset(c, 0, offsetof(struct pw_cmd, ack_set));
	memset(&c->ack_set_len, 0,
	    sizeof(*c) - offsetof(struct pw_cmd, ack_set_len));
	msgid_clear(&c->msgid.id);
	msgid_clear(&c->msgid.first_chunk);
	msgid_clear(&c->mark_delete.id);
	msgid_clear(&c->mark_delete.first_chunk);
	c->last_sequence_id = -1;

	pb_rd_init(&r, cmd, len);
	while ((rc = pb_next(&r, &f)) > 0) {
		if (f.num == 1) {
			if (f.wt != PB_VARINT)
				goto bad;
			c->type = (int)f.v;
			have_type = 1;
		}
	}
	if (rc < 0)
		goto bad;
	if (!have_type) {
		*errstr = "command without a type";
		return -1;
	}
	if (!cmd_known(c->type))
		return 0;	/* from a newer broker: the caller skips it */
	pb_rd_init(&r, cmd, len);
	while (pb_next(&r, &f) > 0) {
		if (f.num != (uint32_t)c->type)
			continue;
		if (f.wt != PB_LEN || decode_body(c, &f.b) < 0)
			goto bad;
	}
	return 0;
bad:
	*errstr = "malformed protobuf in command";
	return -1;
}

/* ------------------------------------------------------------------ */
/* Encoding commands */

void
pw_enc_connect(struct buf *out, const struct pw_connect *cn)
{
	size_t sub, at = pw_frame_begin(out, PW_CONNECT, &sub), ff;

	pb_add_str(out, 1, cn->client_version ? cn->client_version :
	    "lakepipe");
	if (cn->auth_data)
		pb_add_bytes(out, 3, cn->auth_data, cn->auth_data_len);
	pb_add_u64(out, 4, PW_PROTOCOL_VERSION);
	if (cn->auth_method_name)
		pb_add_str(out, 5, cn->auth_method_name);
	if (cn->proxy_to_broker_url)
		pb_add_str(out, 6, cn->proxy_to_broker_url);
	if (cn->supports_auth_refresh) {
		ff = pb_begin(out, 10);		/* FeatureFlags */
		pb_add_u64(out, 1, 1);
		pb_end(out, ff);
	}
	pw_frame_end(out, at, sub);
}

void
pw_enc_auth_response(struct buf *out, const char *client_version,
    const char *auth_method_name, const void *data, size_t len)
{
	size_t sub, at = pw_frame_begin(out, PW_AUTH_RESPONSE, &sub), ad;

	pb_add_str(out, 1, client_version ? client_version : "lakepipe");
	ad = pb_begin(out, 2);			/* AuthData */
	if (auth_method_name)
		pb_add_str(out, 1, auth_method_name);
	pb_add_bytes(out, 2, data, len);
	pb_end(out, ad);
	pb_add_u64(out, 3, PW_PROTOCOL_VERSION);
	pw_frame_end(out, at, sub);
}

void
pw_enc_lookup(struct buf *out, const char *topic, uint64_t request_id,
    int authoritative, const char *listener)
{
	size_t sub, at = pw_frame_begin(out, PW_LOOKUP, &sub);

	pb_add_str(out, 1, topic);
	pb_add_u64(out, 2, request_id);
	pb_add_u64(out, 3, authoritative != 0);
	if (listener)
		pb_add_str(out, 7, listener);
	pw_frame_end(out, at, sub);
}

void
pw_enc_partitioned_metadata(struct buf *out, const char *topic,
    uint64_t request_id)
{
	size_t sub, at = pw_frame_begin(out, PW_PARTITIONED_METADATA, &sub);

	pb_add_str(out, 1, topic);
	pb_add_u64(out, 2, request_id);
	pw_frame_end(out, at, sub);
}

void
pw_enc_subscribe(struct buf *out, const struct pw_subscribe *s)
{
	size_t sub, at = pw_frame_begin(out, PW_SUBSCRIBE, &sub);

	pb_add_str(out, 1, s->topic);
	pb_add_str(out, 2, s->subscription);
	pb_add_u64(out, 3, (uint64_t)s->sub_type);
	pb_add_u64(out, 4, s->consumer_id);
	pb_add_u64(out, 5, s->request_id);
	if (s->consumer_name)
		pb_add_str(out, 6, s->consumer_name);
	pb_add_u64(out, 8, !s->non_durable);
	if (s->start_message_id)
		pw_msgid_encode(out, 9, s->start_message_id, NULL, 0, 0);
	if (s->read_compacted)
		pb_add_u64(out, 11, 1);
	pb_add_u64(out, 13, (uint64_t)s->initial_position);
	pb_add_u64(out, 15, s->create_topic != 0);
	if (s->start_message_rollback_duration_sec)
		pb_add_u64(out, 16, s->start_message_rollback_duration_sec);
	pw_frame_end(out, at, sub);
}

void
pw_enc_flow(struct buf *out, uint64_t consumer_id, uint32_t permits)
{
	size_t sub, at = pw_frame_begin(out, PW_FLOW, &sub);

	pb_add_u64(out, 1, consumer_id);
	pb_add_u64(out, 2, permits);
	pw_frame_end(out, at, sub);
}

void
pw_enc_ack(struct buf *out, uint64_t consumer_id, int ack_type,
    const struct pw_ack_id *ids, size_t n)
{
	size_t sub, at = pw_frame_begin(out, PW_ACK, &sub), i;

	pb_add_u64(out, 1, consumer_id);
	pb_add_u64(out, 2, (uint64_t)ack_type);
	for (i = 0; i < n; i++)
		pw_msgid_encode(out, 3, &ids[i].id, ids[i].ack_set,
		    ids[i].ack_set_len, ids[i].batch_size);
	pw_frame_end(out, at, sub);
}

void
pw_enc_redeliver(struct buf *out, uint64_t consumer_id,
    const struct msgid *ids, size_t n)
{
	size_t sub, at, i;

	at = pw_frame_begin(out, PW_REDELIVER_UNACKNOWLEDGED_MESSAGES, &sub);
	pb_add_u64(out, 1, consumer_id);
	for (i = 0; i < n; i++)
		pw_msgid_encode(out, 2, &ids[i], NULL, 0, 0);
	pw_frame_end(out, at, sub);
}

void
pw_enc_seek_id(struct buf *out, uint64_t consumer_id, uint64_t request_id,
    const struct msgid *id)
{
	size_t sub, at = pw_frame_begin(out, PW_SEEK, &sub);

	pb_add_u64(out, 1, consumer_id);
	pb_add_u64(out, 2, request_id);
	pw_msgid_encode(out, 3, id, NULL, 0, 0);
	pw_frame_end(out, at, sub);
}

void
pw_enc_seek_time(struct buf *out, uint64_t consumer_id, uint64_t request_id,
    uint64_t publish_time_ms)
{
	size_t sub, at = pw_frame_begin(out, PW_SEEK, &sub);

	pb_add_u64(out, 1, consumer_id);
	pb_add_u64(out, 2, request_id);
	pb_add_u64(out, 4, publish_time_ms);
	pw_frame_end(out, at, sub);
}

static void
enc_consumer_request(struct buf *out, int type, uint64_t consumer_id,
    uint64_t request_id)
{
	size_t sub, at = pw_frame_begin(out, type, &sub);

	pb_add_u64(out, 1, consumer_id);
	pb_add_u64(out, 2, request_id);
	pw_frame_end(out, at, sub);
}

void
pw_enc_close_consumer(struct buf *out, uint64_t consumer_id,
    uint64_t request_id)
{
	enc_consumer_request(out, PW_CLOSE_CONSUMER, consumer_id, request_id);
}

void
pw_enc_consumer_stats(struct buf *out, uint64_t consumer_id,
    uint64_t request_id)
{
	size_t sub, at = pw_frame_begin(out, PW_CONSUMER_STATS, &sub);

	pb_add_u64(out, 1, request_id);
	pb_add_u64(out, 4, consumer_id);
	pw_frame_end(out, at, sub);
}

void
pw_enc_unsubscribe(struct buf *out, uint64_t consumer_id,
    uint64_t request_id)
{
	enc_consumer_request(out, PW_UNSUBSCRIBE, consumer_id, request_id);
}

void
pw_enc_close_producer(struct buf *out, uint64_t producer_id,
    uint64_t request_id)
{
	/* CommandCloseProducer has the shape of CommandCloseConsumer */
	enc_consumer_request(out, PW_CLOSE_PRODUCER, producer_id, request_id);
}

void
pw_enc_get_last_message_id(struct buf *out, uint64_t consumer_id,
    uint64_t request_id)
{
	enc_consumer_request(out, PW_GET_LAST_MESSAGE_ID, consumer_id,
	    request_id);
}

void
pw_enc_ping(struct buf *out)
{
	size_t sub, at = pw_frame_begin(out, PW_PING, &sub);

	pw_frame_end(out, at, sub);
}

void
pw_enc_pong(struct buf *out)
{
	size_t sub, at = pw_frame_begin(out, PW_PONG, &sub);

	pw_frame_end(out, at, sub);
}

/* ------------------------------------------------------------------ */
/* Producing */

void
pw_enc_producer(struct buf *out, const struct pw_producer *p)
{
	size_t sub, at = pw_frame_begin(out, PW_PRODUCER, &sub);

	pb_add_str(out, 1, p->topic);
	pb_add_u64(out, 2, p->producer_id);
	pb_add_u64(out, 3, p->request_id);
	if (p->producer_name != NULL) {
		pb_add_str(out, 4, p->producer_name);
		pb_add_u64(out, 9, 0);	/* user_provided_producer_name */
	}
	pw_frame_end(out, at, sub);
}

/* MessageMetadata of one message (not a batch). */
static void
enc_metadata(struct buf *out, const struct pw_send *m)
{
	size_t i, kv;

	pb_add_str(out, 1, m->producer_name);
	pb_add_u64(out, 2, m->sequence_id);
	pb_add_u64(out, 3, m->publish_time);
	for (i = 0; i < m->nprops; i++) {
		kv = pb_begin(out, 4);		/* KeyValue */
		pb_add_bytes(out, 1, m->props[i].key.p, m->props[i].key.len);
		pb_add_bytes(out, 2, m->props[i].value.p,
		    m->props[i].value.len);
		pb_end(out, kv);
	}
	if (m->has_key)
		pb_add_bytes(out, 6, m->key.p, m->key.len);
	if (m->event_time)
		pb_add_u64(out, 12, m->event_time);
	if (m->has_ordering_key)
		pb_add_bytes(out, 18, m->ordering_key.p, m->ordering_key.len);
	if (m->null_value)
		pb_add_u64(out, 25, 1);
}

void
pw_enc_send(struct buf *out, const struct pw_send *m)
{
	size_t sub, at = pw_frame_begin(out, PW_SEND, &sub), sum, meta;

	pb_add_u64(out, 1, m->producer_id);
	pb_add_u64(out, 2, m->sequence_id);
	pw_frame_end(out, at, sub);	/* the command's size is final now */
	buf_add(out, "\x0e\x01", 2);
	sum = out->len;
	buf_add(out, "\0\0\0\0\0\0\0\0", 8);	/* checksum, metadata size */
	meta = out->len;
	enc_metadata(out, m);
	pb_put_be32(out->data + meta - 4, (uint32_t)(out->len - meta));
	if (m->len > 0)
		buf_add(out, m->payload, m->len);
	pb_put_be32(out->data + sum, pw_crc32c(out->data + sum + 4,
	    out->len - sum - 4));
	pb_put_be32(out->data + at, (uint32_t)(out->len - at - 4));
}
