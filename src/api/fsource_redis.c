/* fsource_redis.c - the Redis store (pd_fsource_redis, fsource_impl.h): each entity is a
 * hash at its key; a lookup is one HMGET per key, all written together on one connection
 * (one pipelined round trip), with hiredis's asynchronous API on the loop through its
 * libuv adapter (hiredis/adapters/libuv.h).
 *
 * Connections: --feature-connections per source, each on its own: resolve (a host name
 * goes through uv_getaddrinfo, on libuv's threadpool: the loop never resolves), connect
 * (hiredis's non-blocking connect, bounded by PD_REDIS_CONNECT_TIMEOUT_MS), AUTH / SELECT
 * when the URL asks, then up; when it fails or drops, a reconnect after a backoff that
 * doubles from PD_REDIS_BACKOFF_MIN_MS to PD_REDIS_BACKOFF_MAX_MS. A lookup goes to the
 * up connection with the fewest replies pending; while none is up, lookups are refused at
 * once (503). A connection whose replies stop for PD_REDIS_STALL_MS is dropped.
 *
 * The adapter (its attach, its event struct and cleanup) is used with two fixes in our
 * own hooks: hiredis 0.14's adapter drops libuv's poll errors (POLLERR: a refused
 * connect, a reset), which would leave hiredis waiting for ever, so they are routed to
 * hiredis (which then reads the socket's error); and its hooks re-register the socket
 * with epoll on every call (hiredis calls addWrite per command), ours only on a change.
 *
 * Invariants (loop thread): c->ac is the live context of connection c or NULL; whoever
 * takes a context away sets c->ac = NULL before freeing it, so hiredis's callbacks for an
 * old context never touch the new one; every command sent gets exactly one callback
 * (a reply, or NULL when the context goes), which ends one key of its fetch; the store is
 * freed when it is closed and its timers and resolutions are back. */
#include <arpa/inet.h>
#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/fsource_impl.h"
#include "api/fsource_redis_url.h"
#include "common.h"
#include "util/applock.h"
#include "obs/log.h"

#define PD_REDIS_CONNECT_TIMEOUT_MS 1000   /* a connect (and its AUTH/SELECT) must be done */
#define PD_REDIS_BACKOFF_MIN_MS 50         /* first reconnect delay */
#define PD_REDIS_BACKOFF_MAX_MS 2000       /* the delay doubles up to this */
#define PD_REDIS_STALL_MS 10000            /* replies pending and none for this: drop it */

typedef enum { C_DOWN = 0, C_RESOLVING, C_CONNECTING, C_UP, C_CLOSED } cstate_t;

typedef struct rconn_s {
    struct pd_fstore_s *st;
    redisAsyncContext *ac;   /* the live context, or NULL */
    cstate_t state;
    uv_timer_t timer;        /* connect timeout (CONNECTING) or backoff (DOWN) */
    uv_getaddrinfo_t gai;
    int gai_busy;            /* a resolution is on the threadpool */
    uint32_t backoff_ms;     /* the next reconnect's delay */
    size_t pending;          /* commands sent on ac and not yet called back */
    uint64_t busy_since_ms;  /* the last reply, or the send that made pending non-zero */
    const char *why;         /* why the context was taken away (NULL replies say it) */
} rconn_t;

struct pd_fstore_s {
    uv_loop_t *loop;
    pd__redis_url_t url;
    char *display;           /* owned */
    size_t max_pending, pending;
    uint64_t connects;
    int closing;
    int down_seen;           /* a connection failed since the store was last up */
    pd_fstore_state_t logged; /* the state last logged */
    unsigned open_handles;   /* timers not closed + resolutions in flight */
    const char **argv;       /* owned scratch: one HMGET's arguments */
    size_t *argvlen;
    size_t argv_cap;
    unsigned n_conns;
    rconn_t conns[];
};

static void conn_start(rconn_t *c);
static void store_free(pd_fstore_t *st);

static int redis_check(const char *url, char *display, size_t displen, char *err,
                       size_t errlen)
{
    pd__redis_url_t u;
    int rc = pd__redis_url_parse(url, &u, err, errlen);
    if (rc < 0)
        return rc;
    int v6 = strchr(u.host, ':') != NULL;
    snprintf(display, displen, "redis://%s%s%s%s%s:%d/%u", u.has_pass ? u.user : "",
             u.has_pass ? ":***@" : "", v6 ? "[" : "", u.host, v6 ? "]" : "", u.port, u.db);
    return 0;
}

/* ---- the adapter's event hooks, made idempotent; its poll errors routed to hiredis ---- */

static void poll_cb(uv_poll_t *h, int status, int events)
{
    redisLibuvEvents *p = h->data;
    if (status == 0) {
        redisLibuvPoll(h, status, events);
        return;
    }
    if (p->context == NULL) /* POLLERR: libuv stopped the handle; let hiredis read why */
        return;
    if (p->context->c.flags & REDIS_CONNECTED)
        redisAsyncHandleRead(p->context);
    else
        redisAsyncHandleWrite(p->context); /* checks the connect's SO_ERROR */
    if (p->context != NULL && p->events) /* still alive: listen again */
        uv_poll_start(&p->handle, p->events, poll_cb);
}

/* Listens for `events` unless that is already so: hiredis calls addWrite for every
 * command, and each uv_poll_start takes the fd out of epoll and puts it back (two system
 * calls), which the 0.14 adapter's hooks would do every time. */
static void listen_for(redisLibuvEvents *p, int events)
{
    int active = uv_is_active((uv_handle_t *)&p->handle);
    if (events == p->events && (events != 0) == active)
        return;
    p->events = events;
    if (events)
        uv_poll_start(&p->handle, events, poll_cb);
    else
        uv_poll_stop(&p->handle);
}
static void add_read(void *pd) { listen_for(pd, ((redisLibuvEvents *)pd)->events | UV_READABLE); }
static void del_read(void *pd) { listen_for(pd, ((redisLibuvEvents *)pd)->events & ~UV_READABLE); }
static void add_write(void *pd) { listen_for(pd, ((redisLibuvEvents *)pd)->events | UV_WRITABLE); }
static void del_write(void *pd) { listen_for(pd, ((redisLibuvEvents *)pd)->events & ~UV_WRITABLE); }

static int attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    if (redisLibuvAttach(ac, loop) != REDIS_OK)
        return PD_ENOMEM;
    redisLibuvEvents *p = ac->ev.data;
    uv_unref((uv_handle_t *)&p->handle); /* lookups never keep the loop alive */
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    return 0;
}

/* ---- connection states ---- */

static pd_fstore_state_t redis_state(const pd_fstore_t *st)
{
    for (unsigned i = 0; i < st->n_conns; i++)
        if (st->conns[i].state == C_UP)
            return PD_FSTORE_UP;
    return st->down_seen ? PD_FSTORE_DOWN : PD_FSTORE_CONNECTING;
}

/* Logs the store's state when it changed (once per change, not per attempt). */
static void note_state(pd_fstore_t *st, const char *why)
{
    pd_fstore_state_t now = redis_state(st);
    if (now == st->logged || st->closing)
        return;
    if (now == PD_FSTORE_UP)
        pd_log_info("feature source %s: connected", st->display);
    else if (now == PD_FSTORE_DOWN && st->logged == PD_FSTORE_UP)
        pd_log_warn("feature source %s: down (%s): lookups are answered 503 while it "
                    "reconnects in the background", st->display, why);
    else if (now == PD_FSTORE_DOWN)
        pd_log_warn("feature source %s: cannot connect (%s): retrying in the background",
                    st->display, why);
    st->logged = now;
}

static void timer_cb(uv_timer_t *t);

/* The connection's context is gone (taken away, or freed by hiredis): retry later. */
static void conn_down(rconn_t *c, const char *why)
{
    pd_fstore_t *st = c->st;
    c->ac = NULL;
    if (st->closing) {
        c->state = C_CLOSED;
        return;
    }
    c->state = C_DOWN;
    if (redis_state(st) != PD_FSTORE_UP)
        st->down_seen = 1;
    uv_timer_start(&c->timer, timer_cb, c->backoff_ms, 0);
    c->backoff_ms = PD_MIN(c->backoff_ms * 2, PD_REDIS_BACKOFF_MAX_MS);
    note_state(st, why);
}

/* Takes the context away and frees it (its pending commands are called back NULL, with
 * c->why as the reason), then retries later. */
static void conn_drop(rconn_t *c, const char *why)
{
    redisAsyncContext *ac = c->ac;
    c->why = why;
    c->ac = NULL;
    uv_timer_stop(&c->timer);
    if (ac != NULL)
        redisAsyncFree(ac);
    conn_down(c, why);
}

static void timer_cb_locked(uv_timer_t *t)
{
    rconn_t *c = t->data;
    if (c->state == C_CONNECTING)
        conn_drop(c, "connect timed out");
    else if (c->state == C_DOWN)
        conn_start(c);
}

/* timer_cb_locked under the app lock (util/applock.h): a loop callback into shared state. */
static void timer_cb(uv_timer_t *t)
{
    pd_applock_enter();
    timer_cb_locked(t);
    pd_applock_leave();
}

static void on_connect_locked(const redisAsyncContext *ac, int status)
{
    rconn_t *c = ac->data;
    if (c == NULL || c->ac != ac)
        return;
    uv_timer_stop(&c->timer);
    if (status != REDIS_OK) { /* hiredis frees ac after this returns */
        conn_down(c, ac->errstr[0] ? ac->errstr : "connect failed");
        return;
    }
    c->state = C_UP;
    c->backoff_ms = PD_REDIS_BACKOFF_MIN_MS;
    c->busy_since_ms = pd__fsource_now_ms();
    c->st->connects++;
    c->st->down_seen = 0;
    note_state(c->st, NULL);
}

/* on_connect_locked under the app lock (util/applock.h): a loop callback into shared state. */
static void on_connect(const redisAsyncContext *ac, int status)
{
    pd_applock_enter();
    on_connect_locked(ac, status);
    pd_applock_leave();
}

static void on_disconnect_locked(const redisAsyncContext *ac, int status)
{
    rconn_t *c = ac->data;
    if (c == NULL || c->ac != ac) /* we took it away ourselves */
        return;
    conn_down(c, status == REDIS_OK ? "closed by the server" : ac->errstr);
}

/* on_disconnect_locked under the app lock (util/applock.h): a loop callback into shared state. */
static void on_disconnect(const redisAsyncContext *ac, int status)
{
    pd_applock_enter();
    on_disconnect_locked(ac, status);
    pd_applock_leave();
}

/* AUTH / SELECT answered: an error drops the connection. */
static void on_handshake_locked(redisAsyncContext *ac, void *r, void *priv)
{
    rconn_t *c = priv;
    redisReply *reply = r;
    c->pending--;
    c->st->pending--;
    if (reply != NULL && reply->type == REDIS_REPLY_ERROR && c->ac == ac) {
        pd_log_error("feature source %s: %s", c->st->display, reply->str);
        conn_drop(c, "AUTH or SELECT refused");
    }
}

/* on_handshake_locked under the app lock (util/applock.h): a loop callback into shared state. */
static void on_handshake(redisAsyncContext *ac, void *r, void *priv)
{
    pd_applock_enter();
    on_handshake_locked(ac, r, priv);
    pd_applock_leave();
}

static int handshake(rconn_t *c)
{
    const pd__redis_url_t *u = &c->st->url;
    char db[16];
    snprintf(db, sizeof db, "%u", u->db);
    int rc = REDIS_OK, n = 0;
    if (u->has_pass && u->user[0])
        rc = redisAsyncCommand(c->ac, on_handshake, c, "AUTH %s %s", u->user, u->pass), n++;
    else if (u->has_pass)
        rc = redisAsyncCommand(c->ac, on_handshake, c, "AUTH %s", u->pass), n++;
    if (rc == REDIS_OK && u->db != 0)
        rc = redisAsyncCommand(c->ac, on_handshake, c, "SELECT %s", db), n++;
    c->pending += (size_t)n;
    c->st->pending += (size_t)n;
    return rc == REDIS_OK ? 0 : PD_ENOMEM;
}

/* Connects to the numeric address ip. */
static void conn_connect(rconn_t *c, const char *ip)
{
    redisAsyncContext *ac = redisAsyncConnect(ip, c->st->url.port);
    if (ac == NULL || ac->err) {
        char why[128];
        snprintf(why, sizeof why, "%s", ac ? ac->errstr : "out of memory");
        if (ac != NULL)
            redisAsyncFree(ac);
        conn_down(c, why);
        return;
    }
    ac->data = c;
    c->ac = ac;
    c->why = NULL;
    c->state = C_CONNECTING;
    redisEnableKeepAlive(&ac->c);
    if (attach(ac, c->st->loop) < 0 || redisAsyncSetConnectCallback(ac, on_connect) != REDIS_OK ||
        redisAsyncSetDisconnectCallback(ac, on_disconnect) != REDIS_OK || handshake(c) < 0) {
        conn_drop(c, "out of memory");
        return;
    }
    uv_timer_start(&c->timer, timer_cb, PD_REDIS_CONNECT_TIMEOUT_MS, 0);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    rconn_t *c = req->data;
    pd_fstore_t *st = c->st;
    char ip[64] = "";
    c->gai_busy = 0;
    st->open_handles--;
    const struct addrinfo *a = status == 0 ? res : NULL; /* IPv4 first, as hiredis does */
    while (a != NULL && a->ai_family != AF_INET && a->ai_next != NULL)
        a = a->ai_next;
    if (a != NULL && a->ai_family != AF_INET)
        a = res;
    if (a != NULL && a->ai_family == AF_INET6)
        uv_ip6_name((const struct sockaddr_in6 *)(void *)a->ai_addr, ip, sizeof ip);
    else if (a != NULL)
        uv_ip4_name((const struct sockaddr_in *)(void *)a->ai_addr, ip, sizeof ip);
    uv_freeaddrinfo(res);
    if (st->closing) {
        if (st->open_handles == 0)
            store_free(st); /* the last thing out: see redis_close */
        return;
    }
    if (ip[0] == '\0') {
        conn_down(c, status < 0 ? uv_strerror(status) : "the host has no address");
        return;
    }
    conn_connect(c, ip);
}

static void conn_start(rconn_t *c)
{
    pd_fstore_t *st = c->st;
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, st->url.host, buf) == 1 || inet_pton(AF_INET6, st->url.host, buf) == 1) {
        conn_connect(c, st->url.host);
        return;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    c->gai.data = c;
    if (uv_getaddrinfo(st->loop, &c->gai, on_resolved, st->url.host, NULL, &hints) < 0) {
        conn_down(c, "cannot resolve the host");
        return;
    }
    c->state = C_RESOLVING;
    c->gai_busy = 1;
    st->open_handles++;
}

/* ---- lookups ---- */

static void on_reply_locked(redisAsyncContext *ac, void *r, void *priv)
{
    rconn_t *c = ac->data;
    pd_fetch_t *f = priv;
    redisReply *reply = r;
    c->pending--;
    c->st->pending--;
    c->busy_since_ms = pd__fsource_now_ms();
    if (reply == NULL) {
        pd__fetch_reply_end(f, PD__FREPLY_LOST, c->why ? c->why
                                                : ac->errstr[0] ? ac->errstr : "closed");
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        pd__fetch_reply_end(f, strncmp(reply->str, "WRONGTYPE", 9) == 0
                                   ? PD__FREPLY_WRONGTYPE : PD__FREPLY_ERROR, reply->str);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY) {
        pd__fetch_reply_end(f, PD__FREPLY_ERROR, "HMGET answered something else than a list");
        return;
    }
    for (size_t j = 0; pd__fetch_wanted(f) && j < reply->elements; j++) {
        const redisReply *e = reply->element[j];
        if (e->type == REDIS_REPLY_STRING)
            pd__fetch_cell(f, j, e->str, (size_t)e->len);
        else
            pd__fetch_cell(f, j, NULL, 0);
    }
    pd__fetch_reply_end(f, PD__FREPLY_OK, NULL);
}

/* on_reply_locked under the app lock (util/applock.h): a loop callback into shared state. */
static void on_reply(redisAsyncContext *ac, void *r, void *priv)
{
    pd_applock_enter();
    on_reply_locked(ac, r, priv);
    pd_applock_leave();
}

/* The up connection with the fewest replies pending, or NULL. */
static rconn_t *pick(pd_fstore_t *st)
{
    rconn_t *best = NULL;
    for (unsigned i = 0; i < st->n_conns; i++) {
        rconn_t *c = &st->conns[i];
        if (c->state == C_UP && c->ac != NULL && (best == NULL || c->pending < best->pending))
            best = c;
    }
    return best;
}

static int argv_fit(pd_fstore_t *st, size_t n)
{
    if (n <= st->argv_cap)
        return 0;
    const char **a = realloc(st->argv, n * sizeof *a);
    if (a != NULL)
        st->argv = a;
    size_t *l = realloc(st->argvlen, n * sizeof *l);
    if (l != NULL)
        st->argvlen = l;
    if (a == NULL || l == NULL)
        return PD_ENOMEM;
    st->argv_cap = n;
    return 0;
}

static int redis_send(pd_fstore_t *st, pd_fetch_t *f, const pd_fsource_spec_t *spec)
{
    rconn_t *c = pick(st);
    size_t argc = 2 + spec->n_features;
    if (c == NULL)
        return PD_ESHUTDOWN;
    if (st->pending + f->n_keys > st->max_pending)
        return PD_EFULL;
    if (argc > INT32_MAX || argv_fit(st, argc) < 0)
        return PD_ENOMEM;
    st->argv[0] = "HMGET";
    st->argvlen[0] = 5;
    for (size_t j = 0; j < spec->n_features; j++) {
        st->argv[2 + j] = spec->fields[j];
        st->argvlen[2 + j] = spec->field_lens[j];
    }
    if (c->pending == 0)
        c->busy_since_ms = pd__fsource_now_ms();
    for (size_t k = 0; k < f->n_keys; k++) {
        st->argv[1] = pd__fetch_key(f, k, &st->argvlen[1]);
        if (redisAsyncCommandArgv(c->ac, on_reply, f, (int)argc, st->argv, st->argvlen) !=
            REDIS_OK) {
            if (k == 0)
                return PD_ENOMEM;
            pd__fetch_truncate(f, k); /* what went out is answered; the rest is a 503 */
            break;
        }
        c->pending++;
        st->pending++;
    }
    return 0;
}

/* ---- life cycle ---- */

static void redis_tick(pd_fstore_t *st)
{
    uint64_t now = pd__fsource_now_ms();
    for (unsigned i = 0; i < st->n_conns; i++) {
        rconn_t *c = &st->conns[i];
        if (c->state == C_UP && c->pending > 0 && now - c->busy_since_ms > PD_REDIS_STALL_MS)
            conn_drop(c, "no reply for PD_REDIS_STALL_MS (10 s)");
    }
}

static void redis_stats(const pd_fstore_t *st, pd_fstore_stats_t *out)
{
    out->up = 0;
    for (unsigned i = 0; i < st->n_conns; i++)
        out->up += st->conns[i].state == C_UP;
    out->connects = st->connects;
    out->pending = st->pending;
}

static void store_free(pd_fstore_t *st)
{
    free(st->display);
    free(st->argv);
    free(st->argvlen);
    free(st);
}

static void timer_closed(uv_handle_t *h)
{
    pd_fstore_t *st = ((rconn_t *)h->data)->st;
    if (--st->open_handles == 0)
        store_free(st);
}

static int redis_open(pd_fstore_t **out, uv_loop_t *loop, const char *url, const char *display,
                      const pd_fsource_options_t *o)
{
    char err[160];
    int rc = PD_ENOMEM;
    unsigned n = o->connections ? o->connections : 1;
    pd_fstore_t *st = calloc(1, sizeof *st + n * sizeof(rconn_t));
    if (st == NULL)
        return PD_ENOMEM;
    if ((st->display = strdup(display)) == NULL)
        goto fail;
    rc = pd__redis_url_parse(url, &st->url, err, sizeof err); /* checked when parsed */
    if (rc < 0)
        goto fail;
    st->loop = loop;
    st->max_pending = o->max_pending;
    st->n_conns = n;
    st->logged = PD_FSTORE_CONNECTING;
    for (unsigned i = 0; i < n; i++) {
        rconn_t *c = &st->conns[i];
        c->st = st;
        c->backoff_ms = PD_REDIS_BACKOFF_MIN_MS;
        uv_timer_init(loop, &c->timer);
        uv_unref((uv_handle_t *)&c->timer);
        c->timer.data = c;
        st->open_handles++;
    }
    for (unsigned i = 0; i < n; i++)
        conn_start(&st->conns[i]);
    *out = st;
    return 0;
fail:
    store_free(st);
    return rc;
}

static void redis_close(pd_fstore_t *st)
{
    st->closing = 1;
    for (unsigned i = 0; i < st->n_conns; i++) {
        rconn_t *c = &st->conns[i];
        if (c->ac != NULL)
            conn_drop(c, "the source was closed");
        c->state = C_CLOSED;
        if (c->gai_busy)
            uv_cancel((uv_req_t *)&c->gai); /* its callback still comes (ECANCELED) */
        uv_close((uv_handle_t *)&c->timer, timer_closed);
    }
}

const pd_fsource_ops_t pd_fsource_redis = {
    .kind = "redis",
    .check = redis_check,
    .open = redis_open,
    .state = redis_state,
    .send = redis_send,
    .tick = redis_tick,
    .stats = redis_stats,
    .close = redis_close,
};
