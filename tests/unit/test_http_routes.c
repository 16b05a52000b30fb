/* test_http_routes.c - routing through a real server on loopback. The HTTP layer writes no
 * protocol's bodies: 404/405 go to the router's fallback (route_status, allow, route_ctx
 * NULL) or, without one, get the reason phrase as text/plain (+ Allow); the server's own
 * errors get their body from hooks.error_body, or text/plain when there is no hook or it
 * fails. Routes with {params} hand their decoded values to the handler
 * (pd_http_request_param) and the matched pattern (req->route).
 * A client thread sends each request on its own connection (Connection: close) and reads
 * until the server closes; the loop runs in the test thread. Every wait is bounded. */
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

#define MAX_REQ 4
#define REPLY_MAX 2048
#define CLIENT_TIMEOUT_S 10

typedef struct {
    uv_loop_t loop;
    uv_async_t client_done;
    pd_router_t router;
    pd_http_server_t *srv;
    pd_http_hooks_t hooks;
    int port;
    const char *requests[MAX_REQ]; /* sent one per connection, in order */
    char replies[MAX_REQ][REPLY_MAX];
    /* what the fallback and the hook saw (loop thread) */
    int fallback_calls, last_route_status, fallback_ctx_ok;
    char last_allow[PD_ROUTER_ALLOW_MAX];
    int hook_calls, hook_status, hook_fails;
} fx_t;

static int g_route_ctx; /* the ctx of the /m routes */

static void ok_handler(pd_http_request_t *req, void *ctx)
{
    (void)ctx;
    pd_http_respond(req, 200, "text/plain", NULL, PD_LIT("ok"));
}

/* Answers "<name>|<version>|<route>" from the matched route's params. */
static void param_handler(pd_http_request_t *req, void *ctx)
{
    (void)ctx;
    char body[2 * PD_ROUTER_MAX_PARAM_LEN + PD_ROUTER_MAX_PATH + 8];
    const char *name = pd_http_request_param(req, "name");
    const char *version = pd_http_request_param(req, "version");
    int n = snprintf(body, sizeof body, "%s|%s|%s", name ? name : "(null)",
                     version ? version : "(null)", req->route ? req->route : "(null)");
    assert_null(pd_http_request_param(req, "nam"));
    pd_http_respond(req, 200, "text/plain", NULL, body, (size_t)n);
}

static void fallback(pd_http_request_t *req, void *ctx)
{
    fx_t *f = ctx;
    f->fallback_calls++;
    f->last_route_status = req->route_status;
    f->fallback_ctx_ok = req->route_ctx == NULL;
    snprintf(f->last_allow, sizeof f->last_allow, "%s", req->allow);
    pd_http_respond(req, req->route_status, "application/x-test", NULL, PD_LIT("fallback"));
}

static int error_body(void *ud, const pd_http_request_t *req, int status, const char **type,
                      pd_buf_t *body)
{
    fx_t *f = ud;
    (void)req;
    f->hook_calls++;
    f->hook_status = status;
    if (f->hook_fails)
        return PD_EINVAL;
    *type = "application/x-err";
    return pd_buf_printf(body, "err %d", status);
}

static int connect_to(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {CLIENT_TIMEOUT_S, 0};
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
    for (int i = 0; i < MAX_REQ && f->requests[i]; i++) {
        int s = connect_to(f->port);
        if (s < 0)
            break;
        size_t len = 0;
        ssize_t n;
        if (write(s, f->requests[i], strlen(f->requests[i])) >= 0)
            while (len < REPLY_MAX - 1 &&
                   (n = read(s, f->replies[i] + len, REPLY_MAX - 1 - len)) > 0)
                len += (size_t)n;
        f->replies[i][len] = '\0';
        close(s);
    }
    uv_async_send(&f->client_done);
    return NULL;
}

static void on_client_done(uv_async_t *a)
{
    fx_t *f = a->data;
    uv_close((uv_handle_t *)a, NULL);
    pd_http_server_shutdown(f->srv);
}

/* Serves f->requests with the router and hooks as set up by the caller. */
static void run(fx_t *f)
{
    pd_http_options_t o;
    pd_http_options_default(&o);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(pd_router_add(&f->router, "GET", "/m", ok_handler, &g_route_ctx), 0);
    assert_int_equal(pd_router_add(&f->router, "POST", "/m", ok_handler, &g_route_ctx), 0);
    assert_int_equal(pd_router_add(&f->router, "POST", "/v1/models/{name}:predict",
                                   param_handler, &g_route_ctx), 0);
    assert_int_equal(pd_router_add(&f->router, "GET", "/v2/models/{name}/versions/{version}",
                                   param_handler, &g_route_ctx), 0);
    f->hooks.ud = f;
    assert_int_equal(pd_http_server_create(&f->srv, &f->loop, &o, &f->router, &f->hooks), 0);
    char err[128];
    assert_int_equal(pd_http_server_listen(f->srv, "127.0.0.1", 0, err, sizeof err), 0);
    f->port = pd_http_server_port(f->srv);
    uv_async_init(&f->loop, &f->client_done, on_client_done);
    f->client_done.data = f;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, client, f), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    assert_true(pd_http_server_drained(f->srv));
    pd_http_server_destroy(f->srv);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static fx_t *fresh(void)
{
    static fx_t f;
    memset(&f, 0, sizeof f);
    pd_router_init(&f.router);
    return &f;
}

/* s has a status line `status` and ends with the blank line and `body`. */
static void assert_reply(const char *s, const char *status, const char *type, const char *body)
{
    char want[256];
    snprintf(want, sizeof want, "HTTP/1.1 %s\r\n", status);
    if (strncmp(s, want, strlen(want)) != 0)
        fail_msg("want %s got: %s", want, s);
    snprintf(want, sizeof want, "Content-Type: %s\r\n", type);
    if (strstr(s, want) == NULL)
        fail_msg("want %s got: %s", want, s);
    snprintf(want, sizeof want, "\r\n\r\n%s", body);
    const char *end = s + strlen(s) - strlen(want);
    if (end < s || strcmp(end, want) != 0)
        fail_msg("want body %s got: %s", body, s);
}

#define REQ_404 "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n"
#define REQ_405 "DELETE /m HTTP/1.1\r\nConnection: close\r\n\r\n"
#define REQ_OK "GET /m HTTP/1.1\r\nConnection: close\r\n\r\n"
#define REQ_BAD "NOT HTTP\r\n\r\n"

static void test_no_fallback_answers_text_plain(void **state)
{
    (void)state;
    fx_t *f = fresh();
    const char *reqs[] = {REQ_404, REQ_405, REQ_BAD, REQ_OK};
    memcpy(f->requests, reqs, sizeof reqs);
    run(f);
    assert_reply(f->replies[0], "404 Not Found", PD_HTTP_TEXT_PLAIN, "Not Found");
    assert_reply(f->replies[1], "405 Method Not Allowed", PD_HTTP_TEXT_PLAIN,
                 "Method Not Allowed");
    assert_non_null(strstr(f->replies[1], "\r\nAllow: GET, POST\r\n"));
    assert_reply(f->replies[2], "400 Bad Request", PD_HTTP_TEXT_PLAIN, "Bad Request");
    assert_reply(f->replies[3], "200 OK", "text/plain", "ok");
}

static void test_fallback_gets_404_and_405(void **state)
{
    (void)state;
    fx_t *f = fresh();
    pd_router_set_fallback(&f->router, fallback, f);
    assert_ptr_equal(f->router.fallback, fallback);
    const char *reqs[] = {REQ_405, REQ_404, REQ_OK};
    memcpy(f->requests, reqs, sizeof reqs);
    run(f);
    assert_reply(f->replies[0], "405 Method Not Allowed", "application/x-test", "fallback");
    assert_null(strstr(f->replies[0], "Allow:")); /* the fallback chose not to send it */
    assert_reply(f->replies[1], "404 Not Found", "application/x-test", "fallback");
    assert_reply(f->replies[2], "200 OK", "text/plain", "ok"); /* routes go first */
    assert_int_equal(f->fallback_calls, 2);
    assert_int_equal(f->last_route_status, 404);
    assert_string_equal(f->last_allow, ""); /* the 404's; the 405 saw "GET, POST" */
    assert_true(f->fallback_ctx_ok);
}

static void test_fallback_sees_allow(void **state)
{
    (void)state;
    fx_t *f = fresh();
    pd_router_set_fallback(&f->router, fallback, f);
    const char *reqs[] = {REQ_405};
    memcpy(f->requests, reqs, sizeof reqs);
    run(f);
    assert_int_equal(f->last_route_status, 405);
    assert_string_equal(f->last_allow, "GET, POST");
    pd_router_set_fallback(&f->router, NULL, f); /* removed: ctx is dropped too */
    assert_null(f->router.fallback);
    assert_null(f->router.fallback_ctx);
}

static void test_error_body_hook(void **state)
{
    (void)state;
    fx_t *f = fresh();
    f->hooks.error_body = error_body;
    const char *reqs[] = {REQ_BAD, REQ_404};
    memcpy(f->requests, reqs, sizeof reqs);
    run(f);
    assert_reply(f->replies[0], "400 Bad Request", "application/x-err", "err 400");
    assert_reply(f->replies[1], "404 Not Found", PD_HTTP_TEXT_PLAIN, "Not Found");
    assert_int_equal(f->hook_calls, 1); /* 404 is the router's business, not the hook's */
    assert_int_equal(f->hook_status, 400);
}

static void test_failing_hook_falls_back_to_text(void **state)
{
    (void)state;
    fx_t *f = fresh();
    f->hooks.error_body = error_body;
    f->hook_fails = 1;
    const char *reqs[] = {REQ_BAD};
    memcpy(f->requests, reqs, sizeof reqs);
    run(f);
    assert_reply(f->replies[0], "400 Bad Request", PD_HTTP_TEXT_PLAIN, "Bad Request");
    assert_int_equal(f->hook_calls, 1);
}

static void test_params_reach_the_handler(void **state)
{
    (void)state;
    fx_t *f = fresh();
    const char *reqs[] = {
        "POST /v1/models/ir%69s:predict HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET /v2/models/my%20m/versions/7?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n",
        "POST /v1/models/a%2Fb:predict HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET /v1/models/iris:predict HTTP/1.1\r\nConnection: close\r\n\r\n",
    };
    memcpy(f->requests, reqs, sizeof reqs);
    run(f);
    assert_reply(f->replies[0], "200 OK", "text/plain", "iris|(null)|/v1/models/{name}:predict");
    assert_reply(f->replies[1], "200 OK", "text/plain",
                 "my m|7|/v2/models/{name}/versions/{version}");
    assert_reply(f->replies[2], "404 Not Found", PD_HTTP_TEXT_PLAIN, "Not Found");
    assert_reply(f->replies[3], "405 Method Not Allowed", PD_HTTP_TEXT_PLAIN,
                 "Method Not Allowed");
    assert_non_null(strstr(f->replies[3], "\r\nAllow: POST\r\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_fallback_answers_text_plain),
        cmocka_unit_test(test_fallback_gets_404_and_405),
        cmocka_unit_test(test_fallback_sees_allow),
        cmocka_unit_test(test_error_body_hook),
        cmocka_unit_test(test_failing_hook_falls_back_to_text),
        cmocka_unit_test(test_params_reach_the_handler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
