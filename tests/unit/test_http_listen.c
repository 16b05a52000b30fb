/* test_http_listen.c - the listening socket of serve --loops (http/listen.c): servers of
 * several loops bind one port with SO_REUSEPORT; the first of a group refuses a port that
 * is already bound (so two processes never share a port by accident); a server can accept
 * from a duplicate of another one's socket (the fallback where SO_REUSEPORT is refused).
 * Real sockets on loopback; every wait is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "http/http.h"

#define SPINS 2000 /* loop iterations a connection may take to be accepted */

typedef struct {
    uv_loop_t loop;
    pd_router_t router;
    pd_http_server_t *srv;
} side_t;

static void side_init(side_t *s)
{
    assert_int_equal(uv_loop_init(&s->loop), 0);
    pd_router_init(&s->router);
    assert_int_equal(pd_http_server_create(&s->srv, &s->loop, NULL, &s->router, NULL), 0);
}

static void side_free(side_t *s)
{
    pd_http_server_destroy(s->srv);
    uv_run(&s->loop, UV_RUN_NOWAIT);
    uv_run(&s->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&s->loop), 0);
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void test_reuseport_group(void **state)
{
    (void)state;
    side_t a, b, c, d;
    char err[256];
    side_init(&a);
    side_init(&b);
    side_init(&c);
    side_init(&d);
    int unsupported = -1;
    assert_int_equal(pd_http_server_listen_reuseport(a.srv, "127.0.0.1", 0,
                                                     PD_HTTP_REUSEPORT_FIRST, &unsupported,
                                                     err, sizeof err), 0);
    assert_int_equal(unsupported, 0);
    int port = pd_http_server_port(a.srv);
    assert_true(port > 0);
    assert_int_equal(pd_http_server_listen_reuseport(b.srv, "127.0.0.1", port,
                                                     PD_HTTP_REUSEPORT_JOIN, NULL, err,
                                                     sizeof err), 0);
    assert_int_equal(pd_http_server_port(b.srv), port);
    /* another group's first socket, and a plain listener, find the port taken */
    assert_int_equal(pd_http_server_listen_reuseport(c.srv, "127.0.0.1", port,
                                                     PD_HTTP_REUSEPORT_FIRST, &unsupported,
                                                     err, sizeof err), PD_EIO);
    assert_int_equal(unsupported, 0);
    assert_non_null(strstr(err, "cannot listen"));
    assert_int_equal(pd_http_server_listen(d.srv, "127.0.0.1", port, err, sizeof err), PD_EIO);
    assert_int_equal(pd_http_server_listen_reuseport(d.srv, "no-such-host", port,
                                                     PD_HTTP_REUSEPORT_JOIN, NULL, err,
                                                     sizeof err), PD_EINVAL);
    side_free(&a);
    side_free(&b);
    side_free(&c);
    side_free(&d);
}

static void test_shared_socket(void **state)
{
    (void)state;
    side_t a, b;
    char err[256];
    side_init(&a);
    side_init(&b);
    assert_int_equal(pd_http_server_listen_shared(b.srv, a.srv, err, sizeof err), PD_EINVAL);
    assert_int_equal(pd_http_server_listen(a.srv, "127.0.0.1", 0, err, sizeof err), 0);
    assert_int_equal(pd_http_server_listen_shared(b.srv, a.srv, err, sizeof err), 0);
    assert_int_equal(pd_http_server_port(b.srv), pd_http_server_port(a.srv));
    assert_int_equal(pd_http_server_listen_shared(b.srv, a.srv, err, sizeof err), PD_EINVAL);
    int fd = connect_to(pd_http_server_port(a.srv));
    /* only b's loop runs: it accepts from the shared socket */
    for (int i = 0; i < SPINS && pd_http_server_stats(b.srv)->accepted_total == 0; i++) {
        uv_run(&b.loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    assert_int_equal(pd_http_server_stats(b.srv)->accepted_total, 1);
    assert_int_equal(pd_http_server_stats(a.srv)->accepted_total, 0);
    close(fd);
    side_free(&b); /* closing b's duplicate leaves a's socket listening */
    int fd2 = connect_to(pd_http_server_port(a.srv));
    for (int i = 0; i < SPINS && pd_http_server_stats(a.srv)->accepted_total == 0; i++) {
        uv_run(&a.loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    assert_int_equal(pd_http_server_stats(a.srv)->accepted_total, 1);
    close(fd2);
    side_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuseport_group),
        cmocka_unit_test(test_shared_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
