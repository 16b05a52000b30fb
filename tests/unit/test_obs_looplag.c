/* test_obs_looplag.c - the event-loop monitor on a real uv loop: a callback that busy-waits
 * inside a labeled section produces one warning naming the longest section; light
 * callbacks produce none; the metrics are registered and fed. Assertions are about the
 * presence of the warning and counts, never about measured durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "obs/log.h"
#include "obs/looplag.h"
#include "obs/metrics.h"

static struct {
    char lines[16][256];
    int n;
} CAP;

static void sink(pd_log_level_t level, const char *msg, void *ud)
{
    (void)ud;
    if (level == PD_LOG_WARN && CAP.n < 16)
        snprintf(CAP.lines[CAP.n++], sizeof CAP.lines[0], "%s", msg);
}

static int count_blocked(const char *suffix)
{
    int k = 0;
    for (int i = 0; i < CAP.n; i++) {
        const char *l = CAP.lines[i];
        size_t n = strlen(l), m = strlen(suffix);
        if (strncmp(l, "event loop blocked for ", 23) == 0 && n >= m &&
            strcmp(l + n - m, suffix) == 0)
            k++;
    }
    return k;
}

static pd_looplag_t *g_mon;

static void busy_ms(uint64_t ms)
{
    uint64_t end = uv_hrtime() + ms * 1000000u;
    while (uv_hrtime() < end) {
    }
}

/* One iteration: a quick labeled section, then a long one. */
static void on_busy(uv_timer_t *t)
{
    (void)t;
    pd_looplag_enter(g_mon, "GET /health");
    pd_looplag_leave(g_mon);
    pd_looplag_enter(g_mon, "POST /predict_blocking");
    pd_looplag_enter(g_mon, "nested, not timed");
    busy_ms(150);
    pd_looplag_leave(g_mon);
    pd_looplag_leave(g_mon);
    pd_looplag_leave(g_mon); /* unmatched: ignored */
}

static void on_busy_unlabeled(uv_timer_t *t)
{
    (void)t;
    busy_ms(150);
}

static void on_light(uv_timer_t *t)
{
    (void)t;
    pd_looplag_enter(g_mon, "GET /health");
    pd_looplag_leave(g_mon);
}

static void noop(uv_timer_t *t)
{
    (void)t;
}

static void start_monitor(uv_loop_t *loop, pd_metrics_t *reg, unsigned slow_ms)
{
    CAP.n = 0;
    pd_log_set_sink(sink, NULL);
    assert_int_equal(uv_loop_init(loop), 0);
    pd_looplag_options_t o = {10, slow_ms, 50};
    assert_int_equal(pd_looplag_init(&g_mon, loop, reg, &o), 0);
}

static void stop_monitor(uv_loop_t *loop)
{
    pd_looplag_destroy(g_mon);
    g_mon = NULL;
    uv_run(loop, UV_RUN_DEFAULT); /* close callbacks free the monitor */
    assert_int_equal(uv_loop_close(loop), 0);
    pd_log_set_sink(NULL, NULL);
}

static void test_blocking_section_warns(void **state)
{
    (void)state;
    uv_loop_t loop;
    pd_metrics_t *reg;
    assert_int_equal(pd_metrics_init(&reg, 0), 0);
    start_monitor(&loop, reg, 100);
    uv_timer_t busy, quiet;
    uv_timer_init(&loop, &busy);
    uv_timer_init(&loop, &quiet);
    uv_timer_start(&busy, on_busy, 30, 0);  /* after a few quiet iterations */
    uv_timer_start(&quiet, noop, 250, 0);   /* keeps the loop alive after it */
    uv_run(&loop, UV_RUN_DEFAULT);
    print_message("captured: %s\n", CAP.n ? CAP.lines[0] : "(none)");
    assert_int_equal(count_blocked("(POST /predict_blocking)"), 1);
    /* a host that stalls this process for 100 ms could add an unlabeled warning: allowed */
    pd_looplag_stats_t st;
    pd_looplag_stats(g_mon, &st);
    assert_true(st.slow_iterations >= 1);
    assert_int_equal(st.slow_iterations, (uint64_t)CAP.n);
    assert_true(st.iterations >= 2);
    assert_true(st.lag_samples >= 1);
    assert_true(st.utilization >= 0 && st.utilization <= 1);

    pd_buf_t b = PD_BUF_INIT;
    assert_int_equal(pd_metrics_render(reg, &b), 0);
    assert_non_null(strstr(b.data, "# TYPE predictd_event_loop_lag_seconds histogram\n"));
    assert_non_null(strstr(b.data, "# TYPE predictd_event_loop_utilization gauge\n"));
    char want[96];
    snprintf(want, sizeof want, "\npredictd_event_loop_slow_iterations_total %llu\n",
             (unsigned long long)st.slow_iterations);
    assert_non_null(strstr(b.data, want));
    snprintf(want, sizeof want, "\npredictd_event_loop_lag_seconds_count %llu\n",
             (unsigned long long)st.lag_samples);
    assert_non_null(strstr(b.data, want));
    pd_buf_free(&b);
    uv_close((uv_handle_t *)&busy, NULL);
    uv_close((uv_handle_t *)&quiet, NULL);
    stop_monitor(&loop);
    /* a second monitor cannot register the same names */
    uv_loop_t l2;
    uv_loop_init(&l2);
    pd_looplag_t *m2 = NULL;
    assert_int_equal(pd_looplag_init(&m2, &l2, reg, NULL), PD_EINVAL);
    assert_int_equal(uv_loop_close(&l2), 0);
    pd_metrics_destroy(reg);
}

static void test_unlabeled_block_warns(void **state)
{
    (void)state;
    uv_loop_t loop;
    start_monitor(&loop, NULL, 100);
    uv_timer_t busy;
    uv_timer_init(&loop, &busy);
    uv_timer_start(&busy, on_busy_unlabeled, 30, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(count_blocked("(no labeled section)"), 1);
    uv_close((uv_handle_t *)&busy, NULL);
    stop_monitor(&loop);
}

static void test_light_callbacks_do_not_warn(void **state)
{
    (void)state;
    uv_loop_t loop;
    start_monitor(&loop, NULL, 0); /* default slow_ms: 100 */
    uv_timer_t light;
    uv_timer_init(&loop, &light);
    uv_timer_start(&light, on_light, 5, 5);
    uv_run(&loop, UV_RUN_NOWAIT);
    for (int i = 0; i < 40; i++) /* bounded: 40 iterations, about 200 ms */
        uv_run(&loop, UV_RUN_ONCE);
    pd_looplag_stats_t st;
    pd_looplag_stats(g_mon, &st);
    assert_true(st.iterations >= 30);
    assert_int_equal(st.slow_iterations, 0);
    assert_int_equal(CAP.n, 0);
    uv_close((uv_handle_t *)&light, NULL);
    stop_monitor(&loop);
}

static void test_bad_options(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    pd_looplag_t *m = NULL;
    pd_looplag_options_t o = {PD_LOOPLAG_MAX_MS + 1, 0, 0};
    assert_int_equal(pd_looplag_init(&m, &loop, NULL, &o), PD_EINVAL);
    assert_null(m);
    pd_looplag_enter(NULL, "x"); /* NULL monitor: no-ops */
    pd_looplag_leave(NULL);
    pd_looplag_destroy(NULL);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocking_section_warns),
        cmocka_unit_test(test_unlabeled_block_warns),
        cmocka_unit_test(test_light_callbacks_do_not_warn),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
