/* tree_build.h - validating one tree given as parallel arrays (from either file format)
 * and appending it, flattened, to a model's tree ensemble. Internal to src/model/. */
#ifndef PD_MODEL_TREE_BUILD_H
#define PD_MODEL_TREE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "model/json_util.h"
#include "model/model_impl.h"

/* One tree as the file gives it. All arrays have n_nodes entries (value: n_nodes * width,
 * width = 1 when output >= 0, else n_outputs) and are borrowed for the call only. Keys name
 * the arrays in error messages. */
typedef struct pd__tree_in_s {
    const char *path; /* JSON path of the tree */
    const char *feature_key, *left_key, *right_key;
    size_t n_nodes;
    const int32_t *feature, *left, *right;
    const double *thr;
    const uint8_t *miss_left; /* NULL: NaN goes right */
    const double *value;
    int32_t output; /* -1: adds to every output column, else that column */
    int xgb;        /* XGBoost rules: a leaf is left == -1 (feature ignored); nodes
                       unreachable from the root (deleted) are skipped */
    int cmp_le;     /* threshold comparison of the file: 1 "x <= t", 0 "x < t" */
} pd__tree_in_t;

/* Allocates the ensemble's arrays for n_trees trees of total_nodes nodes in all, using
 * the fields already set in m->trees (n_outputs, input_f64, f32acc). Returns 0 or
 * PD_ENOMEM. */
int pd__trees_alloc(pd_model_t *m, size_t n_trees, size_t total_nodes);

/* Validates `in` (child ranges, one parent per node, no cycle, leaves, feature indexes
 * below n_features, depth <= PD_MODEL_MAX_TREE_DEPTH) and appends it. Returns 0,
 * PD_EFORMAT (message in c) or PD_ENOMEM. */
int pd__tree_add(pd__jctx_t *c, pd_model_t *m, const pd__tree_in_t *in);

/* Releases unused capacity after the last tree. */
void pd__trees_finish(pd_model_t *m);

/* Thresholds: the float32 t2 such that for every float x, (double)x <= t (le) or
 * (double)x < t (lt) is equivalent to x < t2. */
float pd__thr32(double t, int cmp_le);

#endif
