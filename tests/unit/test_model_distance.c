/* test_model_distance.c - the distance-based types on hand-computed models: neighbours
 * (uniform and distance weights, the zero-distance rule, ties kept in scan order as
 * scikit-learn's heap keeps them, regression, every metric), centroids (label, transform
 * output), the projection transformer (centring, whitening, width change) and the
 * isolation forest composite; then every malformed field refused with its path. */
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

#define DOC(task, classes, steps) \
    "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"" task \
    "\",\"features\":[\"a\",\"b\"]," classes "\"steps\":[" steps "]}"
#define KNN(more) "{\"type\":\"neighbors\"" more "}"
/* Training rows on a line: (0,0) c0, (1,0) c1, (2,0) c1, (3,0) c0, (1,0) c0 (a tie of 2). */
#define ROWS ",\"x\":[[0,0],[1,0],[2,0],[3,0],[1,0]],\"y\":[0,1,1,0,0]"

static void test_neighbors_classifier(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("classification", "\"classes\":[\"p\",\"q\"],",
                             KNN(",\"metric\":\"euclidean\",\"weights\":\"uniform\","
                                 "\"n_neighbors\":2" ROWS)));
    /* x = (1.2, 0): distances 1.2, 0.2, 0.8, 1.8, 0.2. The heap holds rows 1 and 2 when
     * row 4 comes; 0.2 < 0.8 replaces row 2. Neighbours rows 1 (c1) and 4 (c0): one vote
     * each, the first class wins. */
    double x[] = {1.2, 0}, pr[2];
    int32_t c;
    run(m, x, 1, &c, NULL, pr, NULL, NULL);
    assert_int_equal(c, 0);
    assert_true(pr[0] == 0.5 && pr[1] == 0.5);
    pd_model_free(m);

    m = load(DOC("classification", "\"classes\":[\"p\",\"q\"],",
                 KNN(",\"metric\":\"manhattan\",\"weights\":\"distance\","
                     "\"n_neighbors\":3" ROWS)));
    double y[] = {2.5, 1}; /* manhattan: rows 2 (1.5), 3 (1.5), 1 (2.5) or 4 (2.5) */
    run(m, y, 1, &c, NULL, pr, NULL, NULL);
    /* row 1 is scanned before row 4, so it stays: weights 1/1.5 (c1), 1/1.5 (c0), 1/2.5 (c1) */
    double w1 = 1 / 1.5 + 1 / 2.5, w0 = 1 / 1.5;
    assert_int_equal(c, 1);
    assert_true(fabs(pr[1] - w1 / (w0 + w1)) < 1e-15);
    double z[] = {3, 0}; /* at row 3: zero distance -> only it counts */
    run(m, z, 1, &c, NULL, pr, NULL, NULL);
    assert_true(c == 0 && pr[0] == 1.0 && pr[1] == 0.0);
    pd_model_free(m);
}

static void test_neighbors_regression_and_metrics(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("regression", "",
                             KNN(",\"metric\":\"chebyshev\",\"weights\":\"uniform\","
                                 "\"n_neighbors\":2,\"x\":[[0,0],[1,5],[4,1]],"
                                 "\"y\":[10,20,40]")));
    double x[] = {2, 2}, v; /* chebyshev: 2, 3, 2 -> rows 0 and 2 */
    run(m, x, 1, NULL, &v, NULL, NULL, NULL);
    assert_true(v == 25.0);
    pd_model_free(m);
    m = load(DOC("regression", "",
                 KNN(",\"metric\":\"minkowski\",\"p\":3,\"weights\":\"distance\","
                     "\"n_neighbors\":2,\"x\":[[0,0],[1,1],[5,5]],\"y\":[10,20,40]")));
    double y[] = {0, 1}; /* distances: 1, 1 (rows 0, 1) */
    run(m, y, 1, NULL, &v, NULL, NULL, NULL);
    assert_true(fabs(v - 15.0) < 1e-12);
    char d[160];
    pd_model_describe(m, d, sizeof d);
    assert_non_null(strstr(d, "minkowski p=3"));
    pd_model_free(m);
}

static void test_radius(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("classification", "\"classes\":[\"p\",\"q\"],",
                             KNN(",\"metric\":\"euclidean\",\"weights\":\"distance\","
                                 "\"radius\":1.0,\"outlier_class\":1" ROWS)));
    /* x = (0.5, 0): rows 0 (0.5, c0), 1 (0.5, c1), 4 (0.5, c0) within 1 (row 2 at 1.5) */
    double x[] = {0.5, 0, 10, 10, 3, 0}, pr[6];
    int32_t c[3];
    run(m, x, 3, c, NULL, pr, NULL, NULL);
    assert_true(c[0] == 0 && fabs(pr[0] - 2.0 / 3) < 1e-15);
    assert_true(c[1] == 1 && pr[2] == 0.0 && pr[3] == 1.0); /* no neighbour: outlier class */
    assert_true(c[2] == 0 && pr[4] == 1.0);                  /* on row 3: zero distance */
    pd_model_free(m);
    m = load(DOC("regression", "", KNN(",\"metric\":\"manhattan\",\"weights\":\"uniform\","
                                       "\"radius\":2,\"x\":[[0,0],[1,1],[5,5]],"
                                       "\"y\":[10,20,40]")));
    double y[] = {0.5, 0.5, 9, 9}, v[2]; /* rows 0 and 1 (distance 1); none */
    run(m, y, 2, NULL, v, NULL, NULL, NULL);
    assert_true(v[0] == 15.0 && isnan(v[1]));
    pd_model_free(m);
}

static void test_centroids_and_projection(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("classification", "\"classes\":[0,1,2],",
                             "{\"type\":\"projection\",\"mean\":[1,1],\"components\":[[1,0],"
                             "[0,2],[1,1]],\"scale\":[1,2,1]},"
                             "{\"type\":\"centroids\",\"transform\":true,\"centers\":"
                             "[[0,0,0],[3,0,0],[0,0,5]]}"));
    /* x = (3, 1) -> (2, 0, 2): distances sqrt(8), sqrt(5), sqrt(13) -> cluster 1 */
    double x[] = {3, 1}, t[3];
    int32_t c;
    run(m, x, 1, &c, NULL, NULL, t, NULL);
    assert_int_equal(c, 1);
    assert_true(t[0] == sqrt(8) && t[1] == sqrt(5) && t[2] == sqrt(13));
    assert_int_equal(pd_model_schema(m)->proba_ok, 0);
    assert_string_equal(pd_model_schema(m)->outputs[0].name, "transform");
    pd_model_free(m);
}

/* One stump: x <= 0.5 -> leaf value 2, else 4; two copies -> sum 4 or 8. */
#define STUMP \
    "{\"feature\":[1,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1]," \
    "\"right\":[2,-1,-1],\"value\":[0,2,4]}"
#define FOREST(trees) \
    "{\"type\":\"tree_ensemble\",\"n_outputs\":1,\"aggregate\":\"sum\",\"input_type\":" \
    "\"float32\",\"comparison\":\"le\",\"post_transform\":\"identity\",\"trees\":[" trees "]}"

static void test_isolation_forest(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC("classification", "\"classes\":[-1,1],",
                             "{\"type\":\"isolation_forest\",\"denominator\":8,\"offset\":-0.6,"
                             "\"forest\":" FOREST(STUMP "," STUMP) "}"));
    double x[] = {0, 0, 0, 1}, s[2], d[2];
    int32_t c[2];
    run(m, x, 2, c, NULL, NULL, s, d);
    assert_true(s[0] == -pow(2.0, -0.5) && s[1] == -pow(2.0, -1.0));
    assert_true(d[0] == s[0] + 0.6 && d[1] == s[1] + 0.6);
    assert_true(c[0] == 0 && c[1] == 1); /* -0.707 + 0.6 < 0: outlier (-1) */
    pd_model_stats_t stt;
    pd_model_stats(m, &stt);
    assert_int_equal(stt.n_trees, 2);
    pd_model_free(m);
}

#define S0 "$.steps[0]"
static void test_refusals(void **st)
{
    (void)st;
    expect_fail(DOC("classification", "\"classes\":[0,1],", KNN(",\"metric\":\"cosine\"")),
                S0 ".metric", "unknown value \"cosine\"");
    expect_fail(DOC("classification", "\"classes\":[0,1],",
                    KNN(",\"metric\":\"minkowski\",\"weights\":\"uniform\",\"p\":0.5")),
                S0 ".p", "p must be in [1");
    expect_fail(DOC("classification", "\"classes\":[0,1],",
                    KNN(",\"metric\":\"euclidean\",\"weights\":\"gaussian\"")),
                S0 ".weights", "unknown value");
    expect_fail(DOC("classification", "\"classes\":[0,1],",
                    KNN(",\"metric\":\"euclidean\",\"weights\":\"uniform\",\"x\":[[0,0]],"
                        "\"n_neighbors\":2,\"y\":[0]")),
                S0 ".n_neighbors", "out of range [1, 1]");
    expect_fail(DOC("classification", "\"classes\":[0,1],",
                    KNN(",\"metric\":\"euclidean\",\"weights\":\"uniform\",\"x\":[[0,0],[1]],"
                        "\"n_neighbors\":1,\"y\":[0,1]")),
                S0 ".x[1]", "1 entries, expected 2");
    expect_fail(DOC("classification", "\"classes\":[0,1],",
                    KNN(",\"metric\":\"euclidean\",\"weights\":\"uniform\",\"x\":[[0,0]],"
                        "\"n_neighbors\":1,\"y\":[2]")),
                S0 ".y[0]", "out of range [0, 1]");
    expect_fail(DOC("regression", "", KNN(",\"metric\":\"euclidean\",\"weights\":\"uniform\","
                                          "\"x\":[[0,0]],\"n_neighbors\":1,\"y\":[\"a\"]")),
                S0 ".y[0]", "expected a number");
    expect_fail(DOC("classification", "\"classes\":[0,1],",
                    KNN(",\"metric\":\"euclidean\",\"weights\":\"uniform\",\"radius\":-1,"
                        "\"x\":[[0,0]],\"y\":[0]")),
                S0 ".radius", "radius must be >= 0");
    expect_fail(DOC("classification", "\"classes\":[0,1],",
                    KNN(",\"metric\":\"euclidean\",\"weights\":\"uniform\",\"radius\":1,"
                        "\"x\":[[0,0]],\"y\":[0]")),
                S0 ".outlier_class", "required field missing");
    expect_fail(DOC("classification", "\"classes\":[0,1],",
                    KNN(",\"metric\":\"euclidean\",\"weights\":\"uniform\",\"radius\":1,"
                        "\"outlier_class\":2,\"x\":[[0,0]],\"y\":[0]")),
                S0 ".outlier_class", "out of range [0, 1]");
    expect_fail(DOC("regression", "", "{\"type\":\"centroids\",\"centers\":[[0,0]]}"), S0,
                "task must be classification");
    expect_fail(DOC("classification", "\"classes\":[0,1],",
                    "{\"type\":\"centroids\",\"centers\":[[0,0]]}"),
                S0 ".centers", "1 entries, expected 2");
    expect_fail(DOC("classification", "\"classes\":[0,1],",
                    "{\"type\":\"centroids\",\"metric\":\"manhattan\",\"transform\":true,"
                    "\"centers\":[[0,0],[1,1]]}"),
                S0 ".transform", "euclidean");
    expect_fail(DOC("regression", "", "{\"type\":\"projection\",\"components\":[[1,2,3]]},"
                                      "{\"type\":\"linear\",\"link\":\"identity\","
                                      "\"coef\":[[1]],\"intercept\":[0]}"),
                S0 ".components[0]", "3 entries, expected 2");
    expect_fail(DOC("regression", "", "{\"type\":\"projection\",\"components\":[[1,2]],"
                                      "\"scale\":[1,2]},{\"type\":\"linear\",\"link\":"
                                      "\"identity\",\"coef\":[[1]],\"intercept\":[0]}"),
                S0 ".scale", "2 entries, expected 1");
    expect_fail(DOC("regression", "", "{\"type\":\"projection\",\"components\":[[1,2]]},"
                                      "{\"type\":\"linear\",\"link\":\"identity\","
                                      "\"coef\":[[1,2]],\"intercept\":[0]}"),
                "$.steps[1].coef[0]", "2 entries, expected 1");
    expect_fail(DOC("classification", "\"classes\":[-1,1],",
                    "{\"type\":\"isolation_forest\",\"forest\":{\"type\":\"linear\"}}"),
                S0 ".forest.type", "expected \"tree_ensemble\", not \"linear\"");
    expect_fail(DOC("classification", "\"classes\":[-1,1],",
                    "{\"type\":\"isolation_forest\",\"forest\":{\"type\":\"tree_ensemble\","
                    "\"n_outputs\":2}}"),
                S0 ".forest.aggregate", "required field missing");
    expect_fail(DOC("classification", "\"classes\":[-1,1],",
                    "{\"type\":\"isolation_forest\",\"offset\":0,\"forest\":" FOREST(STUMP) "}"),
                S0 ".denominator", "required field missing");
    expect_fail(DOC("classification", "\"classes\":[-1,1],",
                    "{\"type\":\"isolation_forest\",\"denominator\":1,\"offset\":0,\"forest\":"
                    FOREST("{\"feature\":[5,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],"
                           "\"right\":[2,-1,-1],\"value\":[0,2,4]}") "}"),
                S0 ".forest.trees[0].feature[0]", "feature index 5 out of range");
    expect_fail(DOC("regression", "", "{\"type\":\"isolation_forest\"}"), S0,
                "classes [-1, 1]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_neighbors_classifier),
        cmocka_unit_test(test_neighbors_regression_and_metrics),
        cmocka_unit_test(test_radius),
        cmocka_unit_test(test_centroids_and_projection),
        cmocka_unit_test(test_isolation_forest),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
