/* test_model_types.c - the model-type table and the pipeline around it: every registered
 * type is well formed (a unique name, load, and exactly the op its role needs), a
 * pipeline of several transformers runs them in order through its two row buffers,
 * pd_model_describe/stats report the parts, and a classifier without probabilities
 * writes NaN into a proba buffer. */
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
#include "model/part.h"

#define HDR(task, feats) \
    "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"" task \
    "\",\"features\":" feats ","

static void test_every_type_is_well_formed(void **st)
{
    (void)st;
    size_t n = 0;
    for (size_t i = 0; pd__part_types[i]; i++, n++) {
        const pd__part_ops_t *o = pd__part_types[i];
        assert_non_null(o->type);
        assert_non_null(o->load);
        int tr = (o->flags & PD__PART_TRANSFORM) != 0;
        if (tr != (o->transform != NULL) || tr == (o->predict != NULL))
            fail_msg("type %s: role and ops disagree", o->type);
        assert_ptr_equal(pd__part_find(o->type), o);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(pd__part_types[j]->type, o->type);
    }
    assert_true(n >= 7);
    assert_null(pd__part_find("no_such_type"));
}

/* Three transformers: the rows go x -> A -> B -> A, each applied once, in order. */
static void test_pipeline_of_transformers(void **st)
{
    (void)st;
    pd_model_t *m = load(HDR("regression", "[\"a\",\"b\"]")
                         "\"steps\":[{\"type\":\"standard_scaler\",\"mean\":[1,2]},"
                         "{\"type\":\"maxabs_scaler\",\"scale\":[2,4]},"
                         "{\"type\":\"minmax_scaler\",\"scale\":[10,10],\"min\":[1,0]},"
                         "{\"type\":\"linear\",\"link\":\"identity\",\"coef\":[[1,100]],"
                         "\"intercept\":[0]}]}");
    enum { N = 70 }; /* crosses a block boundary */
    double x[N * 2], v[N];
    for (int i = 0; i < N * 2; i++)
        x[i] = i;
    void *ws = malloc(pd_model_scratch_size(m, N));
    pd_predict_out_t out = {NULL, v, NULL};
    assert_int_equal(pd_model_predict(m, x, N, ws, &out), 0);
    for (int r = 0; r < N; r++) {
        double a = (x[2 * r] - 1) / 2 * 10 + 1, b = (x[2 * r + 1] - 2) / 4 * 10 + 0;
        assert_true(v[r] == a + 100 * b);
    }
    assert_true(x[3] == 3.0); /* input untouched */
    char d[256];
    int k = pd_model_describe(m, d, sizeof d);
    assert_int_equal((size_t)k, strlen(d));
    assert_non_null(strstr(d, "standard_scaler > maxabs_scaler > minmax_scaler > linear("));
    char small[10];
    assert_int_equal(pd_model_describe(m, small, sizeof small), k);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(pd_model_describe(m, NULL, 0), k);
    free(ws);
    pd_model_free(m);
}

static void test_stats_and_schema_fields(void **st)
{
    (void)st;
    pd_model_t *m = load(HDR("classification", "[\"a\"]") "\"classes\":[0,1],"
                         "\"steps\":[{\"type\":\"tree_ensemble\",\"n_outputs\":2,"
                         "\"aggregate\":\"average\",\"input_type\":\"float32\","
                         "\"comparison\":\"le\",\"post_transform\":\"normalize\",\"trees\":["
                         "{\"feature\":[0,-1,-1],\"threshold\":[0.5,0,0],\"left\":[1,-1,-1],"
                         "\"right\":[2,-1,-1],\"value\":[0,0,1,0,0,1]}]}]}");
    pd_model_stats_t s;
    pd_model_stats(m, &s);
    assert_int_equal(s.n_trees, 1);
    assert_int_equal(s.n_nodes, 3);
    assert_true(s.bytes > 3 * 16);
    const pd_model_schema_t *sc = pd_model_schema(m);
    assert_int_equal(sc->proba_ok, 1);
    assert_int_equal(sc->n_outputs, 0);
    assert_null(sc->outputs);
    char d[256];
    pd_model_describe(m, d, sizeof d);
    assert_string_equal(d, "tree_ensemble(1 trees, 3 nodes, average of 2 outputs, float32, "
                           "normalize)");
    pd_model_free(m);
    pd_model_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type_is_well_formed),
        cmocka_unit_test(test_pipeline_of_transformers),
        cmocka_unit_test(test_stats_and_schema_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
