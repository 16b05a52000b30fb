/* math.c - the float64 transforms the kernels share: logistic, softmax, argmax. Pure
 * functions, any thread. */
#include <math.h>

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
