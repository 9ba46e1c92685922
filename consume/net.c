/* Addresses, TCP and TLS connections; see net.h. */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "stop.h"

#define READ_SIZE	(256 * 1024)

void
failure_set(struct failure *f, int permanent, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
	f->permanent = permanent;
	f->auth = 0;
}

int
url_parse(struct url *u, const char *s, const char **why)
{
	static const struct {
		const char *scheme;
		int tls, http;
		const char *port;
	} schemes[] = {
		{ "pulsar://", 0, 0, "6650" },
		{ "pulsar+ssl://", 1, 0, "6651" },
		{ "http://", 0, 1, "80" },
		{ "https://", 1, 1, "443" },
	};
	const char *p = NULL, *end, *colon;
	size_t i, n;

	memset(u, 0, sizeof(*u));
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		n = strlen(schemes[i].scheme);
		if (strncasecmp(s, schemes[i].scheme, n) == 0) {
			p = s + n;
			break;
		}
	}
	if (p == NULL) {
		*why = "expected pulsar://, pulsar+ssl://, http:// or https://";
		return -1;
	}
	end = p + strcspn(p, ",/?#");
	if (*p == '[') {		/* [v6]:port */
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (rb == NULL) {
			*why = "unclosed [ in the host";
			return -1;
		}
		u->host = xstrndup(p + 1, (size_t)(rb - p - 1));
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		u->host = xstrndup(p, (size_t)((colon ? colon : end) - p));
	}
	if (colon != NULL) {
		const char *e;
		char *port = xstrndup(colon + 1, (size_t)(end - colon - 1));

		(void)strtonum(port, 1, 65535, &e);
		if (e != NULL) {
			free(port);
			url_free(u);
			*why = "bad port";
			return -1;
		}
		u->port = port;
	} else
		u->port = xstrdup(schemes[i].port);
	if (u->host[0] == '\0') {
		url_free(u);
		*why = "no host";
		return -1;
	}
	u->tls = schemes[i].tls;
	u->http = schemes[i].http;
	return 0;
}

void
url_free(struct url *u)
{
	free(u->host);
	free(u->port);
	memset(u, 0, sizeof(*u));
}

int net_insecure;

struct ssl_ctx_st *
net_tls_context(const char *ca_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		errx(EXIT_FAIL, "TLS: cannot make a context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, net_insecure ? SSL_VERIFY_NONE :
	    SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
			errx(EXIT_FAIL, "%s: cannot load CA certificates",
			    ca_file);
	} else
		SSL_CTX_set_default_verify_paths(ctx);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

static int
wait_fd(int fd, short events, double deadline)
{
	struct pollfd pfd = { fd, events, 0 };
	double left;
	int n;

	for (;;) {
		left = deadline - monotime();
		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n < 0 && errno == EINTR && !stop_asked())
			continue;
		return n;
	}
}

static int
tcp_connect(const char *host, const char *port, double deadline,
    struct failure *f)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, rc, soerr, one = 1;
	socklen_t sl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		/* a name that does not exist does not come to exist */
		failure_set(f, rc == EAI_NONAME, "%s:%s: %s", host, port,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS && (rc = wait_fd(fd, POLLOUT,
		    deadline)) > 0) {
			sl = sizeof(soerr);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &sl) == 0 && soerr == 0)
				break;
			errno = soerr;
		} else if (errno == EINPROGRESS)
			errno = rc < 0 ? EINTR : ETIMEDOUT;
		close(fd);
		fd = -1;
		if (errno == EINTR)
			break;
	}
	if (fd < 0)
		failure_set(f, 0, "connect to %s:%s: %s", host, port,
		    strerror(errno));
	else
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	freeaddrinfo(res);
	return fd;
}

static const char *
tls_error(void)
{
	static char msg[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "connection closed";
	ERR_error_string_n(e, msg, sizeof(msg));
	ERR_clear_error();
	return msg;
}

/*
 * A handshake that fails is permanent (a plain port, a certificate not
 * trusted); one that times out or is interrupted is not.
 */
static int
tls_handshake(struct conn *c, SSL_CTX *ctx, double deadline,
    struct failure *f)
{
	SSL *ssl = SSL_new(ctx);
	struct in6_addr a6;
	struct in_addr a4;
	int rc, e, w = 1;

	if (ssl == NULL) {
		failure_set(f, 1, "TLS: out of memory");
		return -1;
	}
	c->ssl = ssl;
	SSL_set_fd(ssl, c->fd);
	if (inet_pton(AF_INET, c->host, &a4) == 1 ||
	    inet_pton(AF_INET6, c->host, &a6) == 1)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c->host);
	else {
		SSL_set_tlsext_host_name(ssl, c->host);
		SSL_set1_host(ssl, c->host);
	}
	for (;;) {
		if ((rc = SSL_connect(ssl)) == 1)
			return 0;
		e = SSL_get_error(ssl, rc);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
		    (w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN :
		    POLLOUT, deadline)) <= 0)
			break;
	}
	if (w <= 0)
		failure_set(f, 0, "TLS %s:%s: %s", c->host, c->port, w < 0 ?
		    "interrupted" : "no handshake answer in time");
	else if (SSL_get_verify_result(ssl) != X509_V_OK)
		failure_set(f, 1, "TLS %s:%s: certificate not trusted: %s "
		    "(give its CA with --ca-file)", c->host, c->port,
		    X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
	else
		failure_set(f, 1, "TLS %s:%s: handshake failed: %s (is it a "
		    "TLS port? pulsar+ssl:// and https:// need one)", c->host,
		    c->port, tls_error());
	return -1;
}

struct conn *
conn_open(const char *host, const char *port, int tls, struct ssl_ctx_st *ctx,
    double timeout, struct failure *f)
{
	double deadline = monotime() + timeout;
	struct conn *c;
	int fd;

	if ((fd = tcp_connect(host, port, deadline, f)) < 0)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->host = xstrdup(host);
	c->port = xstrdup(port);
	c->tls = tls;
	buf_init(&c->in, READ_SIZE);
	buf_init(&c->out, 0);
	if (tls && tls_handshake(c, ctx, deadline, f) < 0) {
		conn_close(c);
		return NULL;
	}
	return c;
}

void
conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	close(c->fd);
	free(c->host);
	free(c->port);
	buf_release(&c->in);
	buf_release(&c->out);
	free(c);
}

int
conn_flush(struct conn *c)
{
	ssize_t n;
	int e;

	while (c->out_off < c->out.len) {
		if (c->ssl != NULL) {
			n = SSL_write(c->ssl, c->out.data + c->out_off,
			    (int)(c->out.len - c->out_off));
			if (n <= 0) {
				e = SSL_get_error(c->ssl, (int)n);
				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ)
					break;
				failure_set(&c->fail, 0, "%s:%s: TLS write: %s",
				    c->host, c->port, tls_error());
				return -1;
			}
		} else if ((n = write(c->fd, c->out.data + c->out_off,
		    c->out.len - c->out_off)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			failure_set(&c->fail, 0, "%s:%s: write: %s", c->host,
			    c->port, strerror(errno));
			return -1;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
	}
	return 0;
}

void
conn_set_lowat(struct conn *c, int bytes)
{
	int v = bytes > 1 ? bytes : 1;

	if (bytes == c->lowat)
		return;
	/* failing, it only leaves more wake-ups */
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)) == 0)
		c->lowat = bytes;
}

int
conn_fill(struct conn *c)
{
	ssize_t n;
	int e;

	for (;;) {
		buf_grow(&c->in, READ_SIZE);
		if (c->ssl != NULL) {
			n = SSL_read(c->ssl, c->in.data + c->in.len,
			    (int)(c->in.cap - c->in.len - 1));
			if (n <= 0) {
				e = SSL_get_error(c->ssl, (int)n);
				if (e == SSL_ERROR_WANT_READ ||
				    e == SSL_ERROR_WANT_WRITE)
					return 0;
				if (e == SSL_ERROR_ZERO_RETURN)
					n = 0;
				else {
					failure_set(&c->fail, 0, "%s:%s: TLS "
					    "read: %s", c->host, c->port,
					    tls_error());
					return -1;
				}
			}
		} else {
			n = read(c->fd, c->in.data + c->in.len,
			    c->in.cap - c->in.len - 1);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return 0;
				failure_set(&c->fail, 0, "%s:%s: read: %s",
				    c->host, c->port, strerror(errno));
				return -1;
			}
		}
		if (n == 0) {
			c->eof = 1;
			failure_set(&c->fail, 0, "%s:%s: connection closed "
			    "by the broker", c->host, c->port);
			return -1;
		}
		buf_setlen(&c->in, c->in.len + (size_t)n);
		/* TLS may hold decrypted bytes that poll(2) cannot see */
		if (c->ssl == NULL && (size_t)n < READ_SIZE / 2)
			return 0;
	}
}
