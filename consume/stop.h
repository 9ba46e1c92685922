/*
 * stop: SIGINT and SIGTERM for consume (CONTRACT: the first asks for an
 * orderly stop, the second ends the process at once with status 1).  A
 * SIGINT ignored at start (a background job of a non-interactive shell)
 * stays ignored.  The handlers are installed without SA_RESTART, so that
 * a poll(2) waiting for the broker returns EINTR and the wait can look at
 * stop_asked(): every blocking wait in consume does (connect, TLS, a
 * request, an HTTP lookup, the reconnect backoff).
 */
#ifndef CONSUME_STOP_H
#define CONSUME_STOP_H

void	stop_catch(void);
/* Nonzero once a stop was asked. */
int	stop_asked(void);

#endif
