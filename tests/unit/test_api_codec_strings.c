/* test_api_codec_strings.c - typed inputs in pd_codec_fastapi (features_string.c): a string
 * column's value as Pydantic's str makes it (numbers and booleans str()-ed, "-0" as "0",
 * floats as Python's repr, escapes decoded) then its code; unknown categories encoded as
 * -1 or, for an input with "unknown": "error", a 422 naming the column and the value
 * (listed only when no Pydantic error, the last value of a repeated key deciding, a
 * 4,000-digit integer cut without failing the request); type_error.str for objects and
 * arrays; a number input's known values. The model comes from a document, so the schema
 * and vocabulary are the loader's. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/codec.h"
#include "common.h"
#include "model/model.h"
#include "test_codec_util.h"

#define CT "application/json"
#define DOC(inputs)                                                                      \
    "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"regression\"," \
    "\"features\":[\"n\",\"s\"],\"inputs\":" inputs ",\"steps\":[{\"type\":\"linear\","   \
    "\"link\":\"identity\",\"coef\":[[1,1]],\"intercept\":[0]}]}"

static pd_model_t *load(const char *doc)
{
    char err[256];
    pd_model_t *m = NULL;
    if (pd_model_load_buffer(doc, strlen(doc), "t.json", &m, err, sizeof err))
        fail_msg("%s", err);
    return m;
}

static void test_values(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("{\"s\":{\"type\":\"string\",\"categories\":[\"a\",\"5\",\"0\","
                             "\"1.5\",\"True\",\"1e+16\",\"\\u00e9\",\"nan\",\"inf\"]}}"));
    const pd_model_schema_t *s = pd_model_schema(m);
    const pd_codec_t *c = &pd_codec_fastapi;
    double w1[] = {1, 0, 2, 1, 3, 2, 4, 3, 5, 4};
    codec_expect_rows(c, s, CT, "[{\"n\":1,\"s\":\"a\"},{\"n\":2,\"s\":5},{\"n\":3,\"s\":-0},"
                      "{\"n\":4,\"s\":1.5},{\"n\":5,\"s\":true}]", 0, 5, w1);
    double w2[] = {1, 5, 2, 6, 3, 7, 4, 8, 5, -1, 6, -1};
    codec_expect_rows(c, s, CT, "[{\"n\":1,\"s\":1e16},{\"n\":2,\"s\":\"\\u00e9\"},"
                      "{\"n\":3,\"s\":NaN},{\"n\":4,\"s\":1e400},{\"n\":5,\"s\":\"b\"},"
                      "{\"n\":6,\"s\":false}]", 0, 6, w2);
    /* [["n", 1], ["s", "a"]] is dict(pairs); a missing string with missing_ok is NaN */
    double w3[] = {1, 0, 2, NAN};
    codec_expect_rows(c, s, CT, "[[[\"n\",1],[\"s\",\"a\"]],{\"n\":2,\"s\":null}]", 1, 2, w3);
    codec_expect_err(c, s, CT, "{\"n\":1,\"s\":{}}", 0, 0, 422,
                     "{\"detail\":[{\"loc\":[\"body\",\"s\"],\"msg\":\"str type expected\","
                     "\"type\":\"type_error.str\"}]}");
    codec_expect_err(c, s, CT, "[{\"n\":\"x\",\"s\":[1]},{\"n\":1,\"s\":null}]", 0, 0, 422,
                     "{\"detail\":[{\"loc\":[\"body\",0,\"n\"],\"msg\":\"value is not a valid "
                     "float\",\"type\":\"type_error.float\"},{\"loc\":[\"body\",0,\"s\"],"
                     "\"msg\":\"str type expected\",\"type\":\"type_error.str\"},{\"loc\":"
                     "[\"body\",1,\"s\"],\"msg\":\"none is not an allowed value\",\"type\":"
                     "\"type_error.none.not_allowed\"}]}");
    pd_model_free(m);
}

static void test_unknown_error(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("{\"s\":{\"type\":\"string\",\"categories\":[\"a\",\"b\",\"fill\"],"
                             "\"unknown\":\"error\",\"n_known\":2},\"n\":{\"type\":\"number\","
                             "\"unknown\":\"error\",\"categories\":[1,2]}}"));
    const pd_model_schema_t *s = pd_model_schema(m);
    const pd_codec_t *c = &pd_codec_fastapi;
    assert_true(s->typed_inputs);
    codec_expect_err(c, s, CT, "{\"n\":1,\"s\":\"fill\"}", 0, 0, 422,
                     "{\"detail\":[{\"loc\":[\"body\",\"s\"],\"msg\":\"unknown category "
                     "\\\"fill\\\": the model's encoder was fitted with handle_unknown='error'"
                     "\",\"type\":\"value_error.category\"}]}");
    codec_expect_err(c, s, CT, "[{\"n\":1,\"s\":\"a\"},{\"n\":3,\"s\":\"q\\\"\"}]", 0, 0, 422,
                     "{\"detail\":[{\"loc\":[\"body\",1,\"n\"],\"msg\":\"unknown category 3.0: "
                     "the model's encoder was fitted with handle_unknown='error'\",\"type\":"
                     "\"value_error.category\"},{\"loc\":[\"body\",1,\"s\"],\"msg\":\"unknown "
                     "category \\\"q\\\\\\\"\\\": the model's encoder was fitted with "
                     "handle_unknown='error'\",\"type\":\"value_error.category\"}]}");
    /* the last value wins: an unknown one replaced by a known one is no error */
    double w[] = {2, 1};
    codec_expect_rows(c, s, CT, "[{\"n\":7,\"s\":\"zz\",\"s\":\"b\",\"n\":2}]", 0, 1, w);
    /* a Pydantic error anywhere: only Pydantic's errors are listed */
    codec_expect_err(c, s, CT, "[{\"n\":1,\"s\":\"zz\"},{\"n\":1,\"s\":{}}]", 0, 0, 422,
                     "{\"detail\":[{\"loc\":[\"body\",1,\"s\"],\"msg\":\"str type expected\","
                     "\"type\":\"type_error.str\"}]}");
    /* a 4,000-digit integer (json.loads takes up to 4,300) is str()-ed, cut (no category
     * is that long) and refused */
    size_t nd = 4000;
    char *big = malloc(nd + 64);
    assert_non_null(big);
    int k = snprintf(big, 64, "{\"n\":1,\"s\":");
    memset(big + k, '7', nd);
    strcpy(big + k + nd, "}");
    pd_rows_t rows;
    pd_buf_t err;
    assert_int_equal(codec_run(c, s, 0, CT, big, 0, &rows, &err), 422);
    assert_non_null(strstr(err.data, "value_error.category"));
    pd_rows_free(&rows);
    pd_buf_free(&err);
    free(big);
    pd_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_unknown_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
