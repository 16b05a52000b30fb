/* metrics.h - a small Prometheus registry: counters, gauges and histograms with label
 * sets, rendered in the text exposition format 0.0.4.
 *
 * Threads: everything here runs on the loop thread only (no atomics, no locks), or, with
 * several loops, under the app lock (util/applock.h). Workers
 * report through their job fields, and the loop records those when it calls done().
 *
 * Cost: pd_metrics_series allocates only the first time a label-value set is seen; later
 * look-ups hash the values and compare, without allocating. Callers on a hot path may also
 * keep the pd_metrics_series_t pointer: it stays valid until pd_metrics_destroy.
 *
 * Bounds: at most PD_METRICS_MAX_FAMILIES families, PD_METRICS_MAX_LABELS labels per family,
 * max_series series per family (pd_metrics_init), PD_METRICS_MAX_BUCKETS histogram bounds,
 * label values of at most PD_METRICS_LABEL_VALUE_MAX bytes. Past a bound, pd_metrics_series
 * returns NULL, and every update function accepts NULL as a no-op, so a flood of distinct
 * label values cannot grow memory without limit. */
#ifndef PD_METRICS_H
#define PD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define PD_METRICS_MAX_FAMILIES 256
#define PD_METRICS_MAX_LABELS 8
#define PD_METRICS_DEFAULT_MAX_SERIES 1024
#define PD_METRICS_MAX_SERIES_LIMIT 65536
#define PD_METRICS_MAX_BUCKETS 64
#define PD_METRICS_LABEL_VALUE_MAX 256
#define PD_METRICS_NAME_MAX 128
#define PD_METRICS_HELP_MAX 1024

typedef enum {
    PD_METRICS_COUNTER = 0,
    PD_METRICS_GAUGE = 1,
    PD_METRICS_HISTOGRAM = 2
} pd_metrics_type_t;

typedef struct pd_metrics_s pd_metrics_t;               /* the registry */
typedef struct pd_metrics_family_s pd_metrics_family_t; /* one metric name */
typedef struct pd_metrics_series_s pd_metrics_series_t; /* one label-value set */

/* Latency buckets in seconds (0.0001 .. 10), PD_METRICS_LATENCY_BUCKETS_N of them. */
extern const double pd_metrics_latency_buckets[];
#define PD_METRICS_LATENCY_BUCKETS_N 16

/* Creates an empty registry; max_series bounds the series of each family (0: the default
 * PD_METRICS_DEFAULT_MAX_SERIES). Returns 0, PD_EINVAL or PD_ENOMEM. */
int pd_metrics_init(pd_metrics_t **out, size_t max_series);

/* Frees the registry, its families and series (every pointer it handed out). Accepts NULL. */
void pd_metrics_destroy(pd_metrics_t *reg);

/* Makes later registrations of a family identical to one already registered (same name,
 * type, label names and bounds; not gauge_fn ones) return that family instead of PD_EINVAL,
 * and keeps a family's first collect callback: used when every event loop of a server
 * builds its own part of the app on one registry (serve --loops). The caller then
 * serializes every use of the registry (util/applock.h). */
void pd_metrics_share(pd_metrics_t *reg);

/* Registers a family. name must match [a-zA-Z_:][a-zA-Z0-9_:]* and be unique; label names
 * must match [a-zA-Z_][a-zA-Z0-9_]*, not start with "__", and not be "le" for histograms.
 * All strings are copied. A family without labels gets its single series at once (so it
 * renders as 0 before its first update). *out (may be NULL) belongs to the registry.
 * Returns 0, PD_EINVAL (bad name, duplicate, bad label), PD_EFULL (too many families) or
 * PD_ENOMEM. */
int pd_metrics_counter(pd_metrics_t *reg, const char *name, const char *help,
                       const char *const *label_names, size_t n_labels,
                       pd_metrics_family_t **out);
int pd_metrics_gauge(pd_metrics_t *reg, const char *name, const char *help,
                     const char *const *label_names, size_t n_labels, pd_metrics_family_t **out);
/* bounds: n_bounds (1..PD_METRICS_MAX_BUCKETS) finite, strictly increasing upper bounds,
 * copied; the +Inf bucket is implicit. */
int pd_metrics_histogram(pd_metrics_t *reg, const char *name, const char *help,
                         const char *const *label_names, size_t n_labels, const double *bounds,
                         size_t n_bounds, pd_metrics_family_t **out);

/* A gauge without labels whose value is fn(ud), computed at each render. ud must live as
 * long as the registry (or until the gauge is no longer rendered, i.e. destroy). */
int pd_metrics_gauge_fn(pd_metrics_t *reg, const char *name, const char *help,
                        double (*fn)(void *ud), void *ud);

/* Sets a callback run at each render, just before family f is written, to refresh its
 * series (e.g. queue depth per model). ud must live as long as the registry. */
void pd_metrics_on_collect(pd_metrics_family_t *f, void (*fn)(pd_metrics_family_t *f, void *ud),
                           void *ud);

/* Returns the series of f for the n_labels label values (values may be NULL when the family
 * has no labels), creating it on first use; values are copied. NULL if a value is NULL or
 * longer than PD_METRICS_LABEL_VALUE_MAX, the family is at max_series, or out of memory.
 * The pointer stays valid until pd_metrics_destroy. */
pd_metrics_series_t *pd_metrics_series(pd_metrics_family_t *f, const char *const *values);

/* Counter: adds v (v < 0 or NaN is ignored). Gauge: adds v. Histogram: no-op. NULL: no-op. */
void pd_metrics_inc(pd_metrics_series_t *s, double v);
/* Gauge: sets v. Counter: sets v, for collect callbacks that copy a count kept elsewhere
 * (the source must never decrease). Histogram and NULL: no-op. */
void pd_metrics_set(pd_metrics_series_t *s, double v);
/* Histogram: counts v in its bucket and adds it to the sum (NaN is ignored). Others: no-op. */
void pd_metrics_observe(pd_metrics_series_t *s, double v);

/* The value of a counter or gauge series, the count of a histogram series (0 for NULL). */
double pd_metrics_value(const pd_metrics_series_t *s);

/* Appends the whole registry to out in text format 0.0.4 (families in registration order,
 * series in creation order), after running the collect callbacks. Returns 0, or the
 * pd_buf error (PD_ENOMEM, PD_ETOOBIG) with out holding a truncated text. */
int pd_metrics_render(pd_metrics_t *reg, pd_buf_t *out);

#endif
