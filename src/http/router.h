/* router.h - the routing table: (method, path pattern) -> handler + ctx, plus the fallback
 * handler the server calls when no route matches (404) or only other methods do (405).
 *
 * A pattern is a literal path ("/health") or has up to PD_ROUTER_MAX_PARAMS parameter
 * segments: "{name}" matches one non-empty path segment, and "{name}:predict" one that
 * ends with the literal suffix ":predict" (name = what precedes it). A segment is either
 * literal or starts with '{'; names are [A-Za-z_][A-Za-z0-9_]*, unique within a route.
 * Values are percent-decoded; a value whose encoding is invalid, that decodes to '/' or
 * NUL, or that is longer than PD_ROUTER_MAX_PARAM_LEN bytes does not match.
 *
 * Precedence: a literal route that matches path and method wins; then parameter routes
 * that match both, in the order they were added; otherwise 405 if any route (literal or
 * not) matches the path with another method, else 404. Literal paths are compared by
 * length and memcmp first, so the hot exact routes cost no parsing and no allocation.
 *
 * Invariants: at most PD_ROUTER_MAX_ROUTES routes; one route per (method, pattern); routes
 * and the fallback are set before the server starts and never removed, so lookups need no
 * locking. The pattern and method strings are copied into the router. */
#ifndef PD_HTTP_ROUTER_H
#define PD_HTTP_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#define PD_ROUTER_MAX_ROUTES 512 /* room for a predict route per model (registry: 256) */
#define PD_ROUTER_MAX_PATH 256
#define PD_ROUTER_MAX_METHOD 16
#define PD_ROUTER_ALLOW_MAX 128  /* the Allow list of a 405 ("GET, POST"), with its NUL */
#define PD_ROUTER_MAX_PARAMS 4   /* {params} per route */
#define PD_ROUTER_MAX_PARAM_NAME 32  /* bytes of a parameter's name */
#define PD_ROUTER_MAX_PARAM_LEN 255  /* decoded bytes of one value (model names: 128) */

struct pd_http_request_s;
/* A route's handler: called on the loop thread with a complete request; must eventually
 * call pd_http_respond(req, ...) exactly once (now or later). req->route_ctx holds ctx. */
typedef void (*pd_http_handler_fn)(struct pd_http_request_s *req, void *ctx);

typedef struct {
    char method[PD_ROUTER_MAX_METHOD];
    char path[PD_ROUTER_MAX_PATH]; /* the pattern */
    size_t path_len;
    uint8_t n_params;              /* 0: a literal path */
    pd_http_handler_fn fn;
    void *ctx;
} pd_route_t;

typedef struct pd_router_s {
    pd_route_t routes[PD_ROUTER_MAX_ROUTES];
    size_t n;
    size_t n_param_routes;       /* routes with n_params > 0 (none: literal lookups only) */
    pd_http_handler_fn fallback; /* 404/405 handler, or NULL (pd_router_set_fallback) */
    void *fallback_ctx;
} pd_router_t;

/* The parameter values of a match, decoded and NUL-terminated in buf (at value[i].off). */
typedef struct {
    size_t n;
    struct {
        const char *name; /* into the matched route's pattern: NOT NUL-terminated; lives as
                             long as the router */
        size_t name_len;
        size_t off, len;  /* the value: buf + off, len bytes, then a NUL */
    } value[PD_ROUTER_MAX_PARAMS];
    size_t used;          /* bytes of buf in use (values and their NULs) */
    char buf[PD_ROUTER_MAX_PARAMS * (PD_ROUTER_MAX_PARAM_LEN + 1)];
} pd_route_params_t;

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
/* Adds a route for `path` (a literal path or a pattern with {params}, see above); `ctx` is
 * borrowed and handed to the handler, so it must outlive the server. Returns 0, PD_EINVAL
 * (empty/oversized method or path, path not starting with '/', a malformed pattern - '{'
 * not opening a segment, a bad, long or repeated name, '{' or '}' elsewhere, more than
 * PD_ROUTER_MAX_PARAMS params - NULL fn, duplicate) or PD_EFULL. */
int pd_router_add(pd_router_t *r, const char *method, const char *path, pd_http_handler_fn fn,
                  void *ctx);
/* Looks (method, path) up; path is percent-encoded, without the query. On PD_ROUTE_FOUND
 * sets *route (points into r) and, when params is not NULL, fills *params (n = 0 for a
 * literal route). On PD_ROUTE_BAD_METHOD writes the path's methods ("GET, POST", each
 * once, in the order the routes were added) into allow (NUL-terminated, truncated at a
 * whole method to allow_len) when allow is not NULL. params and allow are the caller's. */
pd_route_result_t pd_router_match_params(const pd_router_t *r, const char *method,
                                         const char *path, const pd_route_t **route,
                                         pd_route_params_t *params, char *allow,
                                         size_t allow_len);
/* pd_router_match_params without the parameter values. */
pd_route_result_t pd_router_match(const pd_router_t *r, const char *method, const char *path,
                                  const pd_route_t **route, char *allow, size_t allow_len);

#endif
