/* health.c - /health, /v2/health/live, /v2/health/ready and /ping (see health.h). Stateless:
 * everything it reports is read from the server at request time. */
#include "api/health.h"

#include <string.h>

#include "common.h"

static void health(pd_http_request_t *req, void *ctx)
{
    (void)ctx;
    static const char body[] = "{\"status\":\"ok\"}";
    pd_http_respond_json(req, 200, body, sizeof body - 1);
}

static void live(pd_http_request_t *req, void *ctx)
{
    (void)ctx;
    static const char body[] = "{\"live\":true}";
    pd_http_respond_json(req, 200, body, sizeof body - 1);
}

static int is_ready(const pd_health_t *h)
{
    int ok = h->server ? pd_http_server_ready(h->server) : 0;
    if (ok && h->ready)
        ok = h->ready(h->ud);
    return ok;
}

static void ping(pd_http_request_t *req, void *ctx)
{
    pd_http_respond_json(req, is_ready(ctx) ? 200 : 503, "\n", 1);
}

static void ready(pd_http_request_t *req, void *ctx)
{
    int ok = is_ready(ctx);
    static const char yes[] = "{\"ready\":true}", no[] = "{\"ready\":false}";
    if (ok)
        pd_http_respond_json(req, 200, yes, sizeof yes - 1);
    else
        pd_http_respond_json(req, 503, no, sizeof no - 1);
}

int pd_health_register(pd_router_t *router, pd_health_t *h)
{
    int rc = pd_router_add(router, "GET", "/health", health, h);
    if (rc == 0)
        rc = pd_router_add(router, "GET", "/v2/health/live", live, h);
    if (rc == 0)
        rc = pd_router_add(router, "GET", "/v2/health/ready", ready, h);
    if (rc == 0)
        rc = pd_router_add(router, "GET", "/ping", ping, h);
    return rc;
}
