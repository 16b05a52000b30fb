/* predict.h - the request pipeline of every prediction route, whatever its protocol:
 *
 *   body --codec.decode--> rows --chunks of <= max_batch rows on the model's pool queue
 *   (or the loop, see below)--> results --codec.encode--> answer
 *
 * Routes (api/predict_routes.c holds the table; each names its codec, model, outputs and
 * where the model runs):
 *   POST /predict_non_blocking, /predict_blocking, /predict, /predict_proba,
 *        /models/{name}[/versions/{version}]/predict[_proba]      FastAPI-style
 *   POST /v1/models/{name}:predict, GET /v1/models/{name}           KServe V1
 *   POST /invocations                                               MLflow / SageMaker
 *   POST /v2/models/{name}[/versions/{version}]/infer               Open Inference Protocol
 *
 * Where the work runs (the article's rule, with rows): /predict_blocking decodes, predicts
 * and encodes on the loop (the anti-pattern, kept to show its cost); every other route
 * predicts on the loop only when rows x the model's cost per row is below
 * --inline-below-us, else on the pool, split into chunks of --max-batch rows (at most
 * PD_PREDICT_MAX_CHUNKS of them) that several workers run at once and that are joined on
 * the loop. A body larger than
 * --decode-on-worker-above bytes is decoded on a worker, and its answer encoded there too.
 * A model that is not loaded answers 404, and 503 + Retry-After: 1 while its first
 * version loads. A full queue answers 503 + Retry-After: 1 (all chunks of a request are
 * queued or none); a chunk that waited longer than --queue-timeout answers 504; a request
 * whose client went away has its queued chunks canceled. Every request that reaches a handler is answered
 * exactly once, in its codec's shape, with an X-Model-Version header when a model version
 * was found, and with the Content-Type and headers its codec's encode chose for a 200
 * (V2 binary answers). A request's jobs wait at most --queue-timeout, or less when its
 * codec read a shorter timeout from the request (504 either way). Every answer of a found
 * version is counted in its statistics (api/infer_stats.h). A request holds a reference
 * to its model version from the handler to its answer, so a reload or an unload never
 * changes the model under it (an unloaded model's queued chunks are answered 503 without
 * running).
 *
 * Feature lookup (api/fsource.h): on a FastAPI-style route, a model whose settings name a
 * feature source is decoded with missing values allowed, the entity keys are extracted
 * where the body was decoded, and the missing cells are read from the store on the loop
 * between decode and the prediction (503/504/422 answered from the lookup's message).
 *
 * Threads: the loop thread owns the context and every request's state except while a
 * worker runs one of its jobs (a chunk touches only its own row range; a decode/encode
 * task touches the whole state while no chunk of it is queued). */
#ifndef PD_API_PREDICT_H
#define PD_API_PREDICT_H

#include <stdint.h>

#include "api/registry.h"
#include "http/http.h"
#include "obs/metrics.h"
#include "pool/pool.h"
#include "util/buf.h"

#define PD_PREDICT_DEFAULT_QUEUE_TIMEOUT_MS 30000
/* Bodies larger than this are decoded (and answered) on a worker, not on the loop. */
#define PD_PREDICT_DEFAULT_DECODE_ON_WORKER_ABOVE (64u * 1024u)
/* Answers of more values than this (rows x pd_rows_values_per_row) are encoded on a worker. */
#define PD_PREDICT_ENCODE_ON_LOOP_MAX 4096u
/* Most chunks one request is split into: more than the workers only serves fairness with
 * small requests queued in between, so a huge request gets bigger chunks instead (a chunk
 * larger than --max-batch runs alone). Also never more than --max-queue. */
#define PD_PREDICT_MAX_CHUNKS 256u
/* The pool queue of a model's big requests is named after it with this suffix (a model
 * name cannot hold ':'). */
#define PD_PREDICT_BULK_SUFFIX ":bulk"
/* The codec tasks' pool queue (its name cannot be a model's: ':' is not allowed there). */
#define PD_PREDICT_CODEC_QUEUE "codec:decode-encode"

typedef struct pd_predict_options_s {
    size_t max_queue;             /* jobs waiting per model; 0: the pool's default */
    size_t max_batch;             /* rows per chunk (the pool's max_batch); 0: default */
    size_t max_rows;              /* rows per request; 0: PD_ROWS_DEFAULT_MAX */
    uint32_t queue_timeout_ms;    /* 0: jobs wait for ever */
    double inline_below_us;       /* 0: only /predict_blocking predicts on the loop */
    size_t decode_on_worker_above; /* bytes; 0: PD_PREDICT_DEFAULT_DECODE_ON_WORKER_ABOVE */
    struct pd_fsources_s *fsources; /* online feature lookup (api/fsource.h), borrowed and
                                       outliving the context; NULL: none */
    pd_pool_channel_t *channel;   /* the completion channel of the context's loop (one
                                     context per loop, pool.h); NULL: the pool's main one */
} pd_predict_options_t;

typedef struct pd_predict_ctx_s pd_predict_ctx_t;

/* Creates the pipeline: the codec queue (each model's two queues follow on its first
 * request: the pool must accept two queues per model plus one), the routes
 * (registered on router), and its metrics in `metrics` (may be NULL):
 *   predictd_predictions_total{model,where}  requests answered with predictions
 *   predictd_rows_total{model,where}         rows predicted (where = loop or pool)
 * reg, pool, router and metrics are borrowed and must outlive the context; opts is copied.
 * Returns 0 or a negative code with one line in err. */
int pd_predict_create(pd_predict_ctx_t **out, pd_registry_t *reg, pd_pool_t *pool,
                      pd_router_t *router, pd_metrics_t *metrics,
                      const pd_predict_options_t *opts, char *err, size_t errlen);

/* Frees the context. Call after the pool is destroyed (no job may be in flight). Accepts
 * NULL. */
void pd_predict_destroy(pd_predict_ctx_t *ctx);

/* Where a route runs the model. */
typedef enum {
    PD_PREDICT_POOL = 0, /* always the pool */
    PD_PREDICT_LOOP = 1, /* always the loop (/predict_blocking) */
    PD_PREDICT_AUTO = 2  /* the loop when rows x cost per row < --inline-below-us */
} pd_predict_where_t;

/* Which model a route serves. */
typedef enum {
    PD_PREDICT_MODEL_DEFAULT = 0, /* --default-model */
    PD_PREDICT_MODEL_PARAM = 1    /* the path's {name}, and {version} when it has one */
} pd_predict_model_t;

/* One prediction route: static data (api/predict_routes.c). */
typedef struct pd_predict_route_s {
    const char *method;
    const char *path;          /* a router pattern; PD_PREDICT_MODEL_PARAM paths hold {name} */
    const struct pd_codec_s *codec;
    pd_predict_model_t model;
    pd_predict_where_t where;
    unsigned outputs;          /* PD_OUT_* (api/rows.h) */
    const char *summary;       /* one line for /models and the docs */
} pd_predict_route_t;

/* The route table (static storage) and its length in *n. */
const pd_predict_route_t *pd_predict_routes(size_t *n);

#endif
