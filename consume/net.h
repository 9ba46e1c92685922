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

/*
 * Why a connection or a request failed, kept for the caller to say once
 * (permanent) or to count in its retry loop (transient) instead of a line
 * per attempt.
 */
struct failure {
	char	 text[512];
	int	 permanent;	/* retrying cannot help: stop */
	int	 auth;		/* the token was refused */
};

void	failure_set(struct failure *, int permanent, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

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

/* --insecure: certificates and host names of TLS peers not verified. */
extern int net_insecure;

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
	int		 lowat;		/* SO_RCVLOWAT asked; 0: the default */
	struct failure	 fail;		/* why conn_flush/conn_fill failed */
};

/*
 * Connect (and handshake TLS) within timeout seconds; NULL with *f set:
 * permanent for a host that does not resolve, a TLS handshake that
 * fails or a certificate not trusted; transient for refused, reset or
 * timed out, and for a stop asked meanwhile (stop_asked()).
 */
struct conn *conn_open(const char *host, const char *port, int tls,
	    struct ssl_ctx_st *, double timeout, struct failure *f);
void	conn_close(struct conn *);
/* Write what is buffered without blocking; -1 on an error (in c->fail). */
int	conn_flush(struct conn *);
/* Read what is there without blocking; -1 on an error or EOF (c->fail). */
int	conn_fill(struct conn *);
/*
 * Let poll(2) say readable only once bytes are waiting (SO_RCVLOWAT;
 * 0: as soon as one is).  A read still returns what is there; the caller
 * must read on a timer too, as a smaller answer would wait for ever.  A
 * system call only when it changes.
 */
void	conn_set_lowat(struct conn *, int bytes);
/* Bytes waiting to be written. */
#define conn_pending(c) ((c)->out.len - (c)->out_off)

#endif
