/* fuzz_http_conn.c - libFuzzer target for the HTTP connection state machine: the src/http files
 * (parser, connection, server: pipelining, pauses, deferred answers, aborts, half-close,
 * the buffer budget, errors and lingering) on a real libuv loop, fed through socket pairs.
 *
 * Each input is a configuration and a byte stream. The stream is written to one or two
 * connections (AF_UNIX socket pairs handed to the server with pd__conn_accept_fd) in
 * pieces of random length, while the loop runs and the answers are read; then the client
 * half-closes (or, by a configuration bit, closes abruptly), and the run ends when the
 * server has closed every connection. Handlers answer at once (/e), later in a random
 * order (/d, which also takes abort callbacks), or with a big body (/b: partial writes,
 * the budget); the router's fallback answers 404/405. Every answer's body names its
 * request (method, path, query, body length and checksum).
 *
 * Invariants, checked on every input:
 *   - the answers are exactly those of an oracle - the same parser fed the whole stream
 *     at once, stopping after a request that does not keep the connection alive or at an
 *     error - one per complete request, in order, then the error's status if any (a head
 *     both too large and malformed may be reported as either 431 or 400);
 *   - interim "100 Continue" answers only before a final answer, never inside one;
 *   - no hang: the run ends within a bounded number of loop turns, without any timer;
 *   - nothing left: no connection, no request in flight, no buffered byte, no waiting
 *     connection, no open handle after the server is destroyed; no log line at ERROR;
 *   - ASan/UBSan/LeakSanitizer catch the rest.
 *
 * Two variants relax the first invariant: a drain (pd_http_server_shutdown after a random
 * number of loop turns, with linger_ms 0) may end a connection early, so its answers are
 * a prefix of the oracle's, each complete; a connection taken "over the fd limit" gets
 * exactly one answer, 503.
 *
 * Input layout: byte 0 the configuration (bits 0-1 max_header_size 16384/256/96/1024,
 * bits 2-3 max_body_size 16 MiB/64/1024/0, bit 4 max_pipeline 2 (else 64), bits 5-6
 * buffer_budget 256 MiB/1/300/70000, bit 7 abrupt close), byte 1 the seed of the split
 * points and of the order of deferred answers (bits 0-4), a drain (bit 5), the first
 * connection over the fd limit (bit 6), two connections with the same stream (bit 7);
 * then the stream.
 *
 * Build and run: `make fuzz` (or `make fuzz-quick`), see tests/fuzz/run_fuzzers.py. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "http/internal.h"
#include "obs/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_CONNS 2
#define MAX_PENDING 256
#define MAX_TURNS 200000      /* loop turns per input: a hang past this aborts */
#define BIG_BODY (70 * 1024)  /* /b answers: more than a socket buffer's worth soon */
#define OUT_MAX (64u << 20)   /* answers read per connection */

/* ---- small helpers ---- */

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static uint32_t rng_state;
static uint32_t rnd(void)
{
    uint32_t x = rng_state ? rng_state : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* What identifies a request in its answer's body. */
static void describe(pd_buf_t *b, const char *tag, const char *method, const char *path,
                     const char *query, const char *body, size_t len)
{
    pd_buf_printf(b, "%s|%s|%s|%s|%zu|%08x", tag, method, path, query, len, fnv1a(body, len));
}

/* ---- the server side: routes and deferred answers ---- */

static pd_http_request_t *g_pending[MAX_PENDING];
static size_t g_npending;
static pd_buf_t g_scratch;

static void answer(pd_http_request_t *r, int status, const char *tag)
{
    pd_buf_reset(&g_scratch);
    describe(&g_scratch, tag, r->method, r->path, r->query, r->body, r->body_len);
    if (tag[0] == 'b')
        for (size_t i = 0; i < BIG_BODY; i++)
            pd_buf_append(&g_scratch, "x", 1);
    const char *extra = status == 405 ? "Allow: GET\r\n" : NULL;
    pd_http_respond(r, status, "text/plain", extra, g_scratch.data, g_scratch.len);
}

static void h_now(pd_http_request_t *r, void *ctx)
{
    (void)ctx;
    answer(r, 200, "e");
}

static void h_big(pd_http_request_t *r, void *ctx)
{
    (void)ctx;
    answer(r, 200, "b");
}

static void on_abort(pd_http_request_t *r, void *arg)
{
    (void)r;
    (void)arg; /* stays in g_pending: answered (and so freed) like the others */
}

static void h_defer(pd_http_request_t *r, void *ctx)
{
    (void)ctx;
    if (g_npending == MAX_PENDING) { /* a bounded harness: answer at once */
        answer(r, 200, "d");
        return;
    }
    pd_http_request_on_abort(r, on_abort, NULL);
    g_pending[g_npending++] = r;
}

static void h_fallback(pd_http_request_t *r, void *ctx)
{
    (void)ctx;
    answer(r, r->route_status, "f");
}

/* Answers some deferred requests, in a random order. */
static void answer_some(int all)
{
    while (g_npending > 0) {
        uint32_t k = rnd();
        if (!all && (k & 3) == 0)
            return;
        size_t i = (k >> 2) % g_npending;
        pd_http_request_t *r = g_pending[i];
        g_pending[i] = g_pending[--g_npending];
        answer(r, 200, "d");
    }
}

static void on_log(pd_log_level_t level, const char *msg, void *ud)
{
    (void)ud;
    if (level >= PD_LOG_ERROR) {
        fprintf(stderr, "fuzz_http_conn: ERROR logged: %s\n", msg);
        abort();
    }
}

static uv_loop_t g_loop;
static pd_router_t g_router;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    pd_log_set_sink(on_log, NULL);
    signal(SIGPIPE, SIG_IGN); /* as predictd serve: a write to a closed peer is EPIPE */
    if (uv_loop_init(&g_loop) != 0)
        abort();
    pd_router_init(&g_router);
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
    static const struct {
        const char *path;
        pd_http_handler_fn fn;
    } routes[] = {{"/e", h_now},    {"/e/{x}", h_now}, {"/d", h_defer},
                  {"/d/{x}", h_defer}, {"/b", h_big},  {"/b/{x}", h_big}};
    for (size_t i = 0; i < PD_ARRAY_SIZE(routes); i++)
        for (size_t m = 0; m < PD_ARRAY_SIZE(methods); m++)
            if (pd_router_add(&g_router, methods[m], routes[i].path, routes[i].fn, NULL) < 0)
                abort();
    if (pd_router_add(&g_router, "GET", "/only-get", h_now, NULL) < 0)
        abort();
    pd_router_set_fallback(&g_router, h_fallback, NULL);
    pd_buf_init(&g_scratch, 0);
    return 0;
}

/* ---- the oracle: the same parser, the whole stream at once ---- */

typedef struct {
    int status;           /* 0: a request (answer 200/404/405), else an error's status */
    int head;             /* HEAD: the answer has no body */
    char desc[512];       /* what the answer's body must contain after its tag */
} expect_t;

typedef struct {
    expect_t *e;
    size_t n, cap;
    int stop;
} oracle_t;

static pd_http_request_t *o_new(void *owner)
{
    (void)owner;
    return pd__req_new();
}

static void o_push(oracle_t *o, const expect_t *x)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->e = realloc(o->e, o->cap * sizeof *o->e);
        if (o->e == NULL)
            abort();
    }
    o->e[o->n++] = *x;
}

static int o_done(void *owner, pd_http_request_t *r)
{
    oracle_t *o = owner;
    expect_t x = {0};
    x.head = strcmp(r->method, "HEAD") == 0;
    pd_buf_t b = PD_BUF_INIT;
    describe(&b, "", r->method, r->path, r->query, r->body, r->body_len);
    snprintf(x.desc, sizeof x.desc, "%s", b.data);
    pd_buf_free(&b);
    o_push(o, &x);
    int stop = !r->keep_alive;
    pd__req_free(r);
    if (stop)
        o->stop = 1;
    return stop;
}

static void o_continue(void *owner, pd_http_request_t *r)
{
    (void)owner;
    (void)r;
}

static const pd__parser_cbs_t o_cbs = {o_new, o_done, o_continue};

static void oracle_run(oracle_t *o, const pd_http_options_t *opts, const char *s, size_t n)
{
    pd__parser_t p;
    pd__parser_init(&p, opts, &o_cbs, o);
    size_t used;
    int rc = pd__parser_feed(&p, s, n, &used);
    if (rc != PD__PARSE_OK && rc != PD__PARSE_PAUSED) {
        expect_t x = {0};
        x.status = rc;
        o_push(o, &x);
    }
    pd__req_free(p.cur);
}

/* ---- the client side ---- */

typedef struct {
    int fd;               /* the client's end, or -1 once closed */
    size_t sent;
    int ended;            /* half-closed (or closed) after the whole stream */
    int eof;              /* the server closed */
    char *out;
    size_t out_len, out_cap;
} client_t;

static void client_read(client_t *c)
{
    while (c->fd >= 0 && !c->eof) {
        if (c->out_cap - c->out_len < 65536) {
            c->out_cap = c->out_cap ? c->out_cap * 2 : 1 << 17;
            if (c->out_cap > OUT_MAX)
                abort(); /* far more answer bytes than the stream can ask for */
            c->out = realloc(c->out, c->out_cap);
            if (c->out == NULL)
                abort();
        }
        ssize_t n = recv(c->fd, c->out + c->out_len, c->out_cap - c->out_len, 0);
        if (n > 0) {
            c->out_len += (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            c->eof = 1; /* EOF, or a reset after our abrupt close */
        return;
    }
}

/* The next piece's length: mostly small, sometimes large. */
static size_t piece_len(void)
{
    uint32_t k = rnd();
    switch (k & 3) {
    case 0: return 1 + (k >> 2) % 3;
    case 1: return 1 + (k >> 2) % 17;
    case 2: return 1 + (k >> 2) % 300;
    default: return 1 + (k >> 2) % 70000;
    }
}

static void client_write(client_t *c, const char *s, size_t n, int abrupt)
{
    if (c->fd < 0 || c->ended)
        return;
    if (c->sent < n) {
        size_t k = piece_len(); /* (not inside PD_MIN: it would draw twice) */
        k = PD_MIN(k, n - c->sent);
        ssize_t w = send(c->fd, s + c->sent, k, MSG_NOSIGNAL);
        if (w > 0)
            c->sent += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            c->sent = n; /* the server closed its end (after an error): stop sending */
        return;
    }
    c->ended = 1;
    if (abrupt) {
        close(c->fd);
        c->fd = -1;
    } else {
        shutdown(c->fd, SHUT_WR);
    }
}

/* ---- checking the answers ---- */

static const char *find(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0)
            return p + i;
    return NULL;
}

static void fail(const char *why, size_t i, const char *p, size_t n)
{
    fprintf(stderr, "fuzz_http_conn: answer %zu: %s: '%.*s'\n", i, why, (int)PD_MIN(n, 300),
            p);
    abort();
}

/* prefix: the answers may stop early (a drain), but each one present is complete. */
static void check_answers(const client_t *c, const oracle_t *o, int prefix)
{
    const char *p = c->out, *end = c->out + c->out_len;
    for (size_t i = 0; i < o->n; i++) {
        const expect_t *x = &o->e[i];
        size_t left = (size_t)(end - p);
        if (prefix && left == 0)
            return;
        const char *hend = find(p, left, "\r\n\r\n");
        if (hend == NULL)
            fail("missing or cut", i, p, left);
        int status = 0;
        if (sscanf(p, "HTTP/1.1 %d ", &status) != 1)
            fail("no status line", i, p, left);
        if (status == 100) { /* interim: skip it */
            p = hend + 4;
            i--;
            continue;
        }
        const char *cl = find(p, (size_t)(hend - p), "\r\nContent-Length: ");
        if (cl == NULL)
            fail("no Content-Length", i, p, left);
        size_t blen = strtoul(cl + PD_LIT_LEN("\r\nContent-Length: "), NULL, 10);
        const char *body = hend + 4;
        if (x->head)
            blen = 0;
        if (x->status != 0 && (size_t)(end - body) == 0)
            blen = 0; /* the error of a HEAD request: no body either */
        if ((size_t)(end - body) < blen)
            fail("body cut", i, p, left);
        if (x->status == 0) {
            if (status != 200 && status != 404 && status != 405)
                fail("unexpected status", i, p, left);
            if (!x->head) {
                const char *bar = memchr(body, '|', blen);
                size_t dl = strlen(x->desc);
                if (bar == NULL || (size_t)(body + blen - bar) < dl || memcmp(bar, x->desc, dl))
                    fail("not the answer of the request in this place", i, body, blen);
            }
        } else {
            int ok = status == x->status ||
                     ((status == 400 || status == 431) && (x->status == 400 || x->status == 431));
            if (!ok)
                fail("not the expected error", i, p, left);
            if (find(p, (size_t)(hend + 2 - p), "\r\nConnection: close\r\n") == NULL)
                fail("an error answer without Connection: close", i, p, left);
        }
        p = body + blen;
    }
    while (p < end) { /* only interim answers may follow (a 100 before an error's close) */
        const char *hend = find(p, (size_t)(end - p), "\r\n\r\n");
        int status = 0;
        if (hend == NULL || sscanf(p, "HTTP/1.1 %d ", &status) != 1 || status != 100)
            fail("more answers than requests", o->n, p, (size_t)(end - p));
        p = hend + 4;
    }
}

/* ---- one input ---- */

static const uint32_t k_hdr[4] = {16384, 256, 96, 1024};
static const uint32_t k_body[4] = {16u << 20, 64, 1024, 0};
static const size_t k_budget[4] = {(size_t)256 << 20, 1, 300, 70000};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned cfg = data[0], seed = data[1];
    const char *stream = (const char *)data + 2;
    size_t n = size - 2;
    int abrupt = (cfg >> 7) & 1, nconn = (seed & 0x80) ? 2 : 1;
    int drain = (seed >> 5) & 1, over_fd = (seed >> 6) & 1;
    rng_state = 0x1234567u * ((seed & 0x1f) + 1);
    int drain_at = drain ? (int)(rnd() % 64) : -1;

    pd_http_options_t o;
    pd_http_options_default(&o);
    o.max_header_size = k_hdr[cfg & 3];
    o.max_body_size = k_body[(cfg >> 2) & 3];
    o.max_pipeline = (cfg & 0x10) ? 2 : 64;
    o.buffer_budget = k_budget[(cfg >> 5) & 3];
    if (drain)
        o.linger_ms = 0; /* no timer the run would wait for */

    oracle_t orc = {0}, fd503 = {0};
    if (!abrupt)
        oracle_run(&orc, &o, stream, n);
    expect_t x503 = {.status = 503};
    o_push(&fd503, &x503);

    pd_http_server_t *srv;
    if (pd_http_server_create(&srv, &g_loop, &o, &g_router, NULL) != 0)
        abort();
    client_t cl[MAX_CONNS];
    memset(cl, 0, sizeof cl);
    for (int i = 0; i < nconn; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
            abort();
        cl[i].fd = sv[0];
        pd__conn_accept_fd(srv, sv[1], i == 0 && over_fd);
    }
    const pd_http_stats_t *st = pd_http_server_stats(srv);
    int turns = 0;
    for (;;) {
        for (int i = 0; i < nconn; i++)
            client_write(&cl[i], stream, n, abrupt);
        if (turns == drain_at)
            pd_http_server_shutdown(srv);
        uv_run(&g_loop, UV_RUN_NOWAIT);
        answer_some(0);
        for (int i = 0; i < nconn; i++)
            client_read(&cl[i]);
        int done = st->open_connections == 0 && g_npending == 0;
        for (int i = 0; i < nconn; i++)
            done = done && cl[i].ended && (abrupt || cl[i].eof);
        if (done)
            break;
        if (++turns > MAX_TURNS) {
            fprintf(stderr, "fuzz_http_conn: hang: %llu connections open, %zu deferred, "
                    "%llu waiting for the budget\n", (unsigned long long)st->open_connections,
                    g_npending, (unsigned long long)st->budget_waiting);
            pd_list_t *q;
            pd_list_foreach(q, &srv->conns) {
                const pd_http_conn_t *c = pd_list_entry(q, pd_http_conn_t, node);
                fprintf(stderr, "  connection: reading %d closing %d stop_parsing %d eof %d "
                        "queued %u writing %u timeout list %d busy %d draining %d\n",
                        c->reading, c->closing, c->stop_parsing, c->eof, c->nqueued,
                        c->nwriting, c->tlist, pd__parser_busy(&c->parser), srv->draining);
                pd_list_t *r;
                pd_list_foreach(r, &c->queue) {
                    const pd_http_request_t *q2 = pd_list_entry(r, pd_http_request_t, link);
                    fprintf(stderr, "    request %s %s state %d status %d\n", q2->method,
                            q2->path, q2->state, q2->status);
                }
            }
            abort();
        }
    }
    for (int i = 0; i < 8; i++)
        uv_run(&g_loop, UV_RUN_NOWAIT); /* close callbacks */
    if (st->requests_in_flight != 0 || st->buffered_bytes != 0 || st->budget_waiting != 0) {
        fprintf(stderr, "fuzz_http_conn: left over: %llu in flight, %llu bytes buffered, %llu "
                "waiting\n", (unsigned long long)st->requests_in_flight,
                (unsigned long long)st->buffered_bytes, (unsigned long long)st->budget_waiting);
        abort();
    }
    if (!abrupt)
        for (int i = 0; i < nconn; i++)
            check_answers(&cl[i], i == 0 && over_fd ? &fd503 : &orc, drain);
    pd_http_server_destroy(srv);
    uv_run(&g_loop, UV_RUN_NOWAIT);
    if (uv_loop_alive(&g_loop))
        abort(); /* a handle left open */
    for (int i = 0; i < nconn; i++) {
        if (cl[i].fd >= 0)
            close(cl[i].fd);
        free(cl[i].out);
    }
    free(orc.e);
    free(fd503.e);
    return 0;
}
