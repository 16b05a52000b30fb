/* predict_setup.c - creating and destroying the request pipeline (predict.h): its options
 * resolved to their defaults, the codec queue, its metrics, one router entry per route of
 * the table (predict_routes.c) and each model's two pool queues on its first request.
 * Loop thread only; the requests themselves are driven by predict.c. */
#include <stdio.h>
#include <stdlib.h>

#include "api/predict.h"
#include "api/predict_internal.h"
#include "common.h"
#include "obs/log.h"

static int add_routes(pd_predict_ctx_t *ctx, pd_router_t *router, char *err, size_t errlen)
{
    size_t n;
    const pd_predict_route_t *t = pd_predict_routes(&n);
    pd__route_ctx_t *rcs = calloc(n, sizeof *rcs);
    if (rcs == NULL) {
        snprintf(err, errlen, "out of memory");
        return PD_ENOMEM;
    }
    ctx->route_ctxs = rcs;
    for (size_t i = 0; i < n; i++) {
        rcs[i].ctx = ctx;
        rcs[i].route = &t[i];
        int rc = pd_router_add(router, t[i].method, t[i].path, pd__predict_handle, &rcs[i]);
        if (rc < 0) {
            snprintf(err, errlen, "route %s %s: %s", t[i].method, t[i].path, pd_strerror(rc));
            return rc;
        }
    }
    return 0;
}

/* Creates sm's two pool queues on its first request (models come and go while the server
 * runs, but a name keeps its queues): one for requests of one chunk, one for the chunks of
 * bigger requests ("NAME" PD_PREDICT_BULK_SUFFIX). The pool serves non-empty queues in
 * turn, so a small request waits for at most one chunk per worker, never for all the
 * chunks of a big request queued before it. */
int pd__predict_ensure_queue(pd_predict_ctx_t *ctx, pd_served_model_t *sm)
{
    char bulk[PD_POOL_QUEUE_NAME_MAX];
    int rc = PD_EINVAL;
    if ((size_t)snprintf(bulk, sizeof bulk, "%s%s", sm->name, PD_PREDICT_BULK_SUFFIX) <
        sizeof bulk)
        rc = pd_pool_queue_add(ctx->pool, bulk, ctx->o.max_queue, pd__predict_run_chunks, ctx,
                               &sm->bulk_queue);
    if (rc == 0)
        rc = pd_pool_queue_add(ctx->pool, sm->name, ctx->o.max_queue, pd__predict_run_chunks, ctx,
                               &sm->queue);
    if (rc < 0)
        pd_log_error("model %s: cannot create its queues: %s", sm->name, pd_strerror(rc));
    return rc;
}

static int add_metrics(pd_predict_ctx_t *ctx, pd_metrics_t *metrics, char *err, size_t errlen)
{
    static const char *const labels[] = {"model", "where"};
    int rc = pd_metrics_counter(metrics, "predictd_predictions_total",
                                "Prediction requests answered, by model and where the model "
                                "ran (loop or pool).", labels, 2, &ctx->predictions);
    if (rc == 0)
        rc = pd_metrics_counter(metrics, "predictd_rows_total",
                                "Rows predicted, by model and where the model ran (loop or "
                                "pool).", labels, 2, &ctx->rows_total);
    if (rc < 0)
        snprintf(err, errlen, "metrics: %s", pd_strerror(rc));
    return rc;
}

static void options_resolve(pd_predict_options_t *o, const pd_predict_options_t *in)
{
    *o = *in;
    if (o->max_batch == 0)
        o->max_batch = PD_POOL_DEFAULT_MAX_BATCH;
    if (o->max_queue == 0)
        o->max_queue = PD_POOL_DEFAULT_MAX_QUEUE;
    if (o->max_rows == 0)
        o->max_rows = PD_ROWS_DEFAULT_MAX;
    if (o->decode_on_worker_above == 0)
        o->decode_on_worker_above = PD_PREDICT_DEFAULT_DECODE_ON_WORKER_ABOVE;
}

int pd_predict_create(pd_predict_ctx_t **out, pd_registry_t *reg, pd_pool_t *pool,
                      pd_router_t *router, pd_metrics_t *metrics,
                      const pd_predict_options_t *opts, char *err, size_t errlen)
{
    pd_predict_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return PD_ENOMEM;
    }
    ctx->reg = reg;
    ctx->pool = pool;
    options_resolve(&ctx->o, opts);
    ctx->fsources = opts->fsources;
    ctx->queue_timeout_ns = (uint64_t)ctx->o.queue_timeout_ms * 1000000u;
    int rc = pd_pool_queue_add(ctx->pool, PD_PREDICT_CODEC_QUEUE, ctx->o.max_queue,
                               pd__predict_run_tasks,
                               NULL, &ctx->codec_q);
    if (rc < 0)
        snprintf(err, errlen, "the codec queue: %s", pd_strerror(rc));
    if (rc == 0 && metrics != NULL)
        rc = add_metrics(ctx, metrics, err, errlen);
    if (rc == 0)
        rc = add_routes(ctx, router, err, errlen);
    if (rc < 0) {
        pd_predict_destroy(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

void pd_predict_destroy(pd_predict_ctx_t *ctx)
{
    if (ctx == NULL)
        return;
    free(ctx->route_ctxs);
    free(ctx);
}
