/* test_api_infer_stats.c - a model version's inference counters (api/infer_stats.h):
 * requests, durations, and executions by batch size kept sorted, each size once, bounded
 * by PD_INFER_STATS_MAX_SIZES. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api/infer_stats.h"

static void test_requests(void **state)
{
    (void)state;
    pd_infer_stats_t s = {0};
    pd_infer_stats_request(&s, 1, 100, 5);
    pd_infer_stats_request(&s, 1, 50, 3);
    pd_infer_stats_request(&s, 0, 7, 9);
    assert_int_equal(s.success.count, 2);
    assert_int_equal(s.success.ns, 150);
    assert_int_equal(s.fail.count, 1);
    assert_int_equal(s.fail.ns, 7);
    assert_int_equal(s.inference_count, 8);
    assert_true(s.last_inference_ms > 1600000000000ull); /* wall clock, ms since the epoch */
    pd_infer_stats_free(&s);
    assert_int_equal(s.success.count, 0);
    pd_infer_stats_free(NULL);
}

static void test_batches_sorted_and_bounded(void **state)
{
    (void)state;
    pd_infer_stats_t s = {0};
    const size_t sizes[] = {64, 1, 64, 7, 1, 1000, 7};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        pd_infer_stats_execution(&s, sizes[i], 10 * (i + 1));
    assert_int_equal(s.execution_count, 7);
    assert_int_equal(s.n_batches, 4);
    const uint64_t want_size[] = {1, 7, 64, 1000}, want_count[] = {2, 2, 2, 1};
    const uint64_t want_ns[] = {20 + 50, 40 + 70, 10 + 30, 60};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(s.batches[i].batch_size, want_size[i]);
        assert_int_equal(s.batches[i].infer.count, want_count[i]);
        assert_int_equal(s.batches[i].infer.ns, want_ns[i]);
    }
    for (size_t k = 0; k < PD_INFER_STATS_MAX_SIZES + 10; k++)
        pd_infer_stats_execution(&s, 2000 + k, 1);
    assert_int_equal(s.n_batches, PD_INFER_STATS_MAX_SIZES);
    assert_int_equal(s.sizes_dropped, 14); /* 4 sizes were there already */
    for (size_t i = 1; i < s.n_batches; i++)
        assert_true(s.batches[i - 1].batch_size < s.batches[i].batch_size);
    pd_infer_stats_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_batches_sorted_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
