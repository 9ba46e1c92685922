/* unit: consume/lakecsv.c consume/lakerec.c */
/*
 * Unit tests of consume --lake's CSV reader (consume/lakecsv.c) on
 * objects written by hand: the delimiter found from the header row
 * (quoted first names, '_', tab), columns in any order and others
 * besides, quoted fields with doubled quotes, CR, LF and the delimiter
 * in them, LF or CRLF line ends, a last line without one, a null and an
 * empty string told apart; what is refused, refused with its reason.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "../../consume/lakecsv.h"
#include "../../consume/lakerec.h"
#include "unit.h"

#define HEAD	"message_id,topic,partition,key,publish_time,event_time," \
	"properties,redelivery_count,payload_encoding,payload\r\n"
#define ROW	"1:2:-1:-1,persistent://a/b/c,-1,,2025-11-27T00:00:00.001Z," \
	",{},0,string,x\r\n"

/*
 * The answers of the reader over s, whole: each record's frame (seq 1)
 * or "bad: why" or "fail: why", one a line.
 */
static const char *
read_all(const char *s)
{
	static struct buf out = BUF_INIT;
	struct lakecsv c;
	struct lakerec r;
	const char *why;
	size_t n = strlen(s), used;
	int rc;

	buf_reset(&out);
	lakecsv_init(&c);
	lakerec_init(&r);
	for (;;) {
		rc = lakecsv_next(&c, &r, s, n, 1, &used, &why);
		s += used;
		n -= used;
		if (rc == CSV_ROW)
			lakerec_frame(&out, &r, 1);
		else if (rc == CSV_BAD || rc == CSV_FAIL)
			buf_addf(&out, "%s: %s\n", rc == CSV_BAD ? "bad" :
			    "fail", why);
		if (rc == CSV_END || rc == CSV_FAIL || rc == CSV_MORE)
			break;
	}
	lakerec_release(&r);
	lakecsv_release(&c);
	return out.data != NULL ? out.data : "";
}

static void
test_rows(void)
{
	CHECK_STR(read_all(HEAD ROW),
	    "M 1 seq=1 id=1:2:-1:-1 topic=persistent://a/b/c pt=1764201600001"
	    "\nx\n", "a row, every column as transform writes it");
	CHECK_STR(read_all("payload,payload_encoding,redelivery_count,"
	    "properties,event_time,publish_time,key,topic,message_id,extra\n"
	    "\"a,\"\"b\"\"\r\nc\",string,2,\"{\"\"n\"\":\"\"v w\"\"}\","
	    "2025-11-27T00:00:00.005Z,1970-01-01T00:00:00.000Z,\"\","
	    "t,7:0:1:3,z"),
	    "M 8 seq=1 id=7:0:1:3 topic=t pt=0 et=1764201600005 key= rc=2 "
	    "p.n=v%20w\na,\"b\"\r\nc\n",
	    "columns in another order, one more, LF ends, no last end; a "
	    "quoted delimiter, quote, CRLF; an empty key");
	CHECK_STR(read_all("\"message_id\"\t\"topic\"\tkey\tpublish_time\t"
	    "event_time\tproperties\tredelivery_count\tpayload_encoding\t"
	    "payload\r\n1:1:-1:-1\tt\t\t2025-11-27T00:00:00.000Z\t\t{}\t0\t"
	    "null\t\r\n"),
	    "M 0 seq=1 id=1:1:-1:-1 topic=t pt=1764201600000 null=1\n\n",
	    "a tab after a quoted first name; a null message");
	CHECK_STR(read_all("\"message_id\"_topic_key_\"publish_time\"_"
	    "\"event_time\"_properties_\"redelivery_count\"_"
	    "\"payload_encoding\"_payload\r\n"
	    "1:1:-1:-1_t__2025-11-27T00:00:00.000Z__{}_0_base64_/+4=\r\n"),
	    "M 2 seq=1 id=1:1:-1:-1 topic=t pt=1764201600000\n\xff\xee\n",
	    "'_' as delimiter; a base64 payload");
}

static void
test_refused(void)
{
	CHECK_STR(read_all("message_id,topic,key\r\n"),
	    "fail: no publish_time column (written with --meta?)\n",
	    "a header without publish_time");
	CHECK_STR(read_all("message_id,topic,partition,key,publish_time,"
	    "event_time,properties,redelivery_count,a\r\n"),
	    "fail: no payload column (written with --fields?)\n",
	    "a header without payload");
	CHECK_STR(read_all(HEAD "1:2:-1:-1,t\r\n" ROW),
	    "bad: 2 fields, the header row has 10\n"
	    "M 1 seq=1 id=1:2:-1:-1 topic=persistent://a/b/c pt=1764201600001"
	    "\nx\n", "a short row is bad, the next read");
	CHECK_STR(read_all(HEAD "1:2:-1:-1,t,-1,,2025-11-27T00:00:00.001Z,,"
	    "{},0,null,x\r\n"),
	    "bad: payload: null exactly when payload_encoding is null\n",
	    "a null message with a payload");
	CHECK_STR(read_all(HEAD "1:2:-1:-1,t,-1,,2025-02-30T00:00:00.001Z,,"
	    "{},0,string,x\r\n"),
	    "bad: publish_time: not a time\n", "February 30th");
	CHECK_STR(read_all(HEAD "1:2:-1:-1,t,-1,a\"b,x\r\n"),
	    "fail: a quote inside a field that is not quoted\n",
	    "a quote inside a field");
	CHECK_STR(read_all(HEAD "\"1:2\"x,t\r\n"),
	    "fail: bytes after a closing quote\n", "bytes after a quote");
	CHECK_STR(read_all(HEAD "1:2:-1:-1\rt\r\n"),
	    "fail: a CR not followed by LF\n", "a bare CR");
	CHECK_STR(read_all(HEAD "\"1:2:-1:-1,t\r\n"),
	    "fail: a quoted field without its closing quote\n",
	    "a quoted field to the end");
	CHECK_STR(read_all("message_id,message_id\r\n"),
	    "fail: column message_id twice in the header row\n",
	    "a column twice");
}

int
main(void)
{
	test_rows();
	test_refused();
	return unit_done();
}
