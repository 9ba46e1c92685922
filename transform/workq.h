/*
 * workq: a few threads that run jobs beside the main thread, so that
 * compressing one chunk of an object overlaps the building of the next
 * (compress.h: comp_submit).  A job is a struct the caller owns and keeps
 * alive until workq_wait returned for it; it is either idle, queued or
 * running, and is put in the queue only when idle, so that one job (one
 * compressor) never runs twice at once and the jobs of one stream run in
 * the order they were put.  Jobs of different streams run in parallel
 * when there are threads for them.
 *
 * The threads block every signal: signals stay the main thread's.
 */
#ifndef TRANSFORM_WORKQ_H
#define TRANSFORM_WORKQ_H

struct workq;

struct wq_job {
	void		(*run)(struct wq_job *);	/* in a thread */
	struct wq_job	*next;		/* the queue's */
	int		 busy;		/* queued or running; under the lock */
};

#define WORKQ_MAX_THREADS	16

/* Start threads (1 to WORKQ_MAX_THREADS); a failure is fatal. */
struct workq	*workq_new(int threads);
/* Wait for every job, stop the threads, free q (NULL: nothing). */
void		 workq_free(struct workq *q);
/* Queue an idle job; with q NULL, run it now. */
void		 workq_put(struct workq *q, struct wq_job *);
/* Wait until the job is idle (at once if it is, or q is NULL). */
void		 workq_wait(struct workq *q, struct wq_job *);

/* Threads worth having beside the main one: the CPUs it may use, less one. */
int		 workq_default_threads(void);

#endif
