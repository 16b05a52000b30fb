/* test_pool.c - the worker pool: completion order, batching, bounded queues, cancel,
 * deadlines, shutdown drain, fairness, scratch and a bounded multi-queue stress run.
 * Situations are forced with a gate (a worker blocks in run_batch until the test opens it),
 * never with sleeps; a watchdog timer stops the loop if a test would hang. Runs under TSan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common.h"
#include "pool/pool.h"

#define MAXJ 4096

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
    uint32_t batch_sizes[MAXJ];
    int batch_queue[MAXJ];
    size_t n_batches;
    int done_order[MAXJ]; /* loop thread */
    size_t n_done;
    int watchdog_fired;
} F;

static tjob_t J[MAXJ];

static void fixture_reset(void)
{
    pthread_mutex_lock(&F.mu);
    F.block = F.gate_open = F.started = 0;
    F.n_batches = 0;
    F.n_done = 0;
    F.watchdog_fired = 0;
    pthread_mutex_unlock(&F.mu);
    memset(J, 0, sizeof J);
}

static void run_batch(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w)
{
    int qid = (int)(intptr_t)ud;
    double *scratch = pd_pool_worker_scratch(w, n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        tjob_t *t = (tjob_t *)jobs[i];
        t->ran++;
        if (scratch)
            scratch[i] = (double)t->id; /* touch the worker-local area */
    }
    pthread_mutex_lock(&F.mu);
    if (F.n_batches < MAXJ) {
        F.batch_sizes[F.n_batches] = (uint32_t)n;
        F.batch_queue[F.n_batches] = qid;
        F.n_batches++;
    }
    F.started++;
    pthread_cond_broadcast(&F.cv);
    while (F.block && !F.gate_open)
        pthread_cond_wait(&F.cv, &F.mu);
    pthread_mutex_unlock(&F.mu);
}

static void on_done(pd_job_t *job, int status)
{
    tjob_t *t = (tjob_t *)job;
    assert_int_equal(status, job->status);
    t->done_calls++;
    if (F.n_done < MAXJ)
        F.done_order[F.n_done++] = t->id;
}

static void wait_started(int n)
{
    pthread_mutex_lock(&F.mu);
    while (F.started < n)
        pthread_cond_wait(&F.cv, &F.mu);
    pthread_mutex_unlock(&F.mu);
}

static void open_gate(void)
{
    pthread_mutex_lock(&F.mu);
    F.gate_open = 1;
    pthread_cond_broadcast(&F.cv);
    pthread_mutex_unlock(&F.mu);
}

static void on_watchdog(uv_timer_t *t)
{
    F.watchdog_fired = 1;
    uv_stop(t->loop);
}

/* Runs the loop until no job is in flight (the pool's async keeps it alive), bounded by a
 * 20 s watchdog. */
static void run_until_idle(uv_loop_t *loop)
{
    uv_timer_t wd;
    uv_timer_init(loop, &wd);
    uv_timer_start(&wd, on_watchdog, 20000, 0);
    uv_unref((uv_handle_t *)&wd);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&wd, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    assert_false(F.watchdog_fired);
}

static pd_pool_t *g_pool; /* the pool of the running test (for submit's flush) */

static pd_pool_t *make_pool(uv_loop_t *loop, unsigned workers, size_t max_batch)
{
    pd_pool_options_t o;
    pd_pool_options_default(&o);
    o.n_workers = workers;
    o.max_batch = max_batch;
    pd_pool_t *p = NULL;
    assert_int_equal(pd_pool_init(&p, loop, &o), 0);
    assert_int_equal(pd_pool_n_workers(p), workers);
    g_pool = p;
    return p;
}

/* Submits job `id` and wakes the workers at once (the tests often wait for a worker
 * without running the loop); submit_deferred leaves the wake-up to the loop. */
static int submit_deferred(pd_pool_queue_t *q, int id)
{
    J[id].id = id;
    J[id].job.done = on_done;
    return pd_pool_submit(q, &J[id].job);
}

static int submit(pd_pool_queue_t *q, int id)
{
    int rc = submit_deferred(q, id);
    (void)q;
    pd_pool_flush(g_pool);
    return rc;
}

static void finish(uv_loop_t *loop, pd_pool_t *p)
{
    pd_pool_destroy(p);
    uv_run(loop, UV_RUN_NOWAIT); /* the async handle's close callback */
    assert_int_equal(uv_loop_close(loop), 0);
}

static void test_completion_order(void **state)
{
    (void)state;
    fixture_reset();
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_t *p = make_pool(&loop, 1, 1);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    assert_string_equal(pd_pool_queue_name(q), "m");
    for (int i = 0; i < 100; i++)
        assert_int_equal(submit(q, i), 0);
    run_until_idle(&loop);
    assert_int_equal(F.n_done, 100);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(F.done_order[i], i);
        assert_int_equal(J[i].ran, 1);
        assert_int_equal(J[i].done_calls, 1);
        assert_int_equal(J[i].job.status, 0);
        assert_int_equal(J[i].job.batch_size, 1);
        assert_true(J[i].job.t_enqueue_ns <= J[i].job.t_start_ns);
        assert_true(J[i].job.t_start_ns <= J[i].job.t_end_ns);
    }
    pd_pool_queue_stats_t s;
    pd_pool_queue_stats(q, &s);
    assert_int_equal(s.submitted, 100);
    assert_int_equal(s.completed, 100);
    assert_int_equal(s.batches, 100);
    assert_int_equal(s.depth, 0);
    assert_int_equal(pd_pool_inflight(p), 0);
    finish(&loop, p);
}

static void test_batching(void **state)
{
    (void)state;
    fixture_reset();
    F.block = 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_t *p = make_pool(&loop, 1, 4);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    assert_int_equal(submit(q, 0), 0);
    wait_started(1); /* the only worker is now blocked on job 0 */
    for (int i = 1; i <= 10; i++)
        assert_int_equal(submit(q, i), 0);
    pd_pool_queue_stats_t s;
    pd_pool_queue_stats(q, &s);
    assert_int_equal(s.depth, 10);
    open_gate();
    run_until_idle(&loop);
    assert_int_equal(F.n_batches, 4);
    assert_int_equal(F.batch_sizes[0], 1);
    assert_int_equal(F.batch_sizes[1], 4);
    assert_int_equal(F.batch_sizes[2], 4);
    assert_int_equal(F.batch_sizes[3], 2);
    assert_int_equal(J[5].job.batch_size, 4);
    assert_int_equal(J[10].job.batch_size, 2);
    for (int i = 0; i <= 10; i++)
        assert_int_equal(F.done_order[i], i);
    finish(&loop, p);
}

/* Jobs submitted in one loop iteration reach an idle worker together: one wake-up, one
 * batch (the wake-up waits for the end of the iteration). */
static void test_iteration_is_one_batch(void **state)
{
    (void)state;
    fixture_reset();
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_t *p = make_pool(&loop, 1, 64);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(submit_deferred(q, i), 0);
    run_until_idle(&loop);
    assert_int_equal(F.n_batches, 1);
    assert_int_equal(F.batch_sizes[0], 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(F.done_order[i], i);
    finish(&loop, p);
}

static void test_queue_full(void **state)
{
    (void)state;
    fixture_reset();
    F.block = 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_t *p = make_pool(&loop, 1, 64);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 3, run_batch, 0, &q), 0);
    assert_int_equal(submit(q, 0), 0);
    wait_started(1);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(submit(q, i), 0);
    assert_int_equal(submit(q, 4), PD_EFULL);
    assert_int_equal(submit(q, 5), PD_EFULL);
    assert_int_equal(pd_pool_inflight(p), 4);
    pd_pool_queue_stats_t s;
    pd_pool_queue_stats(q, &s);
    assert_int_equal(s.rejected_full, 2);
    assert_int_equal(s.depth, 3);
    open_gate();
    run_until_idle(&loop);
    assert_int_equal(F.n_done, 4);
    assert_int_equal(J[4].done_calls, 0);
    assert_int_equal(J[4].ran, 0);
    /* room again once drained */
    assert_int_equal(submit(q, 6), 0);
    run_until_idle(&loop);
    assert_int_equal(J[6].ran, 1);
    finish(&loop, p);
}

static void test_cancel(void **state)
{
    (void)state;
    fixture_reset();
    F.block = 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_t *p = make_pool(&loop, 1, 64);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    assert_int_equal(submit(q, 0), 0);
    wait_started(1);
    pd_pool_cancel(&J[0].job); /* already running: finishes normally */
    for (int i = 1; i <= 3; i++)
        assert_int_equal(submit(q, i), 0);
    pd_pool_cancel(&J[2].job);
    open_gate();
    run_until_idle(&loop);
    assert_int_equal(J[0].job.status, 0);
    assert_int_equal(J[0].ran, 1);
    assert_int_equal(J[2].job.status, PD_ECANCELED);
    assert_int_equal(J[2].ran, 0);
    assert_int_equal(J[2].done_calls, 1);
    assert_int_equal(J[2].job.batch_size, 0);
    assert_int_equal(J[1].job.status, 0);
    assert_int_equal(J[3].job.status, 0);
    assert_int_equal(J[3].job.batch_size, 2);
    pd_pool_queue_stats_t s;
    pd_pool_queue_stats(q, &s);
    assert_int_equal(s.canceled_dropped, 1);
    assert_int_equal(s.completed, 3);
    finish(&loop, p);
}

static void test_deadline(void **state)
{
    (void)state;
    fixture_reset();
    F.block = 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_t *p = make_pool(&loop, 1, 64);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    assert_int_equal(submit(q, 0), 0);
    wait_started(1);
    J[1].job.deadline_ns = pd_pool_now_ns(); /* passed by the time a worker looks */
    J[2].job.deadline_ns = pd_pool_now_ns() + 3600ull * 1000000000ull;
    assert_int_equal(submit(q, 1), 0);
    assert_int_equal(submit(q, 2), 0);
    open_gate();
    run_until_idle(&loop);
    assert_int_equal(J[1].job.status, PD_ETIMEDOUT);
    assert_int_equal(J[1].ran, 0);
    assert_int_equal(J[2].job.status, 0);
    assert_int_equal(J[2].ran, 1);
    pd_pool_queue_stats_t s;
    pd_pool_queue_stats(q, &s);
    assert_int_equal(s.expired, 1);
    finish(&loop, p);
}

static void test_shutdown_drains_on_destroy(void **state)
{
    (void)state;
    fixture_reset();
    F.block = 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_t *p = make_pool(&loop, 2, 2);
    pd_pool_queue_t *q, *q2;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    assert_int_equal(submit(q, 0), 0);
    wait_started(1);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(submit(q, i), 0);
    pd_pool_shutdown(p);
    pd_pool_shutdown(p); /* idempotent */
    assert_int_equal(submit(q, 6), PD_ESHUTDOWN);
    assert_int_equal(pd_pool_queue_add(p, "late", 0, run_batch, 0, &q2), PD_ESHUTDOWN);
    open_gate();
    pd_pool_destroy(p); /* joins after the drain, calls every done() here */
    for (int i = 0; i <= 5; i++) {
        assert_int_equal(J[i].done_calls, 1);
        assert_int_equal(J[i].job.status, 0);
        assert_int_equal(J[i].ran, 1);
    }
    assert_int_equal(J[6].done_calls, 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&loop), 0);
    pd_pool_destroy(NULL);
}

static void test_shutdown_drains_through_loop(void **state)
{
    (void)state;
    fixture_reset();
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_t *p = make_pool(&loop, 2, 3);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal(submit(q, i), 0);
    pd_pool_shutdown(p);
    run_until_idle(&loop);
    assert_int_equal(F.n_done, 50);
    for (int i = 0; i < 50; i++)
        assert_int_equal(J[i].job.status, 0);
    finish(&loop, p);
}

static void test_fairness(void **state)
{
    (void)state;
    fixture_reset();
    F.block = 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_t *p = make_pool(&loop, 1, 2);
    pd_pool_queue_t *a, *b;
    assert_int_equal(pd_pool_queue_add(p, "a", 0, run_batch, (void *)(intptr_t)1, &a), 0);
    assert_int_equal(pd_pool_queue_add(p, "b", 0, run_batch, (void *)(intptr_t)2, &b), 0);
    assert_int_equal(submit(a, 0), 0);
    wait_started(1);
    for (int i = 1; i <= 6; i++)
        assert_int_equal(submit(a, i), 0);
    for (int i = 7; i <= 12; i++)
        assert_int_equal(submit(b, i), 0);
    open_gate();
    run_until_idle(&loop);
    /* job 0 alone, then a and b take turns although all of a was queued first */
    assert_int_equal(F.n_batches, 7);
    static const int want[] = {1, 1, 2, 1, 2, 1, 2};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(F.batch_queue[i], want[i]);
    finish(&loop, p);
}

static void test_invalid(void **state)
{
    (void)state;
    fixture_reset();
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_t *p = NULL;
    pd_pool_options_t o;
    pd_pool_options_default(&o);
    o.n_workers = PD_POOL_MAX_WORKERS + 1;
    assert_int_equal(pd_pool_init(&p, &loop, &o), PD_EINVAL);
    assert_null(p);
    o.n_workers = 1;
    o.max_batch = PD_POOL_MAX_BATCH_LIMIT + 1;
    assert_int_equal(pd_pool_init(&p, &loop, &o), PD_EINVAL);
    pd_pool_options_default(&o);
    o.n_workers = 1;
    o.max_queues = 1;
    assert_int_equal(pd_pool_init(&p, &loop, &o), 0);
    pd_pool_queue_t *q, *q2;
    char longname[PD_POOL_QUEUE_NAME_MAX + 1];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(pd_pool_queue_add(p, longname, 0, run_batch, 0, &q), PD_EINVAL);
    assert_int_equal(pd_pool_queue_add(p, "m", 0, NULL, 0, &q), PD_EINVAL);
    assert_int_equal(pd_pool_queue_add(p, "m", PD_POOL_MAX_QUEUE_LIMIT + 1, run_batch, 0, &q),
                     PD_EINVAL);
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    assert_int_equal(pd_pool_queue_add(p, "m2", 0, run_batch, 0, &q2), PD_EFULL);
    pd_job_t j;
    memset(&j, 0, sizeof j);
    assert_int_equal(pd_pool_submit(q, &j), PD_EINVAL); /* no done callback */
    assert_int_equal(pd_pool_submit(q, NULL), PD_EINVAL);
    assert_int_equal(pd_pool_inflight(p), 0);
    finish(&loop, p);
}

static void scratch_batch(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w)
{
    (void)ud;
    for (size_t i = 0; i < n; i++) {
        tjob_t *t = (tjob_t *)jobs[i];
        size_t bytes = (size_t)(t->id + 1) * 1000;
        unsigned char *s = pd_pool_worker_scratch(w, bytes);
        t->ran = s != NULL && pd_pool_worker_scratch(w, PD_POOL_SCRATCH_MAX + 1) == NULL &&
                 pd_pool_worker_index(w) < 2;
        if (s)
            memset(s, 0xab, bytes); /* ASan checks the size */
    }
}

static void test_scratch(void **state)
{
    (void)state;
    fixture_reset();
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_t *p = make_pool(&loop, 2, 3);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "s", 0, scratch_batch, 0, &q), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(submit(q, i), 0);
    run_until_idle(&loop);
    for (int i = 0; i < 40; i++)
        assert_int_equal(J[i].ran, 1);
    finish(&loop, p);
}

/* Stress: 4 workers, 3 queues, 3000 jobs pushed through queues of 32, every 7th canceled
 * right after submit. Every job completes exactly once, status 0 iff it ran. */
static void test_stress(void **state)
{
    (void)state;
    fixture_reset();
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_t *p = make_pool(&loop, 4, 8);
    pd_pool_queue_t *qs[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pd_pool_queue_add(p, "q", 32, run_batch, (void *)(intptr_t)i, &qs[i]),
                         0);
    const int total = 3000;
    int next = 0, rounds = 0;
    while (next < total && rounds < 1000000) {
        rounds++;
        int rc = submit(qs[next % 3], next);
        if (rc == PD_EFULL) {
            uv_run(&loop, UV_RUN_ONCE); /* jobs are in flight: a completion will come */
            continue;
        }
        assert_int_equal(rc, 0);
        J[next].queue = next % 3;
        if (next % 7 == 0)
            pd_pool_cancel(&J[next].job);
        next++;
    }
    assert_int_equal(next, total);
    run_until_idle(&loop);
    uint64_t ran = 0, canceled = 0, submitted = 0, completed = 0, dropped = 0;
    for (int i = 0; i < total; i++) {
        assert_int_equal(J[i].done_calls, 1);
        if (J[i].job.status == 0) {
            assert_int_equal(J[i].ran, 1);
            ran++;
        } else {
            assert_int_equal(J[i].job.status, PD_ECANCELED);
            assert_int_equal(i % 7, 0);
            assert_int_equal(J[i].ran, 0);
            canceled++;
        }
    }
    for (int i = 0; i < 3; i++) {
        pd_pool_queue_stats_t s;
        pd_pool_queue_stats(qs[i], &s);
        submitted += s.submitted;
        completed += s.completed;
        dropped += s.canceled_dropped;
        assert_int_equal(s.depth, 0);
    }
    assert_int_equal(submitted, total);
    assert_int_equal(completed, ran);
    assert_int_equal(dropped, canceled);
    assert_int_equal(pd_pool_inflight(p), 0);
    finish(&loop, p);
}

static int g_prio_seen, g_policy_seen;

static void prio_batch(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w)
{
    (void)ud, (void)w;
    errno = 0;
    g_prio_seen = getpriority(PRIO_PROCESS, (id_t)gettid());
    g_policy_seen = sched_getscheduler(0);
    for (size_t i = 0; i < n; i++)
        ((tjob_t *)jobs[i])->ran = 1;
}

/* Workers lower their own priority (nice + SCHED_BATCH); the loop thread keeps its own. */
static void test_worker_priority(void **state)
{
    (void)state;
    fixture_reset();
    int base = getpriority(PRIO_PROCESS, (id_t)gettid());
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_options_t o;
    pd_pool_options_default(&o);
    o.n_workers = 1;
    o.worker_nice = 5;
    pd_pool_t *p = NULL;
    assert_int_equal(pd_pool_init(&p, &loop, &o), 0);
    g_pool = p;
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "p", 0, prio_batch, 0, &q), 0);
    assert_int_equal(submit(q, 0), 0);
    run_until_idle(&loop);
    assert_int_equal(J[0].ran, 1);
    assert_int_equal(g_prio_seen, base + 5 > 19 ? 19 : base + 5);
    assert_int_equal(g_policy_seen, SCHED_BATCH);
    assert_int_equal(getpriority(PRIO_PROCESS, (id_t)gettid()), base);
    finish(&loop, p);
}

int main(void)
{
    pthread_mutex_init(&F.mu, NULL);
    pthread_cond_init(&F.cv, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completion_order),
        cmocka_unit_test(test_batching),
        cmocka_unit_test(test_iteration_is_one_batch),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_shutdown_drains_on_destroy),
        cmocka_unit_test(test_shutdown_drains_through_loop),
        cmocka_unit_test(test_fairness),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_scratch),
        cmocka_unit_test(test_stress),
        cmocka_unit_test(test_worker_priority),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
