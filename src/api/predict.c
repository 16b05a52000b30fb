/* predict.c - the prediction endpoints (see predict.h).
 *
 * The path of one request: the handler validates the body into a feature row on the
 * loop thread; then either predicts right there (blocking, or /predict on a cheap model)
 * or copies the row into a job and submits it to the model's pool queue. A worker runs a
 * whole batch of jobs of one model in one pd_model_predict call (run_batch); the loop
 * gets the job back in done() and answers. Invariant: every request that reaches a
 * handler is answered exactly once, whatever happens to its job. */
#include "api/predict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/features.h"
#include "common.h"
#include "obs/log.h"

typedef struct predict_job_s {
    pd_job_t job;                /* first: the pool hands back &job */
    pd_http_request_t *req;      /* answered in done() */
    pd_served_model_t *sm;
    pd_predict_ctx_t *ctx;
    int failed;                  /* set by the worker when it could not predict */
    int32_t class_index;         /* result, written by the worker */
    double value;
    double x[];                  /* the row, n_features */
} predict_job_t;

static const char k_json[] = "application/json";

static void respond_detail(pd_http_request_t *req, int status, const char *extra,
                           const char *detail)
{
    char body[256];
    int n = snprintf(body, sizeof body, "{\"detail\":\"%s\"}", detail);
    if (n < 0 || (size_t)n >= sizeof body) /* details are short literals; never cut JSON */
        n = snprintf(body, sizeof body, "{\"detail\":\"error\"}");
    pd_http_respond(req, status, k_json, extra, body, (size_t)n);
}

int pd_predict_encode(pd_buf_t *out, const pd_model_schema_t *s, int32_t class_index,
                      double value)
{
    int rc = pd_buf_puts(out, "{\"prediction\":");
    if (rc < 0)
        return rc;
    if (s->task == PD_TASK_CLASSIFICATION) {
        if (class_index < 0 || (size_t)class_index >= s->n_classes)
            return PD_EINVAL;
        if (s->labels_are_strings) {
            const char *l = s->class_labels_str[class_index];
            rc = pd_buf_json_str(out, l, strlen(l));
        } else {
            rc = pd_buf_printf(out, "%lld", (long long)s->class_labels_int[class_index]);
        }
    } else {
        if (!isfinite(value))
            return PD_EINVAL;
        rc = pd_buf_json_double(out, value);
    }
    return rc < 0 ? rc : pd_buf_puts(out, "}");
}

static void answer_result(pd_predict_ctx_t *ctx, pd_http_request_t *req,
                          const pd_model_schema_t *s, int32_t class_index, double value)
{
    pd_buf_reset(&ctx->out);
    if (pd_predict_encode(&ctx->out, s, class_index, value) < 0) {
        respond_detail(req, 500, NULL, "the model produced no valid prediction");
        return;
    }
    pd_http_respond(req, 200, k_json, NULL, ctx->out.data, ctx->out.len);
}

static void count(pd_predict_ctx_t *ctx, const pd_served_model_t *sm, const char *where)
{
    if (ctx->predictions == NULL)
        return;
    const char *labels[2] = {sm->schema->name, where};
    pd_metrics_inc(pd_metrics_series(ctx->predictions, labels), 1);
}

/* Worker thread: predicts n jobs of one model as one batch. */
static void run_batch(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w)
{
    pd_served_model_t *sm = ud;
    size_t nf = sm->schema->n_features;
    size_t xbytes = n * nf * sizeof(double);
    size_t vbytes = n * sizeof(double);
    size_t cbytes = (n * sizeof(int32_t) + 7) & ~(size_t)7;
    size_t mbytes = pd_model_scratch_size(sm->model, n);
    char *s = pd_pool_worker_scratch(w, xbytes + vbytes + cbytes + mbytes);
    int rc = PD_ENOMEM;
    if (s != NULL) {
        double *x = (double *)s;
        double *values = (double *)(s + xbytes);
        int32_t *classes = (int32_t *)(s + xbytes + vbytes);
        for (size_t i = 0; i < n; i++) {
            predict_job_t *pj = (predict_job_t *)jobs[i];
            memcpy(x + i * nf, pj->x, nf * sizeof(double));
        }
        pd_predict_out_t out = {classes, values, NULL};
        rc = pd_model_predict(sm->model, x, n, s + xbytes + vbytes + cbytes, &out);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            predict_job_t *pj = (predict_job_t *)jobs[i];
            pj->class_index = classes[i];
            pj->value = values[i];
        }
    }
    for (size_t i = 0; rc < 0 && i < n; i++)
        ((predict_job_t *)jobs[i])->failed = 1;
}

/* Loop thread: the job came back from the pool. */
static void job_done(pd_job_t *job, int status)
{
    predict_job_t *pj = (predict_job_t *)job;
    pd_http_request_t *req = pj->req;
    if (status == PD_ETIMEDOUT)
        respond_detail(req, 504, NULL, "the request waited too long for a worker");
    else if (status != 0)
        respond_detail(req, 503, NULL, "the request was canceled"); /* client gone */
    else if (pj->failed)
        respond_detail(req, 500, NULL, "inference failed: out of memory");
    else {
        count(pj->ctx, pj->sm, "pool");
        answer_result(pj->ctx, req, pj->sm->schema, pj->class_index, pj->value);
    }
    free(pj);
}

static void on_abort(pd_http_request_t *req, void *arg)
{
    (void)req;
    pd_pool_cancel(&((predict_job_t *)arg)->job);
}

static void submit(pd_predict_ctx_t *ctx, pd_http_request_t *req, pd_served_model_t *sm,
                   const double *row)
{
    size_t nf = sm->schema->n_features;
    predict_job_t *pj = malloc(sizeof *pj + nf * sizeof(double));
    if (pj == NULL) {
        respond_detail(req, 500, NULL, "out of memory");
        return;
    }
    memset(pj, 0, sizeof *pj);
    memcpy(pj->x, row, nf * sizeof(double));
    pj->req = req;
    pj->sm = sm;
    pj->ctx = ctx;
    pj->job.done = job_done;
    if (ctx->queue_timeout_ns)
        pj->job.deadline_ns = pd_pool_now_ns() + ctx->queue_timeout_ns;
    int rc = pd_pool_submit(sm->queue, &pj->job);
    if (rc < 0) {
        free(pj);
        if (rc == PD_EFULL)
            respond_detail(req, 503, "Retry-After: 1\r\n", "the model's queue is full");
        else if (rc == PD_ESHUTDOWN)
            respond_detail(req, 503, "Retry-After: 1\r\n", "the server is shutting down");
        else
            respond_detail(req, 500, NULL, "the request could not be queued");
        return;
    }
    pd_http_request_on_abort(req, on_abort, pj);
}

static void handle(pd_http_request_t *req, void *arg)
{
    pd_predict_route_t *route = arg;
    pd_predict_ctx_t *ctx = route->ctx;
    pd_served_model_t *sm = route->sm ? route->sm : &ctx->reg->models[ctx->reg->def];
    const pd_model_schema_t *s = sm->schema;
    int rc = pd_features_decode(s->feature_names, s->n_features, req->content_type, req->body,
                                req->body_len, ctx->row, &ctx->err);
    if (rc == PD_EINVAL || rc == PD_EFORMAT) {
        pd_http_respond(req, rc == PD_EINVAL ? 422 : 400, k_json, NULL, ctx->err.data,
                        ctx->err.len);
        if (ctx->err.cap > PD_PREDICT_ERR_KEEP) /* a huge echo of a malformed body */
            pd_buf_free(&ctx->err);
        return;
    }
    if (rc < 0) {
        respond_detail(req, 500, NULL, rc == PD_ETOOBIG ? "the model has too many features "
                                                          "or the error is too large to report"
                                                        : "out of memory");
        return;
    }
    int on_loop = route->where == PD_PREDICT_LOOP ||
                  (route->where == PD_PREDICT_AUTO && sm->inline_ok);
    if (!on_loop) {
        submit(ctx, req, sm, ctx->row);
        return;
    }
    int32_t cls = -1;
    double val = NAN;
    pd_predict_out_t out = {&cls, &val, NULL};
    if (pd_model_predict(sm->model, ctx->row, 1, ctx->reg->loop_scratch, &out) < 0) {
        respond_detail(req, 500, NULL, "inference failed");
        return;
    }
    count(ctx, sm, "loop");
    answer_result(ctx, req, s, cls, val);
}

static int add_route(pd_predict_ctx_t *ctx, pd_router_t *router, const char *path,
                     pd_served_model_t *sm, pd_predict_where_t where, char *err, size_t errlen)
{
    pd_predict_route_t *r = &ctx->routes[ctx->n_routes];
    r->ctx = ctx;
    r->sm = sm;
    r->where = where;
    if ((size_t)snprintf(r->path, sizeof r->path, "%s", path) >= sizeof r->path) {
        snprintf(err, errlen, "route %s: path too long", path);
        return PD_EINVAL;
    }
    int rc = pd_router_add(router, "POST", r->path, handle, r);
    if (rc < 0) {
        snprintf(err, errlen, "route %s: %s", path, pd_strerror(rc));
        return rc;
    }
    ctx->n_routes++;
    return 0;
}

static int add_routes(pd_predict_ctx_t *ctx, pd_router_t *router, char *err, size_t errlen)
{
    int rc = add_route(ctx, router, "/predict", NULL, PD_PREDICT_AUTO, err, errlen);
    if (rc == 0)
        rc = add_route(ctx, router, "/predict_non_blocking", NULL, PD_PREDICT_POOL, err, errlen);
    if (rc == 0)
        rc = add_route(ctx, router, "/predict_blocking", NULL, PD_PREDICT_LOOP, err, errlen);
    for (size_t i = 0; rc == 0 && i < ctx->reg->n; i++) {
        char path[160];
        pd_served_model_t *sm = &ctx->reg->models[i];
        snprintf(path, sizeof path, "/models/%s/predict", sm->schema->name);
        rc = add_route(ctx, router, path, sm, PD_PREDICT_AUTO, err, errlen);
    }
    return rc;
}

int pd_predict_init(pd_predict_ctx_t *ctx, pd_registry_t *reg, pd_pool_t *pool,
                    pd_router_t *router, pd_metrics_t *metrics, size_t max_queue,
                    uint32_t queue_timeout_ms, char *err, size_t errlen)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->reg = reg;
    ctx->pool = pool;
    ctx->queue_timeout_ns = (uint64_t)queue_timeout_ms * 1000000u;
    pd_buf_init(&ctx->err, 0);
    pd_buf_init(&ctx->out, 0);
    size_t width = 1;
    for (size_t i = 0; i < reg->n; i++)
        width = PD_MAX(width, reg->models[i].schema->n_features);
    ctx->row = calloc(width, sizeof(double));
    ctx->routes = calloc(reg->n + 3, sizeof *ctx->routes);
    int rc = PD_ENOMEM;
    if (ctx->row == NULL || ctx->routes == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < reg->n; i++) {
        pd_served_model_t *sm = &reg->models[i];
        rc = pd_pool_queue_add(pool, sm->schema->name, max_queue, run_batch, sm, &sm->queue);
        if (rc < 0) {
            snprintf(err, errlen, "model %s: cannot create its queue: %s", sm->schema->name,
                     pd_strerror(rc));
            goto fail;
        }
    }
    if (metrics != NULL) {
        static const char *const labels[] = {"model", "where"};
        rc = pd_metrics_counter(metrics, "predictd_predictions_total",
                                "Predictions answered, by model and where the model ran "
                                "(loop or pool).", labels, 2, &ctx->predictions);
        if (rc < 0) {
            snprintf(err, errlen, "metrics: %s", pd_strerror(rc));
            goto fail;
        }
    }
    if ((rc = add_routes(ctx, router, err, errlen)) < 0)
        goto fail;
    return 0;
fail:
    pd_predict_fini(ctx);
    return rc;
}

void pd_predict_fini(pd_predict_ctx_t *ctx)
{
    if (ctx == NULL)
        return;
    free(ctx->row);
    free(ctx->routes);
    pd_buf_free(&ctx->err);
    pd_buf_free(&ctx->out);
    ctx->row = NULL;
    ctx->routes = NULL;
}
