/* json_pairs.c - an array body as Pydantic 1.10 sees it: BaseModel.validate() calls
 * dict(value) on anything that is not a dict, so a JSON array whose every element is a
 * 2-item iterable becomes a mapping. An element is iterable when it is an array (its
 * items), a string (its characters) or an object (its distinct keys, in first-seen
 * order); it must have exactly two items and a hashable first item (not an array or an
 * object), else dict() fails: type_error.dict. A non-string key makes Model(**d) fail with
 * "keywords must be strings". The last pair for a key wins.
 *
 * Used for the whole body (pd_features_decode) and for each element of a list of rows
 * (pd_codec_fastapi), whose elements Pydantic validates the same way.
 *
 * The whole array is always scanned (json.loads parses everything before Pydantic runs),
 * so that a syntax error later in the document still wins over any of these outcomes. */
#include "api/json_pairs.h"

#include <string.h>

#include "api/json_pyfloat.h"
#include "common.h"

/* Object elements: distinct keys remembered to tell "exactly two" from "three or more". */
#define PAIR_MAX_KEYS 3

static int dict_error(pd__fctx_t *c)
{
    c->body = PD__B_DICT;
    return 0;
}

/* Whether two string values of the document decode to the same text. */
static int str_same(const pd__jscan_t *s, const pd__jval_t *a, const pd__jval_t *b)
{
    if (!a->escaped && !b->escaped)
        return a->end - a->start == b->end - b->start &&
               memcmp(s->doc + a->start, s->doc + b->start, a->end - a->start) == 0;
    size_t i = a->start, j = b->start;
    uint32_t x, y;
    for (;;) {
        int more_a = pd__json_str_next(s->doc, &i, a->end, &x);
        int more_b = pd__json_str_next(s->doc, &j, b->end, &y);
        if (!more_a || !more_b)
            return more_a == more_b;
        if (x != y)
            return 0;
    }
}

/* ["key", value]: '[' consumed. */
static int pair_array(pd__fctx_t *c, pd__jscan_t *s)
{
    pd__jval_t k;
    int r = pd__json_arr_first(s);
    if (r <= 0)
        return r < 0 ? PD_EFORMAT : dict_error(c); /* [] has length 0 */
    if (pd__json_value(s, &k) < 0)
        return PD_EFORMAT;
    if (k.kind == PD__JK_OBJECT || k.kind == PD__JK_ARRAY) { /* unhashable key */
        dict_error(c);
        if (pd__json_skip_rest(s, k.kind, 1) < 0 || pd__json_skip_rest(s, PD__JK_ARRAY, 0) < 0)
            return PD_EFORMAT;
        return 0;
    }
    r = pd__json_arr_next(s);
    if (r <= 0)
        return r < 0 ? PD_EFORMAT : dict_error(c); /* length 1 */
    long idx = -1;
    if (k.kind == PD__JK_STRING)
        idx = pd__features_match(c, s, &k);
    else
        c->kw_nonstr = 1;
    int rc = pd__features_value(c, s, idx);
    if (rc != 0)
        return rc;
    r = pd__json_arr_next(s);
    if (r < 0)
        return PD_EFORMAT;
    if (r == 1) { /* three or more items */
        dict_error(c);
        if (pd__json_skip(s) < 0 || pd__json_skip_rest(s, PD__JK_ARRAY, 0) < 0)
            return PD_EFORMAT;
    }
    return 0;
}

/* {"key": _, "value": _}: '{' consumed; the two distinct keys are the pair. */
static int pair_object(pd__fctx_t *c, pd__jscan_t *s)
{
    pd__jval_t keys[PAIR_MAX_KEYS], key;
    size_t nkeys = 0;
    int r = pd__json_obj_first(s, &key);
    while (r == 1) {
        int seen = 0;
        for (size_t i = 0; i < nkeys && !seen; i++)
            seen = str_same(s, &keys[i], &key);
        if (!seen && nkeys < PAIR_MAX_KEYS)
            keys[nkeys++] = key;
        if (pd__json_skip(s) < 0)
            return PD_EFORMAT;
        r = pd__json_obj_next(s, &key);
    }
    if (r < 0)
        return PD_EFORMAT;
    if (nkeys != 2)
        return dict_error(c);
    long idx = pd__features_match(c, s, &keys[0]);
    if (idx < 0)
        return 0;
    if (c->inputs && c->inputs[idx].type == PD_INPUT_STRING)
        return pd__features_string(c, s, &keys[1], idx);
    double d;
    int rc = pd__pyfloat_string(s, &keys[1], &d);
    if (rc == PD_ENOMEM)
        return rc;
    if (rc < 0)
        c->st[idx] = PD__F_TYPE;
    else
        pd__features_set(c, idx, d);
    return pd__features_known(c, idx);
}

/* "kv": a two-character string is the pair (k, "v"). */
static int pair_string(pd__fctx_t *c, const pd__jscan_t *s, const pd__jval_t *e)
{
    uint32_t cp[2] = {0, 0}, x;
    size_t count = 0, i = e->start;
    while (pd__json_str_next(s->doc, &i, e->end, &x)) {
        if (count < 2)
            cp[count] = x;
        count++;
    }
    if (count != 2)
        return dict_error(c);
    unsigned char key[4];
    size_t klen = pd__utf8_put(cp[0], key);
    for (size_t f = 0; f < c->n; f++) {
        if (strlen(c->names[f]) != klen || memcmp(c->names[f], key, klen) != 0)
            continue;
        /* float() of one character: a decimal digit, anything else fails */
        int dv = cp[1] < 128 ? (cp[1] >= '0' && cp[1] <= '9' ? (int)cp[1] - '0' : -1)
                             : pd__py_decimal(cp[1]);
        if (dv < 0)
            c->st[f] = PD__F_TYPE;
        else {
            c->out[f] = dv;
            c->st[f] = PD__F_OK;
        }
        break;
    }
    return 0;
}

int pd__features_pairs(pd__fctx_t *c, pd__jscan_t *s)
{
    int r = pd__json_arr_first(s);
    while (r == 1) {
        pd__jval_t e;
        int rc = 0;
        if (pd__json_value(s, &e) < 0)
            return PD_EFORMAT;
        if (e.kind == PD__JK_ARRAY)
            rc = pair_array(c, s);
        else if (e.kind == PD__JK_OBJECT)
            rc = pair_object(c, s);
        else if (e.kind == PD__JK_STRING)
            rc = pair_string(c, s, &e);
        else
            dict_error(c); /* a number, bool or null is not iterable */
        if (rc != 0)
            return rc;
        r = pd__json_arr_next(s);
    }
    return r < 0 ? PD_EFORMAT : 0;
}
