/* app.h - the application behind `predictd serve`: models, worker pool, metrics and the
 * event-loop monitor, and every route except the server's own error answers.
 *
 * Lifetime: pd_app_create before the server exists (it registers routes on the router),
 * pd_app_attach_server once the server exists and before the loop runs, pd_app_destroy
 * after uv_run returned (the server drained: no request is unanswered). Loop thread only. */
#ifndef PD_API_APP_H
#define PD_API_APP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "api/repository.h"
#include "http/http.h"

#define PD_APP_DEFAULT_INLINE_BELOW_US 10.0

typedef struct pd_app_options_s {
    const char *const *model_paths; /* files or directories; borrowed during create */
    size_t n_model_paths;
    const char *default_model;      /* NULL: the first model loaded */
    size_t max_models;              /* model names served at once */
    pd_model_control_t model_control; /* none, poll or explicit */
    uint32_t poll_ms;               /* poll mode's fallback rescan period */
    int strict;                     /* any load failure at start is fatal */
    const char *admin_token_file;   /* explicit mode: the token's file, else the
                                       PREDICTD_ADMIN_TOKEN environment variable */
    unsigned workers;               /* 0: online CPUs */
    size_t max_queue;               /* jobs waiting per model; 0: default */
    size_t max_batch;               /* rows per worker batch (and per chunk); 0: default */
    size_t max_rows;                /* rows per request; 0: default */
    size_t decode_on_worker_above;  /* bodies larger than this many bytes are decoded on
                                       a worker; 0: default */
    double inline_below_us;         /* 0: /predict never runs a model on the loop */
    uint32_t queue_timeout_ms;      /* 0: jobs wait for ever */
    uint32_t slow_callback_ms;      /* loop-iteration warning threshold */
    int worker_nice;                /* workers' nice increment (0: same priority) */
    const char *docs_dir;           /* Swagger UI's files (api/docs.h); NULL: found next
                                       to the binary or in the working directory */
    uint32_t feature_timeout_ms;    /* a feature lookup's deadline (api/fsource.h) */
    uint32_t feature_connections;   /* connections per feature source */
    size_t feature_max_pending;     /* keys in flight per feature source */
} pd_app_options_t;

typedef struct pd_app_s pd_app_t;

/* Fills *o with the defaults (no model paths): the single source of each default, which
 * `predictd serve` shows in its help. */
void pd_app_options_default(pd_app_options_t *o);

/* Loads the models of the repository, starts watching it as model_control says, starts
 * the pool and the loop monitor (call before the loop first runs), and registers all
 * routes on router, which must outlive the app. On failure returns a negative code and one
 * line in err (PD_EINVAL: explicit control without a token). */
int pd_app_create(pd_app_t **out, uv_loop_t *loop, pd_router_t *router,
                  const pd_app_options_t *o, char *err, size_t errlen);

/* Fills the hooks the server should call (metrics, loop monitor context). on_drained
 * (may be NULL) is called with arg when the server finished draining; arg is borrowed and
 * must outlive the app. */
void pd_app_hooks(pd_app_t *app, pd_http_hooks_t *hooks,
                  void (*on_drained)(void *arg, unsigned cut_off), void *arg);

/* Tells the app its server (for readiness and connection metrics); borrowed, must outlive
 * the app. */
void pd_app_attach_server(pd_app_t *app, pd_http_server_t *srv);

/* Drains the pool and frees everything. Call after uv_run returned; then run the loop
 * once more (UV_RUN_NOWAIT) for the close callbacks. Accepts NULL. */
void pd_app_destroy(pd_app_t *app);

#endif
