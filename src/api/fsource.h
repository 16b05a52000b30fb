/* fsource.h - online feature lookup: a model's settings name a feature source (a store
 * such as Redis, docs/features.md), each request names entities by key fields, and the
 * features the request leaves out are read from the store ON THE LOOP, with the store's
 * asynchronous client, before the rows go to the worker pool like any others. No worker
 * thread ever does I/O, and the loop never waits on the store.
 *
 * Three parts:
 *  - pd_fsource_spec_t: a model version's feature source as its settings describe it
 *    (parsed off the loop with the model, owned and freed by the version, immutable);
 *  - pd_fsources_t: the live sources, one per store URL, shared by every model version
 *    that names it (connections, reconnects, timeouts, metrics, health);
 *  - pd_fetch_t: one request's lookup: the entity key of each row that lacks features
 *    (extracted from the body where the body is decoded: loop or worker), then one
 *    pipelined round trip for all of them, then the missing cells filled in.
 *
 * A store kind is an operations table (fsource_impl.h): Redis is fsource_redis.c; another
 * store is one file plus one line in the list in fsource_spec.c.
 *
 * Threads: pd_fsource_spec_* and pd_fetch_prepare run on any thread (pure, or touching
 * only their arguments); everything else runs on the loop thread only. */
#ifndef PD_API_FSOURCE_H
#define PD_API_FSOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "api/rows.h"
#include "obs/metrics.h"
#include "util/buf.h"

/* --feature-timeout-ms: a lookup not answered within this is answered 504. */
#define PD_FSOURCE_DEFAULT_TIMEOUT_MS 50
#define PD_FSOURCE_MAX_TIMEOUT_MS 60000
/* --feature-connections: connections per source (requests share them). */
#define PD_FSOURCE_DEFAULT_CONNECTIONS 2
#define PD_FSOURCE_MAX_CONNECTIONS 16
/* --feature-max-pending: keys in flight per source; past it a request is answered 503. */
#define PD_FSOURCE_DEFAULT_MAX_PENDING 65536
#define PD_FSOURCE_MAX_PENDING_LIMIT 10000000
/* Distinct sources (store URLs) open at once. */
#define PD_FSOURCE_MAX_SOURCES 64
/* Bounds of a settings' feature_source. */
#define PD_FSOURCE_URL_MAX 1024          /* bytes of the store's URL */
#define PD_FSOURCE_TEMPLATE_MAX 256      /* bytes of the key template */
#define PD_FSOURCE_MAX_KEY_FIELDS 8      /* distinct {fields} in the key template */
#define PD_FSOURCE_NAME_MAX 64           /* bytes of a {field} name */
#define PD_FSOURCE_FIELD_MAX 256         /* bytes of a stored (hash) field name */
#define PD_FSOURCE_KEY_MAX 512           /* bytes of one expanded entity key */
/* Bytes of an error message about a lookup (keys and fields are cut to fit). */
#define PD_FSOURCE_MSG_MAX 512

struct pd_fsource_ops_s;

/* One part of a key template "user:{user_id}": literal text, or a request field. */
typedef struct pd_fsource_part_s {
    int field;       /* 1: the value of key field `index`; 0: the literal text */
    size_t index;    /* field: index into key_fields */
    const char *text; /* literal: points into the spec's key (not NUL-terminated) */
    size_t len;
} pd_fsource_part_t;

/* A model version's feature source, as its settings say (immutable once parsed). */
typedef struct pd_fsource_spec_s {
    const struct pd_fsource_ops_s *ops; /* the store kind (static storage) */
    char *url;                /* owned: the store's URL as written */
    char *display;            /* owned: the URL with any password hidden; names the source
                                 in answers, logs, metrics and /models */
    char *key;                /* owned: the key template as written, e.g. "user:{user_id}" */
    pd_fsource_part_t *parts; /* owned: the template, n_parts parts */
    size_t n_parts;
    char **key_fields;        /* owned: the distinct request fields the key names */
    size_t n_key_fields;
    char **fields;            /* owned: the stored field of each model feature, in the
                                 model's feature order ("fields", else the feature's name) */
    size_t *field_lens;       /* owned: their lengths */
    size_t n_features;
    int missing_ok;           /* the model takes missing values */
} pd_fsource_spec_t;

/* Parses the settings document text[0, len) (a JSON object, e.g. settings.json) for the
 * model whose inputs are features[0, n_features) (borrowed for the call):
 *   "feature_source": {"redis": "redis://HOST:PORT[/DB]", "key": "user:{user_id}",
 *                      "fields": {"<feature>": "<stored field>"}}       ("fields" optional)
 * *out is NULL when the settings have no feature_source (not an error). Refused, with one
 * line in err naming the member: not JSON, a duplicate key, not an object, an unknown
 * member or store, a bad URL, a key template without a {field}, with a stray brace, a
 * field named like a feature, a "fields" entry for no feature. Returns 0, PD_EINVAL or
 * PD_ENOMEM. Any thread. Free *out with pd_fsource_spec_free. */
int pd_fsource_spec_parse(const char *text, size_t len, const char *const *features,
                          size_t n_features, int missing_ok, pd_fsource_spec_t **out,
                          char *err, size_t errlen);

/* Reads the settings file at path (at most max_bytes) and parses it as above; a missing
 * file is no feature source (*out NULL, returns 0). err names the file. Any thread (it
 * blocks on the file: call it where model files are read, on libuv's threadpool). */
int pd_fsource_spec_read(const char *path, size_t max_bytes, const char *const *features,
                         size_t n_features, int missing_ok, pd_fsource_spec_t **out,
                         char *err, size_t errlen);

/* The store kind spec names ("redis"; static storage). Any thread. */
const char *pd_fsource_spec_kind(const pd_fsource_spec_t *spec);

/* Frees a spec and everything it owns. Accepts NULL. Any thread (one owner). */
void pd_fsource_spec_free(pd_fsource_spec_t *s);

/* ---- live sources (loop thread) ---- */

typedef struct pd_fsource_options_s {
    uint32_t timeout_ms;   /* per lookup; 0: PD_FSOURCE_DEFAULT_TIMEOUT_MS */
    uint32_t connections;  /* per source; 0: PD_FSOURCE_DEFAULT_CONNECTIONS */
    size_t max_pending;    /* keys in flight per source; 0: PD_FSOURCE_DEFAULT_MAX_PENDING */
} pd_fsource_options_t;

typedef struct pd_fsources_s pd_fsources_t;
struct pd_registry_s;

/* Creates the live-source table on loop with its metrics in `metrics` (may be NULL):
 *   predictd_feature_lookup_seconds{source}           histogram: one request's lookup
 *   predictd_feature_lookup_keys{source}              histogram: keys per request
 *   predictd_feature_lookup_errors_total{source,kind} kind: timeout, unavailable, busy,
 *                                                     missing, not_a_number, wrong_type,
 *                                                     key, store
 *   predictd_feature_source_up{source}                1 while a connection is up
 *   predictd_feature_source_connections{source}       connections up
 *   predictd_feature_source_connects_total{source}    connections (re)established
 * reg (borrowed, must outlive it) is swept every PD_FSOURCE_SWEEP_MS: every source a
 * served version names is opened (connections start), a source no version names and no
 * lookup uses is closed. None of its handles keeps the loop alive. Returns 0 or a
 * negative code. */
int pd_fsources_create(pd_fsources_t **out, uv_loop_t *loop, struct pd_registry_s *reg,
                       pd_metrics_t *metrics, const pd_fsource_options_t *o);

/* Opens every source the registry's served versions name, now (start-up: before the
 * server listens, so that connections are usually up when the first request comes). */
void pd_fsources_sweep(pd_fsources_t *fs);

/* Closes every source (lookups still in flight end with an error, their callbacks run
 * first) and frees the table once its handles are closed: run the loop once more after.
 * Call when no request is unanswered. Accepts NULL. */
void pd_fsources_destroy(pd_fsources_t *fs);

/* The state of spec's source: "up", "connecting", "down", or "closed" (not open). */
const char *pd_fsources_state(pd_fsources_t *fs, const pd_fsource_spec_t *spec);

/* Appends ,"feature_sources":[{"source":"...","state":"up"},...] to out when any source
 * is open (nothing otherwise). Returns 0 or a pd_buf error. */
int pd_fsources_report(pd_fsources_t *fs, pd_buf_t *out);

/* 1 while any open source is not up (reported by /v2/health/ready). */
int pd_fsources_any_down(pd_fsources_t *fs);

/* ---- one request's lookup ---- */

typedef struct pd_fetch_s pd_fetch_t;

/* After the codec decoded `rows` from body[0, len) (every model feature a column, NaN
 * where the request left it out, 0 rows allowed): extracts the entity key of every row
 * that has a NaN cell from the same body (bytes borrowed for the call): an object is one
 * row, an array one row per element, the key fields named by spec's template, each a
 * string or an integer; and expands spec's template with them. *out is NULL when no row
 * needs a lookup. A bad key field (absent, another type, a key over PD_FSOURCE_KEY_MAX)
 * still returns 0 with a fetch that pd_fetch_start answers 422 (row and field named).
 * Returns 0, PD_ENOMEM, or PD_EINVAL (the rows do not match the body). Any thread; spec
 * and rows are borrowed for the call; free *out with pd_fetch_free. */
int pd_fetch_prepare(const pd_fsource_spec_t *spec, const char *body, size_t len,
                     const pd_rows_t *rows, pd_fetch_t **out);

struct pd_model_input_s;
/* Gives f the model's input types (schema.inputs, n_cols entries, borrowed until the
 * fetch ends; NULL: all numbers): a stored value of a string feature is a category,
 * decoded to its code; an unknown one where the encoder refuses it, or a number feature's
 * value outside its known ones, is a 422. Any thread, before pd_fetch_start. */
void pd_fetch_set_inputs(pd_fetch_t *f, const struct pd_model_input_s *inputs);

/* Called once on the loop when a started lookup ends: status 0 (every missing cell that
 * the store holds is filled in; rows may go to the pool), or an HTTP status (422, 503,
 * 504) with pd_fetch_message / pd_fetch_extra_headers telling why. */
typedef void (*pd_fetch_done_cb)(void *arg, int status);

/* Sends f's keys to spec's source (opening it on first use) as one pipelined round trip
 * and fills `rows` (borrowed until done is called or the fetch is canceled) as replies
 * arrive. Returns 0: done(arg, status) follows later, never from inside this call. Or
 * returns an HTTP status at once (503 the source is down or busy), nothing sent. Loop. */
int pd_fetch_start(pd_fsources_t *fs, const pd_fsource_spec_t *spec, pd_fetch_t *f,
                   pd_rows_t *rows, pd_fetch_done_cb done, void *arg);

/* The request no longer waits (its client went away): done will not be called and rows
 * will not be touched; replies still in flight are received and dropped. Loop. */
void pd_fetch_cancel(pd_fetch_t *f);

/* Why the lookup failed (static storage or f's; valid until pd_fetch_free). */
const char *pd_fetch_message(const pd_fetch_t *f);
/* Extra header lines for the answer ("Retry-After: 1\r\n" on 503), or NULL. */
const char *pd_fetch_extra_headers(const pd_fetch_t *f);

/* Releases the request's hold on f: freed now, or when the store's last reply for it
 * arrives. Cancels it first if it is still waiting. Accepts NULL. Loop thread once
 * started; any thread before. */
void pd_fetch_free(pd_fetch_t *f);

#endif
