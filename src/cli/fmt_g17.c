/* fmt_g17.c - pd_predict_fmt_g17: printf's "%.17g" without printf, the same bytes.
 *
 * For 1e-6 <= |v| < 1e38 the 17 significant digits are computed exactly in 128-bit
 * integers: v = m * 2^e (m < 2^53), D = v * 10^(16 - X) rounded to an integer with ties
 * to even (as glibc rounds an exact tie in the default rounding mode), X the decimal
 * exponent (corrected when the estimate from log10 is one off, when the rounding carries
 * to 10^17, or when it reaches 10^16 from below). Then printf's %g rules: fixed notation when -4 <= X < 17, else d.ddde+XX,
 * trailing zeros removed. Other values (0, tiny, huge, inf, nan) go to snprintf.
 * tests/unit/test_cli_fmt_g17.c compares it with snprintf on millions of values. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/predict_rows.h"

typedef unsigned __int128 u128;

static u128 pow10_128(int k)
{
    u128 p = 1;
    while (k-- > 0)
        p *= 10;
    return p;
}

/* v * 10^k rounded half to even, v = m * 2^e; 0 when it does not fit this method. */
static u128 scaled(uint64_t m, int e, int k)
{
    if (k >= 0) {
        u128 n = (u128)m * pow10_128(k); /* k <= 22: m * 10^k < 2^53 * 2^74 */
        if (e >= 0)
            return e < 20 ? n << e : 0; /* exact, no rounding (v >= 2^53: k small) */
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

size_t pd_predict_fmt_g17(char *p, double v)
{
    double a = fabs(v);
    if (!(a >= 1e-6 && a < 1e38)) /* also 0, inf, nan */
        return (size_t)snprintf(p, 32, "%.17g", v);
    int e;
    double fr = frexp(a, &e); /* a = fr * 2^e, fr in [0.5, 1) */
    uint64_t m = (uint64_t)ldexp(fr, 53);
    e -= 53;
    int x = (int)floor(log10(a));
    const u128 lo = pow10_128(16), hi = pow10_128(17);
    u128 d = 0;
    for (int tries = 0; tries < 3; tries++) {
        if (16 - x > 22 || 16 - x < -22 || (d = scaled(m, e, 16 - x)) == 0)
            return (size_t)snprintf(p, 32, "%.17g", v);
        if (d >= hi)
            x++;
        else if (d < lo)
            x--;
        else
            break;
    }
    if (d < lo || d >= hi)
        return (size_t)snprintf(p, 32, "%.17g", v);
    if (d == lo) { /* 10^16: exact, or v * 10^(16 - x) just below it, rounded up */
        u128 d2 = 17 - x > 22 ? 0 : scaled(m, e, 17 - x);
        if (d2 == 0)
            return (size_t)snprintf(p, 32, "%.17g", v);
        if (d2 < hi) /* v < 10^x: its digits are at exponent x - 1 */
            d = d2, x--;
    }
    char dig[17];
    for (int i = 16; i >= 0; i--, d /= 10)
        dig[i] = (char)('0' + (int)(d % 10));
    int nd = 17; /* significant digits after removing trailing zeros */
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    char *o = p;
    if (v < 0)
        *o++ = '-';
    if (x >= -4 && x < 17) {
        if (x >= 0) {
            memcpy(o, dig, (size_t)x + 1), o += x + 1;
            if (nd > x + 1) {
                *o++ = '.';
                memcpy(o, dig + x + 1, (size_t)(nd - x - 1)), o += nd - x - 1;
            }
        } else {
            *o++ = '0', *o++ = '.';
            for (int i = 0; i < -x - 1; i++)
                *o++ = '0';
            memcpy(o, dig, (size_t)nd), o += nd;
        }
    } else {
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
    }
    return (size_t)(o - p);
}
