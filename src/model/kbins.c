/* kbins.c - the "kbins_discretizer" transformer (scikit-learn's KBinsDiscretizer): column j
 * goes to bin b = the number of its inner edges <= x (np.searchsorted(bin_edges_[j][1:-1],
 * x, side="right"), so below the first edge is bin 0 and above the last is the last bin,
 * without clipping). "ordinal" writes b as a float; "onehot" writes, per column, n_bins
 * columns with 1.0 at b (the library's dense one-hot or its sparse one densified: the same
 * values). The strategies (uniform, quantile, kmeans) differ only in the edges, which the
 * file gives. No missing values (the library refuses NaN). */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

#define KBINS_MAX_BINS 100000 /* inner edges + 1 per column */

typedef struct {
    size_t *off;   /* n_in + 1: column j's inner edges are edges[off[j] .. off[j+1]) */
    double *edges; /* nondecreasing per column */
    int onehot;
} kbins_t;

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    static const char *const enc[] = {"ordinal", "onehot"};
    kbins_t *K = p->state;
    json_t *all;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX];
    size_t n, total = 0;
    int rc, e;
    const char *es = pd__jstr(c, st, path, "encode", 1, NULL, &rc);
    pd__jpath(q, sizeof q, path, ".encode");
    if (rc || (rc = pd__jenum(c, es, q, enc, 2, &e)) ||
        (rc = pd__jget(c, st, path, "inner_edges", PD__J_ARR, 1, &all, q)) ||
        (rc = pd__jlen(c, all, q, p->n_in, p->n_in, &n)))
        return rc;
    K->onehot = e == 1;
    for (size_t j = 0; j < n; j++) {
        size_t k;
        pd__jpath(qi, sizeof qi, q, "[%zu]", j);
        if ((rc = pd__jlen(c, json_array_get(all, j), qi, 0, KBINS_MAX_BINS - 1, &k)))
            return rc;
        total += k;
    }
    if (total > PD_MODEL_MAX_ARRAY)
        return pd__jfail(c, q, "%zu edges, over the %zu limit", total, PD_MODEL_MAX_ARRAY);
    if (!(K->off = pd__model_calloc(m, n + 1, sizeof *K->off)) ||
        !(K->edges = pd__model_calloc(m, total ? total : 1, sizeof *K->edges)))
        return PD_ENOMEM;
    size_t width = 0;
    for (size_t j = 0; j < n; j++) {
        const json_t *a = json_array_get(all, j);
        size_t k = json_array_size(a);
        double *d = K->edges + K->off[j];
        pd__jpath(qi, sizeof qi, q, "[%zu]", j);
        if ((rc = pd__jdoubles(c, a, qi, k, d)))
            return rc;
        for (size_t i = 1; i < k; i++)
            if (d[i] < d[i - 1]) {
                pd__jpath(qi, sizeof qi, q, "[%zu][%zu]", j, i);
                return pd__jfail(c, qi, "edges must be nondecreasing");
            }
        K->off[j + 1] = K->off[j] + k;
        width += K->onehot ? k + 1 : 1;
    }
    if (width > PD_MODEL_MAX_FEATURES)
        return pd__jfail(c, q, "one-hot output of %zu columns, over the %d limit", width,
                         PD_MODEL_MAX_FEATURES);
    m->n_params += total;
    p->n_out = width;
    return 0;
}

/* Number of the n sorted edges e that are <= x (searchsorted side="right"). */
static size_t bin_of(const double *e, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void transform(const pd__part_t *p, const double *x, size_t nrows, double *y, void *ws)
{
    (void)ws;
    const kbins_t *K = p->state;
    size_t ni = p->n_in, no = p->n_out;
    for (size_t r = 0; r < nrows; r++) {
        double *out = y + r * no;
        if (K->onehot)
            memset(out, 0, no * sizeof *out);
        size_t col = 0;
        for (size_t j = 0; j < ni; j++) {
            size_t k = K->off[j + 1] - K->off[j];
            size_t b = bin_of(K->edges + K->off[j], k, x[r * ni + j]);
            if (K->onehot) {
                out[col + b] = 1.0;
                col += k + 1;
            } else {
                out[j] = (double)b;
            }
        }
    }
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const kbins_t *K = p->state;
    return snprintf(buf, n, "%s, %zu -> %zu", K->onehot ? "onehot" : "ordinal", p->n_in,
                    p->n_out);
}

const pd__part_ops_t pd__kbins_ops = {
    .type = "kbins_discretizer",
    .flags = PD__PART_TRANSFORM,
    .state_size = sizeof(kbins_t),
    .load = load,
    .transform = transform,
    .describe = describe,
};
