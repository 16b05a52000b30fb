/* conn_write.c - answering a connection's requests and writing the answers: a handler's
 * pd_http_respond formats its response into the request (the body is given back, the
 * answer is charged to the buffer budget), and pd__conn_flush writes the head run of
 * answered requests in one write, in request order - uv_try_write first, the rest handed to
 * uv_write without copying (the requests stay queued until write_cb releases them).
 * Invariants are conn.c's; loop thread only. */
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common.h"
#include "http/internal.h"
#include "obs/log.h"

int pd_http_respond(pd_http_request_t *r, int status, const char *content_type,
                    const char *extra_headers, const char *body, size_t len)
{
    pd_http_server_t *srv = r->srv;
    if (r->state != PD__REQ_HANDLER) {
        pd_log_error("http: respond called twice or on a request not handed out (%s %s)",
                     r->method, r->path);
        return PD_EINVAL;
    }
    srv->stats.requests_in_flight--;
    srv->stats.requests_total++;
    pd__req_assign_id(r); /* the server's own answers (400, 408, ...) get theirs here */
    uint64_t dur = uv_hrtime() - r->recv_ns;
    pd_http_conn_t *c = r->conn;
    if (c == NULL) { /* its connection died: just free it */
        pd_list_remove(&r->link); /* from srv->detached */
        r->state = PD__REQ_ANSWERED;
        if (srv->hooks.after_response)
            srv->hooks.after_response(srv->hooks.ud, r, status, 0, dur);
        pd__srv_req_put(srv, r);
        pd__srv_check_drained(srv);
        return 0;
    }
    /* The last request of a draining or half-closed connection closes it. */
    if ((srv->draining || c->eof) && pd_list_next(&r->link) == &c->queue &&
        !pd__parser_busy(&c->parser))
        r->keep_alive = 0;
    if (!r->keep_alive)
        r->close_after = 1;
    int rc = pd__response_format(&r->out, status, content_type, extra_headers, body, len,
                                 r->keep_alive, r->http_minor, r->request_id);
    if (rc == 0 && r->method[0] == 'H' && strcmp(r->method, "HEAD") == 0)
        r->out.len -= len; /* HEAD: the headers of a GET, without its body */
    r->state = PD__REQ_ANSWERED;
    r->status = status;
    if (rc < 0) {
        pd_log_error("http: cannot format a %d response: %s", status, pd_strerror(rc));
        pd_buf_reset(&r->out);
        r->close_after = 1;
    }
    /* The body is no longer needed (the handler is done with req): give it back now; the
     * answer is held until written (never refused: see buffer_budget). */
    srv->stats.buffered_bytes -= r->charged;
    r->charged = r->out.len;
    srv->stats.buffered_bytes += r->out.len;
    if (r->body_buf.cap > PD__REQ_KEEP_BUF) {
        pd_buf_free(&r->body_buf);
        r->body = "";
        r->body_len = 0;
    }
    if (!pd_list_empty(&srv->budget_wait))
        pd__srv_budget_kick(srv);
    if (srv->hooks.after_response)
        srv->hooks.after_response(srv->hooks.ud, r, status, r->out.len, dur);
    if (srv->opts.access_log)
        pd_log_info("%s %s %d %zu %llu", r->method, r->path, status, r->out.len,
                    (unsigned long long)(dur / 1000));
    pd__srv_mark_dirty(srv, c);
    return rc;
}

int pd_http_respond_json(pd_http_request_t *req, int status, const char *json, size_t len)
{
    return pd_http_respond(req, status, "application/json", NULL, json, len);
}

/* Releases the first n requests (written) and decides what comes next. */
static void after_write(pd_http_conn_t *c, uint32_t n, int close_after)
{
    for (uint32_t i = 0; i < n; i++)
        pd__conn_release_head(c);
    if (close_after) {
        pd__conn_finish(c);
        return;
    }
    if (c->eof && pd_list_empty(&c->queue)) {
        pd__conn_close(c); /* half-closed and all answered (each write is complete) */
        return;
    }
    pd__conn_resume(c);
    if (!c->closed)
        pd__conn_update_timer(c);
}

static void on_write(uv_write_t *w, int status)
{
    pd_http_conn_t *c = w->data;
    if (c->closed)
        return; /* canceled by uv_close; on_close frees the requests */
    uint32_t n = c->nwriting;
    int close_after = c->wclose;
    c->nwriting = 0;
    if (status < 0) {
        pd__conn_close(c);
        return;
    }
    after_write(c, n, close_after);
    pd_http_request_t *first = c->closed ? NULL : pd__conn_queue_first(c);
    if (first && first->state == PD__REQ_ANSWERED)
        pd__srv_mark_dirty(c->srv, c);
}

/* Bytes written and not yet acknowledged by the client: libuv's queue plus the kernel's
 * send queue (which may hold megabytes that a slow reader drains without the socket
 * becoming writable for a long while). It shrinks exactly when the client reads. */
size_t pd__conn_unsent(pd_http_conn_t *c)
{
    size_t n = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
    uv_os_fd_t fd;
    int q = 0;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 && ioctl(fd, SIOCOUTQ, &q) == 0 && q > 0)
        n += (size_t)q;
    return n;
}

void pd__conn_flush(pd_http_conn_t *c)
{
    if (c->closed || c->nwriting)
        return;
    uv_buf_t bufs[PD__WRITE_BATCH];
    uint32_t n = 0;
    size_t total = 0;
    int close_after = 0;
    pd_list_t *q;
    pd_list_foreach(q, &c->queue) {
        pd_http_request_t *r = pd_list_entry(q, pd_http_request_t, link);
        if (r->state != PD__REQ_ANSWERED || n >= PD__WRITE_BATCH)
            break;
        bufs[n++] = uv_buf_init(r->out.data, (unsigned)r->out.len);
        total += r->out.len;
        if (r->close_after) {
            close_after = 1;
            break;
        }
    }
    if (n == 0)
        return;
    int rc = total ? uv_try_write((uv_stream_t *)&c->tcp, bufs, n) : 0;
    if (rc < 0 && rc != UV_EAGAIN) {
        pd__conn_close(c);
        return;
    }
    size_t done = rc > 0 ? (size_t)rc : 0;
    if (done == total) {
        after_write(c, n, close_after);
        return;
    }
    /* Partial: hand the rest to uv_write (copies nothing; the requests stay queued). */
    uint32_t i = 0;
    while (done >= bufs[i].len) {
        done -= bufs[i].len;
        i++;
    }
    bufs[i].base += done;
    bufs[i].len -= done;
    if (c->wreq == NULL && (c->wreq = malloc(sizeof *c->wreq)) == NULL) {
        pd__conn_close(c);
        return;
    }
    c->wreq->data = c;
    if (uv_write(c->wreq, (uv_stream_t *)&c->tcp, bufs + i, n - i, on_write) < 0) {
        pd__conn_close(c);
        return;
    }
    c->nwriting = n;
    c->wclose = (uint8_t)close_after;
    c->wq_mark = pd__conn_unsent(c);
    pd__conn_read_stop(c); /* backpressure: no new requests while the client does not read */
    pd__srv_tl_set(c->srv, c, PD__TL_IO);
}
