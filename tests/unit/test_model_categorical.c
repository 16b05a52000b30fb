/* test_model_categorical.c - categorical_nb (CategoricalNB) on a hand-written two-feature
 * model: the joint log likelihood summed in scikit-learn's order (bit for bit), labels,
 * probabilities (logsumexp), category indexes truncated as numpy's astype(int) does,
 * pd_model_check's refusal of values that are not categories (with row, feature and
 * reason), and the loader's refusals of malformed parts with their paths (under ASan). */
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

#define DOC(steps) \
    "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":" \
    "\"classification\",\"features\":[\"a\",\"b\"],\"classes\":[0,1],\"steps\":[" steps "]}"
/* a: 3 categories, b: 2; feature_log_prob as sklearn holds it (n_classes x n_categories) */
#define FLP "[[[-1.5,-0.25,-2.0],[-0.75,-1.25,-3.5]],[[-0.5,-1.0],[-2.25,-0.125]]]"
#define NB(flp, prior) \
    "{\"type\":\"categorical_nb\",\"feature_log_prob\":" flp ",\"class_log_prior\":" prior "}"
#define GOOD NB(FLP, "[-0.7,-0.3]")

static const double A[2][3] = {{-1.5, -0.25, -2.0}, {-0.75, -1.25, -3.5}};
static const double B[2][2] = {{-0.5, -1.0}, {-2.25, -0.125}};
static const double PRIOR[2] = {-0.7, -0.3};

static void test_predict(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC(GOOD));
    const pd_model_schema_t *s = pd_model_schema(m);
    assert_true(s->proba_ok);
    assert_int_equal(s->n_outputs, 1);
    assert_string_equal(s->outputs[0].name, "predict_joint_log_proba");
    assert_int_equal(s->outputs[0].width, 2);
    /* rows: (2, 1); (1.7, 0.2) -> categories (1, 0), numpy's truncation; (-0.5, 1.99) ->
     * (0, 1) */
    const double x[] = {2, 1, 1.7, 0.2, -0.5, 1.99};
    const int ca[] = {2, 1, 0}, cb[] = {1, 0, 1};
    int32_t cls[3];
    double pr[6], jll[6];
    run_ex(m, x, 3, cls, NULL, pr, jll, NULL);
    for (int r = 0; r < 3; r++) {
        double t[2];
        for (int k = 0; k < 2; k++) {
            double acc = 0.0;
            acc += A[k][ca[r]];
            acc += B[k][cb[r]];
            t[k] = acc + PRIOR[k];
            assert_true(jll[r * 2 + k] == t[k]); /* bit for bit */
        }
        assert_int_equal(cls[r], t[1] > t[0] ? 1 : 0);
        double mx = t[0] > t[1] ? t[0] : t[1];
        double lse = log(exp(t[0] - mx) + exp(t[1] - mx)) + mx;
        for (int k = 0; k < 2; k++)
            assert_true(pr[r * 2 + k] == exp(t[k] - lse));
    }
    char desc[128];
    pd_model_describe(m, desc, sizeof desc);
    assert_string_equal(desc, "categorical_nb(2 classes x 2 features, 5 categories)");
    pd_model_free(m);
}

static void expect_refused(const pd_model_t *m, const double *x, size_t n, size_t row,
                           const char *want)
{
    size_t bad = 99;
    char msg[PD_MODEL_CHECK_MSG];
    assert_int_equal(pd_model_check(m, x, n, &bad, msg, sizeof msg), PD_EINVAL);
    assert_int_equal(bad, row);
    assert_string_equal(msg, want);
}

static void test_check(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC(GOOD));
    size_t bad;
    char msg[PD_MODEL_CHECK_MSG];
    const double ok[] = {0, 0, 2.999, 1.5, -0.999, 0};
    assert_int_equal(pd_model_check(m, ok, 3, &bad, msg, sizeof msg), 0);
    const double x[] = {0, 0, 2, 1, 3, 0};
    expect_refused(m, x, 3, 2, "feature 'a': 3 is not one of its categories: CategoricalNB "
                   "takes the category's index, an integer from 0 to 2 (the categories it was "
                   "fitted on)");
    const double neg[] = {0, -1};
    expect_refused(m, neg, 1, 0, "feature 'b': -1 is not one of its categories: CategoricalNB "
                   "takes the category's index, an integer from 0 to 1 (the categories it was "
                   "fitted on)");
    const double nan[] = {1, 1, NAN, 0};
    expect_refused(m, nan, 2, 1, "feature 'a': nan is not one of its categories: CategoricalNB "
                   "takes the category's index, an integer from 0 to 2 (the categories it was "
                   "fitted on)");
    const double big[] = {1e300, 0};
    assert_int_equal(pd_model_check(m, big, 1, &bad, msg, sizeof msg), PD_EINVAL);
    /* the kernel itself never reads outside the table: NaN scores, a valid class index */
    int32_t cls;
    double pr[2], jll[2];
    run_ex(m, big, 1, &cls, NULL, pr, jll, NULL);
    assert_true(cls >= 0 && cls < 2 && isnan(jll[0]) && isnan(pr[1]));
    pd_model_free(m);

    /* other models check nothing */
    m = load("{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":"
             "\"regression\",\"features\":[\"a\"],\"steps\":[{\"type\":\"linear\",\"link\":\"identity\",\"coef\":"
             "[[2]],\"intercept\":[1]}]}");
    const double any[] = {-1e300};
    assert_int_equal(pd_model_check(m, any, 1, &bad, msg, sizeof msg), 0);
    pd_model_free(m);
}

static void test_refusals(void **st)
{
    (void)st;
    expect_fail(DOC("{\"type\":\"categorical_nb\",\"class_log_prior\":[0,0]}"),
                "$.steps[0].feature_log_prob", "required field missing");
    expect_fail(DOC(NB(FLP, "[0]")), "$.steps[0].class_log_prior", "1 entries, expected 2");
    expect_fail(DOC(NB("[[[-1,-1],[-1,-1]]]", "[0,0]")), "$.steps[0].feature_log_prob",
                "1 entries, expected 2");
    expect_fail(DOC(NB("[[[-1],[-1]],[[-1]]]", "[0,0]")), "$.steps[0].feature_log_prob[1]",
                "1 entries, expected 2");
    expect_fail(DOC(NB("[[[-1],[-1]],[[],[]]]", "[0,0]")),
                "$.steps[0].feature_log_prob[1][0]", "0 categories (expected 1..");
    expect_fail(DOC(NB("[[[-1],[-1]],[-1,-1]]", "[0,0]")),
                "$.steps[0].feature_log_prob[1][0]", "expected");
    expect_fail(DOC(NB("[[[-1,-2],[-1]],[[-1],[-1]]]", "[0,0]")),
                "$.steps[0].feature_log_prob[0][1]", "1 entries, expected 2");
    expect_fail(DOC(NB("[[[-1,-2],[-1,\"x\"]],[[-1],[-1]]]", "[0,0]")),
                "$.steps[0].feature_log_prob[0][1][1]", "number");
    expect_fail("{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":"
                "\"regression\",\"features\":[\"a\",\"b\"],\"steps\":[" GOOD "]}",
                "$.steps[0]", "needs a classification model");
    /* only as the model's only step */
    expect_fail(DOC("{\"type\":\"standard_scaler\",\"mean\":[0,0],\"scale\":[1,1]}," GOOD),
                "$.steps[1]", "must be the model's only step");
    expect_fail(DOC("{\"type\":\"ensemble\",\"combine\":\"soft\",\"members\":[{\"step\":" GOOD
                    "}]}"),
                "$.steps[0].members[0].step.type", "cannot be a member of \"ensemble\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_predict),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
