/* fsource_keys.c - pd_fetch_prepare (fsource.h): the entity key of every row that lacks a
 * feature, read from the request body the codec already decoded and expanded from the
 * source's key template ("user:{user_id}" with user_id = 42 -> "user:42").
 *
 * The body is scanned again with the project's JSON scanner (json_scan.h), bounded like
 * the decode (single pass, no recursion): an object is one row, an array one row per
 * element, in the order the codec decoded them; in each object the key fields are found
 * by name (the last occurrence wins, as in Python); every other value is skipped. A key
 * field's value is a string (its decoded text) or an integer (its digits; -0 is 0).
 *
 * Invariants: touches only its arguments and the fetch it builds (any thread: the decode
 * of a big body runs on a worker, and so does this); never reads a row's key unless the
 * row has a NaN cell (a row that carries every feature needs no entity). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fsource_impl.h"
#include "api/json_encoding.h"
#include "api/json_scan.h"
#include "common.h"

/* One key field's value in the current row. */
typedef enum { KV_ABSENT = 0, KV_STRING, KV_INT, KV_BAD } kv_kind_t;

typedef struct {
    const pd_fsource_spec_t *spec;
    const pd_rows_t *rows;
    pd__jscan_t s;
    kv_kind_t kind[PD_FSOURCE_MAX_KEY_FIELDS];
    pd__jval_t val[PD_FSOURCE_MAX_KEY_FIELDS];
    pd_fetch_t *f;
    pd_buf_t keys;
} kctx_t;

static int row_needs(const pd_rows_t *r, size_t row)
{
    const double *x = r->x + row * r->n_cols;
    for (size_t j = 0; j < r->n_cols; j++)
        if (isnan(x[j]))
            return 1;
    return 0;
}

/* A 422 naming the row (for a list) and the key field. Returns 422. */
static int key_error(kctx_t *c, size_t row, size_t field, const char *what)
{
    char where[48] = "";
    if (!c->rows->single)
        snprintf(where, sizeof where, "row %zu: ", row);
    snprintf(c->f->msg, sizeof c->f->msg, "%sthe field '%s' %s: it names the entity (key \"%s\") whose "
             "missing features are read from %s", where, c->spec->key_fields[field], what,
             c->spec->key, c->spec->display);
    return 422;
}

/* Appends key field i's value of the current row to c->keys. */
static int put_value(kctx_t *c, size_t i)
{
    const pd__jval_t *v = &c->val[i];
    const unsigned char *d = c->s.doc;
    if (c->kind[i] == KV_INT && v->end - v->start == 2 && d[v->start] == '-' &&
        d[v->start + 1] == '0')
        return pd_buf_append(&c->keys, "0", 1); /* int("-0") == 0 */
    if (c->kind[i] == KV_INT || !v->escaped)
        return pd_buf_append(&c->keys, d + v->start, v->end - v->start);
    size_t at = v->start;
    uint32_t cp;
    int rc = 0;
    while (rc == 0 && pd__json_str_next(d, &at, v->end, &cp)) {
        unsigned char enc[4];
        rc = pd_buf_append(&c->keys, enc, pd__utf8_put(cp, enc));
    }
    return rc;
}

/* The current row (index row) is complete: when it needs a lookup, checks its key fields
 * and appends its expanded key. Returns 0, 422 or a negative code. */
static int row_end(kctx_t *c, size_t row)
{
    if (row >= c->rows->n_rows)
        return PD_EINVAL; /* more elements than the codec decoded rows */
    if (!row_needs(c->rows, row))
        return 0;
    const pd_fsource_spec_t *sp = c->spec;
    for (size_t i = 0; i < sp->n_key_fields; i++) {
        if (c->kind[i] == KV_ABSENT)
            return key_error(c, row, i, "is required");
        if (c->kind[i] == KV_BAD)
            return key_error(c, row, i, "must be a string or an integer");
    }
    pd_fetch_t *f = c->f;
    size_t start = c->keys.len;
    int rc = 0;
    for (size_t p = 0; p < sp->n_parts && rc == 0; p++)
        rc = sp->parts[p].field ? put_value(c, sp->parts[p].index)
                                : pd_buf_append(&c->keys, sp->parts[p].text, sp->parts[p].len);
    if (rc == 0 && c->keys.len - start > PD_FSOURCE_KEY_MAX)
        return key_error(c, row, 0, "makes an entity key longer than "
                         "PD_FSOURCE_KEY_MAX (512 bytes)");
    if (rc == 0)
        rc = pd_buf_append(&c->keys, "", 1); /* each key NUL-terminated */
    if (rc < 0)
        return rc == PD_ETOOBIG ? PD_EINVAL : rc;
    f->row_of[f->n_keys] = (uint32_t)row;
    f->key_off[++f->n_keys] = c->keys.len;
    return 0;
}

/* The value of a key field named by `key` (its ':' consumed): recorded, or skipped. */
static int member(kctx_t *c, const pd__jval_t *key)
{
    long hit = -1;
    for (size_t i = 0; i < c->spec->n_key_fields && hit < 0; i++)
        if (pd__json_str_eq(&c->s, key, c->spec->key_fields[i], strlen(c->spec->key_fields[i])))
            hit = (long)i;
    if (hit < 0)
        return pd__json_skip(&c->s);
    pd__jval_t v;
    if (pd__json_value(&c->s, &v) < 0)
        return -1;
    c->val[hit] = v;
    c->kind[hit] = v.kind == PD__JK_STRING ? KV_STRING : v.kind == PD__JK_INT ? KV_INT : KV_BAD;
    if (v.kind == PD__JK_OBJECT || v.kind == PD__JK_ARRAY)
        return pd__json_skip_rest(&c->s, v.kind, 1);
    return 0;
}

/* One element (value v just scanned, a container opened): its key fields, then row_end. */
static int element(kctx_t *c, const pd__jval_t *v, size_t row)
{
    memset(c->kind, 0, sizeof c->kind);
    if (v->kind == PD__JK_OBJECT) {
        pd__jval_t key;
        int r = pd__json_obj_first(&c->s, &key);
        while (r == 1) {
            if (member(c, &key) < 0)
                return PD_EINVAL;
            r = pd__json_obj_next(&c->s, &key);
        }
        if (r < 0)
            return PD_EINVAL;
    } else if ((v->kind == PD__JK_ARRAY) && pd__json_skip_rest(&c->s, v->kind, 1) < 0) {
        return PD_EINVAL; /* a row given as pairs: no key fields are read from it */
    }
    return row_end(c, row);
}

/* Walks the whole document: one row, or one per element of a top-level array. */
static int walk(kctx_t *c)
{
    pd__jval_t v;
    pd__json_ws(&c->s);
    if (pd__json_value(&c->s, &v) < 0)
        return PD_EINVAL;
    if (!(v.kind == PD__JK_ARRAY && !c->rows->single))
        return element(c, &v, 0);
    size_t row = 0;
    int r = pd__json_arr_first(&c->s);
    while (r == 1) {
        pd__jval_t e;
        if (pd__json_value(&c->s, &e) < 0)
            return PD_EINVAL;
        int rc = element(c, &e, row++);
        if (rc != 0)
            return rc;
        r = pd__json_arr_next(&c->s);
    }
    return r < 0 ? PD_EINVAL : row == c->rows->n_rows ? 0 : PD_EINVAL;
}

static pd_fetch_t *fetch_alloc(size_t n)
{
    pd_fetch_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->row_of = malloc((n ? n : 1) * sizeof *f->row_of);
    f->key_off = calloc(n + 1, sizeof *f->key_off);
    pd_list_init(&f->link);
    f->by_request = 1;
    if (f->row_of == NULL || f->key_off == NULL) {
        free(f->row_of);
        free(f->key_off);
        free(f);
        return NULL;
    }
    return f;
}

int pd_fetch_prepare(const pd_fsource_spec_t *spec, const char *body, size_t len,
                     const pd_rows_t *rows, pd_fetch_t **out)
{
    *out = NULL;
    size_t need = 0;
    for (size_t i = 0; i < rows->n_rows; i++)
        need += (size_t)row_needs(rows, i);
    if (need == 0)
        return 0;
    if (rows->n_cols != spec->n_features || rows->n_rows > UINT32_MAX)
        return PD_EINVAL;
    const unsigned char *doc;
    unsigned char *owned = NULL;
    size_t dlen;
    int rc = pd__json_text((const unsigned char *)body, len, &doc, &dlen, &owned);
    if (rc < 0)
        return rc == PD_ENOMEM ? rc : PD_EINVAL; /* the codec accepted it: cannot happen */
    kctx_t c = {.spec = spec, .rows = rows};
    pd__json_init(&c.s, doc, dlen);
    pd_buf_init(&c.keys, need * (PD_FSOURCE_KEY_MAX + PD_FSOURCE_TEMPLATE_MAX + 1));
    if ((c.f = fetch_alloc(need)) == NULL)
        rc = PD_ENOMEM;
    if (rc == 0)
        rc = walk(&c);
    free(owned);
    if (rc == 0 && c.f->n_keys != need)
        rc = PD_EINVAL;
    if (rc != 0) {
        pd_buf_free(&c.keys);
        if (c.f != NULL && rc == 422) { /* answered by pd_fetch_start, counted there */
            c.f->n_keys = 0;
            c.f->status = 422;
            c.f->err_kind = PD__FERR_KEY;
            *out = c.f;
            return 0;
        }
        pd_fetch_free(c.f);
        return rc;
    }
    c.f->keys = pd_buf_steal(&c.keys, NULL);
    *out = c.f;
    return 0;
}
