/* Signals; see stop.h. */
#include <signal.h>
#include <string.h>

#include "log.h"
#include "stop.h"

static volatile sig_atomic_t stop_signal, interrupted;
static int told;

static void
on_signal(int sig)
{
	if (sig == SIGINT && !interrupted)
		interrupted = 1;	/* the first: finish the input */
	else
		stop_signal = sig;
}

void
stop_catch(void)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll wakes up */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
		sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
stop_now(void)
{
	return stop_signal;
}

void
stop_tell(void)
{
	if (interrupted && !told) {
		told = 1;
		log_info("interrupted", "then=%s", "storing and acking the "
		    "input to its end; SIGINT again or SIGTERM stops at once");
	}
}
