/* conn.c - one client connection: reads into the server's shared buffer, feeds the parser,
 * dispatches complete requests to their handlers, and writes answered responses in request
 * order, gathering every answered response at the head of the queue into one write.
 *
 * Invariants: requests in c->queue are in arrival order; only the head run of
 * ANSWERED requests is ever written; the first c->nwriting requests belong to an
 * unfinished uv_write and are released in write_cb; a request in state HANDLER is owned by
 * its handler (when the connection dies it moves to the server's detached list). A
 * connection that must close after a response first shuts its write side down and reads
 * (discarding) until EOF or linger_ms, so the client sees the response, not a reset.
 *
 * How a client leaving is told from a client done sending (issue 14, defect 2):
 *   - EOF on read (the client's FIN: shutdown(SHUT_WR), or a close() we cannot tell from
 *     one) is a HALF-CLOSE, not a disconnect. The connection stops reading, drops a
 *     request it had only partly received (it can never complete), and keeps answering
 *     the requests already queued - also those a handler answers later from the pool -
 *     with "Connection: close" on the last; then it closes. Nothing is canceled.
 *   - A read error (ECONNRESET: the client reset the connection) or a failed write
 *     (EPIPE/ECONNRESET: the peer is gone, e.g. it had closed and its kernel answered our
 *     bytes with a reset) is a DISCONNECT: the connection closes at once and the abort
 *     callbacks of unanswered requests run (cancel-on-disconnect).
 *   A client that close()s right after sending is therefore treated as a half-close until
 *   the first answer is written: its pool jobs run, and the write that fails ends it. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "http/internal.h"
#include "obs/log.h"

#define K_CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

static void conn_feed(pd_http_conn_t *c, const char *data, size_t len);
static void conn_budget_unwait(pd_http_conn_t *c);
static void conn_read_start(pd_http_conn_t *c);
static void conn_error(pd_http_conn_t *c, int status);
static void respond_server_error(pd_http_server_t *srv, pd_http_request_t *r, int status);

/* ---- parser callbacks ---- */

static pd_http_request_t *cb_req_new(void *owner)
{
    pd_http_conn_t *c = owner;
    pd_http_request_t *r = pd__srv_req_get(c->srv);
    if (r) {
        r->srv = c->srv;
        r->conn = c;
    }
    return r;
}

/* The oldest request of the connection's queue, or NULL. */
pd_http_request_t *pd__conn_queue_first(const pd_http_conn_t *c)
{
    return pd_list_empty(&c->queue) ? NULL
                                    : pd_list_entry(pd_list_head(&c->queue), pd_http_request_t, link);
}

static void enqueue(pd_http_conn_t *c, pd_http_request_t *r)
{
    pd_list_insert_tail(&c->queue, &r->link);
    c->nqueued++;
    r->state = PD__REQ_HANDLER;
    c->srv->stats.requests_in_flight++;
}

/* A request no route takes (req->route_status 404 or 405): the router's fallback answers
 * it, or, without one, the server does with the reason phrase (and Allow for 405). */
static void route_fallback(pd_http_server_t *srv, pd_http_request_t *r)
{
    const pd_router_t *rt = srv->router;
    if (rt->fallback) {
        rt->fallback(r, rt->fallback_ctx);
        return;
    }
    char extra[PD_ROUTER_ALLOW_MAX + PD_LIT_LEN("Allow: \r\n")];
    if (r->route_status == 405)
        snprintf(extra, sizeof extra, "Allow: %s\r\n", r->allow);
    const char *reason = pd__status_reason(r->route_status);
    pd_http_respond(r, r->route_status, PD_HTTP_TEXT_PLAIN, r->route_status == 405 ? extra : NULL,
                    reason, strlen(reason));
}

static void dispatch(pd_http_conn_t *c, pd_http_request_t *r)
{
    pd_http_server_t *srv = c->srv;
    const pd_route_t *rt = NULL;
    pd_route_params_t params; /* written only for a route with {params} */
    pd__req_assign_id(r); /* before any handler: a worker may read it */
    switch (pd_router_match_params(srv->router, r->method, r->path, &rt, &params, r->allow_buf,
                                   sizeof r->allow_buf)) {
    case PD_ROUTE_FOUND:
        if (params.n > 0 && pd__req_set_params(r, &params) < 0) {
            respond_server_error(srv, r, 500);
            return;
        }
        r->route_ctx = rt->ctx;
        r->route = rt->path;
        if (srv->hooks.before_handler)
            srv->hooks.before_handler(srv->hooks.ud, r);
        rt->fn(r, rt->ctx);
        /* r may be answered (and recycled) by now, so the hook does not get it */
        if (srv->hooks.after_handler)
            srv->hooks.after_handler(srv->hooks.ud);
        return;
    case PD_ROUTE_BAD_METHOD:
        r->route_status = 405;
        r->allow = r->allow_buf;
        route_fallback(srv, r);
        return;
    default:
        r->route_status = 404;
        route_fallback(srv, r);
        return;
    }
}

static int cb_req_done(void *owner, pd_http_request_t *r)
{
    pd_http_conn_t *c = owner;
    if (c->srv->draining)
        r->keep_alive = 0;
    if (!r->keep_alive)
        c->stop_parsing = 1;
    enqueue(c, r);
    dispatch(c, r);
    return c->stop_parsing || c->nqueued >= c->srv->opts.max_pipeline;
}

static void cb_expect_continue(void *owner, pd_http_request_t *r)
{
    pd_http_conn_t *c = owner;
    (void)r;
    if (!pd_list_empty(&c->queue) || c->nwriting)
        return; /* earlier responses pending: the client sends the body after its wait */
    uv_buf_t b = uv_buf_init((char *)K_CONTINUE, PD_LIT_LEN(K_CONTINUE));
    (void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
}

static const pd__parser_cbs_t g_cbs = {cb_req_new, cb_req_done, cb_expect_continue};

/* ---- closing ---- */

void pd__conn_release_head(pd_http_conn_t *c)
{
    pd_http_request_t *r = pd__conn_queue_first(c);
    pd_list_remove(&r->link);
    c->nqueued--;
    pd__srv_req_put(c->srv, r);
}

static void on_close(uv_handle_t *h)
{
    pd_http_conn_t *c = h->data;
    pd_http_server_t *srv = c->srv;
    while (!pd_list_empty(&c->queue))
        pd__conn_release_head(c);
    pd_list_remove(&c->dnode); /* never flushed after this (defensive: the check phase */
    pd_list_remove(&c->tnode); /* runs before close callbacks, so both are unlinked) */
    if (c->parser.cur)
        pd__srv_req_put(srv, c->parser.cur);
    free(c->stash);
    free(c->wreq);
    free(c);
    pd__srv_fd_freed(srv);
    pd__srv_check_drained(srv);
}

void pd__conn_close(pd_http_conn_t *c)
{
    if (c->closed)
        return;
    c->closed = 1;
    pd__srv_tl_set(c->srv, c, PD__TL_NONE);
    pd__srv_conn_gone(c->srv, c);
    conn_budget_unwait(c);
    /* Detach requests still held by handlers (newest first); the rest is freed in
     * on_close. Abort callbacks run once all are detached: one may answer any of them. */
    pd_list_t detached, *q, *tmp;
    pd_list_init(&detached);
    pd_list_foreach_safe(q, tmp, &c->queue) {
        pd_http_request_t *r = pd_list_entry(q, pd_http_request_t, link);
        if (r->state == PD__REQ_HANDLER) {
            pd_list_remove(q);
            c->nqueued--;
            r->conn = NULL;
            pd_list_insert_head(&detached, q);
        }
    }
    while (!pd_list_empty(&detached)) {
        q = pd_list_head(&detached);
        pd_http_request_t *r = pd_list_entry(q, pd_http_request_t, link);
        pd_list_remove(q);
        pd_list_insert_head(&c->srv->detached, q);
        if (r->abort_cb == NULL)
            continue;
        /* application code, like a handler: inside the same hooks (the app lock of
         * several loops, the loop monitor's context) */
        pd_http_server_t *srv = c->srv;
        if (srv->hooks.before_handler)
            srv->hooks.before_handler(srv->hooks.ud, r);
        r->abort_cb(r, r->abort_arg); /* may answer r, which frees it */
        if (srv->hooks.after_handler)
            srv->hooks.after_handler(srv->hooks.ud);
    }
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

/* ---- the buffer budget (see server.c) ---- */

/* Leaves the budget's wait list (no resume). */
static void conn_budget_unwait(pd_http_conn_t *c)
{
    if (!c->budget_wait)
        return;
    pd_http_server_t *srv = c->srv;
    c->budget_wait = 0;
    pd_list_remove(&c->bnode);
    srv->wait_partial -= c->wait_charged;
    c->wait_charged = 0;
    srv->stats.budget_waiting--;
}

/* After a read: a connection receiving a body while the server holds its whole budget
 * stops being read and waits. Returns 1 when it waits. */
static int conn_budget_gate(pd_http_conn_t *c)
{
    pd_http_server_t *srv = c->srv;
    pd__parser_t *p = &c->parser;
    if (c->closed || c->closing || c->stop_parsing || c->budget_wait ||
        srv->stats.buffered_bytes < srv->opts.buffer_budget || !pd__parser_busy(p) ||
        p->in_headers)
        return 0;
    if (c->budget_exempt && c->exempt_seq == p->nbegun)
        return 0; /* resumed to break a stall: finish this body */
    c->budget_exempt = 0;
    pd__conn_read_stop(c);
    c->budget_wait = 1;
    c->wait_charged = p->cur->charged;
    pd_list_insert_tail(&srv->budget_wait, &c->bnode);
    srv->wait_partial += c->wait_charged;
    srv->stats.budget_waits++;
    srv->stats.budget_waiting++;
    pd__srv_tl_set(srv, c, PD__TL_NONE); /* the server's doing, not the client's: no 408 */
    pd__srv_budget_kick(srv);
    return 1;
}

void pd__conn_budget_resume(pd_http_conn_t *c, int exempt)
{
    conn_budget_unwait(c);
    if (exempt) {
        c->budget_exempt = 1;
        c->exempt_seq = c->parser.nbegun;
    }
    pd__conn_resume(c);
    if (!c->closed)
        pd__conn_update_timer(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    pd_http_conn_t *c = req->data;
    free(req);
    /* The FIN is sent: linger for the client's EOF (bounded by linger_ms), unless it
     * half-closed already. */
    if (!c->closed && (status < 0 || c->eof))
        pd__conn_close(c);
}

/* After the last response: half-close and linger, reading until EOF or linger_ms. */
void pd__conn_finish(pd_http_conn_t *c)
{
    if (c->closing || c->closed)
        return;
    c->closing = 1;
    c->stop_parsing = 1;
    uv_shutdown_t *sr = malloc(sizeof *sr);
    if (sr == NULL) {
        pd__conn_close(c);
        return;
    }
    sr->data = c;
    if (uv_shutdown(sr, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        free(sr);
        pd__conn_close(c);
        return;
    }
    conn_read_start(c); /* lingering means reading: it may have stopped (pause, a write) */
    pd__srv_tl_set(c->srv, c, PD__TL_LINGER);
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    pd_http_conn_t *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->srv->readbuf, PD__READ_BUF);
}

/* The client half-closed: no more requests will come. */
static void conn_peer_eof(pd_http_conn_t *c)
{
    c->eof = 1;
    c->stop_parsing = 1;
    pd__conn_read_stop(c);
    pd_http_request_t *partial = pd__parser_abandon(&c->parser);
    if (partial)
        pd__srv_req_put(c->srv, partial);
    free(c->stash);
    c->stash = NULL;
    c->stash_len = 0;
    if (pd_list_empty(&c->queue) && !c->nwriting) {
        pd__conn_close(c); /* nothing left to answer */
        return;
    }
    pd_http_request_t *last = pd_list_entry(pd_list_tail(&c->queue), pd_http_request_t, link);
    if (last->state == PD__REQ_ANSWERED && !c->nwriting)
        pd__srv_mark_dirty(c->srv, c); /* (an answer still to come says Connection: close) */
    pd__conn_update_timer(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    pd_http_conn_t *c = s->data;
    (void)buf;
    if (nread < 0) {
        if (nread == UV_EOF && !c->closing)
            conn_peer_eof(c); /* a half-close: answer what is queued (see the top) */
        else
            pd__conn_close(c); /* a reset or an error: gone; lingering: done */
        return;
    }
    if (nread == 0 || c->closing || c->stop_parsing)
        return; /* discard: lingering after the last response */
    c->parser.now_ns = uv_hrtime();
    conn_feed(c, c->srv->readbuf, (size_t)nread);
    if (!c->closed) {
        pd__conn_update_timer(c);
        conn_budget_gate(c);
    }
}

static void conn_read_start(pd_http_conn_t *c)
{
    if (!c->reading && !c->closed) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
            c->reading = 1;
    }
}

void pd__conn_read_stop(pd_http_conn_t *c)
{
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
}

static void conn_feed(pd_http_conn_t *c, const char *data, size_t len)
{
    size_t used = 0;
    int rc = pd__parser_feed(&c->parser, data, len, &used);
    if (rc == PD__PARSE_OK)
        return;
    if (rc == PD__PARSE_PAUSED) {
        if (c->stop_parsing)
            return; /* a last request (Connection: close, drain): the rest is ignored */
        pd__conn_read_stop(c);
        if (used < len) {
            c->stash = malloc(len - used);
            if (c->stash == NULL) {
                pd__conn_close(c);
                return;
            }
            memcpy(c->stash, data + used, len - used);
            c->stash_len = len - used;
        }
        return;
    }
    conn_error(c, rc);
}

/* Resumes parsing after a pipeline pause once the queue has room again. */
void pd__conn_resume(pd_http_conn_t *c)
{
    if (c->closed || c->closing || c->stop_parsing || c->reading || c->budget_wait ||
        c->nqueued >= c->srv->opts.max_pipeline)
        return;
    pd__parser_resume(&c->parser);
    if (c->stash) {
        char *s = c->stash;
        size_t n = c->stash_len;
        c->stash = NULL;
        c->stash_len = 0;
        c->parser.now_ns = uv_hrtime();
        conn_feed(c, s, n);
        free(s);
        if (c->closed || c->stash || conn_budget_gate(c))
            return;
    }
    if (!c->stop_parsing)
        conn_read_start(c);
}

/* Answers r with an error the server decides itself: the body from hooks.error_body (the
 * app's protocol), else the reason phrase as text/plain. */
static void respond_server_error(pd_http_server_t *srv, pd_http_request_t *r, int status)
{
    const char *type = NULL;
    pd_buf_t *b = &srv->errbody;
    pd_buf_reset(b);
    if (srv->hooks.error_body == NULL ||
        srv->hooks.error_body(srv->hooks.ud, r, status, &type, b) < 0 || type == NULL) {
        const char *reason = pd__status_reason(status);
        pd_http_respond(r, status, PD_HTTP_TEXT_PLAIN, NULL, reason, strlen(reason));
        return;
    }
    pd_http_respond(r, status, type, NULL, b->data ? b->data : "", b->len); /* copies b */
}

/* The server answers a broken request itself, after the ones before it, then closes. */
static void conn_error(pd_http_conn_t *c, int status)
{
    pd_http_server_t *srv = c->srv;
    pd_http_request_t *r = c->parser.cur;
    c->parser.cur = NULL;
    if (r == NULL)
        r = cb_req_new(c);
    if (r == NULL) {
        pd__conn_close(c);
        return;
    }
    if (r->method[0] == '\0')
        r->method = "-";
    if (r->path[0] == '\0')
        r->path = "-";
    if (r->recv_ns == 0)
        r->recv_ns = uv_hrtime();
    const pd_route_t *rt = NULL;
    if (r->route == NULL && r->path[0] == '/' &&
        pd_router_match(srv->router, r->method, r->path, &rt, NULL, 0) == PD_ROUTE_FOUND)
        r->route = rt->path; /* a 408 or 413 of POST /predict is counted as /predict's */
    r->keep_alive = 0;
    r->close_after = 1;
    c->stop_parsing = 1;
    enqueue(c, r);
    switch (status) {
    case 408: srv->stats.rejected_timeout++; break;
    case 413: srv->stats.rejected_body_size++; break;
    case 431: srv->stats.rejected_header_size++; break;
    case 503: break; /* counted where it is decided (pd__conn_accept_fd, the listener) */
    case 501: srv->stats.rejected_malformed++; break; /* a transfer coding not supported */
    case 500: break;
    default:
        status = 400;
        srv->stats.rejected_malformed++;
    }
    respond_server_error(srv, r, status);
}

/* ---- accept ---- */

void pd__conn_accept_fd(pd_http_server_t *srv, int fd, int over_fd_limit)
{
    pd_http_conn_t *c = calloc(1, sizeof *c);
    if (c == NULL || uv_tcp_init(srv->loop, &c->tcp) < 0) {
        free(c);
        close(fd);
        pd_log_error("accept: out of memory");
        return;
    }
    c->tcp.data = c;
    c->srv = srv;
    pd_list_init(&c->queue);
    pd_list_init(&c->tnode);
    pd_list_init(&c->dnode);
    pd_list_init(&c->bnode);
    pd__parser_init(&c->parser, &srv->opts, &g_cbs, c);
    c->parser.charge = &srv->stats.buffered_bytes;
    pd_list_insert_head(&srv->conns, &c->node);
    srv->stats.open_connections++;
    if (uv_tcp_open(&c->tcp, fd) < 0) {
        close(fd);
        pd__conn_close(c);
        return;
    }
    srv->stats.accepted_total++;
    uv_tcp_nodelay(&c->tcp, 1);
    if (over_fd_limit) {
        conn_read_start(c);
        conn_error(c, 503); /* counted as rejected_fd_limit by the listener */
        return;
    }
    if (srv->stats.open_connections > srv->opts.max_connections) {
        srv->stats.rejected_connections++;
        conn_read_start(c);
        conn_error(c, 503);
        return;
    }
    conn_read_start(c);
    pd__conn_update_timer(c);
}

/* ---- timers and draining ---- */

/* The io deadline of a request being received: its headers must arrive within
 * header_timeout_ms from its first byte (however steadily they drip in), its body must not
 * stall for that long (each read that brings body bytes renews it). A connection busy with
 * one request after another is therefore never cut off: each request gets its own. */
void pd__conn_update_timer(pd_http_conn_t *c)
{
    if (c->closed || c->closing || c->nwriting || c->budget_wait)
        return; /* lingering, blocked writes and waits for the budget keep their list */
    pd__parser_t *p = &c->parser;
    if (pd__parser_busy(p)) {
        if (c->tlist != PD__TL_IO || c->timed_seq != p->nbegun ||
            (p->body_progress && !p->in_headers)) {
            c->timed_seq = p->nbegun;
            pd__srv_tl_set(c->srv, c, PD__TL_IO);
        }
        p->body_progress = 0;
    } else if (pd_list_empty(&c->queue)) {
        if (!c->srv->draining)
            pd__srv_tl_set(c->srv, c, PD__TL_IDLE);
        else if (c->tlist != PD__TL_LINGER)
            pd__srv_tl_set(c->srv, c, PD__TL_LINGER); /* its grace, see pd__conn_drain */
    } else {
        pd__srv_tl_set(c->srv, c, PD__TL_NONE); /* a handler is working */
    }
}

/* Draining (issue 14, defect 6): an idle keep-alive connection is not closed at once - a
 * request its client is sending right now would get neither an answer nor "Connection:
 * close". It keeps reading for linger_ms: a request that arrives is answered with
 * Connection: close (cb_req_done), and then the connection half-closes and lingers as
 * after any last answer; if none arrives, FIN and linger (pd__conn_timeout). A connection
 * with requests in flight finishes them, the last answer saying Connection: close. */
void pd__conn_drain(pd_http_conn_t *c)
{
    if (c->closed || c->closing)
        return; /* lingering after its last answer: bounded by linger_ms */
    pd__conn_update_timer(c);
}

void pd__conn_timeout(pd_http_conn_t *c)
{
    if (c->closed)
        return;
    if (c->nwriting && !c->closing) {
        /* A blocked write is cut off only when it made no progress for a whole timeout:
         * a slow reader that keeps reading gets its whole answer (issue 14, defect 5). */
        size_t left = pd__conn_unsent(c);
        if (left < c->wq_mark) {
            c->wq_mark = left;
            pd__srv_tl_set(c->srv, c, PD__TL_IO);
            return;
        }
        pd__conn_close(c);
    } else if (c->closing || c->nwriting) {
        pd__conn_close(c);
    } else if (pd__parser_busy(&c->parser)) {
        conn_error(c, 408);
        pd__srv_tl_set(c->srv, c, PD__TL_IO);
    } else if (pd_list_empty(&c->queue)) {
        c->srv->stats.idle_closed++;
        if (c->srv->draining)
            pd__conn_finish(c); /* its grace passed without a request: FIN, then linger */
        else
            pd__conn_close(c);
    }
}
