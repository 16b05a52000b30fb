/* test_http_async.c - the contract endpoints build on, with a real server on loopback:
 * handlers that answer later still answer in request order; a request whose connection
 * was reset stays valid, gets its abort callback, and is freed by respond; a client that
 * half-closed (shutdown(SHUT_WR)) after its request still gets the answer; a graceful
 * shutdown waits for unanswered requests. The client runs in a thread with blocking
 * sockets; the server's loop runs in the test thread. All waits are bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common.h"
#include "http/http.h"

typedef struct {
    uv_loop_t loop;
    uv_timer_t timer;
    pd_router_t router;
    pd_http_server_t *srv;
    pd_http_hooks_t hooks;
    pd_http_request_t *held[8];
    int nheld;
    int aborts;
    int drained;
    int after_responses;
    int port;
    /* client thread */
    char reply[4096];
    size_t reply_len;
    int mode; /* 0: pipelined order test, 1: disconnect (reset) test, 2: half-close test */
    int ticks;
} fx_t;

static void on_abort(pd_http_request_t *req, void *arg)
{
    (void)req;
    ((fx_t *)arg)->aborts++;
}

static void defer_handler(pd_http_request_t *req, void *ctx)
{
    fx_t *f = ctx;
    f->held[f->nheld++] = req;
    pd_http_request_on_abort(req, on_abort, f);
}

static void now_handler(pd_http_request_t *req, void *ctx)
{
    (void)ctx;
    pd_http_respond(req, 200, "text/plain", NULL, PD_LIT("now"));
}

static void on_drained(void *ud, unsigned cut)
{
    fx_t *f = ud;
    assert_int_equal(cut, 0);
    f->drained = 1;
    uv_close((uv_handle_t *)&f->timer, NULL);
}

static void after_response(void *ud, const pd_http_request_t *r, int st, size_t n, uint64_t d)
{
    (void)r; (void)st; (void)n; (void)d;
    ((fx_t *)ud)->after_responses++;
}

static int connect_to(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(s);
        return -1;
    }
    return s;
}

static void *client(void *arg)
{
    fx_t *f = arg;
    int s = connect_to(f->port);
    if (s < 0)
        return NULL;
    if (f->mode == 0) {
        const char req[] = "GET /defer HTTP/1.1\r\n\r\nGET /defer HTTP/1.1\r\n\r\n"
                           "GET /now HTTP/1.1\r\nConnection: close\r\n\r\n";
        if (write(s, req, sizeof req - 1) < 0)
            return NULL;
        ssize_t n; /* read until the server closes (bounded by SO_RCVTIMEO) */
        while (f->reply_len < sizeof f->reply - 1 &&
               (n = read(s, f->reply + f->reply_len, sizeof f->reply - 1 - f->reply_len)) > 0)
            f->reply_len += (size_t)n;
    } else if (f->mode == 1) {
        const char req[] = "GET /defer HTTP/1.1\r\n\r\n";
        if (write(s, req, sizeof req - 1) < 0)
            return NULL;
        usleep(100000);
        struct linger lg = {1, 0}; /* close with a reset: the client is gone */
        setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    } else {
        /* a request, the start of another, then shutdown(SHUT_WR): the client still reads */
        const char req[] = "GET /defer HTTP/1.1\r\n\r\nGET /now HTTP/1.1\r\nHost:";
        if (write(s, req, sizeof req - 1) < 0 || shutdown(s, SHUT_WR) < 0)
            return NULL;
        ssize_t n;
        while (f->reply_len < sizeof f->reply - 1 &&
               (n = read(s, f->reply + f->reply_len, sizeof f->reply - 1 - f->reply_len)) > 0)
            f->reply_len += (size_t)n;
    }
    close(s);
    return NULL;
}

/* Timer: once the handler holds both deferred requests, answer the SECOND first. */
static void answer_reversed(uv_timer_t *t)
{
    fx_t *f = t->data;
    if (f->nheld < 2)
        return;
    uv_timer_stop(t);
    pd_http_respond(f->held[1], 200, "text/plain", NULL, PD_LIT("second"));
    pd_http_respond(f->held[0], 200, "text/plain", "X-Extra: 1\r\n", PD_LIT("first"));
    f->nheld = 0;
    pd_http_server_shutdown(f->srv);
}

/* Timer: once aborted, answer the detached request (which frees it), then shut down. */
static void answer_after_abort(uv_timer_t *t)
{
    fx_t *f = t->data;
    if (f->nheld < 1)
        return;
    if (f->nheld == 1 && !pd_http_request_connected(f->held[0])) {
        uv_timer_stop(t);
        assert_int_equal(f->aborts, 1);
        assert_int_equal(pd_http_server_stats(f->srv)->requests_in_flight, 1);
        pd_http_server_shutdown(f->srv);
        assert_false(f->drained); /* the drain waits for the held request */
        pd_http_respond(f->held[0], 200, NULL, NULL, PD_LIT("late"));
        f->nheld = 0;
    }
}

/* Timer: the client half-closed after its request; 100 ms later (the EOF has been read by
 * then) the request must still be connected and not aborted: answer it. */
static void answer_after_half_close(uv_timer_t *t)
{
    fx_t *f = t->data;
    if (f->nheld < 1 || ++f->ticks < 20)
        return;
    uv_timer_stop(t);
    assert_int_equal(f->aborts, 0);
    assert_true(pd_http_request_connected(f->held[0]));
    pd_http_respond(f->held[0], 200, "text/plain", NULL, PD_LIT("late"));
    f->nheld = 0;
    pd_http_server_shutdown(f->srv);
}

static void run(fx_t *f, uv_timer_cb cb)
{
    pd_http_options_t o;
    pd_http_options_default(&o);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    pd_router_init(&f->router);
    assert_int_equal(pd_router_add(&f->router, "GET", "/defer", defer_handler, f), 0);
    assert_int_equal(pd_router_add(&f->router, "GET", "/now", now_handler, f), 0);
    f->hooks.ud = f;
    f->hooks.on_drained = on_drained;
    f->hooks.after_response = after_response;
    assert_int_equal(pd_http_server_create(&f->srv, &f->loop, &o, &f->router, &f->hooks), 0);
    char err[128];
    assert_int_equal(pd_http_server_listen(f->srv, "127.0.0.1", 0, err, sizeof err), 0);
    f->port = pd_http_server_port(f->srv);
    uv_timer_init(&f->loop, &f->timer);
    f->timer.data = f;
    uv_timer_start(&f->timer, cb, 5, 5);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, client, f), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    assert_true(f->drained);
    pd_http_server_destroy(f->srv);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static void test_later_answers_keep_request_order(void **state)
{
    (void)state;
    static fx_t f;
    memset(&f, 0, sizeof f);
    f.mode = 0;
    run(&f, answer_reversed);
    f.reply[f.reply_len] = '\0';
    char *a = strstr(f.reply, "first"), *b = strstr(f.reply, "second"), *c = strstr(f.reply, "now");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    assert_non_null(strstr(f.reply, "X-Extra: 1\r\n"));
    assert_int_equal(f.after_responses, 3);
}

static void test_abort_then_respond_frees(void **state)
{
    (void)state;
    static fx_t f;
    memset(&f, 0, sizeof f);
    f.mode = 1;
    run(&f, answer_after_abort);
    assert_int_equal(f.aborts, 1);
    assert_int_equal(f.after_responses, 1);
}

static void test_half_close_is_answered_then_closed(void **state)
{
    (void)state;
    static fx_t f;
    memset(&f, 0, sizeof f);
    f.mode = 2;
    run(&f, answer_after_half_close);
    f.reply[f.reply_len] = '\0';
    assert_int_equal(f.aborts, 0);
    /* one answer (the half-received second request is dropped), then the server's EOF */
    assert_non_null(strstr(f.reply, "\r\n\r\nlate"));
    assert_non_null(strstr(f.reply, "Connection: close\r\n"));
    assert_null(strstr(strstr(f.reply, "late"), "HTTP/1.1"));
    assert_int_equal(f.after_responses, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_later_answers_keep_request_order),
        cmocka_unit_test(test_abort_then_respond_frees),
        cmocka_unit_test(test_half_close_is_answered_then_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
