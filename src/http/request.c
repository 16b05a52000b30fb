/* request.c - allocation and recycling of request objects, the matched route's parameter
 * values, and the request accessors handlers use. A recycled request keeps its buffers (up to PD__REQ_KEEP_BUF each; the
 * parameter buffer is bounded by construction) so that the hot path allocates nothing. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

pd_http_request_t *pd__req_new(void)
{
    pd_http_request_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    pd_buf_init(&r->raw, 0);
    pd_buf_init(&r->body_buf, 0);
    pd_buf_init(&r->out, 0);
    pd_buf_init(&r->params_buf, sizeof ((pd_route_params_t *)0)->buf);
    pd_list_init(&r->link);
    r->method = "";
    r->path = "";
    r->query = "";
    r->body = "";
    r->allow = "";
    return r;
}

static void keep_or_free(pd_buf_t *b)
{
    if (b->cap > PD__REQ_KEEP_BUF)
        pd_buf_free(b);
    else
        pd_buf_reset(b);
}

void pd__req_reset(pd_http_request_t *r)
{
    pd_buf_t raw = r->raw, body = r->body_buf, out = r->out, params = r->params_buf;
    keep_or_free(&raw);
    keep_or_free(&body);
    keep_or_free(&out);
    pd_buf_reset(&params); /* bounded by its cap_limit: always kept */
    memset(r, 0, offsetof(pd_http_request_t, hdr_off));
    r->nheaders = 0;
    r->raw = raw;
    r->body_buf = body;
    r->out = out;
    r->params_buf = params;
    pd_list_init(&r->link);
    r->method = "";
    r->path = "";
    r->query = "";
    r->body = "";
    r->allow = "";
}

void pd__req_free(pd_http_request_t *r)
{
    if (r == NULL)
        return;
    pd_buf_free(&r->raw);
    pd_buf_free(&r->body_buf);
    pd_buf_free(&r->out);
    pd_buf_free(&r->params_buf);
    free(r);
}

int pd__req_set_params(pd_http_request_t *r, const pd_route_params_t *p)
{
    pd_buf_reset(&r->params_buf);
    int rc = pd_buf_append(&r->params_buf, p->buf, p->used);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < p->n; i++) {
        r->params[i].name = p->value[i].name;
        r->params[i].name_len = (uint32_t)p->value[i].name_len;
        r->params[i].off = (uint32_t)p->value[i].off;
    }
    r->nparams = (uint32_t)p->n;
    return 0;
}

const char *pd_http_request_param(const pd_http_request_t *r, const char *name)
{
    size_t len = strlen(name);
    for (uint32_t i = 0; i < r->nparams; i++)
        if (r->params[i].name_len == len && memcmp(r->params[i].name, name, len) == 0)
            return r->params_buf.data + r->params[i].off;
    return NULL;
}

void pd_http_request_on_abort(pd_http_request_t *req, pd_http_abort_cb cb, void *arg)
{
    req->abort_cb = cb;
    req->abort_arg = arg;
}

int pd_http_request_connected(const pd_http_request_t *req)
{
    return req->conn != NULL && !req->conn->closed;
}

pd_http_server_t *pd_http_request_server(const pd_http_request_t *req)
{
    return req->srv;
}

int pd_http_request_peer(const pd_http_request_t *req, char *addr, size_t addrlen, int *port)
{
    struct sockaddr_storage ss;
    int len = (int)sizeof ss;
    addr[0] = '\0';
    *port = 0;
    if (req->conn == NULL || req->conn->closed ||
        uv_tcp_getpeername(&req->conn->tcp, (struct sockaddr *)&ss, &len) != 0)
        return PD_ENOTFOUND;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        if (uv_ip4_name(in, addr, addrlen) != 0)
            return PD_ENOTFOUND;
        *port = ntohs(in->sin_port);
        return 0;
    }
    if (ss.ss_family != AF_INET6)
        return PD_ENOTFOUND;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) { /* ::ffff:1.2.3.4 -> 1.2.3.4 */
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = in6->sin6_port};
        memcpy(&in.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
        if (uv_ip4_name(&in, addr, addrlen) != 0)
            return PD_ENOTFOUND;
    } else if (uv_ip6_name(in6, addr, addrlen) != 0) {
        return PD_ENOTFOUND;
    }
    *port = ntohs(in6->sin6_port);
    return 0;
}
