/* test_model_transformers.c - the numeric transformer types polynomial_features,
 * kbins_discretizer, normalizer, quantile_transformer and power_transformer on small
 * hand-computed cases (each followed by a `linear` step that selects one output column, so
 * the column is read back exactly), and every malformed field refused with the file, the
 * JSON path and the reason. Parity with scikit-learn itself: tests/e2e/
 * test_parity_transformers.py and parity_cases.py. Under ASan+UBSan. */
#include <math.h>

#include "test_model_util.h"

#define STEP0 "$.steps[0]"

/* Value of output column `col` (of width) of transformer `t` on the 2-feature row x. */
static double column(const char *t, size_t width, size_t col, double x0, double x1)
{
    char coef[1024] = "", doc[4096];
    for (size_t k = 0; k < width; k++)
        snprintf(coef + strlen(coef), sizeof coef - strlen(coef), "%s%d", k ? "," : "",
                 k == col);
    snprintf(doc, sizeof doc,
             "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":"
             "\"regression\",\"features\":[\"a\",\"b\"],\"steps\":[%s,{\"type\":\"linear\","
             "\"link\":\"identity\",\"coef\":[[%s]],\"intercept\":[0]}]}", t, coef);
    pd_model_t *m = load(doc);
    double x[2] = {x0, x1}, v;
    run_ex(m, x, 1, NULL, &v, NULL, NULL, NULL);
    pd_model_free(m);
    return v;
}

#define DOC(step) \
    "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"regression\"," \
    "\"features\":[\"a\",\"b\"],\"steps\":[" step ",{\"type\":\"linear\",\"link\":" \
    "\"identity\",\"coef\":[[1,1]],\"intercept\":[0]}]}"

static void test_polynomial(void **st)
{
    (void)st;
    const char *t = "{\"type\":\"polynomial_features\",\"terms\":[[],[0],[1],[0,0],[1,0],"
                    "[1,1],[1,1,0]]}";
    const double want[7] = {1, 2, 3, 4, 6, 9, 18};
    for (size_t k = 0; k < 7; k++)
        assert_true(column(t, 7, k, 2, 3) == want[k]);
    expect_fail(DOC("{\"type\":\"polynomial_features\",\"terms\":[[0],[2]]}"),
                STEP0 ".terms[1][0]", "out of range");
    expect_fail(DOC("{\"type\":\"polynomial_features\",\"terms\":[]}"), STEP0 ".terms",
                "0 entries");
    expect_fail(DOC("{\"type\":\"polynomial_features\",\"terms\":[[0],[0,0,0,0,0,0,0,0,0,0,"
                    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]]}"),
                STEP0 ".terms[1]", "33 entries");
    expect_fail(DOC("{\"type\":\"polynomial_features\",\"terms\":[[0],\"x\"]}"),
                STEP0 ".terms[1]", "array");
}

static void test_kbins(void **st)
{
    (void)st;
    const char *ord = "{\"type\":\"kbins_discretizer\",\"encode\":\"ordinal\","
                      "\"inner_edges\":[[1,2],[]]}";
    assert_true(column(ord, 2, 0, 1.5, 7) == 1);
    assert_true(column(ord, 2, 0, 2, 7) == 2);   /* side="right": an edge goes up */
    assert_true(column(ord, 2, 0, -50, 7) == 0); /* no clipping needed */
    assert_true(column(ord, 2, 1, 0, 7) == 0);   /* one bin */
    const char *hot = "{\"type\":\"kbins_discretizer\",\"encode\":\"onehot\","
                      "\"inner_edges\":[[1,2],[]]}";
    const double want[4] = {0, 0, 1, 1};
    for (size_t k = 0; k < 4; k++)
        assert_true(column(hot, 4, k, 5, 7) == want[k]);
    expect_fail(DOC("{\"type\":\"kbins_discretizer\",\"encode\":\"onehot-sparse\","
                    "\"inner_edges\":[[1],[1]]}"), STEP0 ".encode", "unknown value");
    expect_fail(DOC("{\"type\":\"kbins_discretizer\",\"encode\":\"ordinal\","
                    "\"inner_edges\":[[1]]}"), STEP0 ".inner_edges", "1 entries");
    expect_fail(DOC("{\"type\":\"kbins_discretizer\",\"encode\":\"ordinal\","
                    "\"inner_edges\":[[2,1],[1]]}"), STEP0 ".inner_edges[0][1]",
                "nondecreasing");
    expect_fail(DOC("{\"type\":\"kbins_discretizer\",\"encode\":\"ordinal\","
                    "\"inner_edges\":[[1],[NaN]]}"), STEP0 ".inner_edges[1][0]",
                "NaN is not allowed");
}

static void test_normalizer(void **st)
{
    (void)st;
    const char *l1 = "{\"type\":\"normalizer\",\"norm\":\"l1\"}";
    assert_true(column(l1, 2, 0, 3, -1) == 0.75 && column(l1, 2, 1, 3, -1) == -0.25);
    assert_true(column(l1, 2, 0, 0, 0) == 0); /* zero norm divides by 1 */
    const char *l2 = "{\"type\":\"normalizer\",\"norm\":\"l2\"}";
    assert_true(column(l2, 2, 0, 3, -4) == 0.6);
    const char *mx = "{\"type\":\"normalizer\",\"norm\":\"max\"}";
    assert_true(column(mx, 2, 0, 3, -6) == 0.5 && column(mx, 2, 1, 3, -6) == -1);
    expect_fail(DOC("{\"type\":\"normalizer\",\"norm\":\"l3\"}"), STEP0 ".norm",
                "unknown value \"l3\"");
    expect_fail(DOC("{\"type\":\"normalizer\"}"), STEP0 ".norm", "missing");
}

#define QT(out, extra, qs, refs) \
    "{\"type\":\"quantile_transformer\",\"output\":\"" out "\"," extra "\"quantiles\":" qs \
    ",\"references\":" refs "}"

static void test_quantile(void **st)
{
    (void)st;
    const char *u = QT("uniform", "", "[[0,1,1,3],[0,1,2,3]]", "[0,0.25,0.5,1]");
    assert_true(column(u, 2, 0, 1, 0) == 0.375); /* tied quantiles: their middle */
    assert_true(column(u, 2, 0, 2, 0) == 0.75);  /* 0.5 + (2-1)/(3-1) * 0.5 */
    assert_true(column(u, 2, 0, 3, 0) == 1 && column(u, 2, 0, 0, 0) == 0);
    assert_true(column(u, 2, 0, 9, 0) == 1 && column(u, 2, 0, -9, 0) == 0);
    const char *nrm = QT("normal", "\"clip\":[-5.19,5.19],", "[[0,1,1,3],[0,1,2,3]]",
                         "[0,0.25,0.5,1]");
    assert_true(column(nrm, 2, 1, 1.5, 2) == 0.0);      /* ppf(0.5) */
    assert_true(column(nrm, 2, 1, 1.5, -9) == -5.19);   /* below: ppf(0) clipped */
    assert_true(column(nrm, 2, 1, 1.5, 2.99999999) == 5.19); /* within 1e-7 of the top */
    expect_fail(DOC(QT("normal", "", "[[0,1],[0,1]]", "[0,1]")), STEP0 ".clip", "missing");
    expect_fail(DOC(QT("normal", "\"clip\":[1,2],", "[[0,1],[0,1]]", "[0,1]")),
                STEP0 ".clip", "[negative, positive]");
    expect_fail(DOC(QT("uniform", "", "[[0,1],[0,1]]", "[0,0,1]")), STEP0 ".references[1]",
                "increasing");
    expect_fail(DOC(QT("uniform", "", "[[0,1],[0,1]]", "[0,2]")), STEP0 ".references",
                "[0, 1]");
    expect_fail(DOC(QT("uniform", "", "[[0,1],[1,0]]", "[0,1]")), STEP0 ".quantiles[1][1]",
                "nondecreasing");
    expect_fail(DOC(QT("uniform", "", "[[0,1],[0,1,2]]", "[0,1]")), STEP0 ".quantiles[1]",
                "3 entries");
    expect_fail(DOC(QT("uniform", "", "[[0,1]]", "[0,1]")), STEP0 ".quantiles", "1 entries");
    expect_fail(DOC(QT("gamma", "", "[[0,1],[0,1]]", "[0,1]")), STEP0 ".output",
                "unknown value");
}

static void test_power(void **st)
{
    (void)st;
    const char *yj = "{\"type\":\"power_transformer\",\"method\":\"yeo-johnson\","
                     "\"lambdas\":[0,2]}";
    assert_true(column(yj, 2, 0, 1, 0) == log1p(1.0));
    assert_true(column(yj, 2, 1, 0, -1) == -log1p(1.0));
    assert_true(column(yj, 2, 0, 3, 0) == log1p(3.0));
    const char *bc = "{\"type\":\"power_transformer\",\"method\":\"box-cox\","
                     "\"lambdas\":[0.5,0]}";
    assert_true(column(bc, 2, 0, 4, 1) == expm1(0.5 * log(4.0)) / 0.5);
    assert_true(column(bc, 2, 1, 4, 2) == log(2.0));
    assert_true(isnan(column(bc, 2, 1, 4, -1))); /* the library refuses x <= 0 */
    expect_fail(DOC("{\"type\":\"power_transformer\",\"method\":\"box\",\"lambdas\":[1,1]}"),
                STEP0 ".method", "unknown value");
    expect_fail(DOC("{\"type\":\"power_transformer\",\"method\":\"box-cox\","
                    "\"lambdas\":[1]}"), STEP0 ".lambdas", "1 entries");
    expect_fail(DOC("{\"type\":\"power_transformer\",\"method\":\"box-cox\","
                    "\"lambdas\":[1,Infinity]}"), STEP0 ".lambdas[1]",
                "Infinity is not allowed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_polynomial), cmocka_unit_test(test_kbins),
        cmocka_unit_test(test_normalizer), cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_power),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
