/* parser.c - turns bytes into pd_http_request_t objects with llhttp, enforcing the header
 * size/count and body size limits. Knows nothing about sockets, so it is unit-tested alone.
 *
 * Invariants: p->cur is the request being received (NULL between messages); the request
 * line and header strings are copied into cur->raw as NUL-terminated strings (url first),
 * the body into cur->body_buf, so the caller's read buffer can be reused after each feed.
 * Header bytes are counted from the method's first byte to the end of the latest url,
 * header name or value received, across reads (whatever lies between them included), and
 * checked at each of those ends; trailers and chunk extensions of a chunked body count
 * against the same limit (their names and values, once more, per body). So the verdict
 * depends on the bytes, never on how they were split into reads (the fuzz target checks
 * it). Whitespace after the last value and the final CRLFs are not counted: they are
 * not stored, and the header timeout bounds how long they may take.
 *
 * Strictness (issue 14): llhttp is built with LLHTTP_STRICT_MODE (CMakeLists.txt), so bytes
 * after a chunk's data other than CRLF and a space before a header's colon are errors; on
 * top of it this file refuses what llhttp still lets through and nginx/h2o refuse: an HTTP
 * version other than 1.0 and 1.1 (400), an empty header name (400), and any transfer
 * coding but "chunked" (501: the body would not be what the handler reads). Each is an
 * error status: the connection answers it and closes. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "http/internal.h"

static pd__parser_t *P(llhttp_t *l)
{
    return (pd__parser_t *)l->data;
}

static int fail(pd__parser_t *p, int status)
{
    if (p->err_status == 0)
        p->err_status = status;
    return -1;
}

/* Counts header bytes up to `end` (inside the current chunk). */
static int account(pd__parser_t *p, const char *at, const char *end)
{
    if (!p->in_headers) {
        p->hdr_bytes += (uint32_t)(end - at);
        return p->hdr_bytes > p->opts->max_header_size ? fail(p, 431) : 0;
    }
    if (p->mark == NULL)
        p->mark = at;
    if ((size_t)p->hdr_bytes + (size_t)(end - p->mark) > p->opts->max_header_size)
        return fail(p, 431);
    return 0;
}

static int raw_append(pd__parser_t *p, const char *at, size_t len)
{
    int rc = pd_buf_append(&p->cur->raw, at, len);
    return rc == 0 ? 0 : fail(p, rc == PD_ETOOBIG ? 431 : 500);
}

static int on_message_begin(llhttp_t *l)
{
    pd__parser_t *p = P(l);
    pd_http_request_t *req = p->cbs->req_new(p->owner);
    if (req == NULL)
        return fail(p, 500);
    req->recv_ns = p->now_ns;
    req->state = PD__REQ_PARSING;
    p->cur = req;
    p->nbegun++;
    p->in_headers = 1;
    p->field_open = 0;
    p->hdr_bytes = 0;
    p->mark = NULL;
    return 0;
}

static int on_method(llhttp_t *l, const char *at, size_t len)
{
    return account(P(l), at, at + len);
}

static int on_url(llhttp_t *l, const char *at, size_t len)
{
    pd__parser_t *p = P(l);
    if (account(p, at, at + len) < 0)
        return -1;
    return raw_append(p, at, len);
}

/* Ends the string being copied into cur->raw with its NUL byte. */
static int raw_terminate(pd__parser_t *p)
{
    static const char nul = '\0';
    return raw_append(p, &nul, sizeof nul);
}

static int on_url_complete(llhttp_t *l)
{
    return raw_terminate(P(l));
}

/* Closes the header whose value is being received, if any. */
static int finish_header(pd__parser_t *p)
{
    if (!p->field_open)
        return 0;
    p->field_open = 0;
    if (raw_terminate(p) < 0)
        return -1;
    p->cur->nheaders++;
    return 0;
}

static int on_header_field(llhttp_t *l, const char *at, size_t len)
{
    pd__parser_t *p = P(l);
    if (account(p, at, at + len) < 0)
        return -1;
    if (!p->in_headers)
        return 0; /* a trailer: counted, not kept */
    pd_http_request_t *r = p->cur;
    if (p->field_open == 2 && finish_header(p) < 0)
        return -1;
    if (p->field_open == 0) {
        uint32_t max = p->opts->max_headers ? p->opts->max_headers : PD_HTTP_MAX_HEADERS_LIMIT;
        if (r->nheaders >= PD_MIN(max, (uint32_t)PD_HTTP_MAX_HEADERS_LIMIT))
            return fail(p, 431);
        r->hdr_off[r->nheaders][0] = (uint32_t)r->raw.len;
        p->field_open = 1;
    }
    return raw_append(p, at, len);
}

static int on_header_field_complete(llhttp_t *l)
{
    pd__parser_t *p = P(l);
    if (!p->in_headers)
        return 0;
    if (p->field_open != 1 || p->cur->raw.len == p->cur->hdr_off[p->cur->nheaders][0])
        return fail(p, 400); /* an empty header name */
    if (raw_terminate(p) < 0)
        return -1;
    p->cur->hdr_off[p->cur->nheaders][1] = (uint32_t)p->cur->raw.len;
    p->field_open = 2; /* value open (it may be empty and get no callback) */
    return 0;
}

static int on_header_value(llhttp_t *l, const char *at, size_t len)
{
    pd__parser_t *p = P(l);
    if (account(p, at, at + len) < 0)
        return -1;
    if (!p->in_headers)
        return 0;
    return raw_append(p, at, len);
}

static int on_header_value_complete(llhttp_t *l)
{
    pd__parser_t *p = P(l);
    return p->in_headers ? finish_header(p) : 0;
}

/* Splits the url into path and query and resolves the header pointers. */
static void fill_request(pd__parser_t *p, pd_http_request_t *r)
{
    char *url = r->raw.data ? r->raw.data : (char *)"";
    if (r->raw.data == NULL)
        r->path = "/";
    char *q = strchr(url, '?');
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }
    char *frag = strchr(q ? q + 1 : url, '#');
    if (frag)
        *frag = '\0';
    if (url[0])
        r->path = url;
    r->method = llhttp_method_name((llhttp_method_t)p->llh.method);
    r->http_minor = p->llh.http_minor;
    r->content_type = pd_http_request_header(r, "content-type");
    r->keep_alive = llhttp_should_keep_alive(&p->llh) && !p->llh.upgrade;
}

/* 1 when every transfer coding the request names is "chunked" (llhttp has checked that
 * chunked comes last and only once). */
static int only_chunked(const pd_http_request_t *r)
{
    for (uint32_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->raw.data + r->hdr_off[i][0], "transfer-encoding") != 0)
            continue;
        const char *v = r->raw.data + r->hdr_off[i][1];
        while (*v) {
            v += strspn(v, " \t,");
            size_t n = strcspn(v, " \t,");
            if (n && !(n == PD_LIT_LEN("chunked") && strncasecmp(v, "chunked", n) == 0))
                return 0;
            v += n;
        }
    }
    return 1;
}

static int on_headers_complete(llhttp_t *l)
{
    pd__parser_t *p = P(l);
    pd_http_request_t *r = p->cur;
    if (finish_header(p) < 0)
        return -1;
    p->in_headers = 0;
    p->hdr_bytes = 0; /* from now on: trailer and chunk-extension bytes */
    if (l->http_major != 1 || l->http_minor > 1)
        return fail(p, 400); /* HTTP/0.9, HTTP/2.0 as a request line, ... */
    fill_request(p, r);
    if ((l->flags & F_TRANSFER_ENCODING) && !only_chunked(r))
        return fail(p, 501);
    r->body_buf.cap_limit = p->opts->max_body_size ? p->opts->max_body_size : 1;
    p->body_expect = SIZE_MAX;
    if (l->flags & F_CONTENT_LENGTH) {
        if (l->content_length > p->opts->max_body_size)
            return fail(p, 413);
        /* the buffer grows as bytes arrive (a Content-Length alone reserves nothing), to
         * exactly this size at the last step */
        p->body_expect = (size_t)l->content_length;
    }
    const char *expect = pd_http_request_header(r, "expect");
    if (expect && strcasecmp(expect, "100-continue") == 0 && r->http_minor >= 1 &&
        ((l->flags & F_CHUNKED) || l->content_length > 0) && p->cbs->expect_continue)
        p->cbs->expect_continue(p->owner, r);
    return 0;
}

static int on_body(llhttp_t *l, const char *at, size_t len)
{
    pd__parser_t *p = P(l);
    pd_buf_t *b = &p->cur->body_buf;
    int rc = pd_buf_reserve_hint(b, len, p->body_expect);
    if (rc == 0)
        rc = pd_buf_append(b, at, len);
    p->body_progress = 1;
    if (rc == 0) {
        p->cur->charged += len;
        if (p->charge)
            *p->charge += len;
    }
    if (rc < 0)
        return fail(p, rc == PD_ETOOBIG ? 413 : 500);
    return 0;
}

/* Chunk extensions (";name=value" after a chunk size) are ignored, but counted. */
static int on_chunk_extension(llhttp_t *l, const char *at, size_t len)
{
    return account(P(l), at, at + len);
}

static int on_message_complete(llhttp_t *l)
{
    pd__parser_t *p = P(l);
    pd_http_request_t *r = p->cur;
    p->cur = NULL;
    p->hdr_bytes = 0;
    if (r->body_buf.data) {
        r->body = r->body_buf.data;
        r->body_len = r->body_buf.len;
    }
    int pause = p->cbs->req_done(p->owner, r);
    return pause ? HPE_PAUSED : 0;
}

static const llhttp_settings_t g_settings = {
    .on_message_begin = on_message_begin,
    .on_method = on_method,
    .on_url = on_url,
    .on_url_complete = on_url_complete,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_chunk_extension_name = on_chunk_extension,
    .on_chunk_extension_value = on_chunk_extension,
    .on_message_complete = on_message_complete,
};

void pd__parser_init(pd__parser_t *p, const pd_http_options_t *opts, const pd__parser_cbs_t *cbs,
                     void *owner)
{
    memset(p, 0, sizeof *p);
    llhttp_init(&p->llh, HTTP_REQUEST, &g_settings);
    p->llh.data = p;
    p->opts = opts;
    p->cbs = cbs;
    p->owner = owner;
}

int pd__parser_feed(pd__parser_t *p, const char *data, size_t len, size_t *consumed)
{
    *consumed = len;
    if (p->in_headers)
        p->mark = data;
    llhttp_errno_t err = llhttp_execute(&p->llh, data, len);
    if (err == HPE_OK) {
        if (p->in_headers && p->mark) { /* the head goes on in the next read */
            size_t n = (size_t)(data + len - p->mark);
            p->hdr_bytes = n > UINT32_MAX - p->hdr_bytes ? UINT32_MAX : p->hdr_bytes + (uint32_t)n;
        }
        return PD__PARSE_OK;
    }
    if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
        const char *pos = llhttp_get_error_pos(&p->llh);
        *consumed = pos ? (size_t)(pos - data) : len;
        return PD__PARSE_PAUSED;
    }
    return p->err_status ? p->err_status : 400;
}

void pd__parser_resume(pd__parser_t *p)
{
    if (llhttp_get_errno(&p->llh) == HPE_PAUSED)
        llhttp_resume(&p->llh);
}

int pd__parser_busy(const pd__parser_t *p)
{
    return p->cur != NULL;
}

pd_http_request_t *pd__parser_abandon(pd__parser_t *p)
{
    pd_http_request_t *r = p->cur;
    p->cur = NULL;
    p->in_headers = 0;
    p->field_open = 0;
    p->hdr_bytes = 0;
    return r;
}

const char *pd_http_request_header(const pd_http_request_t *req, const char *name)
{
    if (req->raw.data == NULL)
        return NULL;
    for (uint32_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->raw.data + req->hdr_off[i][0], name) == 0)
            return req->raw.data + req->hdr_off[i][1];
    return NULL;
}
