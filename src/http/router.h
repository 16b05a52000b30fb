/* router.h - exact-path routing table: (method, path) -> handler + ctx, plus the fallback
 * handler the server calls when no route matches (404) or only other methods do (405).
 *
 * Invariants: at most PD_ROUTER_MAX_ROUTES routes; one route per (method, path); routes and
 * the fallback are set before the server starts and never removed, so lookups need no
 * locking. The path and method strings are copied. */
#ifndef PD_HTTP_ROUTER_H
#define PD_HTTP_ROUTER_H

#include <stddef.h>

#define PD_ROUTER_MAX_ROUTES 512 /* room for a predict route per model (registry: 256) */
#define PD_ROUTER_MAX_PATH 256
#define PD_ROUTER_MAX_METHOD 16
#define PD_ROUTER_ALLOW_MAX 128  /* the Allow list of a 405 ("GET, POST"), with its NUL */

struct pd_http_request_s;
/* A route's handler: called on the loop thread with a complete request; must eventually
 * call pd_http_respond(req, ...) exactly once (now or later). req->route_ctx holds ctx. */
typedef void (*pd_http_handler_fn)(struct pd_http_request_s *req, void *ctx);

typedef struct {
    char method[PD_ROUTER_MAX_METHOD];
    char path[PD_ROUTER_MAX_PATH];
    size_t path_len;
    pd_http_handler_fn fn;
    void *ctx;
} pd_route_t;

typedef struct pd_router_s {
    pd_route_t routes[PD_ROUTER_MAX_ROUTES];
    size_t n;
    pd_http_handler_fn fallback; /* 404/405 handler, or NULL (pd_router_set_fallback) */
    void *fallback_ctx;
} pd_router_t;

/* Result of pd_router_match. */
typedef enum { PD_ROUTE_FOUND = 0, PD_ROUTE_NOT_FOUND = 1, PD_ROUTE_BAD_METHOD = 2 } pd_route_result_t;

/* Empties the router (no routes, no fallback). */
void pd_router_init(pd_router_t *r);
/* Sets the handler the server calls for a request that no route takes: its
 * req->route_status is 404 (no route has the path) or 405 (the path has routes, with other
 * methods; req->allow lists them, "GET, POST", for an Allow header). The handler answers
 * like a route's handler (pd_http_respond exactly once, now or later) and gets `ctx`
 * (borrowed: it must outlive the server); req->route_ctx stays NULL, which tells a
 * fallback's request from a routed one. fn NULL: the server answers itself, with the
 * reason phrase as a text/plain body (and Allow for 405). Replaces an earlier fallback. */
void pd_router_set_fallback(pd_router_t *r, pd_http_handler_fn fn, void *ctx);
/* Adds a route; `ctx` is borrowed and handed to the handler, so it must outlive the server.
 * Returns 0, PD_EINVAL (empty/oversized method or path, path not starting with '/',
 * NULL fn, duplicate) or PD_EFULL. */
int pd_router_add(pd_router_t *r, const char *method, const char *path, pd_http_handler_fn fn,
                  void *ctx);
/* Looks (method, path) up; path has no query. On PD_ROUTE_FOUND sets *route (points into
 * r). On PD_ROUTE_BAD_METHOD writes the path's methods ("GET, POST") into allow (NUL-
 * terminated, truncated to allow_len) when allow is not NULL. */
pd_route_result_t pd_router_match(const pd_router_t *r, const char *method, const char *path,
                                  const pd_route_t **route, char *allow, size_t allow_len);

#endif
