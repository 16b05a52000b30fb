/* codec_v2.c - the Open Inference Protocol (KServe V2, Triton, MLServer) inference
 * request: POST /v2/models/{name}[/versions/{version}]/infer. docs/protocols.md describes
 * it for users; this file reads the request's JSON object:
 *
 *   {"id": "...", "parameters": {"timeout": us, "binary_data_output": bool, ...},
 *    "inputs": [{"name", "shape", "datatype", "data" | "parameters": {"binary_data_size"}}],
 *    "outputs": [{"name": "predict" | "predict_proba" | a named output ("decision_function",
 *                 ...: codec_outputs.h), "parameters": {"binary_data": bool}}]}
 *
 * Inputs are one [N, n_features] tensor (any name), or one [N] / [N, 1] tensor per feature
 * named by the feature (MLServer's pandas-style request); codec_v2_data.c converts their
 * values. With Triton's binary tensor data extension the body is the JSON object
 * (Inference-Header-Content-Length bytes) followed by the inputs' raw little-endian bytes,
 * in the order of the inputs. What the answer needs (outputs, binary or JSON, the id) goes
 * to rows->codec_state for codec_v2_encode.c.
 *
 * The body is read in one pass: an input's "data" is converted where it is read when its
 * name, shape and datatype came first (the usual order), otherwise it is skipped and read
 * again once its object ended. A key repeated inside an input is refused. Unknown keys and
 * parameters are ignored. A JSON syntax error anywhere is reported before any other error
 * (as the Python servers, which parse the whole body first).
 *
 * Reentrant: every call works on its own pd__v2dec_t on the stack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"
#include "api/codec_outputs.h"
#include "api/codec_v2_internal.h"
#include "common.h"

/* ---- small values ---- */

/* A JSON integer literal v of s as an unsigned 64-bit value into *out: 0, or -1 when v is
 * not a non-negative integer that fits. */
static int u64_of(const pd__jscan_t *s, const pd__jval_t *v, uint64_t *out)
{
    if (v->kind != PD__JK_INT || s->doc[v->start] == '-')
        return -1;
    uint64_t x = 0;
    for (size_t i = v->start; i < v->end; i++) {
        unsigned dg = (unsigned)(s->doc[i] - '0');
        if (x > (UINT64_MAX - dg) / 10)
            return -1;
        x = x * 10 + dg;
    }
    *out = x;
    return 0;
}


/* ---- request-level keys ---- */

static int id(pd__v2dec_t *d)
{
    pd__jval_t v;
    int rc = pd__v2_scan(d, &v);
    if (rc)
        return rc;
    if (v.kind != PD__JK_STRING)
        return pd__cj_fail(&d->c, 400, "body: \"id\" must be a string, got %s",
                           pd__cj_kind(v.kind));
    d->has_id = 1;
    d->id_start = v.start;
    d->id_end = v.end;
    return 0;
}

/* "parameters" of the request: timeout (us) and binary_data_output; others ignored. */
static int parameters(pd__v2dec_t *d)
{
    pd__jval_t v, key;
    int rc = pd__v2_scan(d, &v);
    if (rc)
        return rc;
    if (v.kind != PD__JK_OBJECT)
        return pd__cj_fail(&d->c, 400, "body: \"parameters\" must be an object, got %s",
                           pd__cj_kind(v.kind));
    int r = pd__json_obj_first(&d->c.s, &key);
    for (; r == 1; r = pd__json_obj_next(&d->c.s, &key)) {
        int which = pd__v2_is_key(d, &key, "timeout") ? 1 : pd__v2_is_key(d, &key, "binary_data_output") ? 2 : 0;
        if (which == 0) {
            if ((rc = pd__cj_skip(&d->c)))
                return rc;
            continue;
        }
        if ((rc = pd__v2_scan(d, &v)))
            return rc;
        uint64_t us;
        if (which == 1 && u64_of(&d->c.s, &v, &us) < 0)
            return pd__cj_fail(&d->c, 400, "body: parameters.timeout must be a non-negative "
                               "integer (microseconds), got %s", pd__cj_kind(v.kind));
        if (which == 1)
            d->timeout_ns = us > UINT64_MAX / 1000 ? UINT64_MAX : us * 1000;
        else if (v.kind != PD__JK_TRUE && v.kind != PD__JK_FALSE)
            return pd__cj_fail(&d->c, 400, "body: parameters.binary_data_output must be true "
                               "or false, got %s", pd__cj_kind(v.kind));
        else
            d->binary_all = v.kind == PD__JK_TRUE;
    }
    return r < 0 ? pd__cj_scan_fail(&d->c) : 0;
}

/* ---- one input ---- */

static int input_name(pd__v2dec_t *d, pd__v2in_t *in)
{
    pd__jval_t v;
    int rc = pd__v2_scan(d, &v);
    if (rc)
        return rc;
    if (v.kind != PD__JK_STRING)
        return pd__cj_fail(&d->c, 400, "%s: \"name\" must be a string, got %s", in->who,
                           pd__cj_kind(v.kind));
    const char *name;
    size_t len;
    if ((rc = pd__cj_name(&d->c, &v, &in->feature, &name, &len)) < 0)
        return rc;
    char b[PD_CODEC_SHOWN_BUF];
    snprintf(in->who, sizeof in->who, "input '%s'", pd__codec_shown(b, name, len));
    return 0;
}

static int input_shape(pd__v2dec_t *d, pd__v2in_t *in)
{
    pd__jval_t v;
    int rc = pd__v2_scan(d, &v);
    if (rc)
        return rc;
    if (v.kind != PD__JK_ARRAY)
        return pd__cj_fail(&d->c, 400, "%s: \"shape\" must be a list of dimensions, got %s",
                           in->who, pd__cj_kind(v.kind));
    int r = pd__json_arr_first(&d->c.s);
    for (; r == 1; r = pd__json_arr_next(&d->c.s)) {
        if (in->ndim == PD_V2_MAX_DIMS)
            return pd__cj_fail(&d->c, 400, "%s: \"shape\" has more than %d dimensions", in->who,
                               PD_V2_MAX_DIMS);
        if ((rc = pd__v2_scan(d, &v)))
            return rc;
        if (u64_of(&d->c.s, &v, &in->dims[in->ndim]) < 0)
            return pd__cj_fail(&d->c, 400, "%s: dimension %zu of \"shape\" must be a "
                               "non-negative integer, got %s", in->who, in->ndim,
                               v.kind == PD__JK_INT ? "a negative one" : pd__cj_kind(v.kind));
        in->ndim++;
    }
    return r < 0 ? pd__cj_scan_fail(&d->c) : 0;
}

static int input_type(pd__v2dec_t *d, pd__v2in_t *in)
{
    pd__jval_t v;
    int rc = pd__v2_scan(d, &v);
    if (rc)
        return rc;
    if (v.kind != PD__JK_STRING)
        return pd__cj_fail(&d->c, 400, "%s: \"datatype\" must be a string, got %s", in->who,
                           pd__cj_kind(v.kind));
    for (int t = 0; t < PD__V2_NTYPES; t++)
        if (pd__json_str_eq(&d->c.s, &v, pd__v2_types[t].name, strlen(pd__v2_types[t].name))) {
            in->type = t;
            return 0;
        }
    char b[PD_CODEC_SHOWN_BUF];
    return pd__cj_fail(&d->c, 400, "%s: unknown datatype '%s' (expected BOOL, UINT8, UINT16, "
                       "UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32 or FP64)", in->who,
                       pd__codec_shown(b, (const char *)d->c.s.doc + v.start, v.end - v.start));
}

/* "data": converted now when the input's name, shape and datatype are known, else kept
 * for when its object ends. */
static int input_data(pd__v2dec_t *d, pd__v2in_t *in)
{
    if (in->has_size)
        return pd__cj_fail(&d->c, 400, "%s has both \"data\" and parameters.binary_data_size",
                           in->who);
    in->has_data = 1;
    if (in->has_name && in->has_shape && in->has_type) {
        int rc = pd__v2_place(d, in);
        if (rc == 0)
            rc = pd__v2_json_data(d, in);
        in->data_done = 1;
        return rc;
    }
    pd__json_ws(&d->c.s);
    in->data_pos = d->c.s.pos;
    in->data_depth = d->c.s.depth;
    return pd__cj_skip(&d->c);
}

/* An input's "parameters": binary_data_size; others (content_type, ...) ignored. */
static int input_params(pd__v2dec_t *d, pd__v2in_t *in)
{
    pd__jval_t v, key;
    int rc = pd__v2_scan(d, &v);
    if (rc)
        return rc;
    if (v.kind != PD__JK_OBJECT)
        return pd__cj_fail(&d->c, 400, "%s: \"parameters\" must be an object, got %s", in->who,
                           pd__cj_kind(v.kind));
    int r = pd__json_obj_first(&d->c.s, &key);
    for (; r == 1; r = pd__json_obj_next(&d->c.s, &key)) {
        if (!pd__v2_is_key(d, &key, "binary_data_size")) {
            if ((rc = pd__cj_skip(&d->c)))
                return rc;
            continue;
        }
        if ((rc = pd__v2_scan(d, &v)))
            return rc;
        if (u64_of(&d->c.s, &v, &in->bin_size) < 0)
            return pd__cj_fail(&d->c, 400, "%s: parameters.binary_data_size must be a "
                               "non-negative integer, got %s", in->who, pd__cj_kind(v.kind));
        if (in->has_data)
            return pd__cj_fail(&d->c, 400, "%s has both \"data\" and "
                               "parameters.binary_data_size", in->who);
        in->has_size = 1;
    }
    return r < 0 ? pd__cj_scan_fail(&d->c) : 0;
}

static const char *const k_input_keys[] = {"name", "shape", "datatype", "data", "parameters"};

static int input_key(pd__v2dec_t *d, pd__v2in_t *in, const pd__jval_t *key)
{
    size_t k = 0;
    while (k < PD_ARRAY_SIZE(k_input_keys) && !pd__v2_is_key(d, key, k_input_keys[k]))
        k++;
    int *seen[] = {&in->has_name, &in->has_shape, &in->has_type, &in->has_data};
    if (k < PD_ARRAY_SIZE(seen) && *seen[k])
        return pd__cj_fail(&d->c, 400, "%s: \"%s\" is given twice", in->who, k_input_keys[k]);
    int rc;
    switch (k) {
    case 0: rc = input_name(d, in); break;
    case 1: rc = input_shape(d, in); break;
    case 2: rc = input_type(d, in); break;
    case 3: return input_data(d, in); /* sets has_data itself, after the check */
    case 4: return input_params(d, in);
    default: return pd__cj_skip(&d->c);
    }
    if (rc == 0)
        *seen[k] = 1;
    return rc;
}

/* The input's object ended: check it is complete, then place and convert what is left. */
static int input_end(pd__v2dec_t *d, pd__v2in_t *in)
{
    const char *lacks = !in->has_name    ? "\"name\""
                        : !in->has_shape ? "\"shape\""
                        : !in->has_type  ? "\"datatype\""
                        : !in->has_data && !in->has_size
                            ? "\"data\" (nor parameters.binary_data_size for binary data)"
                            : NULL;
    if (lacks)
        return pd__cj_fail(&d->c, 400, "%s has no %s", in->who, lacks);
    if (in->data_done)
        return 0;
    int rc = pd__v2_place(d, in);
    if (rc)
        return rc;
    if (in->has_size)
        return pd__v2_binary_data(d, in);
    pd__jscan_t after = d->c.s;
    d->c.s.pos = in->data_pos;
    d->c.s.depth = in->data_depth;
    rc = pd__v2_json_data(d, in);
    if (rc == 0)
        d->c.s = after;
    return rc;
}

static int input(pd__v2dec_t *d, size_t index)
{
    pd__v2in_t in;
    memset(&in, 0, sizeof in);
    in.index = index;
    in.feature = -1;
    snprintf(in.who, sizeof in.who, "inputs[%zu]", index);
    pd__jval_t v, key;
    int rc = pd__v2_scan(d, &v);
    if (rc)
        return rc;
    if (v.kind != PD__JK_OBJECT)
        return pd__cj_fail(&d->c, 400, "%s: expected a tensor {\"name\", \"shape\", "
                           "\"datatype\", \"data\"}, got %s", in.who, pd__cj_kind(v.kind));
    int r = pd__json_obj_first(&d->c.s, &key);
    for (; r == 1; r = pd__json_obj_next(&d->c.s, &key))
        if ((rc = input_key(d, &in, &key)))
            return rc;
    if (r < 0)
        return pd__cj_scan_fail(&d->c);
    return input_end(d, &in);
}

static int inputs(pd__v2dec_t *d)
{
    if (d->seen_inputs)
        return pd__cj_fail(&d->c, 400, "body: \"inputs\" is given twice");
    d->seen_inputs = 1;
    pd__jval_t v;
    int rc = pd__v2_scan(d, &v);
    if (rc)
        return rc;
    if (v.kind != PD__JK_ARRAY)
        return pd__cj_fail(&d->c, 400, "body: \"inputs\" must be a list of tensors, got %s",
                           pd__cj_kind(v.kind));
    int r = pd__json_arr_first(&d->c.s);
    for (; r == 1; r = pd__json_arr_next(&d->c.s))
        if ((rc = input(d, d->n_inputs++)))
            return rc;
    if (r < 0)
        return pd__cj_scan_fail(&d->c);
    return d->n_inputs ? 0 : pd__cj_fail(&d->c, 400, "body: \"inputs\" is empty");
}

/* ---- the whole request ---- */

/* After the last input: every feature has a value (or the model takes missing values),
 * and the binary part was used up. */
static int inputs_end(pd__v2dec_t *d)
{
    const pd_model_schema_t *s = d->c.schema;
    if (d->layout == PD__V2_COLUMNS && !d->c.missing_ok)
        for (size_t f = 0; f < s->n_features; f++)
            if (!d->c.names.seen[f]) {
                char b[PD_CODEC_SHOWN_BUF];
                const char *n = s->feature_names[f];
                return pd__cj_fail(&d->c, 400, "\"inputs\": no input for feature '%s', and the "
                                   "model takes no missing values (send one [N] tensor per "
                                   "feature, or one [N, %zu] tensor)",
                                   pd__codec_shown(b, n, strlen(n)), s->n_features);
            }
    if (d->bin_used < d->bin_len)
        return pd__cj_fail(&d->c, 400, "the body has %zu bytes after the JSON part (%zu bytes, "
                           PD_V2_HEADER_LENGTH ") that no input's binary_data_size accounts for",
                           d->bin_len - d->bin_used, d->c.s.len);
    return 0;
}

static int body(pd__v2dec_t *d)
{
    pd__jval_t top, key;
    int rc = pd__cj_top(&d->c, &top);
    if (rc)
        return rc;
    if (top.kind != PD__JK_OBJECT)
        return pd__cj_fail(&d->c, 400, "body: expected a JSON object with \"inputs\", got %s",
                           pd__cj_kind(top.kind));
    int r = pd__json_obj_first(&d->c.s, &key);
    for (; r == 1; r = pd__json_obj_next(&d->c.s, &key)) {
        rc = pd__v2_is_key(d, &key, "inputs")       ? inputs(d)
             : pd__v2_is_key(d, &key, "outputs")    ? pd__v2_outputs(d)
             : pd__v2_is_key(d, &key, "parameters") ? parameters(d)
             : pd__v2_is_key(d, &key, "id")         ? id(d)
                                             : pd__cj_skip(&d->c);
        if (rc)
            return rc;
    }
    if (r < 0)
        return pd__cj_scan_fail(&d->c);
    if ((rc = pd__cj_finish(&d->c)))
        return rc;
    if (!d->seen_inputs)
        return pd__cj_fail(&d->c, 400, "body: missing \"inputs\"");
    return inputs_end(d);
}

/* Splits a binary request: the JSON part is Inference-Header-Content-Length bytes. */
static int split(pd__v2dec_t *d, const pd_codec_in_t *in)
{
    size_t len = in->body ? in->len : 0, hlen = 0;
    if (in->header == NULL)
        return 0;
    const char *h = in->header;
    int digits = *h != '\0';
    for (const char *p = h; *p && digits; p++)
        if (*p < '0' || *p > '9' || hlen > (SIZE_MAX - 9) / 10)
            digits = 0;
        else
            hlen = hlen * 10 + (size_t)(*p - '0');
    char b[PD_CODEC_SHOWN_BUF];
    if (!digits)
        return pd__cj_fail(&d->c, 400, PD_V2_HEADER_LENGTH ": expected the JSON part's length "
                           "in bytes, got '%s'", pd__codec_shown(b, h, strlen(h)));
    if (hlen > len)
        return pd__cj_fail(&d->c, 400, PD_V2_HEADER_LENGTH " is %zu, more than the body's %zu "
                           "bytes", hlen, len);
    pd__json_init(&d->c.s, (const unsigned char *)in->body, hlen);
    d->bin = (const unsigned char *)in->body + hlen;
    d->bin_len = len - hlen;
    return 0;
}

/* Hands what encode needs to rows (one allocation, freed by pd_rows_free). */
static int make_state(const pd__v2dec_t *d, const pd_codec_in_t *in, pd_rows_t *rows)
{
    /* the body's own "id", else the request's X-Request-Id (needs no escape) */
    const char *id = d->has_id ? (const char *)d->c.s.doc + d->id_start : in->request_id;
    size_t id_len = d->has_id ? d->id_end - d->id_start : id ? strlen(id) : 0;
    pd__v2state_t *st = malloc(sizeof *st + id_len + 1);
    if (st == NULL)
        return PD_ENOMEM;
    st->model_name = in->model_name;
    st->model_label = in->model_label;
    st->has_id = id != NULL;
    st->id_len = id_len;
    if (id_len)
        memcpy(st->id, id, id_len);
    st->id[id_len] = '\0';
    st->n_out = d->n_out;
    memcpy(st->out_which, d->out_which, sizeof st->out_which);
    if (d->n_out == 0) { /* none asked for: every output the model has */
        st->out_which[0] = PD__V2_PREDICT;
        st->out_which[1] = PD__V2_PROBA;
        st->n_out = d->c.schema->task == PD_TASK_CLASSIFICATION && d->c.schema->proba_ok ? 2 : 1;
    }
    rows->outputs = PD_OUT_LABEL;
    for (unsigned k = 0; k < st->n_out; k++) {
        int b = k < d->n_out ? d->out_binary[k] : -1, w = st->out_which[k];
        st->out_binary[k] = (uint8_t)(b < 0 ? d->binary_all : b);
        if (w == PD__V2_PROBA)
            rows->outputs |= PD_OUT_PROBA;
        if (w >= PD__V2_NAMED && pd__outputs_want(d->c.schema, PD_OUT_NAMED(w - PD__V2_NAMED),
                                                  rows) < 0) {
            free(st);
            return PD_EINVAL;
        }
    }
    rows->codec_state = st;
    rows->codec_state_free = free;
    rows->timeout_ns = d->timeout_ns;
    return 0;
}

static int v2_error(int status, const char *message, pd_buf_t *out)
{
    (void)status; /* the status line carries it; the body is {"error": ...} for all */
    int rc = pd_buf_puts(out, "{\"error\":");
    if (rc == 0)
        rc = pd_buf_json_str(out, message, strlen(message));
    return rc ? rc : pd_buf_puts(out, "}");
}

static int v2_decode(const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *err)
{
    pd_buf_t msg;
    pd_buf_init(&msg, PD_CODEC_MSG_LIMIT);
    pd__v2dec_t d;
    memset(&d, 0, sizeof d);
    d.n_rows = SIZE_MAX;
    int rc = pd__cj_init(&d.c, in, rows, &msg);
    if (rc == 0) {
        d.c.json_prefix = "body: invalid JSON: ";
        pd__cnames_reset_seen(&d.c.names);
        rc = split(&d, in);
    }
    if (rc == 0 && (rc = body(&d)) > 0 && d.c.s.err == PD__J_OK) {
        int found[1], object; /* a syntax error anywhere in the JSON part comes first */
        size_t n;
        if (pd__cj_recheck(&d.c, NULL, 0, found, &n, &object) == 400)
            rc = 400;
    }
    if (rc == 0)
        rc = make_state(&d, in, rows);
    pd__cj_fini(&d.c);
    if (rc > 0) {
        int e = v2_error(rc, msg.data ? msg.data : "bad request", err);
        if (e < 0)
            rc = e;
    }
    pd_buf_free(&msg);
    return rc;
}

const pd_codec_t pd_codec_v2 = {
    .name = "v2",
    .content_type = "application/json",
    .decode = v2_decode,
    .encode = pd__v2_encode,
    .error = v2_error,
    .request_header = PD_V2_HEADER_LENGTH,
    .typed_inputs = 1,
};
