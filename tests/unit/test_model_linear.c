/* test_model_linear.c - the linear type's links beyond identity/logistic/softmax/ovr,
 * computed by hand: exp (GLMs), decision (no probabilities: NaN in proba), modified_huber
 * (binary, multiclass, an all-zero row made uniform), proba_scale, the decision_function
 * output through pd_model_predict_ex, the binarizer step, and the loader's refusals. */
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

/* Predicts n rows with the first extra output (if any) into ex. */
static void run(const pd_model_t *m, const double *x, size_t n, int32_t *cls, double *val,
                double *proba, double *e0)
{
    run_ex(m, x, n, cls, val, proba, e0, NULL);
}

#define HDR(task, extra) \
    "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"" task \
    "\",\"features\":[\"a\",\"b\"]," extra "\"steps\":["
#define LIN(link, coef, icpt, more) \
    "{\"type\":\"linear\",\"link\":\"" link "\",\"coef\":" coef ",\"intercept\":" icpt more "}]}"

static void test_exp_link(void **st)
{
    (void)st;
    pd_model_t *m = load(HDR("regression", "") LIN("exp", "[[1,2]]", "[0.5]", ""));
    double x[] = {1, 1}, v;
    run(m, x, 1, NULL, &v, NULL, NULL);
    assert_true(v == exp(3.5));
    assert_int_equal(pd_model_schema(m)->n_outputs, 0);
    pd_model_free(m);
}

static void test_decision_link_binary_and_multiclass(void **st)
{
    (void)st;
    pd_model_t *m = load(HDR("classification", "\"classes\":[\"n\",\"y\"],")
                             LIN("decision", "[[1,-1]]", "[0]", ""));
    const pd_model_schema_t *s = pd_model_schema(m);
    assert_int_equal(s->proba_ok, 0);
    assert_int_equal(s->n_outputs, 1);
    assert_string_equal(s->outputs[0].name, "decision_function");
    assert_int_equal(s->outputs[0].width, 1);
    double x[] = {2, 1, 1, 2, 1, 1}, pr[6], d[3];
    int32_t c[3];
    run(m, x, 3, c, NULL, pr, d);
    assert_true(c[0] == 1 && c[1] == 0 && c[2] == 0); /* z == 0 is classes[0] */
    assert_true(d[0] == 1 && d[1] == -1 && d[2] == 0);
    for (int i = 0; i < 6; i++)
        assert_true(isnan(pr[i]));
    pd_model_free(m);

    m = load(HDR("classification", "\"classes\":[0,1,2],")
                 LIN("decision", "[[1,0],[0,1],[1,1]]", "[0,0,-5]", ""));
    double x2[] = {3, 1}, d3[3];
    run(m, x2, 1, c, NULL, NULL, d3);
    assert_true(c[0] == 0 && d3[0] == 3 && d3[1] == 1 && d3[2] == -1);
    assert_int_equal(pd_model_schema(m)->outputs[0].width, 3);
    pd_model_free(m);
}

static void test_modified_huber(void **st)
{
    (void)st;
    pd_model_t *m = load(HDR("classification", "\"classes\":[0,1],")
                             LIN("modified_huber", "[[1,0]]", "[0]", ""));
    double x[] = {0.5, 0, 7, 0, -3, 0}, pr[6];
    int32_t c[3];
    run(m, x, 3, c, NULL, pr, NULL);
    assert_true(pr[1] == 0.75 && pr[0] == 0.25 && c[0] == 1);
    assert_true(pr[3] == 1.0 && pr[2] == 0.0 && pr[5] == 0.0 && c[2] == 0);
    pd_model_free(m);

    m = load(HDR("classification", "\"classes\":[0,1,2],")
                 LIN("modified_huber", "[[1,0],[0,1],[-1,-1]]", "[0,0,0]", ""));
    double y[] = {0.5, 0, -2, -2}, q[6];
    run(m, y, 2, c, NULL, q, NULL);
    /* row 0: (0.75, 0.5, 0.25) / 1.5; row 1: (0, 0, 1) / 1 */
    assert_true(q[0] == 0.75 / 1.5 && q[1] == 0.5 / 1.5 && q[2] == 0.25 / 1.5);
    assert_true(q[3] == 0 && q[4] == 0 && q[5] == 1 && c[1] == 2);
    double zz[] = {-5, -5}; /* z = (-5, -5, 10): probabilities (0, 0, 1) */
    run(m, zz, 1, c, NULL, q, NULL);
    assert_true(q[2] == 1.0);
    pd_model_free(m);

    m = load(HDR("classification", "\"classes\":[0,1,2],")
                 LIN("modified_huber", "[[1,0],[1,0],[1,0]]", "[0,0,0]", ""));
    double neg[] = {-4, 0};
    run(m, neg, 1, c, NULL, q, NULL); /* every score clips to -1: uniform */
    assert_true(q[0] == 1.0 / 3 && q[1] == 1.0 / 3 && q[2] == 1.0 / 3);
    pd_model_free(m);
}

static void test_proba_scale_and_binarizer(void **st)
{
    (void)st;
    pd_model_t *m = load(HDR("classification", "\"classes\":[0,1],")
                         "{\"type\":\"binarizer\",\"threshold\":0.5},"
                         LIN("logistic", "[[1,2]]", "[-1]", ",\"proba_scale\":2"));
    double x[] = {0.7, 0.2, NAN, 3}, pr[4], d[2];
    int32_t c[2];
    run(m, x, 2, c, NULL, pr, d);
    /* row 0 -> (1, 0): z = 0; row 1 -> (0, 1): z = 1 */
    assert_true(d[0] == 0 && d[1] == 1 && c[0] == 0 && c[1] == 1);
    assert_true(pr[1] == 0.5 && pr[3] == 1.0 / (1.0 + exp(-2.0)));
    assert_int_equal(pd_model_schema(m)->missing_ok, 0);
    pd_model_free(m);
}

static void test_refusals(void **st)
{
    (void)st;
    expect_fail(HDR("regression", "") LIN("decision", "[[1,2]]", "[0]", ""),
                "$.steps[0].link", "does not fit a regression model");
    expect_fail(HDR("classification", "\"classes\":[0,1],") LIN("exp", "[[1,2]]", "[0]", ""),
                "$.steps[0].link", "does not fit a classification model");
    expect_fail(HDR("classification", "\"classes\":[0,1,2],")
                    LIN("decision", "[[1,2]]", "[0]", ""),
                "$.steps[0].coef", "1 entries, expected 3");
    expect_fail(HDR("classification", "\"classes\":[0,1],")
                    LIN("logistic", "[[1,2]]", "[0]", ",\"proba_scale\":0"),
                "$.steps[0].proba_scale", "must be > 0");
    expect_fail(HDR("classification", "\"classes\":[0,1,2],")
                    LIN("softmax", "[[1,2],[1,2],[1,2]]", "[0,0,0]", ",\"proba_scale\":2"),
                "$.steps[0].proba_scale", "logistic link only");
    expect_fail(HDR("classification", "\"classes\":[0,1],")
                    LIN("logistic", "[[1,2]]", "[0]", ",\"proba_scale\":\"2\""),
                "$.steps[0].proba_scale", "expected a number");
    expect_fail(HDR("regression", "") "{\"type\":\"binarizer\"},"
                    LIN("identity", "[[1,2]]", "[0]", ""),
                "$.steps[0].threshold", "required field missing");
    expect_fail(HDR("regression", "\"missing_values\":true,") "{\"type\":\"binarizer\","
                    "\"threshold\":0}," LIN("identity", "[[1,2]]", "[0]", ""),
                "$.missing_values", "does not take missing values");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp_link),
        cmocka_unit_test(test_decision_link_binary_and_multiclass),
        cmocka_unit_test(test_modified_huber),
        cmocka_unit_test(test_proba_scale_and_binarizer),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
