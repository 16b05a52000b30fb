/* health.h - liveness and readiness endpoints, answered on the loop thread:
 *   GET /health           200 {"status":"ok"}
 *   GET /v2/health/live   200 {"live":true}
 *   GET /v2/health/ready  200 {"ready":true}, 503 {"ready":false} while draining or while
 *                         the app's extra readiness check (if any) says not ready.
 *   GET /ping             MLflow's and SageMaker's readiness: 200 when ready, else 503,
 *                         with MLflow's body "\n" (application/json) either way. */
#ifndef PD_API_HEALTH_H
#define PD_API_HEALTH_H

#include "http/http.h"

typedef struct {
    pd_http_server_t *server; /* borrowed: readiness follows pd_http_server_ready */
    /* optional: the app's own readiness (e.g. models loaded); NULL means always ready */
    int (*ready)(void *ud);
    void *ud;
} pd_health_t;

/* Registers the four routes on `router` with `h` as their context; `h` must outlive the
 * server (h->server may be set after this call, before the server starts).
 * Returns 0 or the router's error. */
int pd_health_register(pd_router_t *router, pd_health_t *h);

#endif
