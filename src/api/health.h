/* health.h - liveness and readiness endpoints, answered on the loop thread:
 *   GET /health           200 {"status":"ok"}
 *   GET /v2/health/live   200 {"live":true}
 *   GET /v2/health/ready  200 {"ready":true}, 503 {"ready":false} while draining or while
 *                         the app's extra readiness check (if any) says not ready; the
 *                         app's report (if any) adds members, e.g. the feature sources'
 *                         states: {"ready":true,"feature_sources":[...]}.
 *   GET /ping             MLflow's and SageMaker's readiness: 200 when ready, else 503,
 *                         with MLflow's body "\n" (application/json) either way. */
#ifndef PD_API_HEALTH_H
#define PD_API_HEALTH_H

#include "http/http.h"
#include "util/buf.h"

/* Largest /v2/health/ready body with the app's report. */
#define PD_HEALTH_BODY_MAX (64u * 1024u)

typedef struct {
    pd_http_server_t *server; /* borrowed: readiness follows pd_http_server_ready */
    /* optional: the app's own readiness (e.g. models loaded); NULL means always ready */
    int (*ready)(void *ud);
    /* optional: appends ,"member":value pairs to the /v2/health/ready body (loop thread);
     * returns 0 or a pd_buf error (the body is then sent without them) */
    int (*report)(void *ud, pd_buf_t *out);
    void *ud;
} pd_health_t;

/* Registers the four routes on `router` with `h` as their context; `h` must outlive the
 * server (h->server may be set after this call, before the server starts).
 * Returns 0 or the router's error. */
int pd_health_register(pd_router_t *router, pd_health_t *h);

#endif
