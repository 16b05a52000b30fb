/* test_model_util.h - helpers the model types' unit tests share: load a model document
 * (failing the test if it does not load), expect a load to fail with a path and a reason,
 * and run a batch with up to two named outputs. Header-only (static inline): each test
 * file is its own executable. */
#ifndef PD_TEST_MODEL_UTIL_H
#define PD_TEST_MODEL_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/model.h"

/* The model of document json (labelled "t.json"); the caller frees it. */
static inline pd_model_t *load(const char *json)
{
    char err[512];
    pd_model_t *m = NULL;
    if (pd_model_load_buffer(json, strlen(json), "t.json", &m, err, sizeof err))
        fail_msg("load failed: %s", err);
    return m;
}

/* json must be refused with "t.json: <path>: ...<reason>...". */
static inline void expect_fail(const char *json, const char *path, const char *reason)
{
    char err[512] = "";
    pd_model_t *m = NULL;
    if (pd_model_load_buffer(json, strlen(json), "t.json", &m, err, sizeof err) >= 0 || m)
        fail_msg("loaded, expected %s: %s", path, reason);
    char want[300];
    snprintf(want, sizeof want, "t.json: %s: ", path);
    if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, reason))
        fail_msg("message \"%s\" lacks \"%s\" + \"%s\"", err, want, reason);
}

/* Predicts n rows of x, the first two named outputs (when not NULL) into e0 and e1. */
static inline void run_ex(const pd_model_t *m, const double *x, size_t n, int32_t *cls,
                          double *val, double *proba, double *e0, double *e1)
{
    void *ws = malloc(pd_model_scratch_size(m, n) + 8);
    pd_predict_out_t out = {cls, val, proba};
    double *extra[4] = {e0, e1, NULL, NULL};
    assert_int_equal(pd_model_predict_ex(m, x, n, ws, &out, extra), 0);
    free(ws);
}

#endif
