/* app_front.c - one event loop's part of the app (see app.h): its routes and pipeline,
 * feature-store connections, loop monitor, docs, health and the pool's completion channel.
 *
 * Invariants: a front's handles live on its own loop, and everything it owns is touched on
 * that loop's thread (or, at creation and destruction, on the main thread while the loop
 * does not run). With several loops, app code runs under the app lock (util/applock.h):
 * the server's hooks take it around each handler and each counted answer, the pool's
 * channel around each completion, the feature stores and the loop monitor around their
 * callbacks; the HTTP layer's work between them runs without it, on every loop at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app_internal.h"
#include "api/http_errors.h"
#include "api/v2_api.h"
#include "common.h"
#include "util/applock.h"

/* ---- hooks (ud = the front) ---- */

static void hook_before(void *ud, const pd_http_request_t *req)
{
    pd_app_front_t *f = ud;
    pd_applock_enter(); /* released by hook_after, once the handler returned */
    snprintf(f->lag_label, sizeof f->lag_label, "%s %s", req->method, req->path);
    pd_looplag_enter(f->lag, f->lag_label);
}

static void hook_after(void *ud)
{
    pd_looplag_leave(((pd_app_front_t *)ud)->lag);
    pd_applock_leave();
}

static void hook_response(void *ud, const pd_http_request_t *req, int status, size_t bytes,
                          uint64_t duration_ns)
{
    pd_app_front_t *f = ud;
    (void)bytes;
    pd_applock_enter();
    pd__app_count_response(f, req, status, duration_ns);
    if (f->app->loops > 1 && f->srv != NULL)
        f->snap = *pd_http_server_stats(f->srv);
    pd_applock_leave();
}

static void hook_drain_start(void *ud)
{
    pd_app_front_t *f = ud;
    if (f->app->loops == 1) /* with several, the main loop stops the repository */
        pd_app_drain_start(f->app);
}

static void hook_drained(void *ud, unsigned cut_off)
{
    pd_app_front_t *f = ud;
    if (f->snap_timer != NULL)
        uv_timer_stop(f->snap_timer);
    if (f->on_drained)
        f->on_drained(f->on_drained_arg, cut_off);
}

void pd_app_front_hooks(pd_app_front_t *f, pd_http_hooks_t *hooks,
                        void (*on_drained)(void *arg, unsigned cut_off), void *arg)
{
    f->on_drained = on_drained;
    f->on_drained_arg = arg;
    hooks->ud = f;
    hooks->before_handler = hook_before;
    hooks->after_handler = hook_after;
    hooks->after_response = hook_response;
    hooks->on_drain_start = hook_drain_start;
    hooks->error_body = pd_api_error_body;
    hooks->on_drained = hook_drained;
}

/* Several loops: copies the server's counters for the process-wide gauges now and then,
 * so that connections without answers (opened, idle, closed) show too. */
static void on_snap(uv_timer_t *t)
{
    pd_app_front_t *f = t->data;
    if (f->srv == NULL)
        return;
    pd_applock_enter();
    f->snap = *pd_http_server_stats(f->srv);
    pd_applock_leave();
}

void pd_app_front_attach_server(pd_app_front_t *f, pd_http_server_t *srv)
{
    pd_applock_enter();
    f->srv = srv;
    f->health.server = srv;
    f->snap = *pd_http_server_stats(srv);
    pd_applock_leave();
}

/* ---- routes ---- */

static int front_ready(void *ud)
{
    return pd_registry_ready(&((pd_app_front_t *)ud)->app->reg);
}

/* /v2/health/ready's body also names each feature source and its state. A source that is
 * down does not make the server unready: the models that need no lookup (and requests
 * that carry every feature) still work, and every replica shares that source, so an
 * unready answer would take them all out of the load balancer at once. */
static int front_report(void *ud, pd_buf_t *out)
{
    return pd_fsources_report(((pd_app_front_t *)ud)->fsources, out);
}

/* The loop-side routes: health, models, metrics, and the OpenAPI document with its
 * Swagger UI (which document every route of the router, whenever it was added). */
static int front_routes(pd_app_front_t *f, char *err, size_t errlen)
{
    pd_app_t *app = f->app;
    pd_router_set_fallback(f->router, pd_api_route_fallback, NULL); /* 404/405 bodies */
    int rc = pd_health_register(f->router, &f->health);
    f->catalog.reg = &app->reg;
    f->catalog.fsources = f->fsources;
    if (rc == 0)
        rc = pd_catalog_register(f->router, &f->catalog);
    if (rc == 0)
        rc = pd_v2_register(f->router, &app->reg);
    if (rc == 0)
        rc = pd_router_add(f->router, "GET", "/metrics", pd__app_metrics_handler, f);
    if (rc == 0)
        rc = pd_openapi_create(&f->openapi, f->router, &app->reg);
    if (rc < 0) {
        snprintf(err, errlen, "routes: %s", pd_strerror(rc));
        return rc;
    }
    return pd_docs_create(&f->docs, f->loop, f->router, app->o.docs_dir, err, errlen);
}

/* The control API's routes, on the first front of an explicit-mode app (one loop). */
static int front_control(pd_app_front_t *f, char *err, size_t errlen)
{
    pd_app_t *app = f->app;
    if (app->token == NULL || app->control != NULL)
        return 0;
    int rc = pd_control_create(&app->control, f->router, &app->reg, app->repo, app->token);
    free(app->token);
    app->token = NULL;
    if (rc < 0)
        snprintf(err, errlen, "control routes: %s", pd_strerror(rc));
    return rc;
}

/* The pipeline of this loop, with its feature sources, loop monitor and pool channel. */
static int front_pipeline(pd_app_front_t *f, char *err, size_t errlen)
{
    pd_app_t *app = f->app;
    const pd_app_options_t *o = &app->o;
    const char *what = "feature sources";
    pd_fsource_options_t fo = {o->feature_timeout_ms, o->feature_connections,
                               o->feature_max_pending};
    int rc = pd_fsources_create(&f->fsources, f->loop, &app->reg, app->metrics, &fo);
    if (rc < 0)
        goto fail;
    pd_fsources_sweep(f->fsources); /* connect now, before the server listens */
    what = "event-loop monitor";
    pd_looplag_options_t lo = {0, o->slow_callback_ms, 0};
    if ((rc = pd_looplag_init(&f->lag, f->loop, app->metrics, &lo)) < 0)
        goto fail;
    what = "worker pool";
    if (f->loop != app->loop && (rc = pd_pool_channel_create(app->pool, f->loop,
                                                             &f->channel)) < 0)
        goto fail;
    pd_predict_options_t pro = {o->max_queue, o->max_batch, o->max_rows, o->queue_timeout_ms,
                                o->inline_below_us, o->decode_on_worker_above, f->fsources,
                                f->channel};
    return pd_predict_create(&f->predict, &app->reg, app->pool, f->router, app->metrics, &pro,
                             err, errlen);
fail:
    snprintf(err, errlen, "%s: %s", what, pd_strerror(rc));
    return rc;
}

/* Several loops: the timer that refreshes the front's counters for the gauges. */
static int front_snap_timer(pd_app_front_t *f)
{
    if (f->app->loops == 1)
        return 0;
    if ((f->snap_timer = malloc(sizeof *f->snap_timer)) == NULL)
        return PD_ENOMEM;
    uv_timer_init(f->loop, f->snap_timer);
    f->snap_timer->data = f;
    uv_timer_start(f->snap_timer, on_snap, PD_APP_SNAP_MS, PD_APP_SNAP_MS);
    uv_unref((uv_handle_t *)f->snap_timer);
    return 0;
}

int pd_app_front_create(pd_app_front_t **out, pd_app_t *app, uv_loop_t *loop,
                        pd_router_t *router, char *err, size_t errlen)
{
    pd_applock_enter();
    int rc = PD_EFULL;
    pd_app_front_t *f = NULL;
    if (app->n_fronts >= app->loops) {
        snprintf(err, errlen, "more loops than --loops %u", app->loops);
        goto out;
    }
    rc = PD_ENOMEM;
    if ((f = calloc(1, sizeof *f)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    f->app = app;
    f->loop = loop;
    f->router = router;
    pd_buf_init(&f->scrape, PD_APP_METRICS_MAX);
    f->health.ready = front_ready;
    f->health.report = front_report;
    f->health.ud = f;
    f->index = app->n_fronts;
    app->fronts[app->n_fronts++] = f; /* from here on pd_app_front_destroy unwinds it */
    if ((rc = front_control(f, err, errlen)) < 0 || (rc = front_pipeline(f, err, errlen)) < 0 ||
        (rc = front_routes(f, err, errlen)) < 0)
        goto fail;
    if ((rc = front_snap_timer(f)) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    *out = f;
    goto out;
fail:
    pd_app_front_destroy(f);
out:
    pd_applock_leave();
    return rc;
}

static void on_snap_closed(uv_handle_t *h)
{
    free(h);
}

void pd_app_front_destroy(pd_app_front_t *f)
{
    if (f == NULL)
        return;
    pd_app_t *app = f->app;
    pd_pool_channel_destroy(f->channel); /* its jobs are done: nothing refers to f */
    pd_applock_enter();
    for (unsigned i = 0; i < app->n_fronts; i++)
        if (app->fronts[i] == f) {
            memmove(&app->fronts[i], &app->fronts[i + 1],
                    (app->n_fronts - i - 1) * sizeof app->fronts[0]);
            app->n_fronts--;
            break;
        }
    if (f->snap_timer != NULL)
        uv_close((uv_handle_t *)f->snap_timer, on_snap_closed);
    pd_predict_destroy(f->predict);
    pd_openapi_destroy(f->openapi);
    pd_docs_destroy(f->docs);
    pd_fsources_destroy(f->fsources); /* after every request: none waits on a lookup */
    pd_looplag_destroy(f->lag);
    pd_buf_free(&f->scrape);
    free(f);
    pd_applock_leave();
}
