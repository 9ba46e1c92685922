/* Threads running jobs beside the main thread; see workq.h. */
#include <err.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "workq.h"

struct workq {
	pthread_mutex_t	 lock;
	pthread_cond_t	 queued;	/* a job was put, or stopping */
	pthread_cond_t	 finished;	/* a run of a job ended */
	struct wq_job	*head, **tail;
	int		 stopping;
	int		 nthreads;
	pthread_t	 threads[WORKQ_MAX_THREADS];
};

static void
lock(struct workq *q)
{
	int e;

	if ((e = pthread_mutex_lock(&q->lock)) != 0)
		errc(1, e, "pthread_mutex_lock");
}

static void
unlock(struct workq *q)
{
	int e;

	if ((e = pthread_mutex_unlock(&q->lock)) != 0)
		errc(1, e, "pthread_mutex_unlock");
}

static void
cond_wait(pthread_cond_t *c, struct workq *q)
{
	int e;

	if ((e = pthread_cond_wait(c, &q->lock)) != 0)
		errc(1, e, "pthread_cond_wait");
}

/* Put j at the queue's tail; under the lock. */
static void
enqueue(struct workq *q, struct wq_job *j)
{
	j->next = NULL;
	*q->tail = j;
	q->tail = &j->next;
}

static void *
worker(void *arg)
{
	struct workq *q = arg;
	struct wq_job *j;

	for (;;) {
		lock(q);
		while (q->head == NULL && !q->stopping)
			cond_wait(&q->queued, q);
		if ((j = q->head) == NULL)
			break;
		if ((q->head = j->next) == NULL)
			q->tail = &q->head;
		unlock(q);
		j->run(j);
		lock(q);
		if (--j->runs > 0)
			enqueue(q, j);	/* asked again while it ran */
		unlock(q);
		/*
		 * Woken after the unlock, the waiter takes the lock at once
		 * instead of blocking on it again: a futex call and a
		 * context switch fewer each chunk.
		 */
		pthread_cond_broadcast(&q->finished);
	}
	unlock(q);
	return NULL;
}

struct workq *
workq_new(int threads)
{
	struct workq *q = xcalloc(1, sizeof(*q));
	sigset_t all, old;
	int e, i;

	if (threads < 1 || threads > WORKQ_MAX_THREADS)
		errx(1, "workq: %d threads", threads);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->queued, NULL);
	pthread_cond_init(&q->finished, NULL);
	q->tail = &q->head;
	/* the threads inherit this mask: handlers run in the main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < threads; i++) {
		if ((e = pthread_create(&q->threads[i], NULL, worker, q)) != 0)
			errc(1, e, "pthread_create");
		q->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return q;
}

void
workq_free(struct workq *q)
{
	int i;

	if (q == NULL)
		return;
	lock(q);
	q->stopping = 1;	/* the threads finish the queue first */
	pthread_cond_broadcast(&q->queued);
	unlock(q);
	for (i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->queued);
	pthread_cond_destroy(&q->finished);
	free(q);
}

void
workq_put(struct workq *q, struct wq_job *j)
{
	int queued;

	if (q == NULL) {
		j->run(j);
		return;
	}
	lock(q);
	if ((queued = j->runs++ == 0))
		enqueue(q, j);	/* else the thread running it runs it again */
	unlock(q);
	if (queued)	/* after the unlock: as above */
		pthread_cond_signal(&q->queued);
}

void
workq_wait(struct workq *q, struct wq_job *j)
{
	workq_wait_runs(q, j, 0);
}

void
workq_wait_runs(struct workq *q, struct wq_job *j, unsigned n)
{
	if (q == NULL)
		return;
	lock(q);
	while (j->runs > n)
		cond_wait(&q->finished, q);
	unlock(q);
}

int
workq_default_threads(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	n = CPU_COUNT(&set) - 1;
	return n < 0 ? 0 : n > 4 ? 4 : n;
}
