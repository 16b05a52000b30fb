/* features.c - the decode call behind pd_features_decode() and pd_codec_fastapi: FastAPI
 * 0.92 / Pydantic 1.10 request validation for a model whose input is one float per
 * feature name (see features.h, features_internal.h).
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
 *     (json_pyfloat.c); every field error is listed. With a list of rows (the codec), a
 *     top-level array is `List[InputData]` instead: features_list.c.
 *
 * Deliberate differences from FastAPI (it answers 500 Internal Server Error for these):
 *  - a field that float() turns into NaN or +-inf (NaN, Infinity, -Infinity, 1e400, "nan",
 *    "inf", ...) or an integer too large for a double (Python: OverflowError) is refused
 *    with 422 {"loc":["body",<name>],"msg":"ensure this value is a finite number",
 *    "type":"value_error.number.not_finite_number"} (["body",<index>,<name>] in a list),
 *    listed for every such field, but only when no field of any row has one of Pydantic's
 *    errors: whenever FastAPI answers 422, predictd's body is FastAPI's, byte for byte.
 *    With missing_ok (Optional[float] = None in FastAPI terms) NaN is a missing value,
 *    not an error; +-inf still is;
 *  - a JSONDecodeError whose document holds a lone surrogate (FastAPI fails to encode its
 *    own 422) is answered with each lone surrogate of ctx.doc written as U+FFFD.
 *
 * Invariant: the per-call state (states, name index) lives on the stack, or in one heap
 * block for models wider than PD_FEATURES_STACK; nothing static is written. */
#include "api/features.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/features_internal.h"
#include "api/json_encoding.h"
#include "common.h"

#define SELF_KEY "__pydantic_self__"

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

/* The document after json.loads found it well-formed up to its value: only whitespace
 * may follow. Returns 0 or PD_EFORMAT (s->err set). */
static int doc_end(pd__jscan_t *s)
{
    pd__json_ws(s);
    if (s->pos == s->len)
        return 0;
    s->err = PD__J_SYNTAX;
    s->msg = "Extra data";
    s->err_pos = s->pos;
    return PD_EFORMAT;
}

/* The whole document (UTF-8) into c: one row, or a list of rows when rows is given and
 * the document is an array. Returns 0, PD_EINVAL, PD_EFORMAT, PD_ETOOBIG or PD_ENOMEM. */
static int decode_doc(pd__fctx_t *c, const unsigned char *doc, size_t dlen, pd_rows_t *rows,
                      double *out, pd_buf_t *err)
{
    pd__jscan_t s;
    pd__jval_t v;
    int rc = 0, list = 0;
    pd__json_init(&s, doc, dlen);
    pd__json_ws(&s);
    if (pd__json_value(&s, &v) < 0)
        return pd__features_syntax_error(err, &s);
    if (rows != NULL && v.kind == PD__JK_ARRAY) {
        list = 1;
        rows->single = 0;
        rc = pd__features_list(c, &s, rows, err);
    } else {
        if (rows != NULL)
            rc = pd_rows_add(rows, &out);
        if (rc == 0) {
            pd__features_reset(c, out);
            pd__features_row_begin(c, PD__FEATURES_TOP);
            rc = pd__features_element(c, &s, &v);
        }
    }
    if (rc == 0)
        rc = doc_end(&s);
    if (rc == PD_EFORMAT)
        return pd__features_syntax_error(err, &s);
    if (rc == PD_ETOOBIG && c->too_many_rows)
        pd_buf_reset(err);
    if (rc < 0)
        return rc;
    if (!list) { /* the row's errors come after the whole document parsed */
        pd__features_finish(c);
        rc = pd__features_row_errors(c, err, PD__FEATURES_TOP);
    }
    if (rc == 0 && !c->pydantic && c->nonfinite)
        rc = list ? pd__features_nonfinite_errors(c, err, rows->x, rows->n_rows, 1)
                  : pd__features_nonfinite_errors(c, err, c->out, 1, 0);
    if (rc == 0 && !c->pydantic && c->unk && (c->unk->len || c->unk_full))
        rc = pd__features_unknown_errors(c, err, list);
    return rc < 0 ? rc : pd__features_errors_end(c, err);
}

/* Index slots for n names: a power of two >= 2n, or 0 when the linear match is used. */
static uint32_t index_size(size_t n)
{
    return n > PD__FEATURES_LINEAR_MAX ? index_slots(n) : 0;
}

int pd__features_run(const pd__fcall_t *a, double *out, pd_rows_t *rows, pd_buf_t *err,
                     int *too_many_rows)
{
    unsigned char stack_st[PD_FEATURES_STACK];
    uint32_t stack_tab[2 * PD_FEATURES_STACK];
    const unsigned char *doc;
    unsigned char *owned = NULL;
    size_t dlen, n = a->n;
    *too_many_rows = 0;
    pd_buf_reset(err);
    if (rows != NULL)
        rows->single = 1; /* until the document turns out to be an array */
    if (n > PD_FEATURES_MAX)
        return PD_ETOOBIG;
    if (a->len == 0) /* FastAPI: no body bytes -> body None -> the body field is missing */
        return pd__features_body_error(err, "field required", "value_error.missing");
    if (!pd_features_is_json(a->content_type)) /* the body stays bytes: not a dict */
        return pd__features_body_error(err, "value is not a valid dict", "type_error.dict");
    int rc = pd__json_text((const unsigned char *)a->body, a->len, &doc, &dlen, &owned);
    if (rc == PD_EFORMAT) {
        rc = pd_buf_puts(err, PD_FEATURES_BODY_400);
        return rc < 0 ? rc : PD_EFORMAT;
    }
    if (rc < 0)
        return rc;
    pd__fctx_t c = {.names = a->names, .n = n, .missing_ok = a->missing_ok,
                    .inputs = a->inputs};
    pd_buf_t txt, unk; /* typed inputs only: a value's text, unknown categories */
    pd_buf_init(&txt, PD_FEATURES_MAX_STRING * 4 + 64);
    pd_buf_init(&unk, err->cap_limit);
    if (a->inputs) {
        c.txt = &txt;
        c.unk = &unk;
    }
    uint32_t slots = index_size(n);
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
    if (slots != 0) {
        uint32_t *tab = stack_tab;
        if (heap != NULL) /* after st, aligned up for uint32_t */
            tab = (uint32_t *)(heap + ((n + sizeof(uint32_t) - 1) & ~(sizeof(uint32_t) - 1)));
        index_build(&c, tab, slots);
    }
    rc = decode_doc(&c, doc, dlen, rows, out, err);
    *too_many_rows = c.too_many_rows;
    pd_buf_free(&txt);
    pd_buf_free(&unk);
    free(heap);
    free(owned);
    return rc;
}

int pd_features_decode(const char *const *names, size_t n, const char *content_type,
                       const char *body, size_t len, double *out, pd_buf_t *err_body)
{
    pd__fcall_t a = {.names = names, .n = n, .content_type = content_type, .body = body,
                     .len = len};
    int too_many;
    return pd__features_run(&a, out, NULL, err_body, &too_many);
}
