/* app.c - wires models, pool, metrics and the loop monitor into routes (see app.h).
 *
 * Owns: the model registry and the repository keeper that fills it, the control API
 * (explicit mode), the live feature sources, the pool, the metrics registry, the loop
 * monitor and the prediction pipeline. Invariant: the loop thread is the only thread that touches any of it, except
 * model versions through the pipeline's jobs and model files through the repository's
 * loads. */
#include "api/app.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/catalog.h"
#include "api/control.h"
#include "api/docs.h"
#include "api/fsource.h"
#include "api/health.h"
#include "api/http_errors.h"
#include "api/openapi.h"
#include "api/predict.h"
#include "api/registry.h"
#include "api/repository.h"
#include "api/rows.h"
#include "api/v2_api.h"
#include "common.h"
#include "obs/log.h"
#include "obs/looplag.h"
#include "obs/metrics.h"
#include "pool/pool.h"

#define PD_APP_METRICS_MAX (1u << 20) /* largest /metrics body */

struct pd_app_s {
    pd_router_t *router;
    pd_http_server_t *srv;
    pd_metrics_t *metrics;
    pd_looplag_t *lag;
    pd_pool_t *pool;
    pd_registry_t reg;
    pd_repository_t *repo;
    pd_control_t *control; /* explicit mode only */
    pd_predict_ctx_t *predict;
    pd_openapi_t *openapi;
    pd_docs_t *docs;
    pd_fsources_t *fsources;
    pd_health_t health;
    pd_catalog_t catalog;
    pd_buf_t scrape;     /* GET /metrics scratch */
    char lag_label[PD_LOOPLAG_LABEL_MAX]; /* the open loop-monitor section's label: the
                                           * monitor reads it until the matching leave */
    pd_metrics_family_t *requests, *duration, *rejected;
    void (*on_drained)(void *arg, unsigned cut_off); /* the caller's, see pd_app_hooks */
    void *on_drained_arg;
};

void pd_app_options_default(pd_app_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->max_queue = PD_POOL_DEFAULT_MAX_QUEUE;
    o->max_batch = PD_POOL_DEFAULT_MAX_BATCH;
    o->max_rows = PD_ROWS_DEFAULT_MAX;
    o->decode_on_worker_above = PD_PREDICT_DEFAULT_DECODE_ON_WORKER_ABOVE;
    o->inline_below_us = PD_APP_DEFAULT_INLINE_BELOW_US;
    o->queue_timeout_ms = PD_PREDICT_DEFAULT_QUEUE_TIMEOUT_MS;
    o->slow_callback_ms = PD_LOOPLAG_DEFAULT_SLOW_MS;
    o->worker_nice = PD_POOL_DEFAULT_NICE;
    o->max_models = PD_REGISTRY_DEFAULT_MAX_MODELS;
    o->poll_ms = PD_REPOSITORY_DEFAULT_POLL_MS;
    o->feature_timeout_ms = PD_FSOURCE_DEFAULT_TIMEOUT_MS;
    o->feature_connections = PD_FSOURCE_DEFAULT_CONNECTIONS;
    o->feature_max_pending = PD_FSOURCE_DEFAULT_MAX_PENDING;
}

static void metrics_handler(pd_http_request_t *req, void *ctx)
{
    pd_app_t *app = ctx;
    pd_buf_reset(&app->scrape);
    if (pd_metrics_render(app->metrics, &app->scrape) < 0) {
        static const char e[] = "{\"detail\":\"metrics too large\"}";
        pd_http_respond_json(req, 500, e, sizeof e - 1);
        return;
    }
    pd_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL,
                    app->scrape.data, app->scrape.len);
}

static double gauge_open_connections(void *ud)
{
    pd_app_t *app = ud;
    return app->srv ? (double)pd_http_server_stats(app->srv)->open_connections : 0;
}

static double gauge_in_flight(void *ud)
{
    pd_app_t *app = ud;
    return app->srv ? (double)pd_http_server_stats(app->srv)->requests_in_flight : 0;
}

static double gauge_buffered(void *ud)
{
    pd_app_t *app = ud;
    return app->srv ? (double)pd_http_server_stats(app->srv)->buffered_bytes : 0;
}

static double gauge_budget(void *ud)
{
    pd_app_t *app = ud;
    return app->srv ? (double)pd_http_server_options(app->srv)->buffer_budget : 0;
}

static double gauge_budget_waiting(void *ud)
{
    pd_app_t *app = ud;
    return app->srv ? (double)pd_http_server_stats(app->srv)->budget_waiting : 0;
}

static void collect_budget_waits(pd_metrics_family_t *f, void *ud)
{
    pd_app_t *app = ud;
    if (app->srv != NULL)
        pd_metrics_set(pd_metrics_series(f, NULL),
                       (double)pd_http_server_stats(app->srv)->budget_waits);
}

/* Copies the server's counts of connections answered 503 at accept, by reason. */
static void collect_rejected(pd_metrics_family_t *f, void *ud)
{
    pd_app_t *app = ud;
    if (app->srv == NULL)
        return;
    const pd_http_stats_t *st = pd_http_server_stats(app->srv);
    const char *mc[1] = {"max_connections"}, *fd[1] = {"fd_limit"};
    pd_metrics_set(pd_metrics_series(f, mc), (double)st->rejected_connections);
    pd_metrics_set(pd_metrics_series(f, fd), (double)st->rejected_fd_limit);
}

static int app_metrics(pd_app_t *app)
{
    static const char *const reason[] = {"reason"};
    static const char *const rl[] = {"route", "method", "status"};
    static const char *const dl[] = {"route"};
    int rc = pd_metrics_init(&app->metrics, 0);
    if (rc == 0)
        rc = pd_metrics_counter(app->metrics, "predictd_http_requests_total",
                                "HTTP requests answered, by route, method and status.", rl, 3,
                                &app->requests);
    if (rc == 0)
        rc = pd_metrics_histogram(app->metrics, "predictd_http_request_duration_seconds",
                                  "From the request's first byte to its answer, by route.", dl,
                                  1, pd_metrics_latency_buckets, PD_METRICS_LATENCY_BUCKETS_N,
                                  &app->duration);
    if (rc == 0)
        rc = pd_metrics_gauge_fn(app->metrics, "predictd_http_open_connections",
                                 "Open client connections.", gauge_open_connections, app);
    if (rc == 0)
        rc = pd_metrics_gauge_fn(app->metrics, "predictd_http_requests_in_flight",
                                 "Requests received and not yet answered.", gauge_in_flight,
                                 app);
    if (rc == 0)
        rc = pd_metrics_counter(app->metrics, "predictd_http_rejected_connections_total",
                                "Connections answered 503 and closed at accept: over "
                                "--max-connections, or over the open-file limit (answered "
                                "from a reserve descriptor).", reason, 1, &app->rejected);
    if (rc == 0)
        pd_metrics_on_collect(app->rejected, collect_rejected, app);
    if (rc == 0)
        rc = pd_metrics_gauge_fn(app->metrics, "predictd_http_buffered_bytes",
                                 "Request bodies and answers the server holds in memory "
                                 "(bounded by --buffer-budget).", gauge_buffered, app);
    if (rc == 0)
        rc = pd_metrics_gauge_fn(app->metrics, "predictd_http_buffer_budget_bytes",
                                 "The --buffer-budget.", gauge_budget, app);
    if (rc == 0)
        rc = pd_metrics_gauge_fn(app->metrics, "predictd_http_connections_waiting_for_budget",
                                 "Connections sending a body that are not read until the "
                                 "buffered bytes drain below the budget.",
                                 gauge_budget_waiting, app);
    pd_metrics_family_t *waits = NULL;
    if (rc == 0)
        rc = pd_metrics_counter(app->metrics, "predictd_http_budget_waits_total",
                                "Times a connection stopped being read because the buffered "
                                "bytes reached the budget.", NULL, 0, &waits);
    if (rc == 0)
        pd_metrics_on_collect(waits, collect_budget_waits, app);
    return rc;
}

/* The route label of a request: the matched route's pattern, the path for a 405 on a
 * known path, else "unmatched", so that scanning clients cannot create one series per
 * random path (and models one series per name). Only 404/405 and the server's own 4xx
 * answers look the path up again. */
static const char *route_label(const pd_app_t *app, const pd_http_request_t *req)
{
    if (req->route != NULL) /* the pattern: /models/{name}/predict, not one series per name */
        return req->route;
    const pd_route_t *route = NULL;
    if (req->path && pd_router_match(app->router, req->method ? req->method : "", req->path,
                                     &route, NULL, 0) == PD_ROUTE_BAD_METHOD)
        return req->path;
    return "unmatched";
}

static void hook_before(void *ud, const pd_http_request_t *req)
{
    pd_app_t *app = ud;
    snprintf(app->lag_label, sizeof app->lag_label, "%s %s", req->method, req->path);
    pd_looplag_enter(app->lag, app->lag_label);
}

static void hook_after(void *ud)
{
    pd_looplag_leave(((pd_app_t *)ud)->lag);
}

static void hook_response(void *ud, const pd_http_request_t *req, int status, size_t bytes,
                          uint64_t duration_ns)
{
    pd_app_t *app = ud;
    (void)bytes;
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    const char *route = route_label(app, req);
    const char *rv[3] = {route, req->method ? req->method : "-", st};
    pd_metrics_inc(pd_metrics_series(app->requests, rv), 1);
    const char *dv[1] = {route};
    pd_metrics_observe(pd_metrics_series(app->duration, dv), (double)duration_ns / 1e9);
}

static void hook_drain_start(void *ud)
{
    pd_repository_stop(((pd_app_t *)ud)->repo); /* no reload while draining */
}

static void hook_drained(void *ud, unsigned cut_off)
{
    pd_app_t *app = ud;
    if (app->on_drained)
        app->on_drained(app->on_drained_arg, cut_off);
}

void pd_app_hooks(pd_app_t *app, pd_http_hooks_t *hooks,
                  void (*on_drained)(void *arg, unsigned cut_off), void *arg)
{
    app->on_drained = on_drained;
    app->on_drained_arg = arg;
    hooks->ud = app;
    hooks->before_handler = hook_before;
    hooks->after_handler = hook_after;
    hooks->after_response = hook_response;
    hooks->on_drain_start = hook_drain_start;
    hooks->error_body = pd_api_error_body;
    hooks->on_drained = hook_drained;
}

static int app_ready(void *ud)
{
    return pd_registry_ready(&((pd_app_t *)ud)->reg);
}

/* /v2/health/ready's body also names each feature source and its state. A source that is
 * down does not make the server unready: the models that need no lookup (and requests
 * that carry every feature) still work, and every replica shares that source, so an
 * unready answer would take them all out of the load balancer at once. */
static int app_report(void *ud, pd_buf_t *out)
{
    return pd_fsources_report(((pd_app_t *)ud)->fsources, out);
}

void pd_app_attach_server(pd_app_t *app, pd_http_server_t *srv)
{
    app->srv = srv;
    app->health.server = srv;
}

/* The repository: read it now (before the server listens), watch it as the mode says, and
 * in explicit mode the control API with its token. */
static int app_models(pd_app_t *app, uv_loop_t *loop, pd_router_t *router,
                      const pd_app_options_t *o, char *err, size_t errlen)
{
    char *token = NULL;
    if (o->model_control == PD_CONTROL_EXPLICIT &&
        (token = pd_control_read_token(o->admin_token_file, err, errlen)) == NULL)
        return PD_EINVAL;
    pd_repository_options_t ro = {o->model_paths, o->n_model_paths, o->model_control,
                                  o->poll_ms, 0, 0, o->strict};
    int rc = pd_repository_create(&app->repo, loop, &app->reg, app->metrics, &ro, err, errlen);
    if (rc == 0)
        rc = pd_repository_load_initial(app->repo, err, errlen);
    if (rc == 0 && o->default_model && !pd_registry_default(&app->reg)) {
        snprintf(err, errlen, "--default-model: no loaded model is named '%s'", o->default_model);
        rc = PD_ENOTFOUND;
    }
    if (rc == 0 && token != NULL &&
        (rc = pd_control_create(&app->control, router, &app->reg, app->repo, token)) < 0)
        snprintf(err, errlen, "control routes: %s", pd_strerror(rc));
    free(token);
    if (rc == 0)
        pd_repository_report(app->repo);
    if (rc == 0 && app->reg.n > 1 && !o->default_model && pd_registry_default(&app->reg))
        pd_log_info("default model: %s, the first loaded (choose with --default-model)",
                    pd_registry_default(&app->reg)->name);
    return rc;
}

/* The loop-side routes: health, models, metrics, and the OpenAPI document with its
 * Swagger UI (which document every route of the router, whenever it was added). */
static int app_routes(pd_app_t *app, uv_loop_t *loop, pd_router_t *router,
                      const pd_app_options_t *o, char *err, size_t errlen)
{
    pd_router_set_fallback(router, pd_api_route_fallback, NULL); /* 404/405 bodies */
    int rc = pd_health_register(router, &app->health);
    app->catalog.reg = &app->reg;
    app->catalog.fsources = app->fsources;
    if (rc == 0)
        rc = pd_catalog_register(router, &app->catalog);
    if (rc == 0)
        rc = pd_v2_register(router, &app->reg);
    if (rc == 0)
        rc = pd_router_add(router, "GET", "/metrics", metrics_handler, app);
    if (rc == 0)
        rc = pd_openapi_create(&app->openapi, router, &app->reg);
    if (rc < 0) {
        snprintf(err, errlen, "routes: %s", pd_strerror(rc));
        return rc;
    }
    return pd_docs_create(&app->docs, loop, router, o->docs_dir, err, errlen);
}

int pd_app_create(pd_app_t **out, uv_loop_t *loop, pd_router_t *router,
                  const pd_app_options_t *o, char *err, size_t errlen)
{
    pd_app_t *app = calloc(1, sizeof *app);
    if (app == NULL) {
        snprintf(err, errlen, "out of memory");
        return PD_ENOMEM;
    }
    app->router = router;
    pd_buf_init(&app->scrape, PD_APP_METRICS_MAX);
    app->health.ready = app_ready;
    app->health.report = app_report;
    app->health.ud = app;
    const char *what = "model registry";
    int rc = pd_registry_init(&app->reg, o->max_models, o->default_model, o->inline_below_us,
                              PD_ROWS_MAX_COLS);
    if (rc < 0)
        goto fail_what;
    what = "metrics";
    if ((rc = app_metrics(app)) < 0)
        goto fail_what;
    what = "feature sources";
    pd_fsource_options_t fo = {o->feature_timeout_ms, o->feature_connections,
                               o->feature_max_pending};
    if ((rc = pd_fsources_create(&app->fsources, loop, &app->reg, app->metrics, &fo)) < 0)
        goto fail_what;
    if ((rc = app_models(app, loop, router, o, err, errlen)) < 0)
        goto fail; /* err says which file and why */
    pd_fsources_sweep(app->fsources); /* connect now, before the server listens */
    what = "event-loop monitor";
    pd_looplag_options_t lo = {0, o->slow_callback_ms, 0};
    if ((rc = pd_looplag_init(&app->lag, loop, app->metrics, &lo)) < 0)
        goto fail_what;
    what = "worker pool";
    pd_pool_options_t po;
    pd_pool_options_default(&po);
    po.n_workers = o->workers;
    po.max_batch = o->max_batch;
    po.worker_nice = o->worker_nice;
    po.max_queues = 2 * o->max_models + 1; /* two per model name, and the codec queue */
    if ((rc = pd_pool_init(&app->pool, loop, &po)) < 0 ||
        (rc = pd_pool_metrics_attach(app->pool, app->metrics)) < 0)
        goto fail_what;
    pd_predict_options_t pro = {o->max_queue, o->max_batch, o->max_rows, o->queue_timeout_ms,
                                o->inline_below_us, o->decode_on_worker_above,
                                app->fsources};
    if ((rc = pd_predict_create(&app->predict, &app->reg, app->pool, router, app->metrics,
                                &pro, err, errlen)) < 0)
        goto fail;
    if ((rc = app_routes(app, loop, router, o, err, errlen)) < 0)
        goto fail;
    *out = app;
    return 0;
fail_what:
    snprintf(err, errlen, "%s: %s", what, pd_strerror(rc));
fail:
    pd_app_destroy(app); /* every part tolerates being never initialized */
    return rc;
}

void pd_app_destroy(pd_app_t *app)
{
    if (app == NULL)
        return;
    pd_pool_destroy(app->pool);
    pd_predict_destroy(app->predict);
    pd_openapi_destroy(app->openapi);
    pd_docs_destroy(app->docs);
    pd_control_destroy(app->control);
    pd_repository_destroy(app->repo);
    pd_fsources_destroy(app->fsources); /* after every request: none waits on a lookup */
    pd_looplag_destroy(app->lag);
    pd_metrics_destroy(app->metrics);
    pd_registry_free(&app->reg);
    pd_buf_free(&app->scrape);
    free(app);
}
