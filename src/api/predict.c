/* predict.c - the request pipeline (see predict.h): one pd__preq_t per request carries it
 * from decode through its chunks to the answer (its state is in predict_internal.h; what
 * workers run on its rows, in predict_run.c).
 *
 * States of a request, all driven from the loop thread:
 *   DECODE   decoding (on the loop, or as a task on the codec queue for a big body)
 *   LOOKUP   its missing features are being read from the model's feature source, on the
 *            loop (api/fsource.h; no job of it is queued meanwhile)
 *   PREDICT  its chunks are on the model's queue; `pending` counts those not yet back
 *   ENCODE   encoding its answer as a task on the codec queue (big answers)
 *   then answer() responds and frees it.
 * Invariants: a request has at most one kind of job queued at a time (one task, or its
 * chunks), so a worker never shares its state with another thread except chunks, which
 * touch disjoint row ranges; every job's done() runs on the loop, and the request is
 * answered exactly once, after the last of its jobs came back. */
#include "api/predict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"
#include "api/fsource.h"
#include "api/predict_internal.h"
#include "api/rows.h"
#include "common.h"
#include "obs/log.h"

/* A larger answer or error body is freed, not kept for reuse. */
#define PD__OUT_KEEP (64u * 1024u)

/* ---- answering ---- */

static void preq_free(pd__preq_t *p)
{
    pd_fetch_free(p->fetch); /* before the version: the lookup borrows its spec */
    pd_registry_release(p->ctx->reg, p->v);
    pd_rows_free(&p->rows);
    pd_buf_free(&p->out);
    if (p->chunks != &p->chunk1)
        free(p->chunks);
    free(p);
}

/* Counts the answered request in its version's statistics (api/infer_stats.h). */
static void record(pd__preq_t *p, int status)
{
    pd_infer_stats_t *st = &p->v->stats;
    pd_infer_stats_request(st, status == 200, pd_pool_now_ns() - p->t0, p->rows.n_rows);
    if (p->decoded)
        pd_infer_stats_add(&st->compute_input, p->decode_ns);
    if (p->encoded)
        pd_infer_stats_add(&st->compute_output, p->encode_ns);
}

/* Sends p->out with `status` (and X-Model-Version when a version answered; a 200 with
 * what encode said in p->reply) and frees p. */
static void answer(pd__preq_t *p, int status)
{
    const pd_codec_t *codec = p->route->codec;
    const char *extra = p->extra, *type = codec->content_type;
    if (status == 200) {
        type = p->reply.content_type ? p->reply.content_type : type;
        extra = extra ? extra : p->reply.headers;
    }
    if (p->v != NULL) {
        snprintf(p->headers, sizeof p->headers, "X-Model-Version: %s\r\n%s", p->v->label,
                 extra ? extra : "");
        extra = p->headers;
        record(p, status);
    }
    pd_http_respond(p->req, status, type, extra, p->out.data, p->out.len);
    preq_free(p);
}

/* Answers an error in the route's protocol. */
static void answer_error(pd__preq_t *p, int status, const char *extra, const char *message)
{
    pd_buf_reset(&p->out);
    p->extra = extra;
    if (p->route->codec->error(status, message, &p->out) < 0) {
        pd_buf_reset(&p->out);
        status = 500;
    }
    answer(p, status);
}

static void count(pd__preq_t *p, const char *where)
{
    pd_predict_ctx_t *ctx = p->ctx;
    const char *labels[2] = {p->v->owner->name, where};
    if (ctx->predictions != NULL)
        pd_metrics_inc(pd_metrics_series(ctx->predictions, labels), 1);
    if (ctx->rows_total != NULL)
        pd_metrics_inc(pd_metrics_series(ctx->rows_total, labels), (double)p->rows.n_rows);
}

/* Encodes the results into p->out; on failure leaves an error status in p->status. */
static void encode(pd__preq_t *p)
{
    uint64_t t = pd_pool_now_ns();
    pd_buf_reset(&p->out);
    int rc = p->route->codec->encode(p->v->schema, &p->rows, &p->out);
    p->encode_ns = pd_pool_now_ns() - t;
    p->encoded = 1;
    if (rc < 0) {
        p->status = 500;
        p->message = rc == PD_EINVAL ? "the model produced no valid prediction"
                                     : "the answer could not be encoded: out of memory";
    }
}

/* Answers the encoded results (or the error encode left). */
static void answer_encoded(pd__preq_t *p)
{
    if (p->status != 0)
        answer_error(p, p->status, NULL, p->message);
    else
        answer(p, 200);
}

/* The deadline of a job of p queued now: the earlier of --queue-timeout and the client's
 * own timeout (rows.timeout_ns, set by decode); 0 for none. */
static uint64_t deadline(const pd__preq_t *p)
{
    uint64_t t = p->ctx->queue_timeout_ns, mine = p->rows.timeout_ns, now = pd_pool_now_ns();
    if (mine != 0 && (t == 0 || mine < t))
        t = mine;
    return t == 0 || t > UINT64_MAX - now ? 0 : now + t;
}

/* ---- tasks on the codec queue (worker threads) ---- */

void pd__predict_run_tasks(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w)
{
    (void)ud;
    (void)w;
    for (size_t i = 0; i < n; i++) {
        pd__task_t *t = (pd__task_t *)jobs[i];
        t->run(t->p);
    }
}

static void on_abort_task(pd_http_request_t *req, void *arg)
{
    (void)req;
    pd_pool_cancel(&((pd__task_t *)arg)->job);
}

/* Queues fn(p) on a worker; done(job, status) follows on the loop. Returns 0, or answers
 * 503 itself and returns a negative code (p is freed then). */
static int submit_task(pd__preq_t *p, void (*fn)(pd__preq_t *),
                       void (*done)(pd_job_t *, int))
{
    pd_predict_ctx_t *ctx = p->ctx;
    memset(&p->task, 0, sizeof p->task);
    p->task.p = p;
    p->task.run = fn;
    p->task.job.done = done;
    p->task.job.rows = 1;
    p->task.job.deadline_ns = deadline(p);
    int rc = pd_pool_submit_via(ctx->o.channel, ctx->codec_q, &p->task.job);
    if (rc < 0) {
        answer_error(p, 503, "Retry-After: 1\r\n",
                     rc == PD_ESHUTDOWN ? "the server is shutting down"
                                        : "the server is busy decoding other requests");
        return rc;
    }
    pd_http_request_on_abort(p->req, on_abort_task, &p->task);
    return 0;
}

/* Status of a job that did not run, as an answer. */
static void answer_dropped(pd__preq_t *p, int status)
{
    if (status == PD_ETIMEDOUT)
        answer_error(p, 504, NULL, "the request waited too long for a worker");
    else
        answer_error(p, 503, NULL, "the request was canceled"); /* its client is gone */
}

static void encode_task(pd__preq_t *p)
{
    encode(p);
}

static void encode_done(pd_job_t *job, int status)
{
    pd__preq_t *p = ((pd__task_t *)job)->p;
    pd_http_request_on_abort(p->req, NULL, NULL);
    if (status != 0)
        answer_dropped(p, status);
    else
        answer_encoded(p);
}

/* ---- predicting ---- */

/* All rows have results: encode on the loop, or on a worker when the answer is big. */
static void finish(pd__preq_t *p, const char *where)
{
    count(p, where);
    size_t values = p->rows.n_rows * pd_rows_values_per_row(&p->rows);
    if (p->route->where != PD_PREDICT_LOOP &&
        (p->on_worker || values > PD_PREDICT_ENCODE_ON_LOOP_MAX)) {
        submit_task(p, encode_task, encode_done);
        return;
    }
    encode(p);
    answer_encoded(p);
}

/* Counts a chunk that left the queue in its version's statistics. */
static void record_chunk(pd__preq_t *p, const pd_job_t *job, int status)
{
    pd_infer_stats_t *st = &p->v->stats;
    if (job->t_start_ns >= job->t_enqueue_ns)
        pd_infer_stats_add(&st->queue, job->t_start_ns - job->t_enqueue_ns);
    if (status != 0)
        return;
    uint64_t ns = job->t_end_ns - job->t_start_ns;
    pd_infer_stats_add(&st->compute_infer, ns);
    if (pd_pool_job_batch_first(job))
        pd_infer_stats_execution(st, job->batch_rows, ns);
}

static void chunk_done(pd_job_t *job, int status)
{
    pd__preq_t *p = ((pd__chunk_t *)job)->p;
    record_chunk(p, job, status);
    p->failed |= ((pd__chunk_t *)job)->failed;
    p->unloaded |= ((pd__chunk_t *)job)->unloaded;
    if (status == PD_ETIMEDOUT && p->status == 0)
        p->status = 504, p->message = "the request waited too long for a worker";
    else if (status != 0 && p->status == 0)
        p->status = 503, p->message = "the request was canceled";
    if (--p->pending > 0)
        return;
    pd_http_request_on_abort(p->req, NULL, NULL);
    if (p->status == 0 && p->unloaded)
        p->status = 503, p->message = "the model was unloaded";
    if (p->status == 0 && p->failed)
        p->status = 500, p->message = "inference failed: out of memory";
    if (p->status != 0) {
        answer_error(p, p->status, NULL, p->message);
        return;
    }
    finish(p, "pool");
}

static void on_abort_chunks(pd_http_request_t *req, void *arg)
{
    pd__preq_t *p = arg;
    (void)req;
    for (size_t i = 0; i < p->n_chunks; i++)
        pd_pool_cancel(&p->chunks[i].job);
}

/* Queues every chunk of p, or none (503). */
static void submit_chunks(pd__preq_t *p)
{
    pd_predict_ctx_t *ctx = p->ctx;
    pd_served_model_t *sm = p->v->owner;
    size_t n = p->rows.n_rows, per = ctx->o.max_batch;
    size_t most = PD_MIN(PD_PREDICT_MAX_CHUNKS, ctx->o.max_queue); /* never more than fit */
    if ((n + per - 1) / per > most)
        per = (n + most - 1) / most; /* a huge request: fewer, bigger chunks */
    size_t k = (n + per - 1) / per;
    if (sm->queue == NULL && pd__predict_ensure_queue(ctx, sm) < 0) {
        answer_error(p, 500, NULL, "the model's queue could not be created");
        return;
    }
    pd_job_t *one[1];
    pd_job_t **jobs = k == 1 ? one : malloc(k * sizeof *jobs);
    p->chunks = k == 1 ? &p->chunk1 : calloc(k, sizeof *p->chunks);
    if (p->chunks == NULL || jobs == NULL) {
        if (jobs != one)
            free(jobs);
        if (p->chunks == NULL)
            p->chunks = &p->chunk1;
        answer_error(p, 500, NULL, "out of memory");
        return;
    }
    uint64_t until = deadline(p);
    for (size_t i = 0; i < k; i++) {
        pd__chunk_t *c = &p->chunks[i];
        c->p = p;
        c->row0 = i * per;
        c->n = PD_MIN(per, n - c->row0);
        c->job.done = chunk_done;
        c->job.rows = (uint32_t)c->n;
        c->job.deadline_ns = until;
        jobs[i] = &c->job;
    }
    int rc = pd_pool_submit_all_via(ctx->o.channel, k == 1 ? sm->queue : sm->bulk_queue, jobs,
                                    k);
    if (jobs != one)
        free(jobs);
    if (rc < 0) {
        answer_error(p, 503, "Retry-After: 1\r\n", rc == PD_EFULL ? "the model's queue is full"
                                                            : "the server is shutting down");
        return;
    }
    p->n_chunks = p->pending = k;
    pd_http_request_on_abort(p->req, on_abort_chunks, p);
}

/* Decoded: predict on the loop or queue the chunks. */
static void after_decode(pd__preq_t *p)
{
    if (p->rc != 0) {
        int status = p->rc > 0 ? p->rc : 500;
        if (p->rc < 0) /* the codec wrote nothing useful */
            answer_error(p, 500, NULL, p->rc == PD_ENOMEM ? "out of memory"
                                                          : "the request could not be decoded");
        else
            answer(p, status); /* p->out holds the codec's error body */
        return;
    }
    const pd_model_schema_t *s = p->v->schema;
    char why[PD_MODEL_CHECK_MSG], msg[PD_MODEL_CHECK_MSG + 32];
    size_t bad; /* a value the model refuses (CategoricalNB: not a category) */
    if (pd_model_check(p->v->model, p->rows.x, p->rows.n_rows, &bad, why, sizeof why) < 0) {
        snprintf(msg, sizeof msg, "row %zu: %s", bad, why);
        answer_error(p, 422, NULL, msg);
        return;
    }
    if (pd_rows_results(&p->rows, s->n_classes) < 0) {
        answer_error(p, 500, NULL, "out of memory");
        return;
    }
    if (p->rows.n_rows == 0) {
        finish(p, "loop");
        return;
    }
    const pd_predict_route_t *rt = p->route;
    int on_loop = rt->where == PD_PREDICT_LOOP ||
                  (rt->where == PD_PREDICT_AUTO && !p->on_worker &&
                   p->rows.n_rows <= pd_registry_loop_max_rows(p->ctx->reg, p->v));
    if (!on_loop) {
        submit_chunks(p);
        return;
    }
    uint64_t t = pd_pool_now_ns();
    if (pd__predict_range(p, 0, p->rows.n_rows, p->ctx->reg->loop_scratch) < 0) {
        answer_error(p, 500, NULL, "inference failed");
        return;
    }
    uint64_t ns = pd_pool_now_ns() - t;
    pd_infer_stats_add(&p->v->stats.queue, 0); /* no queue: counted as a 0 ns wait */
    pd_infer_stats_add(&p->v->stats.compute_infer, ns);
    pd_infer_stats_execution(&p->v->stats, p->rows.n_rows, ns);
    finish(p, "loop");
}

/* ---- feature lookup (api/fsource.h): the hook between decode and after_decode ---- */

/* The model's settings name a feature source, and the route's bodies carry entity keys. */
static int looks_up(const pd__preq_t *p)
{
    return p->v->features != NULL && p->route->codec == &pd_codec_fastapi;
}

static void fetched(void *arg, int status)
{
    pd__preq_t *p = arg;
    pd_http_request_on_abort(p->req, NULL, NULL);
    if (status != 0)
        answer_error(p, status, pd_fetch_extra_headers(p->fetch), pd_fetch_message(p->fetch));
    else
        after_decode(p);
}

static void on_abort_fetch(pd_http_request_t *req, void *arg)
{
    pd__preq_t *p = arg;
    (void)req;
    pd_fetch_cancel(p->fetch); /* replies still in flight are dropped, p is not touched */
    answer_error(p, 503, NULL, "the request was canceled");
}

/* Decoded: the missing features are looked up first (on the loop), then after_decode. */
static void decoded(pd__preq_t *p)
{
    if (p->rc != 0 || p->fetch == NULL) {
        after_decode(p);
        return;
    }
    int status = pd_fetch_start(p->ctx->fsources, p->v->features, p->fetch, &p->rows,
                                fetched, p);
    if (status != 0) {
        answer_error(p, status, pd_fetch_extra_headers(p->fetch), pd_fetch_message(p->fetch));
        return;
    }
    pd_http_request_on_abort(p->req, on_abort_fetch, p);
}

/* ---- decoding ---- */

static void decode(pd__preq_t *p)
{
    const pd_http_request_t *req = p->req;
    int lookup = looks_up(p) && p->ctx->fsources != NULL;
    uint64_t t = pd_pool_now_ns();
    pd_codec_in_t in = {.schema = p->v->schema,
                        .missing_ok = p->v->schema->missing_ok || lookup,
                        .content_type = req->content_type, .query = req->query,
                        .body = req->body, .len = req->body_len, .header = p->header,
                        .model_name = p->v->owner->name, .model_label = p->v->label,
                        .request_id = pd_http_request_id(req)};
    p->rc = p->route->codec->decode(&in, &p->rows, &p->out);
    if (p->rc == 0 && lookup) /* the keys, where the body is decoded (loop or worker) */
        p->rc = pd_fetch_prepare(p->v->features, req->body, req->body_len, &p->rows, &p->fetch);
    if (p->fetch && p->v->schema->typed_inputs)
        pd_fetch_set_inputs(p->fetch, p->v->schema->inputs);
    p->decode_ns = pd_pool_now_ns() - t;
    p->decoded = 1;
}

static void decode_done(pd_job_t *job, int status)
{
    pd__preq_t *p = ((pd__task_t *)job)->p;
    pd_http_request_on_abort(p->req, NULL, NULL);
    if (status != 0) {
        answer_dropped(p, status);
        return;
    }
    decoded(p);
}

/* ---- the handler ---- */

/* The version a request runs on: a reference, or NULL (not loaded, or no such version). */
static pd_model_version_t *route_version(pd_predict_ctx_t *ctx, const pd_predict_route_t *rt,
                                         const pd_http_request_t *req)
{
    if (rt->model == PD_PREDICT_MODEL_DEFAULT)
        return pd_registry_acquire(ctx->reg, NULL, NULL);
    const char *name = pd_http_request_param(req, "name");
    return name ? pd_registry_acquire(ctx->reg, name, pd_http_request_param(req, "version"))
                : NULL;
}

/* 1 when the path names a model whose first version is still loading: not ready yet
 * (503), rather than unknown (404). */
static int model_loading(pd_predict_ctx_t *ctx, const pd_http_request_t *req)
{
    const char *name = pd_http_request_param(req, "name");
    const pd_served_model_t *sm = name ? pd_registry_find(ctx->reg, name) : NULL;
    return sm != NULL && sm->state == PD_MODEL_LOADING;
}

void pd__predict_handle(pd_http_request_t *req, void *arg)
{
    const pd__route_ctx_t *rc = arg;
    pd_predict_ctx_t *ctx = rc->ctx;
    pd__preq_t *p = malloc(sizeof *p);
    if (p == NULL) {
        static const char e[] = "{\"detail\":\"out of memory\"}";
        pd_http_respond_json(req, 500, e, sizeof e - 1);
        return;
    }
    memset(p, 0, offsetof(pd__preq_t, headers)); /* all but the big buffers */
    p->ctx = ctx;
    p->req = req;
    p->route = rc->route;
    p->t0 = pd_pool_now_ns();
    p->chunks = &p->chunk1;
    pd_buf_init(&p->out, 0);
    p->v = route_version(ctx, rc->route, req);
    pd_rows_init(&p->rows, p->v ? p->v->schema->n_features : 0, ctx->o.max_rows);
    p->rows.outputs = rc->route->outputs;
    p->rows.reply = &p->reply;
    if (rc->route->codec->request_header != NULL) /* read here: decode may run on a worker */
        p->header = pd_http_request_header(req, rc->route->codec->request_header);
    if (p->v == NULL) {
        if (rc->route->model == PD_PREDICT_MODEL_DEFAULT)
            answer_error(p, 503, "Retry-After: 1\r\n", "the default model is not loaded");
        else if (model_loading(ctx, req))
            answer_error(p, 503, "Retry-After: 1\r\n", "the model is loading");
        else
            answer_error(p, 404, NULL, "no such model or version is loaded");
        return;
    }
    if ((p->rows.outputs & PD_OUT_PROBA) && p->v->schema->task != PD_TASK_CLASSIFICATION) {
        answer_error(p, 422, NULL, "this model is a regressor: it has no probabilities");
        return;
    }
    if ((p->rows.outputs & PD_OUT_PROBA) && !p->v->schema->proba_ok) {
        answer_error(p, 422, NULL, "this classifier computes no probabilities (e.g. "
                                   "LinearSVC, or SVC without probability=True)");
        return;
    }
    if (p->v->schema->typed_inputs && !p->route->codec->typed_inputs) {
        answer_error(p, 400, NULL, PD_PREDICT_TYPED_MSG);
        return;
    }
    if (rc->route->where != PD_PREDICT_LOOP && req->body_len > ctx->o.decode_on_worker_above) {
        p->on_worker = 1;
        submit_task(p, decode, decode_done);
        return;
    }
    decode(p);
    decoded(p);
}
