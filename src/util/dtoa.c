/* dtoa.c - see dtoa.h. For a = m * 2^e (m < 2^53), the digits are D = a * 10^(prec-1-X)
 * rounded half to even to an integer in 128-bit arithmetic, X the decimal exponent: first
 * estimated from log10, then corrected when D falls outside [10^(prec-1), 10^prec) (the
 * estimate one off, or the rounding carrying to 10^prec), and when D is exactly 10^(prec-1)
 * and a lies just below that power of ten (its digits are then at exponent X - 1). The
 * scaling is exact while |prec - 1 - X| <= 22 (10^22 < 2^74, m * 10^22 < 2^127), which
 * holds for 1e-6 <= a < 1e38. */
#include "util/dtoa.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

#define MAX_SCALE 22 /* largest |power of ten| the exact scaling takes */

static u128 pow10_128(int k)
{
    u128 p = 1;
    while (k-- > 0)
        p *= 10;
    return p;
}

/* m * 2^e * 10^k rounded half to even; 0 when it does not fit this method. */
static u128 scaled(uint64_t m, int e, int k)
{
    if (k > MAX_SCALE || k < -MAX_SCALE)
        return 0;
    if (k >= 0) {
        u128 n = (u128)m * pow10_128(k); /* m * 10^k < 2^53 * 2^74 */
        if (e >= 0)
            return e < 20 ? n << e : 0; /* exact, no rounding (a >= 2^53: k small) */
        int s = -e;
        if (s >= 127)
            return 0;
        u128 q = n >> s, r = n & (((u128)1 << s) - 1), half = (u128)1 << (s - 1);
        return q + (r > half || (r == half && (q & 1)));
    }
    if (e < 0 || e > 74)
        return 0;
    u128 n = (u128)m << e, d = pow10_128(-k), q = n / d, r = n % d;
    return q + (2 * r > d || (2 * r == d && (q & 1)));
}

int pd_dtoa_digits(double a, int prec, char *dig, int *x)
{
    if (!(a >= 1e-6 && a < 1e38) || prec < 1 || prec > PD_DTOA_MAX_DIGITS)
        return -1;
    int e;
    double fr = frexp(a, &e); /* a = fr * 2^e, fr in [0.5, 1) */
    uint64_t m = (uint64_t)ldexp(fr, 53);
    e -= 53;
    int ex = (int)floor(log10(a));
    const u128 lo = pow10_128(prec - 1), hi = lo * 10;
    u128 d = 0;
    for (int tries = 0; tries < 3; tries++) {
        if ((d = scaled(m, e, prec - 1 - ex)) == 0)
            return -1;
        if (d >= hi)
            ex++;
        else if (d < lo)
            ex--;
        else
            break;
    }
    if (d < lo || d >= hi)
        return -1;
    if (d == lo) { /* 10^(prec-1): exact, or a just below 10^ex rounded up */
        u128 d2 = scaled(m, e, prec - ex);
        if (d2 == 0)
            return -1;
        if (d2 < hi) /* a < 10^ex: its digits are at exponent ex - 1 */
            d = d2, ex--;
    }
    for (int i = prec - 1; i >= 0; i--, d /= 10)
        dig[i] = (char)('0' + (int)(d % 10));
    *x = ex;
    return 0;
}

size_t pd_dtoa_write(char *p, const char *dig, int nd, int x, int neg, int fixed_below,
                     int repr)
{
    char *o = p;
    if (neg)
        *o++ = '-';
    if (x >= -4 && x < fixed_below) {
        if (x >= 0) {
            int ip = x + 1; /* digits before the point */
            memcpy(o, dig, (size_t)(nd < ip ? nd : ip)), o += nd < ip ? nd : ip;
            for (int i = nd; i < ip; i++)
                *o++ = '0';
            if (nd > ip) {
                *o++ = '.';
                memcpy(o, dig + ip, (size_t)(nd - ip)), o += nd - ip;
            } else if (repr) {
                *o++ = '.', *o++ = '0';
            }
        } else {
            *o++ = '0', *o++ = '.';
            for (int i = 0; i < -x - 1; i++)
                *o++ = '0';
            memcpy(o, dig, (size_t)nd), o += nd;
        }
        return (size_t)(o - p);
    }
    *o++ = dig[0];
    if (nd > 1) {
        *o++ = '.';
        memcpy(o, dig + 1, (size_t)nd - 1), o += nd - 1;
    }
    *o++ = 'e';
    *o++ = x < 0 ? '-' : '+';
    int ax = x < 0 ? -x : x;
    if (ax >= 100)
        *o++ = (char)('0' + ax / 100);
    *o++ = (char)('0' + ax / 10 % 10);
    *o++ = (char)('0' + ax % 10);
    return (size_t)(o - p);
}
