/* test_pool.c - the worker pool: completion order, batching, bounded queues, cancel,
 * deadlines, shutdown drain, fairness, scratch and a bounded multi-queue stress run, with
 * the shared fixture of test_pool_fixture.h (a loop and a pool per test, a gate instead of
 * sleeps, a watchdog). Batching by rows and queue room: test_pool_rows.c. Runs under TSan. */
#include "test_pool_fixture.h"

#include <errno.h>
#include <sched.h>
#include <sys/resource.h>

static pd_pool_t *g_pool; /* the pool of the running test (for submit's flush) */

/* Submits job `id` (one row) and wakes the workers at once. */
static int submit(pd_pool_queue_t *q, int id)
{
    return submit_to(g_pool, q, id, 0);
}

/* make_pool that also remembers the pool for submit(). */
static pd_pool_t *pool_for(void **state, unsigned workers, size_t max_batch)
{
    g_pool = make_pool(*state, workers, max_batch);
    return g_pool;
}

static void test_completion_order(void **state)
{
    uv_loop_t *loop = fx_loop(state);
    pd_pool_t *p = pool_for(state, 1, 1);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    assert_string_equal(pd_pool_queue_name(q), "m");
    for (int i = 0; i < 100; i++)
        assert_int_equal(submit(q, i), 0);
    run_until_idle(loop);
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
}

static void test_batching(void **state)
{
    uv_loop_t *loop = fx_loop(state);
    F.block = 1;
    pd_pool_t *p = pool_for(state, 1, 4);
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
    run_until_idle(loop);
    assert_int_equal(F.n_batches, 4);
    assert_int_equal(F.batch_sizes[0], 1);
    assert_int_equal(F.batch_sizes[1], 4);
    assert_int_equal(F.batch_sizes[2], 4);
    assert_int_equal(F.batch_sizes[3], 2);
    assert_int_equal(J[5].job.batch_size, 4);
    assert_int_equal(J[10].job.batch_size, 2);
    for (int i = 0; i <= 10; i++)
        assert_int_equal(F.done_order[i], i);
}

/* Jobs submitted in one loop iteration reach an idle worker together: one wake-up, one
 * batch (the wake-up waits for the end of the iteration). */
static void test_iteration_is_one_batch(void **state)
{
    uv_loop_t *loop = fx_loop(state);
    pd_pool_t *p = pool_for(state, 1, 64);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    wait_workers_idle(p);
    for (int i = 0; i < 10; i++)
        assert_int_equal(submit_deferred(q, i), 0);
    run_until_idle(loop);
    assert_int_equal(F.n_batches, 1);
    assert_int_equal(F.batch_sizes[0], 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(F.done_order[i], i);
}

static void test_queue_full(void **state)
{
    uv_loop_t *loop = fx_loop(state);
    F.block = 1;
    pd_pool_t *p = pool_for(state, 1, 64);
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
    run_until_idle(loop);
    assert_int_equal(F.n_done, 4);
    assert_int_equal(J[4].done_calls, 0);
    assert_int_equal(J[4].ran, 0);
    /* room again once drained */
    assert_int_equal(submit(q, 6), 0);
    run_until_idle(loop);
    assert_int_equal(J[6].ran, 1);
}

static void test_cancel(void **state)
{
    uv_loop_t *loop = fx_loop(state);
    F.block = 1;
    pd_pool_t *p = pool_for(state, 1, 64);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    assert_int_equal(submit(q, 0), 0);
    wait_started(1);
    pd_pool_cancel(&J[0].job); /* already running: finishes normally */
    for (int i = 1; i <= 3; i++)
        assert_int_equal(submit(q, i), 0);
    pd_pool_cancel(&J[2].job);
    open_gate();
    run_until_idle(loop);
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
}

static void test_deadline(void **state)
{
    uv_loop_t *loop = fx_loop(state);
    F.block = 1;
    pd_pool_t *p = pool_for(state, 1, 64);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    assert_int_equal(submit(q, 0), 0);
    wait_started(1);
    J[1].job.deadline_ns = pd_pool_now_ns(); /* passed by the time a worker looks */
    J[2].job.deadline_ns = pd_pool_now_ns() + 3600ull * 1000000000ull;
    assert_int_equal(submit(q, 1), 0);
    assert_int_equal(submit(q, 2), 0);
    open_gate();
    run_until_idle(loop);
    assert_int_equal(J[1].job.status, PD_ETIMEDOUT);
    assert_int_equal(J[1].ran, 0);
    assert_int_equal(J[2].job.status, 0);
    assert_int_equal(J[2].ran, 1);
    pd_pool_queue_stats_t s;
    pd_pool_queue_stats(q, &s);
    assert_int_equal(s.expired, 1);
}

static void test_shutdown_drains_on_destroy(void **state)
{
    F.block = 1;
    pd_pool_t *p = pool_for(state, 2, 2);
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
    ((pool_fx_t *)*state)->pool = NULL;
    for (int i = 0; i <= 5; i++) {
        assert_int_equal(J[i].done_calls, 1);
        assert_int_equal(J[i].job.status, 0);
        assert_int_equal(J[i].ran, 1);
    }
    assert_int_equal(J[6].done_calls, 0);
    pd_pool_destroy(NULL);
}

static void test_shutdown_drains_through_loop(void **state)
{
    uv_loop_t *loop = fx_loop(state);
    pd_pool_t *p = pool_for(state, 2, 3);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal(submit(q, i), 0);
    pd_pool_shutdown(p);
    run_until_idle(loop);
    assert_int_equal(F.n_done, 50);
    for (int i = 0; i < 50; i++)
        assert_int_equal(J[i].job.status, 0);
}

static void test_fairness(void **state)
{
    uv_loop_t *loop = fx_loop(state);
    F.block = 1;
    pd_pool_t *p = pool_for(state, 1, 2);
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
    run_until_idle(loop);
    /* job 0 alone, then a and b take turns although all of a was queued first */
    assert_int_equal(F.n_batches, 7);
    static const int want[] = {1, 1, 2, 1, 2, 1, 2};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(F.batch_queue[i], want[i]);
}

static void test_invalid(void **state)
{
    pool_fx_t *fx = *state;
    uv_loop_t *loop = &fx->loop;
    pd_pool_t *p = NULL;
    pd_pool_options_t o;
    pd_pool_options_default(&o);
    o.n_workers = PD_POOL_MAX_WORKERS + 1;
    assert_int_equal(pd_pool_init(&p, loop, &o), PD_EINVAL);
    assert_null(p);
    o.n_workers = 1;
    o.max_batch = PD_POOL_MAX_BATCH_LIMIT + 1;
    assert_int_equal(pd_pool_init(&p, loop, &o), PD_EINVAL);
    o.max_batch = PD_POOL_MAX_BATCH_LIMIT; /* the limit itself is fine (rows) */
    assert_int_equal(pd_pool_init(&p, loop, &o), 0);
    pd_pool_destroy(p);
    pd_pool_options_default(&o);
    o.n_workers = 1;
    o.max_queues = 1;
    assert_int_equal(pd_pool_init(&fx->pool, loop, &o), 0);
    p = fx->pool;
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
    uv_loop_t *loop = fx_loop(state);
    pd_pool_t *p = pool_for(state, 2, 3);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "s", 0, scratch_batch, 0, &q), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(submit(q, i), 0);
    run_until_idle(loop);
    for (int i = 0; i < 40; i++)
        assert_int_equal(J[i].ran, 1);
}

/* Stress: 4 workers, 3 queues, 3000 jobs pushed through queues of 32, every 7th canceled
 * right after submit. Every job completes exactly once, status 0 iff it ran. */
static void test_stress(void **state)
{
    uv_loop_t *loop = fx_loop(state);
    pd_pool_t *p = pool_for(state, 4, 8);
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
            uv_run(loop, UV_RUN_ONCE); /* jobs are in flight: a completion will come */
            continue;
        }
        assert_int_equal(rc, 0);
        J[next].queue = next % 3;
        if (next % 7 == 0)
            pd_pool_cancel(&J[next].job);
        next++;
    }
    assert_int_equal(next, total);
    run_until_idle(loop);
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
    pool_fx_t *fx = *state;
    uv_loop_t *loop = &fx->loop;
    int base = getpriority(PRIO_PROCESS, (id_t)gettid());
    pd_pool_options_t o;
    pd_pool_options_default(&o);
    o.n_workers = 1;
    o.worker_nice = 5;
    assert_int_equal(pd_pool_init(&fx->pool, loop, &o), 0);
    pd_pool_t *p = g_pool = fx->pool;
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "p", 0, prio_batch, 0, &q), 0);
    assert_int_equal(submit(q, 0), 0);
    run_until_idle(loop);
    assert_int_equal(J[0].ran, 1);
    assert_int_equal(g_prio_seen, PD_MIN(base + 5, PD_POOL_NICEST));
    assert_int_equal(g_policy_seen, SCHED_BATCH);
    assert_int_equal(getpriority(PRIO_PROCESS, (id_t)gettid()), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        pool_test(test_completion_order),
        pool_test(test_batching),
        pool_test(test_iteration_is_one_batch),
        pool_test(test_queue_full),
        pool_test(test_cancel),
        pool_test(test_deadline),
        pool_test(test_shutdown_drains_on_destroy),
        pool_test(test_shutdown_drains_through_loop),
        pool_test(test_fairness),
        pool_test(test_invalid),
        pool_test(test_scratch),
        pool_test(test_stress),
        pool_test(test_worker_priority),
    };
    return cmocka_run_group_tests(tests, pool_group_setup, pool_group_teardown);
}
