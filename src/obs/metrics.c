/* metrics.c - the Prometheus registry (see metrics.h).
 *
 * Invariants: a family's series live in `items` in creation order; `slots` is an
 * open-addressing index over them (slot = item index + 1, 0 = empty), at most half full,
 * capacity a power of two. A series of a histogram holds n_bounds bucket counts (not
 * cumulative; the render sums them) plus count and sum. Loop thread only. */
#include "obs/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

const double pd_metrics_latency_buckets[PD_METRICS_LATENCY_BUCKETS_N] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

struct pd_metrics_series_s {
    pd_metrics_family_t *fam;
    uint64_t hash;
    char **values;     /* fam->n_labels copies */
    double value;      /* counter, gauge */
    double sum;        /* histogram */
    uint64_t count;    /* histogram */
    uint64_t *buckets; /* histogram: n_bounds counts, not cumulative */
};

struct pd_metrics_family_s {
    pd_metrics_t *reg;
    pd_metrics_type_t type;
    char *name;
    char *help;
    char **labels;
    size_t n_labels;
    double *bounds;
    size_t n_bounds;
    pd_metrics_series_t **items;
    size_t n_items, cap_items;
    uint32_t *slots;
    size_t cap_slots;
    void (*collect)(pd_metrics_family_t *f, void *ud);
    void *collect_ud;
    double (*value_fn)(void *ud);
    void *value_ud;
};

struct pd_metrics_s {
    pd_metrics_family_t *fams[PD_METRICS_MAX_FAMILIES];
    size_t n_fams;
    size_t max_series;
    int shared; /* pd_metrics_share: an identical re-registration returns the family */
};

int pd_metrics_init(pd_metrics_t **out, size_t max_series)
{
    *out = NULL;
    if (max_series > PD_METRICS_MAX_SERIES_LIMIT)
        return PD_EINVAL;
    pd_metrics_t *reg = calloc(1, sizeof *reg);
    if (reg == NULL)
        return PD_ENOMEM;
    reg->max_series = max_series ? max_series : PD_METRICS_DEFAULT_MAX_SERIES;
    *out = reg;
    return 0;
}

static void series_free(pd_metrics_series_t *s, size_t n_labels)
{
    if (s == NULL)
        return;
    if (s->values)
        for (size_t i = 0; i < n_labels; i++)
            free(s->values[i]);
    free(s->values);
    free(s->buckets);
    free(s);
}

static void family_free(pd_metrics_family_t *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n_items; i++)
        series_free(f->items[i], f->n_labels);
    free(f->items);
    free(f->slots);
    if (f->labels)
        for (size_t i = 0; i < f->n_labels; i++)
            free(f->labels[i]);
    free(f->labels);
    free(f->bounds);
    free(f->help);
    free(f->name);
    free(f);
}

void pd_metrics_destroy(pd_metrics_t *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->n_fams; i++)
        family_free(reg->fams[i]);
    free(reg);
}

/* ---- names ---- */

static int valid_name(const char *s, int allow_colon)
{
    if (s == NULL || *s == '\0' || strlen(s) >= PD_METRICS_NAME_MAX)
        return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (allow_colon && c == ':') || (p != s && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

/* 1 when f was registered with exactly this type, label names and bounds. */
static int same_family(const pd_metrics_family_t *f, pd_metrics_type_t type,
                       const char *const *labels, size_t n_labels, const double *bounds,
                       size_t n_bounds)
{
    if (f->type != type || f->n_labels != n_labels || f->n_bounds != n_bounds ||
        f->value_fn != NULL)
        return 0;
    for (size_t i = 0; i < n_labels; i++)
        if (strcmp(f->labels[i], labels[i]) != 0)
            return 0;
    return n_bounds == 0 || memcmp(f->bounds, bounds, n_bounds * sizeof *bounds) == 0;
}

void pd_metrics_share(pd_metrics_t *reg)
{
    reg->shared = 1;
}

static int check_family(const pd_metrics_t *reg, const char *name, const char *help,
                        const char *const *labels, size_t n_labels, pd_metrics_type_t type)
{
    if (!valid_name(name, 1) || help == NULL || strlen(help) >= PD_METRICS_HELP_MAX ||
        n_labels > PD_METRICS_MAX_LABELS || (n_labels > 0 && labels == NULL))
        return PD_EINVAL;
    for (size_t i = 0; i < reg->n_fams; i++)
        if (strcmp(reg->fams[i]->name, name) == 0)
            return PD_EINVAL;
    for (size_t i = 0; i < n_labels; i++) {
        if (!valid_name(labels[i], 0) || strncmp(labels[i], "__", 2) == 0 ||
            (type == PD_METRICS_HISTOGRAM && strcmp(labels[i], "le") == 0))
            return PD_EINVAL;
        for (size_t k = 0; k < i; k++)
            if (strcmp(labels[k], labels[i]) == 0)
                return PD_EINVAL;
    }
    if (reg->n_fams >= PD_METRICS_MAX_FAMILIES)
        return PD_EFULL;
    return 0;
}

static int family_add(pd_metrics_t *reg, pd_metrics_type_t type, const char *name,
                      const char *help, const char *const *labels, size_t n_labels,
                      const double *bounds, size_t n_bounds, pd_metrics_family_t **out)
{
    for (size_t i = 0; reg->shared && i < reg->n_fams; i++)
        if (strcmp(reg->fams[i]->name, name) == 0 &&
            same_family(reg->fams[i], type, labels, n_labels, bounds, n_bounds)) {
            if (out)
                *out = reg->fams[i];
            return 0;
        }
    int rc = check_family(reg, name, help, labels, n_labels, type);
    if (rc < 0)
        return rc;
    pd_metrics_family_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return PD_ENOMEM;
    f->reg = reg;
    f->type = type;
    f->name = strdup(name);
    f->help = strdup(help);
    f->labels = calloc(n_labels ? n_labels : 1, sizeof *f->labels);
    if (f->name == NULL || f->help == NULL || f->labels == NULL)
        goto fail;
    f->n_labels = n_labels;
    for (size_t i = 0; i < n_labels; i++)
        if ((f->labels[i] = strdup(labels[i])) == NULL)
            goto fail;
    if (n_bounds > 0) {
        if ((f->bounds = malloc(n_bounds * sizeof *bounds)) == NULL)
            goto fail;
        memcpy(f->bounds, bounds, n_bounds * sizeof *bounds);
        f->n_bounds = n_bounds;
    }
    if (n_labels == 0 && pd_metrics_series(f, NULL) == NULL)
        goto fail;
    reg->fams[reg->n_fams++] = f;
    if (out)
        *out = f;
    return 0;
fail:
    family_free(f);
    return PD_ENOMEM;
}

int pd_metrics_counter(pd_metrics_t *reg, const char *name, const char *help,
                       const char *const *label_names, size_t n_labels,
                       pd_metrics_family_t **out)
{
    return family_add(reg, PD_METRICS_COUNTER, name, help, label_names, n_labels, NULL, 0, out);
}

int pd_metrics_gauge(pd_metrics_t *reg, const char *name, const char *help,
                     const char *const *label_names, size_t n_labels, pd_metrics_family_t **out)
{
    return family_add(reg, PD_METRICS_GAUGE, name, help, label_names, n_labels, NULL, 0, out);
}

int pd_metrics_histogram(pd_metrics_t *reg, const char *name, const char *help,
                         const char *const *label_names, size_t n_labels, const double *bounds,
                         size_t n_bounds, pd_metrics_family_t **out)
{
    if (bounds == NULL || n_bounds == 0 || n_bounds > PD_METRICS_MAX_BUCKETS)
        return PD_EINVAL;
    for (size_t i = 0; i < n_bounds; i++)
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
            return PD_EINVAL;
    return family_add(reg, PD_METRICS_HISTOGRAM, name, help, label_names, n_labels, bounds,
                      n_bounds, out);
}

int pd_metrics_gauge_fn(pd_metrics_t *reg, const char *name, const char *help,
                        double (*fn)(void *ud), void *ud)
{
    if (fn == NULL)
        return PD_EINVAL;
    pd_metrics_family_t *f;
    int rc = pd_metrics_gauge(reg, name, help, NULL, 0, &f);
    if (rc < 0)
        return rc;
    f->value_fn = fn;
    f->value_ud = ud;
    return 0;
}

void pd_metrics_on_collect(pd_metrics_family_t *f, void (*fn)(pd_metrics_family_t *f, void *ud),
                           void *ud)
{
    if (f->reg->shared && fn != NULL && f->collect != NULL)
        return; /* shared: the first part that registered the family refreshes it */
    f->collect = fn;
    f->collect_ud = ud;
}

/* ---- series ---- */

static uint64_t values_hash(const char *const *values, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)values[i]; *p; p++)
            h = (h ^ *p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull; /* separator: ("a","b") != ("ab","") */
    }
    return h;
}

static int series_matches(const pd_metrics_series_t *s, uint64_t h, const char *const *values,
                          size_t n)
{
    if (s->hash != h)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->values[i], values[i]) != 0)
            return 0;
    return 1;
}

/* Doubles the slot index (or creates it) and re-inserts every series. */
static int slots_grow(pd_metrics_family_t *f)
{
    size_t cap = f->cap_slots ? f->cap_slots * 2 : 16;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return PD_ENOMEM;
    for (size_t i = 0; i < f->n_items; i++) {
        size_t k = (size_t)f->items[i]->hash & (cap - 1);
        while (slots[k])
            k = (k + 1) & (cap - 1);
        slots[k] = (uint32_t)(i + 1);
    }
    free(f->slots);
    f->slots = slots;
    f->cap_slots = cap;
    return 0;
}

static pd_metrics_series_t *series_create(pd_metrics_family_t *f, uint64_t h,
                                          const char *const *values)
{
    if (f->n_items >= f->reg->max_series)
        return NULL;
    if ((f->n_items + 1) * 2 > f->cap_slots && slots_grow(f) < 0)
        return NULL;
    if (f->n_items == f->cap_items) {
        size_t cap = f->cap_items ? f->cap_items * 2 : 8;
        pd_metrics_series_t **items = realloc(f->items, cap * sizeof *items);
        if (items == NULL)
            return NULL;
        f->items = items;
        f->cap_items = cap;
    }
    pd_metrics_series_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->fam = f;
    s->hash = h;
    s->values = calloc(f->n_labels ? f->n_labels : 1, sizeof *s->values);
    if (s->values == NULL)
        goto fail;
    for (size_t i = 0; i < f->n_labels; i++)
        if ((s->values[i] = strdup(values[i])) == NULL)
            goto fail;
    if (f->n_bounds && (s->buckets = calloc(f->n_bounds, sizeof *s->buckets)) == NULL)
        goto fail;
    size_t k = (size_t)h & (f->cap_slots - 1);
    while (f->slots[k])
        k = (k + 1) & (f->cap_slots - 1);
    f->items[f->n_items++] = s;
    f->slots[k] = (uint32_t)f->n_items;
    return s;
fail:
    series_free(s, f->n_labels);
    return NULL;
}

pd_metrics_series_t *pd_metrics_series(pd_metrics_family_t *f, const char *const *values)
{
    if (f == NULL || (f->n_labels > 0 && values == NULL))
        return NULL;
    for (size_t i = 0; i < f->n_labels; i++)
        if (values[i] == NULL || strnlen(values[i], PD_METRICS_LABEL_VALUE_MAX + 1) >
                                     PD_METRICS_LABEL_VALUE_MAX)
            return NULL;
    uint64_t h = values_hash(values, f->n_labels);
    if (f->cap_slots) {
        size_t k = (size_t)h & (f->cap_slots - 1);
        while (f->slots[k]) {
            pd_metrics_series_t *s = f->items[f->slots[k] - 1];
            if (series_matches(s, h, values, f->n_labels))
                return s;
            k = (k + 1) & (f->cap_slots - 1);
        }
    }
    return series_create(f, h, values);
}

void pd_metrics_inc(pd_metrics_series_t *s, double v)
{
    if (s == NULL || isnan(v))
        return;
    if (s->fam->type == PD_METRICS_COUNTER && v >= 0)
        s->value += v;
    else if (s->fam->type == PD_METRICS_GAUGE)
        s->value += v;
}

void pd_metrics_set(pd_metrics_series_t *s, double v)
{
    if (s != NULL && s->fam->type != PD_METRICS_HISTOGRAM)
        s->value = v;
}

void pd_metrics_observe(pd_metrics_series_t *s, double v)
{
    if (s == NULL || s->fam->type != PD_METRICS_HISTOGRAM || isnan(v))
        return;
    const pd_metrics_family_t *f = s->fam;
    size_t lo = 0, hi = f->n_bounds; /* first bound >= v, or n_bounds for +Inf */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f->bounds[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < f->n_bounds)
        s->buckets[lo]++;
    s->count++;
    s->sum += v;
}

double pd_metrics_value(const pd_metrics_series_t *s)
{
    if (s == NULL)
        return 0;
    return s->fam->type == PD_METRICS_HISTOGRAM ? (double)s->count : s->value;
}

/* ---- rendering ---- */

static int put_double(pd_buf_t *b, double v)
{
    if (isnan(v))
        return pd_buf_puts(b, "NaN");
    if (isinf(v))
        return pd_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return pd_buf_printf(b, "%.0f", v);
    return pd_buf_json_double(b, v);
}

/* Appends s escaped: '\\' and '\n' always, '"' too when quote (label values). */
static int put_escaped(pd_buf_t *b, const char *s, int quote)
{
    int rc = 0;
    const char *run = s;
    for (const char *p = s; *p && rc == 0; p++) {
        const char *rep = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n"
                                            : (quote && *p == '"') ? "\\\""
                                                                   : NULL;
        if (rep == NULL)
            continue;
        rc = pd_buf_append(b, run, (size_t)(p - run));
        if (rc == 0)
            rc = pd_buf_puts(b, rep);
        run = p + 1;
    }
    if (rc == 0)
        rc = pd_buf_puts(b, run);
    return rc;
}

/* Writes name+suffix{labels[,le="x"]} and a space. le may be NULL (no le label). */
static int put_sample_head(pd_buf_t *b, const pd_metrics_series_t *s, const char *suffix,
                           const double *le)
{
    const pd_metrics_family_t *f = s->fam;
    int rc = pd_buf_puts(b, f->name);
    if (rc == 0)
        rc = pd_buf_puts(b, suffix);
    if (rc == 0 && (f->n_labels > 0 || le != NULL)) {
        rc = pd_buf_puts(b, "{");
        for (size_t i = 0; i < f->n_labels && rc == 0; i++) {
            rc = pd_buf_printf(b, "%s%s=\"", i ? "," : "", f->labels[i]);
            if (rc == 0)
                rc = put_escaped(b, s->values[i], 1);
            if (rc == 0)
                rc = pd_buf_puts(b, "\"");
        }
        if (rc == 0 && le != NULL) {
            rc = pd_buf_puts(b, f->n_labels ? ",le=\"" : "le=\"");
            if (rc == 0)
                rc = put_double(b, *le);
            if (rc == 0)
                rc = pd_buf_puts(b, "\"");
        }
        if (rc == 0)
            rc = pd_buf_puts(b, "}");
    }
    if (rc == 0)
        rc = pd_buf_puts(b, " ");
    return rc;
}

static int put_histogram(pd_buf_t *b, const pd_metrics_series_t *s)
{
    const pd_metrics_family_t *f = s->fam;
    uint64_t cum = 0;
    int rc = 0;
    for (size_t i = 0; i <= f->n_bounds && rc == 0; i++) {
        double le = INFINITY;
        if (i < f->n_bounds) {
            le = f->bounds[i];
            cum += s->buckets[i];
        } else {
            cum = s->count;
        }
        rc = put_sample_head(b, s, "_bucket", &le);
        if (rc == 0)
            rc = pd_buf_printf(b, "%llu\n", (unsigned long long)cum);
    }
    if (rc == 0)
        rc = put_sample_head(b, s, "_sum", NULL);
    if (rc == 0)
        rc = put_double(b, s->sum);
    if (rc == 0)
        rc = pd_buf_puts(b, "\n");
    if (rc == 0)
        rc = put_sample_head(b, s, "_count", NULL);
    if (rc == 0)
        rc = pd_buf_printf(b, "%llu\n", (unsigned long long)s->count);
    return rc;
}

static int put_family(pd_buf_t *b, pd_metrics_family_t *f)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    if (f->collect)
        f->collect(f, f->collect_ud);
    if (f->value_fn && f->n_items == 1)
        f->items[0]->value = f->value_fn(f->value_ud);
    int rc = pd_buf_printf(b, "# HELP %s ", f->name);
    if (rc == 0)
        rc = put_escaped(b, f->help, 0);
    if (rc == 0)
        rc = pd_buf_printf(b, "\n# TYPE %s %s\n", f->name, types[f->type]);
    for (size_t i = 0; i < f->n_items && rc == 0; i++) {
        const pd_metrics_series_t *s = f->items[i];
        if (f->type == PD_METRICS_HISTOGRAM) {
            rc = put_histogram(b, s);
            continue;
        }
        rc = put_sample_head(b, s, "", NULL);
        if (rc == 0)
            rc = put_double(b, s->value);
        if (rc == 0)
            rc = pd_buf_puts(b, "\n");
    }
    return rc;
}

int pd_metrics_render(pd_metrics_t *reg, pd_buf_t *out)
{
    int rc = 0;
    for (size_t i = 0; i < reg->n_fams && rc == 0; i++)
        rc = put_family(out, reg->fams[i]);
    return rc;
}
