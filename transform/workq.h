/*
 * workq: a few threads that run jobs beside the main thread, so that
 * compressing one chunk of an object overlaps the building of the next
 * (compress.h: comp_submit).  A job is a struct the caller owns and keeps
 * alive until workq_wait returned for it.  Putting a job asks for one
 * more run of it: a job put again while it is queued or running runs
 * again after, never twice at once, so that the runs of one job (one
 * compressor) happen one after the other, in the order they were asked.
 * Different jobs run in parallel when there are threads for them.
 *
 * The threads block every signal: signals stay the main thread's.
 */
#ifndef TRANSFORM_WORKQ_H
#define TRANSFORM_WORKQ_H

struct workq;

struct wq_job {
	void		(*run)(struct wq_job *);	/* in a thread */
	struct wq_job	*next;		/* the queue's */
	unsigned	 runs;		/* asked, not yet done; under the lock */
};

#define WORKQ_MAX_THREADS	16

/* Start threads (1 to WORKQ_MAX_THREADS); a failure is fatal. */
struct workq	*workq_new(int threads);
/* Wait for every job, stop the threads, free q (NULL: nothing). */
void		 workq_free(struct workq *q);
/* Ask for one more run of the job; with q NULL, run it now. */
void		 workq_put(struct workq *q, struct wq_job *);
/* Wait until the job's runs are done (at once with q NULL). */
void		 workq_wait(struct workq *q, struct wq_job *);
/* Wait until at most n of the job's runs are not done. */
void		 workq_wait_runs(struct workq *q, struct wq_job *, unsigned n);

/* Threads worth having beside the main one: the CPUs it may use, less one. */
int		 workq_default_threads(void);

#endif
