/* test_model_trees_cat.c - categorical splits of the predictd format's tree_ensemble
 * (scikit-learn's HistGradientBoosting with categorical_features): routing of known
 * categories left and right, of unknown, negative and missing values by other_left /
 * missing_left, the "uint8" cast's low byte (256 + c reads as c, as the compiled
 * predictor does), and every malformed field refused with its path. Under ASan+UBSan. */
#include <math.h>

#include "test_model_util.h"

/* One float64 tree: node 0 splits feature 0 by category set 0, node 1 numeric on b. */
#define DOC(cast, sets, catidx) \
    "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"regression\"," \
    "\"features\":[\"a\",\"b\"],\"steps\":[{\"type\":\"tree_ensemble\",\"n_outputs\":1," \
    "\"aggregate\":\"sum\",\"input_type\":\"float64\",\"comparison\":\"le\"," \
    "\"post_transform\":\"identity\"" cast ",\"trees\":[{\"feature\":[0,-1,-1]," \
    "\"threshold\":[0,0,0],\"left\":[1,-1,-1],\"right\":[2,-1,-1],\"missing_left\":[1,0,0]," \
    "\"value\":[0,10,20],\"categorical\":" catidx ",\"category_sets\":" sets "}]}]}"
#define SETS "[{\"left\":[1,4,70],\"right\":[0,2,3],\"other_left\":0}]"
#define T0 "$.steps[0].trees[0]"

static double value(const pd_model_t *m, double a)
{
    double x[2] = {a, 0}, v;
    run_ex(m, x, 1, NULL, &v, NULL, NULL, NULL);
    return v;
}

static void test_routing(void **st)
{
    (void)st;
    pd_model_t *m = load(DOC(",\"category_cast\":\"uint8\"", SETS, "[0,-1,-1]"));
    const double a[] = {1, 4, 70, 4.9, 0, 2, 3, 5, 69, 1000, -1, -0.3, NAN, 257, 326, 3e9};
    const double want[] = {10, 10, 10, 10, 20, 20, 20, 20, 20, 20, 20, 20, 10,
                           10, 10, /* 257 -> 1, 326 -> 70 */ 20 /* 3e9 -> 0 */};
    for (size_t i = 0; i < sizeof a / sizeof *a; i++)
        if (value(m, a[i]) != want[i])
            fail_msg("a=%g: got %g, want %g", a[i], value(m, a[i]), want[i]);
    pd_model_free(m);
    m = load(DOC("", SETS, "[0,-1,-1]")); /* "int": no low byte, 257 is unknown */
    assert_true(value(m, 257) == 20 && value(m, 1) == 10 && value(m, -1) == 20);
    pd_model_free(m);
}

static void test_malformed(void **st)
{
    (void)st;
    expect_fail(DOC(",\"category_cast\":\"int8\"", SETS, "[0,-1,-1]"),
                "$.steps[0].category_cast", "unknown value");
    expect_fail(DOC("", SETS, "[1,-1,-1]"), T0 ".categorical[0]", "out of range");
    expect_fail(DOC("", SETS, "[0,-1]"), T0 ".categorical", "2 entries");
    expect_fail(DOC("", "[]", "[0,-1,-1]"), T0 ".category_sets", "0 entries");
    expect_fail(DOC("", "[{\"left\":[1],\"right\":[1],\"other_left\":0}]", "[0,-1,-1]"),
                T0 ".category_sets[0]", "category 1 goes both left and right");
    expect_fail(DOC("", "[{\"left\":[-1],\"right\":[],\"other_left\":0}]", "[0,-1,-1]"),
                T0 ".category_sets[0].left[0]", "out of range");
    expect_fail(DOC("", "[{\"left\":[1048576],\"right\":[],\"other_left\":0}]", "[0,-1,-1]"),
                T0 ".category_sets[0].left[0]", "out of range");
    expect_fail(DOC("", "[{\"left\":[1],\"right\":[2]}]", "[0,-1,-1]"),
                T0 ".category_sets[0].other_left", "missing");
    expect_fail(DOC("", "[{\"left\":[1],\"right\":[2],\"other_left\":2}]", "[0,-1,-1]"),
                T0 ".category_sets[0].other_left", "out of range");
    expect_fail(DOC("", "[7]", "[0,-1,-1]"), T0 ".category_sets[0]", "object");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
