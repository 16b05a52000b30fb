/* test_model_parse_budget.c - the memory budget of a model file's JSON parse (issue 14,
 * defect 8): the lower bound that refuses a file before parsing, the allocator that stops
 * a parse at the budget, the message, and that real models still load under it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model/json_budget.h"
#include "model/model.h"

#define MIB ((size_t)1 << 20)

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    b[n] = '\0';
    *len = (size_t)n;
    return b;
}

/* iris.json with `member` (e.g. "\"junk\": [0,0]") added at its top level. */
static char *iris_with(const char *member, size_t *len)
{
    size_t n;
    char *iris = read_file(PD_SOURCE_DIR "/models/iris.json", &n);
    char *end = strrchr(iris, '}');
    assert_non_null(end);
    *end = '\0';
    size_t ml = strlen(member);
    char *doc = malloc(n + ml + 8);
    assert_non_null(doc);
    *len = (size_t)snprintf(doc, n + ml + 8, "%s, %s}", iris, member);
    free(iris);
    return doc;
}

/* A JSON array of n copies of elem, as a member "name": [...]. */
static char *array_member(const char *name, const char *elem, size_t n)
{
    size_t el = strlen(elem), cap = strlen(name) + 8 + n * (el + 1);
    char *s = malloc(cap), *p = s;
    assert_non_null(s);
    p += sprintf(p, "\"%s\": [", name);
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        memcpy(p, elem, el);
        p += el;
    }
    *p++ = ']';
    *p = '\0';
    return s;
}

static void test_lower_bound_counts_numbers_and_containers(void **state)
{
    (void)state;
    assert_int_equal(pd__jbudget_min_bytes(PD_LIT("[1,2,3]")), 4 * PD__JBUDGET_MIN_VALUE);
    assert_int_equal(pd__jbudget_min_bytes(PD_LIT("{\"a\": -1.5e3, \"b\": {}}")),
                     3 * PD__JBUDGET_MIN_VALUE);
    /* digits in strings, keys, true/false/null: not counted */
    assert_int_equal(pd__jbudget_min_bytes(PD_LIT("{\"12\": \"3,4\", \"x\\\"5\": [true, null]}")),
                     2 * PD__JBUDGET_MIN_VALUE);
    assert_int_equal(pd__jbudget_min_bytes(PD_LIT("")), 0);
}

static void test_lower_bound_never_exceeds_the_real_parse(void **state)
{
    (void)state;
    const char *docs[] = {"[1,2,3]", "{\"a\":[[],[1],{}],\"b\":-0.5}",
                          "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]",
                          "[{},{},{},{},{},{}]", "{\"k\":[1e9,2e-9,3]}"};
    for (size_t i = 0; i < PD_ARRAY_SIZE(docs); i++) {
        pd__jbudget_t b;
        pd__jbudget_begin(&b, SIZE_MAX);
        json_t *root = json_loads(docs[i], 0, NULL);
        assert_non_null(root);
        json_decref(root);
        pd__jbudget_end(&b);
        assert_true(pd__jbudget_min_bytes(docs[i], strlen(docs[i])) <= b.peak);
        assert_int_equal(b.used, 0); /* every block freed and counted back */
    }
}

static void test_budget_for_a_file(void **state)
{
    (void)state;
    assert_int_equal(pd__jbudget_for(1000), (size_t)64 * MIB);          /* the floor */
    assert_int_equal(pd__jbudget_for(10 * MIB), (size_t)120 * MIB);     /* 12x */
    assert_int_equal(pd__jbudget_for(500 * MIB), PD_MODEL_DEFAULT_MAX_PARSE_BYTES); /* cap */
    pd_model_set_max_parse_bytes(8 * MIB);
    assert_int_equal(pd__jbudget_for(1000), 8 * MIB);
    assert_int_equal(pd_model_max_parse_bytes(), 8 * MIB);
    pd_model_set_max_parse_bytes(0);
    assert_int_equal(pd_model_max_parse_bytes(), PD_MODEL_DEFAULT_MAX_PARSE_BYTES);
}

/* Loads doc and expects the budget's refusal. */
static void expect_too_big(const char *doc, size_t len)
{
    char err[512] = "";
    pd_model_t *m = NULL;
    assert_int_equal(pd_model_load_buffer(doc, len, "big.json", &m, err, sizeof err),
                     PD_ETOOBIG);
    assert_null(m);
    if (strncmp(err, "big.json: $: model parse would need more than ", 46) != 0 ||
        !strstr(err, "(limit 1 MiB: 12 times the file's size"))
        fail_msg("message: %s", err);
}

static void test_unknown_big_member_is_refused_under_a_small_cap(void **state)
{
    (void)state;
    pd_model_set_max_parse_bytes(1 * MIB);
    size_t len;
    char *doc = iris_with("\"note\": \"a known-size member\"", &len);
    pd_model_t *m = NULL;
    char err[512];
    assert_int_equal(pd_model_load_buffer(doc, len, "ok.json", &m, err, sizeof err), 0);
    pd_model_free(m);
    free(doc);
    /* 100,000 numbers: refused by the lower bound, before parsing */
    char *member = array_member("unknown", "0", 100000);
    doc = iris_with(member, &len);
    free(member);
    expect_too_big(doc, len);
    free(doc);
    /* strings are not in the lower bound: the allocator stops the parse at the budget */
    member = array_member("unknown", "\"abcdefghijklmnopqrstuvwxyz\"", 40000);
    doc = iris_with(member, &len);
    free(member);
    assert_true(pd__jbudget_min_bytes(doc, len) < MIB);
    expect_too_big(doc, len);
    free(doc);
    pd_model_set_max_parse_bytes(0);
}

static void test_real_models_load_under_the_default(void **state)
{
    (void)state;
    const char *files[] = {PD_SOURCE_DIR "/models/iris.json", PD_SOURCE_DIR "/models/seed.json"};
    for (size_t i = 0; i < PD_ARRAY_SIZE(files); i++) {
        pd_model_t *m = NULL;
        char err[512];
        if (pd_model_load(files[i], &m, err, sizeof err) != 0)
            fail_msg("%s", err);
        pd_model_free(m);
    }
    /* the same strings array loads once the cap allows it */
    size_t len;
    char *member = array_member("unknown", "\"abcdefghijklmnopqrstuvwxyz\"", 40000);
    char *doc = iris_with(member, &len);
    free(member);
    pd_model_t *m = NULL;
    char err[512];
    assert_int_equal(pd_model_load_buffer(doc, len, "ok.json", &m, err, sizeof err), 0);
    pd_model_free(m);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lower_bound_counts_numbers_and_containers),
        cmocka_unit_test(test_lower_bound_never_exceeds_the_real_parse),
        cmocka_unit_test(test_budget_for_a_file),
        cmocka_unit_test(test_unknown_big_member_is_refused_under_a_small_cap),
        cmocka_unit_test(test_real_models_load_under_the_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
