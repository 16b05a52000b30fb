/* test_api_fsource_keys.c - pd_fetch_prepare (api/fsource.h): the entity key of each row
 * that lacks a feature, extracted from the body the codec decoded and expanded from the
 * key template: integers and strings (escapes, -0, big integers), the last occurrence of
 * a field, multi-field templates, rows that need no key, UTF-16 bodies; and every refusal
 * (absent, another type, a key too long, a row that is not an object) naming row and
 * field, and rows that do not match the body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fsource_impl.h"
#include "api/rows.h"
#include "common.h"

static const char *const k_feats[] = {"a", "b"};

static pd_fsource_spec_t *spec(const char *key)
{
    char text[512];
    char err[256];
    pd_fsource_spec_t *s = NULL;
    snprintf(text, sizeof text, "{\"feature_source\": {\"redis\": \"redis://h\", \"key\": \"%s\"}}",
             key);
    if (pd_fsource_spec_parse(text, strlen(text), k_feats, 2, 0, &s, err, sizeof err) < 0)
        fail_msg("%s", err);
    return s;
}

/* rows: one per entry of `complete` (1: both features given, 0: feature b missing). */
static void make_rows(pd_rows_t *r, const int *complete, size_t n, int single)
{
    pd_rows_init(r, 2, 0);
    for (size_t i = 0; i < n; i++) {
        double *row;
        assert_int_equal(pd_rows_add(r, &row), 0);
        row[0] = 1.0;
        if (complete[i])
            row[1] = 2.0;
    }
    r->single = single;
}

/* Prepares body against the template and rows; returns the fetch (NULL: none needed). */
static pd_fetch_t *prep(const char *key, const char *body, const int *complete, size_t n,
                        int single, int want_rc)
{
    pd_fsource_spec_t *s = spec(key);
    pd_rows_t r;
    make_rows(&r, complete, n, single);
    pd_fetch_t *f = (void *)1;
    int rc = pd_fetch_prepare(s, body, strlen(body), &r, &f);
    assert_int_equal(rc, want_rc);
    pd_rows_free(&r);
    pd_fsource_spec_free(s);
    return rc == 0 ? f : NULL;
}

static void assert_key(const pd_fetch_t *f, size_t k, const char *want, uint32_t row)
{
    size_t len;
    const char *got = pd__fetch_key(f, k, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
    assert_int_equal(f->row_of[k], row);
}

static void assert_refused(pd_fetch_t *f, const char *want)
{
    assert_non_null(f);
    assert_int_equal(f->status, 422);
    assert_int_equal(f->err_kind, PD__FERR_KEY);
    if (strstr(f->msg, want) == NULL)
        fail_msg("message '%s' lacks '%s'", f->msg, want);
    pd_fetch_free(f);
}

static void test_one_object(void **st)
{
    (void)st;
    static const int need[] = {0};
    pd_fetch_t *f = prep("user:{id}", "{\"a\": 1, \"id\": 42}", need, 1, 1, 0);
    assert_non_null(f);
    assert_int_equal(f->status, 0);
    assert_int_equal(f->n_keys, 1);
    assert_key(f, 0, "user:42", 0);
    pd_fetch_free(f);
    f = prep("user:{id}", " {\"id\": \"x\\u00e9\\\"y\\ud83d\\ude00\"} ", need, 1, 1, 0);
    assert_key(f, 0, "user:x\xc3\xa9\"y\xf0\x9f\x98\x80", 0);
    pd_fetch_free(f);
    f = prep("user:{id}", "{\"id\": -0}", need, 1, 1, 0);
    assert_key(f, 0, "user:0", 0);
    pd_fetch_free(f);
    f = prep("{id}", "{\"id\": 123456789012345678901234567890}", need, 1, 1, 0);
    assert_key(f, 0, "123456789012345678901234567890", 0);
    pd_fetch_free(f);
    f = prep("u{id}", "{\"id\": 1, \"x\": {\"id\": 5}, \"id\": \"last\"}", need, 1, 1, 0);
    assert_key(f, 0, "ulast", 0); /* the last occurrence wins; nested ones are not it */
    pd_fetch_free(f);
    f = prep("u:{id}", "{\"id\": \"\"}", need, 1, 1, 0);
    assert_key(f, 0, "u:", 0);
    pd_fetch_free(f);
}

static void test_list_and_rows_that_need_no_key(void **st)
{
    (void)st;
    static const int need[] = {0, 1, 0, 1};
    pd_fetch_t *f = prep("t:{r}:{id}:{r}",
                         "[{\"r\": \"eu\", \"id\": 1}, {\"a\": 1, \"b\": 2}, "
                         "{\"id\": \"9\", \"r\": \"us\", \"pad\": [1, {\"r\": 0}]}, 5]",
                         need, 4, 0, 0);
    assert_non_null(f);
    assert_int_equal(f->n_keys, 2);
    assert_key(f, 0, "t:eu:1:eu", 0);
    assert_key(f, 1, "t:us:9:us", 2);
    pd_fetch_free(f);
    static const int all[] = {1, 1};
    assert_null(prep("u:{id}", "[{}, {}]", all, 2, 0, 0)); /* every row complete */
    assert_null(prep("u:{id}", "[]", all, 0, 0, 0));       /* no row at all */
}

static void test_utf16_body(void **st)
{
    (void)st;
    static const int need[] = {0};
    const char utf16le[] = "{\0\"\0i\0d\0\"\0:\0\"\0z\0\"\0}\0";
    pd_fsource_spec_t *s = spec("u:{id}");
    pd_rows_t r;
    make_rows(&r, need, 1, 1);
    pd_fetch_t *f;
    assert_int_equal(pd_fetch_prepare(s, utf16le, sizeof utf16le - 1, &r, &f), 0);
    assert_key(f, 0, "u:z", 0);
    pd_fetch_free(f);
    pd_rows_free(&r);
    pd_fsource_spec_free(s);
}

static void test_key_field_refusals(void **st)
{
    (void)st;
    static const int need[] = {0, 0};
    static const struct { const char *body, *want; int single; } c[] = {
        {"{\"a\": 1}", "the field 'id' is required", 1},
        {"{\"ID\": 1}", "the field 'id' is required", 1},
        {"{\"id\": 1.0}", "the field 'id' must be a string or an integer", 1},
        {"{\"id\": 1e3}", "must be a string or an integer", 1},
        {"{\"id\": true}", "must be a string or an integer", 1},
        {"{\"id\": null}", "must be a string or an integer", 1},
        {"{\"id\": NaN}", "must be a string or an integer", 1},
        {"{\"id\": {\"x\": 1}}", "must be a string or an integer", 1},
        {"{\"id\": [1]}", "must be a string or an integer", 1},
        {"\"\"", "the field 'id' is required", 1},
        {"[[\"id\", 1]]", "row 0: the field 'id' is required", 0},
        {"[{\"id\": 1}, null]", "row 1: the field 'id' is required", 0},
        {"[{\"id\": 1}, {\"id\": false}]", "row 1: the field 'id' must be", 0},
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(c); i++) {
        pd_fetch_t *f = prep("u:{id}", c[i].body, need, c[i].single ? 1 : 2, c[i].single, 0);
        assert_refused(f, c[i].want);
    }
    char body[1024];
    snprintf(body, sizeof body, "{\"id\": \"%0600d\"}", 7);
    pd_fetch_t *f = prep("u:{id}", body, need, 1, 1, 0);
    assert_refused(f, "longer than PD_FSOURCE_KEY_MAX");
    f = prep("u:{id}", "{\"id\": 1}", need, 1, 1, 0);
    assert_int_equal(f->status, 0);
    assert_string_equal(pd_fetch_message(f), "feature lookup failed"); /* none recorded */
    assert_null(pd_fetch_extra_headers(f));
    pd_fetch_free(f);
}

static void test_rows_that_do_not_match_the_body(void **st)
{
    (void)st;
    static const int need[] = {0, 0, 0};
    prep("u:{id}", "[{\"id\": 1}, {\"id\": 2}]", need, 3, 0, PD_EINVAL); /* fewer elements */
    prep("u:{id}", "[{\"id\": 1}, {\"id\": 2}, {\"id\": 3}]", need, 2, 0, PD_EINVAL);
    prep("u:{id}", "{\"id\": ", need, 1, 1, PD_EINVAL); /* not what the codec accepted */
    prep("u:{id}", "\xff\xfe\x00", need, 1, 1, PD_EINVAL);
    pd_fsource_spec_t *s = spec("u:{id}");
    pd_rows_t r;
    pd_rows_init(&r, 3, 0); /* a matrix of another width than the model */
    double *row;
    assert_int_equal(pd_rows_add(&r, &row), 0);
    pd_fetch_t *f;
    assert_int_equal(pd_fetch_prepare(s, "{}", 2, &r, &f), PD_EINVAL);
    pd_rows_free(&r);
    pd_fsource_spec_free(s);
    pd_fetch_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_object),
        cmocka_unit_test(test_list_and_rows_that_need_no_key),
        cmocka_unit_test(test_utf16_body),
        cmocka_unit_test(test_key_field_refusals),
        cmocka_unit_test(test_rows_that_do_not_match_the_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
