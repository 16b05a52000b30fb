/* codec_v2_data.c - an Open Inference Protocol input tensor's values into rows: where the
 * tensor goes (the [N, n_features] matrix or one feature's column), its JSON "data" (flat
 * or nested as its shape) or its binary data, converted per datatype exactly as numpy
 * converts the same values to float64 (see codec_v2_internal.h for the invariants).
 *
 * Conversions: integers exactly (INT64/UINT64 beyond 2^53 rounded to the nearest double,
 * as numpy's astype(float64)); BOOL true/false (binary: bytes 0/1) as 1/0; FP64 as read;
 * FP32 and FP16 values are the float32 / binary16 numbers the client meant: JSON numbers
 * are read as doubles (correctly rounded, as Python's json) and then rounded to float32 /
 * binary16 (to nearest, ties to even, as numpy's astype), binary ones are widened exactly.
 * null (and NaN in float types) is a missing value, accepted (as NaN) only for models that
 * take missing values; infinities, and numbers that overflow their datatype, are refused.
 * Reentrant: no state outside the decoder passed in. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/codec_num.h"
#include "api/codec_v2_internal.h"
#include "api/json_pyfloat.h"
#include "common.h"

const pd__v2type_t pd__v2_types[PD__V2_NTYPES] = {
    [PD__V2_BOOL] = {"BOOL", 1, 'b', 0, 1},
    [PD__V2_UINT8] = {"UINT8", 1, 'u', 0, UINT8_MAX},
    [PD__V2_UINT16] = {"UINT16", 2, 'u', 0, UINT16_MAX},
    [PD__V2_UINT32] = {"UINT32", 4, 'u', 0, UINT32_MAX},
    [PD__V2_UINT64] = {"UINT64", 8, 'u', 0, UINT64_MAX},
    [PD__V2_INT8] = {"INT8", 1, 'i', INT8_MIN, INT8_MAX},
    [PD__V2_INT16] = {"INT16", 2, 'i', INT16_MIN, INT16_MAX},
    [PD__V2_INT32] = {"INT32", 4, 'i', INT32_MIN, INT32_MAX},
    [PD__V2_INT64] = {"INT64", 8, 'i', INT64_MIN, INT64_MAX},
    [PD__V2_FP16] = {"FP16", 2, 'f', 0, 0},
    [PD__V2_FP32] = {"FP32", 4, 'f', 0, 0},
    [PD__V2_FP64] = {"FP64", 8, 'f', 0, 0},
    [PD__V2_BYTES] = {"BYTES", 0, 's', 0, 0},
};

const char *pd__v2_shape_str(char *buf, const uint64_t *dims, size_t n)
{
    size_t at = 0;
    buf[at++] = '[';
    for (size_t i = 0; i < n && i < PD_V2_MAX_DIMS; i++)
        at += (size_t)snprintf(buf + at, PD_V2_SHAPE_BUF - at, "%s%llu", i ? ", " : "",
                               (unsigned long long)dims[i]);
    snprintf(buf + at, PD_V2_SHAPE_BUF - at, "]");
    return buf;
}

/* ---- binary16 ---- */

double pd__v2_half_to_double(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0    ? ldexp(m, -24)              /* zero, subnormal: m * 2^-24 */
               : e == 31 ? (m ? NAN : INFINITY)
                         : ldexp(m + 1024, e - 25);   /* (1 + m/1024) * 2^(e-15) */
    return (h & 0x8000) ? -v : v;
}

double pd__v2_double_to_half(double x)
{
    if (isnan(x) || isinf(x) || x == 0)
        return x;
    double a = fabs(x), r;
    if (a >= 65520.0) /* halfway between 65504 (the largest half) and 2^16, and above */
        return copysign(INFINITY, x);
    if (a < 0x1p-14) { /* subnormal: a multiple of 2^-24 (scaling by 2^24 is exact) */
        r = nearbyint(a * 0x1p24) * 0x1p-24;
    } else {           /* normal: 11 significant bits */
        int e;
        frexp(a, &e);
        r = ldexp(nearbyint(ldexp(a, 11 - e)), e - 11);
    }
    return copysign(r, x);
}

/* ---- placing an input ---- */

int pd__v2_place(pd__v2dec_t *d, pd__v2in_t *in)
{
    pd__cj_t *c = &d->c;
    size_t nf = c->rows->n_cols;
    char sh[PD_V2_SHAPE_BUF];
    pd__v2_shape_str(sh, in->dims, in->ndim);
    const pd_model_schema_t *s = c->schema;
    int str_feature = in->feature >= 0 && s->inputs &&
                      s->inputs[in->feature].type == PD_INPUT_STRING;
    if (in->type == PD__V2_BYTES && !str_feature)
        return pd__cj_fail(c, 400, "%s: datatype BYTES is not accepted, %s (BOOL, INT8..INT64, "
                           "UINT8..UINT64, FP16, FP32, FP64)", in->who, s->has_strings
                           ? "only for a string feature's own tensor; this input is numbers"
                           : "the model's inputs are numbers");
    if (in->type != PD__V2_BYTES && str_feature)
        return pd__cj_fail(c, 400, "%s: the feature is a string: send it as a BYTES tensor",
                           in->who);
    if (in->feature < 0 && s->has_strings)
        return pd__cj_fail(c, 400, "%s: the model has string features: send one [N] tensor "
                           "per feature named by the feature (BYTES for the strings)",
                           in->who);
    if (in->feature < 0) { /* the matrix */
        if (d->layout == PD__V2_COLUMNS)
            return pd__cj_fail(c, 400, "%s: no feature of the model has this name; send one "
                               "[N, %zu] tensor alone, or one [N] tensor per feature named by "
                               "the feature", in->who, nf);
        if (d->layout == PD__V2_MATRIX)
            return pd__cj_fail(c, 400, "%s: a second tensor beside the [N, %zu] tensor %s; "
                               "send that one alone", in->who, nf, d->first);
        if (!(in->ndim == 2 && in->dims[1] == nf) && !(in->ndim == 1 && nf == 1))
            return pd__cj_fail(c, 400, "%s: expected shape [N, %zu] (N rows of the model's %zu "
                               "features), got %s", in->who, nf, nf, sh);
        in->off = 0;
        in->stride = 1;
    } else {               /* one feature's column */
        if (d->layout == PD__V2_MATRIX)
            return pd__cj_fail(c, 400, "%s: a feature's tensor beside the [N, %zu] tensor %s; "
                               "send one form or the other", in->who, nf, d->first);
        if (c->names.seen[in->feature])
            return pd__cj_fail(c, 400, "%s is given twice", in->who);
        if (!(in->ndim == 1 || (in->ndim == 2 && in->dims[1] == 1)))
            return pd__cj_fail(c, 400, "%s: expected shape [N] or [N, 1] (one value of the "
                               "feature per row), got %s", in->who, sh);
        c->names.seen[in->feature] = 1;
        in->off = (size_t)in->feature;
        in->stride = nf;
    }
    d->layout = in->feature < 0 ? PD__V2_MATRIX : PD__V2_COLUMNS;
    uint64_t n = in->dims[0];
    if (d->n_rows == SIZE_MAX) {
        if (n > c->rows->max_rows)
            return pd__cj_fail(c, 413, "%s: %llu rows, more than the server's limit of %zu",
                               in->who, (unsigned long long)n, c->rows->max_rows);
        int rc = pd_rows_resize(c->rows, (size_t)n);
        if (rc < 0)
            return rc;
        d->n_rows = (size_t)n;
        snprintf(d->first, sizeof d->first, "%s", in->who);
    } else if (n != d->n_rows) {
        return pd__cj_fail(c, 400, "%s has %llu rows (shape %s), %s has %zu: every input holds "
                           "the same rows", in->who, (unsigned long long)n, sh, d->first,
                           d->n_rows);
    }
    in->total = in->feature < 0 ? d->n_rows * nf : d->n_rows;
    return 0;
}

/* ---- one value ---- */

#define bad pd__v2_bad

int pd__v2_bad(pd__v2dec_t *d, const pd__v2in_t *in, size_t k, const char *fmt, ...)
{
    size_t cell = in->off + k * in->stride, nf = d->c.rows->n_cols;
    const char *name = d->c.schema->feature_names[cell % nf];
    char b[PD_CODEC_SHOWN_BUF];
    pd_buf_reset(d->c.msg);
    pd_buf_printf(d->c.msg, "%s: element %zu (row %zu, feature '%s'): ", in->who, k, cell / nf,
                  pd__codec_shown(b, name, strlen(name)));
    va_list ap;
    va_start(ap, fmt);
    pd_buf_vprintf(d->c.msg, fmt, ap);
    va_end(ap);
    return 400;
}

/* The text of the literal v, made safe for a message (into b: PD_CODEC_SHOWN_BUF). */
static const char *lit(const pd__v2dec_t *d, const pd__jval_t *v, char *b)
{
    return pd__codec_shown(b, (const char *)d->c.s.doc + v->start, v->end - v->start);
}

/* An integer literal for an integer datatype: range-checked, then to double. */
static int integer(pd__v2dec_t *d, const pd__v2in_t *in, const pd__jval_t *v, size_t k,
                   double *out)
{
    const pd__v2type_t *t = &pd__v2_types[in->type];
    const unsigned char *p = d->c.s.doc + v->start, *end = d->c.s.doc + v->end;
    int neg = *p == '-';
    uint64_t m = 0;
    int over = 0;
    for (p += neg; p < end; p++) {
        unsigned dg = (unsigned)(*p - '0');
        over |= m > (UINT64_MAX - dg) / 10;
        m = m * 10 + dg;
    }
    /* the largest magnitude allowed: -min for negative literals ("-0" is 0 for all) */
    uint64_t lim = !neg ? t->max : t->min < 0 ? (uint64_t)(-(t->min + 1)) + 1 : 0;
    if (over || m > lim) {
        char b[PD_CODEC_SHOWN_BUF];
        return bad(d, in, k, "%s is out of range for %s [%lld, %llu]", lit(d, v, b), t->name,
                   (long long)t->min, (unsigned long long)t->max);
    }
    *out = neg && m ? -(double)m : (double)m; /* rounded to nearest, as numpy's astype */
    return 0;
}

/* A number literal for a float datatype, rounded to it. */
static int number(pd__v2dec_t *d, const pd__v2in_t *in, const pd__jval_t *v, size_t k,
                  double *out)
{
    double x;
    if (!pd__codec_decimal((const char *)d->c.s.doc + v->start, v->end - v->start, &x) &&
        pd__pyfloat_number(&d->c.s, v, &x) < 0)
        return PD_ENOMEM;
    if (v->kind == PD__JK_INT && x == 0)
        x = 0.0; /* the integer -0 is 0 */
    if (in->type == PD__V2_FP32)
        x = (double)(float)x;
    else if (in->type == PD__V2_FP16)
        x = pd__v2_double_to_half(x);
    if (!isfinite(x)) {
        char b[PD_CODEC_SHOWN_BUF];
        return bad(d, in, k, "%s is not a finite %s number", lit(d, v, b),
                   pd__v2_types[in->type].name);
    }
    *out = x;
    return 0;
}

/* Converts the scanned scalar v, element k of input in, and stores it. */
static int element(pd__v2dec_t *d, const pd__v2in_t *in, const pd__jval_t *v, size_t k)
{
    const pd__v2type_t *t = &pd__v2_types[in->type];
    char b[PD_CODEC_SHOWN_BUF];
    double x = 0;
    int rc = 0;
    if (in->type == PD__V2_BYTES)
        return pd__v2_string_element(d, in, v, k);
    switch (v->kind) {
    case PD__JK_INT:
        rc = t->kind == 'f' ? number(d, in, v, k, &x)
             : t->kind == 'b' ? bad(d, in, k, "expected true or false for BOOL, got %s",
                                    lit(d, v, b))
                              : integer(d, in, v, k, &x);
        break;
    case PD__JK_FLOAT:
        rc = t->kind == 'f' ? number(d, in, v, k, &x)
                            : bad(d, in, k, "expected %s for %s, got %s",
                                  t->kind == 'b' ? "true or false" : "an integer", t->name,
                                  lit(d, v, b));
        break;
    case PD__JK_TRUE:
    case PD__JK_FALSE:
        if (t->kind != 'b')
            return bad(d, in, k, "expected a number for %s, got a boolean", t->name);
        x = v->kind == PD__JK_TRUE;
        break;
    case PD__JK_NULL:
    case PD__JK_NAN:
        if (v->kind == PD__JK_NAN && t->kind != 'f')
            return bad(d, in, k, "NaN is not a value of %s", t->name);
        if (!d->c.missing_ok)
            return bad(d, in, k, "%s, and the model takes no missing values",
                       v->kind == PD__JK_NULL ? "null" : "NaN");
        x = NAN;
        break;
    case PD__JK_INF:
    case PD__JK_NINF:
        return bad(d, in, k, "%s is not a finite number",
                   v->kind == PD__JK_INF ? "Infinity" : "-Infinity");
    default:
        return bad(d, in, k, "expected a number for %s, got %s", t->name, pd__cj_kind(v->kind));
    }
    if (rc || (d->c.schema->typed_inputs && (rc = pd__v2_check_known(d, in, k, x))))
        return rc;
    d->c.rows->x[in->off + k * in->stride] = x;
    return 0;
}

/* ---- JSON data ---- */

/* "[1][2]" for the first n indexes of path. */
static const char *path_str(char *buf, size_t len, const size_t *path, size_t n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "[%zu]", path[i]);
    return buf;
}

/* Data as a flat list of in->total values; the '[' was consumed. */
static int walk_flat(pd__v2dec_t *d, const pd__v2in_t *in)
{
    char sh[PD_V2_SHAPE_BUF];
    size_t k = 0;
    int r = pd__json_arr_first(&d->c.s);
    for (; r == 1; k++, r = pd__json_arr_next(&d->c.s)) {
        if (k == in->total)
            return pd__cj_fail(&d->c, 400, "%s: \"data\" holds more than the %zu values of "
                               "shape %s", in->who, in->total,
                               pd__v2_shape_str(sh, in->dims, in->ndim));
        pd__jval_t v;
        if (pd__json_value(&d->c.s, &v) < 0)
            return pd__cj_scan_fail(&d->c);
        if (v.kind == PD__JK_ARRAY || v.kind == PD__JK_OBJECT)
            return pd__cj_fail(&d->c, 400, "%s: data[%zu] is %s, expected a value (flat data "
                               "holds values only)", in->who, k, pd__cj_kind(v.kind));
        int rc = element(d, in, &v, k);
        if (rc)
            return rc;
    }
    if (r < 0)
        return pd__cj_scan_fail(&d->c);
    if (k != in->total)
        return pd__cj_fail(&d->c, 400, "%s: \"data\" holds %zu values, shape %s holds %zu",
                           in->who, k, pd__v2_shape_str(sh, in->dims, in->ndim), in->total);
    return 0;
}

/* Data nested as the shape, at dimension dim (its '[' consumed); *k counts the values
 * written, path[0, dim) is where this list is. */
static int walk_nested(pd__v2dec_t *d, const pd__v2in_t *in, size_t dim, size_t *k,
                       size_t *path)
{
    char sh[PD_V2_SHAPE_BUF], at[PD_V2_MAX_DIMS * 24];
    size_t i = 0;
    int r = pd__json_arr_first(&d->c.s);
    for (; r == 1; i++, r = pd__json_arr_next(&d->c.s)) {
        if (i == in->dims[dim])
            return pd__cj_fail(&d->c, 400, "%s: data%s holds more than %llu values (shape %s)",
                               in->who, path_str(at, sizeof at, path, dim),
                               (unsigned long long)in->dims[dim],
                               pd__v2_shape_str(sh, in->dims, in->ndim));
        path[dim] = i;
        pd__jval_t v;
        if (pd__json_value(&d->c.s, &v) < 0)
            return pd__cj_scan_fail(&d->c);
        int inner = dim + 1 < in->ndim, list = v.kind == PD__JK_ARRAY;
        if (inner != list || v.kind == PD__JK_OBJECT)
            return pd__cj_fail(&d->c, 400, "%s: data%s is %s, expected %s (shape %s)", in->who,
                               path_str(at, sizeof at, path, dim + 1), pd__cj_kind(v.kind),
                               inner ? "a list" : "a value",
                               pd__v2_shape_str(sh, in->dims, in->ndim));
        int rc = inner ? walk_nested(d, in, dim + 1, k, path) : element(d, in, &v, (*k)++);
        if (rc)
            return rc;
    }
    if (r < 0)
        return pd__cj_scan_fail(&d->c);
    if (i != in->dims[dim])
        return pd__cj_fail(&d->c, 400, "%s: data%s holds %zu values, shape %s says %llu",
                           in->who, path_str(at, sizeof at, path, dim), i,
                           pd__v2_shape_str(sh, in->dims, in->ndim),
                           (unsigned long long)in->dims[dim]);
    return 0;
}

int pd__v2_json_data(pd__v2dec_t *d, const pd__v2in_t *in)
{
    pd__jval_t v;
    if (pd__json_value(&d->c.s, &v) < 0)
        return pd__cj_scan_fail(&d->c);
    if (v.kind != PD__JK_ARRAY)
        return pd__cj_fail(&d->c, 400, "%s: \"data\" must be a list, got %s", in->who,
                           pd__cj_kind(v.kind));
    pd__json_ws(&d->c.s);
    int nested = in->ndim > 1 && d->c.s.pos < d->c.s.len && d->c.s.doc[d->c.s.pos] == '[';
    if (!nested)
        return walk_flat(d, in);
    size_t k = 0, path[PD_V2_MAX_DIMS];
    return walk_nested(d, in, 0, &k, path);
}

/* ---- binary data ---- */

static uint16_t le16(const unsigned char *q)
{
    return (uint16_t)(q[0] | q[1] << 8);
}

static uint32_t le32(const unsigned char *q)
{
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}

static uint64_t le64(const unsigned char *q)
{
    return (uint64_t)le32(q) | (uint64_t)le32(q + 4) << 32;
}

static double f32(const unsigned char *q)
{
    uint32_t u = le32(q);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static double f64(const unsigned char *q)
{
    uint64_t u = le64(q);
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Element k of a binary float tensor is x: NaN is missing, an infinity is refused. */
static int nonfinite(pd__v2dec_t *d, const pd__v2in_t *in, size_t k, double x)
{
    if (!isnan(x))
        return bad(d, in, k, "%s is not a finite number", x > 0 ? "Infinity" : "-Infinity");
    return d->c.missing_ok ? 0 : bad(d, in, k, "NaN, and the model takes no missing values");
}

/* One loop per datatype: x of element k from its bytes q. */
#define PD__V2_LOOP(expr, check)                                                           \
    for (size_t k = 0; k < n; k++) {                                                       \
        const unsigned char *q = p + k * size;                                             \
        double x = (expr);                                                                 \
        if ((check) && !isfinite(x) && (rc = nonfinite(d, in, k, x)))                      \
            return rc;                                                                     \
        dst[k * in->stride] = x;                                                           \
    }

static int convert_binary(pd__v2dec_t *d, const pd__v2in_t *in, const unsigned char *p)
{
    size_t n = in->total, size = pd__v2_types[in->type].size;
    double *dst = d->c.rows->x + in->off;
    int rc = 0;
    switch (in->type) {
    case PD__V2_BOOL:
        for (size_t k = 0; k < n; k++)
            if (p[k] > 1)
                return bad(d, in, k, "BOOL byte %u is neither 0 nor 1", p[k]);
        PD__V2_LOOP(*q, 0) break;
    case PD__V2_UINT8: PD__V2_LOOP(*q, 0) break;
    case PD__V2_UINT16: PD__V2_LOOP(le16(q), 0) break;
    case PD__V2_UINT32: PD__V2_LOOP(le32(q), 0) break;
    case PD__V2_UINT64: PD__V2_LOOP((double)le64(q), 0) break;
    case PD__V2_INT8: PD__V2_LOOP((int8_t)*q, 0) break;
    case PD__V2_INT16: PD__V2_LOOP((int16_t)le16(q), 0) break;
    case PD__V2_INT32: PD__V2_LOOP((int32_t)le32(q), 0) break;
    case PD__V2_INT64: PD__V2_LOOP((double)(int64_t)le64(q), 0) break;
    case PD__V2_FP16: PD__V2_LOOP(pd__v2_half_to_double(le16(q)), 1) break;
    case PD__V2_FP32: PD__V2_LOOP(f32(q), 1) break;
    case PD__V2_FP64: PD__V2_LOOP(f64(q), 1) break;
    default: return PD_EINVAL; /* BYTES never gets here (pd__v2_place refuses it) */
    }
    return 0;
}

int pd__v2_binary_data(pd__v2dec_t *d, const pd__v2in_t *in)
{
    if (in->type == PD__V2_BYTES)
        return pd__v2_binary_strings(d, in);
    char sh[PD_V2_SHAPE_BUF];
    const pd__v2type_t *t = &pd__v2_types[in->type];
    uint64_t need = (uint64_t)in->total * t->size;
    if (in->bin_size != need)
        return pd__cj_fail(&d->c, 400, "%s: binary_data_size is %llu bytes, shape %s of %s "
                           "holds %llu", in->who, (unsigned long long)in->bin_size,
                           pd__v2_shape_str(sh, in->dims, in->ndim), t->name,
                           (unsigned long long)need);
    size_t left = d->bin_len - d->bin_used;
    if (need > left)
        return pd__cj_fail(&d->c, 400, "%s: its %llu bytes of binary data go past the end of "
                           "the body (%zu bytes left after the JSON part%s)", in->who,
                           (unsigned long long)need, left,
                           d->bin ? "" : "; no " PD_V2_HEADER_LENGTH " header says where it ends");
    if (need == 0)
        return 0; /* no rows (and maybe no binary part at all) */
    const unsigned char *p = d->bin + d->bin_used;
    d->bin_used += (size_t)need;
    int rc = convert_binary(d, in, p);
    for (size_t k = 0; rc == 0 && d->c.schema->typed_inputs && k < in->total; k++)
        rc = pd__v2_check_known(d, in, k, d->c.rows->x[in->off + k * in->stride]);
    return rc;
}
