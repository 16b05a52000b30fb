/* test_pool_fixture.h - the fixture the pool's tests share (test_pool.c, test_pool_rows.c):
 * a loop and a pool per test (cmocka setup/teardown), a table of test jobs J[], and a
 * run_batch that records every batch and can block on a gate until the test opens it.
 *
 * Situations are forced with the gate, never with sleeps; a watchdog timer stops the loop
 * if a test would hang. Invariants: F is guarded by F.mu (workers write it), except
 * done_order/n_done, which only the loop thread touches; the teardown opens the gate
 * before it destroys the pool, so a failed test cannot leave a worker blocked. Every
 * function is static inline so that a test file may use only some of them. */
#ifndef PD_TEST_POOL_FIXTURE_H
#define PD_TEST_POOL_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "common.h"
#include "pool/pool.h"
#include "pool/pool_internal.h" /* n_waiting, for wait_workers_idle */

#define MAXJ 8192 /* test jobs; more than PD_POOL_BATCH_JOBS_MAX */
#define WATCHDOG_MS 20000 /* bounds every run_until_idle */

typedef struct {
    pd_job_t job; /* first: done() casts back */
    int id;
    int queue;
    int ran;        /* written by the worker, read in done() */
    int done_calls; /* loop thread */
} tjob_t;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int block;     /* run_batch waits for the gate */
    int gate_open;
    int started;   /* run_batch calls entered */
    uint32_t batch_sizes[MAXJ]; /* jobs per run_batch call, in the order of the calls */
    uint32_t batch_rows[MAXJ];  /* rows per run_batch call */
    int batch_queue[MAXJ];      /* the queue's ud */
    size_t n_batches;
    int done_order[MAXJ]; /* loop thread */
    size_t n_done;
    int watchdog_fired;
} F;

static tjob_t J[MAXJ];

/* The state every test gets: its own loop, and the pool it makes (the teardown frees it). */
typedef struct {
    uv_loop_t loop;
    pd_pool_t *pool;
} pool_fx_t;

/* The loop of the running test. */
static inline uv_loop_t *fx_loop(void **state)
{
    return &((pool_fx_t *)*state)->loop;
}

static inline void fixture_reset(void)
{
    pthread_mutex_lock(&F.mu);
    F.block = F.gate_open = F.started = 0;
    F.n_batches = 0;
    F.n_done = 0;
    F.watchdog_fired = 0;
    pthread_mutex_unlock(&F.mu);
    memset(J, 0, sizeof J);
}

/* Records the batch (jobs, rows, queue), marks its jobs ran, touches worker scratch, and
 * waits for the gate while F.block is set. */
static inline void run_batch(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w)
{
    int qid = (int)(intptr_t)ud;
    double *scratch = pd_pool_worker_scratch(w, n * sizeof(double));
    uint32_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        tjob_t *t = (tjob_t *)jobs[i];
        t->ran++;
        rows += t->job.rows ? t->job.rows : 1;
        if (scratch)
            scratch[i] = (double)t->id; /* touch the worker-local area */
    }
    pthread_mutex_lock(&F.mu);
    if (F.n_batches < MAXJ) {
        F.batch_sizes[F.n_batches] = (uint32_t)n;
        F.batch_rows[F.n_batches] = rows;
        F.batch_queue[F.n_batches] = qid;
        F.n_batches++;
    }
    F.started++;
    pthread_cond_broadcast(&F.cv);
    while (F.block && !F.gate_open)
        pthread_cond_wait(&F.cv, &F.mu);
    pthread_mutex_unlock(&F.mu);
}

static inline void on_done(pd_job_t *job, int status)
{
    tjob_t *t = (tjob_t *)job;
    assert_int_equal(status, job->status);
    t->done_calls++;
    if (F.n_done < MAXJ)
        F.done_order[F.n_done++] = t->id;
}

/* Waits until n run_batch calls have begun (each is then blocked if F.block). */
static inline void wait_started(int n)
{
    pthread_mutex_lock(&F.mu);
    while (F.started < n)
        pthread_cond_wait(&F.cv, &F.mu);
    pthread_mutex_unlock(&F.mu);
}

static inline void open_gate(void)
{
    pthread_mutex_lock(&F.mu);
    F.gate_open = 1;
    pthread_cond_broadcast(&F.cv);
    pthread_mutex_unlock(&F.mu);
}

static inline void on_watchdog(uv_timer_t *t)
{
    F.watchdog_fired = 1;
    uv_stop(t->loop);
}

/* Runs the loop until no job is in flight (the pool's async keeps it alive), bounded by
 * the watchdog. */
static inline void run_until_idle(uv_loop_t *loop)
{
    uv_timer_t wd;
    uv_timer_init(loop, &wd);
    uv_timer_start(&wd, on_watchdog, WATCHDOG_MS, 0);
    uv_unref((uv_handle_t *)&wd);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&wd, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    assert_false(F.watchdog_fired);
}

/* Waits (bounded by WATCHDOG_MS) until every worker of p waits for work: a freshly
 * started thread may still be on its way there and would take jobs one by one as they
 * are submitted, which a test of batching must not see. */
static inline void wait_workers_idle(pd_pool_t *p)
{
    for (int i = 0; i < WATCHDOG_MS; i++) {
        pthread_mutex_lock(&p->mu);
        unsigned waiting = p->n_waiting;
        pthread_mutex_unlock(&p->mu);
        if (waiting == p->n_workers)
            return;
        usleep(1000);
    }
    fail_msg("the workers never became idle");
}

/* Makes the test's pool (freed by the teardown): `workers` threads, max_batch rows. */
static inline pd_pool_t *make_pool(pool_fx_t *fx, unsigned workers, size_t max_batch)
{
    pd_pool_options_t o;
    pd_pool_options_default(&o);
    o.n_workers = workers;
    o.max_batch = max_batch;
    assert_int_equal(pd_pool_init(&fx->pool, &fx->loop, &o), 0);
    assert_int_equal(pd_pool_n_workers(fx->pool), workers);
    return fx->pool;
}

/* Submits job `id` carrying `rows` rows; the wake-up is left to the loop. */
static inline int submit_rows_deferred(pd_pool_queue_t *q, int id, uint32_t rows)
{
    J[id].id = id;
    J[id].job.done = on_done;
    J[id].job.rows = rows;
    return pd_pool_submit(q, &J[id].job);
}

/* Submits job `id` (rows as set in J[id], 0 = one) and leaves the wake-up to the loop. */
static inline int submit_deferred(pd_pool_queue_t *q, int id)
{
    return submit_rows_deferred(q, id, J[id].job.rows);
}

/* Submits job `id` and wakes the workers at once (the tests often wait for a worker
 * without running the loop). p is the pool of q. */
static inline int submit_to(pd_pool_t *p, pd_pool_queue_t *q, int id, uint32_t rows)
{
    int rc = submit_rows_deferred(q, id, rows);
    pd_pool_flush(p);
    return rc;
}

/* Per-test setup: fresh job table and loop, no pool yet. */
static inline int pool_fx_setup(void **state)
{
    static pool_fx_t fx;
    fixture_reset();
    memset(&fx, 0, sizeof fx);
    if (uv_loop_init(&fx.loop) != 0)
        return -1;
    *state = &fx;
    return 0;
}

/* Per-test teardown: frees the test's pool (if it did not), then the loop, which must
 * have no handle left. */
static inline int pool_fx_teardown(void **state)
{
    pool_fx_t *fx = *state;
    open_gate();
    pd_pool_destroy(fx->pool);
    fx->pool = NULL;
    uv_run(&fx->loop, UV_RUN_NOWAIT); /* the pool handles' close callbacks */
    return uv_loop_close(&fx->loop) == 0 ? 0 : -1;
}

/* Group setup and teardown: F's lock and condition variable. */
static inline int pool_group_setup(void **state)
{
    (void)state;
    pthread_mutex_init(&F.mu, NULL);
    pthread_cond_init(&F.cv, NULL);
    return 0;
}

static inline int pool_group_teardown(void **state)
{
    (void)state;
    pthread_cond_destroy(&F.cv);
    pthread_mutex_destroy(&F.mu);
    return 0;
}

/* A test with the per-test fixture. */
#define pool_test(fn) cmocka_unit_test_setup_teardown(fn, pool_fx_setup, pool_fx_teardown)

#endif
