/* json_pyfloat.c - CPython 3.11's float() over JSON values (see json_pyfloat.h).
 *
 * float(str) in CPython: every non-ASCII character becomes ' ' if it is whitespace, its
 * digit if it is a Unicode decimal, else the conversion fails
 * (_PyUnicode_TransformDecimalAndSpaceToASCII); underscores are accepted only between
 * digits and removed; ASCII whitespace is stripped from both ends; what remains must be
 * [+-] then inf | infinity | nan (any case) or a decimal with an optional exponent.
 * The tables below were generated from Python 3.11's unicodedata (Unicode 14.0.0). */
#include "api/json_pyfloat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

/* First code point (value 0) of each run of ten Unicode decimal digits. */
static const uint32_t decimal_zeros[] = {
    0x30,    0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,   0xbe6,
    0xc66,   0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,  0x1090,  0x17e0,
    0x1810,  0x1946,  0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,  0x1c40,  0x1c50,  0xa620,
    0xa8d0,  0xa900,  0xa9d0,  0xa9f0,  0xaa50,  0xabf0,  0xff10,  0x104a0, 0x10d30, 0x11066,
    0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0,
    0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2,
    0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
};

int pd__py_decimal(unsigned cp)
{
    size_t lo = 0, hi = PD_ARRAY_SIZE(decimal_zeros);
    while (lo < hi) { /* first zero > cp */
        size_t mid = (lo + hi) / 2;
        if (decimal_zeros[mid] <= cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || cp - decimal_zeros[lo - 1] >= 10)
        return -1;
    return (int)(cp - decimal_zeros[lo - 1]);
}

int pd__py_unicode_space(unsigned cp)
{
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static int ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Python's float grammar over the stripped ASCII text t[0, n): 1 if it matches. */
static int float_grammar(const char *t, size_t n)
{
    size_t i = 0;
    if (i < n && (t[i] == '+' || t[i] == '-'))
        i++;
    size_t rest = n - i;
    if ((rest == 3 && strncasecmp(t + i, "inf", 3) == 0) ||
        (rest == 8 && strncasecmp(t + i, "infinity", 8) == 0) ||
        (rest == 3 && strncasecmp(t + i, "nan", 3) == 0))
        return 1;
    size_t mant = 0;
    while (i < n && digit(t[i]))
        i++, mant++;
    if (i < n && t[i] == '.') {
        i++;
        while (i < n && digit(t[i]))
            i++, mant++;
    }
    if (mant == 0)
        return 0;
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < n && (t[i] == '+' || t[i] == '-'))
            i++;
        size_t exp = 0;
        while (i < n && digit(t[i]))
            i++, exp++;
        if (exp == 0)
            return 0;
    }
    return i == n;
}

/* strtod over t[0, n) (NUL-terminated at n). inf/nan spelled any case: strtod knows them. */
static double to_double(const char *t)
{
    return strtod(t, NULL);
}

int pd__pyfloat_number(const pd__jscan_t *s, const pd__jval_t *v, double *out)
{
    char stackbuf[PD_PYFLOAT_STACK_CHARS + 1];
    size_t n = v->end - v->start;
    char *t = n <= PD_PYFLOAT_STACK_CHARS ? stackbuf : malloc(n + 1);
    if (t == NULL)
        return PD_ENOMEM;
    memcpy(t, s->doc + v->start, n);
    t[n] = '\0';
    double d = to_double(t);
    if (v->kind == PD__JK_INT && d == 0)
        d = 0.0; /* float(int("-0")) is +0.0 */
    *out = d;
    if (t != stackbuf)
        free(t);
    return 0;
}

/* Maps the string's code points to CPython's ASCII form into t (room for cap chars), with
 * underscores checked and removed. Returns the length, or -1 where float() must fail. */
static long transform(const pd__jscan_t *s, const pd__jval_t *v, char *t, size_t cap)
{
    size_t i = v->start, n = 0;
    uint32_t cp;
    char prev = '\0';
    while (pd__json_str_next(s->doc, &i, v->end, &cp)) {
        char c;
        if (cp == 0)
            return -1; /* an embedded NUL ends the C string early: ValueError */
        if (cp < 127)
            c = (char)cp;
        else if (pd__py_unicode_space(cp))
            c = ' ';
        else {
            int dv = pd__py_decimal(cp);
            if (dv < 0)
                return -1;
            c = (char)('0' + dv);
        }
        if (c == '_') {
            if (!digit(prev))
                return -1; /* underscores only after digits */
        } else {
            if (prev == '_' && !digit(c))
                return -1; /* ... and only before digits */
            if (n == cap)
                return -1; /* not reached: cap is the string's byte length */
            t[n++] = c;
        }
        prev = c;
    }
    if (prev == '_')
        return -1;
    return (long)n;
}

int pd__pyfloat_string(const pd__jscan_t *s, const pd__jval_t *v, double *out)
{
    char stackbuf[PD_PYFLOAT_STACK_CHARS + 1];
    size_t cap = v->end - v->start; /* never fewer bytes than characters */
    char *t = cap <= PD_PYFLOAT_STACK_CHARS ? stackbuf : malloc(cap + 1);
    if (t == NULL)
        return PD_ENOMEM;
    int rc = PD_EINVAL;
    long n = transform(s, v, t, cap);
    if (n >= 0) {
        size_t a = 0, b = (size_t)n;
        while (a < b && ascii_space(t[a]))
            a++;
        while (b > a && ascii_space(t[b - 1]))
            b--;
        if (float_grammar(t + a, b - a)) {
            t[b] = '\0';
            *out = to_double(t + a);
            rc = 0;
        }
    }
    if (t != stackbuf)
        free(t);
    return rc;
}
