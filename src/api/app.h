/* app.h - the application behind `predictd serve`: models, worker pool, metrics and the
 * event-loop monitor, and every route except the server's own error answers.
 *
 * Two parts. The app (pd_app_t) is process-wide: the model registry and the repository
 * that fills it, the control API, the worker pool, the metrics registry; it belongs to the
 * main loop. A front (pd_app_front_t) is one event loop's share: its router and routes,
 * prediction pipeline, feature-store connections, loop monitor, docs, health, and the
 * pool's completion channel of that loop. One loop (the default) has one front on the main
 * loop and takes no lock; with several (serve --loops N, cli/serve_loops.c) each loop has
 * its front and every use of the app's shared state holds the app lock (util/applock.h).
 *
 * Lifetime: pd_app_create, then for each loop pd_app_front_create before that loop's
 * server exists (it registers routes on the router), pd_app_front_attach_server once the
 * server exists and before the loop runs; after the servers drained,
 * pd_app_front_destroy for the fronts on their own loops (pd_app_destroy destroys the
 * main loop's front itself), then pd_app_destroy. Main loop thread unless said. */
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
    unsigned loops;                 /* event loops serving HTTP (0 counts as 1); with more
                                       than one, explicit model control is refused */
} pd_app_options_t;

/* Most event loops (serve --loops). */
#define PD_APP_MAX_LOOPS 64

typedef struct pd_app_s pd_app_t;
typedef struct pd_app_front_s pd_app_front_t;

/* Fills *o with the defaults (no model paths): the single source of each default, which
 * `predictd serve` shows in its help. */
void pd_app_options_default(pd_app_options_t *o);

/* Loads the models of the repository, starts watching it as model_control says, and
 * starts the pool on `loop` (the main loop; call before it first runs). On failure
 * returns a negative code and one line in err (PD_EINVAL: explicit control without a
 * token, or with several loops). */
int pd_app_create(pd_app_t **out, uv_loop_t *loop, const pd_app_options_t *o, char *err,
                  size_t errlen);

/* Creates the front of `loop` (the main loop's for the first front of a one-loop app;
 * any other loop otherwise) and registers every route on router, which must outlive the
 * front. Called on the main thread before `loop` runs (or on its own thread). At most
 * PD_APP_MAX_LOOPS fronts. Returns 0 or a negative code with one line in err. The front
 * belongs to the caller until pd_app_destroy, which destroys the fronts left. */
int pd_app_front_create(pd_app_front_t **out, pd_app_t *app, uv_loop_t *loop,
                        pd_router_t *router, char *err, size_t errlen);

/* Fills the hooks the front's server should call (metrics, loop monitor context).
 * on_drained (may be NULL) is called with arg when the server finished draining; arg is
 * borrowed and must outlive the front. */
void pd_app_front_hooks(pd_app_front_t *f, pd_http_hooks_t *hooks,
                        void (*on_drained)(void *arg, unsigned cut_off), void *arg);

/* Tells the front its server (readiness, connection metrics); borrowed, must outlive the
 * front. */
void pd_app_front_attach_server(pd_app_front_t *f, pd_http_server_t *srv);

/* No reload from now on (the drain began). Idempotent. */
void pd_app_drain_start(pd_app_t *app);

/* Waits for the front's jobs, then frees it. Call when its loop no longer runs (its server
 * drained), on that loop's thread or after it was joined; then run that loop once more
 * (UV_RUN_NOWAIT) for the close callbacks. Accepts NULL. */
void pd_app_front_destroy(pd_app_front_t *f);

/* Drains the pool and frees everything, fronts left included. Call after uv_run returned
 * and the other loops' fronts were destroyed; then run the loop once more (UV_RUN_NOWAIT)
 * for the close callbacks. Accepts NULL. */
void pd_app_destroy(pd_app_t *app);

#endif
