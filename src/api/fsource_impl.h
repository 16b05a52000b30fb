/* fsource_impl.h - the inside of online feature lookup (fsource.h): the operations table a
 * store kind implements, the live source and the lookup the generic layer keeps, and the
 * calls a store makes back as its replies arrive. Internal to src/api/fsource*.c.
 *
 * Adding a store kind: one fsource_<kind>.c defining a const pd_fsource_ops_t, declared
 * below, and one line in k_stores (fsource_spec.c). The generic layer owns timeouts,
 * cancellation, filling the rows, errors and metrics; a store only connects, sends a
 * lookup's keys as one round trip, and reports each key's reply in the order sent.
 *
 * Lifetimes (loop thread): a pd_fetch_t is held by its request (until pd_fetch_free) and
 * by its store (from a successful send until its last reply, which every store delivers:
 * a real one, or "lost" when the connection goes or the store closes). It is freed when
 * both let go. While the request waits, the fetch is "attached": in its source's waiting
 * list, with rows/spec borrowed from the request; a timeout or a cancel detaches it, and
 * after that replies are only counted, never written anywhere. */
#ifndef PD_API_FSOURCE_IMPL_H
#define PD_API_FSOURCE_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "api/fsource.h"
#include "util/list.h"

/* The registry is swept (sources opened and closed, stores ticked) this often. */
#define PD_FSOURCE_SWEEP_MS 1000
/* A stored value longer than this is not a number. */
#define PD_FSOURCE_NUMBER_MAX 64
/* Bytes of a stored value, of an entity key and of a store's own error text quoted in
 * an error message. */
#define PD_FSOURCE_QUOTE_MAX 32
#define PD_FSOURCE_KEY_QUOTE_MAX 128
#define PD_FSOURCE_STORE_QUOTE_MAX 200

typedef struct pd_fstore_s pd_fstore_t; /* a store kind's state for one source */

typedef enum {
    PD_FSTORE_DOWN = 0,       /* no connection: lookups are answered 503 at once */
    PD_FSTORE_CONNECTING = 1, /* first connection in progress: also 503 */
    PD_FSTORE_UP = 2          /* at least one connection up */
} pd_fstore_state_t;

typedef struct pd_fstore_stats_s {
    unsigned up;         /* connections up */
    uint64_t connects;   /* connections established so far (first and re-) */
    size_t pending;      /* keys sent and not yet answered */
} pd_fstore_stats_t;

/* A store kind. Every operation except check runs on the loop thread. */
typedef struct pd_fsource_ops_s {
    const char *kind; /* the settings member naming it and its URL: "redis" */
    /* Validates url and writes its display form (no password) into display. Pure, any
     * thread. Returns 0 or PD_EINVAL with a reason in err. */
    int (*check)(const char *url, char *display, size_t displen, char *err, size_t errlen);
    /* Starts connecting to url (checked) in the background: never blocks the loop; its
     * handles do not keep the loop alive. display is copied. Returns 0 or a negative
     * code. */
    int (*open)(pd_fstore_t **out, uv_loop_t *loop, const char *url, const char *display,
                const pd_fsource_options_t *o);
    pd_fstore_state_t (*state)(const pd_fstore_t *s);
    /* Sends every key of f (pd__fetch_key), reading spec's fields, as one pipelined round
     * trip on one connection. Returns 0 (the store holds f until its last reply), or, with
     * nothing sent: PD_ESHUTDOWN (down), PD_EFULL (max_pending keys in flight), PD_ENOMEM. */
    int (*send)(pd_fstore_t *s, pd_fetch_t *f, const pd_fsource_spec_t *spec);
    /* Housekeeping every PD_FSOURCE_SWEEP_MS (e.g. drop a stalled connection). */
    void (*tick)(pd_fstore_t *s);
    void (*stats)(const pd_fstore_t *s, pd_fstore_stats_t *st);
    /* Ends every lookup in flight ("lost", before it returns) and frees the store once its
     * handles are closed. */
    void (*close)(pd_fstore_t *s);
} pd_fsource_ops_t;

extern const pd_fsource_ops_t pd_fsource_redis;

/* The store kind named `kind`, or NULL (the list lives in fsource_spec.c). */
const pd_fsource_ops_t *pd__fsource_kind(const char *kind);
/* The n-th store kind (0-based), or NULL past the last. */
const pd_fsource_ops_t *pd__fsource_kind_at(size_t n);

/* Error kinds, for predictd_feature_lookup_errors_total{kind}. */
typedef enum {
    PD__FERR_TIMEOUT = 0, /* 504: no answer within --feature-timeout-ms */
    PD__FERR_UNAVAILABLE, /* 503: the source is down, or the connection went */
    PD__FERR_BUSY,        /* 503: --feature-max-pending keys in flight */
    PD__FERR_MISSING,     /* 422: no such entity or field (model takes no missing values) */
    PD__FERR_NAN,         /* 422: a stored value is not a number */
    PD__FERR_WRONGTYPE,   /* 422: the key holds something else than an entity */
    PD__FERR_KEY,         /* 422: the request's key field is absent or of another type */
    PD__FERR_STORE,       /* 503: the store answered an error */
    PD__FERR_N
} pd__ferr_t;

/* The kind label of each pd__ferr_t (fsource.c). */
extern const char *const pd__ferr_names[PD__FERR_N];

/* One live source: a store URL and its store, shared by every version naming it. */
typedef struct pd_fsource_s {
    struct pd_fsources_s *owner;
    const pd_fsource_ops_t *ops;
    char *url, *display;        /* owned */
    pd_fstore_t *store;
    pd_list_t waiting;          /* attached fetches, oldest (earliest deadline) first */
    uv_timer_t timer;           /* the head's deadline; the struct is freed on its close */
    int used;                   /* named by a served version at the last sweep */
    pd_fstore_state_t last;     /* state at the last look, to log changes once */
    pd_metrics_series_t *latency, *keys, *errors[PD__FERR_N], *up, *conns, *connects;
} pd_fsource_t;

/* The live-source table (fsource.c). */
struct pd_fsources_s {
    uv_loop_t *loop;
    struct pd_registry_s *reg;  /* borrowed */
    pd_fsource_options_t o;     /* resolved: no zeros */
    pd_fsource_t *srcs[PD_FSOURCE_MAX_SOURCES];
    size_t n;
    uv_timer_t sweep;           /* the struct is freed on its close */
    pd_metrics_family_t *f_latency, *f_keys, *f_errors, *f_up, *f_conns, *f_connects;
};

struct pd_fetch_s {
    /* set by pd_fetch_prepare */
    size_t n_keys;
    uint32_t *row_of;         /* n_keys: the request row each key fills */
    size_t *key_off;          /* n_keys + 1: key k is keys[key_off[k]] (NUL-terminated) */
    char *keys;
    int status;               /* 0, or the HTTP status of an error already decided */
    int err_kind;             /* pd__ferr_t of that error */
    const char *extra;        /* extra header lines of the error answer, or NULL */
    char msg[PD_FSOURCE_MSG_MAX];
    /* loop, once started */
    pd_fsource_t *src;        /* while attached */
    const pd_fsource_spec_t *spec; /* while attached: borrowed from the request's version */
    pd_rows_t *rows;          /* while attached */
    const struct pd_model_input_s *inputs; /* pd_fetch_set_inputs, or NULL */
    pd_fetch_done_cb done;
    void *arg;
    pd_list_t link;           /* in src->waiting while attached */
    uint64_t t0_ns;           /* sent at (uv_hrtime) */
    uint64_t deadline_ms;     /* uv_now() + timeout */
    size_t replied;           /* replies received: the next reply is key `replied`'s */
    size_t row_cells, row_absent; /* the current reply: cells reported, absent ones */
    int by_request, by_store; /* holds: freed when both are 0 */
};

/* Key k of f (NUL-terminated) and its length. */
static inline const char *pd__fetch_key(const pd_fetch_t *f, size_t k, size_t *len)
{
    *len = f->key_off[k + 1] - f->key_off[k] - 1;
    return f->keys + f->key_off[k];
}

/* ---- what a store calls, for each key in the order sent (fsource_fetch.c) ---- */

/* 1 while the request waits for f: only then are cells worth reporting. */
static inline int pd__fetch_wanted(const pd_fetch_t *f)
{
    return f->rows != NULL;
}
/* Field j of the reply being received (the key pd__fetch_key(f, f->replied)): its value
 * text s[0, len), or s == NULL when the store has no such field. Call only while wanted. */
void pd__fetch_cell(pd_fetch_t *f, size_t j, const char *s, size_t len);

typedef enum {
    PD__FREPLY_OK = 0,      /* the cells were reported (or not wanted) */
    PD__FREPLY_WRONGTYPE,   /* the key holds something else than an entity: 422 */
    PD__FREPLY_ERROR,       /* the store answered an error: 503 */
    PD__FREPLY_LOST         /* no reply: the connection went away: 503 */
} pd__freply_t;

/* Ends the current key's reply (message: the store's words for ERROR/LOST, or NULL). When
 * it was the last, the store's hold on f ends: f may be freed inside this call. */
void pd__fetch_reply_end(pd_fetch_t *f, pd__freply_t kind, const char *message);

/* The store could send only keys [0, sent) of f (out of memory): the lookup is answered
 * 503 once those are back. Call from send, before it returns 0. */
void pd__fetch_truncate(pd_fetch_t *f, size_t sent);

/* ---- the generic layer's own (fsource.c <-> fsource_fetch.c) ---- */

/* The live source for spec's URL, opened now if it is not (NULL when the table is full
 * or out of memory). */
pd_fsource_t *pd__fsources_get(pd_fsources_t *fs, const pd_fsource_spec_t *spec);
/* Milliseconds of a monotonic clock (uv_hrtime), which deadlines are kept in. */
uint64_t pd__fsource_now_ms(void);
/* Counts one error of `kind` for src. */
void pd__fsource_count(pd_fsource_t *src, pd__ferr_t kind);
/* Arms src's timer for its oldest waiting fetch (after a start or an expiry). */
void pd__fsource_arm(pd_fsource_t *src);
/* src's timer fired: answers 504 to every fetch whose deadline passed. */
void pd__fsource_expire(uv_timer_t *t);

#endif
