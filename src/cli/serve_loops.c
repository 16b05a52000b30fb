/* serve_loops.c - `predictd serve --loops N` (N > 1): N event-loop threads serve HTTP, each
 * with its own server and listening socket on the same port (SO_REUSEPORT: the kernel
 * spreads connections over them; where the system refuses it, every loop accepts from one
 * shared socket), its own routes and pipeline (an app front, api/app.h), and its own
 * completion channel of the one worker pool. The models, the pool, the metrics and the
 * repository are the app's, on the main loop, shared under the app lock.
 *
 * Threads and lifetime:
 * - the main thread builds everything (every loop's handles included, before their
 *   threads start), then runs the main loop - repository, reloads, signals - holding the
 *   app lock during each iteration and releasing it only while it waits for events (so
 *   that any thread holding the lock may touch the app's state);
 * - SIGTERM/SIGINT on the main loop stops reloads and wakes every loop (its uv_async_t),
 *   which starts its server's drain; a loop's thread returns once its server drained; the
 *   main thread joins them all, then destroys each loop's front and server and the app
 *   (whose pool is drained last: every answer was given).
 * Exit codes as serve.c: 0 after a drain, 1 runtime failure (one line on stderr). */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "cli/serve_config.h"
#include "common.h"
#include "http/http.h"
#include "obs/log.h"
#include "util/applock.h"

typedef struct serve_loops_s serve_loops_t;

typedef struct {
    serve_loops_t *sl;
    unsigned index;
    uv_loop_t loop;
    int loop_ok;            /* uv_loop_init succeeded */
    pd_router_t router;
    pd_app_front_t *front;
    pd_http_hooks_t hooks;
    pd_http_server_t *server;
    uv_async_t stop;        /* the main loop asks this loop to drain */
    int stop_ok;
    pthread_t thread;
    int started;
} loop_t;

struct serve_loops_s {
    uv_loop_t main;
    uv_signal_t sigterm, sigint;
    pd_app_t *app;
    unsigned n;
    loop_t *loops;
    int shared_socket;      /* SO_REUSEPORT refused: every loop accepts from loop 0's */
};

/* ---- the loops' side ---- */

static void on_stop(uv_async_t *a)
{
    loop_t *lp = a->data;
    pd_http_server_shutdown(lp->server); /* its handles close once drained */
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg)
{
    loop_t *lp = arg;
    char name[16];
    snprintf(name, sizeof name, "pd-loop-%u", lp->index);
    pthread_setname_np(pthread_self(), name);
    uv_run(&lp->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ---- the main loop's side ---- */

static void on_signal(uv_signal_t *s, int signum)
{
    serve_loops_t *sl = s->data;
    if (uv_is_closing((uv_handle_t *)s))
        return;
    pd_log_info("received %s: draining %u loops", signum == SIGTERM ? "SIGTERM" : "SIGINT",
                sl->n);
    pd_app_drain_start(sl->app);
    for (unsigned i = 0; i < sl->n; i++)
        uv_async_send(&sl->loops[i].stop);
    uv_close((uv_handle_t *)&sl->sigterm, NULL);
    uv_close((uv_handle_t *)&sl->sigint, NULL);
}

/* Runs the main loop until it has nothing left to do, holding the app lock (held on
 * entry) except while it waits for events on the loop's backend descriptor. */
static void run_main_locked(uv_loop_t *loop)
{
    int fd = uv_backend_fd(loop);
    while (uv_run(loop, UV_RUN_NOWAIT) != 0) {
        struct pollfd p = {fd, POLLIN, 0};
        int timeout = uv_backend_timeout(loop);
        pd_applock_leave();
        poll(&p, 1, timeout);
        pd_applock_enter();
    }
}

/* Binds loop i's server: its own socket with SO_REUSEPORT, else loop 0's socket shared. */
static int loop_listen(serve_loops_t *sl, loop_t *lp, const pd__serve_config_t *c, char *err,
                       size_t errlen)
{
    if (lp->index == 0) {
        int unsupported = 0;
        int rc = pd_http_server_listen_reuseport(lp->server, c->host, (int)c->port,
                                                 PD_HTTP_REUSEPORT_FIRST, &unsupported, err,
                                                 errlen);
        if (rc == 0 || !unsupported)
            return rc;
        pd_log_warn("SO_REUSEPORT is not available (%s): the %u loops share one listening "
                    "socket", err, sl->n);
        sl->shared_socket = 1;
        return pd_http_server_listen(lp->server, c->host, (int)c->port, err, errlen);
    }
    if (!sl->shared_socket) {
        int port = pd_http_server_port(sl->loops[0].server); /* the one bound for port 0 */
        if (pd_http_server_listen_reuseport(lp->server, c->host, port, PD_HTTP_REUSEPORT_JOIN,
                                            NULL, err, errlen) == 0)
            return 0;
        pd_log_warn("loop %u: %s: it shares loop 0's listening socket", lp->index, err);
    }
    return pd_http_server_listen_shared(lp->server, sl->loops[0].server, err, errlen);
}

/* Builds loop i: its loop, front, server (listening) and stop handle. On failure what was
 * built stays for loops_free. */
static int loop_build(serve_loops_t *sl, loop_t *lp, const pd__serve_config_t *c,
                      const pd_http_options_t *hopts, char *err, size_t errlen)
{
    int rc;
    if (uv_loop_init(&lp->loop) != 0) {
        snprintf(err, errlen, "cannot create event loop %u", lp->index);
        return PD_EIO;
    }
    lp->loop_ok = 1;
    pd_router_init(&lp->router);
    if ((rc = pd_app_front_create(&lp->front, sl->app, &lp->loop, &lp->router, err,
                                  errlen)) < 0)
        return rc;
    pd_app_front_hooks(lp->front, &lp->hooks, NULL, NULL);
    pd__serve_access_log(c, &lp->hooks);
    if ((rc = pd_http_server_create(&lp->server, &lp->loop, hopts, &lp->router,
                                    &lp->hooks)) < 0) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    pd_app_front_attach_server(lp->front, lp->server);
    if ((rc = loop_listen(sl, lp, c, err, errlen)) < 0)
        return rc;
    if (uv_async_init(&lp->loop, &lp->stop, on_stop) != 0) {
        snprintf(err, errlen, "cannot create the stop handle of loop %u", lp->index);
        return PD_EIO;
    }
    lp->stop.data = lp;
    lp->stop_ok = 1;
    return 0;
}

/* Frees what loop_build built, on the main thread, the loop's thread joined (or never
 * started): front (waits for its jobs), server, then the loop's close callbacks. */
static void loop_free(loop_t *lp)
{
    pd_app_front_destroy(lp->front);
    lp->front = NULL;
    if (lp->stop_ok && !uv_is_closing((uv_handle_t *)&lp->stop))
        uv_close((uv_handle_t *)&lp->stop, NULL);
    if (lp->loop_ok) {
        uv_run(&lp->loop, UV_RUN_NOWAIT); /* close callbacks */
        pd_http_server_destroy(lp->server);
        uv_run(&lp->loop, UV_RUN_NOWAIT);
        if (uv_loop_close(&lp->loop) != 0)
            pd_log_warn("event loop %u closed with handles still open", lp->index);
    }
    lp->server = NULL;
}

/* Everything after pd_app_create, until the loops' threads run. */
static int loops_start(serve_loops_t *sl, const pd__serve_config_t *c)
{
    char err[256];
    pd_http_options_t hopts;
    pd__serve_http_options(c, &hopts);
    /* each loop's server has its share of the process-wide limits */
    hopts.max_connections = PD_MAX(1u, hopts.max_connections / sl->n);
    hopts.buffer_budget = PD_MAX((size_t)1 << 20, hopts.buffer_budget / sl->n);
    for (unsigned i = 0; i < sl->n; i++) {
        loop_t *lp = &sl->loops[i];
        lp->sl = sl;
        lp->index = i;
        if (loop_build(sl, lp, c, &hopts, err, sizeof err) < 0) {
            pd__serve_fail("%s", err);
            return 1;
        }
    }
    uv_signal_init(&sl->main, &sl->sigterm);
    uv_signal_init(&sl->main, &sl->sigint);
    sl->sigterm.data = sl->sigint.data = sl;
    uv_signal_start(&sl->sigterm, on_signal, SIGTERM);
    uv_signal_start(&sl->sigint, on_signal, SIGINT);
    for (unsigned i = 0; i < sl->n; i++) {
        if (pthread_create(&sl->loops[i].thread, NULL, loop_main, &sl->loops[i]) != 0) {
            pd__serve_fail("cannot start the thread of loop %u", i);
            on_signal(&sl->sigterm, SIGTERM); /* drain the loops already running */
            return 1;
        }
        sl->loops[i].started = 1;
    }
    pd_log_info("predictd " PD_VERSION " listening on http://%s:%d with %u event loops (%s)",
                c->host, pd_http_server_port(sl->loops[0].server), sl->n,
                sl->shared_socket ? "one shared listening socket" : "SO_REUSEPORT");
    return 0;
}

int pd__serve_loops_run(const pd__serve_config_t *c)
{
    serve_loops_t *sl = calloc(1, sizeof *sl);
    if (sl == NULL || uv_loop_init(&sl->main) != 0) {
        free(sl);
        pd__serve_fail("cannot create the event loop");
        return 1;
    }
    sl->n = pd__serve_loops(c);
    pd_applock_enable(); /* before any other thread starts */
    pd_applock_enter();  /* the main loop holds it except while it waits */
    int code = 1;
    char err[256];
    pd_app_options_t ao;
    pd__serve_app_options(c, &ao);
    if ((sl->loops = calloc(sl->n, sizeof *sl->loops)) == NULL)
        pd__serve_fail("out of memory");
    else if (pd_app_create(&sl->app, &sl->main, &ao, err, sizeof err) < 0)
        pd__serve_fail("%s", err);
    else
        code = loops_start(sl, c);
    if (sl->loops != NULL && sl->loops[0].started)
        run_main_locked(&sl->main); /* until SIGTERM/SIGINT closed the signal handles */
    else if (sl->app != NULL)
        pd_app_drain_start(sl->app); /* failed before any loop ran: stop the repository */
    pd_applock_leave();
    for (unsigned i = 0; sl->loops && i < sl->n; i++)
        if (sl->loops[i].started)
            pthread_join(sl->loops[i].thread, NULL);
    pd_applock_enter();
    for (unsigned i = 0; sl->loops && i < sl->n; i++)
        loop_free(&sl->loops[i]);
    pd_app_destroy(sl->app); /* drains the pool: no request is left unanswered */
    uv_run(&sl->main, UV_RUN_NOWAIT);
    if (uv_loop_close(&sl->main) != 0)
        pd_log_warn("event loop closed with handles still open");
    pd_applock_leave();
    free(sl->loops);
    free(sl);
    return code;
}
