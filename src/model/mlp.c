/* mlp.c - the "mlp" model type: multi-layer perceptrons as scikit-learn's
 * _forward_pass_fast: each layer h = act(h W + b) in float64 (W rows of n_out, summed over
 * n_in in order), the last with the output activation. Scratch: two activation vectors of
 * max_width. No allocation when predicting. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

typedef enum { ACT_IDENTITY = 0, ACT_RELU = 1, ACT_TANH = 2, ACT_LOGISTIC = 3 } act_t;
typedef enum { OUT_IDENTITY = 0, OUT_LOGISTIC = 1, OUT_SOFTMAX = 2 } out_t;

typedef struct {
    size_t n_in, n_out;
    double *w; /* n_in * n_out, row-major (rows of n_out) */
    double *b; /* n_out */
} layer_t;

typedef struct {
    size_t n_layers;
    layer_t *layers;
    act_t act;
    out_t out;
    size_t max_width;
} mlp_t;

static int load_layer(pd__jctx_t *c, const json_t *lj, const char *path, size_t n_in,
                      layer_t *L, pd_model_t *m)
{
    json_t *w, *b;
    char pw[PD__PATH_MAX], pb[PD__PATH_MAX], p[PD__PATH_MAX];
    int rc;
    size_t n, n_out;
    if ((rc = pd__jcheck(c, lj, path, PD__J_OBJ)) ||
        (rc = pd__jget(c, lj, path, "weights", PD__J_ARR, 1, &w, pw)) ||
        (rc = pd__jget(c, lj, path, "bias", PD__J_ARR, 1, &b, pb)) ||
        (rc = pd__jlen(c, w, pw, n_in, n_in, &n)) ||
        (rc = pd__jlen(c, b, pb, 1, PD_MODEL_MAX_LAYER_WIDTH, &n_out)))
        return rc;
    if (n_in > SIZE_MAX / n_out / sizeof(double) || n_in * n_out > PD_MODEL_MAX_LAYER_WEIGHTS)
        return pd__jfail(c, pw, "layer too large (%zu x %zu)", n_in, n_out);
    L->n_in = n_in, L->n_out = n_out;
    L->w = pd__model_calloc(m, n_in * n_out, sizeof(double));
    L->b = pd__model_calloc(m, n_out, sizeof(double));
    if (!L->w || !L->b)
        return PD_ENOMEM;
    for (size_t i = 0; i < n_in; i++) {
        pd__jpath(p, sizeof p, pw, "[%zu]", i);
        if ((rc = pd__jdoubles(c, json_array_get(w, i), p, n_out, L->w + i * n_out)))
            return rc;
    }
    m->n_params += (n_in + 1) * n_out;
    return pd__jdoubles(c, b, pb, n_out, L->b);
}

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                pd__part_t *part)
{
    static const char *const acts[] = {"identity", "relu", "tanh", "logistic"};
    static const char *const outs[] = {"identity", "logistic", "softmax"};
    mlp_t *M = part->state;
    int rc, a, o;
    char p[PD__PATH_MAX], po[PD__PATH_MAX];
    const char *as = pd__jstr(c, step, path, "activation", 1, NULL, &rc);
    pd__jpath(p, sizeof p, path, ".activation");
    if (rc || (rc = pd__jenum(c, as, p, acts, 4, &a)))
        return rc;
    const char *os = pd__jstr(c, step, path, "output_activation", 1, NULL, &rc);
    pd__jpath(po, sizeof po, path, ".output_activation");
    if (rc || (rc = pd__jenum(c, os, po, outs, 3, &o)))
        return rc;
    M->act = (act_t)a;
    M->out = (out_t)o;
    int cls = part->task == PD_TASK_CLASSIFICATION;
    size_t want = o == OUT_SOFTMAX ? part->n_classes : 1;
    if (cls != (o != OUT_IDENTITY) || (o == OUT_LOGISTIC && part->n_classes != 2))
        return pd__jfail(c, po, "\"%s\" does not fit a %s model with %zu classes", os,
                         cls ? "classification" : "regression", part->n_classes);
    part->has_proba = cls;
    json_t *layers;
    char pl[PD__PATH_MAX];
    size_t n;
    if ((rc = pd__jget(c, step, path, "layers", PD__J_ARR, 1, &layers, pl)) ||
        (rc = pd__jlen(c, layers, pl, 1, PD_MODEL_MAX_LAYERS, &n)))
        return rc;
    if (!(M->layers = pd__model_calloc(m, n, sizeof *M->layers)))
        return PD_ENOMEM;
    size_t n_in = part->n_in;
    M->max_width = n_in;
    for (size_t i = 0; i < n; i++) {
        pd__jpath(p, sizeof p, pl, "[%zu]", i);
        M->n_layers = i + 1;
        if ((rc = load_layer(c, json_array_get(layers, i), p, n_in, &M->layers[i], m)))
            return rc;
        n_in = M->layers[i].n_out;
        M->max_width = n_in > M->max_width ? n_in : M->max_width;
    }
    if (n_in != want)
        return pd__jfail(c, p, "last layer has %zu outputs, expected %zu", n_in, want);
    return 0;
}

static size_t scratch(const pd__part_t *p)
{
    return 2 * ((const mlp_t *)p->state)->max_width * sizeof(double);
}

static void activate(act_t a, double *h, size_t n)
{
    switch (a) {
    case ACT_IDENTITY: break;
    case ACT_RELU:
        for (size_t i = 0; i < n; i++)
            h[i] = h[i] > 0.0 ? h[i] : 0.0;
        break;
    case ACT_TANH:
        for (size_t i = 0; i < n; i++)
            h[i] = tanh(h[i]);
        break;
    case ACT_LOGISTIC:
        for (size_t i = 0; i < n; i++)
            h[i] = pd__sigmoid(h[i]);
        break;
    }
}

static void dense(const layer_t *L, const double *in, double *out)
{
    for (size_t o = 0; o < L->n_out; o++)
        out[o] = 0.0;
    for (size_t i = 0; i < L->n_in; i++) {
        const double *w = L->w + i * L->n_out;
        double v = in[i];
        for (size_t o = 0; o < L->n_out; o++)
            out[o] += v * w[o];
    }
    for (size_t o = 0; o < L->n_out; o++)
        out[o] += L->b[o];
}

static void predict(const pd__part_t *part, const double *x, size_t nrows, void *ws,
                    const pd__out_t *res)
{
    const mlp_t *M = part->state;
    size_t nf = part->n_in, nc = part->n_classes;
    double *a = ws, *b = a + M->max_width;
    for (size_t r = 0; r < nrows; r++) {
        const double *in = x + r * nf;
        double *out = a;
        for (size_t l = 0; l < M->n_layers; l++) {
            dense(&M->layers[l], in, out);
            if (l + 1 < M->n_layers)
                activate(M->act, out, M->layers[l].n_out);
            in = out;
            out = out == a ? b : a;
        }
        double *z = (double *)in;
        size_t no = M->layers[M->n_layers - 1].n_out;
        if (M->out == OUT_IDENTITY) {
            if (res->val)
                res->val[r] = z[0];
        } else if (M->out == OUT_LOGISTIC) {
            double p = pd__sigmoid(z[0]);
            if (res->proba)
                res->proba[r * 2] = 1.0 - p, res->proba[r * 2 + 1] = p;
            if (res->cls)
                res->cls[r] = p > 0.5;
        } else {
            pd__softmax(z, no);
            if (res->proba)
                memcpy(res->proba + r * nc, z, nc * sizeof *z);
            if (res->cls)
                res->cls[r] = pd__argmax(z, nc);
        }
    }
}

static void stats(const pd__part_t *p, pd_model_stats_t *st)
{
    st->n_layers += ((const mlp_t *)p->state)->n_layers;
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    static const char *const acts[] = {"identity", "relu", "tanh", "logistic"};
    const mlp_t *M = p->state;
    return snprintf(buf, n, "%zu layers, %s, widest %zu", M->n_layers, acts[M->act],
                    M->max_width);
}

const pd__part_ops_t pd__mlp_ops = {
    .type = "mlp",
    .state_size = sizeof(mlp_t),
    .load = load,
    .scratch = scratch,
    .predict = predict,
    .stats = stats,
    .describe = describe,
};
