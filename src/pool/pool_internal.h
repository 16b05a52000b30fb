/* pool_internal.h - the pool's private structures, shared by pool.c and pool_metrics.c.
 * Not for use outside src/pool/ (and its unit tests, which read n_waiting under mu).
 * Locking rules are in pool.c's header comment. */
#ifndef PD_POOL_INTERNAL_H
#define PD_POOL_INTERNAL_H

#include <pthread.h>

#include "obs/metrics.h"
#include "pool/pool.h"

struct pd_pool_queue_s {
    pd_pool_t *pool;
    char name[PD_POOL_QUEUE_NAME_MAX];
    size_t max_queue;
    pd_pool_run_batch_fn run_batch;
    void *ud;
    pd_list_t jobs;      /* waiting jobs (pd_job_t.pd_link), oldest first */
    size_t depth;        /* jobs in `jobs` */
    size_t rows;         /* rows of the jobs in `jobs` (a job's 0 counts as 1) */
    pd_list_t ring_node; /* in pool->ring iff `jobs` is not empty */
    pd_pool_queue_stats_t stats; /* depth is filled in by pd_pool_queue_stats */
    /* metrics (loop thread; NULL until pd_pool_metrics_attach) */
    pd_metrics_series_t *m_wait, *m_infer, *m_batch;
};

/* One loop's completion channel (pool_channel.c). Its fields are touched on its loop's
 * thread only, except `done` and `waiters`, which are guarded by cmu. */
struct pd_pool_channel_s {
    pd_pool_t *pool;
    uv_loop_t *loop;
    uv_async_t *async;     /* heap: freed by its close callback */
    uv_prepare_t *prepare; /* heap: wake workers for jobs submitted before the poll */
    uv_check_t *check;     /* heap: ... and for jobs submitted by I/O callbacks */
    unsigned wake_pending; /* jobs submitted this iteration, not yet signaled */
    size_t inflight;       /* jobs submitted through it whose done() has not run */
    int async_refd;
    pthread_mutex_t cmu;
    pthread_cond_t ccv;    /* broadcast when jobs are appended to done (channel destroy) */
    pd_list_t done;        /* finished jobs (pd_job_t.pd_link), guarded by cmu */
    size_t slot;           /* index in pool->channels (pool->mu) */
};

struct pd_pool_worker_s {
    pd_pool_t *pool;
    unsigned index;
    pthread_t thread;
    int started;
    void *scratch;
    size_t scratch_cap;
    pd_job_t **batch; /* batch_cap slots */
    pd_pool_channel_t **touched; /* PD_POOL_MAX_CHANNELS slots: channels of one batch */
    pd_list_t *touched_jobs;     /* the batch's jobs per touched channel, in order */
    size_t batch_cap; /* min(max_batch, PD_POOL_BATCH_JOBS_MAX): each job has a row */
};

struct pd_pool_s {
    uv_loop_t *loop;
    pd_pool_channel_t *main; /* the channel of pd_pool_init's loop */
    pd_pool_channel_t *channels[PD_POOL_MAX_CHANNELS]; /* live channels (mu) */
    pd_pool_options_t opt;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pd_pool_queue_t **queues;
    size_t n_queues;
    pd_list_t ring;        /* queues with waiting jobs (pd_pool_queue_t.ring_node) */
    int stopping;
    unsigned n_waiting;    /* workers blocked on cv (mu): lets a test know they are idle */
    pd_pool_worker_t *workers;
    unsigned n_workers;
    struct pd__pool_metrics_s *metrics; /* NULL unless attached; loop thread */
};

/* Creates a channel on loop (its thread) and registers it in the pool. */
int pd__pool_channel_open(pd_pool_t *pool, uv_loop_t *loop, pd_pool_channel_t **out);
/* Calls done() for every finished job of ch (its loop thread). */
void pd__pool_channel_drain(pd_pool_channel_t *ch);
/* Unregisters ch and closes its handles (their memory is freed by the close callbacks,
 * on the loop's next run); ch itself is freed at once. Its loop thread; no job in flight. */
void pd__pool_channel_close(pd_pool_channel_t *ch);
/* Hands a worker's finished jobs to their channels and wakes each channel's loop (worker
 * thread, pool->mu NOT held). chain holds jobs of any channels, in completion order. */
void pd__pool_channel_deliver(pd_pool_worker_t *w, pd_list_t *chain);

/* Records the metrics of one finished job (loop thread, before its done() runs). */
void pd__pool_metrics_on_done(pd_pool_t *pool, pd_job_t *job);
/* Creates the cached series of a queue added after pd_pool_metrics_attach. */
void pd__pool_metrics_queue_added(pd_pool_t *pool, pd_pool_queue_t *q);
/* Detaches the collect callbacks and frees the bridge (pd_pool_destroy). */
void pd__pool_metrics_free(pd_pool_t *pool);

#endif
