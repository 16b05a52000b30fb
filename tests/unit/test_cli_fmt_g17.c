/* test_cli_fmt_g17.c - pd_predict_fmt_g17 (src/cli/fmt_g17.c) writes exactly what
 * snprintf("%.17g") writes: random bit patterns, values in [0, 1) (probabilities), around
 * powers of ten and of two, integers with exact decimal ties, and the fallback ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/predict_rows.h"

static uint64_t rng = 88172645463325252u;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static void same(double v)
{
    char want[64], got[64];
    snprintf(want, sizeof want, "%.17g", v);
    memset(got, 0x7f, sizeof got);
    size_t n = pd_predict_fmt_g17(got, v);
    got[n] = '\0';
    if (strcmp(want, got) != 0)
        fail_msg("%a: snprintf %s, fmt_g17 %s", v, want, got);
}

static void test_random_bits(void **state)
{
    (void)state;
    for (int i = 0; i < 2000000; i++) {
        uint64_t b = next();
        double v;
        memcpy(&v, &b, sizeof v);
        same(v);
    }
}

static void test_probabilities_and_values(void **state)
{
    (void)state;
    for (int i = 0; i < 2000000; i++) {
        double u = (double)(next() >> 11) / 9007199254740992.0;
        same(u), same(1 - u), same(-u), same(u * 1e-5), same(u * 1e9);
        same((float)u); /* float32 results widened, as XGBoost's */
        same(ldexp(u, (int)(next() % 300) - 150));
    }
}

static void test_edges(void **state)
{
    (void)state;
    for (int k = -30; k <= 40; k++) {
        double p = pow(10, k);
        same(p), same(nextafter(p, 0)), same(nextafter(p, INFINITY)), same(-p);
        for (int j = 1; j < 1000; j++)
            same(p * j / 1000.0);
    }
    for (int k = -140; k <= 140; k++)
        same(ldexp(1, k)), same(ldexp(1, k) * 3), same(nextafter(ldexp(1, k), 0));
    for (uint64_t i = 0; i < 200000; i++) { /* integers past 2^53: exact decimal ties */
        same((double)((next() >> 4) | 1));
        same((double)(i * 1000000000000000ull + 5));
        same(ldexp((double)(next() >> 11), 20 + (int)(i % 60)));
    }
    const double odd[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1e-300, 5e-324, 1.7976931348623157e308,
                          0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 123456789012345678.0, 1e16, 1e17,
                          99999999999999999.0, 0.5, 0.25, 0.125, 1e-4, 1e-5, 9.9999999999999995e-5};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
        same(odd[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_bits),
        cmocka_unit_test(test_probabilities_and_values),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
