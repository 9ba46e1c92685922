/* Prometheus text files; see metrics.h. */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"

enum mtype { M_COUNTER, M_GAUGE };

struct metric {
	char		*name;		/* with labels, without the prefix */
	char		*help;
	enum mtype	 type;
	uint64_t	 count;
	double		 value;
};

static struct {
	char		*path;
	char		*prefix;	/* "lakepipe_deliver_" */
	struct metric	**m;		/* in registration order */
	size_t		 n;
	double		 next;		/* monotonic time of the next write */
	int		 warned;
} reg;

void
metrics_init(const char *path, const char *prog)
{
	struct buf b = BUF_INIT;

	free(reg.path);
	reg.path = path != NULL ? xstrdup(path) : NULL;
	buf_addf(&b, "lakepipe_%s_", prog);
	free(reg.prefix);
	reg.prefix = buf_detach(&b, NULL);
	reg.next = monotime();
}

static struct metric *
lookup(const char *name, const char *help, enum mtype type)
{
	struct metric *m;
	size_t i;

	for (i = 0; i < reg.n; i++)
		if (strcmp(reg.m[i]->name, name) == 0)
			return reg.m[i];
	m = xcalloc(1, sizeof(*m));
	m->name = xstrdup(name);
	m->help = xstrdup(help);
	m->type = type;
	reg.m = xreallocarray(reg.m, reg.n + 1, sizeof(*reg.m));
	reg.m[reg.n++] = m;
	return m;
}

uint64_t *
metrics_counter(const char *name, const char *help)
{
	return &lookup(name, help, M_COUNTER)->count;
}

double *
metrics_gauge(const char *name, const char *help)
{
	return &lookup(name, help, M_GAUGE)->value;
}

/* Label values escape '\\', '"' and newline, as the format asks. */
static void
add_label_value(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_addch(b, '\\');
		if (*v == '\n')
			buf_addstr(b, "\\n");
		else
			buf_addch(b, *v);
	}
}

void
metrics_info(const char *name, const char *help, const char *label,
    const char *value)
{
	struct buf b = BUF_INIT;
	size_t i, len = strlen(name);

	/* one series per name: drop the one with the old value */
	for (i = 0; i < reg.n; i++)
		if (strncmp(reg.m[i]->name, name, len) == 0 &&
		    reg.m[i]->name[len] == '{')
			reg.m[i]->value = -1;	/* not written */
	buf_addf(&b, "%s{%s=\"", name, label);
	add_label_value(&b, value);
	buf_addstr(&b, "\"}");
	lookup(b.data, help, M_GAUGE)->value = 1;
	buf_release(&b);
}

/* The name without labels, for the HELP and TYPE lines. */
static size_t
base_len(const char *name)
{
	return strcspn(name, "{");
}

static int
seen_base(size_t upto, const char *name)
{
	size_t i, len = base_len(name);

	for (i = 0; i < upto; i++)
		if (base_len(reg.m[i]->name) == len &&
		    strncmp(reg.m[i]->name, name, len) == 0)
			return 1;
	return 0;
}

static void
render(struct buf *b)
{
	const struct metric *m;
	size_t i;

	for (i = 0; i < reg.n; i++) {
		m = reg.m[i];
		if (!seen_base(i, m->name))
			buf_addf(b, "# HELP %s%.*s %s\n# TYPE %s%.*s %s\n",
			    reg.prefix, (int)base_len(m->name), m->name,
			    m->help, reg.prefix, (int)base_len(m->name),
			    m->name, m->type == M_COUNTER ? "counter" :
			    "gauge");
		if (m->type == M_COUNTER)
			buf_addf(b, "%s%s %llu\n", reg.prefix, m->name,
			    (unsigned long long)m->count);
		else if (m->value >= 0 || strstr(m->name, "_info{") == NULL)
			buf_addf(b, "%s%s %.17g\n", reg.prefix, m->name,
			    m->value);
	}
}

/* The rendered text into path, by a temporary file renamed over it. */
static int
replace_file(const char *path, const struct buf *text)
{
	struct buf tmp = BUF_INIT;
	int fd, rc = -1;

	buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		rc = write_all(fd, text->data, text->len);
		if (close(fd) < 0)
			rc = -1;
		if (rc == 0)
			rc = rename(tmp.data, path);
		if (rc < 0)
			unlink(tmp.data);
	}
	buf_release(&tmp);
	return rc;
}

int
metrics_flush(void)
{
	struct buf b = BUF_INIT;
	int rc;

	if (reg.path == NULL)
		return 0;
	reg.next = monotime() + METRICS_INTERVAL;
	render(&b);
	if ((rc = replace_file(reg.path, &b)) < 0) {
		if (!reg.warned)	/* once: a full disk must not flood */
			warn("--metrics-file %s", reg.path);
		reg.warned = 1;
	} else
		reg.warned = 0;
	buf_release(&b);
	return rc;
}

int
metrics_timeout_ms(void)
{
	double left;

	if (reg.path == NULL)
		return -1;
	left = reg.next - monotime();
	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

void
metrics_tick(void)
{
	if (reg.path != NULL && monotime() >= reg.next)
		(void)metrics_flush();
}
