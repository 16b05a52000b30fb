/* model_impl.h - the inside of a loaded model, shared by the loaders (load_*.c) and the
 * kernels (tree.c, linear.c, mlp.c, pipeline.c). Not part of the public API.
 *
 * Invariants of a loaded pd_model_t: every array is owned by the model and immutable after
 * load; every index stored in it (feature, child, output column) has been range-checked by
 * the loader, so the kernels index without checks. Tree node arrays are laid out so that a
 * walk is a fixed number of branch-free steps (leaves loop onto themselves). */
#ifndef PD_MODEL_IMPL_H
#define PD_MODEL_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

/* Limits (docs/model-format.md "Limits"). */
#define PD_MODEL_MAX_FILE_BYTES ((size_t)1 << 30)
#define PD_MODEL_MAX_JSON_DEPTH 64
#define PD_MODEL_MAX_TREES 100000
#define PD_MODEL_MAX_NODES 10000000
#define PD_MODEL_MAX_TREE_DEPTH 1000
#define PD_MODEL_MAX_FEATURES 100000
#define PD_MODEL_MAX_CLASSES 10000
#define PD_MODEL_MAX_NAME 128
#define PD_MODEL_MAX_LAYERS 64
#define PD_MODEL_MAX_LAYER_WIDTH 100000
#define PD_MODEL_MAX_LAYER_WEIGHTS ((size_t)1 << 27) /* n_in * n_out of one layer */
#define PD_MODEL_MAX_STEPS 16
/* Rows a kernel processes together; scratch is sized for at most this many rows. */
#define PD_MODEL_BLOCK_ROWS 64

typedef enum { PD__EST_LINEAR = 1, PD__EST_TREES = 2, PD__EST_MLP = 3 } pd__est_kind_t;

/* Links and transforms (linear link, tree post_transform, MLP output activation). */
typedef enum {
    PD__LINK_IDENTITY = 0,
    PD__LINK_LOGISTIC = 1,
    PD__LINK_SOFTMAX = 2,
    PD__LINK_OVR = 3,
    PD__LINK_NORMALIZE = 4
} pd__link_t;

typedef enum { PD__ACT_IDENTITY = 0, PD__ACT_RELU = 1, PD__ACT_TANH = 2, PD__ACT_LOGISTIC = 3 } pd__act_t;

typedef enum {
    PD__SCALER_STANDARD = 1, /* (x - a) / b */
    PD__SCALER_MINMAX = 2,   /* x * a + b */
    PD__SCALER_MAXABS = 3,   /* x / b */
} pd__scaler_kind_t;

typedef struct pd__scaler_s {
    pd__scaler_kind_t kind;
    double *a; /* n_features entries, or NULL (standard: no centering) */
    double *b; /* n_features entries, or NULL (standard: no scaling) */
} pd__scaler_t;

typedef struct pd__linear_s {
    size_t n_rows;     /* 1 or n_classes */
    double *coef;      /* n_rows * n_features, row-major */
    double *intercept; /* n_rows */
    pd__link_t link;
} pd__linear_t;

typedef struct pd__layer_s {
    size_t n_in, n_out;
    double *w; /* n_in * n_out, row-major (rows of n_out) */
    double *b; /* n_out */
} pd__layer_t;

typedef struct pd__mlp_s {
    size_t n_layers;
    pd__layer_t *layers;
    pd__act_t act;
    pd__link_t out; /* IDENTITY, LOGISTIC or SOFTMAX */
    size_t max_width;
} pd__mlp_t;

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
    pd__link_t post;
} pd__trees_t;

struct pd_model_s {
    pd_model_schema_t schema;
    char *name, *version, *source, *kind;
    char **feature_names;
    char **class_str;
    int64_t *class_int;
    size_t n_scalers;
    pd__scaler_t scalers[PD_MODEL_MAX_STEPS];
    pd__est_kind_t est;
    pd__linear_t linear;
    pd__trees_t trees;
    pd__mlp_t mlp;
    size_t n_params;
    size_t bytes; /* heap bytes held (tracked by pd__model_alloc) */
    int missing_left_seen; /* a tree gave missing_left (the loader's default for
                              schema.missing_ok) */
};

/* Allocates n*size zeroed bytes charged to m->bytes; NULL on overflow or failure. */
void *pd__model_calloc(pd_model_t *m, size_t n, size_t size);
/* Duplicates s, charged to m->bytes; NULL on failure. */
char *pd__model_strdup(pd_model_t *m, const char *s);

/* Kernels. x: nrows <= PD_MODEL_BLOCK_ROWS rows of n_features doubles (already scaled).
 * They write class_index/value/proba for those rows (any may be NULL). ws: scratch of
 * pd__*_scratch(m) bytes, 8-byte aligned. */
size_t pd__trees_scratch(const pd_model_t *m);
void pd__trees_predict(const pd_model_t *m, const double *x, size_t nrows, void *ws,
                       int32_t *cls, double *val, double *proba);
size_t pd__linear_scratch(const pd_model_t *m);
void pd__linear_predict(const pd_model_t *m, const double *x, size_t nrows, void *ws,
                        int32_t *cls, double *val, double *proba);
size_t pd__mlp_scratch(const pd_model_t *m);
void pd__mlp_predict(const pd_model_t *m, const double *x, size_t nrows, void *ws,
                     int32_t *cls, double *val, double *proba);
/* Applies the scalers to nrows rows of x, writing into y (may not alias x). */
void pd__scalers_apply(const pd_model_t *m, const double *x, size_t nrows, double *y);

/* Shared transforms (double): softmax in place over n values, logistic. */
void pd__softmax(double *z, size_t n);
double pd__sigmoid(double z);
/* Index of the first largest value among n. */
int32_t pd__argmax(const double *z, size_t n);

/* Loaders: fill m from a parsed JSON root. ctx carries the label and error buffer. */
struct pd__jctx_s;
int pd__load_predictd(struct pd__jctx_s *c, const void *root, pd_model_t *m);
int pd__load_xgboost(struct pd__jctx_s *c, const void *root, pd_model_t *m);

#endif
