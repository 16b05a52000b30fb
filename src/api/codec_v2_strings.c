/* codec_v2_strings.c - typed inputs over the Open Inference Protocol (issue 10): a string
 * feature arrives as its own BYTES tensor ([N] or [N, 1], named by the feature), in JSON
 * ("data": ["basic", null, ...]) or as Triton binary data (each element a 4-byte
 * little-endian length then its bytes), and each element is mapped to its code through
 * the model's vocabulary (model.h pd_model_input_code); a number feature whose encoder
 * refuses unknown categories refuses values outside its known ones.
 *
 * Invariants: an element is decoded into a buffer of PD_V2_MAX_STRING bytes at most (a
 * longer one is no category: its code is unknown); an unknown category of an input with
 * unknown_error, a null without missing_ok, anything but a string in a BYTES tensor is a
 * 400 naming the input, the element, its row and feature (pd__v2_bad). */
#include <math.h>
#include <string.h>

#include "api/codec_v2_internal.h"
#include "api/json_scan.h"
#include "common.h"

/* The code of s (n bytes) for string input `in`, or a 400 when it is refused. */
static int code_of(pd__v2dec_t *d, const pd__v2in_t *in, size_t k, const char *s, size_t n,
                   double *out)
{
    const pd_model_input_t *t = &d->c.schema->inputs[in->feature];
    long code = n > PD_V2_MAX_STRING ? -1 : pd_model_input_code(t, s, n);
    if (t->unknown_error && (code < 0 || (size_t)code >= t->n_known)) {
        char b[PD_CODEC_SHOWN_BUF];
        return pd__v2_bad(d, in, k, "unknown category \"%s\" (the model's encoder was fitted "
                          "with handle_unknown='error')", pd__codec_shown(b, s, n));
    }
    *out = code < 0 ? PD_MODEL_CODE_UNKNOWN : (double)code;
    return 0;
}

int pd__v2_string_element(pd__v2dec_t *d, const pd__v2in_t *in, const pd__jval_t *v,
                          size_t k)
{
    double x = NAN;
    if (v->kind == PD__JK_NULL) {
        if (!d->c.missing_ok)
            return pd__v2_bad(d, in, k, "null, and the model takes no missing values");
        x = NAN;
    } else if (v->kind != PD__JK_STRING) {
        return pd__v2_bad(d, in, k, "expected a string for BYTES, got %s",
                          pd__cj_kind(v->kind));
    } else {
        char buf[PD_V2_MAX_STRING + 4];
        size_t n = 0, i = v->start;
        uint32_t cp;
        while (n <= PD_V2_MAX_STRING && pd__json_str_next(d->c.s.doc, &i, v->end, &cp))
            n += pd__utf8_put(cp, (unsigned char *)buf + n);
        int rc = code_of(d, in, k, buf, n, &x);
        if (rc)
            return rc;
    }
    d->c.rows->x[in->off + k * in->stride] = x;
    return 0;
}

int pd__v2_binary_strings(pd__v2dec_t *d, const pd__v2in_t *in)
{
    size_t left = d->bin_len - d->bin_used;
    if (in->bin_size > left)
        return pd__cj_fail(&d->c, 400, "%s: its %llu bytes of binary data go past the end of "
                           "the body (%zu bytes left after the JSON part)", in->who,
                           (unsigned long long)in->bin_size, left);
    const unsigned char *p = d->bin ? d->bin + d->bin_used : NULL;
    size_t at = 0, size = (size_t)in->bin_size;
    for (size_t k = 0; k < in->total; k++) {
        if (size - at < 4)
            return pd__cj_fail(&d->c, 400, "%s: binary data ends before element %zu's "
                               "4-byte length", in->who, k);
        uint32_t n = (uint32_t)p[at] | (uint32_t)p[at + 1] << 8 | (uint32_t)p[at + 2] << 16 |
                     (uint32_t)p[at + 3] << 24;
        at += 4;
        if (n > size - at)
            return pd__cj_fail(&d->c, 400, "%s: element %zu's %u bytes go past its "
                               "binary_data_size", in->who, k, n);
        double x = NAN;
        int rc = code_of(d, in, k, (const char *)p + at, n, &x);
        if (rc)
            return rc;
        d->c.rows->x[in->off + k * in->stride] = x;
        at += n;
    }
    if (at != size)
        return pd__cj_fail(&d->c, 400, "%s: binary_data_size is %zu bytes, its %zu elements "
                           "take %zu", in->who, size, in->total, at);
    d->bin_used += size;
    return 0;
}

int pd__v2_check_known(pd__v2dec_t *d, const pd__v2in_t *in, size_t k, double x)
{
    const pd_model_schema_t *s = d->c.schema;
    size_t nf = d->c.rows->n_cols, cell = in->off + k * in->stride;
    const pd_model_input_t *t = s->inputs ? &s->inputs[cell % nf] : NULL;
    if (!t || !t->unknown_error || isnan(x) || pd_model_input_known(t, x))
        return 0;
    return pd__v2_bad(d, in, k, "unknown category %.17g (the model's encoder was fitted with "
                      "handle_unknown='error')", x);
}
