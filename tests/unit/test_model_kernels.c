/* test_model_kernels.c - each kernel on small hand-written models with answers computed
 * by hand: linear links, scalers, MLP, tree walks (the float32 "le" threshold trick on
 * edge values, "lt", float64 input, NaN routing), forest averaging, boosting with base
 * score and transforms, and batches crossing the kernels' block/group boundaries. */
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

static pd_model_t *load(const char *json)
{
    char err[512];
    pd_model_t *m = NULL;
    int rc = pd_model_load_buffer(json, strlen(json), "t.json", &m, err, sizeof err);
    if (rc)
        fail_msg("load failed: %s", err);
    return m;
}

/* Predicts n rows; returns class indexes / values / probas in caller arrays. */
static void predict(const pd_model_t *m, const double *x, size_t n, int32_t *cls, double *val,
                    double *proba)
{
    void *ws = malloc(pd_model_scratch_size(m, n) + 8);
    pd_predict_out_t out = {cls, val, proba};
    assert_int_equal(pd_model_predict(m, x, n, ws, &out), 0);
    free(ws);
}

#define HDR(task, feats) \
    "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"" task \
    "\",\"features\":" feats ","

static void test_linear_identity_and_scaler(void **st)
{
    (void)st;
    pd_model_t *m = load(HDR("regression", "[\"a\",\"b\"]")
                         "\"steps\":[{\"type\":\"standard_scaler\",\"mean\":[1,2],\"scale\":[2,4]},"
                         "{\"type\":\"linear\",\"link\":\"identity\",\"coef\":[[3,-1]],"
                         "\"intercept\":[0.5]}]}");
    double x[] = {5, 10, 1, 2}, v[2];
    predict(m, x, 2, NULL, v, NULL);
    assert_true(v[0] == 3.0 * 2.0 - 2.0 + 0.5);
    assert_true(v[1] == 0.5);
    const pd_model_schema_t *s = pd_model_schema(m);
    assert_int_equal(s->task, PD_TASK_REGRESSION);
    assert_string_equal(s->feature_names[1], "b");
    pd_model_free(m);
}

static void test_linear_logistic_softmax_ovr(void **st)
{
    (void)st;
    pd_model_t *m = load(HDR("classification", "[\"a\"]") "\"classes\":[\"no\",\"yes\"],"
                         "\"steps\":[{\"type\":\"linear\",\"link\":\"logistic\",\"coef\":[[2]],"
                         "\"intercept\":[-1]}]}");
    double x[] = {1.0, 0.0}, pr[4];
    int32_t c[2];
    predict(m, x, 2, c, NULL, pr);
    double p = 1.0 / (1.0 + exp(-1.0));
    assert_true(pr[1] == p && pr[0] == 1.0 - p && c[0] == 1 && c[1] == 0);
    assert_true(pd_model_schema(m)->labels_are_strings);
    pd_model_free(m);

    m = load(HDR("classification", "[\"a\"]") "\"classes\":[0,1,2],"
             "\"steps\":[{\"type\":\"linear\",\"link\":\"softmax\",\"coef\":[[0],[1],[2]],"
             "\"intercept\":[0,0,0]}]}");
    double x1 = 1.0, e[3] = {exp(-2.0), exp(-1.0), 1.0};
    predict(m, &x1, 1, c, NULL, pr);
    double sum = e[0] + e[1] + e[2];
    assert_int_equal(c[0], 2);
    for (int k = 0; k < 3; k++)
        assert_true(fabs(pr[k] - e[k] / sum) < 1e-15);
    pd_model_free(m);

    m = load(HDR("classification", "[\"a\"]") "\"classes\":[0,1,2],"
             "\"steps\":[{\"type\":\"linear\",\"link\":\"ovr\",\"coef\":[[0],[1],[-1]],"
             "\"intercept\":[0,0,0]}]}");
    predict(m, &x1, 1, c, NULL, pr);
    double s0 = 0.5, s1 = 1 / (1 + exp(-1.0)), s2 = 1 / (1 + exp(1.0));
    assert_int_equal(c[0], 1);
    assert_true(fabs(pr[1] - s1 / (s0 + s1 + s2)) < 1e-15);
    pd_model_free(m);
}

static void test_mlp(void **st)
{
    (void)st;
    /* h = relu(x W1 + b1) with W1 = [[1,-1]], b1 = [0, 0]; out = sigmoid(h . [1, 2] - 1) */
    pd_model_t *m = load(HDR("classification", "[\"a\"]") "\"classes\":[0,1],"
                         "\"steps\":[{\"type\":\"mlp\",\"activation\":\"relu\","
                         "\"output_activation\":\"logistic\",\"layers\":["
                         "{\"weights\":[[1,-1]],\"bias\":[0,0]},"
                         "{\"weights\":[[1],[2]],\"bias\":[-1]}]}]}");
    double x[] = {3.0, -2.0}, pr[4];
    int32_t c[2];
    predict(m, x, 2, c, NULL, pr);
    assert_true(pr[1] == 1 / (1 + exp(-2.0)) && c[0] == 1);       /* h = [3, 0] -> 2 */
    assert_true(pr[3] == 1 / (1 + exp(-3.0)) && c[1] == 1);       /* h = [0, 2] -> 3 */
    pd_model_stats_t s;
    pd_model_stats(m, &s);
    assert_int_equal(s.n_layers, 2);
    pd_model_free(m);
}

/* One split on feature 0 at threshold T, leaves 10 (left) and 20 (right). */
static pd_model_t *stump(const char *cmp, const char *input, const char *thr, const char *miss)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             HDR("regression", "[\"a\",\"b\"]")
             "\"steps\":[{\"type\":\"tree_ensemble\",\"n_outputs\":1,\"aggregate\":\"sum\","
             "\"input_type\":\"%s\",\"comparison\":\"%s\",\"post_transform\":\"identity\","
             "\"trees\":[{\"feature\":[0,-1,-1],\"threshold\":[%s,0,0],\"left\":[1,-1,-1],"
             "\"right\":[2,-1,-1],\"value\":[0,10,20]%s}]}]}",
             input, cmp, thr, miss);
    return load(buf);
}

static double one(const pd_model_t *m, double a)
{
    double x[2] = {a, 0.0}, v;
    predict(m, x, 1, NULL, &v, NULL);
    return v;
}

static void test_tree_le_float32_threshold_trick(void **st)
{
    (void)st;
    /* sklearn: (double)(float)x <= 0.1. (float)0.1 is above 0.1, so x = 0.1 goes right, and
     * the float just below goes left. */
    pd_model_t *m = stump("le", "float32", "0.1", "");
    float f = 0.1f;
    assert_true((double)f > 0.1);
    assert_true(one(m, 0.1) == 20.0);
    assert_true(one(m, (double)nextafterf(f, 0.0f)) == 10.0);
    assert_true(one(m, 0.09999999) == 10.0); /* casts to the float below 0.1f */
    assert_true(one(m, 0.09999999999) == 20.0); /* casts to 0.1f itself */
    pd_model_free(m);
    /* A threshold that is exactly a float: x == t goes left for "le", right for "lt". */
    m = stump("le", "float32", "0.5", "");
    assert_true(one(m, 0.5) == 10.0 && one(m, (double)nextafterf(0.5f, 1.0f)) == 20.0);
    pd_model_free(m);
    m = stump("lt", "float32", "0.5", "");
    assert_true(one(m, 0.5) == 20.0 && one(m, (double)nextafterf(0.5f, 0.0f)) == 10.0);
    pd_model_free(m);
    /* Thresholds beyond float range. */
    m = stump("le", "float32", "1e300", "");
    assert_true(one(m, 1e38) == 10.0 && one(m, INFINITY) == 20.0);
    pd_model_free(m);
    m = stump("le", "float32", "-1e300", "");
    assert_true(one(m, -1e38) == 20.0 && one(m, -INFINITY) == 10.0);
    pd_model_free(m);
}

static void test_tree_float64_input(void **st)
{
    (void)st;
    /* 0.10000000005 <= 0.1000000001 in float64, but its float32 cast (0.100000001...) is
     * above the threshold. */
    pd_model_t *m64 = stump("le", "float64", "0.1000000001", "");
    pd_model_t *m32 = stump("le", "float32", "0.1000000001", "");
    assert_true(one(m64, 0.10000000005) == 10.0);
    assert_true(one(m32, 0.10000000005) == 20.0);
    assert_true(one(m64, 0.1000000001) == 10.0);
    assert_true(one(m64, nextafter(0.1000000001, 1.0)) == 20.0);
    pd_model_free(m64);
    pd_model_free(m32);
}

static void test_tree_nan_routing(void **st)
{
    (void)st;
    pd_model_t *m = stump("le", "float32", "0.5", "");
    assert_true(one(m, NAN) == 20.0); /* default: as the comparison sends it (right) */
    pd_model_free(m);
    m = stump("le", "float32", "0.5", ",\"missing_left\":[1,0,0]");
    assert_true(one(m, NAN) == 10.0 && one(m, 0.7) == 20.0 && one(m, 0.2) == 10.0);
    pd_model_free(m);
    m = stump("le", "float64", "0.5", ",\"missing_left\":[1,0,0]");
    assert_true(one(m, NAN) == 10.0 && one(m, 0.7) == 20.0);
    pd_model_free(m);
}

static const char *forest =
    HDR("classification", "[\"a\",\"b\"]") "\"classes\":[\"x\",\"y\"],"
    "\"steps\":[{\"type\":\"tree_ensemble\",\"n_outputs\":2,\"aggregate\":\"average\","
    "\"input_type\":\"float32\",\"comparison\":\"le\",\"post_transform\":\"normalize\","
    "\"trees\":["
    "{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],\"right\":[2,-1,-1],"
    "\"value\":[0,0,1,0,0.2,0.8]},"
    "{\"feature\":[1,-1,1,-1,-1],\"threshold\":[0,0,2,0,0],\"left\":[1,-1,3,-1,-1],"
    "\"right\":[2,-1,4,-1,-1],\"value\":[0,0,0.5,0.5,0,0,1,0,0,1]},"
    "{\"feature\":[-1],\"threshold\":[0],\"left\":[-1],\"right\":[-1],\"value\":[0.3,0.7]}"
    "]}]}";

static void test_forest_average(void **st)
{
    (void)st;
    pd_model_t *m = load(forest);
    double x[] = {0.0, -1.0, 0.0, 1.5, 1.0, 3.0};
    double pr[6];
    int32_t c[3];
    predict(m, x, 3, c, NULL, pr);
    /* row 0: [1,0] + [.5,.5] + [.3,.7] */
    assert_true(pr[0] == (1.0 + 0.5 + 0.3) / 3 && pr[1] == (0.0 + 0.5 + 0.7) / 3);
    assert_int_equal(c[0], 0);
    /* row 1: [1,0] + [1,0] + [.3,.7] */
    assert_true(pr[2] == (1.0 + 1.0 + 0.3) / 3 && c[1] == 0);
    /* row 2: [.2,.8] + [0,1] + [.3,.7] */
    assert_true(pr[5] == (0.8 + 1.0 + 0.7) / 3 && c[2] == 1);
    pd_model_stats_t s;
    pd_model_stats(m, &s);
    assert_int_equal(s.n_trees, 3);
    assert_int_equal(s.n_nodes, 9);
    assert_true(s.bytes > 0);
    pd_model_free(m);
}

static void test_boosting_sum_base_logistic_softmax(void **st)
{
    (void)st;
    pd_model_t *m = load(
        HDR("classification", "[\"a\"]") "\"classes\":[0,1],"
        "\"steps\":[{\"type\":\"tree_ensemble\",\"n_outputs\":1,\"aggregate\":\"sum\","
        "\"base_score\":[-0.25],\"input_type\":\"float32\",\"comparison\":\"le\","
        "\"post_transform\":\"logistic\",\"trees\":["
        "{\"feature\":[0,-1,-1],\"threshold\":[0,0,0],\"left\":[1,-1,-1],\"right\":[2,-1,-1],"
        "\"value\":[0,-1,1]},"
        "{\"feature\":[-1],\"threshold\":[0],\"left\":[-1],\"right\":[-1],\"value\":[0.5]}]}]}");
    double x[] = {1.0, -1.0}, pr[4];
    int32_t c[2];
    predict(m, x, 2, c, NULL, pr);
    assert_true(pr[1] == 1 / (1 + exp(-((-0.25 + 1) + 0.5))) && c[0] == 1);
    assert_true(pr[3] == 1 / (1 + exp(-((-0.25 - 1) + 0.5))) && c[1] == 0);
    pd_model_free(m);

    /* multiclass boosting: one tree per class (output), softmax */
    m = load(HDR("classification", "[\"a\"]") "\"classes\":[0,1,2],"
             "\"steps\":[{\"type\":\"tree_ensemble\",\"n_outputs\":3,\"aggregate\":\"sum\","
             "\"base_score\":[0.1,0.2,0.3],\"input_type\":\"float32\",\"comparison\":\"le\","
             "\"post_transform\":\"softmax\",\"trees\":["
             "{\"output\":0,\"feature\":[-1],\"threshold\":[0],\"left\":[-1],\"right\":[-1],"
             "\"value\":[2]},"
             "{\"output\":2,\"feature\":[0,-1,-1],\"threshold\":[0,0,0],\"left\":[1,-1,-1],"
             "\"right\":[2,-1,-1],\"value\":[0,0,5]}]}]}");
    double x1 = 1.0;
    predict(m, &x1, 1, c, NULL, pr);
    double z[3] = {2.1, 0.2, 5.3}, e[3], sum = 0;
    for (int k = 0; k < 3; k++)
        sum += (e[k] = exp(z[k] - 5.3));
    assert_int_equal(c[0], 2);
    for (int k = 0; k < 3; k++)
        assert_true(fabs(pr[k] - e[k] / sum) < 1e-15);
    pd_model_free(m);
}

/* Batches of every size up to 150 give the same answers as rows one at a time. */
static void test_batches_match_single_rows(void **st)
{
    (void)st;
    pd_model_t *m = load(forest);
    enum { N = 150 };
    double *x = malloc(N * 2 * sizeof *x), *pb = malloc(N * 2 * sizeof *pb);
    int32_t *cb = malloc(N * sizeof *cb);
    for (int i = 0; i < N * 2; i++)
        x[i] = (i % 7 == 3) ? NAN : (double)((i * 37) % 11) / 3.0 - 1.0;
    for (size_t n = 0; n <= N; n += (n < 20 ? 1 : 13)) {
        predict(m, x, n, cb, NULL, pb);
        for (size_t r = 0; r < n; r++) {
            double p1[2];
            int32_t c1;
            predict(m, x + r * 2, 1, &c1, NULL, p1);
            assert_true(c1 == cb[r] && p1[0] == pb[r * 2] && p1[1] == pb[r * 2 + 1]);
        }
    }
    pd_predict_out_t none = {NULL, NULL, NULL};
    assert_int_equal(pd_model_predict(m, NULL, 0, NULL, &none), 0);
    assert_int_equal(pd_model_predict(m, x, 1, NULL, &none), PD_EINVAL);
    free(x), free(pb), free(cb);
    pd_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_identity_and_scaler),
        cmocka_unit_test(test_linear_logistic_softmax_ovr),
        cmocka_unit_test(test_mlp),
        cmocka_unit_test(test_tree_le_float32_threshold_trick),
        cmocka_unit_test(test_tree_float64_input),
        cmocka_unit_test(test_tree_nan_routing),
        cmocka_unit_test(test_forest_average),
        cmocka_unit_test(test_boosting_sum_base_logistic_softmax),
        cmocka_unit_test(test_batches_match_single_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
