/* test_model_errors.c - every malformed-model case the loader must refuse: each asserts a
 * negative code, no model, and a message "t.json: <JSON path>: <reason>" (the path and
 * reason checked by substring). Runs under ASan, so a leak or overflow on any error path
 * fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"
#include "model/model.h"

static void expect_fail(const char *json, size_t len, const char *path, const char *reason)
{
    char err[512];
    pd_model_t *m = (pd_model_t *)1;
    int rc = pd_model_load_buffer(json, len, "t.json", &m, err, sizeof err);
    if (rc >= 0 || m != NULL)
        fail_msg("loaded, expected an error at %s (%s)", path, reason);
    char want[300];
    snprintf(want, sizeof want, "t.json: %s: ", path);
    if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, reason))
        fail_msg("message \"%s\" lacks \"%s\" + \"%s\"", err, want, reason);
}

#define DOC(task, extra, steps) \
    "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"" task "\"," \
    "\"features\":[\"a\",\"b\"]," extra "\"steps\":[" steps "]}"
#define ENS(trees) \
    "{\"type\":\"tree_ensemble\",\"n_outputs\":1,\"aggregate\":\"sum\",\"input_type\":" \
    "\"float32\",\"comparison\":\"le\",\"post_transform\":\"identity\",\"trees\":[" trees "]}"
#define STUMP_OK \
    "{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],\"right\":[2,-1,-1]," \
    "\"value\":[0,1,2]}"
#define T0 "$.steps[0].trees[0]"
#define LINEAR_OK \
    "{\"type\":\"linear\",\"link\":\"identity\",\"coef\":[[1,2]],\"intercept\":[0]}"

typedef struct {
    const char *json, *path, *reason;
} kase_t;

static const kase_t cases[] = {
    {"{\"format\":\"predictd-model\",\"vers", "$", "invalid JSON"},
    {"", "$", "invalid JSON"},
    {"[1,2]", "$", "expected a JSON object"},
    {"{\"a\":1}", "$", "neither a predictd model"},
    {"{\"format\":\"predictd-model\",\"format\":\"x\"}", "$", "duplicate"},
    {DOC("regression", "", ENS(STUMP_OK)) "x", "$", "invalid JSON"},
    {"{\"format\":\"onnx\"}", "$.format", "expected \"predictd-model\""},
    {"{\"format\":\"predictd-model\",\"version\":2}", "$.version", "unsupported format version 2"},
    {"{\"format\":\"predictd-model\",\"version\":\"1\"}", "$.version", "expected an integer"},
    {"{\"format\":\"predictd-model\",\"version\":1,\"name\":\"a b\"}", "$.name", "[A-Za-z0-9_.-]"},
    {"{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"ranking\"}", "$.task",
     "unknown value \"ranking\""},
    {"{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"regression\","
     "\"features\":\"a\"}", "$.features", "expected an array"},
    {"{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"regression\","
     "\"features\":[\"a\",\"a\"]}", "$.features", "duplicate feature name \"a\""},
    {"{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"regression\","
     "\"features\":[\"a\",3]}", "$.features[1]", "expected a string"},
    {"{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"regression\","
     "\"features\":[]}", "$.features", "0 entries"},
    {DOC("classification", "\"classes\":[0,\"b\"],", ENS(STUMP_OK)), "$.classes[1]",
     "all integers or all strings"},
    {DOC("classification", "\"classes\":[1,1],", ENS(STUMP_OK)), "$.classes[1]", "duplicate"},
    {DOC("classification", "", ENS(STUMP_OK)), "$.classes", "required field missing"},
    {DOC("regression", "\"classes\":[0,1],", ENS(STUMP_OK)), "$.classes", "no classes"},
    {DOC("regression", "", ""), "$.steps", "0 entries"},
    {DOC("regression", "", "{\"type\":\"pca\"}"), "$.steps[0].type", "unknown value \"pca\""},
    {DOC("regression", "", ENS(STUMP_OK) "," ENS(STUMP_OK)), "$.steps[0].type",
     "must be the last step"},
    {DOC("regression", "", "{\"type\":\"maxabs_scaler\",\"scale\":[1,2]}"), "$.steps[0].type",
     "last step must be an estimator"},
    {DOC("regression", "", "{\"type\":\"standard_scaler\",\"mean\":[1]}," ENS(STUMP_OK)),
     "$.steps[0].mean", "1 entries, expected 2"},
    {DOC("regression", "", "{\"type\":\"minmax_scaler\",\"scale\":[1,2]}," ENS(STUMP_OK)),
     "$.steps[0].min", "required field missing"},
    {DOC("regression", "", "{\"type\":\"linear\",\"link\":\"logistic\",\"coef\":[[1,2]],"
                           "\"intercept\":[0]}"), "$.steps[0].link", "does not fit"},
    {DOC("regression", "", "{\"type\":\"linear\",\"link\":\"identity\",\"coef\":[[1,true]],"
                           "\"intercept\":[0]}"), "$.steps[0].coef[0][1]", "expected a number"},
    {DOC("regression", "", "{\"type\":\"linear\",\"link\":\"identity\",\"coef\":[[1,2]],"
                           "\"intercept\":[0,1]}"), "$.steps[0].intercept", "2 entries"},
    {DOC("regression", "", "{\"type\":\"linear\",\"link\":\"identity\",\"coef\":[[1,1e999]],"
                           "\"intercept\":[0]}"), "$", "invalid JSON"},
    {DOC("regression", "", "{\"type\":\"mlp\",\"activation\":\"relu\",\"output_activation\":"
                           "\"identity\",\"layers\":[{\"weights\":[[1],[2]],\"bias\":[0]},"
                           "{\"weights\":[[1],[2]],\"bias\":[0]}]}"),
     "$.steps[0].layers[1].weights", "2 entries"},
    {DOC("regression", "", "{\"type\":\"mlp\",\"activation\":\"gelu\"}"),
     "$.steps[0].activation", "unknown value \"gelu\""},
    {DOC("regression", "", "{\"type\":\"mlp\",\"activation\":\"relu\",\"output_activation\":"
                           "\"identity\",\"layers\":[{\"weights\":[[1,1],[2,2]],\"bias\":[0,0]}]}"),
     "$.steps[0].layers[0]", "last layer has 2 outputs, expected 1"},
    /* trees */
    {DOC("regression", "", ENS("")), "$.steps[0].trees", "0 entries"},
    {DOC("regression", "", ENS("3")), T0, "expected an object"},
    {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],"
                                "\"right\":[5,-1,-1],\"value\":[0,1,2]}")),
     T0 ".right[0]", "child index 5 out of range (3 nodes)"},
    {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],"
                                "\"right\":[-7,-1,-1],\"value\":[0,1,2]}")),
     T0 ".right[0]", "child index -7 out of range"},
    {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],"
                                "\"right\":[1,-1,-1],\"value\":[0,1,2]}")),
     T0 ".right[0]", "node 1 has two parents"},
    {DOC("regression", "", ENS("{\"feature\":[0,0,-1,-1],\"threshold\":[0.5,0,0,0],\"left\":[1,3,-1,-1],"
                                "\"right\":[2,0,-1,-1],\"value\":[0,1,2,3]}")),
     T0 ".right[1]", "root and cannot be a child"},
    /* a cycle 1 -> 2 -> 1 that the root (a leaf) never reaches */
    {DOC("regression", "", ENS("{\"feature\":[-1,0,0,-1,-1],\"threshold\":[0,0,0,0,0],"
                                "\"left\":[-1,2,1,-1,-1],\"right\":[-1,3,4,-1,-1],"
                                "\"value\":[0,0,0,0,0]}")),
     T0 ".left[1]", "unreachable from the root"},
    {DOC("regression", "", ENS("{\"feature\":[2,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],"
                                "\"right\":[2,-1,-1],\"value\":[0,1,2]}")),
     T0 ".feature[0]", "feature index 2 out of range (2 features)"},
    {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[NaN,0,0],\"left\":[1,-1,-1],"
                                "\"right\":[2,-1,-1],\"value\":[0,1,2]}")),
     T0 ".threshold[0]", "NaN is not allowed here"},
    {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,-Infinity],"
                                "\"left\":[1,-1,-1],\"right\":[2,-1,-1],\"value\":[0,1,2]}")),
     T0 ".threshold[2]", "-Infinity is not allowed here"},
    {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],"
                                "\"left\":[1,-1,-1],\"right\":[2,-1,-1],"
                                "\"value\":[0,1,NaNa]}")),
     "$", "invalid JSON"},
    {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0],\"left\":[1,-1,-1],"
                                "\"right\":[2,-1,-1],\"value\":[0,1,2]}")),
     T0 ".threshold", "2 entries, expected 3"},
    {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],"
                                "\"right\":[2,-1,-1],\"value\":[0,1]}")),
     T0 ".value", "2 entries, expected 3"},
    {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],"
                                "\"right\":[2,-1,3],\"value\":[0,1,2]}")),
     T0 ".right[2]", "leaf node 2"},
    {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],"
                                "\"right\":[2,-1,-1],\"value\":[0,1,2],\"missing_left\":[2,0,0]}")),
     T0 ".missing_left[0]", "out of range [0, 1]"},
    {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],"
                                "\"right\":[2,-1,-1],\"value\":[0,1,2],\"output\":1}")),
     T0 ".output", "out of range [0, 0]"},
    {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],"
                                "\"right\":[2,-1,-1]}")),
     T0 ".value", "required field missing"},
    {DOC("regression", "", "{\"type\":\"tree_ensemble\",\"n_outputs\":1,\"aggregate\":\"max\"}"),
     "$.steps[0].aggregate", "unknown value \"max\""},
    {DOC("regression", "", "{\"type\":\"tree_ensemble\",\"n_outputs\":2,\"aggregate\":\"sum\","
                           "\"input_type\":\"float32\",\"comparison\":\"le\",\"post_transform\":"
                           "\"identity\",\"trees\":[]}"),
     "$.steps[0].post_transform", "does not fit a regression model"},
};

static void test_malformed_cases(void **st)
{
    (void)st;
    for (size_t i = 0; i < PD_ARRAY_SIZE(cases); i++)
        expect_fail(cases[i].json, strlen(cases[i].json), cases[i].path, cases[i].reason);
}

static void test_nesting_depth_limit(void **st)
{
    (void)st;
    size_t n = 100000;
    char *s = malloc(2 * n + 1);
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\0';
    expect_fail(s, 2 * n, "$", "nested deeper than 64");
    free(s);
}

/* A chain tree of depth 1001 (left children are leaves, right children go on). */
static void test_tree_depth_limit(void **st)
{
    (void)st;
    const int depth = 1001, nodes = 2 * depth + 1;
    size_t cap = (size_t)nodes * 64 + 1024, len = 0;
    char *s = malloc(cap);
#define PUT(...) (len += (size_t)snprintf(s + len, cap - len, __VA_ARGS__))
    PUT("{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"regression\","
        "\"features\":[\"a\"],\"steps\":[{\"type\":\"tree_ensemble\",\"n_outputs\":1,"
        "\"aggregate\":\"sum\",\"input_type\":\"float32\",\"comparison\":\"le\","
        "\"post_transform\":\"identity\",\"trees\":[{");
    const char *keys[] = {"feature", "threshold", "left", "right", "value"};
    for (int k = 0; k < 5; k++) {
        PUT("%s\"%s\":[", k ? "," : "", keys[k]);
        for (int i = 0; i < nodes; i++) {
            int split = i % 2 == 0 && i < nodes - 1; /* even nodes split: 2i+1 leaf, 2i+2 next */
            int v = k == 0 ? (split ? 0 : -1)
                  : k == 2 ? (split ? i + 1 : -1)
                  : k == 3 ? (split ? i + 2 : -1)
                           : 0;
            PUT("%s%d", i ? "," : "", v);
        }
        PUT("]");
    }
    PUT("}]}]}");
#undef PUT
    expect_fail(s, len, T0 ".left[2000]", "tree deeper than 1000");
    free(s);
}

/* "missing_values": the default follows missing_left; true only for tree ensembles. */
static void test_missing_values_flag(void **st)
{
    (void)st;
    static const struct {
        const char *json;
        int want; /* schema.missing_ok, or -1: refused */
    } mv[] = {
        {DOC("regression", "", ENS(STUMP_OK)), 0},
        {DOC("regression", "\"missing_values\":true,", ENS(STUMP_OK)), 1},
        {DOC("regression", "", ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],"
                                   "\"left\":[1,-1,-1],\"right\":[2,-1,-1],"
                                   "\"value\":[0,1,2],\"missing_left\":[1,0,0]}")), 1},
        {DOC("regression", "\"missing_values\":false,",
             ENS("{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],"
                 "\"right\":[2,-1,-1],\"value\":[0,1,2],\"missing_left\":[1,0,0]}")), 0},
        {DOC("regression", "\"missing_values\":true,", LINEAR_OK), -1},
        {DOC("regression", "\"missing_values\":1,", ENS(STUMP_OK)), -1},
    };
    for (size_t i = 0; i < sizeof mv / sizeof mv[0]; i++) {
        char err[512] = "";
        pd_model_t *m = NULL;
        int rc = pd_model_load_buffer(mv[i].json, strlen(mv[i].json), "t.json", &m, err,
                                      sizeof err);
        if (mv[i].want < 0) {
            assert_true(rc < 0);
            assert_non_null(strstr(err, "$.missing_values"));
            continue;
        }
        if (rc < 0)
            fail_msg("case %zu: %s", i, err);
        assert_int_equal(pd_model_schema(m)->missing_ok, mv[i].want);
        pd_model_free(m);
    }
}

static void test_file_errors(void **st)
{
    (void)st;
    char err[512];
    pd_model_t *m = NULL;
    assert_true(pd_model_load("/nonexistent/m.json", &m, err, sizeof err) < 0);
    assert_null(m);
    assert_non_null(strstr(err, "/nonexistent/m.json: $: cannot open"));
    assert_true(pd_model_load("/tmp", &m, err, sizeof err) < 0);
    assert_non_null(strstr(err, "not a regular file"));
    /* a FIFO is refused at once, not waited on for a writer */
    char fifo[] = "/tmp/pd-test-fifo-XXXXXX";
    assert_non_null(mkdtemp(fifo));
    char path[64];
    snprintf(path, sizeof path, "%s/m.json", fifo);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_true(pd_model_load(path, &m, err, sizeof err) < 0);
    assert_null(m);
    assert_non_null(strstr(err, "not a regular file"));
    unlink(path);
    rmdir(fifo);
    /* a tiny error buffer is never overrun */
    char small[8];
    assert_true(pd_model_load_buffer("{", 1, "t.json", &m, small, sizeof small) < 0);
    assert_int_equal(strlen(small), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_cases),
        cmocka_unit_test(test_nesting_depth_limit),
        cmocka_unit_test(test_tree_depth_limit),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_missing_values_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
