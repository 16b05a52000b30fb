/* test_obs_metrics.c - the Prometheus registry: exact exposition text, escaping, histogram
 * buckets, look-up without duplicates, bounds, and a parse by prometheus_client's own text
 * parser (skipped when /usr/bin/python3 lacks prometheus_client). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"
#include "obs/metrics.h"

static double fn_value(void *ud)
{
    return *(double *)ud;
}

static void collect_depth(pd_metrics_family_t *f, void *ud)
{
    int *calls = ud;
    (*calls)++;
    const char *m[] = {"iris"};
    pd_metrics_set(pd_metrics_series(f, m), 3 * *calls);
}

static char *render(pd_metrics_t *reg)
{
    pd_buf_t b = PD_BUF_INIT;
    assert_int_equal(pd_metrics_render(reg, &b), 0);
    return pd_buf_steal(&b, NULL);
}

/* A registry with one family of each kind, used by the exact-text and parser tests. */
static pd_metrics_t *sample_registry(double *gv, int *calls)
{
    pd_metrics_t *reg;
    assert_int_equal(pd_metrics_init(&reg, 0), 0);
    pd_metrics_family_t *req, *dur, *depth;
    const char *rl[] = {"route", "method", "status"};
    assert_int_equal(pd_metrics_counter(reg, "predictd_requests_total", "Requests answered.",
                                        rl, 3, &req),
                     0);
    const char *v1[] = {"/predict", "POST", "200"};
    const char *v2[] = {"/x\"y\\z\nw", "GET", "404"};
    pd_metrics_inc(pd_metrics_series(req, v1), 1);
    pd_metrics_inc(pd_metrics_series(req, v1), 2);
    pd_metrics_inc(pd_metrics_series(req, v2), 1);
    pd_metrics_inc(pd_metrics_series(req, v2), -5); /* counters never go down */
    const double bounds[] = {0.001, 0.01, 1};
    const char *ml[] = {"model"};
    assert_int_equal(pd_metrics_histogram(reg, "predictd_inference_seconds",
                                          "Inference time\\per batch\nin seconds.", ml, 1,
                                          bounds, 3, &dur),
                     0);
    const char *iris[] = {"iris"};
    pd_metrics_series_t *s = pd_metrics_series(dur, iris);
    pd_metrics_observe(s, 0.0005);
    pd_metrics_observe(s, 0.001); /* le is inclusive */
    pd_metrics_observe(s, 0.5);
    pd_metrics_observe(s, 7);
    assert_int_equal(pd_metrics_gauge(reg, "predictd_queue_depth", "Jobs waiting.", ml, 1,
                                      &depth),
                     0);
    pd_metrics_on_collect(depth, collect_depth, calls);
    assert_int_equal(pd_metrics_gauge_fn(reg, "predictd_event_loop_utilization",
                                         "Busy fraction.", fn_value, gv),
                     0);
    pd_metrics_family_t *open;
    assert_int_equal(pd_metrics_gauge(reg, "predictd_open_connections", "Open.", NULL, 0,
                                      &open),
                     0);
    return reg;
}

static const char expected[] =
    "# HELP predictd_requests_total Requests answered.\n"
    "# TYPE predictd_requests_total counter\n"
    "predictd_requests_total{route=\"/predict\",method=\"POST\",status=\"200\"} 3\n"
    "predictd_requests_total{route=\"/x\\\"y\\\\z\\nw\",method=\"GET\",status=\"404\"} 1\n"
    "# HELP predictd_inference_seconds Inference time\\\\per batch\\nin seconds.\n"
    "# TYPE predictd_inference_seconds histogram\n"
    "predictd_inference_seconds_bucket{model=\"iris\",le=\"0.001\"} 2\n"
    "predictd_inference_seconds_bucket{model=\"iris\",le=\"0.01\"} 2\n"
    "predictd_inference_seconds_bucket{model=\"iris\",le=\"1\"} 3\n"
    "predictd_inference_seconds_bucket{model=\"iris\",le=\"+Inf\"} 4\n"
    "predictd_inference_seconds_sum{model=\"iris\"} 7.5015\n"
    "predictd_inference_seconds_count{model=\"iris\"} 4\n"
    "# HELP predictd_queue_depth Jobs waiting.\n"
    "# TYPE predictd_queue_depth gauge\n"
    "predictd_queue_depth{model=\"iris\"} 3\n"
    "# HELP predictd_event_loop_utilization Busy fraction.\n"
    "# TYPE predictd_event_loop_utilization gauge\n"
    "predictd_event_loop_utilization 0.25\n"
    "# HELP predictd_open_connections Open.\n"
    "# TYPE predictd_open_connections gauge\n"
    "predictd_open_connections 0\n";

static void test_exact_text(void **state)
{
    (void)state;
    double gv = 0.25;
    int calls = 0;
    pd_metrics_t *reg = sample_registry(&gv, &calls);
    char *text = render(reg);
    assert_string_equal(text, expected);
    assert_int_equal(calls, 1);
    free(text);
    /* the scrape-time values are recomputed at each render */
    gv = 1;
    text = render(reg);
    assert_non_null(strstr(text, "\npredictd_event_loop_utilization 1\n"));
    assert_non_null(strstr(text, "\npredictd_queue_depth{model=\"iris\"} 6\n"));
    free(text);
    pd_metrics_destroy(reg);
}

static void test_lookup_and_values(void **state)
{
    (void)state;
    pd_metrics_t *reg;
    assert_int_equal(pd_metrics_init(&reg, 0), 0);
    pd_metrics_family_t *c, *g;
    const char *l[] = {"a", "b"};
    assert_int_equal(pd_metrics_counter(reg, "c_total", "c", l, 2, &c), 0);
    assert_int_equal(pd_metrics_gauge(reg, "g", "g", NULL, 0, &g), 0);
    /* ("ab","") and ("a","b") are different series */
    const char *x[] = {"ab", ""}, *y[] = {"a", "b"};
    pd_metrics_series_t *sx = pd_metrics_series(c, x), *sy = pd_metrics_series(c, y);
    assert_non_null(sx);
    assert_non_null(sy);
    assert_ptr_not_equal(sx, sy);
    char buf[8][8];
    pd_metrics_series_t *first[200];
    for (int i = 0; i < 200; i++) { /* forces the index to grow several times */
        snprintf(buf[0], sizeof buf[0], "%d", i);
        const char *v[] = {buf[0], "k"};
        first[i] = pd_metrics_series(c, v);
        assert_non_null(first[i]);
        pd_metrics_inc(first[i], i);
    }
    for (int i = 0; i < 200; i++) {
        snprintf(buf[1], sizeof buf[1], "%d", i);
        const char *v[] = {buf[1], "k"};
        assert_ptr_equal(pd_metrics_series(c, v), first[i]);
        assert_true(pd_metrics_value(first[i]) == i);
    }
    pd_metrics_series_t *gs = pd_metrics_series(g, NULL);
    pd_metrics_set(gs, 5);
    pd_metrics_inc(gs, -2);
    assert_true(pd_metrics_value(gs) == 3);
    pd_metrics_observe(gs, 1); /* wrong type: ignored */
    pd_metrics_set(sx, 100); /* collect callbacks copy counts into counters */
    assert_true(pd_metrics_value(sx) == 100);
    pd_metrics_inc(NULL, 1); /* NULL series are no-ops */
    pd_metrics_set(NULL, 1);
    pd_metrics_observe(NULL, 1);
    assert_true(pd_metrics_value(NULL) == 0);
    pd_metrics_destroy(reg);
    pd_metrics_destroy(NULL);
}

static void test_bounds_and_errors(void **state)
{
    (void)state;
    pd_metrics_t *reg;
    assert_int_equal(pd_metrics_init(&reg, PD_METRICS_MAX_SERIES_LIMIT + 1), PD_EINVAL);
    assert_int_equal(pd_metrics_init(&reg, 4), 0);
    pd_metrics_family_t *f;
    const char *l[] = {"model"};
    const char *bad_le[] = {"le"}, *dup[] = {"a", "a"}, *under[] = {"__x"}, *digit[] = {"1a"};
    const double b[] = {1, 2}, unsorted[] = {2, 1}, inf[] = {1, INFINITY};
    assert_int_equal(pd_metrics_counter(reg, "9bad", "h", NULL, 0, &f), PD_EINVAL);
    assert_int_equal(pd_metrics_counter(reg, "bad-name", "h", NULL, 0, &f), PD_EINVAL);
    assert_int_equal(pd_metrics_counter(reg, "", "h", NULL, 0, &f), PD_EINVAL);
    assert_int_equal(pd_metrics_counter(reg, "x", NULL, NULL, 0, &f), PD_EINVAL);
    assert_int_equal(pd_metrics_counter(reg, "x", "h", dup, 2, &f), PD_EINVAL);
    assert_int_equal(pd_metrics_counter(reg, "x", "h", under, 1, &f), PD_EINVAL);
    assert_int_equal(pd_metrics_counter(reg, "x", "h", digit, 1, &f), PD_EINVAL);
    assert_int_equal(pd_metrics_histogram(reg, "h", "h", bad_le, 1, b, 2, &f), PD_EINVAL);
    assert_int_equal(pd_metrics_histogram(reg, "h", "h", l, 1, unsorted, 2, &f), PD_EINVAL);
    assert_int_equal(pd_metrics_histogram(reg, "h", "h", l, 1, inf, 2, &f), PD_EINVAL);
    assert_int_equal(pd_metrics_histogram(reg, "h", "h", l, 1, b, 0, &f), PD_EINVAL);
    assert_int_equal(pd_metrics_gauge_fn(reg, "fn", "h", NULL, NULL), PD_EINVAL);
    assert_int_equal(pd_metrics_counter(reg, "ns:x_total", "h", l, 1, &f), 0);
    assert_int_equal(pd_metrics_counter(reg, "ns:x_total", "h", l, 1, &f), PD_EINVAL);
    /* max_series = 4: a flood of label values stops at 4 series */
    char v[16];
    int made = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(v, sizeof v, "m%d", i);
        const char *vals[] = {v};
        made += pd_metrics_series(f, vals) != NULL;
    }
    assert_int_equal(made, 4);
    char longv[PD_METRICS_LABEL_VALUE_MAX + 2];
    memset(longv, 'a', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    const char *lv[] = {longv}, *nv[] = {NULL};
    assert_null(pd_metrics_series(f, lv));
    assert_null(pd_metrics_series(f, nv));
    assert_null(pd_metrics_series(f, NULL));
    /* the family limit */
    int rc = 0;
    char name[32];
    for (int i = 0; i < PD_METRICS_MAX_FAMILIES + 1 && rc == 0; i++) {
        snprintf(name, sizeof name, "g%d", i);
        rc = pd_metrics_gauge(reg, name, "h", NULL, 0, NULL);
    }
    assert_int_equal(rc, PD_EFULL);
    /* a render into a capped buffer fails cleanly */
    pd_buf_t small;
    pd_buf_init(&small, 64);
    assert_int_equal(pd_metrics_render(reg, &small), PD_ETOOBIG);
    pd_buf_free(&small);
    pd_metrics_destroy(reg);
}

/* The text parses with prometheus_client and yields the values we put in. */
static void test_prometheus_client_parses(void **state)
{
    (void)state;
    if (system("/usr/bin/python3 -c 'import prometheus_client.parser' >/dev/null 2>&1") != 0)
        skip();
    double gv = 0.25;
    int calls = 0;
    pd_metrics_t *reg = sample_registry(&gv, &calls);
    char *text = render(reg);
    char path[] = "/tmp/pd_metrics_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c '\n"
             "import sys\n"
             "from prometheus_client.parser import text_string_to_metric_families as p\n"
             "fams = {f.name: f for f in p(open(sys.argv[1]).read())}\n"
             "s = {(x.name, tuple(sorted(x.labels.items()))): x.value\n"
             "     for f in fams.values() for x in f.samples}\n"
             "assert fams[\"predictd_inference_seconds\"].type == \"histogram\"\n"
             "assert s[(\"predictd_requests_total\", ((\"method\", \"GET\"), "
             "(\"route\", \"/x\\\"y\\\\z\\nw\"), (\"status\", \"404\")))] == 1\n"
             "assert s[(\"predictd_inference_seconds_bucket\", ((\"le\", \"+Inf\"), "
             "(\"model\", \"iris\")))] == 4\n"
             "assert s[(\"predictd_event_loop_utilization\", ())] == 0.25\n"
             "assert len(fams) == 5, sorted(fams)\n"
             "' %s",
             path);
    int rc = system(cmd);
    unlink(path);
    free(text);
    pd_metrics_destroy(reg);
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_text),
        cmocka_unit_test(test_lookup_and_values),
        cmocka_unit_test(test_bounds_and_errors),
        cmocka_unit_test(test_prometheus_client_parses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
