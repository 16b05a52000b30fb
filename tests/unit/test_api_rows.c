/* test_api_rows.c - the request matrix (api/rows.h): inline storage for small requests,
 * growth, NaN fill, the max_rows limit, results layout with and without probabilities. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "api/rows.h"
#include "common.h"

static void test_small_request_stays_inline(void **st)
{
    (void)st;
    pd_rows_t r;
    pd_rows_init(&r, 2, 0);
    assert_int_equal(r.max_rows, PD_ROWS_DEFAULT_MAX);
    assert_int_equal(r.outputs, PD_OUT_LABEL);
    double *row;
    assert_int_equal(pd_rows_add(&r, &row), 0);
    assert_true(isnan(row[0]) && isnan(row[1]));
    row[0] = 1.5;
    assert_ptr_equal(r.x, r.x_inline);
    assert_int_equal(pd_rows_results(&r, 2), 0);
    assert_ptr_equal((double *)(void *)r.cls, r.res_inline);
    assert_null(r.proba);
    pd_rows_free(&r);
    assert_int_equal(r.n_rows, 0);
    assert_int_equal(r.n_cols, 2);
}

static void test_growth_keeps_rows_and_fills_nan(void **st)
{
    (void)st;
    pd_rows_t r;
    pd_rows_init(&r, 3, 1000);
    for (size_t i = 0; i < 1000; i++) {
        double *row;
        assert_int_equal(pd_rows_add(&r, &row), 0);
        row[0] = (double)i;
        row[2] = -(double)i;
    }
    assert_int_equal(r.n_rows, 1000);
    for (size_t i = 0; i < 1000; i++) {
        assert_true(r.x[i * 3] == (double)i && r.x[i * 3 + 2] == -(double)i);
        assert_true(isnan(r.x[i * 3 + 1]));
    }
    double *row;
    assert_int_equal(pd_rows_add(&r, &row), PD_ETOOBIG);
    assert_int_equal(r.n_rows, 1000);
    pd_rows_free(&r);
}

static void test_resize_and_limit(void **st)
{
    (void)st;
    pd_rows_t r;
    pd_rows_init(&r, 40, 5); /* wider than the inline storage */
    assert_int_equal(pd_rows_resize(&r, 6), PD_ETOOBIG);
    assert_int_equal(pd_rows_resize(&r, 5), 0);
    assert_int_equal(r.n_rows, 5);
    for (size_t i = 0; i < 5 * 40; i++)
        assert_true(isnan(r.x[i]));
    r.outputs = PD_OUT_LABEL | PD_OUT_PROBA;
    assert_int_equal(pd_rows_results(&r, 3), 0);
    assert_non_null(r.proba);
    for (size_t i = 0; i < 5; i++) { /* the three arrays do not overlap */
        r.cls[i] = (int32_t)i;
        r.val[i] = (double)i;
        for (size_t k = 0; k < 3; k++)
            r.proba[i * 3 + k] = 10.0 * (double)i + (double)k;
    }
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(r.cls[i], (int32_t)i);
        assert_true(r.val[i] == (double)i);
        assert_true(r.proba[i * 3 + 2] == 10.0 * (double)i + 2.0);
    }
    /* results may be asked again (e.g. a regressor: no proba) */
    assert_int_equal(pd_rows_results(&r, 0), 0);
    assert_null(r.proba);
    pd_rows_free(&r);
    pd_rows_free(NULL);
}

static void test_zero_rows(void **st)
{
    (void)st;
    pd_rows_t r;
    pd_rows_init(&r, 4, 10);
    r.outputs = PD_OUT_PROBA;
    assert_int_equal(pd_rows_results(&r, 3), 0);
    assert_int_equal(r.n_rows, 0);
    pd_rows_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_request_stays_inline),
        cmocka_unit_test(test_growth_keeps_rows_and_fills_nan),
        cmocka_unit_test(test_resize_and_limit),
        cmocka_unit_test(test_zero_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
