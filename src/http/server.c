/* server.c - the listening socket, connection limits and timeouts, request recycling, the
 * once-per-iteration flush of answered responses, and graceful shutdown.
 *
 * Invariants: srv->conns lists every connection not yet closed (closed ones are unlinked
 * at pd__conn_close, freed in their close callback); each timeout list is sorted by
 * deadline because all its members share one timeout and join at the tail; srv->timer is
 * armed whenever a list is non-empty; the server's own handles are closed exactly once,
 * when the drain finished (or was cut off by shutdown_timeout_ms). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "http/internal.h"
#include "obs/log.h"

void pd_http_options_default(pd_http_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->max_connections = PD_HTTP_DEFAULT_MAX_CONNECTIONS;
    o->max_header_size = PD_HTTP_DEFAULT_MAX_HEADER_SIZE;
    o->max_headers = PD_HTTP_DEFAULT_MAX_HEADERS;
    o->backlog = PD_HTTP_DEFAULT_BACKLOG;
    o->max_body_size = PD_HTTP_DEFAULT_MAX_BODY_SIZE;
    o->max_pipeline = PD_HTTP_DEFAULT_MAX_PIPELINE;
    o->keepalive_ms = PD_HTTP_DEFAULT_KEEPALIVE_MS;
    o->header_timeout_ms = PD_HTTP_DEFAULT_HEADER_TIMEOUT_MS;
    o->shutdown_timeout_ms = PD_HTTP_DEFAULT_SHUTDOWN_TIMEOUT_MS;
    o->linger_ms = PD_HTTP_DEFAULT_LINGER_MS;
    o->buffer_budget = PD_HTTP_DEFAULT_BUFFER_BUDGET;
}

/* ---- request recycling ---- */

pd_http_request_t *pd__srv_req_get(pd_http_server_t *srv)
{
    if (!pd_list_empty(&srv->free_reqs)) {
        pd_list_t *n = pd_list_head(&srv->free_reqs);
        pd_list_remove(n);
        srv->nfree--;
        return pd_list_entry(n, pd_http_request_t, link);
    }
    return pd__req_new();
}

void pd__srv_req_put(pd_http_server_t *srv, pd_http_request_t *r)
{
    if (r->charged) {
        srv->stats.buffered_bytes -= r->charged;
        r->charged = 0;
        pd__srv_budget_kick(srv);
    }
    if (srv->nfree >= PD__REQ_POOL_MAX) {
        pd__req_free(r);
        return;
    }
    pd__req_reset(r);
    pd_list_insert_head(&srv->free_reqs, &r->link); /* LIFO: the warmest object next */
    srv->nfree++;
}

/* ---- the buffer budget (issue 14, defect 3) ----
 *
 * stats.buffered_bytes counts the bodies received (as they arrive, parser.c) and the
 * answers formatted (pd_http_respond) of every request until it is recycled, i.e. until
 * its answer is written or its connection is gone. A connection that receives a body
 * while the count is at the budget stops being read (conn.c, conn_budget_gate) and waits
 * here, in arrival order; header-only requests (/health) are never held back, and answers
 * are never refused. Each give-back resumes as many waiters as the room left could feed
 * with one read each. If everything held belongs to waiting bodies - nobody else will give
 * anything back - the oldest waiter resumes alone and may finish its body: progress is
 * guaranteed, and the budget is passed by at most one body. */

static void on_budget_idle(uv_idle_t *h)
{
    pd_http_server_t *srv = h->data;
    uv_idle_stop(h);
    uint64_t budget = srv->opts.buffer_budget, held = srv->stats.buffered_bytes;
    if (held < budget) {
        uint64_t n = (budget - held) / PD__READ_BUF + 1;
        while (n-- > 0 && !pd_list_empty(&srv->budget_wait))
            pd__conn_budget_resume(
                pd_list_entry(pd_list_head(&srv->budget_wait), pd_http_conn_t, bnode), 0);
    } else if (held <= srv->wait_partial && !pd_list_empty(&srv->budget_wait)) {
        pd__conn_budget_resume(
            pd_list_entry(pd_list_head(&srv->budget_wait), pd_http_conn_t, bnode), 1);
    }
}

void pd__srv_budget_kick(pd_http_server_t *srv)
{
    if (!pd_list_empty(&srv->budget_wait) && !srv->drained &&
        !uv_is_closing((uv_handle_t *)&srv->budget_idle))
        uv_idle_start(&srv->budget_idle, on_budget_idle);
}

/* ---- flushing ---- */

static void on_flush_idle(uv_idle_t *h)
{
    (void)h; /* only there to make the loop turn: on_check flushes and stops it */
}

/* The flush runs in the check phase of the loop turn that answered, and the idle handle
 * started here guarantees that turn - or the next, if the answer was given after the check
 * phase (a close callback) or outside uv_run - comes without blocking, even when nothing
 * else keeps the loop alive (a draining server, a paused connection). */
void pd__srv_mark_dirty(pd_http_server_t *srv, pd_http_conn_t *c)
{
    if (pd_list_linked(&c->dnode))
        return;
    if (pd_list_empty(&srv->dirty) && !uv_is_closing((uv_handle_t *)&srv->flush_idle))
        uv_idle_start(&srv->flush_idle, on_flush_idle);
    pd_list_insert_head(&srv->dirty, &c->dnode);
}

static void on_check(uv_check_t *h)
{
    pd_http_server_t *srv = h->data;
    uv_idle_stop(&srv->flush_idle);
    while (!pd_list_empty(&srv->dirty)) {
        pd_list_t *n = pd_list_head(&srv->dirty);
        pd_list_remove(n);
        pd__conn_flush(pd_list_entry(n, pd_http_conn_t, dnode));
    }
}

/* ---- timeouts ---- */

/* The connection that times out first in l, or NULL. */
static pd_http_conn_t *tl_first(const pd__tlist_t *l)
{
    return pd_list_empty(&l->conns) ? NULL
                                    : pd_list_entry(pd_list_head(&l->conns), pd_http_conn_t, tnode);
}

static void on_timer(uv_timer_t *t);

static void timer_arm(pd_http_server_t *srv)
{
    uint64_t due = UINT64_MAX;
    const pd__tlist_t *lists[3] = {&srv->idle, &srv->io, &srv->linger};
    for (int i = 0; i < 3; i++) {
        const pd_http_conn_t *c = tl_first(lists[i]);
        if (c && c->deadline < due)
            due = c->deadline;
    }
    if (due == UINT64_MAX || srv->drained)
        return;
    uint64_t now = uv_now(srv->loop);
    uint64_t in = due > now ? due - now : 0;
    if (uv_is_active((uv_handle_t *)&srv->timer) && uv_timer_get_due_in(&srv->timer) <= in)
        return;
    uv_timer_start(&srv->timer, on_timer, in, 0);
}

void pd__srv_tl_set(pd_http_server_t *srv, pd_http_conn_t *c, int which)
{
    pd_list_remove(&c->tnode); /* from the list it is in, if any */
    c->tlist = (uint8_t)which;
    if (which == PD__TL_NONE)
        return;
    pd__tlist_t *l = which == PD__TL_IDLE ? &srv->idle
                     : which == PD__TL_IO ? &srv->io
                                          : &srv->linger;
    c->deadline = uv_now(srv->loop) + l->timeout_ms;
    pd_list_insert_tail(&l->conns, &c->tnode);
    timer_arm(srv);
}

static void on_timer(uv_timer_t *t)
{
    pd_http_server_t *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    pd__tlist_t *lists[3] = {&srv->idle, &srv->io, &srv->linger};
    for (int i = 0; i < 3; i++) {
        /* bounded: each expired connection leaves this list or rejoins at a later deadline */
        pd_http_conn_t *c;
        while ((c = tl_first(lists[i])) != NULL && c->deadline <= now) {
            pd__srv_tl_set(srv, c, PD__TL_NONE);
            pd__conn_timeout(c);
        }
    }
    timer_arm(srv);
}

/* ---- accepting, and the reserve descriptor (issue 14, defect 9) ----
 *
 * The listening socket is ours (a uv_poll_t watches it), not a uv_tcp_t: libuv's listener
 * meets EMFILE by accepting and closing every pending connection without a word. Here an
 * accept that fails with EMFILE/ENFILE closes the server's reserve descriptor (a
 * /dev/null kept open for this), accepts one connection into its slot and answers it 503
 * like a connection over --max-connections (then lingers and closes); the listener pauses
 * until a connection closes (or PD__ACCEPT_RETRY_MS passes) and the reserve is open again,
 * so other clients wait in the backlog instead of being dropped. Each such 503 is counted
 * (stats.rejected_fd_limit) and logged at most once per PD__FD_LOG_EVERY_MS. */

#define PD__ACCEPT_BATCH 64        /* accepts per readiness event (fairness to the loop) */
#define PD__ACCEPT_RETRY_MS 100    /* while paused at the fd limit: try again this often */
#define PD__FD_LOG_EVERY_MS 1000   /* at most one log line per second about the fd limit */

static void reserve_open(pd_http_server_t *srv)
{
    if (srv->reserve_fd < 0)
        srv->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void on_listen_io(uv_poll_t *h, int status, int events);

static void on_accept_retry(uv_timer_t *t)
{
    pd__srv_accept_resume(t->data);
}

static void accept_pause(pd_http_server_t *srv)
{
    if (srv->accept_paused || !srv->listening)
        return;
    srv->accept_paused = 1;
    uv_poll_stop(&srv->lpoll);
    uv_timer_start(&srv->accept_retry, on_accept_retry, PD__ACCEPT_RETRY_MS,
                   PD__ACCEPT_RETRY_MS);
}

void pd__srv_accept_resume(pd_http_server_t *srv)
{
    reserve_open(srv);
    if (!srv->accept_paused || !srv->listening || srv->reserve_fd < 0)
        return;
    srv->accept_paused = 0;
    uv_timer_stop(&srv->accept_retry);
    uv_poll_start(&srv->lpoll, UV_READABLE, on_listen_io);
}

static void log_fd_limit(pd_http_server_t *srv)
{
    uint64_t now = uv_now(srv->loop);
    if (srv->fd_log_ms != 0 && now - srv->fd_log_ms < PD__FD_LOG_EVERY_MS) {
        srv->fd_log_quiet++;
        return;
    }
    struct rlimit rl;
    unsigned long long lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (unsigned long long)rl.rlim_cur
                                                                : 0;
    pd_log_warn("a connection over the open-file limit (%llu, %llu connections open) was "
                "answered 503 (%u more since the last such line)", lim,
                (unsigned long long)srv->stats.open_connections, srv->fd_log_quiet);
    srv->fd_log_ms = now ? now : 1;
    srv->fd_log_quiet = 0;
}

/* accept() failed with EMFILE/ENFILE: answer one pending client 503 from the reserve slot. */
static void accept_over_fd_limit(pd_http_server_t *srv)
{
    if (srv->reserve_fd < 0) {
        accept_pause(srv);
        return;
    }
    close(srv->reserve_fd);
    srv->reserve_fd = -1;
    int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        reserve_open(srv);
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            accept_pause(srv);
        return;
    }
    srv->stats.rejected_fd_limit++;
    log_fd_limit(srv);
    pd__conn_accept_fd(srv, fd, 1);
    accept_pause(srv); /* until the reserve is back */
}

static void on_listen_io(uv_poll_t *h, int status, int events)
{
    pd_http_server_t *srv = h->data;
    (void)events;
    if (status < 0) {
        pd_log_warn("accept failed: %s", uv_strerror(status));
        return;
    }
    for (int i = 0; i < PD__ACCEPT_BATCH && srv->listening && !srv->accept_paused; i++) {
        int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            pd__conn_accept_fd(srv, fd, 0);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (errno == EMFILE || errno == ENFILE) {
            accept_over_fd_limit(srv);
            return;
        }
        pd_log_warn("accept failed: %s", strerror(errno)); /* ENOBUFS, ENOMEM, ... */
        accept_pause(srv); /* retried in PD__ACCEPT_RETRY_MS */
        return;
    }
}

void pd__srv_conn_gone(pd_http_server_t *srv, pd_http_conn_t *c)
{
    pd_list_remove(&c->node);
    srv->stats.open_connections--;
}

void pd__srv_fd_freed(pd_http_server_t *srv)
{
    if (srv->reserve_fd < 0 || srv->accept_paused)
        pd__srv_accept_resume(srv);
}

/* ---- shutdown ---- */

/* Closes every open connection (each one leaves srv->conns as it closes). */
static void close_all(pd_http_server_t *srv)
{
    while (!pd_list_empty(&srv->conns))
        pd__conn_close(pd_list_entry(pd_list_head(&srv->conns), pd_http_conn_t, node));
}

static void on_handle_closed(uv_handle_t *h)
{
    pd_http_server_t *srv = h->data;
    srv->handles_open--;
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, on_handle_closed);
}

void pd__srv_check_drained(pd_http_server_t *srv)
{
    if (!srv->draining || srv->drained || !pd_list_empty(&srv->conns))
        return;
    if (srv->stats.requests_in_flight > 0 && srv->cut_off == 0)
        return; /* handlers still hold requests whose connections died */
    srv->drained = 1;
    close_handle((uv_handle_t *)&srv->timer);
    close_handle((uv_handle_t *)&srv->shutdown_timer);
    close_handle((uv_handle_t *)&srv->flush_check);
    close_handle((uv_handle_t *)&srv->accept_retry);
    close_handle((uv_handle_t *)&srv->budget_idle);
    close_handle((uv_handle_t *)&srv->flush_idle);
    if (srv->cut_off)
        pd_log_warn("shutdown timeout: cut off %u unfinished requests", srv->cut_off);
    else
        pd_log_info("shutdown complete: every request answered");
    if (srv->hooks.on_drained)
        srv->hooks.on_drained(srv->hooks.ud, srv->cut_off);
}

static void on_shutdown_timeout(uv_timer_t *t)
{
    pd_http_server_t *srv = t->data;
    /* Cut off: requests parsed and not answered, plus requests still arriving. Idle and
     * lingering connections lose nothing and are not counted. */
    unsigned n = (unsigned)srv->stats.requests_in_flight;
    pd_list_t *q;
    pd_list_foreach(q, &srv->conns)
        n += pd__parser_busy(&pd_list_entry(q, pd_http_conn_t, node)->parser) ? 1u : 0u;
    srv->cut_off = n ? n : 1;
    close_all(srv);
    pd__srv_check_drained(srv);
}

/* Stops accepting for good: closes the listening socket and its watcher. */
static void listener_close(pd_http_server_t *srv)
{
    if (srv->lfd < 0)
        return;
    close_handle((uv_handle_t *)&srv->lpoll); /* stops watching at once */
    close(srv->lfd);
    srv->lfd = -1;
    srv->listening = 0;
    uv_timer_stop(&srv->accept_retry);
}

void pd_http_server_shutdown(pd_http_server_t *srv)
{
    if (srv == NULL || srv->draining)
        return;
    srv->draining = 1;
    pd_log_info("shutting down: %llu connections, %llu requests in flight",
                (unsigned long long)srv->stats.open_connections,
                (unsigned long long)srv->stats.requests_in_flight);
    listener_close(srv);
    if (srv->hooks.on_drain_start)
        srv->hooks.on_drain_start(srv->hooks.ud);
    pd_list_t *q, *tmp;
    pd_list_foreach_safe(q, tmp, &srv->conns) /* pd__conn_drain may unlink q */
        pd__conn_drain(pd_list_entry(q, pd_http_conn_t, node));
    uv_timer_start(&srv->shutdown_timer, on_shutdown_timeout, srv->opts.shutdown_timeout_ms, 0);
    pd__srv_check_drained(srv);
}

/* ---- life cycle ---- */

int pd_http_server_create(pd_http_server_t **out, uv_loop_t *loop, const pd_http_options_t *opts,
                          const pd_router_t *router, const pd_http_hooks_t *hooks)
{
    *out = NULL;
    if (loop == NULL || router == NULL ||
        (opts && opts->max_headers > PD_HTTP_MAX_HEADERS_LIMIT))
        return PD_EINVAL;
    pd_http_server_t *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        goto fail_srv;
    srv->readbuf = malloc(PD__READ_BUF);
    if (srv->readbuf == NULL)
        goto fail_buf;
    srv->loop = loop;
    pd_buf_init(&srv->errbody, PD_HTTP_ERROR_BODY_MAX);
    if (opts)
        srv->opts = *opts;
    else
        pd_http_options_default(&srv->opts);
    if (srv->opts.max_pipeline == 0)
        srv->opts.max_pipeline = 1;
    if (srv->opts.max_headers == 0)
        srv->opts.max_headers = PD_HTTP_DEFAULT_MAX_HEADERS;
    if (srv->opts.backlog == 0)
        srv->opts.backlog = PD_HTTP_DEFAULT_BACKLOG;
    if (srv->opts.buffer_budget == 0)
        srv->opts.buffer_budget = PD_HTTP_DEFAULT_BUFFER_BUDGET;
    if (hooks)
        srv->hooks = *hooks;
    srv->router = router;
    srv->port = -1;
    pd_list_init(&srv->conns);
    pd_list_init(&srv->dirty);
    pd_list_init(&srv->idle.conns);
    pd_list_init(&srv->io.conns);
    pd_list_init(&srv->linger.conns);
    pd_list_init(&srv->free_reqs);
    pd_list_init(&srv->detached);
    pd_list_init(&srv->budget_wait);
    srv->idle.timeout_ms = srv->opts.keepalive_ms;
    srv->io.timeout_ms = srv->opts.header_timeout_ms;
    srv->linger.timeout_ms = srv->opts.linger_ms;
    srv->lfd = -1;
    srv->reserve_fd = -1;
    reserve_open(srv);
    uv_timer_init(loop, &srv->timer);
    uv_timer_init(loop, &srv->shutdown_timer);
    uv_timer_init(loop, &srv->accept_retry);
    uv_check_init(loop, &srv->flush_check);
    uv_idle_init(loop, &srv->budget_idle);
    uv_idle_init(loop, &srv->flush_idle);
    srv->timer.data = srv->shutdown_timer.data = srv->accept_retry.data = srv;
    srv->flush_check.data = srv->budget_idle.data = srv->flush_idle.data = srv;
    srv->handles_open = 6; /* and the listener's watcher once it listens */
    uv_check_start(&srv->flush_check, on_check);
    uv_unref((uv_handle_t *)&srv->flush_check);
    uv_unref((uv_handle_t *)&srv->shutdown_timer);
    *out = srv;
    return 0;

fail_buf:
    free(srv);
fail_srv:
    return PD_ENOMEM;
}

/* Descriptors this process has open now (from /proc/self/fd), or 0 when unknown. */
static unsigned long long fds_open(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 0;
    unsigned long long n = 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n > 3 ? n - 3 : 0; /* ".", ".." and the directory's own descriptor */
}

/* Says at start when max_connections is beyond the open-file limit itself (the few
 * descriptors the process holds are not counted, so that the default of 20,000 under the
 * usual limit of 20,000 does not warn at every start; the fd-limit 503 covers the gap). */
static void warn_fd_limit(const pd_http_server_t *srv)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    unsigned long long lim = (unsigned long long)rl.rlim_cur, used = fds_open();
    unsigned long long room = lim > used ? lim - used : 0;
    if (srv->opts.max_connections > lim)
        pd_log_warn("--max-connections %u exceeds what the open-file limit (%llu, %llu in use) "
                    "leaves: connections beyond about %llu will be answered 503 (raise "
                    "`ulimit -n`)", srv->opts.max_connections, lim, used, room);
}

int pd__srv_adopt_listener(pd_http_server_t *srv, int fd)
{
    if (uv_poll_init_socket(srv->loop, &srv->lpoll, fd) != 0)
        return PD_ENOMEM;
    srv->lfd = fd;
    srv->lpoll.data = srv;
    srv->handles_open++;
    uv_poll_start(&srv->lpoll, UV_READABLE, on_listen_io);
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0)
        srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                       : ((struct sockaddr_in *)&bound)->sin_port);
    srv->listening = 1;
    warn_fd_limit(srv);
    return 0;
}

int pd_http_server_port(const pd_http_server_t *srv)
{
    return srv->port;
}

int pd_http_server_ready(const pd_http_server_t *srv)
{
    return srv->listening && !srv->draining;
}

int pd_http_server_draining(const pd_http_server_t *srv)
{
    return srv->draining;
}

int pd_http_server_drained(const pd_http_server_t *srv)
{
    return srv->drained;
}

const pd_http_stats_t *pd_http_server_stats(const pd_http_server_t *srv)
{
    return &srv->stats;
}

const pd_http_options_t *pd_http_server_options(const pd_http_server_t *srv)
{
    return &srv->opts;
}

void pd_http_server_destroy(pd_http_server_t *srv)
{
    if (srv == NULL)
        return;
    if (srv->handles_open) { /* never drained (e.g. listen failed): close what is open */
        close_all(srv);
        listener_close(srv);
        close_handle((uv_handle_t *)&srv->timer);
        close_handle((uv_handle_t *)&srv->shutdown_timer);
        close_handle((uv_handle_t *)&srv->flush_check);
        close_handle((uv_handle_t *)&srv->accept_retry);
        close_handle((uv_handle_t *)&srv->budget_idle);
        close_handle((uv_handle_t *)&srv->flush_idle);
        for (int i = 0; i < 1000 && srv->handles_open; i++)
            uv_run(srv->loop, UV_RUN_NOWAIT);
    }
    pd_list_t *lists[2] = {&srv->free_reqs, &srv->detached};
    for (int i = 0; i < 2; i++) {
        while (!pd_list_empty(lists[i])) {
            pd_list_t *n = pd_list_head(lists[i]);
            pd_list_remove(n);
            pd__req_free(pd_list_entry(n, pd_http_request_t, link));
        }
    }
    if (srv->reserve_fd >= 0)
        close(srv->reserve_fd);
    pd_buf_free(&srv->errbody);
    free(srv->readbuf);
    free(srv);
}
