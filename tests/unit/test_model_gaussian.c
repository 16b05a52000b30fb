/* test_model_gaussian.c - gaussian_nb and qda on hand-computed one-feature-pair models
 * (scores, labels, probabilities, named outputs) and their loaders' refusals with paths. */
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

#define DOC(task, step) \
    "{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":\"" task \
    "\",\"features\":[\"a\",\"b\"],\"classes\":[0,1],\"steps\":[" step "]}"
#define NB(more) \
    "{\"type\":\"gaussian_nb\",\"theta\":[[0,0],[2,2]],\"var\":[[1,1],[4,4]]," \
    "\"c\":[-1,-2],\"log_prior\":[-0.5,-1]" more "}"
#define QDA(more) \
    "{\"type\":\"qda\",\"means\":[[0,0],[1,1]],\"w\":[[[1],[0]],[[1,0],[0,2]]]," \
    "\"u\":[0.5,1.5],\"log_prior\":[-0.5,-1]" more "}"

static void test_gaussian_nb_and_qda(void **st)
{
    (void)st;
    void *ws;
    double x[] = {1, 2}, pr[2], e[2];
    int32_t c;
    double *extra[4] = {e, NULL, NULL, NULL};
    pd_predict_out_t out = {&c, NULL, pr};
    pd_model_t *m = load(DOC("classification", NB("")));
    ws = malloc(pd_model_scratch_size(m, 1));
    assert_int_equal(pd_model_predict_ex(m, x, 1, ws, &out, extra), 0);
    double j0 = -0.5 + (-1 - 0.5 * (1.0 + 4.0)), j1 = -1 + (-2 - 0.5 * (1.0 / 4 + 0.0));
    assert_true(e[0] == j0 && e[1] == j1);
    assert_int_equal(c, 1);
    assert_true(fabs(pr[1] - 1 / (1 + exp(j0 - j1))) < 1e-15);
    free(ws);
    pd_model_free(m);

    m = load(DOC("classification", QDA("")));
    ws = malloc(pd_model_scratch_size(m, 1));
    assert_int_equal(pd_model_predict_ex(m, x, 1, ws, &out, extra), 0);
    /* class 0: xm (1,2), W col (1,0): t = 1 -> s = 1; class 1: xm (0,1): (0, 2) -> s = 4 */
    double d0 = -0.5 * (1 + 0.5) - 0.5, d1 = -0.5 * (4 + 1.5) - 1;
    assert_true(e[0] == d1 - d0 && c == 0);
    free(ws);
    pd_model_free(m);
}

static void test_refusals(void **st)
{
    (void)st;
    expect_fail(DOC("classification", NB(",\"var\":[[1,1]]")), "$", "duplicate");
    expect_fail(DOC("classification", "{\"type\":\"gaussian_nb\",\"theta\":[[0,0],[2]]}"),
                "$.steps[0].theta[1]", "1 entries, expected 2");
    expect_fail(DOC("classification", "{\"type\":\"gaussian_nb\",\"theta\":[[0,0],[2,2]],"
                                      "\"c\":[1]}"),
                "$.steps[0].c", "1 entries, expected 2");
    expect_fail(DOC("classification", "{\"type\":\"qda\",\"means\":[[0,0],[1,1]],\"u\":[0,0],"
                                      "\"log_prior\":[0,0],\"w\":[[[1],[0]],[[1,0,0],[0,2,0]]]}"),
                "$.steps[0].w[1]", "expected 2 rows of 1..2 numbers");
    expect_fail(DOC("classification", "{\"type\":\"qda\",\"means\":[[0,0],[1,1]],\"u\":[0,0],"
                                      "\"log_prior\":[0,0],\"w\":[[[1],[0,1]],[[1],[0]]]}"),
                "$.steps[0].w[0][1]", "2 entries, expected 1");
    expect_fail("{\"format\":\"predictd-model\",\"version\":1,\"name\":\"t\",\"task\":"
                "\"regression\",\"features\":[\"a\",\"b\"],\"steps\":[" QDA("") "]}",
                "$.steps[0]", "needs a classification model");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gaussian_nb_and_qda),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
