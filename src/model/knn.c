/* knn.c - the "neighbors" model type: KNeighborsClassifier / KNeighborsRegressor (and, with
 * a `radius`, RadiusNeighborsClassifier / RadiusNeighborsRegressor) by brute force over the
 * training rows the file holds.
 *
 * Per row: the reduced distance to every training row, in row order (euclidean: Σ d²,
 * manhattan: Σ |d|, chebyshev: max |d|, minkowski: Σ |d|^p), kept in scikit-learn's
 * bounded max-heap (sklearn/utils/_heap.pyx heap_push: a value equal to the worst kept is
 * not taken, so among equally distant rows the ones scanned first stay, as its
 * brute-force search keeps them); the k kept are sorted by distance (then row), turned
 * into distances (sqrt, pow(r, 1/p)) and weighted: uniform, or 1/d with scikit-learn's
 * rule that a row at distance 0 makes the zero-distance neighbours weigh 1 and the
 * others 0. Classifier: weights summed per class in neighbour order; label = the first
 * class with the largest sum (scipy's mode / weighted_mode), proba = sums / their total.
 * Regressor: mean (uniform) or Σ w y / Σ w.
 * Radius mode: every training row whose reduced distance is <= the reduced radius counts,
 * in row order, with the same weights; a classifier row without one takes the outlier
 * class (proba one-hot), a regressor row gets NaN, as scikit-learn predicts it.
 *
 * Cost: n_train x n_features operations per row; scratch O(k + n_classes). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

#define PD_KNN_MAX_P 1000.0 /* minkowski p bound (p >= 1) */

typedef enum { M_EUCLIDEAN, M_MANHATTAN, M_CHEBYSHEV, M_MINKOWSKI, N_METRICS } metric_t;
static const char *const metric_names[N_METRICS] = {"euclidean", "manhattan", "chebyshev",
                                                    "minkowski"};

typedef struct {
    size_t n_train, k;
    double *x;      /* n_train x n_in */
    int32_t *cls;   /* classification: class index per training row */
    double *y;      /* regression: target per training row */
    metric_t metric;
    double p;       /* minkowski */
    int distance;   /* weights "distance", else "uniform" */
    int radius_mode; /* radius neighbours (k unused) */
    double r_radius; /* the radius as a reduced distance */
    int32_t outlier; /* radius classifier: class of a row without neighbours */
} knn_t;

static int load_targets(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                        pd__part_t *p, knn_t *K)
{
    json_t *y;
    char q[PD__PATH_MAX];
    int rc = pd__jget(c, st, path, "y", PD__J_ARR, 1, &y, q);
    if (rc)
        return rc;
    if (p->task == PD_TASK_REGRESSION) {
        if (!(K->y = pd__model_calloc(m, K->n_train, sizeof(double))))
            return PD_ENOMEM;
        return pd__jdoubles(c, y, q, K->n_train, K->y);
    }
    if (!(K->cls = pd__model_calloc(m, K->n_train, sizeof(int32_t))))
        return PD_ENOMEM;
    return pd__jints(c, y, q, K->n_train, 0, (int64_t)p->n_classes - 1, K->cls);
}

static int load_metric(pd__jctx_t *c, const json_t *st, const char *path, knn_t *K)
{
    static const char *const weights[] = {"uniform", "distance"};
    char q[PD__PATH_MAX];
    int rc, mi, wi;
    const char *ms = pd__jstr(c, st, path, "metric", 1, NULL, &rc);
    pd__jpath(q, sizeof q, path, ".metric");
    if (rc || (rc = pd__jenum(c, ms, q, metric_names, N_METRICS, &mi)))
        return rc;
    K->metric = (metric_t)mi;
    const char *ws = pd__jstr(c, st, path, "weights", 1, NULL, &rc);
    pd__jpath(q, sizeof q, path, ".weights");
    if (rc || (rc = pd__jenum(c, ws, q, weights, 2, &wi)))
        return rc;
    K->distance = wi == 1;
    if (K->metric != M_MINKOWSKI)
        return 0;
    json_t *v;
    if ((rc = pd__jget(c, st, path, "p", PD__J_NUM, 1, &v, q)) ||
        (rc = pd__jnum(c, v, q, &K->p)))
        return rc;
    if (!(K->p >= 1.0 && K->p <= PD_KNN_MAX_P))
        return pd__jfail(c, q, "p must be in [1, %g]", PD_KNN_MAX_P);
    return 0;
}

/* "radius" (with "outlier_class" for classifiers) instead of "n_neighbors". */
static int load_radius(pd__jctx_t *c, const json_t *st, const char *path,
                       const pd__part_t *p, knn_t *K)
{
    json_t *v;
    char q[PD__PATH_MAX];
    double r;
    int64_t o;
    int rc;
    if ((rc = pd__jget(c, st, path, "radius", PD__J_NUM, 1, &v, q)) ||
        (rc = pd__jnum(c, v, q, &r)))
        return rc;
    if (!(r >= 0.0))
        return pd__jfail(c, q, "radius must be >= 0");
    K->radius_mode = 1;
    K->r_radius = K->metric == M_EUCLIDEAN ? r * r : K->metric == M_MINKOWSKI ? pow(r, K->p) : r;
    if (p->task != PD_TASK_CLASSIFICATION)
        return 0;
    if ((rc = pd__jget(c, st, path, "outlier_class", PD__J_INT, 1, &v, q)) ||
        (rc = pd__jint(c, v, q, 0, (int64_t)p->n_classes - 1, &o)))
        return rc;
    K->outlier = (int32_t)o;
    return 0;
}

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    knn_t *K = p->state;
    json_t *xs, *kv;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX];
    int64_t k = 1;
    int rc;
    if ((rc = load_metric(c, st, path, K)) ||
        (rc = pd__jget(c, st, path, "x", PD__J_ARR, 1, &xs, q)) ||
        (rc = pd__jlen(c, xs, q, 1, PD_MODEL_MAX_ARRAY / p->n_in, &K->n_train)) ||
        (rc = pd__jget(c, st, path, "n_neighbors", PD__J_INT, 0, &kv, qi)))
        return rc;
    if (kv && (rc = pd__jint(c, kv, qi, 1, (int64_t)K->n_train, &k)))
        return rc;
    if (!kv && (rc = load_radius(c, st, path, p, K)))
        return rc;
    K->k = (size_t)k;
    if (!(K->x = pd__model_calloc(m, K->n_train * p->n_in, sizeof(double))))
        return PD_ENOMEM;
    m->n_params += K->n_train * (p->n_in + 1);
    for (size_t i = 0; i < K->n_train; i++) {
        pd__jpath(qi, sizeof qi, q, "[%zu]", i);
        if ((rc = pd__jdoubles(c, json_array_get(xs, i), qi, p->n_in, K->x + i * p->n_in)))
            return rc;
    }
    p->has_proba = p->task == PD_TASK_CLASSIFICATION;
    return load_targets(c, m, st, path, p, K);
}

/* Scratch: the heap (k distances, k rows) and one sum per class. */
static size_t scratch(const pd__part_t *p)
{
    const knn_t *K = p->state;
    return K->k * (sizeof(double) + sizeof(size_t)) + 2 * (p->n_classes + 2) * sizeof(double);
}

static double rdist(const knn_t *K, const double *a, const double *b, size_t n)
{
    double s = 0.0;
    switch (K->metric) {
    case M_EUCLIDEAN:
        for (size_t j = 0; j < n; j++)
            s += (a[j] - b[j]) * (a[j] - b[j]);
        break;
    case M_MANHATTAN:
        for (size_t j = 0; j < n; j++)
            s += fabs(a[j] - b[j]);
        break;
    case M_CHEBYSHEV:
        for (size_t j = 0; j < n; j++)
            s = fmax(s, fabs(a[j] - b[j]));
        break;
    case M_MINKOWSKI:
        for (size_t j = 0; j < n; j++)
            s += pow(fabs(a[j] - b[j]), K->p);
        break;
    default: break;
    }
    return s;
}

static double to_dist(const knn_t *K, double r)
{
    return K->metric == M_EUCLIDEAN ? sqrt(r) : K->metric == M_MINKOWSKI ? pow(r, 1.0 / K->p) : r;
}

/* scikit-learn's heap_push into a max-heap of size n (val, row). */
static void heap_push(double *v, size_t *ix, size_t n, double val, size_t row)
{
    if (val >= v[0])
        return;
    size_t cur = 0;
    for (;;) {
        size_t l = 2 * cur + 1, r = l + 1, sw;
        if (l >= n)
            break;
        if (r >= n) {
            if (v[l] > val)
                sw = l;
            else
                break;
        } else if (v[l] >= v[r]) {
            if (val < v[l])
                sw = l;
            else
                break;
        } else {
            if (val < v[r])
                sw = r;
            else
                break;
        }
        v[cur] = v[sw], ix[cur] = ix[sw];
        cur = sw;
    }
    v[cur] = val, ix[cur] = row;
}

/* Squared euclidean distances of x to PD_KNN_LANES consecutive training rows t, each summed
 * in feature order (the same value rdist gives): the lanes' independent chains of additions
 * overlap instead of waiting on one another. */
#define PD_KNN_LANES 4
static void sq_dists(const double *x, const double *t, size_t n, double *out)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    const double *t1 = t + n, *t2 = t1 + n, *t3 = t2 + n;
    for (size_t j = 0; j < n; j++) {
        double d0 = x[j] - t[j], d1 = x[j] - t1[j], d2 = x[j] - t2[j], d3 = x[j] - t3[j];
        s0 += d0 * d0, s1 += d1 * d1, s2 += d2 * d2, s3 += d3 * d3;
    }
    out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

/* The k nearest training rows of x, sorted by (reduced distance, row). */
static void neighbors(const knn_t *K, const double *x, size_t n_in, double *v, size_t *ix)
{
    for (size_t i = 0; i < K->k; i++)
        v[i] = DBL_MAX, ix[i] = 0;
    size_t i = 0;
    if (K->metric == M_EUCLIDEAN)
        for (; i + PD_KNN_LANES <= K->n_train; i += PD_KNN_LANES) {
            double d[PD_KNN_LANES];
            sq_dists(x, K->x + i * n_in, n_in, d);
            for (size_t l = 0; l < PD_KNN_LANES; l++)
                heap_push(v, ix, K->k, d[l], i + l);
        }
    for (; i < K->n_train; i++)
        heap_push(v, ix, K->k, rdist(K, x, K->x + i * n_in, n_in), i);
    for (size_t a = 1; a < K->k; a++) { /* insertion sort: k is small */
        double dv = v[a];
        size_t di = ix[a], j = a;
        while (j > 0 && (v[j - 1] > dv || (v[j - 1] == dv && ix[j - 1] > di))) {
            v[j] = v[j - 1], ix[j] = ix[j - 1];
            j--;
        }
        v[j] = dv, ix[j] = di;
    }
}

/* Weights in place of the reduced distances v (uniform: all 1). */
static void weights(const knn_t *K, double *v)
{
    int zero = 0;
    for (size_t i = 0; i < K->k; i++) {
        if (!K->distance) {
            v[i] = 1.0;
            continue;
        }
        v[i] = 1.0 / to_dist(K, v[i]);
        zero |= isinf(v[i]);
    }
    if (zero)
        for (size_t i = 0; i < K->k; i++)
            v[i] = isinf(v[i]) ? 1.0 : 0.0;
}

/* Radius mode, one row: class sums (or num/den for regression) over the training rows
 * within the radius, in row order; zero-distance rows are summed apart for the rule. */
static void radius_row(const pd__part_t *p, const double *x, double *sums, double *zsums,
                       size_t r, const pd__out_t *out)
{
    const knn_t *K = p->state;
    size_t nc = p->n_classes, slots = nc ? nc : 2, n_in = p->n_in, found = 0, zeros = 0;
    for (size_t c = 0; c < slots; c++)
        sums[c] = zsums[c] = 0.0;
    for (size_t i = 0; i < K->n_train; i++) {
        double rd = rdist(K, x, K->x + i * n_in, n_in);
        if (!(rd <= K->r_radius))
            continue;
        found++;
        double w = K->distance ? 1.0 / to_dist(K, rd) : 1.0;
        int zero = isinf(w);
        zeros += zero;
        double *acc = zero ? zsums : sums;
        if (nc)
            acc[K->cls[i]] += zero ? 1.0 : w;
        else
            acc[0] += K->y[i] * (zero ? 1.0 : w), acc[1] += zero ? 1.0 : w;
    }
    const double *a = zeros ? zsums : sums;
    if (!nc) {
        if (out->val)
            out->val[r] = found ? a[0] / a[1] : NAN;
        return;
    }
    if (!found)
        sums[K->outlier] = 1.0;
    if (out->cls)
        out->cls[r] = pd__argmax(a, nc);
    if (!out->proba)
        return;
    double total = 0.0;
    for (size_t c = 0; c < nc; c++)
        total += a[c];
    total = total == 0.0 ? 1.0 : total;
    for (size_t c = 0; c < nc; c++)
        out->proba[r * nc + c] = a[c] / total;
}

static void predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                    const pd__out_t *out)
{
    const knn_t *K = p->state;
    if (K->radius_mode) {
        double *sums = ws, *zsums = sums + p->n_classes + 2;
        for (size_t r = 0; r < nrows; r++)
            radius_row(p, x + r * p->n_in, sums, zsums, r, out);
        return;
    }
    size_t nc = p->n_classes;
    double *v = ws, *sums = v + K->k;
    size_t *ix = (size_t *)(void *)(sums + nc + 1);
    for (size_t r = 0; r < nrows; r++) {
        neighbors(K, x + r * p->n_in, p->n_in, v, ix);
        weights(K, v);
        if (p->task == PD_TASK_REGRESSION) {
            double num = 0.0, den = 0.0;
            for (size_t i = 0; i < K->k; i++)
                num += K->y[ix[i]] * v[i], den += v[i];
            if (out->val)
                out->val[r] = K->distance ? num / den : num / (double)K->k;
            continue;
        }
        for (size_t c = 0; c < nc; c++)
            sums[c] = 0.0;
        for (size_t i = 0; i < K->k; i++)
            sums[K->cls[ix[i]]] += v[i];
        if (out->cls)
            out->cls[r] = pd__argmax(sums, nc);
        if (!out->proba)
            continue;
        double total = 0.0;
        for (size_t c = 0; c < nc; c++)
            total += sums[c];
        total = total == 0.0 ? 1.0 : total;
        for (size_t c = 0; c < nc; c++)
            out->proba[r * nc + c] = sums[c] / total;
    }
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const knn_t *K = p->state;
    char pb[32] = "";
    if (K->metric == M_MINKOWSKI)
        snprintf(pb, sizeof pb, " p=%g", K->p);
    if (K->radius_mode)
        return snprintf(buf, n, "radius (reduced %g) over %zu rows, %s%s, %s weights, brute "
                        "force", K->r_radius, K->n_train, metric_names[K->metric], pb,
                        K->distance ? "distance" : "uniform");
    return snprintf(buf, n, "%zu neighbors of %zu rows, %s%s, %s weights, brute force", K->k,
                    K->n_train, metric_names[K->metric], pb,
                    K->distance ? "distance" : "uniform");
}

const pd__part_ops_t pd__knn_ops = {
    .type = "neighbors",
    .state_size = sizeof(knn_t),
    .load = load,
    .scratch = scratch,
    .predict = predict,
    .describe = describe,
};
