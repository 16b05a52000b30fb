/* math.c - the float64 transforms the kernels share: logistic, softmax, argmax, the
 * normal quantile function. Pure functions, any thread. */
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

/* Lower half (0 < p <= 0.5) of the normal quantile: a rational approximation (P. J.
 * Acklam's, relative error < 1.2e-9) refined by two Halley steps on Phi(x) - p, the
 * residual from erfc in the tail (full relative precision there) and from erf near the
 * centre (where p - 0.5 is exact). */
static double ppf_lower(double p)
{
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549671010429888e+00,
                                4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01,
                                2.445134137142996e+00, 3.754408661907416e+00};
    double x;
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    for (int i = 0; i < 2; i++) {
        /* near the centre p - 0.5 is exact and erf keeps the residual's precision */
        double e = p > 0.25 ? 0.5 * erf(x / M_SQRT2) - (p - 0.5) : 0.5 * erfc(-x / M_SQRT2) - p;
        double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
        x = x - u / (1 + x * u / 2);
    }
    return x;
}

double pd__norm_ppf(double p)
{
    if (!(p >= 0 && p <= 1))
        return NAN;
    if (p == 0)
        return -INFINITY;
    if (p == 1)
        return INFINITY;
    if (p == 0.5)
        return 0.0;
    return p < 0.5 ? ppf_lower(p) : -ppf_lower(1 - p); /* 1 - p is exact here */
}
