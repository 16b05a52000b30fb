/* app.c - the process-wide part of the app (see app.h): the model registry and the
 * repository keeper that fills it, the control API (explicit mode), the pool and the
 * metrics registry with the request and connection metrics, which sum every front's.
 *
 * Invariant: the main loop's thread is the only one that touches any of it, except model
 * versions through the pipeline's jobs and model files through the repository's loads;
 * with several loops, the loops' threads touch it too, always under the app lock
 * (util/applock.h), which the main loop holds whenever it runs callbacks. */
#include "api/app.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app_internal.h"
#include "api/http_errors.h"
#include "api/repository.h"
#include "api/rows.h"
#include "common.h"
#include "obs/log.h"
#include "util/applock.h"


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

void pd__app_metrics_handler(pd_http_request_t *req, void *ctx)
{
    pd_app_front_t *f = ctx;
    if (f->srv != NULL) /* this loop's counters are exact now */
        f->snap = *pd_http_server_stats(f->srv);
    pd_buf_reset(&f->scrape);
    if (pd_metrics_render(f->app->metrics, &f->scrape) < 0) {
        static const char e[] = "{\"detail\":\"metrics too large\"}";
        pd_http_respond_json(req, 500, e, sizeof e - 1);
        return;
    }
    pd_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL,
                    f->scrape.data, f->scrape.len);
}

/* The counters of front i's server: live with one loop (its thread is the caller's),
 * else its snapshot (several loops: read under the app lock); NULL without a server. */
static const pd_http_stats_t *front_stats(const pd_app_t *app, unsigned i)
{
    const pd_app_front_t *f = app->fronts[i];
    if (f->srv == NULL)
        return NULL;
    return app->loops > 1 ? &f->snap : pd_http_server_stats(f->srv);
}

/* The sum of one counter over every front's server. */
#define SUM_STAT(app, field)                                                                 \
    do {                                                                                     \
        double sum_ = 0;                                                                     \
        for (unsigned i_ = 0; i_ < (app)->n_fronts; i_++) {                                  \
            const pd_http_stats_t *st_ = front_stats((app), i_);                             \
            if (st_ != NULL)                                                                 \
                sum_ += (double)st_->field;                                                  \
        }                                                                                    \
        return sum_;                                                                         \
    } while (0)

static double gauge_open_connections(void *ud)
{
    SUM_STAT((pd_app_t *)ud, open_connections);
}

static double gauge_in_flight(void *ud)
{
    SUM_STAT((pd_app_t *)ud, requests_in_flight);
}

static double gauge_buffered(void *ud)
{
    SUM_STAT((pd_app_t *)ud, buffered_bytes);
}

static double gauge_budget_waiting(void *ud)
{
    SUM_STAT((pd_app_t *)ud, budget_waiting);
}

static double sum_budget_waits(pd_app_t *app)
{
    SUM_STAT(app, budget_waits);
}

static double sum_rejected(pd_app_t *app)
{
    SUM_STAT(app, rejected_connections);
}

static double sum_rejected_fd(pd_app_t *app)
{
    SUM_STAT(app, rejected_fd_limit);
}

/* The budget of every loop's server together (each loop has its share). */
static double gauge_budget(void *ud)
{
    pd_app_t *app = ud;
    double sum = 0;
    for (unsigned i = 0; i < app->n_fronts; i++)
        if (app->fronts[i]->srv != NULL)
            sum += (double)pd_http_server_options(app->fronts[i]->srv)->buffer_budget;
    return sum;
}

static void collect_budget_waits(pd_metrics_family_t *f, void *ud)
{
    pd_metrics_set(pd_metrics_series(f, NULL), sum_budget_waits(ud));
}

/* Copies the servers' counts of connections answered 503 at accept, by reason. */
static void collect_rejected(pd_metrics_family_t *f, void *ud)
{
    const char *mc[1] = {"max_connections"}, *fd[1] = {"fd_limit"};
    pd_metrics_set(pd_metrics_series(f, mc), sum_rejected(ud));
    pd_metrics_set(pd_metrics_series(f, fd), sum_rejected_fd(ud));
}

/* Several loops: the connections each loop's server accepted (how SO_REUSEPORT spread
 * them), by the loop's index. */
static void collect_loop_connections(pd_metrics_family_t *f, void *ud)
{
    pd_app_t *app = ud;
    for (unsigned i = 0; i < app->n_fronts; i++) {
        const pd_http_stats_t *st = front_stats(app, i);
        char idx[16];
        snprintf(idx, sizeof idx, "%u", app->fronts[i]->index);
        const char *v[1] = {idx};
        if (st != NULL)
            pd_metrics_set(pd_metrics_series(f, v), (double)st->accepted_total);
    }
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
    static const char *const loop_label[] = {"loop"};
    pd_metrics_family_t *per_loop = NULL;
    if (rc == 0 && app->loops > 1)
        rc = pd_metrics_counter(app->metrics, "predictd_http_loop_connections_total",
                                "Connections accepted by each event loop (--loops): how the "
                                "kernel spread them over the loops' sockets.", loop_label, 1,
                                &per_loop);
    if (rc == 0 && per_loop != NULL)
        pd_metrics_on_collect(per_loop, collect_loop_connections, app);
    return rc;
}

/* The route label of a request: the matched route's pattern, the path for a 405 on a
 * known path, else "unmatched", so that scanning clients cannot create one series per
 * random path (and models one series per name). Only 404/405 and the server's own 4xx
 * answers look the path up again. */
static const char *route_label(const pd_app_front_t *f, const pd_http_request_t *req)
{
    if (req->route != NULL) /* the pattern: /models/{name}/predict, not one series per name */
        return req->route;
    const pd_route_t *route = NULL;
    if (req->path && pd_router_match(f->router, req->method ? req->method : "", req->path,
                                     &route, NULL, 0) == PD_ROUTE_BAD_METHOD)
        return req->path;
    return "unmatched";
}

void pd__app_count_response(pd_app_front_t *f, const pd_http_request_t *req, int status,
                            uint64_t duration_ns)
{
    pd_app_t *app = f->app;
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    const char *route = route_label(f, req);
    const char *rv[3] = {route, req->method ? req->method : "-", st};
    pd_metrics_inc(pd_metrics_series(app->requests, rv), 1);
    const char *dv[1] = {route};
    pd_metrics_observe(pd_metrics_series(app->duration, dv), (double)duration_ns / 1e9);
}

void pd_app_drain_start(pd_app_t *app)
{
    pd_applock_enter();
    pd_repository_stop(app->repo); /* no reload while draining */
    pd_applock_leave();
}

/* The repository: read it now (before the server listens), watch it as the mode says, and
 * in explicit mode read the control API's token (the first front adds its routes). */
static int app_models(pd_app_t *app, uv_loop_t *loop, const pd_app_options_t *o, char *err,
                      size_t errlen)
{
    if (o->model_control == PD_CONTROL_EXPLICIT &&
        (app->token = pd_control_read_token(o->admin_token_file, err, errlen)) == NULL)
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
    if (rc == 0)
        pd_repository_report(app->repo);
    if (rc == 0 && app->reg.n > 1 && !o->default_model && pd_registry_default(&app->reg))
        pd_log_info("default model: %s, the first loaded (choose with --default-model)",
                    pd_registry_default(&app->reg)->name);
    return rc;
}

int pd_app_create(pd_app_t **out, uv_loop_t *loop, const pd_app_options_t *o, char *err,
                  size_t errlen)
{
    pd_app_t *app = calloc(1, sizeof *app);
    if (app == NULL) {
        snprintf(err, errlen, "out of memory");
        return PD_ENOMEM;
    }
    app->loop = loop;
    app->o = *o;
    app->loops = o->loops ? o->loops : 1;
    const char *what = "model registry";
    int rc = PD_EINVAL;
    if (app->loops > PD_APP_MAX_LOOPS) {
        snprintf(err, errlen, "--loops: at most %u", (unsigned)PD_APP_MAX_LOOPS);
        goto fail;
    }
    if (app->loops > 1 && o->model_control == PD_CONTROL_EXPLICIT) {
        snprintf(err, errlen, "--model-control explicit works with one loop only (--loops 1): "
                              "its answers come from the main loop");
        goto fail;
    }
    rc = pd_registry_init(&app->reg, o->max_models, o->default_model, o->inline_below_us,
                          PD_ROWS_MAX_COLS);
    if (rc < 0)
        goto fail_what;
    what = "metrics";
    if ((rc = app_metrics(app)) < 0)
        goto fail_what;
    if (app->loops > 1)
        pd_metrics_share(app->metrics); /* each loop's front registers its families */
    if ((rc = app_models(app, loop, o, err, errlen)) < 0)
        goto fail; /* err says which file and why */
    what = "worker pool";
    pd_pool_options_t po;
    pd_pool_options_default(&po);
    po.n_workers = o->workers;
    po.max_batch = o->max_batch;
    po.worker_nice = o->worker_nice;
    po.max_queues = 2 * o->max_models + app->loops; /* two per model name, a codec queue
                                                       per loop */
    if ((rc = pd_pool_init(&app->pool, loop, &po)) < 0 ||
        (rc = pd_pool_metrics_attach(app->pool, app->metrics)) < 0)
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
    pd_pool_destroy(app->pool); /* after it, no job is in flight: the fronts may go */
    app->pool = NULL;
    while (app->n_fronts > 0)
        pd_app_front_destroy(app->fronts[app->n_fronts - 1]);
    pd_control_destroy(app->control);
    pd_repository_destroy(app->repo);
    pd_metrics_destroy(app->metrics);
    pd_registry_free(&app->reg);
    free(app->token);
    free(app);
}
