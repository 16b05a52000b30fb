/* ubjson.c - bounded UBJSON (draft 12, as XGBoost's UBJWriter emits it) to jansson.
 *
 * Accepted: null Z, no-op N, true T, false F, integers i U I l L (big endian), floats d
 * (float32) and D (float64), char C, string S, arrays [ and objects { in the plain form
 * (closed by ] / }) and the optimized forms with a count (#) and optionally one element
 * type ($). Refused with the byte offset: high-precision numbers (H), element types that
 * take no bytes ($Z, $T, $F, $N: a tiny file could claim billions of elements), counts
 * larger than the bytes left or than PD_MODEL_MAX_ARRAY, nesting deeper than
 * PD_MODEL_MAX_JSON_DEPTH (the recursion is bounded by it), invalid UTF-8, duplicate
 * keys, bytes after the value. Every read checks the bytes left first. */
#include "model/ubjson.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

typedef struct {
    pd__jctx_t *c;
    const unsigned char *p;
    size_t n, at;
    int nomem;
} rd_t;

static int fail(rd_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(rd_t *r, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pd__jfail(r->c, "$", "invalid UBJSON at byte %zu: %s", r->at, msg);
}

static size_t left(const rd_t *r)
{
    return r->n - r->at;
}

static int take(rd_t *r, size_t k, const unsigned char **out)
{
    if (k > left(r))
        return fail(r, "truncated (%zu bytes needed, %zu left)", k, left(r));
    *out = r->p + r->at;
    r->at += k;
    return 0;
}

static uint64_t be(const unsigned char *b, size_t k)
{
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++)
        v = v << 8 | b[i];
    return v;
}

/* Size in bytes of a scalar of type m, 0 when m is not a fixed-size scalar. */
static size_t fixed_size(unsigned char m)
{
    switch (m) {
    case 'i': case 'U': case 'C': return 1;
    case 'I': return 2;
    case 'l': case 'd': return 4;
    case 'L': case 'D': return 8;
    default: return 0;
    }
}

static int read_int(rd_t *r, unsigned char m, int64_t *v)
{
    const unsigned char *b = NULL;
    size_t k = fixed_size(m);
    if (k == 0 || m == 'C' || m == 'd' || m == 'D')
        return fail(r, "expected an integer type marker, got 0x%02x", m);
    int rc = take(r, k, &b);
    if (rc)
        return rc;
    uint64_t u = be(b, k);
    if (m == 'U')
        *v = (int64_t)u;
    else if (k == 8)
        *v = (int64_t)u;
    else { /* sign-extend k bytes */
        uint64_t sign = (uint64_t)1 << (k * 8 - 1);
        *v = (int64_t)((u ^ sign) - sign);
    }
    return 0;
}

/* A count or length: an integer marker then its value, in [0, max]. */
static int read_count(rd_t *r, size_t max, size_t *n)
{
    const unsigned char *m = NULL;
    int64_t v = 0;
    int rc = take(r, 1, &m);
    if (rc || (rc = read_int(r, *m, &v)))
        return rc;
    if (v < 0 || (uint64_t)v > max)
        return fail(r, "count %lld out of range [0, %zu]", (long long)v, max);
    *n = (size_t)v;
    return 0;
}

static json_t *real_or_literal(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

static int value(rd_t *r, unsigned char m, int depth, json_t **out);

static int scalar(rd_t *r, unsigned char m, json_t **out)
{
    const unsigned char *b = NULL;
    int64_t v = 0;
    size_t len = 0;
    int rc = 0;
    switch (m) {
    case 'Z': *out = json_null(); return 0;
    case 'T': *out = json_true(); return 0;
    case 'F': *out = json_false(); return 0;
    case 'i': case 'U': case 'I': case 'l': case 'L':
        if ((rc = read_int(r, m, &v)))
            return rc;
        *out = json_integer((json_int_t)v);
        break;
    case 'd': {
        if ((rc = take(r, 4, &b)))
            return rc;
        uint32_t u = (uint32_t)be(b, 4);
        float f;
        memcpy(&f, &u, sizeof f);
        *out = real_or_literal((double)f);
        break;
    }
    case 'D': {
        if ((rc = take(r, 8, &b)))
            return rc;
        uint64_t u = be(b, 8);
        double d;
        memcpy(&d, &u, sizeof d);
        *out = real_or_literal(d);
        break;
    }
    case 'C':
        if ((rc = take(r, 1, &b)))
            return rc;
        if (*b > 127)
            return fail(r, "char 0x%02x is not ASCII", *b);
        *out = json_stringn((const char *)b, 1);
        break;
    case 'S':
        if ((rc = read_count(r, left(r), &len)) || (rc = take(r, len, &b)))
            return rc;
        *out = json_stringn((const char *)b, len);
        if (!*out && len > 0 && !r->nomem)
            return fail(r, "string is not valid UTF-8");
        break;
    case 'H':
        return fail(r, "high-precision numbers (H) are not supported");
    default:
        return fail(r, "unknown type marker 0x%02x", m);
    }
    if (!*out) {
        r->nomem = 1;
        return pd__jfail(r->c, "$", "out of memory");
    }
    return 0;
}

/* An object key: a length (integer marker + value) then that many UTF-8 bytes. Adds v. */
static int add_member(rd_t *r, json_t *obj, size_t key_at, const unsigned char *key,
                      size_t klen, json_t *v)
{
    if (json_object_getn(obj, (const char *)key, klen)) {
        json_decref(v);
        r->at = key_at;
        return fail(r, "duplicate key \"%.*s\"", (int)PD_MIN(klen, 32), (const char *)key);
    }
    if (json_object_setn_new(obj, (const char *)key, klen, v) != 0) {
        r->at = key_at;
        return fail(r, "key is not valid UTF-8 (or out of memory)");
    }
    return 0;
}

/* One element of a container (a member of an object: key first). type: the optimized
 * container's element type, or 0 when each element has its own marker. */
static int element(rd_t *r, json_t *box, unsigned char type, int depth)
{
    const unsigned char *key = NULL, *mk = NULL;
    size_t klen = 0, key_at = r->at;
    int rc;
    if (json_is_object(box) &&
        ((rc = read_count(r, left(r), &klen)) || (rc = take(r, klen, &key))))
        return rc;
    unsigned char m = type;
    if (!m) {
        do {
            if ((rc = take(r, 1, &mk)))
                return rc;
        } while (*mk == 'N');
        m = *mk;
    }
    json_t *v = NULL;
    if ((rc = value(r, m, depth, &v)))
        return rc;
    if (json_is_object(box))
        return add_member(r, box, key_at, key, klen, v);
    if (json_array_size(box) >= PD_MODEL_MAX_ARRAY) {
        json_decref(v);
        return fail(r, "array longer than %zu", PD_MODEL_MAX_ARRAY);
    }
    if (json_array_append_new(box, v) != 0) {
        r->nomem = 1;
        return pd__jfail(r->c, "$", "out of memory");
    }
    return 0;
}

/* The body of a container after its [ or {: optional $type, optional #count. */
static int container(rd_t *r, json_t *box, int depth)
{
    unsigned char type = 0, close = json_is_object(box) ? '}' : ']';
    const unsigned char *mk = NULL;
    size_t count = 0;
    int counted = 0, rc;
    if (left(r) > 0 && r->p[r->at] == '$') {
        r->at++;
        if ((rc = take(r, 1, &mk)))
            return rc;
        type = *mk;
        if (type == 'Z' || type == 'T' || type == 'F' || type == 'N')
            return fail(r, "element type '%c' takes no bytes; refused", type);
        if (left(r) == 0 || r->p[r->at] != '#')
            return fail(r, "a container type ($) must be followed by a count (#)");
    }
    if (left(r) > 0 && r->p[r->at] == '#') {
        r->at++;
        size_t esz = type ? fixed_size(type) : 0;
        if ((rc = read_count(r, PD_MODEL_MAX_ARRAY, &count)))
            return rc;
        if (count > left(r) / (esz ? esz : 1))
            return fail(r, "count %zu larger than the bytes left (%zu)", count, left(r));
        counted = 1;
    }
    for (size_t i = 0; counted ? i < count : 1; i++) {
        if (!counted) {
            while (left(r) > 0 && r->p[r->at] == 'N')
                r->at++;
            if (left(r) > 0 && r->p[r->at] == close) {
                r->at++;
                return 0;
            }
        }
        if ((rc = element(r, box, type, depth)))
            return rc;
    }
    return 0;
}

static int value(rd_t *r, unsigned char m, int depth, json_t **out)
{
    if (m != '[' && m != '{')
        return scalar(r, m, out);
    if (depth + 1 > PD_MODEL_MAX_JSON_DEPTH)
        return fail(r, "nested deeper than %d", PD_MODEL_MAX_JSON_DEPTH);
    json_t *box = m == '{' ? json_object() : json_array();
    if (!box) {
        r->nomem = 1;
        return pd__jfail(r->c, "$", "out of memory");
    }
    int rc = container(r, box, depth + 1);
    if (rc) {
        json_decref(box);
        return rc;
    }
    *out = box;
    return 0;
}

int pd__ubjson_sniff(const char *data, size_t len)
{
    return len >= 2 && data[0] == '{' && strchr("iUIlL$#", data[1]) != NULL &&
           data[1] != '\0';
}

int pd__ubjson_parse(pd__jctx_t *c, const char *data, size_t len, json_t **out)
{
    rd_t r = {c, (const unsigned char *)data, len, 0, 0};
    const unsigned char *m = NULL;
    json_t *v = NULL;
    *out = NULL;
    int rc = take(&r, 1, &m);
    if (rc == 0)
        rc = value(&r, *m, 0, &v);
    if (rc == 0 && left(&r) > 0) {
        json_decref(v);
        rc = fail(&r, "%zu bytes after the top-level value", left(&r));
    }
    if (rc)
        return r.nomem ? PD_ENOMEM : rc;
    *out = v;
    return 0;
}
