/* codec_v2_outputs.c - the "outputs" of a KServe V2 inference request: which tensors to
 * answer (predict, predict_proba or the model's named outputs: codec_outputs.h), each at
 * most once, and per output its binary_data parameter. Part of the V2 decoder
 * (codec_v2.c), on its pd__v2dec_t; reentrant. */
#include <stdio.h>
#include <string.h>

#include "api/codec.h"
#include "api/codec_outputs.h"
#include "api/codec_v2_internal.h"
#include "common.h"

const char *pd__v2_output_name(const pd_model_schema_t *s, int which)
{
    return which == PD__V2_PREDICT ? "predict"
           : which == PD__V2_PROBA ? "predict_proba"
                                   : s->outputs[which - PD__V2_NAMED].name;
}

/* Fails with "<what> (the model's outputs: predict, ...)" for outputs[i]. */
static int no_such_output(pd__v2dec_t *d, const char *what)
{
    pd__cj_fail(&d->c, 400, "%s (the model's outputs: ", what);
    if (pd__outputs_list(d->c.schema, d->c.msg) < 0 || pd_buf_puts(d->c.msg, ")") < 0)
        return PD_ENOMEM;
    return 400;
}

/* The value of an output's "name" into *which (PD__V2_*): predict, predict_proba or one
 * of the model's named outputs (codec_outputs.h). */
static int output_name(pd__v2dec_t *d, size_t i, int *which)
{
    pd__jval_t v;
    int rc = pd__v2_scan(d, &v);
    if (rc)
        return rc;
    if (v.kind != PD__JK_STRING)
        return pd__cj_fail(&d->c, 400, "outputs[%zu]: \"name\" must be a string, got %s", i,
                           pd__cj_kind(v.kind));
    char b[PD_CODEC_SHOWN_BUF], what[PD_CODEC_SHOWN_BUF + 80];
    const char *name;
    size_t len;
    long ignored;
    if ((rc = pd__cj_name(&d->c, &v, &ignored, &name, &len)) < 0)
        return rc;
    unsigned bit = pd__outputs_lookup(d->c.schema, name, len); /* one bit, or 0 */
    if (bit != 0) { /* PD_OUT_NAMED(k) is 4u << k */
        *which = bit == PD_OUT_LABEL   ? PD__V2_PREDICT
                 : bit == PD_OUT_PROBA ? PD__V2_PROBA
                                       : PD__V2_NAMED + __builtin_ctz(bit) - 2;
        return 0;
    }
    if (len == 13 && memcmp(name, "predict_proba", 13) == 0)
        snprintf(what, sizeof what, "outputs[%zu]: the model computes no probabilities, it "
                 "has no output 'predict_proba'", i);
    else
        snprintf(what, sizeof what, "outputs[%zu]: unknown output '%s'", i,
                 pd__codec_shown(b, name, len));
    return no_such_output(d, what);
}

/* An output's "parameters": binary_data; others ignored. */
static int output_params(pd__v2dec_t *d, size_t i, int *binary)
{
    pd__jval_t v, key;
    int rc = pd__v2_scan(d, &v);
    if (rc)
        return rc;
    if (v.kind != PD__JK_OBJECT)
        return pd__cj_fail(&d->c, 400, "outputs[%zu]: \"parameters\" must be an object, got %s",
                           i, pd__cj_kind(v.kind));
    int r = pd__json_obj_first(&d->c.s, &key);
    for (; r == 1; r = pd__json_obj_next(&d->c.s, &key)) {
        if (!pd__v2_is_key(d, &key, "binary_data")) {
            if ((rc = pd__cj_skip(&d->c)))
                return rc;
            continue;
        }
        if ((rc = pd__v2_scan(d, &v)))
            return rc;
        if (v.kind != PD__JK_TRUE && v.kind != PD__JK_FALSE)
            return pd__cj_fail(&d->c, 400, "outputs[%zu]: parameters.binary_data must be true "
                               "or false, got %s", i, pd__cj_kind(v.kind));
        *binary = v.kind == PD__JK_TRUE;
    }
    return r < 0 ? pd__cj_scan_fail(&d->c) : 0;
}

static int output(pd__v2dec_t *d, size_t i)
{
    pd__jval_t v, key;
    int rc = pd__v2_scan(d, &v);
    if (rc)
        return rc;
    if (v.kind != PD__JK_OBJECT)
        return pd__cj_fail(&d->c, 400, "outputs[%zu]: expected an object {\"name\": ...}, got %s",
                           i, pd__cj_kind(v.kind));
    int which = -1, binary = -1;
    int r = pd__json_obj_first(&d->c.s, &key);
    for (; r == 1; r = pd__json_obj_next(&d->c.s, &key)) {
        rc = pd__v2_is_key(d, &key, "name")         ? output_name(d, i, &which)
             : pd__v2_is_key(d, &key, "parameters") ? output_params(d, i, &binary)
                                             : pd__cj_skip(&d->c);
        if (rc)
            return rc;
    }
    if (r < 0)
        return pd__cj_scan_fail(&d->c);
    if (which < 0)
        return pd__cj_fail(&d->c, 400, "outputs[%zu] has no \"name\"", i);
    for (unsigned k = 0; k < d->n_out; k++)
        if (d->out_which[k] == which)
            return pd__cj_fail(&d->c, 400, "outputs[%zu]: output '%s' is asked for twice", i,
                               pd__v2_output_name(d->c.schema, which));
    d->out_which[d->n_out] = (uint8_t)which;
    d->out_binary[d->n_out++] = (int8_t)binary;
    return 0;
}

int pd__v2_outputs(pd__v2dec_t *d)
{
    pd__jval_t v;
    int rc = pd__v2_scan(d, &v);
    if (rc)
        return rc;
    if (v.kind != PD__JK_ARRAY)
        return pd__cj_fail(&d->c, 400, "body: \"outputs\" must be a list, got %s",
                           pd__cj_kind(v.kind));
    d->n_out = 0; /* a repeated key: the last one counts */
    size_t i = 0;
    int r = pd__json_arr_first(&d->c.s);
    for (; r == 1; i++, r = pd__json_arr_next(&d->c.s))
        if ((rc = output(d, i)))
            return rc;
    return r < 0 ? pd__cj_scan_fail(&d->c) : 0;
}
