/* http_errors.h - the app's bodies for the answers the HTTP layer no longer writes itself,
 * in FastAPI's shape {"detail":"..."} (DESIGN.md, Contracts), byte for byte as before:
 *   404 {"detail":"Not Found"}                  no route has the path
 *   405 {"detail":"Method Not Allowed"}         + "Allow: GET, POST": other methods only
 *   400 {"detail":"Bad Request"}                malformed HTTP
 *   408 {"detail":"Request Timeout"}            headers or body too slow
 *   413 {"detail":"Request body too large"}
 *   431 {"detail":"Request header fields too large"}
 *   500 {"detail":"Internal Server Error"}      the server ran out of memory for a request
 *   501 {"detail":"Not Implemented"}            a transfer coding other than chunked
 *   503 {"detail":"Too many connections"}       over --max-connections or the fd limit
 * Stateless: both functions keep nothing, so their ctx/ud may be anything (NULL). */
#ifndef PD_API_HTTP_ERRORS_H
#define PD_API_HTTP_ERRORS_H

#include "http/http.h"

/* The router's fallback (pd_router_set_fallback): answers req->route_status 404 or 405
 * (with the Allow header built from req->allow) as JSON; consumes req like any handler. */
void pd_api_route_fallback(pd_http_request_t *req, void *ctx);

/* pd_http_hooks_t.error_body: appends {"detail":"..."} for the server's own 400, 408, 413,
 * 431, 500, 501 and 503 to `body` and sets *content_type to "application/json" (static).
 * Returns 0, PD_ENOTFOUND for another status (the server then uses its default) or the
 * buffer's error. req is not used. */
int pd_api_error_body(void *ud, const pd_http_request_t *req, int status,
                      const char **content_type, pd_buf_t *body);

#endif
