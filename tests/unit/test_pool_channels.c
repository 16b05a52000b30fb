/* test_pool_channels.c - the pool's per-loop completion channels: several loop threads
 * submit to the same queues at once, and every job completes on the loop that submitted
 * it, exactly once; a channel closed with jobs in flight waits for them. Run under TSan
 * (make test-tsan) as well as ASan. Bounded: every loop runs a fixed number of jobs and
 * stops when they are done; a watchdog timer stops a loop that would hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "common.h"
#include "pool/pool.h"

#define LOOPS 3            /* the main loop's thread (the test) + 2 more */
#define JOBS_PER_LOOP 2000
#define WATCHDOG_MS 20000

typedef struct lane_s lane_t;

typedef struct {
    pd_job_t job;
    lane_t *lane;
    int ran; /* written by the worker */
    int done_calls;
} cjob_t;

struct lane_s {
    uv_loop_t loop;          /* the main lane borrows the test's loop */
    uv_loop_t *lp;
    pd_pool_t *pool;
    pd_pool_queue_t **queues;
    pd_pool_channel_t *ch;   /* NULL: the main channel (pd_pool_submit_all) */
    pthread_t thread;        /* the thread that runs lp (set by that thread) */
    pthread_t tid;           /* pthread_create's handle, for the join */
    cjob_t jobs[JOBS_PER_LOOP];
    size_t submitted, completed, wrong_thread, bad_status;
    uv_idle_t submitter;
    uv_timer_t watchdog;
    int watchdog_fired;
};

static void run_batch(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w)
{
    (void)ud;
    (void)w;
    for (size_t i = 0; i < n; i++)
        ((cjob_t *)jobs[i])->ran = 1;
}

static void job_done(pd_job_t *job, int status)
{
    cjob_t *j = (cjob_t *)job;
    lane_t *l = j->lane;
    j->done_calls++;
    l->completed++;
    if (!pthread_equal(pthread_self(), l->thread))
        l->wrong_thread++;
    if (status != 0 || !j->ran)
        l->bad_status++;
    if (l->completed == JOBS_PER_LOOP) {
        uv_timer_stop(&l->watchdog);
        uv_close((uv_handle_t *)&l->watchdog, NULL);
    }
}

/* Submits jobs in small groups, alternating the two queues, one group per iteration. */
static void on_idle(uv_idle_t *h)
{
    lane_t *l = h->data;
    for (int g = 0; g < 7 && l->submitted < JOBS_PER_LOOP; g++) {
        size_t k = PD_MIN((size_t)3, JOBS_PER_LOOP - l->submitted);
        pd_job_t *batch[3];
        for (size_t i = 0; i < k; i++) {
            cjob_t *j = &l->jobs[l->submitted + i];
            j->lane = l;
            j->job.done = job_done;
            j->job.rows = 1;
            batch[i] = &j->job;
        }
        pd_pool_queue_t *q = l->queues[(l->submitted / 3) % 2];
        int rc = l->ch ? pd_pool_submit_all_via(l->ch, q, batch, k)
                       : pd_pool_submit_all(q, batch, k);
        if (rc == PD_EFULL)
            break; /* the queue is shared: try again next iteration */
        assert_int_equal(rc, 0);
        l->submitted += k;
    }
    if (l->submitted == JOBS_PER_LOOP)
        uv_close((uv_handle_t *)h, NULL);
}

static void on_watchdog(uv_timer_t *t)
{
    lane_t *l = t->data;
    l->watchdog_fired = 1;
    uv_stop(l->lp);
}

/* Runs lane l on the calling thread until its jobs are done (or the watchdog fires). */
static void lane_run(lane_t *l)
{
    l->thread = pthread_self();
    uv_idle_init(l->lp, &l->submitter);
    l->submitter.data = l;
    uv_idle_start(&l->submitter, on_idle);
    uv_timer_init(l->lp, &l->watchdog);
    l->watchdog.data = l;
    uv_timer_start(&l->watchdog, on_watchdog, WATCHDOG_MS, 0);
    uv_run(l->lp, UV_RUN_DEFAULT);
}

static void *lane_thread(void *arg)
{
    lane_t *l = arg;
    uv_loop_init(&l->loop);
    l->lp = &l->loop;
    if (pd_pool_channel_create(l->pool, l->lp, &l->ch) != 0)
        return NULL;
    lane_run(l);
    pd_pool_channel_destroy(l->ch);
    uv_run(l->lp, UV_RUN_NOWAIT); /* close callbacks */
    uv_loop_close(l->lp);
    return NULL;
}

static void test_jobs_complete_on_their_loop(void **state)
{
    (void)state;
    static lane_t lanes[LOOPS];
    memset(lanes, 0, sizeof lanes);
    uv_loop_t main_loop;
    uv_loop_init(&main_loop);
    pd_pool_options_t o;
    pd_pool_options_default(&o);
    o.n_workers = 3;
    o.worker_nice = 0;
    o.sched_batch = 0;
    o.max_batch = 8;
    pd_pool_t *pool;
    assert_int_equal(pd_pool_init(&pool, &main_loop, &o), 0);
    pd_pool_queue_t *qs[2];
    assert_int_equal(pd_pool_queue_add(pool, "a", 64, run_batch, NULL, &qs[0]), 0);
    assert_int_equal(pd_pool_queue_add(pool, "b", 64, run_batch, NULL, &qs[1]), 0);
    for (int i = 0; i < LOOPS; i++) {
        lanes[i].pool = pool;
        lanes[i].queues = qs;
    }
    lanes[0].lp = &main_loop;
    for (int i = 1; i < LOOPS; i++)
        assert_int_equal(pthread_create(&lanes[i].tid, NULL, lane_thread, &lanes[i]), 0);
    lane_run(&lanes[0]);
    for (int i = 1; i < LOOPS; i++)
        pthread_join(lanes[i].tid, NULL);
    for (int i = 0; i < LOOPS; i++) {
        assert_false(lanes[i].watchdog_fired);
        assert_int_equal(lanes[i].completed, JOBS_PER_LOOP);
        assert_int_equal(lanes[i].wrong_thread, 0);
        assert_int_equal(lanes[i].bad_status, 0);
        for (size_t k = 0; k < JOBS_PER_LOOP; k++)
            assert_int_equal(lanes[i].jobs[k].done_calls, 1);
    }
    uint64_t completed = 0;
    for (int q = 0; q < 2; q++) {
        pd_pool_queue_stats_t s;
        pd_pool_queue_stats(qs[q], &s);
        assert_true(s.completed > 0); /* both queues served jobs of every lane */
        completed += s.completed;
    }
    assert_int_equal(completed, (uint64_t)LOOPS * JOBS_PER_LOOP);
    assert_int_equal(pd_pool_inflight(pool), 0);
    pd_pool_destroy(pool);
    uv_run(&main_loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&main_loop), 0);
}

/* A worker blocks on a gate; the channel's destroy must wait for the job it runs. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_entered, gate_open;

static void gated_batch(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w)
{
    pthread_mutex_lock(&gate_mu);
    gate_entered = 1;
    pthread_cond_broadcast(&gate_cv);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    run_batch(ud, jobs, n, w);
}

static void *open_gate_later(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate_mu);
    while (!gate_entered)
        pthread_cond_wait(&gate_cv, &gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    return NULL;
}

static void test_destroy_waits_for_inflight(void **state)
{
    (void)state;
    uv_loop_t main_loop, other;
    uv_loop_init(&main_loop);
    uv_loop_init(&other);
    pd_pool_options_t o;
    pd_pool_options_default(&o);
    o.n_workers = 2;
    o.worker_nice = 0;
    o.sched_batch = 0;
    pd_pool_t *pool;
    assert_int_equal(pd_pool_init(&pool, &main_loop, &o), 0);
    pd_pool_queue_t *q;
    assert_int_equal(pd_pool_queue_add(pool, "g", 8, gated_batch, NULL, &q), 0);
    pd_pool_channel_t *ch;
    assert_int_equal(pd_pool_channel_create(pool, &other, &ch), 0);
    static lane_t lane;
    memset(&lane, 0, sizeof lane);
    lane.thread = pthread_self();
    cjob_t *j = &lane.jobs[0];
    j->lane = &lane;
    j->job.done = job_done;
    assert_int_equal(pd_pool_submit_via(ch, q, &j->job), 0);
    assert_int_equal(pd_pool_channel_inflight(ch), 1);
    pthread_t opener;
    pthread_create(&opener, NULL, open_gate_later, NULL);
    pd_pool_channel_destroy(ch); /* flushes, waits for the gated job, runs its done() */
    pthread_join(opener, NULL);
    assert_int_equal(j->done_calls, 1);
    assert_int_equal(lane.wrong_thread, 0);
    assert_int_equal(lane.bad_status, 0);
    uv_run(&other, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&other), 0);
    pd_pool_destroy(pool);
    uv_run(&main_loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&main_loop), 0);
}

static void test_channel_limit(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_pool_options_t o;
    pd_pool_options_default(&o);
    o.n_workers = 1;
    o.worker_nice = 0;
    o.sched_batch = 0;
    pd_pool_t *pool;
    assert_int_equal(pd_pool_init(&pool, &loop, &o), 0);
    static pd_pool_channel_t *chs[PD_POOL_MAX_CHANNELS];
    size_t n = 0;
    while (n < PD_POOL_MAX_CHANNELS && pd_pool_channel_create(pool, &loop, &chs[n]) == 0)
        n++;
    assert_int_equal(n, PD_POOL_MAX_CHANNELS - 1); /* the main channel holds one slot */
    pd_pool_channel_t *extra = NULL;
    assert_int_equal(pd_pool_channel_create(pool, &loop, &extra), PD_EFULL);
    assert_null(extra);
    assert_int_equal(pd_pool_channel_create(pool, NULL, &extra), PD_EINVAL);
    for (size_t i = 0; i < n; i++)
        pd_pool_channel_destroy(chs[i]);
    pd_pool_channel_destroy(NULL);
    assert_int_equal(pd_pool_channel_create(pool, &loop, &extra), 0); /* a slot is free again */
    pd_pool_channel_destroy(extra);
    pd_pool_destroy(pool);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_complete_on_their_loop),
        cmocka_unit_test(test_destroy_waits_for_inflight),
        cmocka_unit_test(test_channel_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
