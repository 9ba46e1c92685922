/* Pulsar topic names; see topic.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "topic.h"

/* Pulsar's rule for tenant, namespace and topic characters, roughly. */
static int
good_part(const char *s, size_t n, int is_local)
{
	size_t i;

	if (n == 0 || n > 1024)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '/')
			return 0;
		if (!is_local && !(c == '-' || c == '_' || c == '.' ||
		    c == '=' || c == ':' || (c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return 0;
	}
	return 1;
}

int
topic_parse(struct topic *t, const char *s, const char **why)
{
	const char *rest = s, *sl1, *sl2, *domain = "persistent";
	struct buf full = BUF_INIT;

	memset(t, 0, sizeof(*t));
	if (strncmp(s, "persistent://", 13) == 0)
		rest = s + 13;
	else if (strncmp(s, "non-persistent://", 17) == 0) {
		domain = "non-persistent";
		rest = s + 17;
	} else if (strstr(s, "://") != NULL) {
		*why = "unknown topic domain (expected persistent://)";
		return -1;
	}
	if ((sl1 = strchr(rest, '/')) == NULL) {
		if (rest != s) {
			*why = "expected persistent://TENANT/NAMESPACE/TOPIC";
			return -1;
		}
		if (!good_part(rest, strlen(rest), 1)) {
			*why = "bad topic name";
			return -1;
		}
		t->tenant = xstrdup("public");
		t->ns = xstrdup("default");
		t->local = xstrdup(rest);
	} else {
		if ((sl2 = strchr(sl1 + 1, '/')) == NULL ||
		    !good_part(rest, (size_t)(sl1 - rest), 0) ||
		    !good_part(sl1 + 1, (size_t)(sl2 - sl1 - 1), 0) ||
		    !good_part(sl2 + 1, strlen(sl2 + 1), 1)) {
			*why = "expected TENANT/NAMESPACE/TOPIC (as the TDMQ "
			    "console shows it) or persistent://"
			    "TENANT/NAMESPACE/TOPIC";
			return -1;
		}
		t->tenant = xstrndup(rest, (size_t)(sl1 - rest));
		t->ns = xstrndup(sl1 + 1, (size_t)(sl2 - sl1 - 1));
		t->local = xstrdup(sl2 + 1);
	}
	t->domain = xstrdup(domain);
	buf_addf(&full, "%s://%s/%s/%s", domain, t->tenant, t->ns, t->local);
	t->full = buf_detach(&full, NULL);
	return 0;
}

void
topic_free(struct topic *t)
{
	free(t->full);
	free(t->domain);
	free(t->tenant);
	free(t->ns);
	free(t->local);
	memset(t, 0, sizeof(*t));
}
