/* test_util_buf.c - pd_buf_t: growth, the size cap, and JSON writers that must print what
 * Python's json.dumps prints (FastAPI clients compare bodies byte for byte). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "util/buf.h"

static void test_append_and_cap(void **state)
{
    (void)state;
    pd_buf_t b;
    pd_buf_init(&b, 8);
    assert_int_equal(pd_buf_puts(&b, "abcd"), 0);
    assert_int_equal(pd_buf_printf(&b, "%d", 1234), 0);
    assert_string_equal(b.data, "abcd1234");
    assert_int_equal(pd_buf_puts(&b, "x"), PD_ETOOBIG);
    assert_string_equal(b.data, "abcd1234"); /* unchanged on failure */
    pd_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    pd_buf_free(&b);
    pd_buf_free(NULL);
}

static void test_printf_long(void **state)
{
    (void)state;
    pd_buf_t b = PD_BUF_INIT;
    char big[1000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(pd_buf_printf(&b, "<%s>", big), 0);
    assert_int_equal(b.len, 1001);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[1000], '>');
    size_t n = 0;
    char *p = pd_buf_steal(&b, &n);
    assert_int_equal(n, 1001);
    assert_null(b.data);
    free(p);
}

static void test_json_str(void **state)
{
    (void)state;
    pd_buf_t b = PD_BUF_INIT;
    const char in[] = "a\"b\\c\n\t\x01\xc3\xa9";
    assert_int_equal(pd_buf_json_str(&b, in, sizeof in - 1), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\t\\u0001\xc3\xa9\"");
    pd_buf_free(&b);
}

/* Expected strings are Python 3.11's repr() of the same doubles. */
static void test_json_double_matches_python_repr(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *repr;
    } cases[] = {
        {0.0, "0.0"},          {-0.0, "-0.0"},         {1.0, "1.0"},
        {0.1, "0.1"},          {1.5, "1.5"},           {100000.0, "100000.0"},
        {1e15, "1000000000000000.0"}, {1e16, "1e+16"},  {1.5e16, "1.5e+16"},
        {1e-4, "0.0001"},      {1e-5, "1e-05"},        {1.5e-7, "1.5e-07"},
        {0.30000000000000004, "0.30000000000000004"}, {123456.789, "123456.789"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}, {5e-324, "5e-324"},
        {-2.5, "-2.5"},        {0.5, "0.5"},
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(cases); i++) {
        pd_buf_t b = PD_BUF_INIT;
        assert_int_equal(pd_buf_json_double(&b, cases[i].v), 0);
        assert_string_equal(b.data, cases[i].repr);
        pd_buf_free(&b);
    }
    pd_buf_t b = PD_BUF_INIT;
    pd_buf_json_double(&b, NAN);
    pd_buf_json_double(&b, -INFINITY);
    assert_string_equal(b.data, "NaN-Infinity");
    pd_buf_free(&b);
}

/* One value: the fast path (util/dtoa.h digits) writes what the printf reference writes. */
static void same_as_printf(double v)
{
    pd_buf_t fast = PD_BUF_INIT, ref = PD_BUF_INIT;
    assert_int_equal(pd_buf_json_double(&fast, v), 0);
    assert_int_equal(pd__buf_json_double_printf(&ref, v), 0);
    if (strcmp(fast.data, ref.data) != 0)
        fail_msg("%a: fast %s, printf %s", v, fast.data, ref.data);
    pd_buf_free(&fast);
    pd_buf_free(&ref);
}

static uint64_t rnd(uint64_t *s) /* xorshift64*: a fixed sequence */
{
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* The fast path against the printf one: random bit patterns over every exponent it
 * takes (and past its range on both sides), probabilities, short decimals, integers
 * around 2^53, neighbours of powers of ten and of the notation switches (1e-4/1e-5,
 * 1e16), halfway-looking values. */
static void test_json_double_fast_path_matches_printf(void **state)
{
    (void)state;
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 300000; i++) {
        uint64_t bits = rnd(&s);
        /* exponents of 1e-8 .. 1e40 mostly, so most draws are in the fast range */
        uint64_t ex = 1023 - 27 + rnd(&s) % 160;
        bits = (bits & 0x800fffffffffffffull) | (ex << 52);
        double v;
        memcpy(&v, &bits, sizeof v);
        same_as_printf(v);
        same_as_printf((double)(rnd(&s) >> 11) / 9007199254740992.0); /* [0, 1) */
    }
    for (int n = 0; n <= 17; n++)
        for (int k = 0; k < 2000; k++)
            same_as_printf((double)(rnd(&s) % 100000000) / pow(10, n));
    for (int k = -2000; k <= 2000; k++) {
        same_as_printf(9007199254740992.0 + 2.0 * k);
        same_as_printf((double)k * 1e15);
    }
    for (int p = -8; p <= 39; p++) {
        double t = pow(10, p);
        double v = t;
        for (int k = 0; k < 40; k++, v = nextafter(v, 0))
            same_as_printf(v);
        v = t;
        for (int k = 0; k < 40; k++, v = nextafter(v, INFINITY))
            same_as_printf(v);
        same_as_printf(-t);
        same_as_printf(5 * t / 10); /* 0.5, 5, 50, ...: halfway digits */
        same_as_printf(t * 0.125);
    }
}

/* A known final length: growth by doubling, but the last step stops at the length. */
static void test_reserve_hint(void **state)
{
    (void)state;
    pd_buf_t b;
    pd_buf_init(&b, 0);
    char chunk[1000];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(pd_buf_reserve_hint(&b, sizeof chunk, 100000), 0);
        assert_int_equal(pd_buf_append(&b, chunk, sizeof chunk), 0);
        assert_true(b.cap <= 100001);
        assert_true(b.cap <= 2 * b.len + 256);
    }
    assert_int_equal(b.cap, 100001);
    /* past the hint it grows as usual */
    assert_int_equal(pd_buf_reserve_hint(&b, 10, 100000), 0);
    assert_true(b.cap >= 100011);
    pd_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_cap),
        cmocka_unit_test(test_printf_long),
        cmocka_unit_test(test_json_str),
        cmocka_unit_test(test_reserve_hint),
        cmocka_unit_test(test_json_double_matches_python_repr),
        cmocka_unit_test(test_json_double_fast_path_matches_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
