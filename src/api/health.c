/* health.c - /health, /v2/health/live, /v2/health/ready and /ping (see health.h). Stateless:
 * everything it reports is read from the server (and the app's hooks) at request time;
 * /health never looks at anything but the loop answering it. */
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

/* The ready body with the app's report in b; 0 when the report added nothing. */
static int report_body(const pd_health_t *h, int ok, pd_buf_t *b)
{
    if (h->report == NULL || pd_buf_puts(b, ok ? "{\"ready\":true" : "{\"ready\":false") < 0)
        return 0;
    size_t mark = b->len;
    return h->report(h->ud, b) == 0 && b->len > mark && pd_buf_puts(b, "}") == 0;
}

static void ready(pd_http_request_t *req, void *ctx)
{
    const pd_health_t *h = ctx;
    int ok = is_ready(h);
    static const char yes[] = "{\"ready\":true}", no[] = "{\"ready\":false}";
    pd_buf_t b;
    pd_buf_init(&b, PD_HEALTH_BODY_MAX);
    if (report_body(h, ok, &b))
        pd_http_respond_json(req, ok ? 200 : 503, b.data, b.len);
    else if (ok)
        pd_http_respond_json(req, 200, yes, sizeof yes - 1);
    else
        pd_http_respond_json(req, 503, no, sizeof no - 1);
    pd_buf_free(&b);
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
