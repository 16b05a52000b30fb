/* features_string.c - typed inputs on the FastAPI-style routes (issue 10): a string
 * column's field validated as Pydantic 1.10 validates `str` (a string is itself; a number
 * or a boolean becomes str() of it, e.g. 1.5 -> "1.5", true -> "True"; null is
 * none.not_allowed, or missing with missing_ok as Optional[str]; an object or an array is
 * type_error.str "str type expected"), then mapped to its code through the model's
 * vocabulary (pd_model_input_code); and the accepted-values check of a column whose
 * encoder refuses unknown categories (handle_unknown="error").
 *
 * An unknown category of such a column is recorded (row, field, value) in c->unk as one
 * line "<row>\t<field>\t<value as JSON>\n" and listed as a 422 by
 * pd__features_unknown_errors only when no row has one of Pydantic's errors (FastAPI's
 * app would have answered 500 from the model's ValueError); a later value of the same
 * field (the last one wins, as in Python) forgets the record first.
 *
 * Invariant: c->txt and c->unk are the call's (features.c frees them); values and
 * records are bounded: a value longer than PD_FEATURES_MAX_STRING bytes cannot be a
 * category (it is decoded no further) and the records by the error buffer's cap. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/features_internal.h"
#include "api/json_pyfloat.h"
#include "common.h"

/* Forgets the current row's record of field idx, if any. */
static void forget(pd__fctx_t *c, long idx)
{
    pd_buf_t *u = c->unk;
    size_t i = c->unk_row_mark;
    while (u && i < u->len) {
        char *nl = memchr(u->data + i, '\n', u->len - i);
        size_t end = (size_t)(nl - u->data) + 1;
        char *tab = memchr(u->data + i, '\t', end - i);
        if (tab && strtol(tab + 1, NULL, 10) == idx) {
            memmove(u->data + i, u->data + end, u->len - end);
            u->len -= end - i;
            u->data[u->len] = '\0';
            return;
        }
        i = end;
    }
}

/* Records field idx's value (JSON text t, tl bytes) as an unknown category. */
static int record(pd__fctx_t *c, long idx, const char *t, size_t tl)
{
    if (!c->unk)
        return 0;
    int rc = pd_buf_printf(c->unk, "%zu\t%ld\t", c->row, idx);
    if (rc == 0)
        rc = pd_buf_append(c->unk, t, tl);
    if (rc == 0)
        rc = pd_buf_puts(c->unk, "\n");
    if (rc == PD_ETOOBIG) { /* more than the error buffer could list anyway */
        c->unk_full = 1;
        return 0;
    }
    return rc;
}

/* str() of the scanned value v, UTF-8, into c->txt (reset). Returns 1 when v is a
 * string, number or boolean (Pydantic's str accepts it), 0 otherwise, or PD_ENOMEM. */
static int value_text(pd__fctx_t *c, const pd__jscan_t *s, const pd__jval_t *v)
{
    pd_buf_t *t = c->txt;
    pd_buf_reset(t);
    double d;
    int rc = 0;
    switch (v->kind) {
    case PD__JK_STRING: {
        size_t i = v->start;
        uint32_t cp;
        while (rc == 0 && t->len <= PD_FEATURES_MAX_STRING &&
               pd__json_str_next(s->doc, &i, v->end, &cp)) {
            unsigned char enc[4];
            rc = pd_buf_append(t, enc, pd__utf8_put(cp, enc));
        }
        break;
    }
    case PD__JK_INT: /* str(int(text)): the literal, without the sign of -0 (cut past
                        PD_FEATURES_MAX_STRING: no category is that long) */
        if (v->end - v->start == 2 && memcmp(s->doc + v->start, "-0", 2) == 0)
            rc = pd_buf_puts(t, "0");
        else
            rc = pd_buf_append(t, s->doc + v->start,
                               PD_MIN(v->end - v->start, PD_FEATURES_MAX_STRING + 1));
        break;
    case PD__JK_FLOAT:
        if ((rc = pd__pyfloat_number(s, v, &d)) < 0)
            return rc == PD_ENOMEM ? rc : 0;
        rc = isinf(d) ? pd_buf_puts(t, d > 0 ? "inf" : "-inf") : pd_buf_json_double(t, d);
        break;
    case PD__JK_TRUE: rc = pd_buf_puts(t, "True"); break;
    case PD__JK_FALSE: rc = pd_buf_puts(t, "False"); break;
    case PD__JK_NAN: rc = pd_buf_puts(t, "nan"); break;
    case PD__JK_INF: rc = pd_buf_puts(t, "inf"); break;
    case PD__JK_NINF: rc = pd_buf_puts(t, "-inf"); break;
    default: return 0;
    }
    return rc < 0 ? rc : 1;
}

int pd__features_string(pd__fctx_t *c, const pd__jscan_t *s, const pd__jval_t *v, long idx)
{
    const pd_model_input_t *in = &c->inputs[idx];
    forget(c, idx);
    if (v->kind == PD__JK_NULL) {
        c->st[idx] = PD__F_NULL;
        return 0;
    }
    int rc = value_text(c, s, v);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        c->st[idx] = PD__F_STR;
        return 0;
    }
    long code = c->txt->len > PD_FEATURES_MAX_STRING
                    ? -1 : pd_model_input_code(in, c->txt->data, c->txt->len);
    c->out[idx] = code < 0 ? PD_MODEL_CODE_UNKNOWN : (double)code;
    c->st[idx] = PD__F_OK;
    rc = 0;
    if (in->unknown_error && (code < 0 || (size_t)code >= in->n_known)) {
        size_t keep = PD_MIN(c->txt->len, PD_FEATURES_MAX_STRING);
        pd_buf_t j;
        pd_buf_init(&j, 0);
        rc = pd_buf_json_str(&j, c->txt->data, keep);
        if (rc == 0)
            rc = record(c, idx, j.data, j.len);
        pd_buf_free(&j);
    }
    return rc;
}

int pd__features_known(pd__fctx_t *c, long idx)
{
    const pd_model_input_t *in = c->inputs ? &c->inputs[idx] : NULL;
    if (!in || !in->unknown_error || in->type != PD_INPUT_NUMBER)
        return 0;
    forget(c, idx);
    if (c->st[idx] != PD__F_OK || pd_model_input_known(in, c->out[idx]))
        return 0;
    pd_buf_reset(c->txt);
    int rc = pd_buf_json_double(c->txt, c->out[idx]);
    return rc < 0 ? rc : record(c, idx, c->txt->data, c->txt->len);
}

void pd__features_row_begin(pd__fctx_t *c, size_t row)
{
    c->row = row;
    c->unk_row_mark = c->unk ? c->unk->len : 0;
}
