/* request.c - allocation and recycling of request objects. A recycled request keeps its
 * buffers (up to PD__REQ_KEEP_BUF each) so that the hot path allocates nothing. */
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
    pd_buf_t raw = r->raw, body = r->body_buf, out = r->out;
    keep_or_free(&raw);
    keep_or_free(&body);
    keep_or_free(&out);
    memset(r, 0, offsetof(pd_http_request_t, hdr_off));
    r->nheaders = 0;
    r->raw = raw;
    r->body_buf = body;
    r->out = out;
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
    free(r);
}
