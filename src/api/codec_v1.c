/* codec_v1.c - the KServe V1 / TensorFlow Serving predict protocol
 * (POST /v1/models/{name}:predict), docs/protocols.md has the full description.
 *
 * Accepted: a JSON object (any Content-Type) holding exactly one of
 *   "instances": [row, ...]   each row a list of the model's features in order, or an
 *                             object of feature name -> value (an unknown name is refused)
 *   "inputs": [row, ...]      the same (TF Serving's columnar key with a list), or
 *   "inputs": {name: [v, ...] | v, ...}   TF Serving's columnar form: one list per feature
 * Other top-level keys ("signature_name", ...) are ignored; a repeated key: the last wins.
 * Answers {"predictions":[label|value, ...]} or, with PD_OUT_PROBA, one list of
 * probabilities per row; errors {"error":"..."} (compact, as KServe's FastAPI server
 * writes them). rows->single is never set: V1 always answers a list. The `outputs` query
 * parameter (codec_outputs.h) adds outputs beside "predictions", each a member named
 * after it ("predict_proba", "decision_function", ...): ?outputs=decision_function.
 *
 * Reentrant: every call works on its own stack context (api/codec_json.h). */
#include <string.h>

#include "api/codec.h"
#include "api/codec_json.h"
#include "api/codec_outputs.h"
#include "common.h"

enum { NONE = 0, INSTANCES = 1, INPUTS = 2 };

/* The value of "instances" or "inputs", at the scanner. */
static int part(pd__cj_t *c, int which)
{
    c->what = which == INSTANCES ? "\"instances\"" : "\"inputs\"";
    pd__jval_t v;
    if (pd__json_value(&c->s, &v) < 0)
        return pd__cj_scan_fail(c);
    if (pd_rows_resize(c->rows, 0) < 0) /* a repeated key: the last one wins */
        return PD_ENOMEM;
    if (v.kind == PD__JK_ARRAY)
        return pd__cj_rows(c, PD__CJ_ARRAY | PD__CJ_OBJECT, NULL, c->rows->n_cols);
    if (which == INPUTS && v.kind == PD__JK_OBJECT)
        return pd__cj_columns(c);
    return pd__cj_fail(c, 400, "body: %s must be %s, got %s", c->what,
                       which == INSTANCES ? "a list" : "a list or an object",
                       pd__cj_kind(v.kind));
}

static int body(pd__cj_t *c)
{
    pd__jval_t top, key;
    int rc = pd__cj_top(c, &top);
    if (rc)
        return rc;
    if (top.kind != PD__JK_OBJECT)
        return pd__cj_fail(c, 400, "body: expected a JSON object with \"instances\", got %s",
                           pd__cj_kind(top.kind));
    int seen = NONE;
    int r = pd__json_obj_first(&c->s, &key);
    for (; r == 1; r = pd__json_obj_next(&c->s, &key)) {
        int which = pd__json_str_eq(&c->s, &key, "instances", 9) ? INSTANCES
                    : pd__json_str_eq(&c->s, &key, "inputs", 6)  ? INPUTS
                                                                  : NONE;
        if (which != NONE && seen != NONE && which != seen)
            return pd__cj_fail(c, 400, "body: use \"instances\" or \"inputs\", not both");
        if (which != NONE)
            seen = which;
        rc = which == NONE ? pd__cj_skip(c) : part(c, which);
        if (rc)
            return rc;
    }
    if (r < 0)
        return pd__cj_scan_fail(c);
    if ((rc = pd__cj_finish(c)))
        return rc;
    if (seen == NONE)
        return pd__cj_fail(c, 400, "body: missing \"instances\"");
    return 0;
}

/* A failed body: a JSON syntax error anywhere, then both keys, come first (the Python
 * servers parse the whole document before they read it). */
static int v1_body(pd__cj_t *c)
{
    int rc = body(c);
    if (rc <= 0)
        return rc;
    static const char *const keys[] = {"instances", "inputs"};
    int found[2], object = 0;
    size_t n;
    int rc2 = pd__cj_recheck(c, keys, 2, found, &n, &object);
    if (rc2)
        return rc2;
    if (object && n == 2)
        return pd__cj_fail(c, 400, "body: use \"instances\" or \"inputs\", not both");
    return rc;
}

static int v1_error(int status, const char *message, pd_buf_t *out)
{
    (void)status; /* the status line carries it; the body is the same shape for all */
    int rc = pd_buf_puts(out, "{\"error\":");
    if (rc == 0)
        rc = pd_buf_json_str(out, message, strlen(message));
    return rc ? rc : pd_buf_puts(out, "}");
}

static int v1_decode(const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *err)
{
    pd_buf_t msg;
    pd_buf_init(&msg, PD_CODEC_MSG_LIMIT);
    pd__cj_t c;
    int rc = pd__cj_init(&c, in, rows, &msg);
    if (rc == 0)
        rc = pd__outputs_add(in, rows, &msg); /* ?outputs=..., before the body */
    if (rc == 0) {
        c.unit = "instance";
        c.json_prefix = "body: invalid JSON: ";
        rc = v1_body(&c);
    }
    pd__cj_fini(&c);
    if (rc > 0) {
        int e = v1_error(rc, msg.data ? msg.data : "bad request", err);
        if (e < 0)
            rc = e;
    }
    pd_buf_free(&msg);
    return rc;
}

static int v1_encode(const pd_model_schema_t *s, const pd_rows_t *rows, pd_buf_t *out)
{
    return pd__codec_predictions(s, rows, out, 0);
}

const pd_codec_t pd_codec_v1 = {
    .name = "v1",
    .content_type = "application/json",
    .decode = v1_decode,
    .encode = v1_encode,
    .error = v1_error,
    .typed_inputs = 1,
};
