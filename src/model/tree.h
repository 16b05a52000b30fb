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

/* A categorical split (tree_cat.c). The input is cast to a category c as the ensemble's
 * cat_cast says; c goes left when its bit is set in the split's left words, right when set
 * in its right words; any other value (an unseen category, a negative one, one past the
 * words) goes left iff other_left. NaN follows the node's PD__FM_MISSING_LEFT bit. */
typedef struct pd__catsplit_s {
    size_t off;       /* first word in cat_bits: n_words left words, then n_words right */
    uint32_t n_words; /* bits for categories 0 .. 32 * n_words - 1 */
    uint8_t other_left;
} pd__catsplit_t;

/* How an input value becomes a category. */
typedef enum {
    PD__CAT_INT = 0,   /* XGBoost: (float)x < 0 or >= 2^24 is no category, else (int)x */
    PD__CAT_UINT8 = 1, /* scikit-learn HGB: x < 0 is no category, else the low byte of
                          (int32)x (its compiled (uint8_t)x; x >= 2^31: 0) */
} pd__catcast_t;

/* Largest category value a file may name (bounds a split's bitset). */
#define PD__CAT_MAX ((1 << 20) - 1)

/* Complete-tree layout (tree_fast.c), for float32 ensembles whose trees are all at most
 * PD__CT_MAX_DEPTH deep: tree i of depth D keeps 2^D - 1 split nodes in level order (the
 * children of position p are 2p+1 and 2p+2; a leaf above depth D is padded with splits
 * whose two sides hold copies of it) and 2^D leaf words (the f32acc leaf value's bits,
 * else the leaf ordinal). 8 bytes a split, 4 a leaf, no child indexes. */
#define PD__CT_MAX_DEPTH 8

typedef struct pd__cnode_s {
    float thr;   /* go left when x < thr (or x is NaN and fm bit 31 is set) */
    uint32_t fm; /* feature index | PD__FM_MISSING_LEFT */
} pd__cnode_t;

/* Kernel variants (tree_fast.c), chosen at load: the best the CPU supports, or the one
 * named by PD_TREE_KERNEL (tests force each). GENERIC is tree.c's node-array walk and no
 * complete layout; SCALAR the complete layout when it fits, else tree.c's walk; AVX2 and
 * AVX-512 the complete layout when it fits, else their node-array walk (tree_nodes.c). */
typedef enum {
    PD__TK_GENERIC = 0,
    PD__TK_SCALAR = 1, /* complete layout, portable C */
    PD__TK_AVX2 = 2,   /* complete layout, 8-lane gathers */
    PD__TK_AVX512 = 3, /* complete layout, 16-lane gathers */
} pd__tkern_t;

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
    /* Categorical splits: cat_of is NULL when the ensemble has none (the numeric kernels
     * of tree.c run); else the walk of tree_cat.c runs, and cat_of[node] is -1 (numeric)
     * or the node's index into cats. */
    int32_t *cat_of;       /* cap_nodes entries */
    size_t cap_nodes;      /* total nodes given to pd__trees_alloc */
    pd__catsplit_t *cats;
    size_t n_cats, cap_cats;
    uint32_t *cat_bits;
    size_t n_cat_bits, cap_cat_bits;
    pd__catcast_t cat_cast;
    /* Complete-tree layout (when cnodes != NULL; nodes32 is then released). */
    int kernel;            /* pd__tkern_t: the variant chosen at load (float32 input) */
    pd__cnode_t *cnodes;   /* all trees' splits, tree i from ct_node[i] */
    uint32_t *cleaves;     /* all trees' leaf words; tree i's leaf p (a position >= 2^D - 1)
                              is cleaves[ct_leaf[i] + p - (2^D - 1)] */
    uint32_t *ct_node, *ct_leaf; /* per tree */
    int32_t *ct_depth, *ct_lbase; /* per tree: depth, and ct_leaf - (2^depth - 1) (may be
                                     negative), for the single-row vector walks */
    /* Without the complete layout, AVX-512 keeps ct_node (the tree's first node in nodes32)
     * and ct_depth for its single-row node walk (NULL when not built). */
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
    const int32_t *cat_split; /* NULL: all splits numeric; else per node -1 or the index
                                 pd__trees_add_catsplit returned (its threshold unused) */
} pd__tree_in_t;

/* Allocates t's arrays (owned by m) for n_trees trees of total_nodes nodes in all, using
 * the fields already set in t (n_outputs, input_f64, f32acc). Returns 0 or PD_ENOMEM. */
int pd__trees_alloc(pd_model_t *m, pd__trees_t *t, size_t n_trees, size_t total_nodes);

/* Validates `in` (child ranges, one parent per node, no cycle, leaves, feature indexes
 * below n_features, depth <= PD_MODEL_MAX_TREE_DEPTH) and appends it to t. Returns 0,
 * PD_EFORMAT (message in c) or PD_ENOMEM. */
int pd__tree_add(pd__jctx_t *c, pd_model_t *m, pd__trees_t *t, size_t n_features,
                 const pd__tree_in_t *in);

/* Appends a categorical split to t (storage owned by m): nl categories that go left,
 * nr that go right (each in [0, PD__CAT_MAX]; path names them in errors), others left iff
 * other_left. Allocates t->cat_of (all -1) on first use. Its index into *index. Returns 0,
 * PD_EFORMAT (a category out of range or on both sides) or PD_ENOMEM. Loader thread. */
int pd__trees_add_catsplit(pd__jctx_t *c, pd_model_t *m, pd__trees_t *t, const char *path,
                           const int32_t *left, size_t nl, const int32_t *right, size_t nr,
                           int other_left, int32_t *index);

/* Kernel of ensembles with categorical splits (tree_cat.c): adds every tree's leaf for n
 * rows of xin (float32 or float64 as t->input_f64, nf columns) into acc, as tree.c's
 * numeric accumulation does (same layout, same tree order). Any thread, no allocation. */
void pd__trees_accumulate_cat(const pd__trees_t *t, const void *xin, size_t nf, size_t n,
                              void *acc);

/* Releases unused capacity after the last tree, then lays the trees out for the fastest
 * kernel that fits (pd__trees_compact). Never fails: a layout that cannot be built leaves
 * the generic walk (always, for an ensemble with categorical splits: only tree_cat.c
 * knows them). */
void pd__trees_finish(pd_model_t *m, pd__trees_t *t);

/* tree_fast.c. The kernel variant to use: PREDICTD_TREE_KERNEL (generic, scalar, avx2,
 * avx512; one the CPU lacks falls back to the best it has) or the best available. Reads
 * the environment: call at load time only. */
pd__tkern_t pd__tree_kernel_choice(void);

/* Sets t->kernel (float32 input) and, unless it is GENERIC, builds the complete-tree layout
 * when every tree is at most PD__CT_MAX_DEPTH deep and the layout stays within 1.25x the
 * node array, then releases nodes32 (to one byte). Returns 0 (layout built or not
 * applicable) or PD_ENOMEM (no layout: the node-array walk stays). Load time only. */
int pd__trees_compact(pd_model_t *m, pd__trees_t *t, pd__tkern_t kernel);

/* Adds every tree's leaves for rows [0, n) of xf (n <= PD_MODEL_BLOCK_ROWS, nf floats a
 * row) into acc (float when f32acc, else double; n_outputs a row), in tree order, with the
 * complete layout. no_nan: xf holds no NaN. Any thread; reads t only. */
/* Adds tree ti's leaf words lw (rows [0, n): the f32acc leaf value's bits, else the leaf
 * ordinal) into acc (n rows of n_outputs), as tree.c's walk does. Any thread. */
void pd__trees_add_leaves(const pd__trees_t *t, size_t ti, const uint32_t *lw, size_t n,
                          void *acc);

/* Adds the leaf words lw of trees [t0, t0 + g) for one row into a (n_outputs entries), in
 * tree order. Any thread. */
#define PD__ROW_IN_REGS 32 /* single-row AVX-512 walks: up to this many features, the row is
                              held in two registers and permuted instead of gathered */
void pd__trees_add_row_words(const pd__trees_t *t, size_t t0, const uint32_t *lw, size_t g,
                             void *a);

/* tree_nodes.c: pd__trees_accumulate_compact's contract, over the node arrays (nodes32),
 * for t->kernel AVX2 or AVX-512; fewer than 4 rows only with AVX-512 and ct_node built. */
void pd__trees_accumulate_nodes(const pd__trees_t *t, const float *xf, size_t nf, size_t n,
                                int no_nan, void *acc);

void pd__trees_accumulate_compact(const pd__trees_t *t, const float *xf, size_t nf, size_t n,
                                  int no_nan, void *acc);

/* Thresholds: the float32 t2 such that for every float x, (double)x <= t (le) or
 * (double)x < t (lt) is equivalent to x < t2. */
float pd__thr32(double t, int cmp_le);

#endif
