/* http.h - predictd's HTTP/1.1 server on one libuv loop: the public API that endpoints
 * (src/api/) and the CLI (src/cli/serve.c) build on.
 *
 * Model: the server owns the listening socket and every connection; the app owns the
 * uv_loop_t and the router. For each complete request (headers + de-chunked body) the
 * server calls the route's handler on the loop thread (or the router's fallback for 404
 * and 405). The handler answers with pd_http_respond() either right away or LATER (e.g.
 * after a worker pool finished), always from the loop thread. Responses of one connection
 * go out in request order (pipelining). The server knows no protocol's bodies: the app
 * shapes 404/405 (router fallback) and the server's own errors (hooks.error_body).
 *
 * Request lifetime: a pd_http_request_t handed to a handler stays valid until the handler
 * (or whoever it passed the request to) calls pd_http_respond() on it - exactly once -
 * even if the connection closed meanwhile. When a connection goes away with an unanswered
 * request - a reset, a failed write, a timeout; not a half-close (the client's EOF after its
 * requests: those are still answered, see conn.c) - the server calls the request's abort
 * callback (pd_http_request_on_abort) on the loop thread; respond must still be called
 * afterwards, and then only frees the request.
 *
 * Threading: every function here must be called on the loop thread. */
#ifndef PD_HTTP_H
#define PD_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http/router.h"
#include "util/buf.h"
#include "util/list.h"

/* Defaults of the limits, each one a field of pd_http_options_t. `predictd serve` exposes
 * max_connections, max_header_size, max_body_size and the keep-alive, header, shutdown and
 * linger timeouts as flags; max_headers, max_pipeline and backlog are set only through the
 * struct. */
#define PD_HTTP_DEFAULT_MAX_CONNECTIONS 20000
#define PD_HTTP_DEFAULT_MAX_HEADER_SIZE (16u * 1024u)      /* request line + headers -> 431 */
#define PD_HTTP_DEFAULT_MAX_HEADERS 100                     /* header lines -> 431 */
#define PD_HTTP_MAX_HEADERS_LIMIT 100                       /* largest max_headers (a request
                                                               keeps this many offsets) */
#define PD_HTTP_DEFAULT_MAX_BODY_SIZE (16u * 1024u * 1024u) /* -> 413: 10,000 rows of a wide model */
#define PD_HTTP_DEFAULT_KEEPALIVE_MS 5000                   /* idle keep-alive -> silent close */
#define PD_HTTP_DEFAULT_HEADER_TIMEOUT_MS 10000             /* -> 408: headers not complete
                                                               this long after the request's
                                                               first byte, or a body that
                                                               made no progress this long */
#define PD_HTTP_DEFAULT_SHUTDOWN_TIMEOUT_MS 30000
#define PD_HTTP_DEFAULT_LINGER_MS 1000                      /* reading after our FIN; and on
                                                               shutdown, how long an idle
                                                               keep-alive connection stays
                                                               open for a last request */
#define PD_HTTP_DEFAULT_MAX_PIPELINE 64                     /* unanswered requests per connection */
#define PD_HTTP_DEFAULT_BACKLOG 4096                       /* pending accepts (listen) */
#define PD_HTTP_DEFAULT_BUFFER_BUDGET ((size_t)256 << 20)   /* bodies + answers held, all
                                                               connections together */
#define PD_HTTP_ERROR_BODY_MAX 4096                         /* a body from hooks.error_body */
#define PD_HTTP_TEXT_PLAIN "text/plain; charset=utf-8"      /* the server's default bodies */
#define PD_HTTP_REQUEST_ID_MAX 128                          /* longest X-Request-Id kept from
                                                               a client (request_id.c) */

typedef struct pd_http_server_s pd_http_server_t;
typedef struct pd_http_conn_s pd_http_conn_t;
typedef struct pd_http_request_s pd_http_request_t;

/* Called on the loop thread when the connection of an unanswered request went away. */
typedef void (*pd_http_abort_cb)(pd_http_request_t *req, void *arg);

/* One request. Handlers read the public fields; everything below "private" belongs to the
 * server. All strings are NUL-terminated and live as long as the request. */
struct pd_http_request_s {
    const char *method;       /* "GET", "POST", ... (static storage) */
    const char *path;         /* percent-encoded path without the query, e.g. "/health" */
    const char *query;        /* the part after '?', or "" */
    const char *content_type; /* the Content-Type value, or NULL when absent */
    const char *body;         /* de-chunked body, NUL-terminated; "" when empty */
    size_t body_len;
    int keep_alive;           /* the connection stays open after this response */
    int http_minor;           /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
    uint64_t recv_ns;         /* uv_hrtime() when the request's first bytes were read */
    void *user;               /* free for the handler (NULL initially) */
    void *route_ctx;          /* the ctx given to pd_router_add for the matched route;
                                 NULL for the router's fallback */
    const char *route;        /* the matched route's pattern ("/v1/models/{name}:predict",
                                 lives as long as the router); NULL for the fallback; for
                                 the server's own errors (408, 413, ...) the route of the
                                 path when the headers were complete, else NULL */
    int route_status;         /* 0 when a route matched; 404 or 405 when the router's
                                 fallback handler got the request */
    const char *allow;        /* for 405: the path's methods ("GET, POST"), else "" */

    /* ---- private ---- */
    pd_http_server_t *srv;
    pd_http_conn_t *conn;     /* NULL once the connection is gone */
    pd_list_t link;           /* in exactly one list: the connection's queue (request
                                 order), the server's detached list or its free list */
    pd_http_abort_cb abort_cb;
    void *abort_arg;
    int state;                /* PD__REQ_* (internal.h) */
    size_t charged;           /* bytes of body_buf and out counted in the server's
                                 buffered_bytes (given back when it is recycled) */
    int status;               /* response status once answered */
    uint32_t nparams;         /* the matched route's {params} (values in params_buf) */
    struct {
        const char *name;     /* into the router's pattern, not NUL-terminated */
        uint32_t name_len, off;
    } params[PD_ROUTER_MAX_PARAMS];
    int close_after;          /* close the connection after this response */
    char request_id[PD_HTTP_REQUEST_ID_MAX + 1]; /* see pd_http_request_id; "" until
                                 assigned (request_id.c) */
    uint32_t nheaders;
    uint32_t hdr_off[PD_HTTP_MAX_HEADERS_LIMIT][2]; /* name/value offsets into raw */
    char allow_buf[PD_ROUTER_ALLOW_MAX]; /* what allow points to for a 405 */
    pd_buf_t raw;             /* url + header strings, NUL-separated */
    pd_buf_t body_buf;        /* the de-chunked body */
    pd_buf_t out;             /* the formatted response (status line to body) */
    pd_buf_t params_buf;      /* decoded {param} values, each NUL-terminated */
};

/* Observability hooks, all optional (NULL), all called on the loop thread with `ud`.
 * The request passed is valid only during the call. */
typedef struct {
    void *ud;
    /* Right before a route's handler runs (e.g. set the loop monitor's context), and
     * before a request's abort callback (pd_http_request_on_abort) runs; not around the
     * router's fallback, which answers 404/405. */
    void (*before_handler)(void *ud, const pd_http_request_t *req);
    /* Right after the handler (or the abort callback) returned (it may have answered and
     * so recycled the request, which is why the request is not passed). */
    void (*after_handler)(void *ud);
    /* When a response was formatted (also for 400/408/413/431/500/501/503 the server answers
     * itself; then method/path are "-" when unknown). duration_ns is from recv_ns. */
    void (*after_response)(void *ud, const pd_http_request_t *req, int status,
                           size_t bytes_out, uint64_t duration_ns);
    /* Formats the body of an answer the server gives itself - 400 (malformed request),
     * 408, 413, 431, 500, 501 (a transfer coding other than chunked) and 503 (over
     * max_connections or the fd limit) - in the app's protocol: append
     * the body to `body` (empty on entry; the server's, valid during the call, at most
     * PD_HTTP_ERROR_BODY_MAX bytes) and set *content_type to a string that outlives the
     * server (e.g. a literal). Return 0, or a negative PD_E* code to get the default: the
     * reason phrase as text/plain. req is valid during the call; its method and path are
     * "-" when they were not received. NULL: always the default. */
    int (*error_body)(void *ud, const pd_http_request_t *req, int status,
                      const char **content_type, pd_buf_t *body);
    /* Shutdown began (listener closed, readiness is now false). */
    void (*on_drain_start)(void *ud);
    /* Shutdown finished; cut_off counts requests closed unanswered or half received
     * because --shutdown-timeout passed (0 on a clean drain). */
    void (*on_drained)(void *ud, unsigned cut_off);
} pd_http_hooks_t;

typedef struct {
    uint32_t max_connections;
    uint32_t max_header_size;
    uint32_t max_headers;     /* 1..PD_HTTP_MAX_HEADERS_LIMIT; 0 = the default */
    uint32_t max_body_size;
    uint32_t max_pipeline;    /* 0 counts as 1 */
    uint32_t keepalive_ms;
    uint32_t header_timeout_ms;
    uint32_t shutdown_timeout_ms;
    uint32_t linger_ms;       /* a connection the server closes reads (and discards) this
                                 long after its FIN, so the client sees the last answer
                                 rather than a reset; draining, an idle keep-alive
                                 connection waits this long (answering a request that
                                 arrives with Connection: close) before its FIN */
    uint32_t backlog;         /* 0 = the default */
    size_t buffer_budget;     /* process-wide bytes of request bodies (until answered) and
                                 formatted answers (until written) the server holds; past
                                 it, a connection receiving a body is not read (after at
                                 most one more read of 64 KiB) until the held bytes drain
                                 below it; header-only requests go on. Answers are never
                                 refused and are sent whole, so the answers of bodies
                                 admitted under the budget may pass it (a 422 that echoes
                                 its body is 6x the body): then no body is read until they
                                 are written. 0 = the default */
    int access_log;           /* log one INFO line per response */
} pd_http_options_t;

/* Counters, readable any time on the loop thread. */
typedef struct {
    uint64_t open_connections;
    uint64_t requests_in_flight;     /* parsed and not yet answered (incl. detached) */
    uint64_t accepted_total;         /* connections accepted (incl. rejected ones) */
    uint64_t requests_total;         /* requests answered */
    uint64_t rejected_connections;   /* over max_connections -> 503 */
    uint64_t rejected_fd_limit;      /* accepted with the reserve fd at the open-file
                                        limit -> 503 */
    uint64_t rejected_header_size;   /* 431 */
    uint64_t rejected_body_size;     /* 413 */
    uint64_t rejected_timeout;       /* 408 */
    uint64_t rejected_malformed;     /* 400, and 501 for a transfer coding not supported */
    uint64_t idle_closed;            /* keep-alive connections closed for idleness */
    uint64_t buffered_bytes;         /* bodies and answers held now (see buffer_budget) */
    uint64_t budget_waits;           /* times a connection stopped being read for it */
    uint64_t budget_waiting;         /* connections not read now because of it */
} pd_http_stats_t;

/* Fills *o with the defaults above. */
void pd_http_options_default(pd_http_options_t *o);

/* Creates a server on `loop` (not yet listening). `router` is borrowed and must outlive the
 * server; routes may be added until pd_http_server_listen. `opts` and `hooks` (may be
 * NULL) are copied; hooks->ud must outlive the server.
 * Returns 0, PD_ENOMEM or PD_EINVAL (no loop or router, max_headers over its limit). */
int pd_http_server_create(pd_http_server_t **out, uv_loop_t *loop, const pd_http_options_t *opts,
                          const pd_router_t *router, const pd_http_hooks_t *hooks);
/* Binds and listens on host:port (IPv4 or IPv6 literal). Returns 0, PD_EINVAL (bad
 * address) or PD_EIO with a message in errbuf (e.g. "address already in use"). */
int pd_http_server_listen(pd_http_server_t *srv, const char *host, int port, char *errbuf,
                          size_t errlen);
/* pd_http_server_listen, and with reuseport nonzero the socket also gets SO_REUSEPORT, so
 * that the server of every event loop binds its own socket to the same port (serve
 * --loops) and the kernel spreads connections over them: PD_HTTP_REUSEPORT_FIRST for the
 * first loop (the port must be free: bound by no one, not even with SO_REUSEPORT, so that
 * two servers never share a port by accident), PD_HTTP_REUSEPORT_JOIN for the others.
 * When the system refuses SO_REUSEPORT, returns PD_EIO with *unsupported (may be NULL)
 * set to 1: share one socket instead. */
#define PD_HTTP_REUSEPORT_FIRST 1
#define PD_HTTP_REUSEPORT_JOIN 2
int pd_http_server_listen_reuseport(pd_http_server_t *srv, const char *host, int port,
                                    int reuseport, int *unsupported, char *errbuf,
                                    size_t errlen);
/* Accepts from a duplicate of first's listening socket (first must listen; both servers'
 * loops then accept from the one socket). For loops where SO_REUSEPORT is unavailable.
 * Returns 0, PD_EINVAL or PD_EIO with a message in errbuf. */
int pd_http_server_listen_shared(pd_http_server_t *srv, const pd_http_server_t *first,
                                 char *errbuf, size_t errlen);
/* The port actually bound (useful with port 0), or -1. */
int pd_http_server_port(const pd_http_server_t *srv);
/* Starts a graceful shutdown: stop accepting, readiness false, finish every request in
 * flight (their answers say Connection: close), close idle keep-alive connections
 * gracefully (a request already sent is answered with Connection: close; after linger_ms
 * without one, FIN, then linger); after shutdown_timeout_ms close what is left. When all
 * is done the server's handles are closed, so uv_run returns once the app closed its own.
 * Idempotent. */
void pd_http_server_shutdown(pd_http_server_t *srv);
/* 1 while the server listens and is not draining. */
int pd_http_server_ready(const pd_http_server_t *srv);
/* 1 once pd_http_server_shutdown was called. */
int pd_http_server_draining(const pd_http_server_t *srv);
/* 1 once the drain finished (all connections closed). */
int pd_http_server_drained(const pd_http_server_t *srv);
/* The counters; the pointer lives as long as the server. */
const pd_http_stats_t *pd_http_server_stats(const pd_http_server_t *srv);
/* The options in force (defaults filled in); the pointer lives as long as the server. */
const pd_http_options_t *pd_http_server_options(const pd_http_server_t *srv);
/* Frees the server. Call after uv_run returned (drained), and after the app answered every
 * request it held: a later pd_http_respond would use freed memory. Accepts NULL. */
void pd_http_server_destroy(pd_http_server_t *srv);

/* Answers `req`: formats status line, Date, Server, Content-Type (omitted when NULL),
 * Content-Length, Connection, X-Request-Id (pd_http_request_id) and `extra_headers`
 * (complete "Name: value\r\n" lines, or NULL), then copies `body` (len bytes). After the
 * call `req` must not be used: it is sent (in order) and recycled by the server, or just
 * freed if its connection is gone.
 * Returns 0, or PD_ENOMEM (the connection is then closed; req is still consumed). */
int pd_http_respond(pd_http_request_t *req, int status, const char *content_type,
                    const char *extra_headers, const char *body, size_t len);
/* Shorthand: a JSON body (content type application/json). */
int pd_http_respond_json(pd_http_request_t *req, int status, const char *json, size_t len);
/* Registers `cb(req, arg)` to run if the connection goes away (is reset, fails a write,
 * times out - a half-close does not count) before the answer; replaces an earlier
 * registration. `arg` is borrowed until respond. */
void pd_http_request_on_abort(pd_http_request_t *req, pd_http_abort_cb cb, void *arg);
/* 1 while the request's connection is still open. */
int pd_http_request_connected(const pd_http_request_t *req);
/* The percent-decoded value of the matched route's parameter `name` ("{name}" in its
 * pattern), NUL-terminated, or NULL when the route has no such parameter. Valid as long as
 * req. */
const char *pd_http_request_param(const pd_http_request_t *req, const char *name);
/* The value of header `name` (case-insensitive), or NULL. Valid as long as req. */
const char *pd_http_request_header(const pd_http_request_t *req, const char *name);
/* The peer of req's connection as a numeric address ("127.0.0.1", "::1"; an IPv4-mapped
 * IPv6 peer is given as IPv4) in addr (addrlen >= 46) and its port in *port. Returns 0, or
 * PD_ENOTFOUND when the connection is gone or the address cannot be read (addr is then ""
 * and *port 0). Asks the kernel each time (getpeername): for the access log, not per-byte
 * work. */
int pd_http_request_peer(const pd_http_request_t *req, char *addr, size_t addrlen, int *port);
/* The request's id, echoed as X-Request-Id in its answer and written in its access line:
 * the client's X-Request-Id when it is 1..PD_HTTP_REQUEST_ID_MAX bytes of printable ASCII
 * without space, '"' or '\\', else one generated (unique in the process). Such an id needs
 * no escaping in a header, a JSON string or a log line. Assigned before the route's handler
 * runs, so a handler (or a worker it hands req to) may read it; for an answer the server
 * gives itself (400, 408, 413, ...) it is assigned when answered. The string lives as long
 * as req. */
const char *pd_http_request_id(const pd_http_request_t *req);
/* The server that received req (e.g. to read its readiness). */
pd_http_server_t *pd_http_request_server(const pd_http_request_t *req);

#endif
