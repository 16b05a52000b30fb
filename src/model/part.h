/* part.h - model types. A model is a pipeline of parts: zero or more transformers (scalers,
 * projections) then one estimator. Each part is an instance of a model type, and a type
 * is one module that provides a pd__part_ops_t table (load from its JSON step, scratch
 * size, transform or predict a block of rows, stats, describe, free). The types are listed
 * once, in types.c (pd__part_types); nothing else in src/model names a type, so adding
 * one touches its own file(s), that list, its exporter function and its tests
 * (docs/model-types.md).
 *
 * Threads: load, stats, describe and free run on the loading thread (or with no
 * prediction running); transform and predict run on any number of worker threads at once
 * on the same immutable part, each with its own scratch. Internal to src/model/. */
#ifndef PD_MODEL_PART_H
#define PD_MODEL_PART_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "model/json_util.h"
#include "model/model.h"

/* Rows a kernel processes together; a part's scratch is sized for at most this many. */
#define PD_MODEL_BLOCK_ROWS 64

/* Outputs of one block: every pointer is NULL (not wanted) or points at the block's first
 * row. cls and proba only for classification (proba only when the part has_proba), val
 * only for regression; extra[k] for the part's outputs[k]. */
typedef struct pd__out_s {
    int32_t *cls;   /* class index per row */
    double *val;    /* value per row */
    double *proba;  /* n_classes per row */
    double *extra[PD_MODEL_MAX_OUTPUTS]; /* outputs[k].width per row */
} pd__out_t;

typedef struct pd__part_s pd__part_t;
typedef struct pd__part_ops_s pd__part_ops_t;

/* Flags of a type. */
#define PD__PART_TRANSFORM 1u /* a transformer (ops->transform), else an estimator */
#define PD__PART_NAN_OK 2u    /* takes NaN inputs: estimators route them (trees), or
                                 transformers pass them through as NaN (scalers) */
#define PD__PART_INPUTS 4u    /* an estimator that accepts only some values of the model's
                                 inputs (CategoricalNB: category indexes) and says which
                                 with ops->check: it must be the model's only step (not a
                                 member, not after a transformer), so that pd_model_check
                                 sees the very values it reads */
#define PD__PART_NAN_OWN 8u   /* load sets p->nan_in_ok and p->nan_out itself (imputers,
                                 encoders, column_transformer), instead of NAN_OK */

struct pd__part_ops_s {
    const char *type;  /* the step's "type" in the predictd format, e.g. "svm" */
    unsigned flags;    /* PD__PART_* */
    size_t state_size; /* bytes of the type's own state; allocated zeroed (owned by the
                          model) and set as p->state before load is called */
    /* Reads the step (a JSON object at `path`) into p->state and sets p->n_out
     * (transformers), p->has_proba and p->outputs (estimators). p->n_in, task and
     * n_classes are set. Allocates only with pd__model_calloc(m, ...). Returns 0,
     * PD_EFORMAT with the message in c, or PD_ENOMEM. */
    int (*load)(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                pd__part_t *p);
    /* PD__PART_INPUTS estimators: checks nrows rows of n_in columns (any number of rows,
     * any thread); 0, or -1 with the first bad value's row and column in *row / *col and
     * why it is refused in why (n bytes, NUL-terminated), e.g. "7 is not one of its
     * categories: ...". NULL: every value is accepted. */
    int (*check)(const pd__part_t *p, const double *x, size_t nrows, size_t *row,
                 size_t *col, char *why, size_t n);
    /* Bytes of 8-byte-aligned scratch for PD_MODEL_BLOCK_ROWS rows; NULL means 0. */
    size_t (*scratch)(const pd__part_t *p);
    /* Transformers: nrows (<= PD_MODEL_BLOCK_ROWS) rows of n_in columns in x into nrows
     * rows of n_out columns in y (never aliases x). */
    void (*transform)(const pd__part_t *p, const double *x, size_t nrows, double *y,
                      void *ws);
    /* Estimators: nrows (<= PD_MODEL_BLOCK_ROWS) rows of n_in columns into out. */
    void (*predict)(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                    const pd__out_t *out);
    /* Adds the part's sizes into st (n_trees, n_nodes, n_layers); NULL: nothing. */
    void (*stats)(const pd__part_t *p, pd_model_stats_t *st);
    /* snprintf-like one-line description of the part's parameters, without its type
     * name, e.g. "rbf kernel, 41 support vectors"; NULL: none. */
    int (*describe)(const pd__part_t *p, char *buf, size_t n);
    /* Releases what the part holds outside pd__model_calloc (sub-parts of a composite);
     * NULL when everything came from pd__model_calloc. Called once, also after a failed
     * load. */
    void (*free)(pd__part_t *p);
};

/* One part of a pipeline. Immutable after load. */
struct pd__part_s {
    const pd__part_ops_t *ops;
    void *state;        /* ops->state_size bytes, the type's struct */
    size_t n_in;        /* columns read */
    size_t n_out;       /* transformers: columns written */
    pd_task_t task;     /* estimators: the model's task, */
    size_t n_classes;   /* and its number of classes (classification) */
    int has_proba;      /* estimators (classification): computes probabilities */
    int nan_default;    /* the file says how NaN is routed (trees' missing_left): the
                           model takes missing values unless the file says otherwise */
    int nan_in_ok;      /* PD__PART_NAN_OWN types: NaN inputs are handled as the library
                           does (not an error there) */
    int nan_out;        /* PD__PART_NAN_OWN types: NaN may come out when NaN goes in */
    size_t n_outputs;   /* named outputs of an estimator */
    pd_model_output_t outputs[PD_MODEL_MAX_OUTPUTS];
};

/* The registered types, NULL-terminated (types.c). */
extern const pd__part_ops_t *const pd__part_types[];

/* The type named `type`, or NULL. */
const pd__part_ops_t *pd__part_find(const char *type);

/* Loads one step (a JSON object at path) as a part: looks its "type" up in the list,
 * checks that it is a transformer or an estimator as `want_transform` says, allocates its
 * state and calls its load. task and n_classes describe what an estimator must predict.
 * On failure p->ops may be set (so that pd__part_free releases a half-loaded part).
 * Loader thread only. */
int pd__part_load(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                  size_t n_in, int want_transform, pd_task_t task, size_t n_classes,
                  pd__part_t *p);

/* Makes p an empty part of type ops (state allocated, zeroed) for a loader that fills the
 * state itself (XGBoost JSON builds a tree ensemble). Returns 0 or PD_ENOMEM. */
int pd__part_init(pd_model_t *m, const pd__part_ops_t *ops, size_t n_in, pd_task_t task,
                  size_t n_classes, pd__part_t *p);

/* Declares a named output of estimator p (name and description are static strings).
 * Returns 0, or PD_EFORMAT past PD_MODEL_MAX_OUTPUTS (a type's own bug). */
int pd__part_add_output(pd__part_t *p, const char *name, size_t width, const char *desc);

/* How NaN flows through the chain of n parts: nan_in says NaN may reach the first; *ok
 * is 1 when every part that NaN may reach takes it (estimators: nan_default, or the
 * NAN_OK flag when `flag_ok`; transformers: NAN_OK, or nan_in_ok for NAN_OWN types);
 * *nan_out is 1 when NaN may leave the last part (a transformer chain). */
void pd__parts_nan(const pd__part_t *parts, size_t n, int nan_in, int flag_ok, int *ok,
                   int *nan_out);

/* Calls p->ops->free if any. Accepts a part with no ops. */
void pd__part_free(pd__part_t *p);

/* Scratch of a part, 8-byte aligned (0 when the type has no scratch op). */
size_t pd__part_scratch(const pd__part_t *p);

#endif
