/* predict_internal.h - the request pipeline's state, shared by api/predict.c (the loop
 * side: handler, decode, chunks, answer) and api/predict_run.c (what workers run: the
 * model on a request's rows). Internal to src/api/.
 *
 * Threads: as predict.h says; a worker touches a pd__preq_t only through the chunk it
 * runs (its own row range of rows.x and of the results) or the task it runs (the whole
 * request, while nothing else of it is queued). */
#ifndef PD_API_PREDICT_INTERNAL_H
#define PD_API_PREDICT_INTERNAL_H

#include <stdint.h>

#include "api/fsource.h"
#include "api/predict.h"
#include "api/rows.h"

struct pd_predict_ctx_s {
    pd_registry_t *reg;
    pd_pool_t *pool;
    pd_pool_queue_t *codec_q;     /* decode/encode tasks */
    pd_predict_options_t o;       /* resolved: no zeros left */
    uint64_t queue_timeout_ns;
    pd_metrics_family_t *predictions, *rows_total;
    pd_fsources_t *fsources;      /* o.fsources: feature lookups, or NULL */
    struct pd__route_ctx_s *route_ctxs; /* one per route of the table */
};

typedef struct pd__preq_s pd__preq_t;

/* One chunk of a request's rows on the model's queue. */
typedef struct {
    pd_job_t job; /* first: the pool hands back &job */
    pd__preq_t *p;
    size_t row0, n;
    int failed;   /* set by the worker: no scratch memory for the kernel */
    int unloaded; /* set by the worker: the model was unloaded before the chunk ran */
} pd__chunk_t;

/* A decode or encode task on the codec queue. */
typedef struct {
    pd_job_t job;
    pd__preq_t *p;
    void (*run)(pd__preq_t *p);
} pd__task_t;

struct pd__preq_s {
    pd_predict_ctx_t *ctx;
    pd_http_request_t *req;
    const pd_predict_route_t *route;
    pd_model_version_t *v;   /* a reference, released when the request is freed */
    pd_buf_t out;            /* the answer's body (success or error) */
    int rc;                  /* decode: 0 or an HTTP status / negative code */
    int status;              /* an error status to answer, 0 while all is well */
    const char *message;     /* its message (static storage) */
    const char *extra;       /* extra header lines of the answer, or NULL */
    const char *header;      /* the codec's request_header's value (req's), or NULL */
    int failed;              /* a chunk failed (out of scratch memory) */
    int unloaded;            /* a chunk found its model unloaded */
    int on_worker;           /* decoded on a worker: encode there too */
    size_t pending;          /* jobs queued and not yet back */
    size_t n_chunks;
    pd__chunk_t *chunks;     /* n_chunks; &chunk1 when there is one */
    pd__chunk_t chunk1;
    pd__task_t task;
    pd_fetch_t *fetch;       /* its feature lookup (api/fsource.h), or NULL */
    uint64_t t0;             /* pd_pool_now_ns() when the handler ran (statistics) */
    uint64_t decode_ns, encode_ns; /* how long decode / encode took, 0 if they did not run */
    int decoded, encoded;    /* they ran */
    pd_rows_reply_t reply;   /* what encode says about the answer (rows.reply points here) */
    /* not zeroed at creation (set before use): */
    char headers[PD_REGISTRY_LABEL_MAX + PD_ROWS_REPLY_HEADERS + 64]; /* X-Model-Version,
                                          the codec's reply headers or Retry-After */
    pd_rows_t rows;          /* last: pd_rows_init leaves its inline storage alone */
};

/* Predicts rows [row0, row0 + n) of p in place with scratch (the model's scratch for n
 * rows, owned by the calling thread). Returns 0 or a negative code. Loop or worker. */
int pd__predict_range(pd__preq_t *p, size_t row0, size_t n, void *scratch);

/* The run_batch of every model's queue (pool.h): runs n chunks of one model (a reload may
 * mix versions in its queue). Worker thread; ud is unused. */
void pd__predict_run_chunks(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w);

/* The route's context: one per table entry, pointing back at the pipeline. */
typedef struct pd__route_ctx_s {
    pd_predict_ctx_t *ctx;
    const pd_predict_route_t *route;
} pd__route_ctx_t;

/* The router handler of every prediction route (predict.c); arg is the route's
 * pd__route_ctx_t (owned by ctx->route_ctxs, lives as long as the pipeline). Loop thread. */
void pd__predict_handle(pd_http_request_t *req, void *arg);

/* The run_batch of the codec queue (predict.c): runs decode/encode tasks. Worker thread;
 * ud is unused. */
void pd__predict_run_tasks(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w);

/* Creates sm's two pool queues on its first request (predict_setup.c): one for requests of
 * one chunk, one for the chunks of bigger requests ("NAME" PD_PREDICT_BULK_SUFFIX). sm is
 * the registry's (lives as long as the registry); the queues are the pool's. Returns 0 or
 * a negative code (logged). Loop thread. */
int pd__predict_ensure_queue(pd_predict_ctx_t *ctx, pd_served_model_t *sm);

/* The 400 of a protocol whose codec cannot decode a model's typed inputs. */
#define PD_PREDICT_TYPED_MSG                                                              \
    "this model has string inputs (or refuses unknown categories), which this protocol "  \
    "does not carry: use the FastAPI-style routes (/predict, /models/{name}/predict) or "  \
    "predictd predict"

#endif
