/* centroid.c - the "centroids" model type: the label is the nearest of k centres
 * (NearestCentroid: its centroids_ and classes; KMeans / MiniBatchKMeans: cluster_centers_,
 * labels 0..k-1). Distances are computed directly in float64, in feature order
 * (euclidean: sqrt Σ d², manhattan: Σ |d|); the first nearest centre wins. With
 * "transform": true the euclidean distance to every centre is served as the named output
 * "transform" (KMeans.transform). Scratch: one distance per centre. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

typedef struct {
    size_t k;
    double *centers; /* k x n_in */
    int manhattan;
} centroids_t;

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    static const char *const metrics[] = {"euclidean", "manhattan"};
    centroids_t *C = p->state;
    json_t *a;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX];
    int rc, mi;
    if (p->task != PD_TASK_CLASSIFICATION)
        return pd__jfail(c, path, "centroids label rows: the model's task must be "
                                  "classification");
    const char *ms = pd__jstr(c, st, path, "metric", 0, "euclidean", &rc);
    pd__jpath(qi, sizeof qi, path, ".metric");
    if (rc || (rc = pd__jenum(c, ms, qi, metrics, 2, &mi)))
        return rc;
    C->manhattan = mi == 1;
    if ((rc = pd__jget(c, st, path, "centers", PD__J_ARR, 1, &a, q)) ||
        (rc = pd__jlen(c, a, q, p->n_classes, p->n_classes, &C->k)))
        return rc;
    if (C->k * p->n_in > PD_MODEL_MAX_ARRAY)
        return pd__jfail(c, q, "%zu x %zu numbers, over the %zu limit", C->k, p->n_in,
                         PD_MODEL_MAX_ARRAY);
    if (!(C->centers = pd__model_calloc(m, C->k * p->n_in, sizeof(double))))
        return PD_ENOMEM;
    m->n_params += C->k * p->n_in;
    for (size_t i = 0; i < C->k; i++) {
        pd__jpath(qi, sizeof qi, q, "[%zu]", i);
        if ((rc = pd__jdoubles(c, json_array_get(a, i), qi, p->n_in, C->centers + i * p->n_in)))
            return rc;
    }
    const json_t *t = json_object_get(st, "transform");
    if (t && !json_is_boolean(t)) {
        pd__jpath(qi, sizeof qi, path, ".transform");
        return pd__jfail(c, qi, "expected true or false");
    }
    if (t && json_is_true(t)) {
        if (C->manhattan) {
            pd__jpath(qi, sizeof qi, path, ".transform");
            return pd__jfail(c, qi, "transform is the euclidean distance (KMeans)");
        }
        return pd__part_add_output(p, "transform", C->k, "euclidean distance to each centre");
    }
    return 0;
}

static size_t scratch(const pd__part_t *p)
{
    return ((const centroids_t *)p->state)->k * sizeof(double);
}

static void predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                    const pd__out_t *out)
{
    const centroids_t *C = p->state;
    size_t n = p->n_in;
    double *d = ws;
    for (size_t r = 0; r < nrows; r++) {
        const double *row = x + r * n;
        size_t best = 0;
        for (size_t i = 0; i < C->k; i++) {
            const double *c = C->centers + i * n;
            double s = 0.0;
            if (C->manhattan)
                for (size_t j = 0; j < n; j++)
                    s += fabs(row[j] - c[j]);
            else
                for (size_t j = 0; j < n; j++)
                    s += (row[j] - c[j]) * (row[j] - c[j]);
            d[i] = s;
            best = s < d[best] ? i : best;
        }
        if (out->cls)
            out->cls[r] = (int32_t)best;
        if (out->extra[0])
            for (size_t i = 0; i < C->k; i++)
                out->extra[0][r * C->k + i] = sqrt(d[i]);
    }
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const centroids_t *C = p->state;
    return snprintf(buf, n, "%zu centres, %s", C->k, C->manhattan ? "manhattan" : "euclidean");
}

const pd__part_ops_t pd__centroids_ops = {
    .type = "centroids",
    .state_size = sizeof(centroids_t),
    .load = load,
    .scratch = scratch,
    .predict = predict,
    .describe = describe,
};
