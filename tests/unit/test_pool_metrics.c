/* test_pool_metrics.c - the pool's metrics bridge: job outcomes, per-batch histograms and
 * queue depth as rendered by the registry, for queues added before and after attaching;
 * batch sizes are counted in rows; the registry stays safe to render after the pool is
 * gone. Runs under TSan too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "common.h"
#include "obs/metrics.h"
#include "pool/pool.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int started, gate_open, n_done;

static void run_batch(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w)
{
    (void)ud, (void)jobs, (void)n, (void)w;
    pthread_mutex_lock(&mu);
    started++;
    pthread_cond_broadcast(&cv);
    while (!gate_open)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void on_done(pd_job_t *job, int status)
{
    (void)job, (void)status;
    n_done++;
}

static void assert_line(const char *text, const char *line)
{
    if (strstr(text, line) == NULL)
        fail_msg("missing line: %s\n--- in ---\n%s", line, text);
}

static void test_pool_metrics(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_metrics_t *reg;
    assert_int_equal(pd_metrics_init(&reg, 0), 0);
    pd_pool_options_t o;
    pd_pool_options_default(&o);
    o.n_workers = 1;
    o.max_batch = 4;
    pd_pool_t *p;
    assert_int_equal(pd_pool_init(&p, &loop, &o), 0);
    pd_pool_queue_t *iris, *late;
    assert_int_equal(pd_pool_queue_add(p, "iris", 4, run_batch, NULL, &iris), 0);
    assert_int_equal(pd_pool_metrics_attach(p, reg), 0);
    assert_int_equal(pd_pool_metrics_attach(p, reg), PD_EINVAL);
    assert_int_equal(pd_pool_queue_add(p, "late", 0, run_batch, NULL, &late), 0);

    pd_job_t jobs[7];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 7; i++)
        jobs[i].done = on_done;
    assert_int_equal(pd_pool_submit(iris, &jobs[0]), 0);
    pd_pool_flush(p); /* wake the worker now: the loop does not run until later */
    pthread_mutex_lock(&mu);
    while (started < 1)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(pd_pool_submit(iris, &jobs[i]), 0);
    assert_int_equal(pd_pool_submit(iris, &jobs[5]), PD_EFULL);
    pd_pool_cancel(&jobs[2]);

    pd_buf_t b = PD_BUF_INIT;
    assert_int_equal(pd_metrics_render(reg, &b), 0);
    assert_line(b.data, "\npredictd_queue_depth{model=\"iris\"} 4\n");
    assert_line(b.data, "\npredictd_pool_jobs_total{model=\"iris\",outcome=\"rejected\"} 1\n");
    assert_line(b.data, "\npredictd_pool_workers 1\n");

    pthread_mutex_lock(&mu);
    gate_open = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    jobs[6].rows = 300; /* the batch histogram counts rows */
    assert_int_equal(pd_pool_submit(late, &jobs[6]), 0);
    for (int i = 0; i < 10000 && n_done < 6; i++) /* bounded */
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(n_done, 6);

    pd_buf_reset(&b);
    assert_int_equal(pd_metrics_render(reg, &b), 0);
    assert_line(b.data, "\npredictd_queue_depth{model=\"iris\"} 0\n");
    assert_line(b.data, "\npredictd_pool_jobs_total{model=\"iris\",outcome=\"completed\"} 4\n");
    assert_line(b.data, "\npredictd_pool_jobs_total{model=\"iris\",outcome=\"canceled\"} 1\n");
    assert_line(b.data, "\npredictd_pool_jobs_total{model=\"iris\",outcome=\"expired\"} 0\n");
    assert_line(b.data, "\npredictd_pool_jobs_total{model=\"late\",outcome=\"completed\"} 1\n");
    /* batches: [0] then [1,3,4] (2 was dropped); late: [6] */
    assert_line(b.data, "\npredictd_batch_size_count{model=\"iris\"} 2\n");
    assert_line(b.data, "\npredictd_batch_size_sum{model=\"iris\"} 4\n");
    assert_line(b.data, "\npredictd_batch_size_bucket{model=\"iris\",le=\"2\"} 1\n");
    assert_line(b.data, "\npredictd_batch_size_bucket{model=\"iris\",le=\"4\"} 2\n");
    assert_line(b.data, "\npredictd_batch_size_sum{model=\"late\"} 300\n");
    assert_line(b.data, "\npredictd_batch_size_bucket{model=\"late\",le=\"256\"} 0\n");
    assert_line(b.data, "\npredictd_batch_size_bucket{model=\"late\",le=\"512\"} 1\n");
    assert_line(b.data, "\npredictd_batch_size_bucket{model=\"late\",le=\"1048576\"} 1\n");
    assert_line(b.data, "\n# HELP predictd_batch_size Rows per batch");
    assert_line(b.data, "\npredictd_inference_seconds_count{model=\"iris\"} 2\n");
    assert_line(b.data, "\npredictd_inference_seconds_count{model=\"late\"} 1\n");
    assert_line(b.data, "\npredictd_queue_wait_seconds_count{model=\"iris\"} 5\n");

    pd_pool_destroy(p);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&loop), 0);
    pd_buf_reset(&b); /* the scrape callbacks were detached: rendering is still safe */
    assert_int_equal(pd_metrics_render(reg, &b), 0);
    assert_line(b.data, "\npredictd_queue_depth{model=\"iris\"} 0\n");
    pd_buf_free(&b);
    pd_metrics_destroy(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
