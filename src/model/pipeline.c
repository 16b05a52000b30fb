/* pipeline.c - the scalers that precede an estimator, and the float64 transforms the
 * kernels share (logistic, softmax, argmax). Scalers write into a separate block so that
 * the caller's input is never modified; NaN passes through as NaN. */
#include <math.h>
#include <string.h>

#include "model/model_impl.h"

double pd__sigmoid(double z)
{
    /* scipy's expit: 1 / (1 + exp(-z)) */
    return 1.0 / (1.0 + exp(-z));
}

void pd__softmax(double *z, size_t n)
{
    double mx = z[0];
    for (size_t i = 1; i < n; i++)
        mx = z[i] > mx ? z[i] : mx;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        z[i] = exp(z[i] - mx);
        sum += z[i];
    }
    for (size_t i = 0; i < n; i++)
        z[i] /= sum;
}

int32_t pd__argmax(const double *z, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (z[i] > z[best])
            best = i;
    return (int32_t)best;
}

static void apply_one(const pd__scaler_t *s, size_t nf, double *y, size_t nrows)
{
    for (size_t r = 0; r < nrows; r++) {
        double *row = y + r * nf;
        switch (s->kind) {
        case PD__SCALER_STANDARD:
            for (size_t j = 0; j < nf; j++) {
                double v = row[j];
                if (s->a)
                    v -= s->a[j];
                if (s->b)
                    v /= s->b[j];
                row[j] = v;
            }
            break;
        case PD__SCALER_MINMAX:
            for (size_t j = 0; j < nf; j++)
                row[j] = row[j] * s->a[j] + s->b[j];
            break;
        case PD__SCALER_MAXABS:
            for (size_t j = 0; j < nf; j++)
                row[j] /= s->b[j];
            break;
        }
    }
}

void pd__scalers_apply(const pd_model_t *m, const double *x, size_t nrows, double *y)
{
    size_t nf = m->schema.n_features;
    memcpy(y, x, nrows * nf * sizeof *y);
    for (size_t i = 0; i < m->n_scalers; i++)
        apply_one(&m->scalers[i], nf, y, nrows);
}
