/* registry.h - the models a server serves, by name, each with its loaded versions. Models
 * come and go while the server runs (api/repository.c loads them off the loop and installs
 * them here); a request holds a reference to the version it started with, so a swap never
 * fails a request in flight.
 *
 * Lifetimes:
 * - a pd_served_model_t (one per name ever seen) lives until pd_registry_free: its slot,
 *   its pool queue and its counters survive an unload, so a name that comes back reuses
 *   them. At most max_models names.
 * - a pd_model_version_t is immutable once installed (its model may be read by any worker).
 *   The registry holds one reference while the version is served; each request holds one
 *   from pd_registry_acquire until pd_registry_release. A version that is replaced or
 *   unloaded is "retired": it stays alive until its last reference is released, then it
 *   is freed (on the loop thread, so never while a worker runs it: a worker runs a version
 *   only inside a job of a request that holds a reference).
 * Threads: loop thread only, except `unloaded`, which workers read (atomic). With several
 * event loops (serve --loops), every loop's thread uses it too, always holding the app
 * lock (util/applock.h); installs and retirements stay on the main loop. */
#ifndef PD_API_REGISTRY_H
#define PD_API_REGISTRY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "api/infer_stats.h"
#include "model/model.h"

#define PD_REGISTRY_DEFAULT_MAX_MODELS 256
#define PD_REGISTRY_MAX_MODELS_LIMIT 32767 /* the pool holds two queues per model + 1 */
#define PD_REGISTRY_MAX_VERSIONS 64     /* versions of one model loaded at once */
#define PD_REGISTRY_COST_RUNS 201       /* single-row predictions timed at load (median) */
#define PD_REGISTRY_REASON_MAX 512      /* bytes kept of a load failure's message */
#define PD_REGISTRY_LABEL_MAX 136       /* a version's label: its folder number or the
                                           file's model_version (128 chars) + NUL */

struct pd_pool_queue_s;
struct pd_served_model_s;
struct pd_fsource_spec_s;

typedef enum {
    PD_MODEL_LOADING = 0,  /* its first version is being loaded */
    PD_MODEL_READY = 1,    /* at least one version is served */
    PD_MODEL_FAILED = 2,   /* nothing served: every load failed */
    PD_MODEL_UNLOADED = 3  /* unloaded (explicit control) or removed from the repository */
} pd_model_state_t;

typedef struct pd_model_version_s {
    struct pd_served_model_s *owner;
    pd_model_t *model;               /* owned */
    const pd_model_schema_t *schema; /* the model's */
    char *path;                      /* owned: the file it came from */
    uint64_t number;                 /* orders versions: folder number, or model_version
                                        when it is an integer, else 0 */
    char label[PD_REGISTRY_LABEL_MAX]; /* X-Model-Version: "2" */
    double cost_us;                  /* median single-row predict time, measured at load */
    size_t scratch_row;              /* pd_model_scratch_size(model, 1) */
    struct pd_fsource_spec_s *features; /* owned: the feature source its settings name
                                        (api/fsource.h), or NULL; read with the model,
                                        swapped with it on reload, freed with it */
    uint32_t refs;                   /* 1 while served + one per request holding it */
    int retired;                     /* no longer served: freed when refs reaches 0 */
    atomic_int unloaded;             /* unloaded: queued chunks are answered 503 unrun */
    pd_infer_stats_t stats;          /* the pipeline's counters (loop thread), from zero at
                                        install; freed with the version */
} pd_model_version_t;

typedef struct pd_served_model_s {
    char *name;                      /* owned */
    pd_model_version_t *versions[PD_REGISTRY_MAX_VERSIONS]; /* served, by number ascending */
    size_t n_versions;
    pd_model_version_t *primary;     /* the one /models/{name}/predict uses: the newest */
    struct pd_pool_queue_s *queue;   /* the pipeline's, created on first use; never freed */
    struct pd_pool_queue_s *bulk_queue; /* its queue for the chunks of big requests */
    pd_model_state_t state;
    char reason[PD_REGISTRY_REASON_MAX]; /* the last load failure, "" when none */
    uint64_t loads_ok, loads_failed; /* counters for metrics */
    uint32_t retired_refs;           /* references still held on retired versions */
    int pinned_unloaded;             /* explicitly unloaded: rescans leave it unloaded */
} pd_served_model_t;

typedef struct pd_registry_s {
    pd_served_model_t **models;      /* owned, n of max_models slots, in order of arrival */
    size_t n, max_models;
    char *default_name;              /* owned; NULL: the first model that became ready */
    double inline_below_us;          /* for loop_max_rows */
    size_t max_features;             /* wider models are refused at install */
    void *loop_scratch;              /* owned: one row of any served model, loop thread */
    size_t loop_scratch_size;
    uint64_t installs;               /* versions installed so far (tests, logs) */
} pd_registry_t;

/* Prepares an empty registry. default_name (may be NULL) is copied. Returns 0 or
 * PD_ENOMEM. Free with pd_registry_free. */
int pd_registry_init(pd_registry_t *r, size_t max_models, const char *default_name,
                     double inline_below_us, size_t max_features);

/* Frees every model and version (retired or not: call when no request holds one, i.e.
 * after the pool is destroyed and the server drained). Accepts NULL. */
void pd_registry_free(pd_registry_t *r);

/* The model named `name` (any state), or NULL. */
pd_served_model_t *pd_registry_find(pd_registry_t *r, const char *name);

/* The default model: --default-model, else the first model that became ready; NULL when
 * it is not ready. */
pd_served_model_t *pd_registry_default(pd_registry_t *r);

/* Takes a reference to a served version: of model `name` (NULL: the default model),
 * `version` by label (NULL: the primary). Returns NULL when there is none. Release it
 * with pd_registry_release on the loop thread, exactly once. */
pd_model_version_t *pd_registry_acquire(pd_registry_t *r, const char *name,
                                        const char *version);
/* Drops a reference; frees a retired version at its last one. Accepts NULL. */
void pd_registry_release(pd_registry_t *r, pd_model_version_t *v);

/* Measures a freshly loaded model (its cost per row: call off the loop, it runs the model
 * PD_REGISTRY_COST_RUNS times) into *cost_us. scratch: pd_model_scratch_size(m, 1) bytes.
 * Returns 0 or PD_ENOMEM. Thread-safe. */
int pd_registry_measure(const pd_model_t *m, void *scratch, double *cost_us);

/* Installs a loaded model as version (number, label) of the model it names (name: the
 * folder's name, or NULL for the model's own schema name), with its feature source
 * (features, may be NULL). Takes ownership of m, path (malloc'd) and features in every
 * case. A version with the same number is replaced (retired); the
 * newest becomes the primary. Returns the served model, or NULL with a reason in err
 * (too many models or versions, too wide, out of memory): then m and path are freed. */
pd_served_model_t *pd_registry_install(pd_registry_t *r, const char *name, pd_model_t *m,
                                       char *path, struct pd_fsource_spec_s *features,
                                       uint64_t number, const char *label, double cost_us,
                                       char *err, size_t errlen);

/* Records a failed load of model `name` (the reason is copied and logged by the caller);
 * what it serves stays served. Returns the model (created in state FAILED if new), or NULL
 * when the registry is full. */
pd_served_model_t *pd_registry_fail(pd_registry_t *r, const char *name, const char *reason);

/* Marks a model whose first load is in progress (state LOADING unless already ready).
 * Returns the model or NULL when the registry is full. */
pd_served_model_t *pd_registry_loading(pd_registry_t *r, const char *name);

/* Retires version `number` of sm (it was removed from the repository). */
void pd_registry_remove_version(pd_registry_t *r, pd_served_model_t *sm, uint64_t number);

/* Retires every version of sm and marks it UNLOADED (queued chunks of its versions are
 * answered 503 without running; new requests get 404). */
void pd_registry_unload(pd_registry_t *r, pd_served_model_t *sm);

/* The largest n such that n rows of v cost less than inline_below_us (0: never on the
 * loop). */
size_t pd_registry_loop_max_rows(const pd_registry_t *r, const pd_model_version_t *v);

/* 1 when at least one model is ready and none is loading its first version. */
int pd_registry_ready(const pd_registry_t *r);

#endif
