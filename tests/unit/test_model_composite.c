/* test_model_composite.c - composite types on tiny hand-computed members: soft/hard voting
 * with weights and class maps, bagging with feature subsets and votes, AdaBoost SAMME's
 * decision and probabilities, the weighted median, a calibrated member (sigmoid and
 * isotonic), stacking with passthrough, a pipeline member, the target transform; then
 * malformed composites refused with their nested paths (under ASan: no leak, also when a
 * member fails half-way). */
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

static void run(const pd_model_t *m, const double *x, size_t n, int32_t *cls, double *val,
                double *proba, double *e0)
{
    run_ex(m, x, n, cls, val, proba, e0, NULL);
}

#define DOC(task, classes, step) \
    "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"" task \
    "\",\"features\":[\"a\",\"b\"]," classes "\"steps\":[" step "]}"
#define C3 "\"classes\":[0,1,2],"
/* A 3-class softmax member of feature `f` only: z = (0, x, 2x). */
#define SOFT3(f) \
    "{\"step\":{\"type\":\"linear\",\"link\":\"softmax\",\"coef\":[[0],[1],[2]]," \
    "\"intercept\":[0,0,0]},\"features\":[" f "]"
/* A 2-class member of its own (decision link): z = x_f - 1, mapped to classes `map`. */
#define DEC2(f, map) \
    "{\"step\":{\"type\":\"linear\",\"link\":\"decision\",\"coef\":[[1]],\"intercept\":[-1]}," \
    "\"features\":[" f "],\"classes\":" map

static void test_voting(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("classification", C3,
                             "{\"type\":\"ensemble\",\"combine\":\"soft\",\"members\":["
                             SOFT3("0") ",\"weight\":3}," SOFT3("1") "}]}"));
    double x[] = {1, 0}, pr[3], e[3];
    int32_t c;
    run(m, x, 1, &c, NULL, pr, NULL);
    /* member 0: softmax(0, 1, 2), member 1: uniform; (3 p + u) / 4 */
    double s = 1 + exp(1) + exp(2), u = 1.0 / 3;
    double want[3] = {(3 * (1 / s) + u) / 4, (3 * (exp(1) / s) + u) / 4,
                      (3 * (exp(2) / s) + u) / 4};
    for (int k = 0; k < 3; k++)
        assert_true(fabs(pr[k] - want[k]) < 1e-15);
    assert_int_equal(c, 2);
    (void)e;
    pd_model_free(m);

    /* hard: members vote 2 (from [1,2] map), 0 ([0,1]), 0 ([0,2]) -> weights 1, 1, 1.5 */
    m = load(DOC("classification", C3,
                 "{\"type\":\"ensemble\",\"combine\":\"hard\",\"members\":["
                 DEC2("0", "[1,2]") "}," DEC2("1", "[0,1]") "}," DEC2("1", "[0,2]")
                 ",\"weight\":1.5}]}"));
    double y[] = {2, 0};
    run(m, y, 1, &c, NULL, pr, NULL);
    assert_int_equal(c, 0);
    assert_int_equal(pd_model_schema(m)->proba_ok, 0);
    assert_true(isnan(pr[0]));
    pd_model_free(m);
}

static void test_adaboost_and_median(void **st)
{
    (void)st;
    /* SAMME, binary: member votes class 1 (x0 > 1) with weight 2, class 0 with weight 1 */
    pd_model_t *m = load(DOC("classification", "\"classes\":[0,1],",
                             "{\"type\":\"ensemble\",\"combine\":\"SAMME\",\"weight_sum\":4,"
                             "\"members\":[" DEC2("0", "[0,1]") ",\"weight\":2},"
                             DEC2("1", "[0,1]") ",\"weight\":1}]}"));
    double x[] = {2, 0}, pr[2], d;
    int32_t c;
    run(m, x, 1, &c, NULL, pr, &d);
    /* pred = (1, 2) / 4 -> decision = -0.25 + 0.5 = 0.25; proba = softmax(-d/2, d/2) */
    assert_true(d == 0.25 && c == 1);
    double p1 = 1 / (1 + exp(-0.25));
    assert_true(fabs(pr[1] - p1) < 1e-15 && fabs(pr[0] - (1 - p1)) < 1e-15);
    pd_model_free(m);

    m = load(DOC("regression", "",
                 "{\"type\":\"ensemble\",\"combine\":\"median\",\"members\":["
                 "{\"step\":{\"type\":\"linear\",\"link\":\"identity\",\"coef\":[[1,0]],"
                 "\"intercept\":[0]},\"weight\":0.2},"
                 "{\"step\":{\"type\":\"linear\",\"link\":\"identity\",\"coef\":[[0,1]],"
                 "\"intercept\":[0]},\"weight\":0.5},"
                 "{\"step\":{\"type\":\"linear\",\"link\":\"identity\",\"coef\":[[1,1]],"
                 "\"intercept\":[0]},\"weight\":0.3}]}"));
    double y[] = {1, 5}, v; /* values 1 (0.2), 5 (0.5), 6 (0.3): cdf 0.2, 0.7 >= 0.5 -> 5 */
    run(m, y, 1, NULL, &v, NULL, NULL);
    assert_true(v == 5.0);
    pd_model_free(m);
}

static void test_bagging_calibrated_stacking_target(void **st)
{
    (void)st;
    /* bagging: one member with proba (softmax of x1), one voting member -> (p + vote) / 2 */
    pd_model_t *m = load(DOC("classification", C3,
                             "{\"type\":\"ensemble\",\"combine\":\"bagging\",\"members\":["
                             SOFT3("1") "}," DEC2("0", "[0,2]") "}]}"));
    double x[] = {5, 0}, pr[3];
    int32_t c;
    run(m, x, 1, &c, NULL, pr, NULL);
    assert_true(fabs(pr[0] - 1.0 / 6) < 1e-15 && fabs(pr[2] - (1.0 / 3 + 1) / 2) < 1e-15);
    assert_int_equal(c, 2);
    pd_model_free(m);

    /* calibrated, binary, isotonic on decision z = x0 - 1 over thresholds (-1, 1) -> (0, 1) */
    m = load(DOC("classification", "\"classes\":[0,1],",
                 "{\"type\":\"calibrated\",\"input\":\"decision_function\",\"members\":["
                 DEC2("0", "[0,1]") ",\"calibrators\":[{\"method\":\"isotonic\","
                 "\"x\":[-1,1],\"y\":[0,1],\"min\":-1,\"max\":1}]}]}"));
    double y[] = {1.5, 0, 9, 0};
    double q[4];
    run(m, y, 2, NULL, NULL, q, NULL);
    assert_true(q[1] == 0.75 && q[0] == 0.25 && q[3] == 1.0 && q[2] == 0.0);
    pd_model_free(m);

    /* stacking: member proba (binary: second column only) + passthrough -> final linear */
    m = load(DOC("regression", "",
                 "{\"type\":\"stacking\",\"passthrough\":true,\"members\":["
                 "{\"step\":{\"type\":\"linear\",\"link\":\"identity\",\"coef\":[[2,0]],"
                 "\"intercept\":[1]},\"method\":\"predict\"}],"
                 "\"final\":{\"type\":\"transformed_target\",\"inverse\":\"standard\","
                 "\"scale\":10,\"mean\":1,\"regressor\":{\"type\":\"linear\",\"link\":"
                 "\"identity\",\"coef\":[[1,0,1]],\"intercept\":[0]}}}"));
    double z[] = {3, 4}, v; /* meta = (7, 3, 4); final = 7 + 4 = 11 -> 11 * 10 + 1 */
    run(m, z, 1, NULL, &v, NULL, NULL);
    assert_true(v == 111.0);
    char d[256];
    pd_model_describe(m, d, sizeof d);
    assert_non_null(strstr(d, "stacking(1 members -> 3 columns (with passthrough)"));
    pd_model_free(m);
}

#define S0 "$.steps[0]"
static void test_refusals(void **st)
{
    (void)st;
    expect_fail(DOC("classification", C3, "{\"type\":\"ensemble\",\"combine\":\"median\"}"),
                S0 ".combine", "does not fit a classification model");
    expect_fail(DOC("regression", "", "{\"type\":\"ensemble\",\"combine\":\"hard\"}"),
                S0 ".combine", "does not fit a regression model");
    expect_fail(DOC("classification", C3, "{\"type\":\"ensemble\",\"combine\":\"soft\","
                                          "\"members\":[]}"),
                S0 ".members", "0 entries");
    expect_fail(DOC("classification", C3, "{\"type\":\"ensemble\",\"combine\":\"soft\","
                                          "\"members\":[" DEC2("0", "[0,1]") "}]}"),
                S0, "member 0 (\"linear\") has no probabilities");
    expect_fail(DOC("classification", C3, "{\"type\":\"ensemble\",\"combine\":\"hard\","
                                          "\"members\":[" DEC2("2", "[0,1]") "}]}"),
                S0 ".members[0].features[0]", "out of range [0, 1]");
    expect_fail(DOC("classification", C3, "{\"type\":\"ensemble\",\"combine\":\"hard\","
                                          "\"members\":[" DEC2("0", "[0,3]") "}]}"),
                S0 ".members[0].classes[1]", "out of range [0, 2]");
    expect_fail(DOC("classification", C3, "{\"type\":\"ensemble\",\"combine\":\"hard\","
                                          "\"members\":[" SOFT3("0") "}," DEC2("0", "[0,1]")
                                          ",\"weight\":\"x\"}]}"),
                S0 ".members[1].weight", "expected a number");
    expect_fail(DOC("classification", C3, "{\"type\":\"ensemble\",\"combine\":\"soft\","
                                          "\"members\":[{\"step\":{\"type\":\"linear\","
                                          "\"link\":\"softmax\",\"coef\":[[1]],"
                                          "\"intercept\":[0]}}]}"),
                S0 ".members[0].step.coef", "1 entries, expected 3");
    expect_fail(DOC("classification", "\"classes\":[0,1],",
                    "{\"type\":\"calibrated\",\"input\":\"predict_proba\",\"members\":["
                    DEC2("0", "[0,1]") "}]}"),
                S0 ".members[0]", "has no probabilities");
    expect_fail(DOC("classification", "\"classes\":[0,1],",
                    "{\"type\":\"calibrated\",\"input\":\"decision_function\",\"members\":["
                    DEC2("0", "[0,1]") ",\"calibrators\":[{\"method\":\"isotonic\","
                    "\"x\":[1,1],\"y\":[0,1],\"min\":1,\"max\":1}]}]}"),
                S0 ".members[0].calibrators[0].x[1]", "thresholds must increase");
    expect_fail(DOC("regression", "", "{\"type\":\"stacking\",\"members\":["
                                      "{\"step\":{\"type\":\"linear\",\"link\":\"identity\","
                                      "\"coef\":[[2,0]],\"intercept\":[1]},\"method\":"
                                      "\"predict_proba\"}]}"),
                S0 ".members[0].method", "has no predict_proba");
    expect_fail(DOC("regression", "", "{\"type\":\"stacking\",\"members\":["
                                      "{\"step\":{\"type\":\"linear\",\"link\":\"identity\","
                                      "\"coef\":[[2,0]],\"intercept\":[1]},\"method\":"
                                      "\"predict\"}],\"final\":{\"type\":\"linear\",\"link\":"
                                      "\"identity\",\"coef\":[[1,2]],\"intercept\":[0]}}"),
                S0 ".final.coef[0]", "2 entries, expected 1");
    expect_fail(DOC("regression", "", "{\"type\":\"transformed_target\",\"inverse\":\"cube\"}"),
                S0 ".inverse", "unknown value");
    expect_fail(DOC("regression", "", "{\"type\":\"pipeline\",\"steps\":[{\"type\":"
                                      "\"linear\",\"link\":\"identity\",\"coef\":[[1,2]],"
                                      "\"intercept\":[0]},{\"type\":\"linear\"}]}"),
                S0 ".steps[0].type", "must be the last step");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_voting),
        cmocka_unit_test(test_adaboost_and_median),
        cmocka_unit_test(test_bagging_calibrated_stacking_target),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
