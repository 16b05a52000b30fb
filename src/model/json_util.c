/* json_util.c - checked jansson getters for the model loaders (see json_util.h). Owns
 * nothing: every json_t returned is borrowed from the caller's tree. */
#include "model/json_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

int pd__jfail(pd__jctx_t *c, const char *path, const char *fmt, ...)
{
    if (c->err && c->errlen > 0) {
        int k = snprintf(c->err, c->errlen, "%s: %s: ", c->label, path);
        if (k >= 0 && (size_t)k < c->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return PD_EFORMAT;
}

void pd__jpath(char *dst, size_t n, const char *base, const char *fmt, ...)
{
    int k = snprintf(dst, n, "%s", base);
    if (k < 0 || (size_t)k >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst + k, n - (size_t)k, fmt, ap);
    va_end(ap);
}

static const char *type_name(pd__jtype_t t)
{
    switch (t) {
    case PD__J_OBJ: return "an object";
    case PD__J_ARR: return "an array";
    case PD__J_STR: return "a string";
    case PD__J_NUM: return "a number";
    case PD__J_INT: return "an integer";
    default: return "a value";
    }
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

int pd__jcheck(pd__jctx_t *c, const json_t *v, const char *path, pd__jtype_t t)
{
    int ok;
    switch (t) {
    case PD__J_OBJ: ok = json_is_object(v); break;
    case PD__J_ARR: ok = json_is_array(v); break;
    case PD__J_STR: ok = json_is_string(v); break;
    case PD__J_NUM: ok = json_is_number(v); break;
    case PD__J_INT: ok = json_is_integer(v); break;
    default: ok = 1; break;
    }
    if (!ok)
        return pd__jfail(c, path, "expected %s, got %s", type_name(t), json_kind(v));
    return 0;
}

int pd__jget(pd__jctx_t *c, const json_t *obj, const char *path, const char *key,
             pd__jtype_t t, int required, json_t **out, char *subpath)
{
    char local[PD__PATH_MAX];
    char *sp = subpath ? subpath : local;
    pd__jpath(sp, PD__PATH_MAX, path, ".%s", key);
    *out = NULL;
    if (!json_is_object(obj))
        return pd__jfail(c, path, "expected an object, got %s", json_kind(obj));
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return pd__jfail(c, sp, "required field missing");
        return 0;
    }
    int rc = pd__jcheck(c, v, sp, t);
    if (rc)
        return rc;
    *out = v;
    return 0;
}

int pd__jnum(pd__jctx_t *c, const json_t *v, const char *path, double *out)
{
    int rc = pd__jcheck(c, v, path, PD__J_NUM);
    if (rc)
        return rc;
    double d = json_number_value(v);
    if (!isfinite(d))
        return pd__jfail(c, path, "number is not finite");
    *out = d;
    return 0;
}

int pd__jint(pd__jctx_t *c, const json_t *v, const char *path, int64_t lo, int64_t hi,
             int64_t *out)
{
    int rc = pd__jcheck(c, v, path, PD__J_INT);
    if (rc)
        return rc;
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi)
        return pd__jfail(c, path, "%lld out of range [%lld, %lld]", (long long)i, (long long)lo,
                         (long long)hi);
    *out = (int64_t)i;
    return 0;
}

int pd__jlen(pd__jctx_t *c, const json_t *arr, const char *path, size_t lo, size_t hi,
             size_t *n)
{
    int rc = pd__jcheck(c, arr, path, PD__J_ARR);
    if (rc)
        return rc;
    size_t k = json_array_size(arr);
    if (k < lo || k > hi)
        return pd__jfail(c, path, "array has %zu entries, expected %zu..%zu", k, lo, hi);
    *n = k;
    return 0;
}

static int exact_len(pd__jctx_t *c, const json_t *arr, const char *path, size_t n)
{
    int rc = pd__jcheck(c, arr, path, PD__J_ARR);
    if (rc)
        return rc;
    if (json_array_size(arr) != n)
        return pd__jfail(c, path, "array has %zu entries, expected %zu", json_array_size(arr), n);
    return 0;
}

/* The non-finite literal v stands for (see json_read.h), or 0 with *ok = 0. */
static double literal_value(const json_t *v, int *ok)
{
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    *ok = 1;
    if (strcmp(s, "NaN") == 0)
        return NAN;
    if (strcmp(s, "Infinity") == 0)
        return INFINITY;
    if (strcmp(s, "-Infinity") == 0)
        return -INFINITY;
    *ok = 0;
    return 0.0;
}

static int doubles(pd__jctx_t *c, const json_t *arr, const char *path, size_t n, double *out,
                   int nonfinite_ok)
{
    int rc = exact_len(c, arr, path, n), lit;
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        char p[PD__PATH_MAX];
        if (json_is_real(v))
            out[i] = json_real_value(v);
        else if (json_is_integer(v))
            out[i] = (double)json_integer_value(v);
        else if ((out[i] = literal_value(v, &lit)), lit && nonfinite_ok)
            continue;
        else {
            pd__jpath(p, sizeof p, path, "[%zu]", i);
            if (lit)
                return pd__jfail(c, p, "%s is not allowed here (a finite number is needed)",
                                 json_string_value(v));
            return pd__jfail(c, p, "expected a number, got %s", json_kind(v));
        }
        if (!isfinite(out[i])) {
            pd__jpath(p, sizeof p, path, "[%zu]", i);
            return pd__jfail(c, p, "number is not finite");
        }
    }
    return 0;
}

int pd__jdoubles(pd__jctx_t *c, const json_t *arr, const char *path, size_t n, double *out)
{
    return doubles(c, arr, path, n, out, 0);
}

int pd__jdoubles_nf(pd__jctx_t *c, const json_t *arr, const char *path, size_t n,
                    double *out)
{
    return doubles(c, arr, path, n, out, 1);
}

int pd__jints(pd__jctx_t *c, const json_t *arr, const char *path, size_t n, int64_t lo,
              int64_t hi, int32_t *out)
{
    int rc = exact_len(c, arr, path, n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        json_int_t k = 0;
        if (!json_is_integer(v) || (k = json_integer_value(v)) < lo || k > hi) {
            char p[PD__PATH_MAX];
            pd__jpath(p, sizeof p, path, "[%zu]", i);
            if (!json_is_integer(v))
                return pd__jfail(c, p, "expected an integer, got %s", json_kind(v));
            return pd__jfail(c, p, "%lld out of range [%lld, %lld]", (long long)k,
                             (long long)lo, (long long)hi);
        }
        out[i] = (int32_t)k;
    }
    return 0;
}

const char *pd__jstr(pd__jctx_t *c, const json_t *obj, const char *path, const char *key,
                     int required, const char *dflt, int *rc)
{
    json_t *v;
    *rc = pd__jget(c, obj, path, key, PD__J_STR, required, &v, NULL);
    if (*rc)
        return NULL;
    return v ? json_string_value(v) : dflt;
}

int pd__jenum(pd__jctx_t *c, const char *s, const char *path, const char *const *names,
              size_t n, int *out)
{
    char list[PD__PATH_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
        int k = snprintf(list + used, sizeof list - used, "%s\"%s\"", i ? ", " : "", names[i]);
        if (k > 0 && used + (size_t)k < sizeof list)
            used += (size_t)k;
    }
    return pd__jfail(c, path, "unknown value \"%.64s\" (expected one of %s)", s, list);
}
