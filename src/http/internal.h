/* internal.h - the HTTP server's private structures, shared by parser.c, response.c,
 * request.c, conn.c and server.c. Not for use outside src/http/ (and its unit tests).
 *
 * Ownership: the server owns every connection (all-list) and every request that is not
 * handed to a handler; a request handed to a handler (PD__REQ_HANDLER) is owned by the
 * handler until pd_http_respond. A request sits in exactly one place: a connection's queue,
 * the server's detached list (its connection died while a handler held it) or the free list. */
#ifndef PD_HTTP_INTERNAL_H
#define PD_HTTP_INTERNAL_H

#include <llhttp.h>

#include "common.h"
#include "http/http.h"

/* Request states. */
enum {
    PD__REQ_PARSING = 0, /* headers/body still arriving */
    PD__REQ_HANDLER = 1, /* given to a handler, unanswered */
    PD__REQ_ANSWERED = 2 /* response in req->out, waiting for its turn / its write */
};

/* Largest number of recycled request objects kept, and largest buffer kept per object. */
#define PD__REQ_POOL_MAX 1024
#define PD__REQ_KEEP_BUF (4u * 1024u) /* typical request + answer fit; bounds what
                                        * 1,024 recycled objects retain to ~12 MiB */
/* Responses gathered into one write. */
#define PD__WRITE_BATCH 64
/* Size of the loop-wide read buffer every connection reads into. */
#define PD__READ_BUF (64u * 1024u)

/* ---- parser.c: llhttp + request assembly + limits, independent of sockets ---- */
typedef struct pd__parser_s pd__parser_t;
typedef struct {
    /* Returns a fresh request (state PARSING) or NULL when out of memory. */
    pd_http_request_t *(*req_new)(void *owner);
    /* A request is complete. Return 0 to go on parsing, 1 to pause (no more messages). */
    int (*req_done)(void *owner, pd_http_request_t *req);
    /* The request asked for "Expect: 100-continue" and its body is acceptable. */
    void (*expect_continue)(void *owner, pd_http_request_t *req);
} pd__parser_cbs_t;

struct pd__parser_s {
    llhttp_t llh;
    const pd_http_options_t *opts;
    const pd__parser_cbs_t *cbs;
    void *owner;
    pd_http_request_t *cur;  /* the request being parsed, or NULL */
    const char *mark;        /* where the current message's header bytes start in this chunk */
    uint32_t hdr_bytes;      /* header bytes counted in earlier chunks */
    uint8_t in_headers;      /* between message begin and headers complete */
    uint8_t field_open;      /* a header name is being received */
    int err_status;          /* status chosen by a callback that failed (413, 431, 503) */
    uint64_t now_ns;         /* receive time stamped on requests begun in this chunk */
    size_t body_expect;      /* the current body's Content-Length, or SIZE_MAX */
    uint32_t nbegun;         /* messages begun so far (tells a new request from the last) */
    uint64_t *charge;        /* body bytes are added here and to cur->charged (the
                                server's buffered_bytes), or NULL */
    uint8_t body_progress;   /* body bytes arrived since the owner last cleared it */
};

#define PD__PARSE_OK 0
#define PD__PARSE_PAUSED 1

/* Prepares p; opts and cbs are borrowed for p's lifetime. */
void pd__parser_init(pd__parser_t *p, const pd_http_options_t *opts, const pd__parser_cbs_t *cbs,
                     void *owner);
/* Feeds bytes. Returns PD__PARSE_OK (all consumed), PD__PARSE_PAUSED (*consumed set: the
 * owner paused; resume with pd__parser_resume and feed the rest), or an HTTP error status
 * (400, 413, 431, 500): the connection must answer it and close; p->cur (may be NULL) is
 * the broken request, which the owner takes. */
int pd__parser_feed(pd__parser_t *p, const char *data, size_t len, size_t *consumed);
/* Allows parsing after PD__PARSE_PAUSED. */
void pd__parser_resume(pd__parser_t *p);
/* 1 while a message has begun and is not complete. */
int pd__parser_busy(const pd__parser_t *p);
/* Gives up the message being received (its client half-closed): returns it (the owner
 * takes it) or NULL; p must not be fed again. */
pd_http_request_t *pd__parser_abandon(pd__parser_t *p);

/* ---- request.c ---- */
/* A zeroed request with empty buffers, or NULL. */
pd_http_request_t *pd__req_new(void);
/* Clears a request for reuse, keeping buffers up to PD__REQ_KEEP_BUF. */
void pd__req_reset(pd_http_request_t *req);
/* Frees a request and its buffers. Accepts NULL. */
void pd__req_free(pd_http_request_t *req);
/* Copies a match's parameter values into req (names keep pointing into the router).
 * Returns 0 or PD_ENOMEM. */
int pd__req_set_params(pd_http_request_t *req, const pd_route_params_t *p);

/* ---- request_id.c ---- */
/* 1 when s[0, len) is an id kept from a client (see pd_http_request_id), else 0. */
int pd__request_id_valid(const char *s, size_t len);
/* Writes a new id (NUL-terminated) into out; returns its length. Any thread. */
size_t pd__request_id_generate(char out[PD_HTTP_REQUEST_ID_MAX + 1]);
/* Sets req->request_id from its X-Request-Id header or a new one, unless already set. */
void pd__req_assign_id(pd_http_request_t *req);

/* ---- response.c ---- */
/* Length of an IMF-fixdate. */
#define PD__HTTP_DATE_LEN PD_LIT_LEN("Sun, 06 Nov 1994 08:49:37 GMT")

/* The reason phrase for a status ("Not Found"), "Unknown" for unknown codes. */
const char *pd__status_reason(int status);
/* Writes the current IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", PD__HTTP_DATE_LEN
 * chars + NUL) into out, formatting at most once per second per thread. */
void pd__http_date(char out[32]);
/* Formats a whole response into b (reset first). keep_alive adds nothing for HTTP/1.1 and
 * "Connection: keep-alive" for HTTP/1.0; !keep_alive adds "Connection: close";
 * request_id (NULL or "": none) adds "X-Request-Id: <id>" (it must hold no CR/LF and be
 * at most PD_HTTP_REQUEST_ID_MAX bytes). Returns 0 or PD_ENOMEM/PD_ETOOBIG. */
int pd__response_format(pd_buf_t *b, int status, const char *content_type, const char *extra,
                        const char *body, size_t len, int keep_alive, int http_minor,
                        const char *request_id);

/* ---- conn.c / server.c ---- */
struct pd_http_conn_s {
    uv_tcp_t tcp;
    pd__parser_t parser;
    pd_http_server_t *srv;
    pd_list_t queue;                 /* its requests (pd_http_request_t.link), in order */
    uint32_t nqueued;
    pd_list_t node;                  /* in srv->conns until pd__conn_close */
    pd_list_t tnode;                 /* in the timeout list named by tlist */
    pd_list_t dnode;                 /* in srv->dirty while it needs a flush */
    uint64_t deadline;               /* loop ms when the timeout fires */
    uint32_t timed_seq;              /* parser.nbegun of the request the io deadline is for */
    uv_write_t *wreq;                /* allocated when a write could not finish at once */
    char *stash;                     /* unparsed bytes kept while paused */
    size_t stash_len;
    uint32_t nwriting;               /* requests at the head whose bytes are in wreq */
    size_t wq_mark;                  /* bytes of wreq still unwritten at the last deadline */
    uint8_t tlist;                   /* PD__TL_* */
    uint8_t reading, closing, closed, stop_parsing, wclose;
    uint8_t eof;                     /* the client half-closed: answer what is queued, close */
    uint8_t budget_wait;             /* in srv->budget_wait (bnode), not read */
    uint8_t budget_exempt;           /* resumed to break a stall: its body may finish */
    uint32_t exempt_seq;             /* parser.nbegun of the body that may finish */
    size_t wait_charged;             /* its partial body's bytes while waiting */
    pd_list_t bnode;                 /* in srv->budget_wait while budget_wait */
};

/* Timeout lists: IDLE keep-alive (keepalive_ms), IO a request arriving or a blocked write
 * (header_timeout_ms), LINGER reading after our FIN, or an idle connection's grace while
 * draining (linger_ms). */
enum { PD__TL_NONE = 0, PD__TL_IDLE = 1, PD__TL_IO = 2, PD__TL_LINGER = 3 };

/* Timeout list (of pd_http_conn_t.tnode): every member has the same timeout, so appending
 * keeps it sorted by deadline. */
typedef struct {
    pd_list_t conns;
    uint32_t timeout_ms;
} pd__tlist_t;

struct pd_http_server_s {
    uv_loop_t *loop;
    uv_poll_t lpoll;           /* watches lfd (initialized by listen) */
    int lfd;                   /* the listening socket, or -1 */
    int reserve_fd;            /* /dev/null, given up to answer 503 at the fd limit; or -1 */
    uv_timer_t accept_retry;   /* while accepting is paused at the fd limit */
    uint64_t fd_log_ms;        /* loop time of the last fd-limit log line */
    unsigned fd_log_quiet;     /* fd-limit 503s not logged since */
    uint8_t accept_paused;
    uv_timer_t timer;          /* fires at the earliest connection deadline */
    uv_timer_t shutdown_timer;
    uv_check_t flush_check;    /* flushes dirty connections once per loop iteration */
    uv_idle_t flush_idle;      /* active while some are dirty: the loop turns to flush */
    pd_http_options_t opts;
    const pd_router_t *router;
    pd_http_hooks_t hooks;
    pd_http_stats_t stats;
    pd_list_t conns;           /* all open connections (pd_http_conn_t.node), newest first */
    pd_list_t dirty;           /* connections with answered requests to write (.dnode) */
    pd__tlist_t idle, io, linger;
    pd_list_t free_reqs;       /* recycled requests (.link), used as a LIFO */
    uint32_t nfree;
    pd_list_t detached;        /* requests whose connection died, held by handlers */
    pd_list_t budget_wait;     /* connections waiting for the buffer budget (.bnode), FIFO */
    uint64_t wait_partial;     /* bytes of the partial bodies of those connections */
    uv_idle_t budget_idle;     /* runs the resumes decided by pd__srv_budget_kick */
    pd_buf_t errbody;          /* hooks.error_body's output, copied by the respond */
    char *readbuf;             /* PD__READ_BUF bytes, shared by every read */
    int port;
    uint8_t listening, draining, drained, handles_open;
    unsigned cut_off;
};

/* conn.c */
/* Takes an accepted, non-blocking socket fd as a new connection (the fuzz target feeds
 * socket pairs through here too); over_fd_limit, or over max_connections: answer 503
 * and close. */
void pd__conn_accept_fd(pd_http_server_t *srv, int fd, int over_fd_limit);
/* Starts closing a connection: aborts unanswered requests, frees the rest. */
void pd__conn_close(pd_http_conn_t *c);
/* Called when the server starts draining: closes the connection if it is idle. */
void pd__conn_drain(pd_http_conn_t *c);
/* The connection's deadline passed. */
void pd__conn_timeout(pd_http_conn_t *c);
/* The oldest request of c's queue, or NULL when it is empty. */
pd_http_request_t *pd__conn_queue_first(const pd_http_conn_t *c);
/* Releases the written request at the head of c's queue (back to the server's free list). */
void pd__conn_release_head(pd_http_conn_t *c);
/* Ends c after a response that closes it: shuts its write side down, then lingers reading
 * (and discarding) until EOF or linger_ms, so that the client sees the answer. */
void pd__conn_finish(pd_http_conn_t *c);
/* Resumes parsing after a pipeline pause once the queue has room again (what was stashed
 * first, then reading), unless the connection is closing, reading already or waits for
 * the budget. */
void pd__conn_resume(pd_http_conn_t *c);
/* Stops reading from c (backpressure while a write is pending). */
void pd__conn_read_stop(pd_http_conn_t *c);
/* Re-arms c's deadline for its state: idle keep-alive, receiving a request, or writing. */
void pd__conn_update_timer(pd_http_conn_t *c);

/* conn_write.c */
/* Bytes written to c and not yet acknowledged by the client (libuv's queue plus the
 * kernel's send queue): it shrinks exactly when the client reads. */
size_t pd__conn_unsent(pd_http_conn_t *c);
/* Writes the answered requests at the head of the queue (from the flush check). */
void pd__conn_flush(pd_http_conn_t *c);

/* server.c */
pd_http_request_t *pd__srv_req_get(pd_http_server_t *srv);
void pd__srv_req_put(pd_http_server_t *srv, pd_http_request_t *req);
void pd__srv_mark_dirty(pd_http_server_t *srv, pd_http_conn_t *c);
void pd__srv_tl_set(pd_http_server_t *srv, pd_http_conn_t *c, int which);
void pd__srv_conn_gone(pd_http_server_t *srv, pd_http_conn_t *c);
/* Buffered bytes were given back or a connection started waiting: resume waiting
 * connections (on the next loop turn) while there is room, or the oldest one alone when
 * every byte held belongs to waiting bodies (which would otherwise wait forever). */
void pd__srv_budget_kick(pd_http_server_t *srv);
/* conn.c: ends c's wait for the budget and resumes reading (exempt: let its current body
 * finish whatever the budget says). */
void pd__conn_budget_resume(pd_http_conn_t *c, int exempt);
/* A connection's descriptor was closed: re-open the reserve, resume accepting. */
void pd__srv_fd_freed(pd_http_server_t *srv);
/* Re-opens the reserve and resumes a paused listener. */
void pd__srv_accept_resume(pd_http_server_t *srv);
void pd__srv_check_drained(pd_http_server_t *srv);

/* Starts accepting on fd, a listening socket (listen.c); the server owns it from then on.
 * Returns 0 or PD_ENOMEM (fd is then still the caller's). */
int pd__srv_adopt_listener(pd_http_server_t *srv, int fd);

#endif
