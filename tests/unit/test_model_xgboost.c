/* test_model_xgboost.c - the XGBoost JSON loader on small hand-written files in the 1.7
 * schema: float32 margins from base_score + leaves, default_left routing, feature names,
 * objectives' outputs, categorical splits, and refusals (DART, gblinear, malformed
 * categorical splits, other objectives,
 * inconsistent tree_info / feature names). Parity with libxgboost itself is checked by
 * tests/e2e/test_parity_xgboost.py. */
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

/* One tree: split feature 1 at 0.25 (NaN left), leaves -0.4 / 0.6. */
#define TREE(id) \
    "{\"id\":" #id ",\"left_children\":[1,-1,-1],\"right_children\":[2,-1,-1]," \
    "\"split_indices\":[1,0,0],\"split_conditions\":[0.25,-0.4,0.6],\"default_left\":[1,0,0]," \
    "\"split_type\":[0,0,0],\"categories\":[],\"base_weights\":[0,0,0]}"

static char *doc(const char *objective, const char *base, const char *ncls, const char *names,
                 const char *booster, const char *trees, const char *info)
{
    char *s = malloc(4096);
    snprintf(s, 4096,
             "{\"learner\":{\"attributes\":{},\"feature_names\":%s,\"feature_types\":[],"
             "\"gradient_booster\":{\"name\":\"%s\",\"model\":{\"gbtree_model_param\":{},"
             "\"tree_info\":%s,\"trees\":[%s]}},"
             "\"learner_model_param\":{\"base_score\":\"%s\",\"num_class\":\"%s\","
             "\"num_feature\":\"2\",\"num_target\":\"1\"},"
             "\"objective\":{\"name\":\"%s\"}},\"version\":[1,7,4]}",
             names, booster, info, trees, base, ncls, objective);
    return s;
}

static pd_model_t *load_ok(char *json)
{
    char err[512];
    pd_model_t *m = NULL;
    int rc = pd_model_load_buffer(json, strlen(json), "dir/xg.json", &m, err, sizeof err);
    free(json);
    if (rc)
        fail_msg("load failed: %s", err);
    return m;
}

static void run(const pd_model_t *m, const double *x, size_t n, int32_t *c, double *v, double *p)
{
    void *ws = malloc(pd_model_scratch_size(m, n));
    pd_predict_out_t out = {c, v, p};
    assert_int_equal(pd_model_predict(m, x, n, ws, &out), 0);
    free(ws);
}

static void test_binary_logistic_float32(void **st)
{
    (void)st;
    pd_model_t *m = load_ok(doc("binary:logistic", "3E-1", "0", "[\"a\",\"b\"]", "gbtree",
                                TREE(0) "," TREE(1), "[0,0]"));
    const pd_model_schema_t *s = pd_model_schema(m);
    assert_string_equal(s->name, "xg");
    assert_string_equal(s->source, "xgboost");
    assert_string_equal(s->feature_names[1], "b");
    assert_int_equal(s->n_classes, 2);
    assert_int_equal(s->class_labels_int[1], 1);
    double x[] = {0, 0.1, 0, 0.25, 0, NAN}, p[6];
    int32_t c[3];
    run(m, x, 3, c, NULL, p);
    float base = -logf(1.0f / 0.3f - 1.0f);
    float lo = (base + -0.4f) + -0.4f, hi = (base + 0.6f) + 0.6f;
    float plo = 1.0f / (1.0f + expf(-lo)), phi = 1.0f / (1.0f + expf(-hi));
    assert_true(p[1] == (double)plo && p[0] == (double)(1.0f - plo)); /* 0.1 < 0.25: left */
    assert_true(p[3] == (double)phi);                                 /* 0.25: right */
    assert_true(p[5] == (double)plo);                                 /* NaN: default_left */
    assert_true(c[0] == (plo > 0.5f) && c[1] == 1);
    pd_model_free(m);
}

/* XGBoost clamps the sigmoid's exponent at 88.7: a margin of -100 gives ~3e-39, not 0. */
static void test_sigmoid_clamp(void **st)
{
    (void)st;
    pd_model_t *m = load_ok(doc("binary:logistic", "5E-1", "0", "[]", "gbtree",
                                "{\"left_children\":[-1],\"right_children\":[-1],"
                                "\"split_indices\":[0],\"split_conditions\":[-100],"
                                "\"default_left\":[0]}", "[0]"));
    double x[] = {0, 0}, p[2];
    int32_t c;
    run(m, x, 1, &c, NULL, p);
    float want = 1.0f / (expf(88.7f) + 1.0f + 1e-16f);
    assert_true(want > 0.0f && p[1] == (double)want && c == 0);
    pd_model_free(m);
}

static void test_regression_and_generated_names(void **st)
{
    (void)st;
    pd_model_t *m = load_ok(doc("reg:squarederror", "5E-1", "0", "[]", "gbtree", TREE(0),
                                "[0]"));
    assert_string_equal(pd_model_schema(m)->feature_names[0], "f0");
    assert_int_equal(pd_model_schema(m)->task, PD_TASK_REGRESSION);
    double x[] = {0, 1}, v;
    run(m, x, 1, NULL, &v, NULL);
    assert_true(v == (double)(0.5f + 0.6f));
    pd_model_free(m);
}

static void test_multiclass_softprob(void **st)
{
    (void)st;
    pd_model_t *m = load_ok(doc("multi:softprob", "5E-1", "3", "[]", "gbtree",
                                TREE(0) "," TREE(1) "," TREE(2) "," TREE(3), "[0,1,2,2]"));
    double x[] = {0, 1}, p[3];
    int32_t c;
    run(m, x, 1, &c, NULL, p);
    float z[3] = {0.5f + 0.6f, 0.5f + 0.6f, (0.5f + 0.6f) + 0.6f};
    double sum = 0;
    for (int k = 0; k < 3; k++)
        sum += expf(z[k] - z[2]);
    assert_true(p[2] == (double)(expf(0.0f) / (float)sum));
    assert_int_equal(c, 2);
    pd_model_free(m);
}

/* One tree, a categorical split on feature 1 (NaN left) sending categories `cats` right. */
#define CAT_TREE(cats, nodes, segs, sizes) \
    "{\"left_children\":[1,-1,-1],\"right_children\":[2,-1,-1],\"split_indices\":[1,0,0]," \
    "\"split_conditions\":[NaN,-0.4,0.6],\"default_left\":[1,0,0],\"split_type\":[1,0,0]," \
    "\"categories\":" cats ",\"categories_nodes\":" nodes ",\"categories_segments\":" segs \
    ",\"categories_sizes\":" sizes "}"

/* enable_categorical: the listed categories go right; any other value (unseen, negative,
 * past 2^24) left; NaN by default_left; fractional values truncate. Numeric trees beside. */
static void test_categorical_split(void **st)
{
    (void)st;
    pd_model_t *m = load_ok(doc("reg:squarederror", "0", "0", "[]", "gbtree",
                                CAT_TREE("[1,3,40]", "[0]", "[0]", "[3]") "," TREE(1),
                                "[0,0]"));
    /* second tree: x1 < 0.25 -> -0.4 else 0.6 (NaN left) */
    const double x1[] = {1, 3, 40, 3.7, 0, 2, 41, 39, 1e7, 2e7, -1, -0.5, NAN};
    const int right[] = {1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    enum { N = sizeof x1 / sizeof *x1 };
    double x[2 * N], v[N];
    for (size_t i = 0; i < N; i++)
        x[2 * i] = 0, x[2 * i + 1] = x1[i];
    run(m, x, N, NULL, v, NULL);
    for (size_t i = 0; i < N; i++) {
        float first = right[i] ? 0.6f : -0.4f;
        float second = x1[i] < 0.25 || isnan(x1[i]) ? -0.4f : 0.6f;
        if (v[i] != (double)((0.0f + first) + second))
            fail_msg("row %zu (x1=%g): got %g", i, x1[i], v[i]);
    }
    pd_model_free(m);
}

/* count:poisson and friends: base_score is a mean (margin logf(base)), output expf(margin);
 * rank:* predict the raw margin. */
static void test_exp_and_rank_objectives(void **st)
{
    (void)st;
    static const char *const exp_objs[] = {"count:poisson", "reg:gamma", "reg:tweedie",
                                           "survival:cox", "survival:aft"};
    double x[] = {0, 0.1}, v;
    for (size_t i = 0; i < sizeof exp_objs / sizeof *exp_objs; i++) {
        pd_model_t *m = load_ok(doc(exp_objs[i], "2.5E0", "0", "[]", "gbtree", TREE(0), "[0]"));
        assert_int_equal(pd_model_schema(m)->task, PD_TASK_REGRESSION);
        run(m, x, 1, NULL, &v, NULL);
        float z = logf(2.5f) + -0.4f; /* survival:aft: exp in double, as XGBoost */
        assert_true(v == (i == 4 ? (double)(float)exp((double)z) : (double)expf(z)));
        char d[256];
        pd_model_describe(m, d, sizeof d); /* names the transform (no read past a table) */
        assert_non_null(strstr(d, i == 4 ? "exp (double)" : "exp"));
        pd_model_free(m);
    }
    static const char *const raw_objs[] = {"rank:pairwise", "rank:ndcg", "rank:map",
                                           "reg:absoluteerror", "reg:pseudohubererror"};
    for (size_t i = 0; i < sizeof raw_objs / sizeof *raw_objs; i++) {
        pd_model_t *m = load_ok(doc(raw_objs[i], "5E-1", "0", "[]", "gbtree", TREE(0), "[0]"));
        run(m, x, 1, NULL, &v, NULL);
        assert_true(v == (double)(0.5f + -0.4f));
        pd_model_free(m);
    }
}

static void expect_refused(char *json, const char *path, const char *reason)
{
    char err[512];
    pd_model_t *m = NULL;
    int rc = pd_model_load_buffer(json, strlen(json), "xg.json", &m, err, sizeof err);
    free(json);
    assert_true(rc < 0);
    assert_null(m);
    char want[256];
    snprintf(want, sizeof want, "xg.json: %s: ", path);
    if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, reason))
        fail_msg("message \"%s\" lacks \"%s\" + \"%s\"", err, want, reason);
}

static void test_refusals(void **st)
{
    (void)st;
    expect_refused(doc("binary:logistic", "5E-1", "0", "[]", "dart", TREE(0), "[0]"),
                   "$.learner.gradient_booster.name", "only gbtree");
    expect_refused(doc("binary:logistic", "5E-1", "0", "[]", "gblinear", TREE(0), "[0]"),
                   "$.learner.gradient_booster.name", "not supported");
    expect_refused(doc("binary:hinge", "5E-1", "0", "[]", "gbtree", TREE(0), "[0]"),
                   "$.learner.objective.name", "unknown value \"binary:hinge\"");
    expect_refused(doc("count:poisson", "0", "0", "[]", "gbtree", TREE(0), "[0]"),
                   "$.learner.learner_model_param.base_score", "> 0 for objective");
    expect_refused(doc("reg:squarederror", "5E-1", "0", "[]", "gbtree",
                       "{\"left_children\":[1,-1,-1],\"right_children\":[2,-1,-1],"
                       "\"split_indices\":[1,0,0],\"split_conditions\":[NaN,-0.4,0.6],"
                       "\"default_left\":[1,0,0],\"split_type\":[0,0,0]}", "[0]"),
                   "$.learner.gradient_booster.model.trees[0].split_conditions[0]",
                   "threshold of node 0 is not finite");
    expect_refused(doc("reg:squarederror", "5E-1", "0", "[]", "gbtree",
                       "{\"left_children\":[1,-1,-1],\"right_children\":[2,-1,-1],"
                       "\"split_indices\":[1,0,0],\"split_conditions\":[1,-Infinity,0.6],"
                       "\"default_left\":[1,0,0]}", "[0]"),
                   "$.learner.gradient_booster.model.trees[0].split_conditions[1]",
                   "leaf value of node 1 is not finite");
    expect_refused(doc("binary:logistic", "5E-1", "0", "[]", "gbtree",
                       CAT_TREE("[1,2]", "[0]", "[0]", "[1,1]"), "[0]"),
                   "$.learner.gradient_booster.model.trees[0].categories_segments",
                   "differ in length (1, 1, 2)");
    expect_refused(doc("binary:logistic", "5E-1", "0", "[]", "gbtree",
                       CAT_TREE("[1,2]", "[1]", "[0]", "[2]"), "[0]"),
                   "$.learner.gradient_booster.model.trees[0].categories_nodes[0]",
                   "node 1 is not a categorical split");
    expect_refused(doc("binary:logistic", "5E-1", "0", "[]", "gbtree",
                       CAT_TREE("[1,2]", "[0]", "[1]", "[2]"), "[0]"),
                   "$.learner.gradient_booster.model.trees[0].categories_nodes[0]",
                   "past the 2 categories");
    expect_refused(doc("binary:logistic", "5E-1", "0", "[]", "gbtree",
                       CAT_TREE("[1,2000000]", "[0]", "[0]", "[2]"), "[0]"),
                   "$.learner.gradient_booster.model.trees[0].categories[1]",
                   "out of range");
    expect_refused(doc("binary:logistic", "5E-1", "0", "[]", "gbtree",
                       CAT_TREE("[]", "[]", "[]", "[]"), "[0]"),
                   "$.learner.gradient_booster.model.trees[0].categories_nodes", "0 entries");
    expect_refused(doc("binary:logistic", "5E-1", "0", "[]", "gbtree",
                       "{\"left_children\":[1,-1,-1],\"right_children\":[2,-1,-1],"
                       "\"split_indices\":[1,0,0],\"split_conditions\":[NaN,-0.4,0.6],"
                       "\"default_left\":[1,0,0],\"split_type\":[1,0,0]}", "[0]"),
                   "$.learner.gradient_booster.model.trees[0].categories", "missing");
    expect_refused(doc("binary:logistic", "5E-1", "0", "[]", "gbtree", TREE(0), "[0,0]"),
                   "$.learner.gradient_booster.model.tree_info", "2 entries");
    expect_refused(doc("multi:softprob", "5E-1", "2", "[]", "gbtree", TREE(0), "[2]"),
                   "$.learner.gradient_booster.model.tree_info[0]", "out of range");
    expect_refused(doc("binary:logistic", "5E-1", "0", "[\"a\"]", "gbtree", TREE(0), "[0]"),
                   "$.learner.feature_names", "has 1 names but num_feature is 2");
    expect_refused(doc("binary:logistic", "1.5", "0", "[]", "gbtree", TREE(0), "[0]"),
                   "$.learner.learner_model_param.base_score", "(0, 1)");
    expect_refused(doc("binary:logistic", "x", "0", "[]", "gbtree", TREE(0), "[0]"),
                   "$.learner.learner_model_param.base_score", "expected a number");
    expect_refused(doc("multi:softmax", "5E-1", "0", "[]", "gbtree", TREE(0), "[0]"),
                   "$.learner.learner_model_param.num_class", "does not fit");
    expect_refused(doc("binary:logistic", "5E-1", "0", "[]", "gbtree",
                       "{\"left_children\":[1,-1,-1],\"right_children\":[9,-1,-1],"
                       "\"split_indices\":[1,0,0],\"split_conditions\":[0.25,-0.4,0.6],"
                       "\"default_left\":[1,0,0]}", "[0]"),
                   "$.learner.gradient_booster.model.trees[0].right_children[0]",
                   "child index 9 out of range (3 nodes)");
    expect_refused(doc("binary:logistic", "5E-1", "0", "[]", "gbtree",
                       "{\"left_children\":[1,-1,-1],\"right_children\":[2,-1,-1],"
                       "\"split_indices\":[7,0,0],\"split_conditions\":[0.25,-0.4,0.6],"
                       "\"default_left\":[1,0,0]}", "[0]"),
                   "$.learner.gradient_booster.model.trees[0].split_indices[0]",
                   "feature index 7 out of range (2 features)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_logistic_float32),
        cmocka_unit_test(test_sigmoid_clamp),
        cmocka_unit_test(test_regression_and_generated_names),
        cmocka_unit_test(test_multiclass_softprob),
        cmocka_unit_test(test_exp_and_rank_objectives),
        cmocka_unit_test(test_categorical_split),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
