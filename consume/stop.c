/* SIGINT and SIGTERM: an orderly stop, then at once; see stop.h. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "stop.h"

static volatile sig_atomic_t stop_signals;

static void
on_stop_signal(int sig)
{
	if (++stop_signals > 1)
		_exit(EXIT_FAIL);
}

void
stop_catch(void)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
		(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
}

int
stop_asked(void)
{
	return stop_signals > 0;
}
