/* predict.h - the prediction endpoints: the article's two and the production one.
 *
 *   POST /predict_non_blocking   validate on the loop, always run the model on the pool
 *   POST /predict_blocking       validate and run the model on the loop thread itself (the
 *                                article's anti-pattern, kept so that its cost can be seen)
 *   POST /predict                the pool, unless the model is cheaper per row than
 *                                --inline-below-us: then on the loop, where a hand-off
 *                                would cost more than the model
 *   POST /models/<name>/predict  /predict for a named model
 *
 * All take a JSON object of the model's feature names (validated as FastAPI 0.92 +
 * Pydantic 1.10 would: api/features.h) and answer {"prediction": <label or value>}.
 * A full queue answers 503 + Retry-After: 1; a job that waited longer than the queue
 * timeout answers 504; a job whose client went away is canceled before it runs.
 * Loop thread only, except the batch function that the pool calls on workers. */
#ifndef PD_API_PREDICT_H
#define PD_API_PREDICT_H

#include <stdint.h>

#include "api/registry.h"
#include "http/http.h"
#include "obs/metrics.h"
#include "pool/pool.h"
#include "util/buf.h"

#define PD_PREDICT_DEFAULT_QUEUE_TIMEOUT_MS 30000
#define PD_PREDICT_ERR_KEEP (256u * 1024u) /* a larger 422/400 body's buffer is freed */

typedef enum { PD_PREDICT_POOL = 0, PD_PREDICT_LOOP = 1, PD_PREDICT_AUTO = 2 } pd_predict_where_t;

struct pd_predict_ctx_s;

/* One registered route: which model (NULL: the default) and where it runs. */
typedef struct pd_predict_route_s {
    struct pd_predict_ctx_s *ctx;
    pd_served_model_t *sm;
    pd_predict_where_t where;
    char path[160];
} pd_predict_route_t;

typedef struct pd_predict_ctx_s {
    pd_registry_t *reg;          /* borrowed, outlives the ctx */
    pd_pool_t *pool;             /* borrowed, outlives the ctx */
    uint64_t queue_timeout_ns;   /* 0: none */
    double *row;                 /* owned: one row of the widest model, loop thread */
    pd_buf_t err;                /* owned: 422/400 body scratch */
    pd_buf_t out;                /* owned: 200 body scratch */
    pd_predict_route_t *routes;  /* owned, n_routes */
    size_t n_routes;
    pd_metrics_family_t *predictions; /* predictd_predictions_total{model,where} */
} pd_predict_ctx_t;

/* Prepares ctx: one pool queue per model of reg (max_queue jobs each, 0: default), the
 * routes above (registered on router, which must outlive ctx), and
 * predictd_predictions_total in metrics (may be NULL). reg, pool, router and metrics are
 * borrowed and must outlive ctx. queue_timeout_ms: 0 for none. Returns 0 or a negative
 * code with a message in err. */
int pd_predict_init(pd_predict_ctx_t *ctx, pd_registry_t *reg, pd_pool_t *pool,
                    pd_router_t *router, pd_metrics_t *metrics, size_t max_queue,
                    uint32_t queue_timeout_ms, char *err, size_t errlen);

/* Frees what ctx owns (not the pool's queues). Accepts NULL. Call after the pool is
 * destroyed: no job may still be in flight. */
void pd_predict_fini(pd_predict_ctx_t *ctx);

/* Appends {"prediction":...} for one result of `schema` to out (exactly as FastAPI's
 * JSONResponse renders it). Returns 0, or PD_EINVAL for a non-finite regression value. */
int pd_predict_encode(pd_buf_t *out, const pd_model_schema_t *schema, int32_t class_index,
                      double value);

#endif
