/* member.h - members of composite model types (voting, bagging, adaboost, calibrated,
 * stacking, ...): each member is a part loaded through the type table (any estimator, or a
 * "pipeline" part), reading all of the composite's input columns or a subset of them,
 * with its own classes mapped into the composite's. Internal to src/model/.
 *
 * A member's JSON: {"step": {a step}, "features": [column indexes] (optional),
 * "classes": [composite class index of each member class] (optional, classifiers),
 * "weight": number (optional, default 1)}. Members are owned by the model (allocated
 * with pd__model_calloc); pd__members_free releases what their parts hold. */
#ifndef PD_MODEL_MEMBER_H
#define PD_MODEL_MEMBER_H

#include "model/model_impl.h"

/* Members one composite may have. */
#define PD_MODEL_MAX_MEMBERS 10000

typedef struct pd__member_s {
    pd__part_t part;
    size_t n_cols;       /* columns the member reads */
    int32_t *cols;       /* n_cols input column indexes, or NULL: all columns in order */
    int32_t *class_map;  /* classifiers: composite class of each member class (identity
                            when the file gives none) */
    double weight;
} pd__member_t;

/* Loads parent-step[key], an array of 1..PD_MODEL_MAX_MEMBERS members, each an estimator
 * of `task` reading p->n_in columns (or its "features"); classifiers' classes are
 * checked to map into p->n_classes. *out is owned by m. On failure *n counts the members
 * that need pd__members_free. */
int pd__members_load(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                     const char *key, const pd__part_t *p, pd_task_t task,
                     pd__member_t **out, size_t *n);

/* Scratch one member needs for a block (its column buffer and its part's scratch). */
size_t pd__member_scratch(const pd__member_t *mb);

/* Runs member mb on nrows (<= PD_MODEL_BLOCK_ROWS) rows of x (n_in columns each) into
 * out (member classes, not yet mapped). ws: pd__member_scratch(mb) bytes. */
void pd__member_predict(const pd__member_t *mb, const double *x, size_t n_in, size_t nrows,
                        void *ws, const pd__out_t *out);

/* Index of the member's named output `name`, or -1. */
int pd__member_output(const pd__member_t *mb, const char *name);

/* Frees what the members' parts hold. Accepts NULL. */
void pd__members_free(pd__member_t *mbs, size_t n);

/* Adds the members' stats into st. */
void pd__members_stats(const pd__member_t *mbs, size_t n, pd_model_stats_t *st);

#endif
