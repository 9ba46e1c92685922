/*
 * pulsar_wire: the Pulsar binary protocol as pure functions, no I/O.
 *
 * Owner: the wire codec (consume/pulsar_*.c).  The consumer's networking
 * (consume/consume.c and friends) reads bytes from the socket, hands them
 * to pw_frame_next(), decodes each command with pw_cmd_decode(), passes
 * MESSAGE payloads to pw_message_process(), and writes what the pw_enc_*()
 * functions append to a struct buf.
 *
 * Why a hand-written protobuf codec and not protobuf-c: we need a handful
 * of messages and a few dozen fields; a varint reader that leaves strings
 * and bytes as spans into the frame costs no allocation per message (the
 * goal is >= 1M messages/s), while protobuf-c unpacks into malloc'd trees
 * and needs protoc-c at build time.  Field numbers come from Pulsar's
 * published PulsarApi.proto; unknown fields and commands are skipped.
 *
 * Lifetimes: every struct pw_bytes, every pw_props and every payload that
 * a decoder hands out points into the caller's input buffer or into the
 * pw_decoder's scratch memory; it stays valid until the next call on the
 * same input buffer / decoder.  Nothing here calls exit(3) except on
 * allocation failure (xmalloc, as everywhere in lakepipe).
 *
 * API changes since the first commit (17b3811): struct pw_subscribe's
 * "durable" became "non_durable" and "force_topic_creation" became
 * "create_topic", so that a zeroed struct is the safe choice (durable
 * cursor, no topic made by a typo); struct pw_msg gained last_in_entry;
 * enum pw_drop_reason gained PW_DROP_SKIPPED; struct pw_sink gained
 * batch (last: sinks set without it must zero it).
 *
 * Typical receive loop (the caller owns the socket and the input buffer):
 *
 *	while ((rc = pw_frame_next(in.data, in.len, 0, &f, &err)) == 1) {
 *		if (pw_cmd_decode(&c, f.cmd, f.cmd_len, &err) < 0)
 *			... protocol error: drop the connection
 *		if (c.type == PW_MESSAGE) {
 *			c.msgid.id.partition = partition_of(c.consumer_id);
 *			rc = pw_message_process(dec, &c, f.rest, f.rest_len,
 *			    now_ms, &sink);
 *			... rc < 0: warn with pw_decoder_error(dec)
 *		} else ...
 *		buf_consume(&in, f.frame_len);
 *	}
 *	if (rc < 0) ... garbage on the connection: err names it
 *
 * Speed (tests/unit/test-pulsar prints it): about 20 M messages/s on one
 * core for batches of 100 messages of 100 bytes, framing to callback,
 * uncompressed or LZ4.
 */
#ifndef LAKEPIPE_PULSAR_WIRE_H
#define LAKEPIPE_PULSAR_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "msgid.h"

/* A span of bytes inside someone else's buffer: not NUL-terminated. */
struct pw_bytes {
	const char	*p;
	size_t		 len;
};

/* ------------------------------------------------------------------ */
/* Constants from PulsarApi.proto                                      */

#define PW_PROTOCOL_VERSION	19	/* what we announce in CONNECT */

enum pw_cmd_type {			/* BaseCommand.Type */
	PW_CONNECT = 2,
	PW_CONNECTED = 3,
	PW_SUBSCRIBE = 4,
	PW_PRODUCER = 5,
	PW_SEND = 6,
	PW_SEND_RECEIPT = 7,
	PW_SEND_ERROR = 8,
	PW_MESSAGE = 9,
	PW_ACK = 10,
	PW_FLOW = 11,
	PW_UNSUBSCRIBE = 12,
	PW_SUCCESS = 13,
	PW_ERROR = 14,
	PW_CLOSE_PRODUCER = 15,
	PW_CLOSE_CONSUMER = 16,
	PW_PRODUCER_SUCCESS = 17,
	PW_PING = 18,
	PW_PONG = 19,
	PW_REDELIVER_UNACKNOWLEDGED_MESSAGES = 20,
	PW_PARTITIONED_METADATA = 21,
	PW_PARTITIONED_METADATA_RESPONSE = 22,
	PW_LOOKUP = 23,
	PW_LOOKUP_RESPONSE = 24,
	PW_CONSUMER_STATS = 25,
	PW_CONSUMER_STATS_RESPONSE = 26,
	PW_REACHED_END_OF_TOPIC = 27,
	PW_SEEK = 28,
	PW_GET_LAST_MESSAGE_ID = 29,
	PW_GET_LAST_MESSAGE_ID_RESPONSE = 30,
	PW_ACTIVE_CONSUMER_CHANGE = 31,
	PW_AUTH_CHALLENGE = 36,
	PW_AUTH_RESPONSE = 37,
	PW_ACK_RESPONSE = 38,
};

enum pw_sub_type {			/* CommandSubscribe.SubType */
	PW_SUB_EXCLUSIVE = 0,
	PW_SUB_SHARED = 1,
	PW_SUB_FAILOVER = 2,
	PW_SUB_KEY_SHARED = 3,
};

enum pw_initial_position {		/* CommandSubscribe.InitialPosition */
	PW_POS_LATEST = 0,
	PW_POS_EARLIEST = 1,
};

enum pw_ack_type {			/* CommandAck.AckType */
	PW_ACK_INDIVIDUAL = 0,
	PW_ACK_CUMULATIVE = 1,
};

enum pw_lookup_type {			/* CommandLookupTopicResponse.LookupType */
	PW_LOOKUP_REDIRECT = 0,
	PW_LOOKUP_CONNECT = 1,
	PW_LOOKUP_FAILED = 2,
};

enum pw_compression {			/* CompressionType */
	PW_COMP_NONE = 0,
	PW_COMP_LZ4 = 1,
	PW_COMP_ZLIB = 2,
	PW_COMP_ZSTD = 3,
	PW_COMP_SNAPPY = 4,
};

/* ServerError codes that a consumer acts on; others are passed as numbers. */
enum pw_server_error {
	PW_ERR_UNKNOWN = 0,
	PW_ERR_METADATA = 1,
	PW_ERR_PERSISTENCE = 2,
	PW_ERR_AUTHENTICATION = 3,
	PW_ERR_AUTHORIZATION = 4,
	PW_ERR_CONSUMER_BUSY = 5,
	PW_ERR_SERVICE_NOT_READY = 6,
	PW_ERR_CHECKSUM = 9,
	PW_ERR_UNSUPPORTED_VERSION = 10,
	PW_ERR_TOPIC_NOT_FOUND = 11,
	PW_ERR_SUBSCRIPTION_NOT_FOUND = 12,
	PW_ERR_CONSUMER_NOT_FOUND = 13,
	PW_ERR_TOO_MANY_REQUESTS = 14,
	PW_ERR_TOPIC_TERMINATED = 15,
	PW_ERR_INVALID_TOPIC_NAME = 17,
	PW_ERR_CONSUMER_ASSIGN = 19,
	PW_ERR_NOT_ALLOWED = 22,
};

/* "ServiceNotReady", "ConsumerBusy", ...; "ServerError(N)" for others. */
const char	*pw_server_error_name(int);
/* "MESSAGE", "PING", ...; "command N" for unknown types (static buffer). */
const char	*pw_cmd_name(int);

/* ------------------------------------------------------------------ */
/* Framing: [4-byte BE total size][4-byte BE command size][command][rest] */

#define PW_DEFAULT_MAX_FRAME	(5 * 1024 * 1024 + 64 * 1024)
/* What a broker allows a frame beyond max_message_size (Pulsar's
   Commands.MESSAGE_SIZE_FRAME_PADDING): room for command and metadata. */
#define PW_FRAME_PADDING	(10 * 1024)

struct pw_frame {
	const char	*cmd;		/* the BaseCommand protobuf */
	size_t		 cmd_len;
	const char	*rest;		/* after the command: MESSAGE payload part */
	size_t		 rest_len;	/* 0 for simple commands */
	size_t		 frame_len;	/* bytes to drop from the input: 4 + total */
};

/*
 * Look for one complete frame at the start of buf[0..len).  Returns 1 and
 * fills *f (pointing into buf) when a whole frame is there, 0 when more
 * bytes are needed, -1 on a frame that can never be valid (total size over
 * max_frame, command size larger than the frame, ...) with *errstr set to
 * a one-line reason.  max_frame 0 means PW_DEFAULT_MAX_FRAME; after
 * CONNECTED, pass its max_message_size plus 64 KB when that is larger
 * (brokers configured for bigger messages).  The caller
 * drops f->frame_len bytes after handling the frame.
 */
int	pw_frame_next(const void *buf, size_t len, size_t max_frame,
	    struct pw_frame *f, const char **errstr);

/* ------------------------------------------------------------------ */
/* Decoding commands                                                   */

/* MessageIdData, plus its batch fields. */
struct pw_msgid {
	struct msgid	 id;		/* partition, batch -1 when absent */
	int32_t		 batch_size;	/* 0 when absent */
	int		 has_first_chunk;
	struct msgid	 first_chunk;	/* first_chunk_message_id, if any */
};

#define PW_ACKSET_MAX	64		/* int64 words: 4096 batch indexes */

/*
 * One decoded BaseCommand.  Only the fields of the decoded type are
 * meaningful; the others are zero (ids: -1 partition/batch).  Strings are
 * spans into the frame.  Commands of unknown type decode with type set and
 * nothing else: skip them.
 */
struct pw_cmd {
	int		 type;		/* enum pw_cmd_type, or unknown number */

	uint64_t	 request_id;	/* SUCCESS ERROR LOOKUP[_RESPONSE]
					   PARTITIONED_METADATA[_RESPONSE]
					   SUBSCRIBE SEEK CLOSE_CONSUMER
					   GET_LAST_MESSAGE_ID[_RESPONSE] */
	uint64_t	 consumer_id;	/* MESSAGE ACK FLOW SUBSCRIBE SEEK
					   CLOSE_CONSUMER REACHED_END_OF_TOPIC
					   ACTIVE_CONSUMER_CHANGE REDELIVER...
					   GET_LAST_MESSAGE_ID */

	/* ERROR; also LOOKUP_RESPONSE, PARTITIONED_METADATA_RESPONSE. */
	int		 has_error;
	int		 error;		/* enum pw_server_error */
	struct pw_bytes	 message;	/* error text */

	/* CONNECTED */
	struct pw_bytes	 server_version;
	int32_t		 protocol_version;
	int32_t		 max_message_size;	/* 0 when absent */

	/* AUTH_CHALLENGE (challenge) / AUTH_RESPONSE (response) / CONNECT */
	struct pw_bytes	 auth_method_name;
	struct pw_bytes	 auth_data;

	/* LOOKUP_RESPONSE */
	struct pw_bytes	 broker_url;
	struct pw_bytes	 broker_url_tls;
	int		 lookup_type;	/* enum pw_lookup_type */
	int		 authoritative;
	int		 proxy_through_service_url;

	/* PARTITIONED_METADATA_RESPONSE: partitions (0: not partitioned);
	   lookup_type 0 Success / 1 Failed. */
	uint32_t	 partitions;

	/* MESSAGE */
	struct pw_msgid	 msgid;		/* also SEEK, GET_LAST_MESSAGE_ID_RESPONSE */
	uint32_t	 redelivery_count;
	uint64_t	 ack_set[PW_ACKSET_MAX];	/* bit set: not yet acked */
	int		 ack_set_len;	/* words; 0: no ack_set, all unacked;
					   -1: longer than PW_ACKSET_MAX (the
					   first words are kept, indexes past
					   them are all delivered) */

	/* GET_LAST_MESSAGE_ID_RESPONSE */
	int		 has_mark_delete;
	struct pw_msgid	 mark_delete;

	/* ACTIVE_CONSUMER_CHANGE */
	int		 is_active;

	/* CONSUMER_STATS_RESPONSE (also request_id, error, message) */
	int		 has_backlog;
	uint64_t	 msg_backlog;

	/* Client-side commands (decoded for tests and test tools). */
	uint32_t	 permits;	/* FLOW */
	int		 ack_type;	/* ACK */
	int		 n_ids;		/* ACK, REDELIVER: ids in the command */
	struct pw_bytes	 topic;		/* SUBSCRIBE LOOKUP PARTITIONED_METADATA */
	struct pw_bytes	 subscription;	/* SUBSCRIBE */
	int		 sub_type;	/* SUBSCRIBE */
	uint64_t	 publish_time;	/* SEEK by time; 0 when by id */

	/* Producers.  SEND_RECEIPT's message id is in msgid; SEND_ERROR's
	   error and text in error and message. */
	uint64_t	 producer_id;	/* PRODUCER SEND SEND_RECEIPT
					   SEND_ERROR CLOSE_PRODUCER */
	uint64_t	 sequence_id;	/* SEND SEND_RECEIPT SEND_ERROR */
	struct pw_bytes	 producer_name;	/* PRODUCER PRODUCER_SUCCESS */
	int64_t		 last_sequence_id; /* PRODUCER_SUCCESS; -1: none */
	int32_t		 num_messages;	/* SEND; 0 when absent (1) */
};

/*
 * Decode one BaseCommand (pw_frame.cmd).  0 on success, -1 with *errstr on
 * malformed protobuf (truncated varint, length past the end, wrong wire
 * type for a known field, missing type, wire types 6 and 7, groups that
 * do not end or nest deeper than 32).  Unknown fields of every wire type,
 * groups included, are skipped at every level; the body of an unknown
 * command type is not looked into (type set, nothing else).
 */
int	pw_cmd_decode(struct pw_cmd *, const void *cmd, size_t len,
	    const char **errstr);

/* ------------------------------------------------------------------ */
/* Encoding commands: each appends one whole frame to out.             */

struct pw_connect {
	const char	*client_version;	/* "lakepipe x.y" */
	const char	*auth_method_name;	/* "token", or NULL */
	const void	*auth_data;		/* the token */
	size_t		 auth_data_len;
	const char	*proxy_to_broker_url;	/* NULL unless via a proxy */
	int		 supports_auth_refresh;	/* feature flag */
};

void	pw_enc_connect(struct buf *out, const struct pw_connect *);
/* Answer to AUTH_CHALLENGE. */
void	pw_enc_auth_response(struct buf *out, const char *client_version,
	    const char *auth_method_name, const void *data, size_t len);

void	pw_enc_lookup(struct buf *out, const char *topic, uint64_t request_id,
	    int authoritative, const char *advertised_listener_name);
void	pw_enc_partitioned_metadata(struct buf *out, const char *topic,
	    uint64_t request_id);

struct pw_subscribe {
	const char	*topic;
	const char	*subscription;
	int		 sub_type;		/* enum pw_sub_type */
	uint64_t	 consumer_id;
	uint64_t	 request_id;
	const char	*consumer_name;		/* NULL: none */
	int		 non_durable;		/* 0 normally: a durable cursor */
	int		 initial_position;	/* enum pw_initial_position */
	const struct msgid *start_message_id;	/* NULL: none (non-durable) */
	uint64_t	 start_message_rollback_duration_sec; /* 0: none */
	int		 read_compacted;
	int		 create_topic;		/* 0: fail on a missing topic */
};

void	pw_enc_subscribe(struct buf *out, const struct pw_subscribe *);
void	pw_enc_flow(struct buf *out, uint64_t consumer_id, uint32_t permits);

/* One id to acknowledge.  ack_set: words of the bit set of batch indexes
   still NOT acknowledged (Pulsar's convention), for partial batch acks;
   ack_set_len 0 to ack the whole entry. */
struct pw_ack_id {
	struct msgid	 id;
	const uint64_t	*ack_set;
	int		 ack_set_len;
	int32_t		 batch_size;		/* 0: leave out */
};

void	pw_enc_ack(struct buf *out, uint64_t consumer_id, int ack_type,
	    const struct pw_ack_id *ids, size_t n);
/* n 0: redeliver everything unacknowledged. */
void	pw_enc_redeliver(struct buf *out, uint64_t consumer_id,
	    const struct msgid *ids, size_t n);
void	pw_enc_seek_id(struct buf *out, uint64_t consumer_id,
	    uint64_t request_id, const struct msgid *);
void	pw_enc_seek_time(struct buf *out, uint64_t consumer_id,
	    uint64_t request_id, uint64_t publish_time_ms);
void	pw_enc_close_consumer(struct buf *out, uint64_t consumer_id,
	    uint64_t request_id);
/* CONSUMER_STATS: the broker's view of the consumer (its backlog). */
void	pw_enc_consumer_stats(struct buf *out, uint64_t consumer_id,
	    uint64_t request_id);
/* UNSUBSCRIBE: remove the consumer's subscription. */
void	pw_enc_unsubscribe(struct buf *out, uint64_t consumer_id,
	    uint64_t request_id);
void	pw_enc_get_last_message_id(struct buf *out, uint64_t consumer_id,
	    uint64_t request_id);
/* ---- producing ---- */

/*
 * PRODUCER: the broker answers PRODUCER_SUCCESS (with the name it gave
 * the producer) or ERROR.  producer_name is NULL the first time; after a
 * reconnect, pass the name the broker gave: it goes out with
 * user_provided_producer_name false, as Pulsar's own clients do, so that
 * the broker's de-duplication (when enabled) sees one producer.
 */
struct pw_producer {
	const char	*topic;			/* one partition's full name */
	uint64_t	 producer_id;
	uint64_t	 request_id;
	const char	*producer_name;		/* NULL: the broker names it */
};

void	pw_enc_producer(struct buf *out, const struct pw_producer *);

/* A property of a message to send (spans: not NUL-terminated). */
struct pw_kv {
	struct pw_bytes	 key, value;
};

/* One message to SEND (never a batch: num_messages is left out). */
struct pw_send {
	uint64_t	 producer_id;
	uint64_t	 sequence_id;		/* the broker's receipt names it */
	const char	*producer_name;		/* as PRODUCER_SUCCESS gave it */
	uint64_t	 publish_time;		/* ms */
	uint64_t	 event_time;		/* ms; 0: none */
	int		 has_key;
	struct pw_bytes	 key;			/* partition_key */
	int		 has_ordering_key;
	struct pw_bytes	 ordering_key;
	const struct pw_kv *props;
	size_t		 nprops;
	int		 null_value;		/* payload empty and null */
	const void	*payload;
	size_t		 len;
};

/*
 * SEND: the command, then [0x0e01][CRC32C][metadata size][MessageMetadata]
 * [payload], the checksum over what follows it, as brokers verify it.
 * Brokers close a connection whose frame is over CONNECTED's
 * max_message_size plus PW_FRAME_PADDING: check what this appended
 * before it goes out.
 */
void	pw_enc_send(struct buf *out, const struct pw_send *);
void	pw_enc_close_producer(struct buf *out, uint64_t producer_id,
	    uint64_t request_id);

void	pw_enc_ping(struct buf *out);
void	pw_enc_pong(struct buf *out);

/* ------------------------------------------------------------------ */
/* MESSAGE payloads: checksum, metadata, decompression, batches, chunks */

/* CRC32C (Castagnoli), as Pulsar's checksum: "123456789" -> 0xE3069283. */
uint32_t pw_crc32c(const void *, size_t);

/*
 * Properties (repeated KeyValue) stay encoded in the metadata they came
 * from; iterate them without allocating:
 *
 *	struct pw_bytes k, v;
 *	struct pw_props it = msg->props;
 *	while (pw_props_next(&it, &k, &v)) ...
 */
struct pw_props {
	const char	*p;		/* the enclosing metadata message */
	size_t		 len;
	int		 field;		/* its field number for KeyValue */
	size_t		 count;		/* how many properties (an iterator:
					   how many it has still to give) */
};

int	pw_props_next(struct pw_props *, struct pw_bytes *key,
	    struct pw_bytes *value);

/* One message, as pw_message_process() hands it to the caller. */
struct pw_msg {
	struct msgid	 id;		/* ledger, entry, partition (from the
					   MESSAGE command), batch index (-1
					   when the entry is not a batch) */
	int32_t		 batch_size;	/* messages in the entry (0: no batch) */
	uint32_t	 redelivery_count;
	uint64_t	 publish_time;	/* ms */
	uint64_t	 event_time;	/* ms; 0 when absent */
	uint64_t	 sequence_id;
	struct pw_bytes	 producer_name;
	int		 has_key;
	struct pw_bytes	 key;		/* partition_key */
	int		 key_b64;	/* partition_key_b64_encoded */
	int		 has_ordering_key;
	struct pw_bytes	 ordering_key;
	struct pw_props	 props;
	int		 null_value;	/* payload is empty and means null */
	struct pw_bytes	 payload;
	/* 1 on the last message that this entry (or chunked message)
	   gives: count messages per entry up to it to know when all of
	   an entry's messages are delivered (skipped ones never come). */
	int		 last_in_entry;
	/* Chunked messages (num_chunks > 1): the id above is the last
	   chunk's; every chunk's entry must be acknowledged. */
	int		 num_chunks;	/* 0 when not chunked */
	const struct msgid *chunk_ids;	/* num_chunks ids, in chunk order */
};

/* Why a pw_drop_fn is called. */
enum pw_drop_reason {
	PW_DROP_SKIPPED = 1,		/* entry gives no message: all compacted
					   out, all acked already, or a marker:
					   safe to ack */
	PW_DROP_DUPLICATE_CHUNK,	/* a chunk seen before: safe to ack */
	PW_DROP_MISSING_CHUNK,		/* chunk ids out of order: message lost */
	PW_DROP_CHUNK_TIMEOUT,		/* incomplete too long */
	PW_DROP_CHUNK_OVERFLOW,		/* too many pending messages / bytes,
					   or one message over max_chunked_size */
};
/* A complete chunked message that does not decompress is reported as
   PW_DROP_MISSING_CHUNK with every chunk's id and the codec's error. */

struct pw_sink {
	/* One message; return 0 to go on, non-zero to stop the batch
	   (pw_message_process then returns that value). */
	int	(*msg)(void *arg, const struct pw_msg *);
	/*
	 * Entries that will never produce a message (see reason), with a
	 * warning text.  The caller chooses: ack them (the data is gone or
	 * duplicated), or leave them for redelivery.  May be NULL.
	 */
	void	(*drop)(void *arg, const struct msgid *ids, size_t n,
		    enum pw_drop_reason, const char *why);
	void	*arg;
	/*
	 * May be NULL.  The messages of a batch entry to deliver, n >= 1
	 * in order, in one call instead of n calls of msg (the same return
	 * value): a call per batch, not per message.
	 */
	int	(*batch)(void *arg, const struct pw_msg *msgs, size_t n);
};

struct pw_limits {
	size_t	max_uncompressed;	/* one entry, after decompression;
					   0: 64 MB */
	size_t	max_batch;		/* messages in one batch; 0: 100000 */
	size_t	max_chunked_size;	/* one chunked message; 0: 256 MB */
	size_t	max_pending_chunked;	/* messages being reassembled; 0: 100 */
	size_t	max_pending_bytes;	/* their bytes together; 0: 512 MB */
	uint64_t chunk_timeout_ms;	/* 0: 60000 */
};

/* Per connection (or per consumer): scratch buffers and the chunk table. */
struct pw_decoder;

struct pw_decoder *pw_decoder_new(const struct pw_limits *);	/* NULL: defaults */
void	pw_decoder_free(struct pw_decoder *);

/* pw_message_process() results below 0. */
enum pw_msg_error {
	PW_E_CORRUPT = -1,	/* malformed metadata or batch */
	PW_E_CHECKSUM = -2,	/* CRC32C mismatch */
	PW_E_DECOMPRESS = -3,	/* codec error or size mismatch */
	PW_E_TOO_BIG = -4,	/* over a limit (decompression bomb, batch) */
	PW_E_ENCRYPTED = -5,	/* end-to-end encrypted: cannot decode */
	PW_E_UNSUPPORTED = -6,	/* unknown compression type */
};

/*
 * Process one MESSAGE: cmd is its decoded command (msgid, redelivery
 * count, ack_set), rest/rest_len the pw_frame's rest.  Skips broker entry
 * metadata, verifies the checksum when present, decodes the metadata,
 * decompresses, unbatches (skipping compacted-out messages and batch
 * indexes the ack_set marks as acknowledged), reassembles chunks, and
 * calls sink->msg for each message, in order.  now_ms (any monotonic
 * clock) times out incomplete chunked messages.
 *
 * Returns 0 when done, the non-zero value sink->msg returned, or an enum
 * pw_msg_error (< 0) with pw_decoder_error() telling why in one line; on
 * an error no message of the entry was emitted (a malformed batch is
 * checked whole before its first message goes out).  An entry that gives
 * no message is reported to sink->drop (PW_DROP_SKIPPED), except a chunk
 * held for reassembly: its id comes back later, in pw_msg.chunk_ids or
 * through sink->drop.
 *
 * The MESSAGE command's message id often lacks the partition: set
 * cmd->msgid.id.partition to the consumer's partition index (or -1)
 * before the call; messages carry it on.
 */
int	pw_message_process(struct pw_decoder *, const struct pw_cmd *cmd,
	    const void *rest, size_t rest_len, uint64_t now_ms,
	    const struct pw_sink *sink);
const char *pw_decoder_error(const struct pw_decoder *);

/* Drop incomplete chunked messages older than the timeout (call now and
   then, e.g. once a second); the drop callback names their ids. */
void	pw_decoder_expire(struct pw_decoder *, uint64_t now_ms,
	    const struct pw_sink *sink);

/* Forget all pending chunks (after a reconnect, the broker redelivers);
   their ids are not reported. */
void	pw_decoder_reset(struct pw_decoder *);

#endif
