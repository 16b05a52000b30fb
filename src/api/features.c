/* features.c - pd_features_decode(): FastAPI 0.92 / Pydantic 1.10 request validation for
 * a model whose input is one float per feature name (see features.h).
 *
 * What FastAPI does, and so what this does, in order:
 *  1. empty body -> the body is None -> 422 value_error.missing at ["body"];
 *  2. a Content-Type that is present and not JSON (pd_features_is_json) -> the body stays
 *     bytes -> 422 type_error.dict at ["body"];
 *  3. json.loads(bytes): encoding detection (json_encoding.c), then the whole document is
 *     parsed; undecodable text, a >4300-digit integer or too deep nesting -> 400
 *     {"detail":"There was an error parsing the body"}; a JSONDecodeError -> 422
 *     value_error.jsondecode at ["body", <char offset>] with ctx {msg, doc, pos, lineno,
 *     colno}, doc being the whole decoded document;
 *  4. Pydantic: null -> missing at ["body"]; an object is the mapping; an array or a string
 *     goes through dict(value) (json_pairs.c; "" is {}); anything else -> type_error.dict;
 *     then per field, in field order: missing, none.not_allowed, or float() of the value
 *     (json_pyfloat.c); every field error is listed.
 *
 * Deliberate differences from FastAPI (it answers 500 Internal Server Error for these):
 *  - a field that float() turns into NaN or +-inf (NaN, Infinity, -Infinity, 1e400, "nan",
 *    "inf", ...) or an integer too large for a double (Python: OverflowError) is refused
 *    with 422 {"loc":["body",<name>],"msg":"ensure this value is a finite number",
 *    "type":"value_error.number.not_finite_number"}, listed for every such field, but only
 *    when no field has one of Pydantic's errors: whenever FastAPI answers 422, predictd's
 *    body is FastAPI's, byte for byte;
 *  - a JSONDecodeError whose document holds a lone surrogate (FastAPI fails to encode its
 *    own 422) is answered with each lone surrogate of ctx.doc written as U+FFFD.
 *
 * Invariant: nothing is written to `out` for a field unless its state is PD__F_OK. */
#include "api/features.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_encoding.h"
#include "api/json_pairs.h"
#include "api/json_pyfloat.h"
#include "api/json_scan.h"
#include "common.h"

#define SELF_KEY "__pydantic_self__"
#define SELF_MSG "BaseModel.__init__() got multiple values for argument '__pydantic_self__'"

/* Python's str.strip() whitespace in the Latin-1 range (Starlette decodes headers so). */
static int hdr_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1C && c <= 0x1F) || c == 0x85 ||
           c == 0xA0;
}

int pd_features_is_json(const char *content_type)
{
    if (content_type == NULL)
        return 1;
    const unsigned char *p = (const unsigned char *)content_type;
    size_t n = strlen(content_type);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) /* HTTP OWS, as servers trim it */
        n--;
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    if (n == 0) /* FastAPI: `if not content_type_value` -> parse as JSON */
        return 1;
    /* email.message: the part before ';', stripped, lower-cased, exactly one '/' */
    const unsigned char *semi = memchr(p, ';', n);
    if (semi)
        n = (size_t)(semi - p);
    while (n && hdr_space(p[n - 1]))
        n--;
    while (n && hdr_space(*p))
        p++, n--;
    const unsigned char *slash = memchr(p, '/', n);
    if (slash == NULL || memchr(slash + 1, '/', n - (size_t)(slash + 1 - p)))
        return 0; /* invalid: text/plain */
    size_t main_len = (size_t)(slash - p), sub_len = n - main_len - 1;
    const char *sub = (const char *)slash + 1;
    if (main_len != 11 || strncasecmp((const char *)p, "application", 11) != 0)
        return 0;
    return (sub_len == 4 && strncasecmp(sub, "json", 4) == 0) ||
           (sub_len >= 5 && strncasecmp(sub + sub_len - 5, "+json", 5) == 0);
}

/* Keys are matched against the names linearly up to this many features (the hint makes
 * in-order keys cost one compare); wider models get a hash index built per call, so that a
 * body of many unknown keys costs O(keys + n), not O(keys * n), on the loop. */
#define PD__FEATURES_LINEAR_MAX 16
#define PD__FNV_OFFSET 2166136261u
#define PD__FNV_PRIME 16777619u

/* Index slots for n names: a power of two >= 2n. */
static uint32_t index_slots(size_t n)
{
    uint32_t slots = 64;
    while (slots < 2 * n)
        slots *= 2;
    return slots;
}

/* Fills tab (index_slots(c->n) entries) with the names' hashes and attaches it to c. */
static void index_build(pd__fctx_t *c, uint32_t *tab, uint32_t slots)
{
    memset(tab, 0, slots * sizeof *tab);
    c->max_name = 0;
    for (size_t i = 0; i < c->n; i++) {
        const unsigned char *p = (const unsigned char *)c->names[i];
        uint32_t h = PD__FNV_OFFSET;
        size_t l = 0;
        for (; p[l]; l++)
            h = (h ^ p[l]) * PD__FNV_PRIME;
        c->max_name = PD_MAX(c->max_name, l);
        uint32_t j = h & (slots - 1);
        while (tab[j] != 0)
            j = (j + 1) & (slots - 1);
        tab[j] = (uint32_t)i + 1;
    }
    c->tab = tab;
    c->tab_mask = slots - 1;
}

/* FNV-1a of the key's decoded UTF-8 bytes into *h. Returns 0 when the key is longer than
 * every name (it cannot match), 1 otherwise. */
static int key_hash(const pd__fctx_t *c, const pd__jscan_t *s, const pd__jval_t *key,
                    uint32_t *h)
{
    uint32_t x = PD__FNV_OFFSET;
    size_t len = 0;
    if (!key->escaped) {
        len = key->end - key->start;
        if (len > c->max_name)
            return 0;
        for (size_t i = key->start; i < key->end; i++)
            x = (x ^ s->doc[i]) * PD__FNV_PRIME;
    } else {
        size_t i = key->start;
        uint32_t cp;
        while (pd__json_str_next(s->doc, &i, key->end, &cp)) {
            unsigned char enc[4];
            size_t k = pd__utf8_put(cp, enc);
            if ((len += k) > c->max_name)
                return 0;
            for (size_t b = 0; b < k; b++)
                x = (x ^ enc[b]) * PD__FNV_PRIME;
        }
    }
    *h = x;
    return 1;
}

static int key_is(const pd__jscan_t *s, const pd__jval_t *key, const char *name)
{
    if (!key->escaped) {
        size_t kl = key->end - key->start;
        return strncmp(name, (const char *)s->doc + key->start, kl) == 0 && name[kl] == '\0';
    }
    return pd__json_str_eq(s, key, name, strlen(name));
}

static long index_find(const pd__fctx_t *c, const pd__jscan_t *s, const pd__jval_t *key)
{
    uint32_t h;
    if (!key_hash(c, s, key, &h))
        return -1;
    for (uint32_t j = h & c->tab_mask; c->tab[j] != 0; j = (j + 1) & c->tab_mask) {
        size_t i = c->tab[j] - 1;
        if (key_is(s, key, c->names[i]))
            return (long)i;
    }
    return -1;
}

long pd__features_match(pd__fctx_t *c, const pd__jscan_t *s, const pd__jval_t *key)
{
    long found = -1;
    if (c->tab != NULL) {
        found = c->hint < c->n && key_is(s, key, c->names[c->hint]) ? (long)c->hint
                                                                      : index_find(c, s, key);
    } else {
        for (size_t k = 0; k < c->n && found < 0; k++) {
            size_t i = c->hint + k < c->n ? c->hint + k : c->hint + k - c->n;
            if (key_is(s, key, c->names[i]))
                found = (long)i;
        }
    }
    if (found >= 0) {
        c->hint = (size_t)found + 1 < c->n ? (size_t)found + 1 : 0;
        return found;
    }
    if (pd__json_str_eq(s, key, SELF_KEY, sizeof SELF_KEY - 1))
        c->kw_self = 1;
    return -1;
}

static void set_double(pd__fctx_t *c, long idx, double d)
{
    if (isfinite(d)) {
        c->out[idx] = d;
        c->st[idx] = PD__F_OK;
    } else
        c->st[idx] = PD__F_NONFINITE;
}

int pd__features_value(pd__fctx_t *c, pd__jscan_t *s, long idx)
{
    if (idx < 0)
        return pd__json_skip(s) < 0 ? PD_EFORMAT : 0;
    pd__jval_t v;
    double d;
    int rc;
    if (pd__json_value(s, &v) < 0)
        return PD_EFORMAT;
    switch (v.kind) {
    case PD__JK_OBJECT:
    case PD__JK_ARRAY:
        c->st[idx] = PD__F_TYPE;
        return pd__json_skip_rest(s, v.kind, 1) < 0 ? PD_EFORMAT : 0;
    case PD__JK_STRING:
        rc = pd__pyfloat_string(s, &v, &d);
        if (rc == PD_ENOMEM)
            return rc;
        if (rc < 0)
            c->st[idx] = PD__F_TYPE;
        else
            set_double(c, idx, d);
        return 0;
    case PD__JK_INT:
    case PD__JK_FLOAT:
        rc = pd__pyfloat_number(s, &v, &d);
        if (rc < 0)
            return rc;
        set_double(c, idx, d);
        return 0;
    case PD__JK_TRUE:
    case PD__JK_FALSE:
        set_double(c, idx, v.kind == PD__JK_TRUE ? 1.0 : 0.0);
        return 0;
    case PD__JK_NULL:
        c->st[idx] = PD__F_NULL;
        return 0;
    default: /* NaN, Infinity, -Infinity */
        c->st[idx] = PD__F_NONFINITE;
        return 0;
    }
}

/* An object body, '{' consumed: the last value given for a field wins, as in Python. */
static int walk_object(pd__fctx_t *c, pd__jscan_t *s)
{
    pd__jval_t key;
    int r = pd__json_obj_first(s, &key);
    while (r == 1) {
        int rc = pd__features_value(c, s, pd__features_match(c, s, &key));
        if (rc != 0)
            return rc;
        r = pd__json_obj_next(s, &key);
    }
    return r < 0 ? PD_EFORMAT : 0;
}

/* Parses the whole document into c. Returns 0, PD_EFORMAT (s->err set) or PD_ENOMEM. */
static int parse_document(pd__fctx_t *c, pd__jscan_t *s)
{
    pd__jval_t v;
    int rc = 0;
    pd__json_ws(s);
    if (pd__json_value(s, &v) < 0)
        return PD_EFORMAT;
    switch (v.kind) {
    case PD__JK_OBJECT:
        rc = walk_object(c, s);
        break;
    case PD__JK_ARRAY:
        rc = pd__features_pairs(c, s);
        break;
    case PD__JK_STRING: /* dict("") == {}; any other string fails dict() */
        c->body = v.end == v.start ? PD__B_FIELDS : PD__B_DICT;
        break;
    case PD__JK_NULL:
        c->body = PD__B_MISSING;
        break;
    default:
        c->body = PD__B_DICT;
        break;
    }
    if (rc != 0)
        return rc;
    pd__json_ws(s);
    if (s->pos != s->len) {
        s->err = PD__J_SYNTAX;
        s->msg = "Extra data";
        s->err_pos = s->pos;
        return PD_EFORMAT;
    }
    return 0;
}

/* ---- error bodies ---- */

static int put_item(pd_buf_t *b, int *first, const char *name, const char *msg, const char *type)
{
    int rc = pd_buf_puts(b, *first ? "{\"loc\":[\"body\"" : ",{\"loc\":[\"body\"");
    *first = 0;
    if (rc == 0 && name) {
        rc = pd_buf_puts(b, ",");
        if (rc == 0)
            rc = pd_buf_json_str(b, name, strlen(name));
    }
    if (rc == 0)
        rc = pd_buf_puts(b, "],\"msg\":");
    if (rc == 0)
        rc = pd_buf_json_str(b, msg, strlen(msg));
    if (rc == 0)
        rc = pd_buf_puts(b, ",\"type\":");
    if (rc == 0)
        rc = pd_buf_json_str(b, type, strlen(type));
    if (rc == 0)
        rc = pd_buf_puts(b, "}");
    return rc;
}

static int body_error(pd_buf_t *b, const char *msg, const char *type)
{
    int first = 1;
    int rc = pd_buf_puts(b, "{\"detail\":[");
    if (rc == 0)
        rc = put_item(b, &first, NULL, msg, type);
    if (rc == 0)
        rc = pd_buf_puts(b, "]}");
    return rc < 0 ? rc : PD_EINVAL;
}

/* Field errors in field order; not-finite ones only when there is nothing else. */
static int field_errors(const pd__fctx_t *c, pd_buf_t *b)
{
    static const struct { const char *msg, *type; } what[] = {
        [PD__F_MISSING] = {"field required", "value_error.missing"},
        [PD__F_NULL] = {"none is not an allowed value", "type_error.none.not_allowed"},
        [PD__F_TYPE] = {"value is not a valid float", "type_error.float"},
        [PD__F_NONFINITE] = {"ensure this value is a finite number",
                             "value_error.number.not_finite_number"},
    };
    int pydantic = 0, nonfinite = 0;
    for (size_t i = 0; i < c->n; i++) {
        pydantic |= c->st[i] != PD__F_OK && c->st[i] != PD__F_NONFINITE;
        nonfinite |= c->st[i] == PD__F_NONFINITE;
    }
    if (!pydantic && !nonfinite)
        return 0;
    int first = 1, rc = pd_buf_puts(b, "{\"detail\":[");
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        unsigned char st = c->st[i];
        if (st == PD__F_OK || (pydantic && st == PD__F_NONFINITE))
            continue;
        rc = put_item(b, &first, c->names[i], what[st].msg, what[st].type);
    }
    if (rc == 0)
        rc = pd_buf_puts(b, "]}");
    return rc < 0 ? rc : PD_EINVAL;
}

/* The decoded document as a JSON string (json.dumps, ensure_ascii=False); a lone surrogate
 * (3 bytes ED A0..BF xx) is written as U+FFFD. */
static int put_doc(pd_buf_t *b, const unsigned char *d, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0, i = 0;
    int rc = pd_buf_append(b, "\"", 1);
    while (i < n && rc == 0) {
        unsigned char c = d[i];
        char esc[8];
        size_t elen = 2, adv = 1;
        esc[0] = '\\';
        if (c == '"' || c == '\\')
            esc[1] = (char)c;
        else if (c >= 0x20 && !(c == 0xED && i + 2 < n && d[i + 1] >= 0xA0)) {
            i++;
            continue;
        } else if (c >= 0x20) { /* a lone surrogate: U+FFFD, so the body stays UTF-8 */
            memcpy(esc, "\xef\xbf\xbd", 3);
            elen = 3;
            adv = 3;
        } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
        else {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        rc = pd_buf_append(b, d + run, i - run);
        if (rc == 0)
            rc = pd_buf_append(b, esc, elen);
        i += adv;
        run = i;
    }
    if (rc == 0)
        rc = pd_buf_append(b, d + run, n - run);
    if (rc == 0)
        rc = pd_buf_append(b, "\"", 1);
    return rc;
}

static int jsondecode_error(pd_buf_t *b, const pd__jscan_t *s)
{
    size_t pos, line, col;
    char full[160];
    pd__json_char_offset(s->doc, s->err_pos, &pos, &line, &col);
    snprintf(full, sizeof full, "%s: line %zu column %zu (char %zu)", s->msg, line, col, pos);
    int rc = pd_buf_printf(b, "{\"detail\":[{\"loc\":[\"body\",%zu],\"msg\":", pos);
    if (rc == 0)
        rc = pd_buf_json_str(b, full, strlen(full));
    if (rc == 0)
        rc = pd_buf_puts(b, ",\"type\":\"value_error.jsondecode\",\"ctx\":{\"msg\":");
    if (rc == 0)
        rc = pd_buf_json_str(b, s->msg, strlen(s->msg));
    if (rc == 0)
        rc = pd_buf_puts(b, ",\"doc\":");
    if (rc == 0)
        rc = put_doc(b, s->doc, s->len);
    if (rc == 0)
        rc = pd_buf_printf(b, ",\"pos\":%zu,\"lineno\":%zu,\"colno\":%zu}}]}", pos, line, col);
    return rc < 0 ? rc : PD_EINVAL;
}

static int decode_text(pd__fctx_t *c, const unsigned char *doc, size_t dlen, pd_buf_t *err)
{
    pd__jscan_t s;
    pd__json_init(&s, doc, dlen);
    int rc = parse_document(c, &s);
    if (rc < 0 && rc != PD_EFORMAT)
        return rc;
    if (rc == PD_EFORMAT) {
        /* Python decodes the whole body before parsing: undecodable text anywhere wins. */
        if (s.err == PD__J_BADBODY || pd__utf8_check(doc, dlen) != dlen) {
            rc = pd_buf_puts(err, PD_FEATURES_BODY_400);
            return rc < 0 ? rc : PD_EFORMAT;
        }
        return jsondecode_error(err, &s);
    }
    switch (c->body) {
    case PD__B_MISSING:
        return body_error(err, "field required", "value_error.missing");
    case PD__B_DICT:
        return body_error(err, "value is not a valid dict", "type_error.dict");
    default:
        break;
    }
    if (c->kw_nonstr)
        return body_error(err, "keywords must be strings", "type_error");
    if (c->kw_self)
        return body_error(err, SELF_MSG, "type_error");
    return field_errors(c, err);
}

int pd_features_decode(const char *const *names, size_t n, const char *content_type,
                       const char *body, size_t len, double *out, pd_buf_t *err_body)
{
    unsigned char stack_st[PD_FEATURES_STACK];
    const unsigned char *doc;
    unsigned char *owned = NULL;
    size_t dlen;
    pd_buf_reset(err_body);
    if (n > PD_FEATURES_MAX)
        return PD_ETOOBIG;
    if (len == 0) /* FastAPI: no body bytes -> body None -> the body field is missing */
        return body_error(err_body, "field required", "value_error.missing");
    if (!pd_features_is_json(content_type)) /* the body stays bytes: not a dict */
        return body_error(err_body, "value is not a valid dict", "type_error.dict");
    int rc = pd__json_text((const unsigned char *)body, len, &doc, &dlen, &owned);
    if (rc == PD_EFORMAT) {
        rc = pd_buf_puts(err_body, PD_FEATURES_BODY_400);
        return rc < 0 ? rc : PD_EFORMAT;
    }
    if (rc < 0)
        return rc;
    pd__fctx_t c = {.names = names, .n = n, .out = out};
    uint32_t stack_tab[2 * PD_FEATURES_STACK];
    uint32_t slots = n > PD__FEATURES_LINEAR_MAX ? index_slots(n) : 0;
    unsigned char *heap = NULL; /* st and the index, for models wider than the stack */
    if (n <= PD_FEATURES_STACK) {
        c.st = stack_st;
    } else {
        heap = malloc(n + slots * sizeof(uint32_t) + sizeof(uint32_t));
        c.st = heap;
    }
    if (c.st == NULL) {
        free(owned);
        return PD_ENOMEM;
    }
    memset(c.st, PD__F_MISSING, n);
    if (slots != 0) {
        uint32_t *tab = stack_tab;
        if (heap != NULL) /* after st, aligned up for uint32_t */
            tab = (uint32_t *)(heap + ((n + sizeof(uint32_t) - 1) & ~(sizeof(uint32_t) - 1)));
        index_build(&c, tab, slots);
    }
    rc = decode_text(&c, doc, dlen, err_body);
    free(heap);
    free(owned);
    return rc;
}
