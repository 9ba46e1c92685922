/*
 * net: addresses and byte connections for the Pulsar source: URLs as
 * users have them, TCP connections with optional TLS (OpenSSL, with the
 * certificate and the host name verified), non-blocking, with input and
 * output buffers that the protocol code frames.
 */
#ifndef CONSUME_NET_H
#define CONSUME_NET_H

#include <stddef.h>

#include "buf.h"

struct url {
	int	 tls;		/* pulsar+ssl, https */
	int	 http;		/* http, https: the web service */
	char	*host;		/* without brackets */
	char	*port;
};

/*
 * pulsar://HOST[:PORT], pulsar+ssl://, http://, https:// (default ports
 * 6650, 6651, 80, 443).  A list "pulsar://h1:6650,h2:6650" uses its first
 * host.  0, or -1 with *why set.
 */
int	url_parse(struct url *, const char *, const char **why);
void	url_free(struct url *);

struct ssl_ctx_st;

/* The TLS context; NULL ca_file: the system's trusted certificates. */
struct ssl_ctx_st *net_tls_context(const char *ca_file);

struct conn {
	char		*host, *port;
	int		 tls;
	int		 fd;
	void		*ssl;		/* SSL *, NULL without TLS */
	struct buf	 in, out;
	size_t		 out_off;
	int		 eof;
};

/*
 * Connect (and handshake TLS) within timeout seconds; NULL after a
 * warning naming what failed.
 */
struct conn *conn_open(const char *host, const char *port, int tls,
	    struct ssl_ctx_st *, double timeout);
void	conn_close(struct conn *);
/* Write what is buffered without blocking; -1 on an error (said). */
int	conn_flush(struct conn *);
/* Read what is there without blocking; -1 on an error or EOF (said). */
int	conn_fill(struct conn *);
/* Bytes waiting to be written. */
#define conn_pending(c) ((c)->out.len - (c)->out_off)

#endif
