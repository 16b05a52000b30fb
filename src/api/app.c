/* app.c - wires models, pool, metrics and the loop monitor into routes (see app.h).
 *
 * Owns: the model registry, the pool, the metrics registry, the loop monitor, the
 * prediction context, and the GET /models body, computed once (models never change while
 * the server runs). Invariant: the loop thread is the only thread that touches any of it,
 * except models through the pool's run_batch. */
#include "api/app.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/health.h"
#include "api/http_errors.h"
#include "api/predict.h"
#include "api/registry.h"
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
    pd_predict_ctx_t predict;
    pd_health_t health;
    char *models_body;   /* GET /models, built once */
    size_t models_len;
    pd_buf_t scrape;     /* GET /metrics scratch */
    char lag_label[PD_LOOPLAG_LABEL_MAX]; /* the open loop-monitor section's label: the
                                           * monitor reads it until the matching leave */
    pd_metrics_family_t *requests, *duration;
    void (*on_drained)(void *arg, unsigned cut_off); /* the caller's, see pd_app_hooks */
    void *on_drained_arg;
};

void pd_app_options_default(pd_app_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->inline_below_us = PD_APP_DEFAULT_INLINE_BELOW_US;
    o->queue_timeout_ms = PD_PREDICT_DEFAULT_QUEUE_TIMEOUT_MS;
    o->worker_nice = PD_POOL_DEFAULT_NICE;
}

static json_t *schema_json(const pd_served_model_t *sm, int is_default)
{
    const pd_model_schema_t *s = sm->schema;
    pd_model_stats_t st;
    pd_model_stats(sm->model, &st);
    json_t *feats = json_array(), *m = json_object();
    for (size_t i = 0; i < s->n_features; i++)
        json_array_append_new(feats, json_string(s->feature_names[i]));
    json_object_set_new(m, "name", json_string(s->name));
    json_object_set_new(m, "version", json_string(s->version));
    json_object_set_new(m, "source", json_string(s->source ? s->source : ""));
    json_object_set_new(m, "kind", json_string(s->kind ? s->kind : ""));
    json_object_set_new(m, "task", json_string(s->task == PD_TASK_CLASSIFICATION
                                                   ? "classification" : "regression"));
    json_object_set_new(m, "features", feats);
    if (s->task == PD_TASK_CLASSIFICATION) {
        json_t *cls = json_array();
        for (size_t i = 0; i < s->n_classes; i++)
            json_array_append_new(cls, s->labels_are_strings
                                           ? json_string(s->class_labels_str[i])
                                           : json_integer((json_int_t)s->class_labels_int[i]));
        json_object_set_new(m, "classes", cls);
    }
    json_object_set_new(m, "default", json_boolean(is_default));
    json_object_set_new(m, "predict_path", json_sprintf("/models/%s/predict", s->name));
    json_object_set_new(m, "cost_us_per_row", json_real(sm->cost_us));
    json_object_set_new(m, "predict_runs_on", json_string(sm->inline_ok ? "loop" : "pool"));
    json_object_set_new(m, "trees", json_integer((json_int_t)st.n_trees));
    json_object_set_new(m, "nodes", json_integer((json_int_t)st.n_nodes));
    json_object_set_new(m, "bytes", json_integer((json_int_t)st.bytes));
    return m;
}

static int build_models_body(pd_app_t *app)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < app->reg.n; i++)
        json_array_append_new(arr, schema_json(&app->reg.models[i], i == app->reg.def));
    json_t *root = json_pack("{s:o}", "models", arr);
    app->models_body = root ? json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(root);
    if (app->models_body == NULL)
        return PD_ENOMEM;
    app->models_len = strlen(app->models_body);
    return 0;
}

static void models_handler(pd_http_request_t *req, void *ctx)
{
    pd_app_t *app = ctx;
    pd_http_respond_json(req, 200, app->models_body, app->models_len);
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

static int app_metrics(pd_app_t *app)
{
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
    return rc;
}

/* The route label of a request: its path when a route matched, else "unmatched", so
 * that scanning clients cannot create one series per random path. Every route of the app
 * has a non-NULL context, so a set route_ctx means the server matched it already; only
 * 404/405 and the server's own 4xx answers look the path up again. */
static const char *route_label(const pd_app_t *app, const pd_http_request_t *req)
{
    if (req->route_ctx != NULL)
        return req->path;
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
    hooks->error_body = pd_api_error_body;
    hooks->on_drained = hook_drained;
}

void pd_app_attach_server(pd_app_t *app, pd_http_server_t *srv)
{
    app->srv = srv;
    app->health.server = srv;
}

static int app_routes(pd_app_t *app, pd_router_t *router)
{
    pd_router_set_fallback(router, pd_api_route_fallback, NULL); /* 404/405 bodies */
    int rc = pd_health_register(router, &app->health);
    if (rc == 0)
        rc = pd_router_add(router, "GET", "/models", models_handler, app);
    if (rc == 0)
        rc = pd_router_add(router, "GET", "/metrics", metrics_handler, app);
    return rc;
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
    const char *what = "";
    int rc = pd_registry_load(&app->reg, o->model_paths, o->n_model_paths, o->default_model,
                              o->inline_below_us, err, errlen);
    if (rc < 0)
        goto fail; /* err says which file and why */
    what = "metrics";
    if ((rc = app_metrics(app)) < 0)
        goto fail_what;
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
    if ((rc = pd_pool_init(&app->pool, loop, &po)) < 0 ||
        (rc = pd_pool_metrics_attach(app->pool, app->metrics)) < 0)
        goto fail_what;
    if ((rc = pd_predict_init(&app->predict, &app->reg, app->pool, router, app->metrics,
                              o->max_queue, o->queue_timeout_ms, err, errlen)) < 0)
        goto fail;
    what = "routes";
    if ((rc = build_models_body(app)) < 0 || (rc = app_routes(app, router)) < 0)
        goto fail_what;
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
    pd_predict_fini(&app->predict);
    pd_looplag_destroy(app->lag);
    pd_metrics_destroy(app->metrics);
    pd_registry_free(&app->reg);
    free(app->models_body);
    pd_buf_free(&app->scrape);
    free(app);
}
