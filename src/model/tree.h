/* tree.h - the tree-ensemble model type, shared by its kernel (tree.c), its builder
 * (tree_build.c: validating one tree given as parallel arrays, from either file format,
 * and appending it flattened), the predictd step loader (tree_load.c) and the XGBoost
 * JSON loader (load_xgboost.c). Internal to src/model/.
 *
 * Node arrays are laid out so that a walk is a fixed number of branch-free steps (leaves
 * loop onto themselves); every index has been checked by pd__tree_add. */
#ifndef PD_MODEL_TREE_H
#define PD_MODEL_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "model/json_util.h"
#include "model/model_impl.h"

/* Transform after aggregation. */
typedef enum {
    PD__POST_IDENTITY = 0,
    PD__POST_LOGISTIC = 1,
    PD__POST_SOFTMAX = 2,
    PD__POST_NORMALIZE = 3, /* values already are probabilities */
    PD__POST_EXP = 4,       /* expf of the margin (XGBoost's count:poisson, reg:gamma, ...) */
    PD__POST_EXP_F64 = 5,   /* (float)exp((double)margin) (XGBoost's survival:aft) */
} pd__post_t;

/* A float32 tree node, 16 bytes. fm: feature index in bits 0..30, bit 31 = NaN goes left.
 * The kernel goes left when x < thr (or x is NaN and bit 31 is set). A leaf has
 * left == right == its own index; in float32-accumulating ensembles (XGBoost) thr holds
 * the leaf value, otherwise `leaf` holds the leaf's ordinal (its values are at
 * values[value_off[tree] + leaf * width]). Leaf ordinals are small integers, so read as
 * float bits they are never NaN and the (ignored) comparison is harmless. */
typedef struct pd__node32_s {
    uint32_t fm;
    union {
        float thr;     /* split: threshold; f32acc leaf: the leaf value */
        uint32_t leaf; /* leaf (not f32acc): leaf ordinal in the tree's values */
    };
    int32_t left, right;
} pd__node32_t;

/* The float64 variant (HistGradientBoosting), same rules. */
typedef struct pd__node64_s {
    union {
        double thr;
        uint64_t leaf;
    };
    uint32_t fm;
    int32_t left, right;
    int32_t pad_;
} pd__node64_t;

#define PD__FM_MISSING_LEFT 0x80000000u
#define PD__FM_FEATURE 0x7fffffffu

typedef struct pd__tree_s {
    size_t node_off; /* first node in the ensemble's node array */
    int32_t depth;   /* number of steps from the root to the deepest leaf */
    int32_t output;  /* output column this tree adds to, or -1: all n_outputs */
} pd__tree_t;

/* The state of a "tree_ensemble" part. */
typedef struct pd__trees_s {
    size_t n_trees, n_outputs, n_nodes;
    pd__tree_t *trees;
    pd__node32_t *nodes32; /* input_f64 == 0 */
    pd__node64_t *nodes64; /* input_f64 == 1 */
    double *values;        /* f32acc == 0: per leaf, width each (1 for output trees, else
                              n_outputs) */
    size_t n_values, cap_values;
    size_t *value_off;     /* per tree: offset of its first value in values */
    double *base;          /* n_outputs */
    int input_f64;         /* compare in float64 (else inputs are cast to float32) */
    int aggregate_sum;     /* 1: boosting sum starting from base; 0: average then + base */
    int f32acc;            /* XGBoost: accumulate, transform in float32; leaf in node thr */
    int label_by_margin;   /* multi:softmax: label = argmax of margins */
    pd__post_t post;
} pd__trees_t;

/* The tree-ensemble type (tree_load.c). */
extern const pd__part_ops_t pd__trees_ops;

/* Kernel (tree.c): scratch bytes and prediction of a block, as the ops table's. */
size_t pd__trees_scratch(const pd__part_t *p);
void pd__trees_predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                       const pd__out_t *out);

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

/* Allocates t's arrays (owned by m) for n_trees trees of total_nodes nodes in all, using
 * the fields already set in t (n_outputs, input_f64, f32acc). Returns 0 or PD_ENOMEM. */
int pd__trees_alloc(pd_model_t *m, pd__trees_t *t, size_t n_trees, size_t total_nodes);

/* Validates `in` (child ranges, one parent per node, no cycle, leaves, feature indexes
 * below n_features, depth <= PD_MODEL_MAX_TREE_DEPTH) and appends it to t. Returns 0,
 * PD_EFORMAT (message in c) or PD_ENOMEM. */
int pd__tree_add(pd__jctx_t *c, pd_model_t *m, pd__trees_t *t, size_t n_features,
                 const pd__tree_in_t *in);

/* Releases unused capacity after the last tree. */
void pd__trees_finish(pd_model_t *m, pd__trees_t *t);

/* Thresholds: the float32 t2 such that for every float x, (double)x <= t (le) or
 * (double)x < t (lt) is equivalent to x < t2. */
float pd__thr32(double t, int cmp_le);

#endif
