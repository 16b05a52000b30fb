/* serve.c - `predictd serve`: builds the router, the app and the HTTP server on one libuv
 * loop from the configuration (serve_config.c), and runs until SIGTERM/SIGINT finished a
 * graceful drain; with --loops N > 1, serve_loops.c runs N such loops instead. Exit codes: 0 after a drain, 1 runtime failure (e.g. the port is taken),
 * 2 usage error - always with one line on stderr. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "cli/serve_config.h"
#include "api/app.h"
#include "api/control.h"
#include "api/docs.h"
#include "api/fsource.h"
#include "api/registry.h"
#include "api/rows.h"
#include "cli/cli.h"
#include "common.h"
#include "http/http.h"
#include "model/model.h"
#include "obs/log.h"
#include "obs/looplag.h"
#include "pool/pool.h"

/* Raises the open-file limit to the hard limit, as nginx does, so that many idle
 * keep-alive connections fit. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            pd_log_warn("cannot raise the open-file limit: %s", strerror(errno));
    }
}

typedef struct {
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    pd_router_t router;
    pd_app_t *app;
    pd_app_front_t *front;
    pd_http_hooks_t hooks;
    pd_http_server_t *server;
} serve_t;

static void on_signal(uv_signal_t *s, int signum)
{
    serve_t *sv = s->data;
    pd_log_info("received %s: draining", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    pd_http_server_shutdown(sv->server);
}

static void on_drained(void *ud, unsigned cut_off)
{
    serve_t *sv = ud;
    (void)cut_off;
    uv_close((uv_handle_t *)&sv->sigterm, NULL);
    uv_close((uv_handle_t *)&sv->sigint, NULL);
}

/* A runtime failure: "predictd serve: MSG" on stderr, or an error line in JSON when the
 * log format is JSON (so that every line a container writes parses); never silenced by
 * the log level. */
void pd__serve_fail(const char *fmt, ...)
{
    char msg[PD_LOG_MESSAGE_MAX];
    int n = snprintf(msg, sizeof msg, "predictd serve: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    if (pd_log_get_format() != PD_LOG_JSON) {
        fprintf(stderr, "%s\n", msg);
        return;
    }
    char line[PD_LOG_MESSAGE_MAX * 2];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    size_t len = pd_log_format_line(line, sizeof line, PD_LOG_JSON, PD_LOG_ERROR,
                                    (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
                                    msg, NULL);
    fwrite(line, 1, len, stderr);
}

/* The access log: serve wraps the app's after_response hook (metrics), which keeps
 * running, and adds one line per answer with the client's address; the HTTP layer only
 * lends the peer (pd_http_request_peer). The app's hook is kept file-static because the
 * hooks share one ud (the app's): one serve per process, set before the server is created
 * and only read after. */
static void (*s_app_after_response)(void *ud, const pd_http_request_t *req, int status,
                                    size_t bytes_out, uint64_t duration_ns);

static void access_after_response(void *ud, const pd_http_request_t *req, int status,
                                  size_t bytes_out, uint64_t duration_ns)
{
    if (s_app_after_response)
        s_app_after_response(ud, req, status, bytes_out, duration_ns);
    char addr[64];
    int port = 0;
    int known = pd_http_request_peer(req, addr, sizeof addr, &port) == 0;
    pd_log_access_t a = {req->method, req->path, status, bytes_out, duration_ns / 1000,
                         known ? addr : NULL, port, pd_http_request_id(req)};
    pd_log_access(&a);
}

void pd__serve_access_log(const pd__serve_config_t *c, pd_http_hooks_t *hooks)
{
    if (!c->access_log)
        return;
    s_app_after_response = hooks->after_response; /* the same function for every front */
    hooks->after_response = access_after_response;
}

/* Builds everything, serves until drained. Returns the exit code. */
static int serve_run(const pd__serve_config_t *c, serve_t *sv)
{
    int code = 1, rc;
    char err[256];
    pd_http_options_t hopts;
    pd__serve_http_options(c, &hopts);
    if (uv_loop_init(&sv->loop) != 0) {
        pd__serve_fail("cannot create the event loop");
        return 1;
    }
    pd_router_init(&sv->router);
    pd_app_options_t ao;
    pd__serve_app_options(c, &ao);
    if ((rc = pd_app_create(&sv->app, &sv->loop, &ao, err, sizeof err)) < 0 ||
        (rc = pd_app_front_create(&sv->front, sv->app, &sv->loop, &sv->router, err,
                                  sizeof err)) < 0) {
        pd__serve_fail("%s", err);
        goto out_loop;
    }
    pd_app_front_hooks(sv->front, &sv->hooks, on_drained, sv);
    pd__serve_access_log(c, &sv->hooks);
    if (pd_http_server_create(&sv->server, &sv->loop, &hopts, &sv->router, &sv->hooks) < 0) {
        pd__serve_fail("out of memory");
        goto out_loop;
    }
    pd_app_front_attach_server(sv->front, sv->server);
    if (pd_http_server_listen(sv->server, c->host, (int)c->port, err, sizeof err) < 0) {
        pd__serve_fail("%s", err);
        goto out_server;
    }
    uv_signal_init(&sv->loop, &sv->sigterm);
    uv_signal_init(&sv->loop, &sv->sigint);
    sv->sigterm.data = sv->sigint.data = sv;
    uv_signal_start(&sv->sigterm, on_signal, SIGTERM);
    uv_signal_start(&sv->sigint, on_signal, SIGINT);
    pd_log_info("predictd " PD_VERSION " listening on http://%s:%d", c->host,
                pd_http_server_port(sv->server));
    uv_run(&sv->loop, UV_RUN_DEFAULT);
    code = 0;
out_server:
    pd_app_destroy(sv->app); /* drains the pool: no request is left unanswered */
    sv->app = NULL;
    pd_http_server_destroy(sv->server);
out_loop:
    pd_app_destroy(sv->app);
    uv_run(&sv->loop, UV_RUN_NOWAIT); /* let close callbacks run */
    if (uv_loop_close(&sv->loop) != 0)
        pd_log_warn("event loop closed with handles still open");
    return code;
}

int pd_cli_serve(int argc, char **argv)
{
    pd__serve_config_t cfg;
    pd__serve_config_default(&cfg);
    int rc = pd__serve_config_parse(argc, argv, &cfg);
    if (rc) {
        pd__serve_config_free(&cfg);
        return rc == 1 ? 0 : 2;
    }
    pd_log_level_t lvl = PD_LOG_INFO;
    pd_log_parse_level(cfg.log_level, &lvl);
    pd_log_set_level(lvl);
    pd_log_format_t fmt = PD_LOG_TEXT;
    pd_log_parse_format(cfg.log_format, &fmt);
    pd_log_set_format(fmt);
    pd__serve_warn_unknown_env(&cfg);
    pd_model_set_max_parse_bytes((size_t)cfg.max_model_memory);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    serve_t *sv = calloc(1, sizeof *sv);
    if (sv == NULL) {
        pd__serve_fail("out of memory");
        pd__serve_config_free(&cfg);
        return 1;
    }
    rc = pd__serve_loops(&cfg) > 1 ? pd__serve_loops_run(&cfg) : serve_run(&cfg, sv);
    free(sv);
    pd__serve_config_free(&cfg);
    return rc;
}
