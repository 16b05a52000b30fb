/* codec_num.c - the exact fast path for decimal numbers (see codec_num.h).
 *
 * Invariant: a result is returned only when the mantissa M < 10^15 < 2^53 and the decimal
 * exponent e has |e| <= 22, i.e. when M and 10^|e| are both exact doubles, so M * 10^e or
 * M / 10^-e is one IEEE operation and correctly rounded (x86-64 SSE: FLT_EVAL_METHOD 0). */
#include "api/codec_num.h"

#include <stdint.h>

#define FAST_DIGITS 15 /* significant digits of an exact mantissa */
#define FAST_EXP 22    /* largest exact power of ten */

static const double pow10[FAST_EXP + 1] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

int pd__codec_decimal(const char *s, size_t n, double *out)
{
    size_t i = 0, sig = 0, any = 0;
    int neg = 0;
    long e10 = 0;
    uint64_t m = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    for (; i < n && digit(s[i]); i++, any++)
        if (m || s[i] != '0') { /* leading zeros are not significant */
            m = m * 10 + (uint64_t)(s[i] - '0');
            if (++sig > FAST_DIGITS)
                return 0;
        }
    if (i < n && s[i] == '.')
        for (i++; i < n && digit(s[i]); i++, any++, e10--)
            if (m || s[i] != '0') {
                m = m * 10 + (uint64_t)(s[i] - '0');
                if (++sig > FAST_DIGITS)
                    return 0;
            }
    if (!any)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0;
        long ev = 0;
        size_t start;
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        for (start = i; i < n && digit(s[i]); i++)
            if ((ev = ev * 10 + (s[i] - '0')) > 10000)
                return 0;
        if (i == start)
            return 0;
        e10 += eneg ? -ev : ev;
    }
    if (i != n)
        return 0;
    double d = (double)m;
    if (m != 0 && (e10 > FAST_EXP || e10 < -FAST_EXP))
        return 0;
    if (m != 0)
        d = e10 >= 0 ? d * pow10[e10] : d / pow10[-e10];
    *out = neg ? -d : d;
    return 1;
}
