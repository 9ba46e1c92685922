/*
 * probe: consume's online checks (consume --probe, for `lakepipe check`)
 * and the removal of a subscription (consume --unsubscribe, for
 * `lakepipe delete --unsubscribe`).  Each prints on stdout one line per
 * check, "ok SETTING: what was found" or "fail SETTING: the problem; what
 * to do", SETTING the long option's name (url, token-file, topic,
 * subscription); no retries, every request bounded by PROBE_TIMEOUT
 * seconds.  Exit status 0 when all is ok, 1 otherwise.
 */
#ifndef CONSUME_PROBE_H
#define CONSUME_PROBE_H

#define PROBE_TIMEOUT	5.0

struct pulsar_opts;

int	probe_main(const struct pulsar_opts *);
int	unsubscribe_main(const struct pulsar_opts *);

#endif
