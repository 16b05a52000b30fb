/* test_model_columns.c - typed inputs and the column-wise types (issue 10): a string
 * input's vocabulary lookups (hash, prefixes, embedded NUL, the accepted prefix of an
 * "unknown": "error" input) and a number input's known values; a column_transformer of
 * simple_imputer (+ indicator), onehot_encoder (NaN category, dropped category, unknown
 * output), ordinal_encoder (unknown value) and a passthrough entry, computed by hand
 * through a linear read-out whose coefficients are powers of ten; how missing values flow
 * (schema.missing_ok); then malformed inputs and steps refused with their JSON paths
 * (under ASan: nothing leaks when a nested step fails half-way). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "model/model.h"
#include "test_model_util.h"

#define HEAD "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"regression\"," \
             "\"features\":[\"a\",\"b\"],"
#define INPUTS "\"inputs\":{\"b\":{\"type\":\"string\",\"categories\":[\"x\",\"y\",\"z\"]}},"
#define DOC(inputs, steps) HEAD inputs "\"steps\":[" steps "]}"
#define LIN(coef) ",{\"type\":\"linear\",\"link\":\"identity\",\"coef\":[[" coef "]]," \
                  "\"intercept\":[0]}"
#define IMP "{\"columns\":[0],\"steps\":[{\"type\":\"simple_imputer\",\"fill\":[5]," \
            "\"indicator\":[0]}]}"
#define OH "{\"columns\":[1],\"steps\":[{\"type\":\"onehot_encoder\",\"n_out\":3," \
           "\"handle_unknown\":\"ignore\",\"features\":[{\"categories\":[0,1,null]," \
           "\"outputs\":[0,-1,2],\"unknown_output\":1}]}]}"
#define ORD "{\"columns\":[1],\"steps\":[{\"type\":\"ordinal_encoder\",\"unknown_value\":-3," \
            "\"features\":[{\"categories\":[2,0],\"values\":[7,9]}]}]}"
#define CT(entries) "{\"type\":\"column_transformer\",\"transformers\":[" entries "]}"
#define S0 "$.steps[0].transformers[0].steps[0]"

static void test_vocabulary(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("\"inputs\":{\"b\":{\"type\":\"string\",\"categories\":[\"x\","
                             "\"yy\",\"\",\"\\u00e9\"],\"unknown\":\"error\",\"n_known\":3},"
                             "\"a\":{\"type\":\"number\",\"unknown\":\"error\","
                             "\"categories\":[-1,2.5,7]}},",
                             CT(IMP) LIN("1,1")));
    const pd_model_schema_t *s = pd_model_schema(m);
    const pd_model_input_t *b = &s->inputs[1], *a = &s->inputs[0];
    assert_int_equal(b->type, PD_INPUT_STRING);
    assert_true(s->has_strings && s->typed_inputs);
    assert_int_equal(pd_model_input_code(b, "x", 1), 0);
    assert_int_equal(pd_model_input_code(b, "yy", 2), 1);
    assert_int_equal(pd_model_input_code(b, "y", 1), -1);    /* a prefix is no match */
    assert_int_equal(pd_model_input_code(b, "yyy", 2), 1);   /* len bytes only */
    assert_int_equal(pd_model_input_code(b, "", 0), 2);
    assert_int_equal(pd_model_input_code(b, "\xc3\xa9", 2), 3);
    assert_int_equal(pd_model_input_code(b, "x\0", 2), -1);  /* an embedded NUL */
    assert_int_equal(b->n_known, 3);
    assert_int_equal(b->unknown_error, 1);
    assert_true(pd_model_input_known(a, 2.5) && pd_model_input_known(a, -1));
    assert_false(pd_model_input_known(a, 3) || pd_model_input_known(a, 8));
    assert_string_equal(pd_model_input_type_name(a->type), "number");
    pd_model_free(m);
}

static void test_column_transformer(void **st)
{
    (void)st;
    /* outputs: imputed a, indicator a, one-hot (3), ordinal b, passthrough b */
    pd_model_t *m = load(DOC(INPUTS, CT(IMP "," OH "," ORD ",{\"columns\":[1],\"steps\":[]}")
                             LIN("1,10,100,1000,10000,100000,1000000")));
    double x[] = {NAN, 0, 2, 1, 4, -1};
    double v[3];
    run_ex(m, x, 3, NULL, v, NULL, NULL, NULL);
    /* a=NaN b=x: 5, 1, [1 0 0], 9, 0 */
    assert_true(v[0] == 5 + 10 + 100 + 900000);
    /* a=2 b=y (dropped one-hot category; not an ordinal category: -3): 2, 0, [0 0 0] */
    assert_true(v[1] == 2 - 300000 + 1000000);
    /* a=4 b=unknown: unknown_output 1; ordinal -3; passthrough -1 */
    assert_true(v[2] == 4 + 1000 - 300000 - 1000000);
    /* the passthrough entry lets NaN reach the linear model: no missing values */
    assert_int_equal(pd_model_schema(m)->missing_ok, 0);
    char d[256];
    pd_model_describe(m, d, sizeof d);
    assert_non_null(strstr(d, "column_transformer"));
    pd_model_free(m);

    /* without it: the imputer, the NaN category and the unknown value absorb NaN */
    m = load(DOC(INPUTS, CT(IMP "," OH "," ORD) LIN("1,10,100,1000,10000,100000")));
    assert_int_equal(pd_model_schema(m)->missing_ok, 1);
    double y[] = {1, NAN};
    run_ex(m, y, 1, NULL, v, NULL, NULL, NULL);
    assert_true(v[0] == 1 + 10000 - 300000); /* NaN category -> output 2; ordinal -3 */
    pd_model_free(m);

    /* handle_unknown error without a NaN category: NaN is refused (no missing values);
     * a missing_indicator with a value as its missing marker; missing values as codes */
    m = load(DOC(INPUTS, CT("{\"columns\":[1],\"steps\":[{\"type\":\"onehot_encoder\","
                            "\"n_out\":2,\"handle_unknown\":\"error\",\"features\":[{"
                            "\"categories\":[0,2],\"outputs\":[0,1]}]}]},"
                            "{\"columns\":[0,1],\"steps\":[{\"type\":\"missing_indicator\","
                            "\"missing\":[-7,1],\"indicator\":[0,1]}]}")
                 LIN("1,10,100,1000")));
    assert_int_equal(pd_model_schema(m)->missing_ok, 0);
    double z[] = {-7, 2, 3, 1};
    run_ex(m, z, 2, NULL, v, NULL, NULL, NULL);
    assert_true(v[0] == 10 + 100);
    assert_true(v[1] == 1000);
    pd_model_free(m);
}

static void test_refusals(void **st)
{
    (void)st;
    const char *ok = CT(IMP) LIN("1,1");
    char doc[2048];
#define FAIL(inputs, steps, path, reason)                                   \
    do {                                                                    \
        snprintf(doc, sizeof doc, HEAD "%s\"steps\":[%s]}", inputs, steps); \
        expect_fail(doc, path, reason);                                     \
    } while (0)
    FAIL("\"inputs\":{\"zz\":{\"type\":\"string\",\"categories\":[]}},", ok, "$.inputs.zz",
         "not one of the model's features");
    FAIL("\"inputs\":{\"b\":{\"type\":\"text\"}},", ok, "$.inputs.b.type", "unknown value");
    FAIL("\"inputs\":{\"b\":{\"type\":\"string\"}},", ok, "$.inputs.b.categories",
         "required field missing");
    FAIL("\"inputs\":{\"b\":{\"type\":\"string\",\"categories\":[\"x\",\"y\",\"x\"]}},", ok,
         "$.inputs.b.categories[2]", "duplicate category");
    FAIL("\"inputs\":{\"b\":{\"type\":\"string\",\"categories\":[\"x\",1]}},", ok,
         "$.inputs.b.categories[1]", "expected a string");
    FAIL("\"inputs\":{\"b\":{\"type\":\"string\",\"categories\":[\"x\"],\"n_known\":1}},", ok,
         "$.inputs.b.n_known", "only with");
    FAIL("\"inputs\":{\"b\":{\"type\":\"string\",\"categories\":[\"x\"],\"unknown\":\"error\","
         "\"n_known\":2}},", ok, "$.inputs.b.n_known", "");
    FAIL("\"inputs\":{\"a\":{\"type\":\"number\",\"categories\":[1]}},", ok,
         "$.inputs.a.categories", "only with");
    FAIL("\"inputs\":{\"a\":{\"type\":\"number\",\"unknown\":\"error\",\"categories\":[2,1]}},",
         ok, "$.inputs.a.categories", "sorted");
    FAIL(INPUTS, CT("{\"columns\":[2],\"steps\":[]}") LIN("1"),
         "$.steps[0].transformers[0].columns[0]", "");
    FAIL(INPUTS, CT("") LIN("1"), "$.steps[0].transformers", "");
    FAIL(INPUTS, CT("{\"columns\":[0],\"steps\":[{\"type\":\"linear\",\"link\":\"identity\","
                    "\"coef\":[[1]],\"intercept\":[0]}]}") LIN("1"), S0 ".type",
         "must be the last step");
    FAIL(INPUTS, CT("{\"columns\":[1],\"steps\":[{\"type\":\"onehot_encoder\",\"n_out\":2,"
                    "\"handle_unknown\":\"ignore\",\"features\":[{\"categories\":[0,1],"
                    "\"outputs\":[0,2]}]}]}") LIN("1,1"), S0 ".features[0].outputs[1]", "");
    FAIL(INPUTS, CT("{\"columns\":[1],\"steps\":[{\"type\":\"onehot_encoder\",\"n_out\":2,"
                    "\"handle_unknown\":\"ignore\",\"features\":[{\"categories\":[1,1],"
                    "\"outputs\":[0,1]}]}]}") LIN("1,1"), S0 ".features[0].categories",
         "duplicate category");
    FAIL(INPUTS, CT("{\"columns\":[1],\"steps\":[{\"type\":\"onehot_encoder\",\"n_out\":2,"
                    "\"handle_unknown\":\"ignore\",\"features\":[{\"categories\":[null,null],"
                    "\"outputs\":[0,1]}]}]}") LIN("1,1"), S0 ".features[0].categories[1]",
         "second NaN");
    FAIL(INPUTS, CT("{\"columns\":[1],\"steps\":[{\"type\":\"onehot_encoder\",\"n_out\":2,"
                    "\"handle_unknown\":\"maybe\",\"features\":[]}]}") LIN("1,1"),
         S0 ".handle_unknown", "unknown value");
    FAIL(INPUTS, CT("{\"columns\":[0,1],\"steps\":[{\"type\":\"ordinal_encoder\","
                    "\"features\":[{\"categories\":[1]}]}]}") LIN("1,1"), S0 ".features", "");
    FAIL(INPUTS, CT("{\"columns\":[1],\"steps\":[{\"type\":\"ordinal_encoder\","
                    "\"features\":[{\"categories\":[1,2],\"values\":[1]}]}]}") LIN("1"),
         S0 ".features[0].values", "");
    FAIL(INPUTS, CT("{\"columns\":[0],\"steps\":[{\"type\":\"simple_imputer\",\"fill\":[1,2]}]}")
         LIN("1"), S0 ".fill", "");
    FAIL(INPUTS, CT("{\"columns\":[0],\"steps\":[{\"type\":\"simple_imputer\",\"fill\":[1],"
                    "\"indicator\":[3]}]}") LIN("1,1"), S0 ".indicator[0]", "");
    FAIL(INPUTS, CT("{\"columns\":[0],\"steps\":[{\"type\":\"simple_imputer\","
                    "\"missing\":\"nan\",\"fill\":[1]}]}") LIN("1"), S0 ".missing",
         "expected an array");
    FAIL(INPUTS, CT("{\"columns\":[0],\"steps\":[{\"type\":\"missing_indicator\","
                    "\"indicator\":[]}]}") LIN("1"), S0, "writes no column");
    /* a nested column_transformer failing deep inside: the path names every level */
    FAIL(INPUTS, CT("{\"columns\":[0,1],\"steps\":[" CT("{\"columns\":[0],\"steps\":["
                    "{\"type\":\"simple_imputer\"}]}") "]}") LIN("1"),
         S0 ".transformers[0].steps[0].fill", "required field missing");
#undef FAIL
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vocabulary),
        cmocka_unit_test(test_column_transformer),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
