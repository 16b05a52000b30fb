/* pool.h - predictd's own worker pool: pthreads that run opaque jobs in batches, one
 * bounded FIFO queue per model, completions handed back to the libuv loop thread.
 *
 * Ownership and threads:
 * - The pool knows nothing about models or HTTP. A submitter embeds pd_job_t in its own
 *   struct (PD_CONTAINER_OF) and supplies, per queue, a run_batch function that a worker
 *   calls with a batch of that one queue's jobs. A job carries `rows` rows (one request's
 *   matrix, or one chunk of a big one), and batches are measured in ROWS: one job of 64
 *   rows and 64 jobs of one row are the same batch size.
 * - Completion channels: every loop that submits jobs has one (pd_pool_init makes the one
 *   of its own loop, the "main" channel; pd_pool_channel_create one per further loop, on
 *   that loop's thread). A job completes on the channel it was submitted through: its
 *   done() runs on that channel's loop thread, exactly once for every job accepted, in the
 *   order the workers finished them (a batch in its own order). done() may free its job
 *   and submit new jobs, but must not destroy the pool or the channel.
 * - pd_pool_init, pd_pool_queue_add, pd_pool_shutdown, pd_pool_destroy, pd_pool_inflight
 *   and pd_pool_metrics_attach are called on the main loop's thread; pd_pool_submit*,
 *   pd_pool_flush, pd_pool_cancel on the thread of the channel's loop (the main one for
 *   the variants without a channel); pd_pool_queue_room and pd_pool_queue_stats on any
 *   thread. The queues are shared by every channel.
 * - Workers never touch a loop or sockets: they push finished jobs onto their channel's
 *   locked list and wake its loop through one coalescing uv_async_t per channel, whose
 *   callback drains that list.
 * - Fairness: queues that have work form a ring; a worker takes the queue at the head,
 *   pops its oldest jobs - a fair share of the rows waiting in it, ceil(rows / n_workers),
 *   at most max_batch rows and PD_POOL_BATCH_JOBS_MAX jobs, always at least one job - and,
 *   if it still has work, puts it back at the tail. Every non-empty queue is therefore
 *   served within one round of the ring, and a burst is spread over the idle workers.
 * - The async handle is referenced only while jobs are in flight, so an idle pool does not
 *   keep uv_run() from returning. */
#ifndef PD_POOL_H
#define PD_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "obs/metrics.h"
#include "util/list.h"

#define PD_POOL_DEFAULT_MAX_BATCH 64   /* rows per run_batch call */
#define PD_POOL_MAX_BATCH_LIMIT (1u << 20) /* largest max_batch accepted (rows) */
#define PD_POOL_BATCH_JOBS_MAX 4096    /* jobs in one run_batch call, whatever their rows */
#define PD_POOL_MAX_WORKERS 256        /* largest n_workers accepted */
#define PD_POOL_DEFAULT_MAX_QUEUE 1024 /* jobs waiting per queue */
#define PD_POOL_MAX_QUEUE_LIMIT (1u << 20)
#define PD_POOL_DEFAULT_MAX_QUEUES 256 /* queues (models) per pool */
#define PD_POOL_MAX_QUEUES_LIMIT 65536 /* largest max_queues accepted */
#define PD_POOL_QUEUE_NAME_MAX 256     /* bytes, including the NUL (model names: 128) */
#define PD_POOL_DEFAULT_NICE 10
#define PD_POOL_MAX_NICE 39            /* largest worker_nice accepted (the whole range) */
#define PD_POOL_NICEST 19              /* the nicest priority Linux has: workers stop there */
#define PD_POOL_SCRATCH_MAX ((size_t)1 << 30) /* largest worker scratch area */
#define PD_POOL_MAX_CHANNELS 256       /* completion channels (event loops) per pool */

typedef struct pd_pool_options_s {
    unsigned n_workers; /* worker threads; 0 = number of online CPUs */
    size_t max_batch;   /* rows per run_batch call (a single bigger job still runs, alone);
                           0 = PD_POOL_DEFAULT_MAX_BATCH */
    size_t max_queues;  /* queues per pool; 0 = PD_POOL_DEFAULT_MAX_QUEUES */
    int worker_nice;    /* >0: each worker raises its own nice value by this much (per-thread
                           setpriority on its tid); 0: leave the priority alone. Failing to
                           lower the priority is a logged warning, not an error. */
    int sched_batch;    /* nonzero: workers also switch themselves to SCHED_BATCH */
} pd_pool_options_t;

/* Fills *opt with the defaults: online CPUs, batch 64, 256 queues, nice 10, SCHED_BATCH. */
void pd_pool_options_default(pd_pool_options_t *opt);

typedef struct pd_pool_s pd_pool_t;
typedef struct pd_pool_queue_s pd_pool_queue_t;
typedef struct pd_pool_worker_s pd_pool_worker_t;
typedef struct pd_job_s pd_job_t;
typedef struct pd_pool_channel_s pd_pool_channel_t;

/* One unit of work, embedded in the submitter's own struct. The memory must stay valid
 * and unmoved from pd_pool_submit until done() has been called for it. */
struct pd_job_s {
    /* in: set before pd_pool_submit */
    void (*done)(pd_job_t *job, int status); /* its channel's loop thread; status ==
                                                job->status */
    uint32_t rows;        /* rows this job carries; 0 counts as 1. Read by the pool from
                             submit until a worker takes the job: do not change it then. */
    uint64_t deadline_ns; /* pd_pool_now_ns() clock; 0 = none. Checked when a worker
                             picks the job: if passed, the job is not run. */
    /* out: set by the pool, valid in done() */
    int status;            /* 0 ran; PD_ECANCELED dropped (canceled before it ran);
                              PD_ETIMEDOUT dropped (deadline passed before it ran) */
    uint64_t t_enqueue_ns; /* pd_pool_now_ns() at submit */
    uint64_t t_start_ns;   /* when a worker picked it (also set for dropped jobs) */
    uint64_t t_end_ns;     /* when its batch finished (== t_start_ns if dropped) */
    uint32_t batch_size;   /* jobs in the run_batch call that ran it; 0 if dropped */
    uint32_t batch_rows;   /* rows of those jobs (what max_batch bounds); 0 if dropped */
    /* private to the pool */
    pd_list_t pd_link;   /* in its queue, then in the completion list */
    pd_pool_queue_t *pd_queue;
    pd_pool_channel_t *pd_channel; /* the channel it completes on */
    atomic_int pd_canceled;
    int pd_batch_first; /* first job of its run_batch call (per-batch metrics) */
};

/* run_batch: called on a worker thread with n (1..PD_POOL_BATCH_JOBS_MAX) jobs of one
 * queue, oldest first, whose rows add up to at most max_batch (or one job with more rows).
 * It stores each job's result in the submitter's struct; the jobs array is only
 * valid during the call. ud is the pointer given to pd_pool_queue_add. w identifies the
 * calling worker (for pd_pool_worker_scratch). It must not call pool functions. */
typedef void (*pd_pool_run_batch_fn)(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w);

/* Monotonic clock in nanoseconds (CLOCK_MONOTONIC), the clock of every *_ns field. */
uint64_t pd_pool_now_ns(void);

/* Starts the workers and registers the completion uv_async_t on `loop` (loop thread,
 * before or while the loop runs). `loop` must outlive the pool; opt may be NULL (defaults)
 * and is copied. Returns 0, PD_EINVAL (options over their limits), PD_ENOMEM or PD_EIO
 * (a thread could not be started). */
int pd_pool_init(pd_pool_t **out, uv_loop_t *loop, const pd_pool_options_t *opt);

/* Opens a completion channel for `loop` (call on that loop's thread; the loop must outlive
 * the channel). Jobs submitted through it with pd_pool_submit_via/pd_pool_submit_all_via
 * complete on that loop. *out belongs to the caller, who closes it with
 * pd_pool_channel_destroy, on the same thread, before pd_pool_destroy. Returns 0,
 * PD_EFULL (PD_POOL_MAX_CHANNELS open), PD_ENOMEM or PD_EIO. */
int pd_pool_channel_create(pd_pool_t *pool, uv_loop_t *loop, pd_pool_channel_t **out);

/* Waits until every job submitted through ch has finished, calls their done() (on this
 * thread, the channel's loop thread), then closes the channel. Its handles' memory is
 * released by their close callbacks on the loop's next uv_run, which the caller runs
 * before uv_loop_close. Accepts NULL. */
void pd_pool_channel_destroy(pd_pool_channel_t *ch);

/* The channel pd_pool_init opened on its own loop (owned by the pool). */
pd_pool_channel_t *pd_pool_main_channel(pd_pool_t *pool);

/* Jobs submitted through ch whose done() has not run yet (ch's loop thread). */
size_t pd_pool_channel_inflight(const pd_pool_channel_t *ch);

/* Adds a bounded FIFO queue (one per model). name is copied (at most
 * PD_POOL_QUEUE_NAME_MAX-1 bytes, else PD_EINVAL); max_queue 0 = PD_POOL_DEFAULT_MAX_QUEUE.
 * ud must stay valid until pd_pool_destroy returns. *out belongs to the pool and lives
 * until pd_pool_destroy. Returns 0, PD_EINVAL, PD_EFULL (max_queues reached), PD_ENOMEM,
 * PD_ESHUTDOWN. */
int pd_pool_queue_add(pd_pool_t *pool, const char *name, size_t max_queue,
                      pd_pool_run_batch_fn run_batch, void *ud, pd_pool_queue_t **out);

/* Returns the name given to pd_pool_queue_add (owned by the queue). */
const char *pd_pool_queue_name(const pd_pool_queue_t *q);

/* Enqueues job (loop thread). Returns 0 (done() will be called exactly once), PD_EFULL
 * (max_queue jobs already waiting: answer 503 + Retry-After), PD_ESHUTDOWN, or PD_EINVAL
 * (job->done is NULL). On error the job is not kept and done() is never called. The job
 * (and the struct it is embedded in) belongs to the pool until its done() runs. */
int pd_pool_submit(pd_pool_queue_t *q, pd_job_t *job);

/* How many more jobs q accepts right now: max_queue minus the jobs waiting, 0 once the
 * pool shuts down. With one channel, only workers change the number waiting between two
 * calls on the loop thread, and only downward, so the caller may submit this many jobs
 * without PD_EFULL: check the room for ALL chunks of one request first, then submit all
 * or none. With several, the loops must serialize the check and the submit (the app
 * lock does) for the same promise; pd_pool_submit_all stays all-or-none regardless. */
size_t pd_pool_queue_room(const pd_pool_queue_t *q);

/* Enqueues the k jobs of jobs[] (k >= 1) as one unit, in order: all of them, or none.
 * Returns 0 (done() will be called exactly once for each), PD_EFULL (fewer than k slots
 * free: counted as k rejected jobs), PD_ESHUTDOWN or PD_EINVAL (a NULL job or done). The
 * array is read during the call only; the jobs themselves follow pd_pool_submit's rules. */
int pd_pool_submit_all(pd_pool_queue_t *q, pd_job_t *const *jobs, size_t k);

/* pd_pool_submit and pd_pool_submit_all through channel ch (NULL: the main channel): the
 * jobs' done() run on ch's loop thread, which is the thread that calls these. */
int pd_pool_submit_via(pd_pool_channel_t *ch, pd_pool_queue_t *q, pd_job_t *job);
int pd_pool_submit_all_via(pd_pool_channel_t *ch, pd_pool_queue_t *q, pd_job_t *const *jobs,
                           size_t k);

/* Wakes the workers for the jobs submitted so far (loop thread). pd_pool_submit itself
 * only counts: the pool wakes workers once per loop iteration, right after the I/O
 * callbacks and right before the loop blocks, so that every job submitted in one
 * iteration reaches the workers together (one wake-up, one batch). Call this only when
 * you submit and then wait for a worker without running the loop. */
void pd_pool_flush(pd_pool_t *pool);
/* The same for the jobs submitted through ch (its loop thread). */
void pd_pool_channel_flush(pd_pool_channel_t *ch);
/* Marks a submitted job canceled (loop thread, before its done() ran). If no worker has
 * picked it yet it is never run and completes with PD_ECANCELED (when a worker reaches it
 * in the queue); if it is already running, it finishes normally with status 0. */
void pd_pool_cancel(pd_job_t *job);

/* Returns a worker-local scratch area of at least `bytes` bytes (worker thread, inside
 * run_batch). It grows on demand (contents are not preserved when it grows), belongs to
 * the worker and is freed when the worker exits. NULL if bytes > PD_POOL_SCRATCH_MAX or
 * out of memory. */
void *pd_pool_worker_scratch(pd_pool_worker_t *w, size_t bytes);

/* Index of the worker, 0..n_workers-1. */
unsigned pd_pool_worker_index(const pd_pool_worker_t *w);

/* Number of worker threads running. */
unsigned pd_pool_n_workers(const pd_pool_t *pool);

/* Jobs accepted through the main channel whose done() has not been called yet (main loop
 * thread). */
size_t pd_pool_inflight(const pd_pool_t *pool);

/* Refuses new jobs from now on (PD_ESHUTDOWN); queued jobs still run (drain). Loop
 * thread; idempotent. Keep running the loop to receive their completions. */
void pd_pool_shutdown(pd_pool_t *pool);

/* Shuts down if not done yet, waits for the workers to drain every queue and exit, calls
 * done() for every remaining completion of the main channel (on the calling loop thread:
 * every other channel must have been destroyed before), and closes the main channel. The handle's memory is released by its close callback, i.e. on the next
 * uv_run() of the loop, which the caller runs before uv_loop_close as for any handle.
 * Everything else, queues included, is freed before returning. Accepts NULL. */
void pd_pool_destroy(pd_pool_t *pool);

typedef struct pd_pool_queue_stats_s {
    size_t depth;              /* jobs waiting (not yet picked by a worker) */
    size_t rows;               /* rows of those jobs */
    uint64_t submitted;        /* accepted by pd_pool_submit */
    uint64_t completed;        /* ran (status 0) */
    uint64_t canceled_dropped; /* dropped because canceled */
    uint64_t expired;          /* dropped because their deadline passed */
    uint64_t rejected_full;    /* pd_pool_submit answered PD_EFULL */
    uint64_t batches;          /* run_batch calls */
} pd_pool_queue_stats_t;

/* In done() (loop thread): 1 when job was the first of its run_batch call, so that a
 * batch - its batch_rows, its t_start_ns..t_end_ns - is counted once; 0 for the other jobs
 * of the call and for jobs that did not run. */
int pd_pool_job_batch_first(const pd_job_t *job);

/* Copies a consistent snapshot of q's counters into *out (any thread). A job is counted
 * (completed, canceled_dropped or expired) before its done() runs. */
void pd_pool_queue_stats(const pd_pool_queue_t *q, pd_pool_queue_stats_t *out);

/* Registers the pool's metrics in reg (model = the queue's name):
 *   predictd_queue_depth{model}                gauge, read at scrape time
 *   predictd_pool_jobs_total{model,outcome}    counter; outcome = completed, canceled,
 *                                              expired, rejected
 *   predictd_queue_wait_seconds{model}         histogram, per job (enqueue -> picked)
 *   predictd_inference_seconds{model}          histogram, per run_batch call
 *   predictd_batch_size{model}                 histogram, ROWS per run_batch call
 *   predictd_pool_jobs_submitted_total{model}  counter, jobs accepted by pd_pool_submit
 *   predictd_pool_workers                      gauge
 * From then on the loop records each completion before calling its done(). reg must
 * outlive the pool (pd_pool_destroy detaches its scrape callbacks). Loop thread; once per
 * pool. Returns 0, PD_EINVAL (already attached, or the names are taken), PD_ENOMEM. */
int pd_pool_metrics_attach(pd_pool_t *pool, pd_metrics_t *reg);

#endif
