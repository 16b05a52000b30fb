/* mlp.c - multi-layer perceptrons as scikit-learn's _forward_pass_fast: each layer
 * h = act(h W + b) in float64 (W rows of n_out, summed over n_in in order), the last with
 * the output activation. Scratch: two activation vectors of max_width. No allocation. */
#include <math.h>
#include <string.h>

#include "model/model_impl.h"

size_t pd__mlp_scratch(const pd_model_t *m)
{
    return 2 * m->mlp.max_width * sizeof(double);
}

static void activate(pd__act_t a, double *h, size_t n)
{
    switch (a) {
    case PD__ACT_IDENTITY: break;
    case PD__ACT_RELU:
        for (size_t i = 0; i < n; i++)
            h[i] = h[i] > 0.0 ? h[i] : 0.0;
        break;
    case PD__ACT_TANH:
        for (size_t i = 0; i < n; i++)
            h[i] = tanh(h[i]);
        break;
    case PD__ACT_LOGISTIC:
        for (size_t i = 0; i < n; i++)
            h[i] = pd__sigmoid(h[i]);
        break;
    }
}

static void dense(const pd__layer_t *L, const double *in, double *out)
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

void pd__mlp_predict(const pd_model_t *m, const double *x, size_t nrows, void *ws,
                     int32_t *cls, double *val, double *proba)
{
    const pd__mlp_t *M = &m->mlp;
    size_t nf = m->schema.n_features, nc = m->schema.n_classes;
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
        if (M->out == PD__LINK_IDENTITY) {
            if (val)
                val[r] = z[0];
        } else if (M->out == PD__LINK_LOGISTIC) {
            double p = pd__sigmoid(z[0]);
            if (proba)
                proba[r * 2] = 1.0 - p, proba[r * 2 + 1] = p;
            if (cls)
                cls[r] = p > 0.5;
        } else {
            pd__softmax(z, no);
            if (proba)
                memcpy(proba + r * nc, z, nc * sizeof *z);
            if (cls)
                cls[r] = pd__argmax(z, nc);
        }
    }
}
