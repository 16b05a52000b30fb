/* router.c - the route table (see router.h). A linear scan: the table holds a handful of
 * routes, and comparing lengths first makes a literal miss cost a few instructions.
 * Parameter routes are only walked when no literal route took the request, and only
 * when the router has any (n_param_routes).
 *
 * Invariants: a route's n_params counts the '{' of its pattern, which pd_router_add
 * validated, so matching can trust the pattern's shape ("{name}suffix" segments). */
#include "http/router.h"

#include <string.h>

#include "common.h"

void pd_router_init(pd_router_t *r)
{
    r->n = 0;
    r->n_param_routes = 0;
    r->fallback = NULL;
    r->fallback_ctx = NULL;
}

void pd_router_set_fallback(pd_router_t *r, pd_http_handler_fn fn, void *ctx)
{
    r->fallback = fn;
    r->fallback_ctx = fn ? ctx : NULL;
}

/* ---- patterns ---- */

static int name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

/* Counts the params of `path` and checks its shape; returns the count or PD_EINVAL. */
static int pattern_check(const char *path)
{
    const char *names[PD_ROUTER_MAX_PARAMS];
    size_t lens[PD_ROUTER_MAX_PARAMS];
    int n = 0;
    for (const char *p = path; *p; p++) {
        if (*p == '}')
            return PD_EINVAL; /* outside a {name} */
        if (*p != '{')
            continue;
        if (p[-1] != '/' || n == PD_ROUTER_MAX_PARAMS) /* path[0] is '/', so p > path */
            return PD_EINVAL;
        const char *name = p + 1, *e = name;
        if (!name_start(*e))
            return PD_EINVAL;
        while (name_char(*e))
            e++;
        if (*e != '}' || (size_t)(e - name) > PD_ROUTER_MAX_PARAM_NAME)
            return PD_EINVAL;
        for (int i = 0; i < n; i++)
            if (lens[i] == (size_t)(e - name) && memcmp(names[i], name, lens[i]) == 0)
                return PD_EINVAL; /* a name twice */
        names[n] = name;
        lens[n++] = (size_t)(e - name);
        for (p = e + 1; *p && *p != '/'; p++) /* the suffix: plain characters */
            if (*p == '{' || *p == '}')
                return PD_EINVAL;
        p--; /* the loop's p++ reaches the '/' or the NUL */
    }
    return n;
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes in[0..len) into out (room for PD_ROUTER_MAX_PARAM_LEN bytes + NUL).
 * Returns the decoded length, or -1: a bad escape, a decoded '/' or NUL, too long. */
static int decode_param(char *out, const char *in, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            if (len - i < 3)
                return -1; /* fewer than two hex digits follow */
            int h = hex(in[i + 1]), l = hex(in[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            if (c == '/' || c == '\0')
                return -1;
            i += 2;
        }
        if (n == PD_ROUTER_MAX_PARAM_LEN)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return (int)n;
}

/* Matches path against rt's pattern, filling *out with the decoded values. 1 on a match. */
static int pattern_match(const pd_route_t *rt, const char *path, pd_route_params_t *out)
{
    const char *p = rt->path, *s = path;
    out->n = 0;
    out->used = 0;
    while (*p) {
        if (*p != '{') {
            if (*p++ != *s++)
                return 0;
            continue;
        }
        const char *name = p + 1, *close = strchr(name, '}');
        const char *suffix = close + 1;
        size_t suffix_len = strcspn(suffix, "/"), seg_len = strcspn(s, "/");
        if (seg_len <= suffix_len ||
            memcmp(s + seg_len - suffix_len, suffix, suffix_len) != 0)
            return 0; /* no segment, an empty value, or not the suffix */
        int len = decode_param(out->buf + out->used, s, seg_len - suffix_len);
        if (len < 0)
            return 0;
        out->value[out->n].name = name;
        out->value[out->n].name_len = (size_t)(close - name);
        out->value[out->n].off = out->used;
        out->value[out->n].len = (size_t)len;
        out->n++;
        out->used += (size_t)len + 1;
        p = suffix + suffix_len;
        s += seg_len;
    }
    return *s == '\0';
}

/* ---- the table ---- */

int pd_router_add(pd_router_t *r, const char *method, const char *path, pd_http_handler_fn fn,
                  void *ctx)
{
    if (r == NULL || method == NULL || path == NULL || fn == NULL)
        return PD_EINVAL;
    size_t ml = strlen(method), pl = strlen(path);
    if (ml == 0 || ml >= PD_ROUTER_MAX_METHOD || pl == 0 || pl >= PD_ROUTER_MAX_PATH ||
        path[0] != '/')
        return PD_EINVAL;
    int n_params = pattern_check(path);
    if (n_params < 0)
        return n_params;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->routes[i].method, method) == 0 && strcmp(r->routes[i].path, path) == 0)
            return PD_EINVAL;
    if (r->n >= PD_ROUTER_MAX_ROUTES)
        return PD_EFULL;
    pd_route_t *rt = &r->routes[r->n++];
    memcpy(rt->method, method, ml + 1);
    memcpy(rt->path, path, pl + 1);
    rt->path_len = pl;
    rt->n_params = (uint8_t)n_params;
    rt->fn = fn;
    rt->ctx = ctx;
    if (n_params > 0)
        r->n_param_routes++;
    return 0;
}

/* Appends method m to the Allow list unless it is there already or does not fit. */
static void allow_append(char *allow, size_t allow_len, size_t *used, const char *m)
{
    if (allow == NULL || allow_len == 0)
        return;
    size_t ml = strlen(m);
    for (const char *p = allow; (p = strstr(p, m)) != NULL; p += ml)
        if ((p == allow || p[-1] == ' ') && (p[ml] == ',' || p[ml] == '\0'))
            return; /* listed already (a literal and a parameter route of one method) */
    size_t need = (*used ? PD_LIT_LEN(", ") : 0) + ml;
    if (*used + need + 1 > allow_len)
        return;
    if (*used) {
        memcpy(allow + *used, PD_LIT(", "));
        *used += PD_LIT_LEN(", ");
    }
    memcpy(allow + *used, m, ml);
    *used += ml;
    allow[*used] = '\0';
}

/* 1 when rt's pattern matches path (any method); scratch receives the values. */
static int path_matches(const pd_route_t *rt, const char *path, size_t pl,
                        pd_route_params_t *scratch)
{
    if (rt->n_params == 0)
        return rt->path_len == pl && memcmp(rt->path, path, pl) == 0;
    return pattern_match(rt, path, scratch);
}

pd_route_result_t pd_router_match_params(const pd_router_t *r, const char *method,
                                         const char *path, const pd_route_t **route,
                                         pd_route_params_t *params, char *allow,
                                         size_t allow_len)
{
    size_t pl = strlen(path), used = 0;
    int path_known = 0;
    if (allow && allow_len)
        allow[0] = '\0';
    if (params)
        params->n = params->used = 0;
    for (size_t i = 0; i < r->n; i++) { /* literal routes first: the hot path */
        const pd_route_t *rt = &r->routes[i];
        if (rt->n_params || rt->path_len != pl || memcmp(rt->path, path, pl) != 0)
            continue;
        if (strcmp(rt->method, method) == 0) {
            *route = rt;
            return PD_ROUTE_FOUND;
        }
        path_known = 1;
    }
    pd_route_params_t scratch;
    pd_route_params_t *out = params ? params : &scratch;
    for (size_t i = 0; r->n_param_routes && i < r->n; i++) { /* then routes with params */
        const pd_route_t *rt = &r->routes[i];
        if (rt->n_params == 0 || strcmp(rt->method, method) != 0)
            continue;
        if (pattern_match(rt, path, out)) {
            *route = rt;
            return PD_ROUTE_FOUND;
        }
    }
    for (size_t i = 0; r->n_param_routes && !path_known && i < r->n; i++)
        path_known = r->routes[i].n_params && pattern_match(&r->routes[i], path, &scratch);
    if (params)
        params->n = params->used = 0;
    if (!path_known)
        return PD_ROUTE_NOT_FOUND;
    for (size_t i = 0; i < r->n; i++)
        if (path_matches(&r->routes[i], path, pl, &scratch))
            allow_append(allow, allow_len, &used, r->routes[i].method);
    return PD_ROUTE_BAD_METHOD;
}

pd_route_result_t pd_router_match(const pd_router_t *r, const char *method, const char *path,
                                  const pd_route_t **route, char *allow, size_t allow_len)
{
    return pd_router_match_params(r, method, path, route, NULL, allow, allow_len);
}
