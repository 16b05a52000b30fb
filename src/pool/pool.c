/* pool.c - worker threads, bounded per-queue FIFOs, batching, completion hand-off.
 *
 * Invariants (all under pool->mu unless noted):
 * - a queue is in the ready ring iff it has at least one waiting job (q->jobs not empty);
 * - q->depth counts the jobs in q->jobs and q->rows their rows; a job is in at most one place (a queue, a
 *   worker's batch array, the completion list) at a time, listed through job->pd_link;
 * - once pool->stopping is set no job is accepted; workers exit when the ring is empty;
 * - each channel's completion list is guarded by its cmu, which is never held with mu; a
 *   worker appends a batch's jobs to their channels after it counted them in the queue's
 *   stats (under mu), so the stats count every job whose done() ran; only the channel's
 *   loop thread drains it (pool_channel.c);
 * - pool->channels[] changes under mu; a channel's inflight, wake_pending and async_refd
 *   are touched on its loop thread only. */
#include "pool/pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "obs/log.h"
#include "pool/pool_internal.h"

uint64_t pd_pool_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void pd_pool_options_default(pd_pool_options_t *opt)
{
    opt->n_workers = 0;
    opt->max_batch = PD_POOL_DEFAULT_MAX_BATCH;
    opt->max_queues = PD_POOL_DEFAULT_MAX_QUEUES;
    opt->worker_nice = PD_POOL_DEFAULT_NICE;
    opt->sched_batch = 1;
}

/* Rows a job counts for: its rows, and 0 counts as 1. */
static size_t job_rows(const pd_job_t *j)
{
    return j->rows ? j->rows : 1;
}

/* ---- ready ring (pool->mu held) ---- */

static void ring_push(pd_pool_t *pool, pd_pool_queue_t *q)
{
    pd_list_insert_tail(&pool->ring, &q->ring_node);
}

static pd_pool_queue_t *ring_pop(pd_pool_t *pool)
{
    pd_list_t *n = pd_list_head(&pool->ring);
    pd_list_remove(n);
    return pd_list_entry(n, pd_pool_queue_t, ring_node);
}

/* ---- worker side ---- */

/* Lowers the calling worker's scheduling priority as configured; warns once on failure. */
static void worker_lower_priority(pd_pool_worker_t *w)
{
    const pd_pool_options_t *opt = &w->pool->opt;
    int err = 0; /* the first failure's error number */
    if (opt->sched_batch) {
        struct sched_param sp = {0};
        err = pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp); /* returns, not errno */
    }
    if (opt->worker_nice > 0) {
        pid_t tid = gettid();
        errno = 0;
        int cur = getpriority(PRIO_PROCESS, (id_t)tid);
        if (errno != 0)
            cur = 0;
        int target = PD_MIN(cur + opt->worker_nice, PD_POOL_NICEST);
        if (setpriority(PRIO_PROCESS, (id_t)tid, target) != 0 && err == 0)
            err = errno;
    }
    if (err != 0 && w->index == 0)
        pd_log_warn("pool: could not lower worker priority (nice %d, SCHED_BATCH %s): %s",
                    opt->worker_nice, opt->sched_batch ? "on" : "off", strerror(err));
}

/* Counts of one batch's outcome, added to the queue's stats under the lock. */
typedef struct {
    uint64_t ran, canceled, expired, batches;
} batch_counts_t;

/* Runs the n jobs taken from q (no lock held): drops canceled/expired ones, runs the rest
 * as one batch, and appends all of them to `chain` (in order) and their outcome to *c. */
static void worker_run(pd_pool_worker_t *w, pd_pool_queue_t *q, size_t n, pd_list_t *chain,
                       batch_counts_t *c)
{
    uint64_t now = pd_pool_now_ns();
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        pd_job_t *j = w->batch[i];
        j->t_start_ns = now;
        if (atomic_load_explicit(&j->pd_canceled, memory_order_acquire))
            j->status = PD_ECANCELED, c->canceled++;
        else if (j->deadline_ns != 0 && now >= j->deadline_ns)
            j->status = PD_ETIMEDOUT, c->expired++;
        else {
            w->batch[kept++] = j;
            continue;
        }
        j->t_end_ns = now;
        j->batch_size = 0;
        j->batch_rows = 0;
        pd_list_insert_tail(chain, &j->pd_link);
    }
    if (kept > 0) {
        size_t rows = 0;
        for (size_t i = 0; i < kept; i++)
            rows += job_rows(w->batch[i]);
        for (size_t i = 0; i < kept; i++) {
            w->batch[i]->batch_size = (uint32_t)kept;
            w->batch[i]->batch_rows = (uint32_t)PD_MIN(rows, (size_t)UINT32_MAX);
            w->batch[i]->pd_batch_first = i == 0;
        }
        q->run_batch(q->ud, w->batch, kept, w);
        uint64_t end = pd_pool_now_ns();
        for (size_t i = 0; i < kept; i++) {
            pd_job_t *j = w->batch[i];
            j->status = 0;
            j->t_end_ns = end;
            pd_list_insert_tail(chain, &j->pd_link);
        }
        c->ran += kept;
        c->batches++;
    }
}

/* Counts a finished batch in q's stats (pool->mu held). The caller then hands its jobs to
 * their channels, so a job is in the stats before its done() can run. */
static void worker_count(pd_pool_queue_t *q, const batch_counts_t *c)
{
    q->stats.completed += c->ran;
    q->stats.canceled_dropped += c->canceled;
    q->stats.expired += c->expired;
    q->stats.batches += c->batches;
}

/* Moves q's oldest jobs into w->batch (pool->mu held): a fair share of the rows waiting,
 * ceil(q->rows / n_workers), at most max_batch rows and batch_cap jobs, and always at
 * least one job, however many rows it has. Returns how many jobs it took. */
static size_t take_batch(pd_pool_worker_t *w, pd_pool_queue_t *q)
{
    pd_pool_t *pool = w->pool;
    size_t share = (q->rows + pool->n_workers - 1) / pool->n_workers;
    size_t budget = PD_MIN(pool->opt.max_batch, share);
    size_t n = 0, rows = 0;
    while (n < w->batch_cap && !pd_list_empty(&q->jobs)) {
        pd_list_t *node = pd_list_head(&q->jobs);
        pd_job_t *j = pd_list_entry(node, pd_job_t, pd_link);
        size_t r = job_rows(j);
        if (n > 0 && rows + r > budget)
            break;
        pd_list_remove(node);
        w->batch[n++] = j;
        rows += r;
    }
    q->depth -= n;
    q->rows -= rows;
    return n;
}

static void *worker_main(void *arg)
{
    pd_pool_worker_t *w = arg;
    pd_pool_t *pool = w->pool;
    char tname[16];
    snprintf(tname, sizeof tname, "pd-worker-%u", w->index);
    pthread_setname_np(pthread_self(), tname);
    worker_lower_priority(w);

    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (pd_list_empty(&pool->ring) && !pool->stopping) {
            pool->n_waiting++;
            pthread_cond_wait(&pool->cv, &pool->mu);
            pool->n_waiting--;
        }
        if (pd_list_empty(&pool->ring))
            break; /* stopping and drained */
        pd_pool_queue_t *q = ring_pop(pool);
        size_t n = take_batch(w, q); /* a fair share, so that the other workers get theirs */
        if (!pd_list_empty(&q->jobs)) {
            ring_push(pool, q); /* still has work: back of the ring, wake a peer */
            pthread_cond_signal(&pool->cv);
        }
        pthread_mutex_unlock(&pool->mu);

        batch_counts_t c = {0, 0, 0, 0};
        pd_list_t chain; /* the batch's jobs, to complete in order */
        pd_list_init(&chain);
        worker_run(w, q, n, &chain, &c);

        pthread_mutex_lock(&pool->mu);
        worker_count(q, &c);
        pthread_mutex_unlock(&pool->mu); /* a loop may take mu to submit: wake it unlocked */
        pd__pool_channel_deliver(w, &chain);
        pthread_mutex_lock(&pool->mu);
    }
    pthread_mutex_unlock(&pool->mu);
    free(w->scratch);
    w->scratch = NULL;
    w->scratch_cap = 0;
    return NULL;
}

void *pd_pool_worker_scratch(pd_pool_worker_t *w, size_t bytes)
{
    if (bytes > PD_POOL_SCRATCH_MAX)
        return NULL;
    if (bytes <= w->scratch_cap && w->scratch != NULL)
        return w->scratch;
    size_t cap = w->scratch_cap ? w->scratch_cap : 4096;
    while (cap < bytes)
        cap *= 2;
    void *p = malloc(cap); /* contents need not survive: no realloc copy */
    if (p == NULL)
        return NULL;
    free(w->scratch);
    w->scratch = p;
    w->scratch_cap = cap;
    return p;
}

unsigned pd_pool_worker_index(const pd_pool_worker_t *w)
{
    return w->index;
}

/* ---- loop side: pool_channel.c ---- */

static int workers_start(pd_pool_t *pool)
{
    for (unsigned i = 0; i < pool->n_workers; i++) {
        pd_pool_worker_t *w = &pool->workers[i];
        w->pool = pool;
        w->index = i;
        w->batch_cap = PD_MIN(pool->opt.max_batch, (size_t)PD_POOL_BATCH_JOBS_MAX);
        w->batch = calloc(w->batch_cap, sizeof *w->batch);
        w->touched = calloc(PD_POOL_MAX_CHANNELS, sizeof *w->touched);
        w->touched_jobs = calloc(PD_POOL_MAX_CHANNELS, sizeof *w->touched_jobs);
        if (w->batch == NULL || w->touched == NULL || w->touched_jobs == NULL)
            return PD_ENOMEM;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            return PD_EIO;
        w->started = 1;
    }
    return 0;
}

/* Stops and joins the started workers, frees their batch arrays. */
static void workers_stop(pd_pool_t *pool)
{
    pthread_mutex_lock(&pool->mu);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    for (unsigned i = 0; i < pool->n_workers; i++) {
        pd_pool_worker_t *w = &pool->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        w->started = 0;
        free(w->batch);
        free(w->touched);
        free(w->touched_jobs);
        w->batch = NULL;
        w->touched = NULL;
        w->touched_jobs = NULL;
    }
}

static int options_resolve(pd_pool_options_t *o, const pd_pool_options_t *in)
{
    pd_pool_options_default(o);
    if (in) {
        *o = *in;
        if (o->max_batch == 0)
            o->max_batch = PD_POOL_DEFAULT_MAX_BATCH;
        if (o->max_queues == 0)
            o->max_queues = PD_POOL_DEFAULT_MAX_QUEUES;
    }
    if (o->n_workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o->n_workers = n > 0 ? (unsigned)PD_MIN(n, (long)PD_POOL_MAX_WORKERS) : 1;
    }
    if (o->n_workers > PD_POOL_MAX_WORKERS || o->max_batch > PD_POOL_MAX_BATCH_LIMIT ||
        o->max_queues > PD_POOL_MAX_QUEUES_LIMIT || o->worker_nice < 0 ||
        o->worker_nice > PD_POOL_MAX_NICE)
        return PD_EINVAL;
    return 0;
}

int pd_pool_init(pd_pool_t **out, uv_loop_t *loop, const pd_pool_options_t *opt)
{
    int rc = PD_ENOMEM;
    *out = NULL;
    pd_pool_t *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return PD_ENOMEM;
    if ((rc = options_resolve(&pool->opt, opt)) < 0)
        goto fail_pool;
    rc = PD_ENOMEM;
    pool->loop = loop;
    pool->n_workers = pool->opt.n_workers;
    pd_list_init(&pool->ring);
    if (pthread_mutex_init(&pool->mu, NULL) != 0)
        goto fail_pool;
    if (pthread_cond_init(&pool->cv, NULL) != 0)
        goto fail_mu;
    pool->queues = calloc(pool->opt.max_queues, sizeof *pool->queues);
    if (pool->queues == NULL)
        goto fail_cv;
    pool->workers = calloc(pool->n_workers, sizeof *pool->workers);
    if (pool->workers == NULL)
        goto fail_queues;
    if ((rc = pd__pool_channel_open(pool, loop, &pool->main)) < 0)
        goto fail_workers;
    if ((rc = workers_start(pool)) < 0)
        goto fail_threads;
    *out = pool;
    return 0;

fail_threads:
    workers_stop(pool);
    pd__pool_channel_close(pool->main);
fail_workers:
    free(pool->workers);
fail_queues:
    free(pool->queues);
fail_cv:
    pthread_cond_destroy(&pool->cv);
fail_mu:
    pthread_mutex_destroy(&pool->mu);
fail_pool:
    free(pool);
    return rc;
}

int pd_pool_queue_add(pd_pool_t *pool, const char *name, size_t max_queue,
                      pd_pool_run_batch_fn run_batch, void *ud, pd_pool_queue_t **out)
{
    if (name == NULL || run_batch == NULL || strlen(name) >= PD_POOL_QUEUE_NAME_MAX ||
        max_queue > PD_POOL_MAX_QUEUE_LIMIT)
        return PD_EINVAL;
    pd_pool_queue_t *q = calloc(1, sizeof *q);
    if (q == NULL)
        return PD_ENOMEM;
    q->pool = pool;
    strcpy(q->name, name);
    q->max_queue = max_queue ? max_queue : PD_POOL_DEFAULT_MAX_QUEUE;
    q->run_batch = run_batch;
    q->ud = ud;
    pd_list_init(&q->jobs);
    pd_list_init(&q->ring_node);
    int rc = 0;
    pthread_mutex_lock(&pool->mu);
    if (pool->stopping)
        rc = PD_ESHUTDOWN;
    else if (pool->n_queues >= pool->opt.max_queues)
        rc = PD_EFULL;
    else
        pool->queues[pool->n_queues++] = q;
    pthread_mutex_unlock(&pool->mu);
    if (rc < 0) {
        free(q);
        return rc;
    }
    if (pool->metrics)
        pd__pool_metrics_queue_added(pool, q);
    *out = q;
    return 0;
}

const char *pd_pool_queue_name(const pd_pool_queue_t *q)
{
    return q->name;
}

/* Resets the pool's fields of a job about to be queued on q. */
static void job_prepare(pd_pool_queue_t *q, pd_job_t *job)
{
    pd_list_init(&job->pd_link);
    job->pd_queue = q;
    atomic_store_explicit(&job->pd_canceled, 0, memory_order_relaxed);
    job->status = 0;
    job->t_enqueue_ns = pd_pool_now_ns();
    job->t_start_ns = job->t_end_ns = 0;
    job->batch_size = 0;
    job->batch_rows = 0;
    job->pd_batch_first = 0;
}

int pd_pool_submit_all_via(pd_pool_channel_t *ch, pd_pool_queue_t *q, pd_job_t *const *jobs,
                           size_t k)
{
    if (k == 0)
        return PD_EINVAL;
    pd_pool_t *pool = q->pool;
    if (ch == NULL)
        ch = pool->main;
    for (size_t i = 0; i < k; i++) {
        if (jobs[i] == NULL || jobs[i]->done == NULL)
            return PD_EINVAL;
        job_prepare(q, jobs[i]);
        jobs[i]->pd_channel = ch;
    }
    pthread_mutex_lock(&pool->mu);
    if (pool->stopping) {
        pthread_mutex_unlock(&pool->mu);
        return PD_ESHUTDOWN;
    }
    if (q->depth >= q->max_queue || k > q->max_queue - q->depth) {
        q->stats.rejected_full += k;
        pthread_mutex_unlock(&pool->mu);
        return PD_EFULL;
    }
    for (size_t i = 0; i < k; i++) {
        pd_list_insert_tail(&q->jobs, &jobs[i]->pd_link);
        q->rows += job_rows(jobs[i]);
    }
    q->depth += k;
    q->stats.submitted += k;
    if (!pd_list_linked(&q->ring_node))
        ring_push(pool, q);
    pthread_mutex_unlock(&pool->mu);
    ch->wake_pending += (unsigned)k; /* signaled later in this loop iteration */
    ch->inflight += k;
    if (!ch->async_refd) {
        uv_ref((uv_handle_t *)ch->async);
        ch->async_refd = 1;
    }
    return 0;
}

int pd_pool_submit_all(pd_pool_queue_t *q, pd_job_t *const *jobs, size_t k)
{
    return pd_pool_submit_all_via(NULL, q, jobs, k);
}

int pd_pool_submit_via(pd_pool_channel_t *ch, pd_pool_queue_t *q, pd_job_t *job)
{
    return pd_pool_submit_all_via(ch, q, &job, 1);
}

int pd_pool_submit(pd_pool_queue_t *q, pd_job_t *job)
{
    return pd_pool_submit_all_via(NULL, q, &job, 1);
}

size_t pd_pool_queue_room(const pd_pool_queue_t *q)
{
    pd_pool_t *pool = q->pool;
    pthread_mutex_lock(&pool->mu);
    size_t room = pool->stopping || q->depth >= q->max_queue ? 0 : q->max_queue - q->depth;
    pthread_mutex_unlock(&pool->mu);
    return room;
}

void pd_pool_cancel(pd_job_t *job)
{
    atomic_store_explicit(&job->pd_canceled, 1, memory_order_release);
}

unsigned pd_pool_n_workers(const pd_pool_t *pool)
{
    return pool->n_workers;
}

size_t pd_pool_inflight(const pd_pool_t *pool)
{
    return pd_pool_channel_inflight(pool->main);
}

void pd_pool_shutdown(pd_pool_t *pool)
{
    pthread_mutex_lock(&pool->mu);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}

int pd_pool_job_batch_first(const pd_job_t *job)
{
    return job->status == 0 && job->pd_batch_first;
}

void pd_pool_queue_stats(const pd_pool_queue_t *q, pd_pool_queue_stats_t *out)
{
    pthread_mutex_lock(&q->pool->mu);
    *out = q->stats;
    out->depth = q->depth;
    out->rows = q->rows;
    pthread_mutex_unlock(&q->pool->mu);
}

void pd_pool_destroy(pd_pool_t *pool)
{
    if (pool == NULL)
        return;
    workers_stop(pool); /* workers drain the queues before they exit */
    pd__pool_channel_drain(pool->main);
    pd__pool_metrics_free(pool);
    pd__pool_channel_close(pool->main);
    for (size_t i = 0; i < pool->n_queues; i++)
        free(pool->queues[i]);
    free(pool->queues);
    free(pool->workers);
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->mu);
    free(pool);
}
