/* http_errors.c - FastAPI-shaped bodies for 404/405 and the HTTP server's own errors (see
 * http_errors.h). Every string here is a contract clients compare byte for byte. */
#include "api/http_errors.h"

#include <stdio.h>
#include <string.h>

#include "common.h"

#define JSON_TYPE "application/json"

/* The detail text of the server's own error `status`, or NULL. */
static const char *server_error_detail(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Request body too large";
    case 431: return "Request header fields too large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Too many connections";
    default: return NULL;
    }
}

void pd_api_route_fallback(pd_http_request_t *req, void *ctx)
{
    (void)ctx;
    if (req->route_status == 405) {
        char extra[PD_ROUTER_ALLOW_MAX + PD_LIT_LEN("Allow: \r\n")];
        snprintf(extra, sizeof extra, "Allow: %s\r\n", req->allow);
        pd_http_respond(req, 405, JSON_TYPE, extra,
                        PD_LIT("{\"detail\":\"Method Not Allowed\"}"));
        return;
    }
    pd_http_respond(req, 404, JSON_TYPE, NULL, PD_LIT("{\"detail\":\"Not Found\"}"));
}

int pd_api_error_body(void *ud, const pd_http_request_t *req, int status,
                      const char **content_type, pd_buf_t *body)
{
    (void)ud, (void)req;
    const char *detail = server_error_detail(status);
    if (detail == NULL)
        return PD_ENOTFOUND;
    int rc = pd_buf_printf(body, "{\"detail\":\"%s\"}", detail);
    if (rc == 0)
        *content_type = JSON_TYPE;
    return rc;
}
