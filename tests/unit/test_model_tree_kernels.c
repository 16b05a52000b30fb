/* test_model_tree_kernels.c - every tree-kernel variant (tree_fast.c: complete layout in C,
 * AVX2, AVX-512; forced with PD_TREE_KERNEL) gives bit-identical outputs to the generic
 * node-array walk (tree.c, itself checked against the libraries by the parity suites), on
 * random ensembles: XGBoost binary and multiclass (float32 sums), average forests with
 * per-leaf probability vectors and per-output sum trees (float64 sums), trees of mixed
 * depth 0..8 with leaves at every level, rows with values equal to thresholds and NaN cells
 * (default left and right), for row counts around the kernels' group and block sizes and
 * the single-row path; ensembles too deep for the complete layout through the node-array
 * gather walks (tree_nodes.c). Variants the CPU lacks are skipped (reported on stdout). */
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

#define NF 7       /* features of the predictd-format models */
#define MAX_NF 40 /* XGBoost models: nf features (above 32, the single-row walks gather) */
static int nf = NF;
#define MAXN 1024 /* nodes a random tree may have */

typedef struct {
    char *s;
    size_t n, cap;
} sb_t;

static void sb(sb_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    assert_true(k >= 0 && (size_t)k < b->cap - b->n);
    b->n += (size_t)k;
}

static uint64_t rng_state;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Thresholds and row values share a grid, so that x == threshold happens often. */
static const double grid[] = {-1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 0.1};

typedef struct {
    int n, feature[MAXN], left[MAXN], right[MAXN], dl[MAXN];
    double thr[MAXN], value[MAXN * 3];
} tree_t;

/* Node of depth d in a tree at most maxd deep; the spine (first-left path) reaches maxd. */
static int grow(tree_t *t, int d, int maxd, int spine, double p_leaf, int width)
{
    int i = t->n++;
    if (d == maxd || (!spine && (urand() < p_leaf || t->n > MAXN - 64))) {
        t->left[i] = t->right[i] = t->feature[i] = -1, t->dl[i] = 0;
        t->thr[i] = floor(urand() * 2000 - 1000) / 1024.0;
        for (int k = 0; k < width; k++)
            t->value[i * width + k] = urand();
        return i;
    }
    t->feature[i] = (int)(urand() * nf);
    t->thr[i] = grid[(int)(urand() * 7)];
    t->dl[i] = urand() < 0.5;
    t->left[i] = grow(t, d + 1, maxd, spine, p_leaf, width);
    t->right[i] = grow(t, d + 1, maxd, 0, p_leaf, width);
    return i;
}

static void ints(sb_t *b, const char *key, const int *v, int n)
{
    sb(b, "\"%s\":[", key);
    for (int i = 0; i < n; i++)
        sb(b, "%s%d", i ? "," : "", v[i]);
    sb(b, "]");
}

static void dbls(sb_t *b, const char *key, const double *v, int n)
{
    sb(b, "\"%s\":[", key);
    for (int i = 0; i < n; i++)
        sb(b, "%s%.17g", i ? "," : "", v[i]);
    sb(b, "]");
}

/* An XGBoost JSON model: ntrees trees (depth = i % (maxd + 1)), num_class 0 or k. */
static char *xgb_model(int ntrees, int maxd, int k)
{
    sb_t b = {malloc(8u << 20), 0, 8u << 20};
    static tree_t t;
    sb(&b, "{\"learner\":{\"feature_names\":[],\"gradient_booster\":{\"name\":\"gbtree\","
           "\"model\":{\"tree_info\":[");
    for (int i = 0; i < ntrees; i++)
        sb(&b, "%s%d", i ? "," : "", k ? i % k : 0);
    sb(&b, "],\"trees\":[");
    for (int i = 0; i < ntrees; i++) {
        t.n = 0;
        grow(&t, 0, i % (maxd + 1), 1, 0.12, 1);
        for (int j = 0; j < t.n; j++)
            if (t.left[j] == -1)
                t.thr[j] = t.value[j]; /* a leaf's value is its split_condition */
        sb(&b, "%s{", i ? "," : "");
        ints(&b, "left_children", t.left, t.n), sb(&b, ",");
        ints(&b, "right_children", t.right, t.n), sb(&b, ",");
        for (int j = 0; j < t.n; j++)
            t.feature[j] = t.feature[j] < 0 ? 0 : t.feature[j];
        ints(&b, "split_indices", t.feature, t.n), sb(&b, ",");
        ints(&b, "default_left", t.dl, t.n), sb(&b, ",");
        dbls(&b, "split_conditions", t.thr, t.n), sb(&b, "}");
    }
    sb(&b, "]}},\"learner_model_param\":{\"base_score\":\"%s\",\"num_class\":\"%d\","
           "\"num_feature\":\"%d\"},\"objective\":{\"name\":\"%s\"}},\"version\":[1,7,6]}",
       k ? "0.5" : "0.3", k, nf, k ? "multi:softprob" : "binary:logistic");
    return b.s;
}

/* A predictd model: a float32 forest averaging 2-class probability leaves (per_output 0),
 * or sum trees each adding to one of 3 outputs with softmax (per_output 1). */
static char *pd_model(int ntrees, int maxd, int per_output)
{
    sb_t b = {malloc(8u << 20), 0, 8u << 20};
    static tree_t t;
    int no = per_output ? 3 : 2, width = per_output ? 1 : 2;
    sb(&b, "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":"
           "\"classification\",\"classes\":[%s],\"features\":[\"a\",\"b\",\"c\",\"d\",\"e\","
           "\"f\",\"g\"],\"steps\":[{\"type\":\"tree_ensemble\",\"n_outputs\":%d,"
           "\"aggregate\":\"%s\",\"input_type\":\"float32\",\"comparison\":\"%s\","
           "\"post_transform\":\"%s\",\"trees\":[",
       per_output ? "0,1,2" : "0,1", no, per_output ? "sum" : "average",
       per_output ? "lt" : "le", per_output ? "softmax" : "normalize");
    for (int i = 0; i < ntrees; i++) {
        t.n = 0;
        grow(&t, 0, i % (maxd + 1), 1, 0.12, width);
        sb(&b, "%s{", i ? "," : "");
        if (per_output)
            sb(&b, "\"output\":%d,", i % no);
        ints(&b, "left", t.left, t.n), sb(&b, ",");
        ints(&b, "right", t.right, t.n), sb(&b, ",");
        ints(&b, "feature", t.feature, t.n), sb(&b, ",");
        ints(&b, "missing_left", t.dl, t.n), sb(&b, ",");
        dbls(&b, "threshold", t.thr, t.n), sb(&b, ",");
        dbls(&b, "value", t.value, t.n * width), sb(&b, "}");
    }
    sb(&b, "]}]}");
    return b.s;
}

static pd_model_t *load_with(const char *json, const char *kernel)
{
    char err[512];
    pd_model_t *m = NULL;
    setenv("PD_TREE_KERNEL", kernel, 1);
    int rc = pd_model_load_buffer(json, strlen(json), "t.json", &m, err, sizeof err);
    unsetenv("PD_TREE_KERNEL");
    if (rc)
        fail_msg("load (%s) failed: %s", kernel, err);
    return m;
}

#define NROWS 200

/* Rows: grid values, random values and (nan) 15% NaN cells. */
static void rows(double *x, int nan)
{
    for (int i = 0; i < NROWS * nf; i++) {
        double u = urand();
        x[i] = u < 0.5 ? grid[(int)(urand() * 7)] : urand() * 3 - 1.5;
        if (nan && urand() < 0.15)
            x[i] = NAN;
    }
}

static void outputs(const pd_model_t *m, const double *x, size_t n, int32_t *cls,
                    double *proba)
{
    void *ws = malloc(pd_model_scratch_size(m, n) + 8);
    pd_predict_out_t out = {cls, NULL, proba};
    assert_int_equal(pd_model_predict(m, x, n, ws, &out), 0);
    free(ws);
}

static int cpu_has(const char *kernel)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (strcmp(kernel, "avx2") == 0)
        return __builtin_cpu_supports("avx2");
    if (strcmp(kernel, "avx512") == 0)
        return __builtin_cpu_supports("avx512f");
    return 1;
#else
    return strcmp(kernel, "scalar") == 0;
#endif
}

/* Every variant against the generic walk on json (nc classes), all row counts. compact:
 * the complete layout is expected (less memory), else the node arrays stay. */
static void check_all(const char *json, size_t nc, int compact)
{
    static const char *const kernels[] = {"scalar", "avx2", "avx512"};
    static const size_t counts[] = {1, 2, 3, 4, 5, 15, 16, 17, 63, 64, 65, 130, NROWS};
    static double x[NROWS * MAX_NF], pg[NROWS * 3], pk[NROWS * 3];
    static int32_t cg[NROWS], ck[NROWS];
    pd_model_t *g = load_with(json, "generic");
    pd_model_stats_t sg, sk;
    pd_model_stats(g, &sg);
    for (int v = 0; v < 3; v++) {
        if (!cpu_has(kernels[v])) {
            printf("# tree kernel %s: not supported by this CPU, skipped\n", kernels[v]);
            continue;
        }
        pd_model_t *m = load_with(json, kernels[v]);
        pd_model_stats(m, &sk);
        if (compact)
            assert_true(sk.bytes < sg.bytes); /* the complete layout replaced the nodes */
        else /* node arrays kept; at most two words per tree added (ct_node, ct_depth) */
            assert_true(sk.bytes >= sg.bytes && sk.bytes <= sg.bytes + 8 * sg.n_trees);
        for (int nan = 0; nan < 2; nan++) {
            rows(x, nan);
            for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
                size_t n = counts[c];
                memset(pg, 0, sizeof pg), memset(pk, 0xff, sizeof pk);
                outputs(g, x, n, cg, pg);
                outputs(m, x, n, ck, pk);
                if (memcmp(pg, pk, n * nc * sizeof(double)) || memcmp(cg, ck, n * sizeof(int32_t)))
                    fail_msg("kernel %s differs from generic (%zu rows, nan %d)", kernels[v],
                             n, nan);
            }
        }
        pd_model_free(m);
    }
    pd_model_free(g);
}

static void test_xgboost_binary(void **st)
{
    (void)st;
    rng_state = 1;
    char *j = xgb_model(45, 7, 0); /* 45 trees: the single-row walks' partial groups */
    check_all(j, 2, 1);
    free(j);
}

static void test_xgboost_many_features(void **st)
{
    (void)st;
    rng_state = 7;
    nf = MAX_NF;
    char *j = xgb_model(70, 6, 0), *d = xgb_model(20, 10, 0);
    check_all(j, 2, 1);
    check_all(d, 2, 0);
    nf = NF;
    free(j), free(d);
}

static void test_xgboost_multiclass_depth8(void **st)
{
    (void)st;
    rng_state = 2;
    char *j = xgb_model(30, 8, 3);
    check_all(j, 3, 1);
    free(j);
}

static void test_forest_average_probability_leaves(void **st)
{
    (void)st;
    rng_state = 3;
    char *j = pd_model(21, 6, 0);
    check_all(j, 2, 1);
    free(j);
}

static void test_sum_trees_per_output(void **st)
{
    (void)st;
    rng_state = 4;
    char *j = pd_model(70, 5, 1);
    check_all(j, 3, 1);
    free(j);
}

/* A tree deeper than the complete layout's limit keeps the node arrays for the whole
 * ensemble: the generic walk (scalar) or the node-array gather walks (AVX2, AVX-512). */
static void test_deep_xgboost_node_walks(void **st)
{
    (void)st;
    rng_state = 5;
    char *j = xgb_model(26, 11, 0);
    check_all(j, 2, 0);
    free(j);
}

static void test_deep_forest_node_walks(void **st)
{
    (void)st;
    rng_state = 6;
    char *j = pd_model(19, 10, 0);
    check_all(j, 2, 0);
    free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xgboost_binary),
        cmocka_unit_test(test_xgboost_many_features),
        cmocka_unit_test(test_xgboost_multiclass_depth8),
        cmocka_unit_test(test_forest_average_probability_leaves),
        cmocka_unit_test(test_sum_trees_per_output),
        cmocka_unit_test(test_deep_xgboost_node_walks),
        cmocka_unit_test(test_deep_forest_node_walks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
