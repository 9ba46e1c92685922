/*
 * stop: how deliver takes signals (the conventions of every lakepipe
 * program).  A first SIGINT (a terminal's Ctrl-C reaches the whole
 * pipeline) lets the input run to its end, every object stored and
 * acked, as consume and transform finish theirs; a second SIGINT, or
 * SIGTERM, stops at once.  A SIGINT ignored at start (a background job of
 * a shell script) stays ignored.
 */
#ifndef DELIVER_STOP_H
#define DELIVER_STOP_H

/* Install the handlers; before the loop. */
void	stop_catch(void);
/* The signal that means "stop at once", or 0. */
int	stop_now(void);
/* After each turn of a loop: say once that a first SIGINT came. */
void	stop_tell(void);

#endif
