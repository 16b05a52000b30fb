/* serve_config.h - `predictd serve`'s configuration: its options (one table in
 * serve_config.c: name, kind, range, default, help, environment variable), their parsing
 * from the command line and the environment, and their mapping onto the server's and the
 * app's options. Internal to src/cli/ (serve.c runs what it describes). Main thread only. */
#ifndef PD_CLI_SERVE_CONFIG_H
#define PD_CLI_SERVE_CONFIG_H

#include <stddef.h>

#include "api/app.h"
#include "api/docs.h"
#include "http/http.h"

#define PD_SERVE_MAX_MODEL_ARGS 256
#define PD_SERVE_DEFAULT_MODEL_DIR "models"
#define PD_SERVE_ENV_PREFIX "PREDICTD_"
#define PD_SERVE_ENV_MODELS "PREDICTD_MODELS" /* ':'-separated model paths */
#define PD_SERVE_ENV_MAX 64                   /* longest variable name */

extern char **environ;

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
    char log_format[8];
    long long access_log;       /* on/off */
    char default_model[160];
    long long max_models;
    char model_control[16];
    long long poll_ms;
    long long strict;           /* on/off */
    char admin_token_file[4096];
    long long workers;
    long long loops;            /* 0: auto (online CPUs) */
    long long max_queue;
    long long max_batch;
    long long max_rows;
    long long decode_on_worker_above;
    long long inline_below_us;
    long long queue_timeout_ms;
    long long slow_callback_ms;
    long long worker_nice;
    long long feature_timeout_ms;
    long long feature_connections;
    long long feature_max_pending;
    long long max_model_memory; /* pd_model_set_max_parse_bytes */
    char docs_dir[PD_DOCS_DIR_MAX];
    const char *models[PD_SERVE_MAX_MODEL_ARGS]; /* positional: files or directories
                                                  * (into argv or models_env) */
    size_t n_models;
    char *models_env;           /* a split copy of $PREDICTD_MODELS, or NULL; freed by
                                   config_free */
    const char *service_link;   /* an ignored PREDICTD_PORT=tcp://..., or NULL */
} pd__serve_config_t;

/* Fills *c with every option's default, taken from the modules' own defaults. */
void pd__serve_config_default(pd__serve_config_t *c);
/* Parses the environment (PREDICTD_*), then argv (argv[0] is "serve"; a flag wins over
 * its variable) into c. argv must outlive c (model paths point into it). Returns 0, 1
 * (--help printed: exit 0) or 2 (a usage error, one line on stderr). */
int pd__serve_config_parse(int argc, char **argv, pd__serve_config_t *c);
/* Frees what parsing allocated (the split $PREDICTD_MODELS). Accepts a default config. */
void pd__serve_config_free(pd__serve_config_t *c);
/* Warns once about PREDICTD_* variables that name no option (typos), and about an ignored
 * Kubernetes service link. Call after the log is set up. */
void pd__serve_warn_unknown_env(const pd__serve_config_t *c);
/* The server's options as c says (borrowed for the call). */
void pd__serve_http_options(const pd__serve_config_t *c, pd_http_options_t *o);
/* The app's options as c says; o's pointers point into c, which must outlive o. */
void pd__serve_app_options(const pd__serve_config_t *c, pd_app_options_t *o);

/* The number of event loops: --loops, with auto (0) resolved to the online CPUs. */
unsigned pd__serve_loops(const pd__serve_config_t *c);

/* A runtime failure: "predictd serve: MSG" on stderr, or an error line in JSON when the
 * log format is JSON; never silenced by the log level (serve.c). */
void pd__serve_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* With --access-log, wraps hooks->after_response (the app's) so that each answer is also
 * logged with the client's address (serve.c). Same wrapper for every loop. */
void pd__serve_access_log(const pd__serve_config_t *c, pd_http_hooks_t *hooks);

/* Serves with pd__serve_loops(c) > 1 event loops until drained (serve_loops.c). Returns
 * the exit code, as serve does. */
int pd__serve_loops_run(const pd__serve_config_t *c);

#endif
