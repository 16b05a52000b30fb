/* router.h - exact-path routing table: (method, path) -> handler + ctx.
 *
 * Invariants: at most PD_ROUTER_MAX_ROUTES routes; one route per (method, path); routes are
 * added before the server starts and never removed, so lookups need no locking. The path
 * and method strings are copied. */
#ifndef PD_HTTP_ROUTER_H
#define PD_HTTP_ROUTER_H

#include <stddef.h>

#define PD_ROUTER_MAX_ROUTES 512 /* room for a predict route per model (registry: 256) */
#define PD_ROUTER_MAX_PATH 256
#define PD_ROUTER_MAX_METHOD 16

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
} pd_router_t;

/* Result of pd_router_match. */
typedef enum { PD_ROUTE_FOUND = 0, PD_ROUTE_NOT_FOUND = 1, PD_ROUTE_BAD_METHOD = 2 } pd_route_result_t;

/* Empties the router. */
void pd_router_init(pd_router_t *r);
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
