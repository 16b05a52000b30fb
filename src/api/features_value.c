/* features_value.c - one InputData: the value in the place of one row (the whole body, or
 * one element of a list) validated as Pydantic 1.10's BaseModel.validate does, and each
 * field's value coerced by float() (json_pyfloat.c).
 *
 *  - an object is the mapping; the last value given for a field wins, as in Python;
 *  - an array goes through dict(value) (json_pairs.c), a string too ("" is {}, any other
 *    string fails dict());
 *  - null is the body's "field required" or a list element's "none is not an allowed
 *    value" (features_errors.c tells them apart); anything else fails dict().
 *
 * Invariant: nothing is written to the row for a field unless its state is PD__F_OK,
 * except by pd__features_finish (missing values and not-finite markers). */
#include <math.h>
#include <string.h>

#include "api/features_internal.h"
#include "api/json_pyfloat.h"
#include "common.h"

void pd__features_set(pd__fctx_t *c, long idx, double d)
{
    if (isfinite(d)) {
        c->out[idx] = d;
        c->st[idx] = PD__F_OK;
    } else
        c->st[idx] = isnan(d) ? PD__F_NAN : PD__F_NONFINITE;
}

static int number_value(pd__fctx_t *c, pd__jscan_t *s, const pd__jval_t *vp, long idx);

int pd__features_value(pd__fctx_t *c, pd__jscan_t *s, long idx)
{
    if (idx < 0)
        return pd__json_skip(s) < 0 ? PD_EFORMAT : 0;
    pd__jval_t v;
    int rc;
    if (pd__json_value(s, &v) < 0)
        return PD_EFORMAT;
    if (c->inputs && c->inputs[idx].type == PD_INPUT_STRING) {
        rc = pd__features_string(c, s, &v, idx);
        if (rc == 0 && (v.kind == PD__JK_OBJECT || v.kind == PD__JK_ARRAY))
            rc = pd__json_skip_rest(s, v.kind, 1) < 0 ? PD_EFORMAT : 0;
        return rc;
    }
    rc = number_value(c, s, &v, idx);
    return rc == 0 ? pd__features_known(c, idx) : rc;
}

/* A number column's value v (Pydantic's float). */
static int number_value(pd__fctx_t *c, pd__jscan_t *s, const pd__jval_t *vp, long idx)
{
    pd__jval_t v = *vp;
    double d;
    int rc;
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
            pd__features_set(c, idx, d);
        return 0;
    case PD__JK_INT:
    case PD__JK_FLOAT:
        rc = pd__pyfloat_number(s, &v, &d);
        if (rc < 0)
            return rc;
        pd__features_set(c, idx, d);
        return 0;
    case PD__JK_TRUE:
    case PD__JK_FALSE:
        pd__features_set(c, idx, v.kind == PD__JK_TRUE ? 1.0 : 0.0);
        return 0;
    case PD__JK_NULL:
        c->st[idx] = PD__F_NULL;
        return 0;
    case PD__JK_NAN:
        c->st[idx] = PD__F_NAN;
        return 0;
    default: /* Infinity, -Infinity */
        c->st[idx] = PD__F_NONFINITE;
        return 0;
    }
}

/* An object, '{' consumed. */
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

void pd__features_reset(pd__fctx_t *c, double *row)
{
    memset(c->st, PD__F_MISSING, c->n);
    c->out = row;
    c->body = PD__B_FIELDS;
    c->kw_nonstr = 0;
    c->kw_self = 0;
}

int pd__features_element(pd__fctx_t *c, pd__jscan_t *s, const pd__jval_t *v)
{
    switch (v->kind) {
    case PD__JK_OBJECT:
        return walk_object(c, s);
    case PD__JK_ARRAY:
        return pd__features_pairs(c, s);
    case PD__JK_STRING: /* dict("") == {}; any other string fails dict() */
        c->body = v->end == v->start ? PD__B_FIELDS : PD__B_DICT;
        return 0;
    case PD__JK_NULL:
        c->body = PD__B_MISSING;
        return 0;
    default:
        c->body = PD__B_DICT;
        return 0;
    }
}

void pd__features_finish(pd__fctx_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        unsigned char st = c->st[i];
        if (c->missing_ok && (st == PD__F_MISSING || st == PD__F_NULL || st == PD__F_NAN)) {
            c->out[i] = NAN; /* Optional[float] = None: None is handed to the model */
            c->st[i] = PD__F_OK;
        } else if (st == PD__F_NAN || st == PD__F_NONFINITE) {
            c->out[i] = INFINITY;
            c->st[i] = PD__F_NONFINITE;
            c->nonfinite = 1;
        }
    }
}
