/* router.c - exact-path route table (see router.h). A linear scan: the table holds a
 * handful of routes, and comparing lengths first makes a miss cost a few instructions. */
#include "http/router.h"

#include <string.h>

#include "common.h"

void pd_router_init(pd_router_t *r)
{
    r->n = 0;
    r->fallback = NULL;
    r->fallback_ctx = NULL;
}

void pd_router_set_fallback(pd_router_t *r, pd_http_handler_fn fn, void *ctx)
{
    r->fallback = fn;
    r->fallback_ctx = fn ? ctx : NULL;
}

int pd_router_add(pd_router_t *r, const char *method, const char *path, pd_http_handler_fn fn,
                  void *ctx)
{
    if (r == NULL || method == NULL || path == NULL || fn == NULL)
        return PD_EINVAL;
    size_t ml = strlen(method), pl = strlen(path);
    if (ml == 0 || ml >= PD_ROUTER_MAX_METHOD || pl == 0 || pl >= PD_ROUTER_MAX_PATH ||
        path[0] != '/')
        return PD_EINVAL;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->routes[i].method, method) == 0 && strcmp(r->routes[i].path, path) == 0)
            return PD_EINVAL;
    if (r->n >= PD_ROUTER_MAX_ROUTES)
        return PD_EFULL;
    pd_route_t *rt = &r->routes[r->n++];
    memcpy(rt->method, method, ml + 1);
    memcpy(rt->path, path, pl + 1);
    rt->path_len = pl;
    rt->fn = fn;
    rt->ctx = ctx;
    return 0;
}

static void allow_append(char *allow, size_t allow_len, size_t *used, const char *m)
{
    if (allow == NULL || allow_len == 0)
        return;
    size_t need = (*used ? PD_LIT_LEN(", ") : 0) + strlen(m);
    if (*used + need + 1 > allow_len)
        return;
    if (*used) {
        memcpy(allow + *used, PD_LIT(", "));
        *used += PD_LIT_LEN(", ");
    }
    memcpy(allow + *used, m, strlen(m));
    *used += strlen(m);
    allow[*used] = '\0';
}

pd_route_result_t pd_router_match(const pd_router_t *r, const char *method, const char *path,
                                  const pd_route_t **route, char *allow, size_t allow_len)
{
    size_t pl = strlen(path), used = 0;
    int path_known = 0;
    if (allow && allow_len)
        allow[0] = '\0';
    for (size_t i = 0; i < r->n; i++) {
        const pd_route_t *rt = &r->routes[i];
        if (rt->path_len != pl || memcmp(rt->path, path, pl) != 0)
            continue;
        if (strcmp(rt->method, method) == 0) {
            *route = rt;
            return PD_ROUTE_FOUND;
        }
        path_known = 1;
    }
    if (!path_known)
        return PD_ROUTE_NOT_FOUND;
    for (size_t i = 0; i < r->n; i++) {
        const pd_route_t *rt = &r->routes[i];
        if (rt->path_len == pl && memcmp(rt->path, path, pl) == 0)
            allow_append(allow, allow_len, &used, rt->method);
    }
    return PD_ROUTE_BAD_METHOD;
}
