/* test_model_svm.c - the svm type on tiny hand-computed models: a binary linear-kernel
 * classifier (label, decision_function sign flip), three classes with "ovr" and "ovo"
 * decision functions and votes, rbf and poly kernel values, Platt + coupling probabilities
 * of two classes (close to the pairwise sigmoid), one-class outputs, SVR, and
 * every malformed field refused with its JSON path (under ASan: no leak on any path). */
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
                double *proba, double *e0, double *e1)
{
    run_ex(m, x, n, cls, val, proba, e0, e1);
}

#define DOC(task, classes, step) \
    "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"" task \
    "\",\"features\":[\"a\",\"b\"]," classes "\"steps\":[" step "]}"
#define BIN "\"classes\":[0,1],"
#define SVM(type, kernel, more) \
    "{\"type\":\"svm\",\"svm_type\":\"" type "\",\"kernel\":\"" kernel "\"" more "}"

/* Two support vectors (1,0) class 0 and (0,1) class 1, coef 1 and -1, intercept 0:
 * dec = x.sv0 - x.sv1 = a - b; dec > 0 votes class 0; decision_function = -dec. */
#define BIN_LINEAR \
    SVM("c_svc", "linear", ",\"n_support\":[1,1],\"support_vectors\":[[1,0],[0,1]]," \
                           "\"dual_coef\":[[1,-1]],\"intercept\":[0]")

static void test_binary_linear(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("classification", BIN, BIN_LINEAR));
    const pd_model_schema_t *s = pd_model_schema(m);
    assert_int_equal(s->proba_ok, 0);
    assert_int_equal(s->n_outputs, 1);
    assert_int_equal(s->outputs[0].width, 1);
    double x[] = {2, 1, 1, 3, 1, 1}, d[3], pr[6];
    int32_t c[3];
    run(m, x, 3, c, NULL, pr, d, NULL);
    assert_true(c[0] == 0 && c[1] == 1 && c[2] == 1); /* dec == 0 votes class 1 */
    assert_true(d[0] == -1 && d[1] == 2 && d[2] == 0);
    assert_true(isnan(pr[0]) && isnan(pr[5]));
    pd_model_free(m);
}

/* Three classes, one support vector each at e_a, e_b, (0,0); linear kernel.
 * pair (0,1): coef[0][0]*k0 + coef[0][1]*k1 ... laid out as libsvm's sv_coef. */
#define THREE(shape) \
    SVM("c_svc", "linear", ",\"n_support\":[1,1,1],\"support_vectors\":[[1,0],[0,1],[0,0]]," \
        "\"dual_coef\":[[1,-1,-1],[1,1,-1]],\"intercept\":[0,-0.5,-0.25]," \
        "\"decision_function_shape\":\"" shape "\"")

static void test_three_classes_ovr_ovo(void **st)
{
    (void)st;
    /* x = (2, 1): k = (2, 1, 0). pairs: (0,1) = c[0][0]k0 + c[0][1]k1 + b0 = 2 - 1 = 1;
     * (0,2) = c[1][0]k0 + c[0][2]k2 - 0.5 = 2 + 0 - 0.5 = 1.5;
     * (1,2) = c[1][1]k1 + c[1][2]k2 - 0.25 = 1 - 0.25 = 0.75. votes: 0,0,1 -> (2,1,0). */
    pd_model_t *m = load(DOC("classification", "\"classes\":[\"a\",\"b\",\"c\"],",
                             THREE("ovo")));
    double x[] = {2, 1}, d[3];
    int32_t c;
    run(m, x, 1, &c, NULL, NULL, d, NULL);
    assert_int_equal(c, 0);
    assert_true(d[0] == 1 && d[1] == 1.5 && d[2] == 0.75);
    pd_model_free(m);
    m = load(DOC("classification", "\"classes\":[\"a\",\"b\",\"c\"],", THREE("ovr")));
    double o[3];
    run(m, x, 1, &c, NULL, NULL, o, NULL);
    /* confidences: class 0 += 1 + 1.5; class 1 += -1 + 0.75; class 2 += -1.5 - 0.75 */
    double s0 = 2.5, s1 = -0.25, s2 = -2.25;
    assert_true(o[0] == 2 + s0 / (3 * (fabs(s0) + 1)));
    assert_true(o[1] == 1 + s1 / (3 * (fabs(s1) + 1)));
    assert_true(o[2] == 0 + s2 / (3 * (fabs(s2) + 1)));
    pd_model_free(m);
}

static void test_kernels_and_regression(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("regression", "",
                             SVM("epsilon_svr", "rbf", ",\"gamma\":0.5,\"support_vectors\":"
                                 "[[1,2]],\"dual_coef\":[[3]],\"intercept\":[1]")));
    double x[] = {0, 0}, v;
    run(m, x, 1, NULL, &v, NULL, NULL, NULL);
    assert_true(v == 3 * exp(-0.5 * 5.0) + 1);
    assert_int_equal(pd_model_schema(m)->n_outputs, 0);
    pd_model_free(m);
    m = load(DOC("regression", "",
                 SVM("nu_svr", "poly", ",\"gamma\":2,\"coef0\":1,\"degree\":3,"
                     "\"support_vectors\":[[1,2]],\"dual_coef\":[[1]],\"intercept\":[0]")));
    double y[] = {1, 1};
    run(m, y, 1, NULL, &v, NULL, NULL, NULL);
    assert_true(v == 7.0 * 7.0 * 7.0); /* (2 * 3 + 1)^3 */
    pd_model_free(m);
    m = load(DOC("regression", "",
                 SVM("epsilon_svr", "sigmoid", ",\"gamma\":0.5,\"coef0\":-1,"
                     "\"support_vectors\":[[1,2]],\"dual_coef\":[[2]],\"intercept\":[0]")));
    run(m, y, 1, NULL, &v, NULL, NULL, NULL);
    assert_true(v == 2 * tanh(0.5 * 3 - 1));
    pd_model_free(m);
}

/* With two classes the coupling converges towards the pairwise probability itself (libsvm
 * stops once its error is below 0.005 / k, so not exactly). */
static void test_two_class_probability(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("classification", BIN,
                             SVM("c_svc", "linear", ",\"n_support\":[1,1],"
                                 "\"support_vectors\":[[1,0],[0,1]],\"dual_coef\":[[1,-1]],"
                                 "\"intercept\":[0],\"prob_a\":[-2],\"prob_b\":[0.1]")));
    assert_int_equal(pd_model_schema(m)->proba_ok, 1);
    double x[] = {2, 1}, pr[2];
    int32_t c;
    run(m, x, 1, &c, NULL, pr, NULL, NULL);
    double f = 1 * -2 + 0.1, p0 = 1.0 / (1.0 + exp(f)); /* sigmoid_predict(dec = 1) */
    assert_true(fabs(pr[0] - p0) < 5e-3 && fabs(pr[0] + pr[1] - 1) < 1e-12);
    assert_int_equal(c, 0);
    pd_model_free(m);
}

static void test_one_class(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("classification", "\"classes\":[-1,1],",
                             SVM("one_class", "linear", ",\"support_vectors\":[[1,1]],"
                                 "\"dual_coef\":[[1]],\"intercept\":[-3],\"offset\":3")));
    const pd_model_schema_t *s = pd_model_schema(m);
    assert_int_equal(s->n_outputs, 2);
    assert_string_equal(s->outputs[1].name, "score_samples");
    double x[] = {2, 2, 1, 1}, d[2], sc[2];
    int32_t c[2];
    run(m, x, 2, c, NULL, NULL, d, sc);
    assert_true(c[0] == 1 && c[1] == 0 && d[0] == 1 && d[1] == -1);
    assert_true(sc[0] == 4 && sc[1] == 2);
    char desc[128];
    pd_model_describe(m, desc, sizeof desc);
    assert_string_equal(desc, "svm(one_class, linear kernel, 1 support vectors)");
    pd_model_free(m);
}

#define S0 "$.steps[0]"
static void test_refusals(void **st)
{
    (void)st;
    expect_fail(DOC("classification", BIN, SVM("c_svx", "linear", "")), S0 ".svm_type",
                "unknown value \"c_svx\"");
    expect_fail(DOC("regression", "", SVM("c_svc", "linear", "")), S0 ".svm_type",
                "does not fit a regression model");
    expect_fail(DOC("classification", "\"classes\":[0,1,2],", SVM("one_class", "linear", "")),
                S0 ".svm_type", "does not fit");
    expect_fail(DOC("classification", BIN, SVM("c_svc", "precomputed", "")), S0 ".kernel",
                "unknown value");
    expect_fail(DOC("classification", BIN, SVM("c_svc", "rbf", "")), S0 ".gamma",
                "required field missing");
    expect_fail(DOC("classification", BIN, SVM("c_svc", "poly", ",\"gamma\":1,\"degree\":101")),
                S0 ".degree", "out of range");
    expect_fail(DOC("classification", BIN, SVM("c_svc", "linear", ",\"n_support\":[1]")),
                S0 ".n_support", "1 entries, expected 2");
    expect_fail(DOC("classification", BIN, SVM("c_svc", "linear", ",\"n_support\":[1,-1]")),
                S0 ".n_support[1]", "out of range");
    expect_fail(DOC("classification", BIN, SVM("c_svc", "linear", ",\"n_support\":[0,0]")),
                S0 ".n_support", "0 support vectors");
    expect_fail(DOC("classification", BIN,
                    SVM("c_svc", "linear", ",\"n_support\":[1,1],\"support_vectors\":[[1,0]]")),
                S0 ".support_vectors", "1 entries, expected 2");
    expect_fail(DOC("classification", BIN,
                    SVM("c_svc", "linear", ",\"n_support\":[1,1],"
                        "\"support_vectors\":[[1,0],[0,1,2]]")),
                S0 ".support_vectors[1]", "3 entries, expected 2");
    expect_fail(DOC("classification", BIN,
                    SVM("c_svc", "linear", ",\"n_support\":[1,1],"
                        "\"support_vectors\":[[1,0],[0,1]],\"dual_coef\":[[1,-1],[1,1]]")),
                S0 ".dual_coef", "2 entries, expected 1");
    expect_fail(DOC("classification", BIN,
                    SVM("c_svc", "linear", ",\"n_support\":[1,1],"
                        "\"support_vectors\":[[1,0],[0,1]],\"dual_coef\":[[1,-1]],"
                        "\"intercept\":[0,1]")),
                S0 ".intercept", "2 entries, expected 1");
    expect_fail(DOC("classification", BIN,
                    SVM("c_svc", "linear", ",\"n_support\":[1,1],"
                        "\"support_vectors\":[[1,0],[0,1]],\"dual_coef\":[[1,-1]],"
                        "\"intercept\":[0],\"prob_a\":[1]")),
                S0 ".prob_b", "required field missing");
    expect_fail(DOC("classification", BIN,
                    SVM("c_svc", "linear", ",\"n_support\":[1,1],"
                        "\"support_vectors\":[[1,0],[0,1]],\"dual_coef\":[[1,-1]],"
                        "\"intercept\":[0],\"break_ties\":1")),
                S0 ".break_ties", "expected true or false");
    expect_fail(DOC("classification", BIN,
                    SVM("c_svc", "linear", ",\"n_support\":[1,1],"
                        "\"support_vectors\":[[1,0],[0,1]],\"dual_coef\":[[1,-1]],"
                        "\"intercept\":[0],\"decision_function_shape\":\"ovx\"")),
                S0 ".decision_function_shape", "unknown value");
    expect_fail(DOC("classification", "\"classes\":[-1,1],",
                    SVM("one_class", "linear", ",\"support_vectors\":[[1,1]],"
                        "\"dual_coef\":[[1]],\"intercept\":[-3]")),
                S0 ".offset", "required field missing");
    expect_fail(DOC("regression", "",
                    SVM("epsilon_svr", "linear", ",\"support_vectors\":[]")),
                S0 ".support_vectors", "0 entries");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_linear),
        cmocka_unit_test(test_three_classes_ovr_ovo),
        cmocka_unit_test(test_kernels_and_regression),
        cmocka_unit_test(test_two_class_probability),
        cmocka_unit_test(test_one_class),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
