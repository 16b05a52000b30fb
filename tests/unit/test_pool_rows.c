/* test_pool_rows.c - the pool batches by ROWS: max_batch bounds the rows of one run_batch
 * call (a bigger job still runs, alone), the fair share is measured in rows, a job's 0 rows
 * counts as one, the jobs array of one batch is capped, and pd_pool_queue_room tells how
 * many jobs a queue accepts now, and pd_pool_submit_all queues all or none. Shares test_pool.c's fixture; runs under TSan too. */
#include "test_pool_fixture.h"

/* One worker is blocked on job 0 of queue `blk` (so later jobs wait together). */
static void block_one_worker(pd_pool_t *p, pd_pool_queue_t *blk)
{
    F.block = 1;
    assert_int_equal(submit_to(p, blk, 0, 1), 0);
    wait_started(1);
}

/* Jobs of several rows: each batch holds at most max_batch rows, never splits a job, and
 * a job larger than max_batch runs alone; 0 rows counts as one. */
static void test_batches_count_rows(void **state)
{
    pd_pool_t *p = make_pool(*state, 1, 8);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    block_one_worker(p, q);
    static const uint32_t rows[] = {3, 3, 3, 0, 8, 20, 1};
    for (int i = 0; i < (int)PD_ARRAY_SIZE(rows); i++)
        assert_int_equal(submit_rows_deferred(q, i + 1, rows[i]), 0);
    pd_pool_queue_stats_t s;
    pd_pool_queue_stats(q, &s);
    assert_int_equal(s.depth, 7);
    assert_int_equal(s.rows, 3 + 3 + 3 + 1 + 8 + 20 + 1);
    open_gate();
    run_until_idle(fx_loop(state));
    /* [blocker] [3,3] [3,0] [8] [20] [1]: adding the next job would pass 8 rows */
    static const uint32_t want_rows[] = {1, 6, 4, 8, 20, 1};
    static const uint32_t want_jobs[] = {1, 2, 2, 1, 1, 1};
    assert_int_equal(F.n_batches, PD_ARRAY_SIZE(want_rows));
    for (size_t i = 0; i < PD_ARRAY_SIZE(want_rows); i++) {
        assert_int_equal(F.batch_rows[i], want_rows[i]);
        assert_int_equal(F.batch_sizes[i], want_jobs[i]);
    }
    assert_int_equal(J[1].job.batch_rows, 6);
    assert_int_equal(J[1].job.batch_size, 2);
    assert_int_equal(J[4].job.batch_rows, 4);
    assert_int_equal(J[6].job.batch_rows, 20);
    for (int i = 0; i <= 7; i++)
        assert_int_equal(F.done_order[i], i);
    pd_pool_queue_stats(q, &s);
    assert_int_equal(s.depth, 0);
    assert_int_equal(s.rows, 0);
}

/* One job of 64 rows and 64 jobs of one row are the same batch size. */
static void test_one_big_job_equals_many_small(void **state)
{
    pd_pool_t *p = make_pool(*state, 1, 64);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 0, run_batch, 0, &q), 0);
    wait_workers_idle(p);
    for (int i = 0; i < 65; i++) /* one loop iteration: one wake-up */
        assert_int_equal(submit_rows_deferred(q, i, 1), 0);
    run_until_idle(fx_loop(state));
    wait_workers_idle(p);
    assert_int_equal(submit_rows_deferred(q, 65, 64), 0);
    run_until_idle(fx_loop(state));
    assert_int_equal(F.n_batches, 3);
    assert_int_equal(F.batch_sizes[0], 64); /* 64 jobs, 64 rows */
    assert_int_equal(F.batch_rows[0], 64);
    assert_int_equal(F.batch_rows[1], 1);
    assert_int_equal(F.batch_sizes[2], 1); /* one job, 64 rows */
    assert_int_equal(F.batch_rows[2], 64);
}

/* Waits for both workers to block on a job of queue `blk` each. */
static void block_two_workers(pd_pool_t *p, pd_pool_queue_t *blk)
{
    F.block = 1;
    assert_int_equal(submit_to(p, blk, 0, 1), 0);
    wait_started(1);
    assert_int_equal(submit_to(p, blk, 1, 1), 0);
    wait_started(2);
}

/* Sorts the rows of the batches of queue qid (ud) into out; returns how many. */
static size_t batches_of(int qid, uint32_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < F.n_batches; i++)
        if (F.batch_queue[i] == qid)
            out[n++] = F.batch_rows[i];
    for (size_t i = 1; i < n; i++) /* insertion sort: the order of the calls may vary */
        for (size_t k = i; k > 0 && out[k - 1] > out[k]; k--) {
            uint32_t t = out[k];
            out[k] = out[k - 1];
            out[k - 1] = t;
        }
    return n;
}

/* Two workers: each takes ceil(rows waiting / 2), measured in rows, whatever the jobs. */
static void test_fair_share_in_rows(void **state)
{
    pd_pool_t *p = make_pool(*state, 2, 1000);
    pd_pool_queue_t *blk, *big, *small;
    assert_int_equal(pd_pool_queue_add(p, "blk", 0, run_batch, (void *)(intptr_t)9, &blk), 0);
    assert_int_equal(pd_pool_queue_add(p, "big", 0, run_batch, (void *)(intptr_t)1, &big), 0);
    block_two_workers(p, blk);
    for (int i = 0; i < 4; i++) /* 40 rows in 4 jobs */
        assert_int_equal(submit_rows_deferred(big, 2 + i, 10), 0);
    open_gate();
    run_until_idle(fx_loop(state));
    uint32_t got[16];
    /* 40 waiting -> 20 (two jobs); 20 -> 10; 10 -> 5, but at least one job: 10 */
    assert_int_equal(batches_of(1, got), 3);
    assert_int_equal(got[0], 10);
    assert_int_equal(got[1], 10);
    assert_int_equal(got[2], 20);

    fixture_reset();
    assert_int_equal(pd_pool_queue_add(p, "small", 0, run_batch, (void *)(intptr_t)2, &small),
                     0);
    block_two_workers(p, blk);
    for (int i = 0; i < 40; i++) /* the same 40 rows in 40 jobs */
        assert_int_equal(submit_rows_deferred(small, 2 + i, 1), 0);
    open_gate();
    run_until_idle(fx_loop(state));
    /* 40 -> 20, 20 -> 10, 10 -> 5, 5 -> 3, 2 -> 1, 1 -> 1 */
    static const uint32_t want[] = {1, 1, 3, 5, 10, 20};
    assert_int_equal(batches_of(2, got), PD_ARRAY_SIZE(want));
    for (size_t i = 0; i < PD_ARRAY_SIZE(want); i++)
        assert_int_equal(got[i], want[i]);
}

/* max_batch may be far above PD_POOL_BATCH_JOBS_MAX: the jobs of one batch are capped. */
static void test_jobs_per_batch_capped(void **state)
{
    pd_pool_t *p = make_pool(*state, 1, PD_POOL_MAX_BATCH_LIMIT);
    pd_pool_queue_t *q;
    const int extra = 100, n = PD_POOL_BATCH_JOBS_MAX + extra;
    assert_int_equal(pd_pool_queue_add(p, "m", (size_t)n, run_batch, 0, &q), 0);
    block_one_worker(p, q);
    for (int i = 1; i <= n; i++)
        assert_int_equal(submit_rows_deferred(q, i, 1), 0);
    open_gate();
    run_until_idle(fx_loop(state));
    assert_int_equal(F.n_batches, 3);
    assert_int_equal(F.batch_sizes[1], PD_POOL_BATCH_JOBS_MAX);
    assert_int_equal(F.batch_sizes[2], extra);
    assert_int_equal(F.n_done, n + 1);
}

/* Room: max_queue minus the jobs waiting; submitting exactly that many never fails. */
static void test_queue_room(void **state)
{
    pd_pool_t *p = make_pool(*state, 1, 64);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 5, run_batch, 0, &q), 0);
    assert_int_equal(pd_pool_queue_room(q), 5);
    block_one_worker(p, q); /* job 0 left the queue: it runs */
    assert_int_equal(pd_pool_queue_room(q), 5);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(submit_rows_deferred(q, i, 100), 0); /* rows do not count */
    size_t room = pd_pool_queue_room(q);
    assert_int_equal(room, 2);
    for (size_t i = 0; i < room; i++) /* all chunks of one request, or none */
        assert_int_equal(submit_rows_deferred(q, 4 + (int)i, 1), 0);
    assert_int_equal(pd_pool_queue_room(q), 0);
    assert_int_equal(submit_rows_deferred(q, 6, 1), PD_EFULL);
    open_gate();
    run_until_idle(fx_loop(state));
    assert_int_equal(pd_pool_queue_room(q), 5);
    pd_pool_shutdown(p);
    assert_int_equal(pd_pool_queue_room(q), 0);
}

/* pd_pool_submit_all: a request's chunks are queued all or none, in order, and a refusal
 * counts every chunk as rejected; each accepted job is done exactly once. */
static void test_submit_all_or_none(void **state)
{
    pd_pool_t *p = make_pool(*state, 1, 64);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(p, "m", 4, run_batch, 0, &q), 0);
    block_one_worker(p, q); /* job 0 runs; the queue holds nothing yet */
    pd_job_t *jobs[5];
    for (int i = 0; i < 5; i++) {
        J[1 + i].id = 1 + i;
        J[1 + i].job.done = on_done;
        J[1 + i].job.rows = 10;
        jobs[i] = &J[1 + i].job;
    }
    assert_int_equal(pd_pool_submit_all(q, jobs, 5), PD_EFULL); /* 5 > 4 free: none */
    pd_pool_queue_stats_t s;
    pd_pool_queue_stats(q, &s);
    assert_int_equal(s.depth, 0);
    assert_int_equal(s.rejected_full, 5);
    assert_int_equal(pd_pool_submit_all(q, jobs, 3), 0); /* 3 of 4: all of them */
    assert_int_equal(pd_pool_submit_all(q, jobs + 3, 2), PD_EFULL); /* 1 free, 2 asked */
    pd_pool_queue_stats(q, &s);
    assert_int_equal(s.depth, 3);
    assert_int_equal(s.rows, 30);
    assert_int_equal(s.rejected_full, 7);
    assert_int_equal(pd_pool_submit_all(q, jobs, 0), PD_EINVAL);
    open_gate();
    run_until_idle(fx_loop(state));
    assert_int_equal(F.n_done, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(F.done_order[i], i); /* in order */
        assert_int_equal(J[i].done_calls, 1);
    }
    assert_int_equal(J[4].done_calls, 0);
    pd_pool_shutdown(p);
    assert_int_equal(pd_pool_submit_all(q, jobs + 3, 1), PD_ESHUTDOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        pool_test(test_batches_count_rows),
        pool_test(test_one_big_job_equals_many_small),
        pool_test(test_fair_share_in_rows),
        pool_test(test_jobs_per_batch_capped),
        pool_test(test_queue_room),
        pool_test(test_submit_all_or_none),
    };
    return cmocka_run_group_tests(tests, pool_group_setup, pool_group_teardown);
}
