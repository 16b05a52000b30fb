/* registry.h - the set of models a server serves: loaded once at start-up from model files
 * and directories, immutable afterwards, each with its own pool queue.
 *
 * Invariants: 1..PD_REGISTRY_MAX_MODELS models with unique names; `def` indexes the model
 * that the seed endpoints (/predict, /predict_blocking, /predict_non_blocking) use. Models
 * and their schemas live until pd_registry_free. Loop thread only (workers see a model
 * only through its pool queue's run_batch). */
#ifndef PD_API_REGISTRY_H
#define PD_API_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

#define PD_REGISTRY_MAX_MODELS 256
#define PD_REGISTRY_COST_RUNS 201 /* single-row predictions timed at load (median taken) */

struct pd_pool_queue_s;

typedef struct pd_served_model_s {
    char *path;                     /* owned: the file it came from */
    pd_model_t *model;              /* owned */
    const pd_model_schema_t *schema;
    struct pd_pool_queue_s *queue;  /* owned by the pool; set by the app */
    double cost_us;                 /* median single-row predict time measured at load */
    size_t scratch_row;             /* pd_model_scratch_size(model, 1) */
    int inline_ok;                  /* /predict may run one row on the loop (cost < threshold) */
    size_t loop_max_rows;           /* most rows /predict runs on the loop (rows x cost <
                                       threshold); 0: none */
} pd_served_model_t;

typedef struct pd_registry_s {
    pd_served_model_t *models; /* owned, n entries */
    size_t n;
    size_t def;                /* index of the default model */
    void *loop_scratch;        /* owned: scratch for one row of any model, loop thread only */
    size_t max_features;       /* wider models are refused (the pipeline's limit) */
} pd_registry_t;

/* Loads every model named by paths (files, or directories whose *.json files are loaded
 * in name order). default_name (may be NULL) picks the default model; without it the
 * default is the first model loaded. inline_below_us: models cheaper per row than this may run
 * on the loop thread for /predict (0: never). A model with more than max_features features
 * is refused. On failure returns a negative code, writes
 * one line into err (the file and reason) and leaves *r empty. r is owned by the caller;
 * free its contents with pd_registry_free. */
int pd_registry_load(pd_registry_t *r, const char *const *paths, size_t n_paths,
                     const char *default_name, double inline_below_us, size_t max_features,
                     char *err, size_t errlen);

/* Frees every model. Accepts NULL and an empty registry. */
void pd_registry_free(pd_registry_t *r);

/* The model named `name`, or NULL. */
pd_served_model_t *pd_registry_find(pd_registry_t *r, const char *name);

#endif
