/* serve.c - `predictd serve`: parses the options (one table: name, kind, range, default,
 * help), builds the router and the HTTP server on one libuv loop, and runs until SIGTERM/
 * SIGINT finished a graceful drain.
 *
 * To add an option: its default in the options of the module that owns it (http.h's
 * pd_http_options_default or app.h's pd_app_options_default), a field in serve_config_t,
 * a row in k_opts (the range is checked for you), the default copied in config_default,
 * and the value copied in http_options_from or app_options_from. Exit codes: 0 after a drain, 1 runtime failure (e.g. the
 * port is taken), 2 usage error - always with one line on stderr. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "api/app.h"
#include "api/control.h"
#include "api/registry.h"
#include "api/rows.h"
#include "cli/cli.h"
#include "common.h"
#include "http/http.h"
#include "obs/log.h"
#include "obs/looplag.h"
#include "pool/pool.h"

#define PD_SERVE_MAX_MODEL_ARGS 256
#define PD_SERVE_DEFAULT_MODEL_DIR "models"

typedef struct {
    char host[256];
    long long port;
    long long max_connections;
    long long max_body_size;
    long long max_header_size;
    long long keepalive_ms;     /* given in seconds */
    long long header_timeout_ms;
    long long shutdown_timeout_ms;
    long long linger_ms;
    long long buffer_budget;
    char log_level[16];
    long long access_log;       /* flag */
    char default_model[160];
    long long max_models;
    char model_control[16];
    long long poll_ms;
    long long strict;           /* flag */
    char admin_token_file[4096];
    long long workers;
    long long max_queue;
    long long max_batch;
    long long max_rows;
    long long decode_on_worker_above;
    long long inline_below_us;
    long long queue_timeout_ms;
    long long slow_callback_ms;
    long long worker_nice;
    const char *models[PD_SERVE_MAX_MODEL_ARGS]; /* positional: files or directories */
    size_t n_models;
} serve_config_t;

typedef enum { OPT_INT, OPT_SECONDS, OPT_STR, OPT_FLAG } opt_kind_t;

typedef struct {
    const char *name;
    opt_kind_t kind;
    size_t off;         /* field in serve_config_t */
    size_t str_size;    /* OPT_STR: size of the char array */
    long long min, max; /* OPT_INT: value range; OPT_SECONDS: range in ms */
    const char *metavar;
    const char *help;
} opt_t;

#define F(field) offsetof(serve_config_t, field)
static const opt_t k_opts[] = {
    {"--host", OPT_STR, F(host), sizeof(((serve_config_t *)0)->host), 0, 0, "ADDR",
     "address to listen on"},
    {"--port", OPT_INT, F(port), 0, 0, 65535, "N", "TCP port, 0 = any free one"},
    {"--max-connections", OPT_INT, F(max_connections), 0, 1, 1000000, "N",
     "open connections; more are answered 503 and closed"},
    {"--max-body-size", OPT_INT, F(max_body_size), 0, 0, 1LL << 30, "BYTES",
     "largest request body; larger -> 413"},
    {"--buffer-budget", OPT_INT, F(buffer_budget), 0, 1LL << 20, 1LL << 40, "BYTES",
     "bodies and answers held in memory, all connections together; past it, bodies are "
     "not read until it drains (answers are still sent whole)"},
    {"--max-header-size", OPT_INT, F(max_header_size), 0, 256, 1LL << 20, "BYTES",
     "largest request line + headers; larger -> 431"},
    {"--keepalive-timeout", OPT_SECONDS, F(keepalive_ms), 0, 1, 3600000, "SEC",
     "close idle keep-alive connections after this"},
    {"--header-timeout", OPT_SECONDS, F(header_timeout_ms), 0, 1, 3600000, "SEC",
     "headers must arrive within this from a request's first byte, and a body may not "
     "stall this long -> 408; an answer not read for this long is cut off"},
    {"--shutdown-timeout", OPT_SECONDS, F(shutdown_timeout_ms), 0, 0, 3600000, "SEC",
     "on SIGTERM/SIGINT wait this long for requests in flight"},
    {"--linger-timeout", OPT_SECONDS, F(linger_ms), 0, 0, 60000, "SEC",
     "a closing connection reads this long after its last answer (the client sees it, not "
     "a reset); on SIGTERM, idle keep-alive connections wait this long for a last request"},
    {"--log-level", OPT_STR, F(log_level), sizeof(((serve_config_t *)0)->log_level), 0, 0,
     "LEVEL", "debug, info, warning, error or off"},
    {"--access-log", OPT_FLAG, F(access_log), 0, 0, 1, NULL,
     "log one line per request: method, path, status, bytes, microseconds"},
    {"--default-model", OPT_STR, F(default_model), sizeof(((serve_config_t *)0)->default_model),
     0, 0, "NAME", "the model /predict* serve (default: the first loaded)"},
    {"--max-models", OPT_INT, F(max_models), 0, 1, PD_REGISTRY_MAX_MODELS_LIMIT, "N",
     "model names served at once"},
    {"--model-control", OPT_STR, F(model_control), sizeof(((serve_config_t *)0)->model_control),
     0, 0, "MODE", "none: read the models at start and on SIGHUP; poll: also reload every "
     "change of the repository; explicit: also the /v2/repository control API"},
    {"--poll-interval", OPT_SECONDS, F(poll_ms), 0, 100, 3600000, "SEC",
     "poll mode: rescan the repository this often besides file-system events"},
    {"--strict", OPT_FLAG, F(strict), 0, 0, 1, NULL,
     "exit 1 if any model fails to load at start (default: skip it and serve the rest)"},
    {"--admin-token-file", OPT_STR, F(admin_token_file),
     sizeof(((serve_config_t *)0)->admin_token_file), 0, 0, "FILE",
     "explicit mode: the bearer token of the control API (else $PREDICTD_ADMIN_TOKEN)"},
    {"--workers", OPT_INT, F(workers), 0, 0, PD_POOL_MAX_WORKERS, "N",
     "inference worker threads, 0 = online CPUs"},
    {"--max-queue", OPT_INT, F(max_queue), 0, 1, PD_POOL_MAX_QUEUE_LIMIT, "N",
     "jobs waiting per model; more are answered 503"},
    {"--max-batch", OPT_INT, F(max_batch), 0, 1, PD_POOL_MAX_BATCH_LIMIT, "ROWS",
     "rows of one model a worker runs as one batch; bigger requests are split into chunks "
     "of this many rows that run on several workers"},
    {"--max-rows", OPT_INT, F(max_rows), 0, 1, PD_ROWS_MAX_LIMIT, "N",
     "rows per request; more -> 413"},
    {"--decode-on-worker-above", OPT_INT, F(decode_on_worker_above), 0, 1, 1LL << 30, "BYTES",
     "bodies larger than this are decoded and answered on a worker, not on the loop"},
    {"--inline-below-us", OPT_INT, F(inline_below_us), 0, 0, 1000000, "US",
     "/predict runs models cheaper per row than this on the loop, 0 = never"},
    {"--queue-timeout", OPT_SECONDS, F(queue_timeout_ms), 0, 0, 3600000, "SEC",
     "a job still queued after this is answered 504, 0 = never"},
    {"--slow-callback-ms", OPT_INT, F(slow_callback_ms), 0, 1, PD_LOOPLAG_MAX_MS, "MS",
     "warn when one event-loop iteration works this long"},
    {"--worker-nice", OPT_INT, F(worker_nice), 0, 0, 19, "N",
     "workers run this much nicer than the loop, 0 = same priority"},
};
#undef F

static void config_default(serve_config_t *c);

static void serve_usage(FILE *f)
{
    fputs("usage: predictd serve [options] [MODEL_FILE|MODEL_DIR ...]\n\n"
          "Serves the models in the files and directories given (default: ./models).\n\n"
          "options:\n", f);
    serve_config_t def;
    config_default(&def); /* defaults are printed from the config, never restated by hand */
    for (size_t i = 0; i < PD_ARRAY_SIZE(k_opts); i++) {
        const opt_t *o = &k_opts[i];
        const char *field = (const char *)&def + o->off;
        long long v;
        memcpy(&v, field, sizeof v);
        char left[48], dflt[64] = "";
        snprintf(left, sizeof left, "%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        if (o->kind == OPT_STR && field[0] != '\0')
            snprintf(dflt, sizeof dflt, " (default %s)", field);
        else if (o->kind == OPT_INT)
            snprintf(dflt, sizeof dflt, " (default %lld)", v);
        else if (o->kind == OPT_SECONDS)
            snprintf(dflt, sizeof dflt, " (default %g)", (double)v / 1000.0);
        fprintf(f, "  %-28s %s%s\n", left, o->help, dflt);
    }
    fprintf(f, "  %-28s %s\n", "-h, --help", "show this help");
}

static void config_default(serve_config_t *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 8000;
    pd_http_options_t ho; /* the server's own defaults */
    pd_http_options_default(&ho);
    c->max_connections = ho.max_connections;
    c->max_body_size = ho.max_body_size;
    c->max_header_size = ho.max_header_size;
    c->keepalive_ms = ho.keepalive_ms;
    c->header_timeout_ms = ho.header_timeout_ms;
    c->shutdown_timeout_ms = ho.shutdown_timeout_ms;
    c->linger_ms = ho.linger_ms;
    c->buffer_budget = (long long)ho.buffer_budget;
    snprintf(c->log_level, sizeof c->log_level, "info");
    pd_app_options_t ao;
    pd_app_options_default(&ao);
    c->max_queue = (long long)ao.max_queue;
    c->max_batch = (long long)ao.max_batch;
    c->max_rows = (long long)ao.max_rows;
    c->decode_on_worker_above = (long long)ao.decode_on_worker_above;
    c->inline_below_us = (long long)ao.inline_below_us;
    c->queue_timeout_ms = ao.queue_timeout_ms;
    c->slow_callback_ms = ao.slow_callback_ms;
    c->worker_nice = ao.worker_nice;
    c->max_models = (long long)ao.max_models;
    snprintf(c->model_control, sizeof c->model_control, "none");
    c->poll_ms = ao.poll_ms;
}

static const char *const k_control_modes[] = {"none", "poll", "explicit"};

/* The --model-control mode, or -1 with the error line printed. */
static int control_mode(const serve_config_t *c)
{
    for (size_t i = 0; i < PD_ARRAY_SIZE(k_control_modes); i++)
        if (strcmp(c->model_control, k_control_modes[i]) == 0)
            return (int)i;
    fprintf(stderr, "predictd serve: --model-control: expected none, poll or explicit, got "
                    "'%s'\n", c->model_control);
    return -1;
}

/* Stores one option's value. Returns 0, or 2 after printing the error line. */
static int opt_set(serve_config_t *c, const opt_t *o, const char *val)
{
    char *field = (char *)c + o->off;
    if (o->kind == OPT_STR) {
        if (val[0] == '\0' || strlen(val) >= o->str_size) {
            fprintf(stderr, "predictd serve: %s: value must be 1 to %zu characters\n", o->name,
                    o->str_size - 1);
            return 2;
        }
        memcpy(field, val, strlen(val) + 1);
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long v;
    if (o->kind == OPT_SECONDS) {
        double d = strtod(val, &end);
        if (errno || end == val || *end || !isfinite(d) || d * 1000.0 < (double)o->min ||
            d * 1000.0 > (double)o->max) {
            fprintf(stderr, "predictd serve: %s: expected seconds in [%g, %g], got '%s'\n",
                    o->name, (double)o->min / 1000.0, (double)o->max / 1000.0, val);
            return 2;
        }
        v = (long long)llround(d * 1000.0);
    } else {
        v = strtoll(val, &end, 10);
        if (errno || end == val || *end || v < o->min || v > o->max) {
            fprintf(stderr, "predictd serve: %s: expected an integer in [%lld, %lld], got '%s'\n",
                    o->name, o->min, o->max, val);
            return 2;
        }
    }
    memcpy(field, &v, sizeof v);
    return 0;
}

/* Parses argv (argv[0] is "serve"). Returns 0, 1 (help printed: exit 0) or 2. */
static int parse_args(int argc, char **argv, serve_config_t *c)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            serve_usage(stdout);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (c->n_models == PD_SERVE_MAX_MODEL_ARGS) {
                fprintf(stderr, "predictd serve: more than %d model paths\n",
                        PD_SERVE_MAX_MODEL_ARGS);
                return 2;
            }
            c->models[c->n_models++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const opt_t *o = NULL;
        for (size_t k = 0; k < PD_ARRAY_SIZE(k_opts); k++)
            if (strlen(k_opts[k].name) == nlen && strncmp(k_opts[k].name, a, nlen) == 0)
                o = &k_opts[k];
        if (o == NULL) {
            fprintf(stderr, "predictd serve: unknown option '%.*s' (try --help)\n", (int)nlen, a);
            return 2;
        }
        if (o->kind == OPT_FLAG) {
            if (eq) {
                fprintf(stderr, "predictd serve: %s takes no value\n", o->name);
                return 2;
            }
            long long one = 1;
            memcpy((char *)c + o->off, &one, sizeof one);
            continue;
        }
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (val == NULL) {
            fprintf(stderr, "predictd serve: %s needs a value\n", o->name);
            return 2;
        }
        int rc = opt_set(c, o, val);
        if (rc)
            return rc;
    }
    pd_log_level_t lvl;
    if (pd_log_parse_level(c->log_level, &lvl) < 0) {
        fprintf(stderr, "predictd serve: --log-level: unknown level '%s'\n", c->log_level);
        return 2;
    }
    int mode = control_mode(c);
    if (mode < 0)
        return 2;
    if (mode == PD_CONTROL_EXPLICIT && c->admin_token_file[0] == '\0' &&
        getenv(PD_CONTROL_TOKEN_ENV) == NULL) {
        fprintf(stderr, "predictd serve: --model-control explicit needs an admin token: "
                        "--admin-token-file FILE or the %s environment variable\n",
                PD_CONTROL_TOKEN_ENV);
        return 2;
    }
    return 0;
}

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

static void http_options_from(const serve_config_t *c, pd_http_options_t *o)
{
    pd_http_options_default(o);
    o->max_connections = (uint32_t)c->max_connections;
    o->max_body_size = (uint32_t)c->max_body_size;
    o->max_header_size = (uint32_t)c->max_header_size;
    o->keepalive_ms = (uint32_t)c->keepalive_ms;
    o->header_timeout_ms = (uint32_t)c->header_timeout_ms;
    o->shutdown_timeout_ms = (uint32_t)c->shutdown_timeout_ms;
    o->linger_ms = (uint32_t)c->linger_ms;
    o->buffer_budget = (size_t)c->buffer_budget;
    o->access_log = c->access_log != 0;
}

static void app_options_from(const serve_config_t *c, pd_app_options_t *o)
{
    static const char *const k_default_dir[] = {PD_SERVE_DEFAULT_MODEL_DIR};
    pd_app_options_default(o);
    o->model_paths = c->n_models ? c->models : k_default_dir;
    o->n_model_paths = c->n_models ? c->n_models : 1;
    o->default_model = c->default_model[0] ? c->default_model : NULL;
    o->max_models = (size_t)c->max_models;
    o->model_control = (pd_model_control_t)control_mode(c);
    o->poll_ms = (uint32_t)c->poll_ms;
    o->strict = c->strict != 0;
    o->admin_token_file = c->admin_token_file[0] ? c->admin_token_file : NULL;
    o->workers = (unsigned)c->workers;
    o->max_queue = (size_t)c->max_queue;
    o->max_batch = (size_t)c->max_batch;
    o->max_rows = (size_t)c->max_rows;
    o->decode_on_worker_above = (size_t)c->decode_on_worker_above;
    o->inline_below_us = (double)c->inline_below_us;
    o->queue_timeout_ms = (uint32_t)c->queue_timeout_ms;
    o->slow_callback_ms = (uint32_t)c->slow_callback_ms;
    o->worker_nice = (int)c->worker_nice;
}

/* Builds everything, serves until drained. Returns the exit code. */
static int serve_run(const serve_config_t *c, serve_t *sv)
{
    int code = 1, rc;
    char err[256];
    pd_http_options_t hopts;
    http_options_from(c, &hopts);
    if (uv_loop_init(&sv->loop) != 0) {
        fprintf(stderr, "predictd serve: cannot create the event loop\n");
        return 1;
    }
    pd_router_init(&sv->router);
    pd_app_options_t ao;
    app_options_from(c, &ao);
    if ((rc = pd_app_create(&sv->app, &sv->loop, &sv->router, &ao, err, sizeof err)) < 0) {
        fprintf(stderr, "predictd serve: %s\n", err);
        goto out_loop;
    }
    pd_app_hooks(sv->app, &sv->hooks, on_drained, sv);
    if (pd_http_server_create(&sv->server, &sv->loop, &hopts, &sv->router, &sv->hooks) < 0) {
        fprintf(stderr, "predictd serve: out of memory\n");
        goto out_loop;
    }
    pd_app_attach_server(sv->app, sv->server);
    if (pd_http_server_listen(sv->server, c->host, (int)c->port, err, sizeof err) < 0) {
        fprintf(stderr, "predictd serve: %s\n", err);
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
    serve_config_t cfg;
    config_default(&cfg);
    int rc = parse_args(argc, argv, &cfg);
    if (rc)
        return rc == 1 ? 0 : 2;
    pd_log_level_t lvl = PD_LOG_INFO;
    pd_log_parse_level(cfg.log_level, &lvl);
    pd_log_set_level(lvl);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    serve_t *sv = calloc(1, sizeof *sv);
    if (sv == NULL) {
        fprintf(stderr, "predictd serve: out of memory\n");
        return 1;
    }
    rc = serve_run(&cfg, sv);
    free(sv);
    return rc;
}
