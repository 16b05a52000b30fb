/* model_impl.h - the inside of a loaded model: identity and schema fields, the pipeline of
 * parts (part.h) and the allocations they hold. Shared by the loaders (load_*.c) and the
 * model types. Not part of the public API.
 *
 * Invariants of a loaded pd_model_t: every allocation is made with pd__model_calloc (or
 * pd__model_realloc), is owned by the model, listed in `allocs` and freed by
 * pd_model_free, so a loader that fails half-way leaks nothing whatever it had built;
 * everything is immutable after load; every index stored in a part (feature, child,
 * output column) has been range-checked by its loader, so kernels index without checks. */
#ifndef PD_MODEL_IMPL_H
#define PD_MODEL_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "model/part.h"

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
/* Categories of one input or one encoder's column, and the bytes of one category. */
#define PD_MODEL_MAX_CATEGORIES 100000
#define PD_MODEL_MAX_CATEGORY_BYTES 1024
/* Numbers one dense array of a part may hold (support vectors, neighbours' rows,
 * components): 2^27 doubles = 1 GiB, the file limit's order. */
#define PD_MODEL_MAX_ARRAY ((size_t)1 << 27)
/* Parsing a file's JSON may hold at most this many times its size in jansson blocks, at
 * least PD_MODEL_PARSE_FLOOR, at most pd_model_max_parse_bytes() (json_budget.h). */
#define PD_MODEL_PARSE_FACTOR 12
#define PD_MODEL_PARSE_FLOOR ((size_t)64 << 20)

struct pd__alloc_s; /* header of one model allocation (model.c) */

struct pd_model_s {
    pd_model_schema_t schema;
    char *name, *version, *source, *kind;
    char **feature_names;
    pd_model_input_t *inputs;             /* n_features entries (inputs.c) */
    char **class_str;
    int64_t *class_int;
    size_t n_parts;                       /* transformers, then one estimator (last) */
    pd__part_t parts[PD_MODEL_MAX_STEPS];
    size_t max_width;                     /* widest row between two parts */
    size_t n_params;
    size_t bytes;                /* heap bytes held (every pd__model_calloc) */
    int load_depth;              /* loader only: parts being loaded (pd__part_load), so a
                                    composite's members are loaded at depth > 0 */
    const char *loading_type;    /* loader only: the type whose load is running, or NULL */
    struct pd__alloc_s *allocs;  /* every allocation, freed by pd_model_free */
};

/* Allocates n*size zeroed bytes owned by m (freed with it), charged to m->bytes; NULL on
 * overflow or failure. Loader thread only. */
void *pd__model_calloc(pd_model_t *m, size_t n, size_t size);
/* Resizes p (from pd__model_calloc on m) to n*size bytes; new bytes are not zeroed. On
 * failure returns NULL and p stays valid. */
void *pd__model_realloc(pd_model_t *m, void *p, size_t n, size_t size);
/* Duplicates s, owned by m; NULL on failure. */
char *pd__model_strdup(pd_model_t *m, const char *s);

/* Shared transforms (double): softmax in place over n values, logistic. */
void pd__softmax(double *z, size_t n);
double pd__sigmoid(double z);
/* The standard normal quantile function (scipy.stats.norm.ppf): -inf at 0, +inf at 1, NaN
 * outside [0, 1] and for NaN. Within a few ulp of scipy's ndtri (math.c says how). */
double pd__norm_ppf(double p);
/* Index of the first largest value among n. */
int32_t pd__argmax(const double *z, size_t n);

/* File formats: each fills m (schema and pipeline) from a parsed JSON root. c carries the
 * label and error buffer. */
struct pd__jctx_s;
int pd__load_predictd(struct pd__jctx_s *c, const void *root, pd_model_t *m);
int pd__load_xgboost(struct pd__jctx_s *c, const void *root, pd_model_t *m);

#endif
