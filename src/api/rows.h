/* rows.h - one decoded prediction request: a matrix of rows x the model's input columns
 * (NaN where a value is missing), what the client asked for, and the results.
 *
 * Every codec decodes into a pd_rows_t and encodes from one, so the protocols share one
 * request pipeline (api/predict.c): decode -> chunks of rows on the pool -> encode.
 *
 * Ownership and threads: a pd_rows_t belongs to one request. It is filled by a codec's
 * decode (on the loop thread, or on a worker for a big body), then read by workers, each
 * chunk its own disjoint row range of x and of the results, then read by encode. Only one
 * thread touches it at a time, except those disjoint ranges. Small requests (a few rows
 * of a narrow model) live entirely in the struct's inline storage: no allocation. */
#ifndef PD_API_ROWS_H
#define PD_API_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

/* Rows per request unless --max-rows says otherwise. */
#define PD_ROWS_DEFAULT_MAX 10000
/* Largest --max-rows accepted. */
#define PD_ROWS_MAX_LIMIT 10000000
/* Most columns (model features) a request matrix holds; the registry refuses wider
 * models, and the codecs may rely on it. */
#define PD_ROWS_MAX_COLS 65536
/* Doubles of inline storage for x and for the results (each). */
#define PD_ROWS_INLINE 32
/* Bytes of extra header lines encode may set for the answer (pd_rows_reply_t). */
#define PD_ROWS_REPLY_HEADERS 96

/* What a request asks for (bits). */
enum {
    PD_OUT_LABEL = 1u, /* the label (classifiers) or the value (regressors) */
    PD_OUT_PROBA = 2u  /* the probability of every class (classifiers only) */
};
/* The model's named output k (schema.outputs[k], k < PD_MODEL_MAX_OUTPUTS): set with
 * pd_rows_want_output, which also records its width. */
#define PD_OUT_NAMED(k) (4u << (k))
/* Every named output's bit. */
#define PD_OUT_NAMED_ALL (((1u << PD_MODEL_MAX_OUTPUTS) - 1u) << 2)

/* What encode may say about the answer besides its body (a V2 binary answer: its own
 * Content-Type and an Inference-Header-Content-Length line). Owned by the caller of
 * encode (the pipeline keeps one per request); the pipeline uses it for a 200 answer only,
 * so an error answered later is never sent with it. */
typedef struct pd_rows_reply_s {
    const char *content_type;            /* static storage; NULL: the codec's content_type */
    char headers[PD_ROWS_REPLY_HEADERS]; /* complete "Name: value\r\n" lines, or "" */
} pd_rows_reply_t;

typedef struct pd_rows_s {
    size_t n_cols;     /* values per row: the model's features */
    size_t n_rows;     /* rows decoded */
    size_t max_rows;   /* pd_rows_add refuses more (PD_ETOOBIG) */
    double *x;         /* n_rows * n_cols, row-major, NaN = missing */
    size_t cap_rows;   /* rows x can hold */
    unsigned outputs;  /* PD_OUT_* bits: set by the route, a codec may change them */
    int single;        /* the body held one object, not a list: answer one result */
    /* Results, allocated by pd_rows_results; row i's are cls[i], val[i] and
     * proba[i * n_classes ...]. Written by the workers, read by encode. */
    size_t n_classes;
    int32_t *cls;      /* classifiers: index into the model's classes */
    double *val;       /* regressors: the predicted value */
    double *proba;     /* classifiers asked for PD_OUT_PROBA: n_rows * n_classes, or NULL */
    /* Named outputs asked for (PD_OUT_NAMED(k)): row i's values of schema.outputs[k] are
     * extra[k][i * extra_width[k] ...]; extra[k] is NULL when output k is not asked for.
     * The widths are set by pd_rows_want_output, the buffers by pd_rows_results. */
    size_t extra_width[PD_MODEL_MAX_OUTPUTS];
    double *extra[PD_MODEL_MAX_OUTPUTS];
    /* Per-request state of the codec that decoded these rows (V2: the outputs asked for
     * and how, the request's id), for its encode; NULL for codecs that keep none. Owned:
     * pd_rows_free calls codec_state_free(codec_state). Set by decode, read by encode
     * (which may update what it points to: one thread at a time, as for the rows). */
    void *codec_state;
    void (*codec_state_free)(void *state);
    /* Set by decode: how long the client lets its rows wait in the queue (V2's
     * parameters.timeout), 0 = no limit of its own. The pipeline gives the rows' jobs the
     * earlier of this and --queue-timeout, counted from when they are queued. */
    uint64_t timeout_ns;
    /* Where encode may describe its answer (see pd_rows_reply_t): the caller's, or NULL
     * (then encode writes the body only). pd_rows_init sets NULL. */
    pd_rows_reply_t *reply;
    /* private */
    double *x_heap, *res_heap;
    double x_inline[PD_ROWS_INLINE];
    double res_inline[PD_ROWS_INLINE];
} pd_rows_t;

/* Prepares an empty matrix of n_cols columns that accepts at most max_rows rows
 * (0: PD_ROWS_DEFAULT_MAX). outputs starts as PD_OUT_LABEL. Allocates nothing. */
void pd_rows_init(pd_rows_t *r, size_t n_cols, size_t max_rows);

/* Appends one row, every value NaN (missing), and points *row at its n_cols values, valid
 * until the next pd_rows_add. Returns 0, PD_ETOOBIG (max_rows rows already: the request
 * is refused with 413) or PD_ENOMEM. */
int pd_rows_add(pd_rows_t *r, double **row);

/* Makes room for n_rows rows at once (the codec knows the count, e.g. from a tensor's
 * shape), all NaN; rows already added are kept. Returns 0, PD_ETOOBIG or PD_ENOMEM. */
int pd_rows_resize(pd_rows_t *r, size_t n_rows);

/* Asks for the model's named output k (k < PD_MODEL_MAX_OUTPUTS), `width` values per
 * row (schema.outputs[k].width >= 1): sets PD_OUT_NAMED(k) in outputs. Decode (or the
 * route) calls it before pd_rows_results. Returns 0 or PD_EINVAL (k or width out of
 * range). */
int pd_rows_want_output(pd_rows_t *r, size_t k, size_t width);

/* Allocates the results for the n_rows rows decoded: cls and val always, proba when
 * outputs has PD_OUT_PROBA and n_classes > 0, extra[k] (n_rows * extra_width[k]) for
 * each PD_OUT_NAMED(k) asked for; one allocation for all of them (none when they fit the
 * inline storage). Returns 0 or PD_ENOMEM. */
int pd_rows_results(pd_rows_t *r, size_t n_classes);

/* Values of results per row the answer holds: the label, the probabilities asked for and
 * the named outputs' widths (what an answer's size grows with). */
size_t pd_rows_values_per_row(const pd_rows_t *r);

/* Frees what r allocated, the codec's state included, and leaves it empty (as after
 * pd_rows_init with the same n_cols and max_rows: no named output asked for). Accepts
 * NULL. */
void pd_rows_free(pd_rows_t *r);

#endif
