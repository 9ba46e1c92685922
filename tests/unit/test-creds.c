/* unit: deliver/creds.c deliver/metadata.c */
/*
 * deliver's credentials: the metadata service's key document, a
 * --credentials file read again when it changes, and the starring out of
 * keys in a store's error text.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../deliver/creds.h"
#include "../../deliver/metadata.h"
#include "unit.h"

static int
parses(const char *json)
{
	struct role_keys k;
	char why[256];
	int rc = metadata_parse_keys(json, &k, why, sizeof(why));

	role_keys_wipe(&k);
	return rc == 0;
}

static void
test_documents(void)
{
	struct role_keys k;
	char why[256];

	CHECK(metadata_parse_keys("{\"TmpSecretId\":\"AKIDx\",\"TmpSecretKey\""
	    ": \"s\\/k\",\n \"Token\" : \"t\\\"1\", \"ExpiredTime\": 1615590047,"
	    " \"Expiration\":\"2021-03-12T23:00:47Z\",\"Code\":\"Success\"}",
	    &k, why, sizeof(why)) == 0, "the CVM document parses");
	CHECK_STR(k.id, "AKIDx", "TmpSecretId");
	CHECK_STR(k.secret, "s/k", "TmpSecretKey, \\/ decoded");
	CHECK_STR(k.token, "t\"1", "Token, \\\" decoded");
	CHECK(k.expires == 1615590047, "ExpiredTime");
	role_keys_wipe(&k);
	CHECK(metadata_parse_keys("{\"TmpSecretId\":\"a\",\"TmpSecretKey\":"
	    "\"b\",\"Token\":\"c\",\"Expiration\":\"2021-03-12T23:00:47Z\"}",
	    &k, why, sizeof(why)) == 0 && k.expires == 1615590047,
	    "Expiration (ISO 8601) when ExpiredTime is absent");
	role_keys_wipe(&k);
	CHECK(!parses("{\"TmpSecretId\":\"a\",\"TmpSecretKey\":\"b\","
	    "\"Token\":\"c\",\"ExpiredTime\":1,\"Code\":\"Failure\"}"),
	    "a Code other than Success is refused");
	CHECK(!parses("{\"TmpSecretId\":\"a\",\"TmpSecretKey\":\"b\","
	    "\"ExpiredTime\":1}"), "no Token: refused");
	CHECK(!parses("{\"TmpSecretId\":\"a\",\"TmpSecretKey\":\"b\","
	    "\"Token\":\"c\"}"), "no expiry: refused");
	CHECK(!parses("not json"), "not an object: refused");
	CHECK(!parses("{\"TmpSecretId\":{\"x\":1}}"), "nested: refused");
	CHECK(!parses("{\"TmpSecretId\":\"a"), "cut short: refused");
	CHECK(!parses(""), "empty: refused");
	CHECK(metadata_parse_keys("{\"Code\":\"Failure\"}", &k, why,
	    sizeof(why)) < 0 && strstr(why, "Code Failure") != NULL,
	    "the reason names the Code");
	CHECK(metadata_role_ok("lakepipe-role_1.a@b=c,d+e") &&
	    !metadata_role_ok("") && !metadata_role_ok("a/b") &&
	    !metadata_role_ok("a b"), "role names");
}

static void
write_keys(const char *path, const char *id, const char *key)
{
	char tmp[256];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = fopen(tmp, "w");
	fprintf(fp, "TENCENTCLOUD_SECRET_ID=%s\nTENCENTCLOUD_SECRET_KEY=%s\n"
	    "TENCENTCLOUD_SESSION_TOKEN=tok-%s\n", id, key, id);
	fclose(fp);
	rename(tmp, path);
}

static void
test_file(void)
{
	char path[] = "/tmp/test-creds.XXXXXX", why[256];
	struct sign_creds sc;
	struct creds c;
	unsigned gen;
	int fd = mkstemp(path);

	close(fd);
	write_keys(path, "AKIDone", "keyone");
	CHECK(creds_load(&c, DEST_COS, path, why, sizeof(why)) == 0,
	    "a credentials file loads");
	creds_sign(&c, &sc);
	CHECK_STR(sc.id, "AKIDone", "its id");
	CHECK_STR(sc.token, "tok-AKIDone", "its token");
	gen = c.gen;
	creds_sign(&c, &sc);
	CHECK(c.gen == gen, "unchanged file: same keys");
	write_keys(path, "AKIDtwo", "keytwo");
	creds_sign(&c, &sc);
	CHECK_STR(sc.id, "AKIDtwo", "renamed into place: read again");
	CHECK_STR(sc.secret, "keytwo", "with its secret");
	CHECK(c.gen == gen + 1, "a new generation");
	CHECK(creds_renew(&c, gen) == 1, "a refusal of older keys: retry");
	CHECK(creds_renew(&c, c.gen) == 0,
	    "a refusal of the current keys, file unchanged: no retry");
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd >= 0)
		close(fd);
	creds_sign(&c, &sc);
	CHECK_STR(sc.id, "AKIDtwo", "an emptied file: the keys in hand kept");
	creds_release(&c);
	unlink(path);
}

static void
test_redact(void)
{
	struct creds c;
	char id[] = "AKIDsecretid", secret[] = "SecretKeyValue";
	char token[] = "TokenValue1";
	char text[] = "denied: AKIDsecretid with SecretKeyValue, token "
	    "TokenValue1 (AKIDsecretid)";

	memset(&c, 0, sizeof(c));
	c.id = id;
	c.secret = secret;
	c.token = token;
	creds_redact(&c, text);
	CHECK_STR(text, "denied: ************ with **************, token "
	    "*********** (************)", "id, secret and token starred out");
}

static void
test_specs(void)
{
	char why[256];

	CHECK(creds_check(DEST_COS, "instance-role", why, sizeof(why)) == 0,
	    "instance-role: checked offline");
	CHECK(creds_check(DEST_S3, "instance-role:my-role", why,
	    sizeof(why)) == 0, "instance-role:ROLE");
	CHECK(creds_check(DEST_COS, "instance-role:a/b", why,
	    sizeof(why)) < 0 && strstr(why, "not a role name") != NULL,
	    "a bad role name");
	CHECK(creds_check(DEST_COS, "/nonexistent/instance-role", why,
	    sizeof(why)) < 0, "a path is a file, whatever its name");
}

int
main(void)
{
	test_documents();
	test_file();
	test_redact();
	test_specs();
	return unit_done();
}
