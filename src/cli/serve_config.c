/* serve_config.c - `predictd serve`'s options (see serve_config.h): one table (name, kind,
 * range, default, help; k_choices for the values of a list), parsed from the command line
 * and the environment, and mapped onto the server's and the app's options.
 *
 * Every option can also come from the environment: --max-body-size from
 * PREDICTD_MAX_BODY_SIZE (the name is derived from the table, never listed twice), the
 * positional model paths from PREDICTD_MODELS (':'-separated, used when the command line
 * names none). Precedence: defaults < environment < command line. A bad value is a usage
 * error naming the flag or the variable it came from. An empty variable counts as unset.
 *
 * To add an option: its default in the options of the module that owns it (http.h's
 * pd_http_options_default or app.h's pd_app_options_default), a field in
 * pd__serve_config_t (serve_config.h),
 * a row in k_opts (the range, or the list in k_choices, is checked for you; the variable
 * comes with the row), the default copied in pd__serve_config_default, and the value
 * copied in pd__serve_http_options or pd__serve_app_options. A usage error is one line on
 * stderr (exit 2). */
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
#include <unistd.h>

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



/* OPT_BOOL: a bare flag means on; it also takes a value: --access-log=off, or "on"/"off"
 * as the next argument; from the environment on/off, true/false, yes/no or 1/0. */
/* OPT_COUNT: an integer, or "auto" for 0, which the option reads as "the online CPUs". */
typedef enum { OPT_INT, OPT_SECONDS, OPT_STR, OPT_BOOL, OPT_COUNT } opt_kind_t;

typedef struct {
    const char *name;
    opt_kind_t kind;
    size_t off;         /* field in pd__serve_config_t */
    size_t str_size;    /* OPT_STR: size of the char array */
    long long min, max; /* OPT_INT: value range; OPT_SECONDS: range in ms */
    const char *metavar;
    const char *help;
} opt_t;

#define F(field) offsetof(pd__serve_config_t, field)
static const opt_t k_opts[] = {
    {"--host", OPT_STR, F(host), sizeof(((pd__serve_config_t *)0)->host), 0, 0, "ADDR",
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
    {"--log-level", OPT_STR, F(log_level), sizeof(((pd__serve_config_t *)0)->log_level), 0, 0,
     "LEVEL", "debug, info, warning, error or off"},
    {"--log-format", OPT_STR, F(log_format), sizeof(((pd__serve_config_t *)0)->log_format), 0, 0,
     "FORMAT", "text, or json: one JSON object per line"},
    {"--access-log", OPT_BOOL, F(access_log), 0, 0, 1, "[on|off]",
     "log one line per request: method, path, status, bytes, microseconds, client"},
    {"--default-model", OPT_STR, F(default_model), sizeof(((pd__serve_config_t *)0)->default_model),
     0, 0, "NAME", "the model /predict* serve (default: the first loaded)"},
    {"--max-models", OPT_INT, F(max_models), 0, 1, PD_REGISTRY_MAX_MODELS_LIMIT, "N",
     "model names served at once"},
    {"--model-control", OPT_STR, F(model_control), sizeof(((pd__serve_config_t *)0)->model_control),
     0, 0, "MODE", "none: read the models at start and on SIGHUP; poll: also reload every "
     "change of the repository; explicit: also the /v2/repository control API"},
    {"--poll-interval", OPT_SECONDS, F(poll_ms), 0, 100, 3600000, "SEC",
     "poll mode: rescan the repository this often besides file-system events"},
    {"--strict", OPT_BOOL, F(strict), 0, 0, 1, "[on|off]",
     "exit 1 if any model fails to load at start (off: skip it and serve the rest)"},
    {"--admin-token-file", OPT_STR, F(admin_token_file),
     sizeof(((pd__serve_config_t *)0)->admin_token_file), 0, 0, "FILE",
     "explicit mode: the bearer token of the control API (else $PREDICTD_ADMIN_TOKEN)"},
    {"--workers", OPT_INT, F(workers), 0, 0, PD_POOL_MAX_WORKERS, "N",
     "inference worker threads, 0 = online CPUs"},
    {"--loops", OPT_COUNT, F(loops), 0, 0, PD_APP_MAX_LOOPS, "N|auto",
     "event-loop threads serving HTTP, each with its own listening socket (SO_REUSEPORT); "
     "auto or 0 = online CPUs"},
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
    {"--docs-dir", OPT_STR, F(docs_dir), sizeof(((pd__serve_config_t *)0)->docs_dir), 0, 0, "DIR",
     "swagger-ui-dist's files for GET /docs (default: " PD_DOCS_SUBDIR " of the checkout "
     "the binary was built in, or of the working directory)"},
    {"--feature-timeout-ms", OPT_INT, F(feature_timeout_ms), 0, 1, PD_FSOURCE_MAX_TIMEOUT_MS,
     "MS", "a feature lookup (Redis) not answered within this -> 504"},
    {"--feature-connections", OPT_INT, F(feature_connections), 0, 1,
     PD_FSOURCE_MAX_CONNECTIONS, "N", "connections per feature source, shared by requests"},
    {"--feature-max-pending", OPT_INT, F(feature_max_pending), 0, 1,
     PD_FSOURCE_MAX_PENDING_LIMIT, "KEYS", "keys in flight per feature source; more -> 503"},
    {"--max-model-memory", OPT_INT, F(max_model_memory), 0, 1LL << 24, 1LL << 40, "BYTES",
     "most memory parsing one model file may take (its budget is 12x its size, at least "
     "64 MiB, at most this); a file that would need more is refused"},
};
#undef F

/* The options whose value is one of a list (NULL-terminated), checked by opt_set. */
static const char *const k_log_levels[] = {"debug", "info", "warning", "warn", "error", "off",
                                           NULL};
static const char *const k_log_formats[] = {"text", "json", NULL};
static const char *const k_control_modes[] = {"none", "poll", "explicit", NULL};
static const struct {
    const char *name;
    const char *const *choices;
} k_choices[] = {
    {"--log-level", k_log_levels},
    {"--log-format", k_log_formats},
    {"--model-control", k_control_modes},
};

static const char *const *opt_choices(const opt_t *o)
{
    for (size_t i = 0; i < PD_ARRAY_SIZE(k_choices); i++)
        if (strcmp(k_choices[i].name, o->name) == 0)
            return k_choices[i].choices;
    return NULL;
}

void pd__serve_config_default(pd__serve_config_t *c);

/* The option's environment variable: --max-body-size -> PREDICTD_MAX_BODY_SIZE. */
static void env_name(const opt_t *o, char *out, size_t outlen)
{
    size_t n = (size_t)snprintf(out, outlen, PD_SERVE_ENV_PREFIX "%s", o->name + 2);
    for (size_t i = 0; i < n && i < outlen; i++)
        out[i] = out[i] == '-' ? '_' : (char)toupper((unsigned char)out[i]);
}

static void serve_usage(FILE *f)
{
    fputs("usage: predictd serve [options] [MODEL_FILE|MODEL_DIR ...]\n\n"
          "Serves the models in the files and directories given (default: $" PD_SERVE_ENV_MODELS
          ", else ./models).\n\n"
          "options (each also read from the environment variable in brackets; a flag wins):\n",
          f);
    pd__serve_config_t def;
    pd__serve_config_default(&def); /* defaults are printed from the config, never restated by hand */
    for (size_t i = 0; i < PD_ARRAY_SIZE(k_opts); i++) {
        const opt_t *o = &k_opts[i];
        const char *field = (const char *)&def + o->off;
        long long v;
        memcpy(&v, field, sizeof v);
        char left[48], dflt[64] = "", env[PD_SERVE_ENV_MAX];
        snprintf(left, sizeof left, "%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        if (o->kind == OPT_STR && field[0] != '\0')
            snprintf(dflt, sizeof dflt, " (default %s)", field);
        else if (o->kind == OPT_INT || o->kind == OPT_COUNT)
            snprintf(dflt, sizeof dflt, " (default %lld)", v);
        else if (o->kind == OPT_SECONDS)
            snprintf(dflt, sizeof dflt, " (default %g)", (double)v / 1000.0);
        else if (o->kind == OPT_BOOL)
            snprintf(dflt, sizeof dflt, " (default %s)", v ? "on" : "off");
        env_name(o, env, sizeof env);
        fprintf(f, "  %-28s %s%s [%s]\n", left, o->help, dflt, env);
    }
    fprintf(f, "  %-28s %s\n", "-h, --help", "show this help");
    fputs("\nenvironment:\n"
          "  " PD_SERVE_ENV_MODELS "              model paths separated by ':', used when none is "
          "given as an argument\n"
          "  " PD_CONTROL_TOKEN_ENV "         the control API's bearer token (explicit mode), "
          "unless --admin-token-file\n"
          "  An empty variable counts as unset. A boolean takes on/off, true/false, yes/no or "
          "1/0.\n", f);
}

void pd__serve_config_default(pd__serve_config_t *c)
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
    snprintf(c->log_format, sizeof c->log_format, "text");
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
    c->feature_timeout_ms = ao.feature_timeout_ms;
    c->feature_connections = ao.feature_connections;
    c->feature_max_pending = (long long)ao.feature_max_pending;
    c->max_models = (long long)ao.max_models;
    snprintf(c->model_control, sizeof c->model_control, "none");
    c->poll_ms = ao.poll_ms;
    c->loops = 1;
    c->max_model_memory = (long long)PD_MODEL_DEFAULT_MAX_PARSE_BYTES;
}

void pd__serve_config_free(pd__serve_config_t *c)
{
    free(c->models_env);
    c->models_env = NULL;
}

/* The --model-control mode (its value was checked against k_control_modes). */
static int control_mode(const pd__serve_config_t *c)
{
    for (int i = 0; k_control_modes[i]; i++)
        if (strcasecmp(c->model_control, k_control_modes[i]) == 0)
            return i;
    return PD_CONTROL_NONE;
}

/* Parses a boolean value (on/off, true/false, yes/no, 1/0). Returns 0/1, or -1. */
static int parse_bool(const char *v)
{
    static const char *const on[] = {"on", "true", "yes", "1"}, *const off[] = {"off", "false",
                                                                              "no", "0"};
    for (size_t i = 0; i < PD_ARRAY_SIZE(on); i++) {
        if (strcasecmp(v, on[i]) == 0)
            return 1;
        if (strcasecmp(v, off[i]) == 0)
            return 0;
    }
    return -1;
}

/* Stores one option's value; `src` names where it came from (the flag or the variable) in
 * the error. Returns 0, or 2 after printing the error line. */
static int opt_set(pd__serve_config_t *c, const opt_t *o, const char *src, const char *val)
{
    char *field = (char *)c + o->off;
    if (o->kind == OPT_STR) {
        if (val[0] == '\0' || strlen(val) >= o->str_size) {
            fprintf(stderr, "predictd serve: %s: value must be 1 to %zu characters\n", src,
                    o->str_size - 1);
            return 2;
        }
        const char *const *choices = opt_choices(o);
        if (choices) {
            size_t k = 0;
            while (choices[k] && strcasecmp(choices[k], val) != 0)
                k++;
            if (choices[k] == NULL) {
                char list[128] = "";
                for (k = 0; choices[k]; k++)
                    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                             k ? ", " : "", choices[k]);
                fprintf(stderr, "predictd serve: %s: expected one of %s, got '%s'\n", src, list,
                        val);
                return 2;
            }
        }
        memcpy(field, val, strlen(val) + 1);
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long v;
    if (o->kind == OPT_BOOL) {
        if ((v = parse_bool(val)) < 0) {
            fprintf(stderr, "predictd serve: %s: expected on or off, got '%s'\n", src, val);
            return 2;
        }
    } else if (o->kind == OPT_SECONDS) {
        double d = strtod(val, &end);
        if (errno || end == val || *end || !isfinite(d) || d * 1000.0 < (double)o->min ||
            d * 1000.0 > (double)o->max) {
            fprintf(stderr, "predictd serve: %s: expected seconds in [%g, %g], got '%s'\n",
                    src, (double)o->min / 1000.0, (double)o->max / 1000.0, val);
            return 2;
        }
        v = (long long)llround(d * 1000.0);
    } else if (o->kind == OPT_COUNT && strcasecmp(val, "auto") == 0) {
        v = 0;
    } else {
        v = strtoll(val, &end, 10);
        if (errno || end == val || *end || v < o->min || v > o->max) {
            fprintf(stderr, "predictd serve: %s: expected an integer in [%lld, %lld], got '%s'\n",
                    src, o->min, o->max, val);
            return 2;
        }
    }
    memcpy(field, &v, sizeof v);
    return 0;
}

static const opt_t *find_opt(const char *name, size_t nlen)
{
    for (size_t k = 0; k < PD_ARRAY_SIZE(k_opts); k++)
        if (strlen(k_opts[k].name) == nlen && strncmp(k_opts[k].name, name, nlen) == 0)
            return &k_opts[k];
    return NULL;
}

/* Splits $PREDICTD_MODELS (':'-separated; empty parts are skipped) into c->models.
 * Returns 0 or 2. */
static int models_from_env(pd__serve_config_t *c, const char *val)
{
    if ((c->models_env = strdup(val)) == NULL) {
        fprintf(stderr, "predictd serve: out of memory\n");
        return 2;
    }
    char *save = NULL;
    for (char *p = strtok_r(c->models_env, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        if (c->n_models == PD_SERVE_MAX_MODEL_ARGS) {
            fprintf(stderr, "predictd serve: %s: more than %d model paths\n",
                    PD_SERVE_ENV_MODELS, PD_SERVE_MAX_MODEL_ARGS);
            return 2;
        }
        c->models[c->n_models++] = p;
    }
    return 0;
}

/* A value Kubernetes (or Docker's legacy links) puts in PREDICTD_PORT when a Service named
 * "predictd" exists: tcp://10.0.0.7:8000. It is never a port, so it is ignored with a
 * warning rather than refused (which would crash-loop every pod beside that Service). */
static int is_service_link(const opt_t *o, const char *val)
{
    return strcmp(o->name, "--port") == 0 && strncmp(val, "tcp://", 6) == 0;
}

/* Reads the variable of every option the command line did not give (given[k]); an empty
 * one counts as unset. Returns 0 or 2. */
static int parse_env(pd__serve_config_t *c, const unsigned char *given)
{
    for (size_t k = 0; k < PD_ARRAY_SIZE(k_opts); k++) {
        const opt_t *o = &k_opts[k];
        if (given[k])
            continue;
        char name[PD_SERVE_ENV_MAX];
        env_name(o, name, sizeof name);
        const char *val = getenv(name);
        if (val == NULL || val[0] == '\0')
            continue;
        if (is_service_link(o, val)) {
            c->service_link = val;
            continue;
        }
        int rc = opt_set(c, o, name, val);
        if (rc)
            return rc;
    }
    return 0;
}

/* Warns about PREDICTD_* variables that configure nothing (a typo would otherwise be
 * silently ignored). Not warned: the options' variables, PREDICTD_MODELS, the admin token,
 * PREDICTD_BIN (the tests' and benchmarks' binary) and the names of Kubernetes' service
 * links (PREDICTD_SERVICE_*, PREDICTD_PORT_*). */
void pd__serve_warn_unknown_env(const pd__serve_config_t *c)
{
    for (char **e = environ; e && *e; e++) {
        const char *v = *e, *eq = strchr(v, '=');
        size_t n = eq ? (size_t)(eq - v) : strlen(v);
        if (strncmp(v, PD_SERVE_ENV_PREFIX, PD_LIT_LEN(PD_SERVE_ENV_PREFIX)) != 0 ||
            (n == PD_LIT_LEN(PD_SERVE_ENV_MODELS) && strncmp(v, PD_SERVE_ENV_MODELS, n) == 0) ||
            (n == strlen(PD_CONTROL_TOKEN_ENV) && strncmp(v, PD_CONTROL_TOKEN_ENV, n) == 0) ||
            (n == PD_LIT_LEN("PREDICTD_BIN") && strncmp(v, "PREDICTD_BIN", n) == 0) ||
            strncmp(v, "PREDICTD_SERVICE_", PD_LIT_LEN("PREDICTD_SERVICE_")) == 0 ||
            strncmp(v, "PREDICTD_PORT_", PD_LIT_LEN("PREDICTD_PORT_")) == 0)
            continue;
        int known = 0;
        for (size_t k = 0; k < PD_ARRAY_SIZE(k_opts) && !known; k++) {
            char name[PD_SERVE_ENV_MAX];
            env_name(&k_opts[k], name, sizeof name);
            known = strlen(name) == n && strncmp(v, name, n) == 0;
        }
        if (!known)
            pd_log_warn("environment variable %.*s is not a predictd setting (ignored; see "
                        "predictd serve --help)", (int)n, v);
    }
    if (c->service_link)
        pd_log_warn("PREDICTD_PORT=%s looks like a Kubernetes service link (a Service named "
                    "predictd) and is ignored; set enableServiceLinks: false in the pod spec",
                    c->service_link);
}

/* Parses argv (argv[0] is "serve"), then the environment for what argv did not give.
 * Returns 0, 1 (help printed: exit 0) or 2. */
int pd__serve_config_parse(int argc, char **argv, pd__serve_config_t *c)
{
    unsigned char given[PD_ARRAY_SIZE(k_opts)] = {0};
    size_t n_args = 0; /* positional paths on the command line */
    int rc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            serve_usage(stdout);
            return 1;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            if (n_args == PD_SERVE_MAX_MODEL_ARGS) {
                fprintf(stderr, "predictd serve: more than %d model paths\n",
                        PD_SERVE_MAX_MODEL_ARGS);
                return 2;
            }
            c->models[n_args++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const opt_t *o = find_opt(a, nlen);
        if (o == NULL) {
            fprintf(stderr, "predictd serve: unknown option '%.*s' (try --help)\n", (int)nlen, a);
            return 2;
        }
        const char *val;
        if (o->kind == OPT_BOOL) /* bare: on; --flag=VALUE; or on/off as the next argument */
            val = eq                                          ? eq + 1
                  : i + 1 < argc && (strcmp(argv[i + 1], "on") == 0 ||
                                     strcmp(argv[i + 1], "off") == 0) ? argv[++i]
                                                                      : "on";
        else if ((val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL)) == NULL) {
            fprintf(stderr, "predictd serve: %s needs a value\n", o->name);
            return 2;
        }
        if ((rc = opt_set(c, o, o->name, val)) != 0)
            return rc;
        given[o - k_opts] = 1;
    }
    if ((rc = parse_env(c, given)) != 0)
        return rc;
    if (n_args > 0)
        c->n_models = n_args;
    else if (getenv(PD_SERVE_ENV_MODELS) && (rc = models_from_env(c, getenv(PD_SERVE_ENV_MODELS))))
        return rc;
    if (control_mode(c) == PD_CONTROL_EXPLICIT && c->admin_token_file[0] == '\0' &&
        getenv(PD_CONTROL_TOKEN_ENV) == NULL) {
        fprintf(stderr, "predictd serve: --model-control explicit needs an admin token: "
                        "--admin-token-file FILE or the %s environment variable\n",
                PD_CONTROL_TOKEN_ENV);
        return 2;
    }
    return 0;
}

void pd__serve_http_options(const pd__serve_config_t *c, pd_http_options_t *o)
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
    o->access_log = 0; /* serve writes the access log itself (access_after_response) */
}

void pd__serve_app_options(const pd__serve_config_t *c, pd_app_options_t *o)
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
    o->feature_timeout_ms = (uint32_t)c->feature_timeout_ms;
    o->feature_connections = (uint32_t)c->feature_connections;
    o->feature_max_pending = (size_t)c->feature_max_pending;
    o->docs_dir = c->docs_dir[0] ? c->docs_dir : NULL;
    o->loops = pd__serve_loops(c);
}

unsigned pd__serve_loops(const pd__serve_config_t *c)
{
    if (c->loops > 0)
        return (unsigned)c->loops;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)PD_MIN(n, (long)PD_APP_MAX_LOOPS) : 1;
}
