/* buf.c - growable byte buffer (see buf.h for the invariants). */
#include "util/buf.h"

#include <float.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "util/dtoa.h"

#define PD_BUF_DEFAULT_LIMIT ((size_t)64 << 20)

static size_t buf_limit(const pd_buf_t *b)
{
    return b->cap_limit ? b->cap_limit : PD_BUF_DEFAULT_LIMIT;
}

void pd_buf_init(pd_buf_t *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->cap_limit = limit;
}

void pd_buf_free(pd_buf_t *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void pd_buf_reset(pd_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Grows b to hold `extra` more bytes and its NUL, doubling; not past hint + 1 when the
 * content fits in hint (SIZE_MAX: no hint). */
static int buf_grow(pd_buf_t *b, size_t extra, size_t hint)
{
    if (extra > buf_limit(b) - b->len)
        return PD_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (hint < SIZE_MAX && need <= hint + 1 && cap > hint + 1)
        cap = hint + 1;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return PD_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int pd_buf_reserve(pd_buf_t *b, size_t extra)
{
    return buf_grow(b, extra, SIZE_MAX);
}

int pd_buf_reserve_hint(pd_buf_t *b, size_t extra, size_t hint)
{
    return buf_grow(b, extra, hint < SIZE_MAX ? hint : SIZE_MAX - 1);
}

int pd_buf_append(pd_buf_t *b, const void *p, size_t n)
{
    int rc = pd_buf_reserve(b, n);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int pd_buf_puts(pd_buf_t *b, const char *s)
{
    return pd_buf_append(b, s, strlen(s));
}

int pd_buf_vprintf(pd_buf_t *b, const char *fmt, va_list ap)
{
    char stackbuf[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return PD_EINVAL;
    if ((size_t)n < sizeof stackbuf)
        return pd_buf_append(b, stackbuf, (size_t)n);
    int rc = pd_buf_reserve(b, (size_t)n);
    if (rc < 0)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int pd_buf_printf(pd_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = pd_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int pd_buf_json_str(pd_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int rc = pd_buf_reserve(b, n + 2);
    if (rc < 0)
        return rc;
    b->data[b->len++] = '"';
    size_t run = 0; /* start of the bytes not yet copied: they need no escape */
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        char esc[7] = {'\\', (char)c, 0};
        size_t elen = 2;
        switch (c) {
        case '"': case '\\': break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        rc = pd_buf_append(b, s + run, i - run);
        if (rc == 0)
            rc = pd_buf_append(b, esc, elen);
        run = i + 1;
    }
    if (rc == 0)
        rc = pd_buf_append(b, s + run, n - run);
    return rc < 0 ? rc : pd_buf_append(b, "\"", 1);
}

/* Python's repr(float) by printf and strtod (buf.h): the slow path. */
int pd__buf_json_double_printf(pd_buf_t *b, double v)
{
    /* Python's repr(float): the shortest digit string that round-trips, printed in fixed
     * notation when the decimal exponent is in [-4, 16), else as d.ddde+XX. Every decimal
     * of up to 15 significant digits survives a round trip through a double, so the
     * shortest form has 15 or fewer digits exactly when %.15e round-trips (its trailing
     * zeros are then not significant); else it has 16 or 17. Subnormals carry fewer
     * digits, so for them every precision is tried. */
    char sci[40];
    int prec;
    for (prec = fabs(v) < DBL_MIN ? 1 : 15; prec < 17; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec - 1, v);
        if (strtod(sci, NULL) == v)
            break;
    }
    snprintf(sci, sizeof sci, "%.*e", prec - 1, v);
    char *e = strchr(sci, 'e');
    char *last = e - 1;
    while (prec > 1 && *last == '0') { /* drop insignificant zeros: 1.500e+00 -> 1.5e+00 */
        last--;
        prec--;
    }
    if (*last == '.')
        last--;
    memmove(last + 1, e, strlen(e) + 1);
    int exp10 = atoi(strchr(sci, 'e') + 1);
    char out[400];
    if (exp10 >= -4 && exp10 < 16) {
        int decimals = prec - 1 - exp10;
        snprintf(out, sizeof out, "%.*f", decimals > 0 ? decimals : 0, v);
        if (strchr(out, '.') == NULL)
            strcat(out, ".0");
    } else {
        snprintf(out, sizeof out, "%s", sci);
    }
    return pd_buf_puts(b, out);
}

char *pd_buf_steal(pd_buf_t *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

int pd_buf_json_double(pd_buf_t *b, double v)
{
    if (isnan(v))
        return pd_buf_puts(b, "NaN");
    if (isinf(v))
        return pd_buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
    /* Python's repr(float): the shortest digit string that round-trips, in fixed notation
     * when the decimal exponent is in [-4, 16), else as d.ddde+XX. Every decimal of up to
     * 15 significant digits survives a round trip through a double, so the shortest form
     * has 15 or fewer digits exactly when the 15-digit rounding round-trips (its trailing
     * zeros are then not significant); else it has 16 or 17. */
    char dig[PD_DTOA_MAX_DIGITS], sci[PD_DTOA_MAX_DIGITS + 8], out[PD_DTOA_MAX_DIGITS + 32];
    double a = fabs(v);
    int x = 0, prec;
    for (prec = 15; prec <= PD_DTOA_MAX_DIGITS; prec++) {
        if (pd_dtoa_digits(a, prec, dig, &x) < 0)
            return pd__buf_json_double_printf(b, v);
        size_t n = pd_dtoa_write(sci, dig, prec, x, 0, -4, 0); /* always d.ddde+XX */
        sci[n] = '\0';
        if (prec == PD_DTOA_MAX_DIGITS || strtod(sci, NULL) == a)
            break;
    }
    int nd = prec;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    size_t n = pd_dtoa_write(out, dig, nd, x, v < 0, 16, 1);
    return pd_buf_append(b, out, n);
}
