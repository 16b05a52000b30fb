/* app_internal.h - the app's and the fronts' structures, shared by api/app.c (the
 * process-wide part) and api/app_front.c (one loop's part). Internal to src/api/.
 *
 * Threads: with one loop everything is touched on the main loop's thread; with several,
 * the app's fields and the fronts[] table under the app lock (util/applock.h), and a
 * front's fields on its own loop's thread (snap also under the lock, for the gauges). */
#ifndef PD_API_APP_INTERNAL_H
#define PD_API_APP_INTERNAL_H

#include "api/app.h"
#include "api/catalog.h"
#include "api/control.h"
#include "api/docs.h"
#include "api/fsource.h"
#include "api/health.h"
#include "api/openapi.h"
#include "api/predict.h"
#include "api/registry.h"
#include "obs/looplag.h"
#include "obs/metrics.h"
#include "pool/pool.h"

#define PD_APP_METRICS_MAX (1u << 20) /* largest /metrics body */
#define PD_APP_SNAP_MS 100            /* several loops: refresh of the gauges' counters */

struct pd_app_s {
    uv_loop_t *loop;          /* the main loop */
    pd_app_options_t o;       /* model_paths and the strings are borrowed during create */
    unsigned loops;           /* 1, or the number of loops serving HTTP */
    char *token;              /* explicit mode: the admin token, until front 0 takes it */
    pd_metrics_t *metrics;
    pd_pool_t *pool;
    pd_registry_t reg;
    pd_repository_t *repo;
    pd_control_t *control;    /* explicit mode only (one loop) */
    pd_metrics_family_t *requests, *duration, *rejected;
    pd_app_front_t *fronts[PD_APP_MAX_LOOPS]; /* live fronts, in creation order */
    unsigned n_fronts;
};

struct pd_app_front_s {
    pd_app_t *app;
    unsigned index;           /* 0.. in creation order (the metrics' loop label) */
    uv_loop_t *loop;
    pd_router_t *router;
    pd_http_server_t *srv;
    pd_pool_channel_t *channel; /* this loop's; NULL on the main loop (the pool's own) */
    pd_looplag_t *lag;
    pd_predict_ctx_t *predict;
    pd_openapi_t *openapi;
    pd_docs_t *docs;
    pd_fsources_t *fsources;
    pd_health_t health;
    pd_catalog_t catalog;
    pd_buf_t scrape;          /* GET /metrics scratch */
    pd_http_stats_t snap;     /* several loops: the server's counters as of its last
                                 answer or tick, what the process-wide gauges sum */
    uv_timer_t *snap_timer;   /* several loops: refreshes snap (heap, freed on close) */
    char lag_label[PD_LOOPLAG_LABEL_MAX]; /* the open loop-monitor section's label: the
                                           * monitor reads it until the matching leave */
    void (*on_drained)(void *arg, unsigned cut_off); /* pd_app_front_hooks' */
    void *on_drained_arg;
};

/* The metrics handler (GET /metrics) of a front: renders the app's registry. */
void pd__app_metrics_handler(pd_http_request_t *req, void *ctx);

/* Counts one answer in the app's request metrics (route label from the front's router). */
void pd__app_count_response(pd_app_front_t *f, const pd_http_request_t *req, int status,
                            uint64_t duration_ns);

#endif
