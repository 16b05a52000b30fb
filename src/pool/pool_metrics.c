/* pool_metrics.c - bridges the pool to a metrics registry (pd_pool_metrics_attach).
 *
 * Invariants: everything here runs on the loop thread. Per-job and per-batch histograms are
 * observed in the completion drain from the job's timestamps, through series pointers
 * cached on each queue; depth and job counts are copied from pd_pool_queue_stats at scrape
 * time by collect callbacks, which pd__pool_metrics_free detaches before the pool dies. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "pool/pool_internal.h"

/* Rows per batch: powers of two up to 1,024 (one request of a few rows up to a full
 * default-sized batch), then every factor of 4 up to PD_POOL_MAX_BATCH_LIMIT (1M rows). */
static const double batch_bounds[] = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536, 262144, 1048576,
};

struct pd__pool_metrics_s {
    pd_metrics_family_t *depth, *jobs, *submitted, *wait, *infer, *batch;
};

void pd__pool_metrics_queue_added(pd_pool_t *pool, pd_pool_queue_t *q)
{
    const char *v[] = {q->name};
    q->m_wait = pd_metrics_series(pool->metrics->wait, v);
    q->m_infer = pd_metrics_series(pool->metrics->infer, v);
    q->m_batch = pd_metrics_series(pool->metrics->batch, v);
}

void pd__pool_metrics_on_done(pd_pool_t *pool, pd_job_t *job)
{
    (void)pool;
    pd_pool_queue_t *q = job->pd_queue;
    if (job->t_start_ns >= job->t_enqueue_ns)
        pd_metrics_observe(q->m_wait, (double)(job->t_start_ns - job->t_enqueue_ns) / 1e9);
    if (job->status == 0 && job->pd_batch_first) {
        pd_metrics_observe(q->m_infer, (double)(job->t_end_ns - job->t_start_ns) / 1e9);
        pd_metrics_observe(q->m_batch, (double)job->batch_rows);
    }
}

/* The counters of queue i summed with every later queue of the same name (with several
 * event loops, each loop's pipeline has its own codec queue under one name, and a series
 * must show their total, not the last one's), into *out; 0 when an earlier queue has the
 * name (its series is already written). Each queue's snapshot is taken under its lock. */
static int named_stats(const pd_pool_t *pool, size_t i, pd_pool_queue_stats_t *out)
{
    const char *name = pool->queues[i]->name;
    for (size_t j = 0; j < i; j++)
        if (strcmp(pool->queues[j]->name, name) == 0)
            return 0;
    pd_pool_queue_stats(pool->queues[i], out);
    for (size_t j = i + 1; j < pool->n_queues; j++) {
        if (strcmp(pool->queues[j]->name, name) != 0)
            continue;
        pd_pool_queue_stats_t s;
        pd_pool_queue_stats(pool->queues[j], &s);
        out->depth += s.depth, out->rows += s.rows, out->submitted += s.submitted;
        out->completed += s.completed, out->canceled_dropped += s.canceled_dropped;
        out->expired += s.expired, out->rejected_full += s.rejected_full;
        out->batches += s.batches;
    }
    return 1;
}

static void collect_depth(pd_metrics_family_t *f, void *ud)
{
    pd_pool_t *pool = ud;
    pd_pool_queue_stats_t s;
    for (size_t i = 0; i < pool->n_queues; i++) {
        if (!named_stats(pool, i, &s))
            continue;
        const char *v[] = {pool->queues[i]->name};
        pd_metrics_set(pd_metrics_series(f, v), (double)s.depth);
    }
}

static void collect_jobs(pd_metrics_family_t *f, void *ud)
{
    pd_pool_t *pool = ud;
    pd_pool_queue_stats_t s;
    for (size_t i = 0; i < pool->n_queues; i++) {
        if (!named_stats(pool, i, &s))
            continue;
        const char *name = pool->queues[i]->name;
        const struct {
            const char *outcome;
            uint64_t n;
        } rows[] = {{"completed", s.completed},
                    {"canceled", s.canceled_dropped},
                    {"expired", s.expired},
                    {"rejected", s.rejected_full}};
        for (size_t k = 0; k < PD_ARRAY_SIZE(rows); k++) {
            const char *v[] = {name, rows[k].outcome};
            pd_metrics_set(pd_metrics_series(f, v), (double)rows[k].n);
        }
    }
}

static void collect_submitted(pd_metrics_family_t *f, void *ud)
{
    pd_pool_t *pool = ud;
    pd_pool_queue_stats_t s;
    for (size_t i = 0; i < pool->n_queues; i++) {
        if (!named_stats(pool, i, &s))
            continue;
        const char *v[] = {pool->queues[i]->name};
        pd_metrics_set(pd_metrics_series(f, v), (double)s.submitted);
    }
}

static int register_families(struct pd__pool_metrics_s *m, pd_metrics_t *reg, unsigned workers)
{
    const char *ml[] = {"model"}, *mo[] = {"model", "outcome"};
    pd_metrics_family_t *wk;
    int rc = pd_metrics_gauge(reg, "predictd_queue_depth", "Jobs waiting in the model's queue.",
                              ml, 1, &m->depth);
    if (rc == 0)
        rc = pd_metrics_counter(reg, "predictd_pool_jobs_total",
                                "Pool jobs by outcome (rejected: the queue was full).", mo, 2,
                                &m->jobs);
    if (rc == 0)
        rc = pd_metrics_counter(reg, "predictd_pool_jobs_submitted_total",
                                "Jobs accepted into the model's queue (each ends as one of "
                                "predictd_pool_jobs_total's completed, canceled, expired).",
                                ml, 1, &m->submitted);
    if (rc == 0)
        rc = pd_metrics_histogram(reg, "predictd_queue_wait_seconds",
                                  "Time a job waited in its queue before a worker took it.", ml,
                                  1, pd_metrics_latency_buckets, PD_METRICS_LATENCY_BUCKETS_N,
                                  &m->wait);
    if (rc == 0)
        rc = pd_metrics_histogram(reg, "predictd_inference_seconds",
                                  "Time one batch spent in the model on a worker.", ml, 1,
                                  pd_metrics_latency_buckets, PD_METRICS_LATENCY_BUCKETS_N,
                                  &m->infer);
    if (rc == 0)
        rc = pd_metrics_histogram(reg, "predictd_batch_size",
                                  "Rows per batch run on a worker (one run_batch call).",
                                  ml, 1, batch_bounds, PD_ARRAY_SIZE(batch_bounds), &m->batch);
    if (rc == 0)
        rc = pd_metrics_gauge(reg, "predictd_pool_workers", "Worker threads.", NULL, 0, &wk);
    if (rc == 0)
        pd_metrics_set(pd_metrics_series(wk, NULL), workers);
    return rc;
}

int pd_pool_metrics_attach(pd_pool_t *pool, pd_metrics_t *reg)
{
    if (pool->metrics != NULL || reg == NULL)
        return PD_EINVAL;
    struct pd__pool_metrics_s *m = calloc(1, sizeof *m);
    if (m == NULL)
        return PD_ENOMEM;
    int rc = register_families(m, reg, pool->n_workers);
    if (rc < 0) {
        free(m);
        return rc;
    }
    pool->metrics = m;
    pd_metrics_on_collect(m->depth, collect_depth, pool);
    pd_metrics_on_collect(m->jobs, collect_jobs, pool);
    pd_metrics_on_collect(m->submitted, collect_submitted, pool);
    for (size_t i = 0; i < pool->n_queues; i++)
        pd__pool_metrics_queue_added(pool, pool->queues[i]);
    return 0;
}

void pd__pool_metrics_free(pd_pool_t *pool)
{
    struct pd__pool_metrics_s *m = pool->metrics;
    if (m == NULL)
        return;
    pd_metrics_on_collect(m->depth, NULL, NULL);
    pd_metrics_on_collect(m->jobs, NULL, NULL);
    pd_metrics_on_collect(m->submitted, NULL, NULL);
    free(m);
    pool->metrics = NULL;
}
