/* linear.c - linear models: z = coef . x + intercept summed in float64 in feature order,
 * then the link (identity, logistic, softmax, one-vs-rest). Scratch: one block of
 * n_rows scores per row. No allocation. */
#include <string.h>

#include "model/model_impl.h"

size_t pd__linear_scratch(const pd_model_t *m)
{
    return m->linear.n_rows * sizeof(double);
}

void pd__linear_predict(const pd_model_t *m, const double *x, size_t nrows, void *ws,
                        int32_t *cls, double *val, double *proba)
{
    const pd__linear_t *L = &m->linear;
    size_t nf = m->schema.n_features, nc = m->schema.n_classes;
    double *z = ws;
    for (size_t r = 0; r < nrows; r++) {
        const double *row = x + r * nf;
        for (size_t k = 0; k < L->n_rows; k++) {
            const double *w = L->coef + k * nf;
            double s = 0.0;
            for (size_t j = 0; j < nf; j++)
                s += w[j] * row[j];
            z[k] = s + L->intercept[k];
        }
        if (L->link == PD__LINK_IDENTITY) {
            if (val)
                val[r] = z[0];
            continue;
        }
        if (L->link == PD__LINK_LOGISTIC) {
            double p = pd__sigmoid(z[0]);
            if (proba)
                proba[r * 2] = 1.0 - p, proba[r * 2 + 1] = p;
            if (cls)
                cls[r] = z[0] > 0.0;
            continue;
        }
        if (cls)
            cls[r] = pd__argmax(z, L->n_rows);
        if (!proba)
            continue;
        double *pr = proba + r * nc;
        if (L->link == PD__LINK_SOFTMAX) {
            memcpy(pr, z, nc * sizeof *z);
            pd__softmax(pr, nc);
        } else { /* ovr */
            double sum = 0.0;
            for (size_t k = 0; k < nc; k++)
                sum += (pr[k] = pd__sigmoid(z[k]));
            for (size_t k = 0; k < nc; k++)
                pr[k] /= sum;
        }
    }
}
