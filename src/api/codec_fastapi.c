/* codec_fastapi.c - pd_codec_fastapi (codec.h): the FastAPI-style routes' bodies.
 *
 * decode: a JSON array is `data: List[InputData]` as FastAPI 0.92 + Pydantic 1.10
 * validate it (one row per element, features_list.c); every other body (an object, null,
 * a string, a number, empty, not JSON, malformed) is one InputData exactly as
 * pd_features_decode answers it (rows->single = 1). 422 and 400 bodies are FastAPI's byte
 * for byte, except the deliberate not-finite 422 (features.c). Two answers of predictd's
 * own, as {"detail": "..."}: 413 when the list holds more than rows->max_rows elements
 * (decided when element max_rows + 1 begins), and 413 when the error report (Pydantic's
 * list, or a jsondecode error quoting the whole document) would outgrow err's cap: FastAPI
 * would send it, however large; predictd bounds it by the buffer the caller gave.
 *
 * encode: {"prediction": x} for one row, {"predictions": [x, ...]} for a list, and/or
 * {"probabilities": {"<class>": p, ...}} (a list of such objects for a list), compact, as
 * FastAPI's JSONResponse (json.dumps, separators (",", ":")) renders them; floats as
 * Python's repr. The single-row label answer is the article's {"prediction": ...}.
 *
 * Outputs: the route's (label or probabilities), or those the `outputs` query parameter
 * names (codec_outputs.h), which replaces them: "predict" -> "prediction(s)",
 * "predict_proba" -> "probabilities", a named output -> a member of its own name holding
 * its values (a number or a list per row, a list of those for a list body). An unknown
 * name is a 422 in FastAPI's shape for a query parameter that fails validation, checked
 * before the body. Without the parameter every answer is byte for byte what it was.
 *
 * Invariants: no state outside the arguments (reentrant, any thread); on failure encode
 * leaves out as it found it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/codec.h"
#include "api/codec_outputs.h"
#include "api/features_internal.h"
#include "common.h"

#define TOO_MANY_ROWS_FMT \
    "too many rows: the body holds more than %zu rows (the limit is --max-rows)"
#define ERRORS_TOO_BIG "the error report for this body exceeds the error body limit"

static int fastapi_error(int status, const char *message, pd_buf_t *out)
{
    (void)status;
    int rc = pd_buf_puts(out, "{\"detail\":");
    if (rc == 0)
        rc = pd_buf_json_str(out, message, strlen(message));
    return rc < 0 ? rc : pd_buf_puts(out, "}");
}

/* The `outputs` query parameter, when given, replaces the route's outputs; a bad one is
 * answered as FastAPI answers a query parameter its validator refuses (422). */
static int choose_outputs(const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *err)
{
    unsigned bits;
    int given;
    pd_buf_t msg;
    pd_buf_init(&msg, PD_CODEC_OUTPUTS_MSG_LIMIT);
    int rc = pd__outputs_query(in->schema, in->query, &bits, &given, &msg);
    if (rc == 0 && given) {
        rows->outputs = bits & (PD_OUT_LABEL | PD_OUT_PROBA);
        rc = pd__outputs_want(in->schema, bits, rows);
    }
    if (rc > 0) {
        rc = pd_buf_puts(err, "{\"detail\":[{\"loc\":[\"query\",\"" PD_OUTPUTS_PARAM
                              "\"],\"msg\":");
        if (rc == 0)
            rc = pd_buf_json_str(err, msg.data ? msg.data : "", msg.len);
        if (rc == 0)
            rc = pd_buf_puts(err, ",\"type\":\"value_error\"}]}");
        rc = rc < 0 ? rc : 422;
    }
    pd_buf_free(&msg);
    return rc;
}

static int fastapi_decode(const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *err)
{
    const pd_model_schema_t *s = in->schema;
    pd_buf_reset(err);
    if (s->n_features != rows->n_cols || s->n_features > PD_FEATURES_MAX)
        return PD_EINVAL; /* the caller's rows do not fit the model */
    int orc = choose_outputs(in, rows, err);
    if (orc != 0)
        return orc;
    pd__fcall_t a = {.names = s->feature_names, .n = s->n_features,
                     .missing_ok = in->missing_ok, .content_type = in->content_type,
                     .inputs = s->typed_inputs ? s->inputs : NULL,
                     .body = in->body, .len = in->len};
    int too_many_rows, rc = pd__features_run(&a, NULL, rows, err, &too_many_rows);
    if (rc == 0)
        return 0;
    if (rc == PD_EINVAL)
        return 422;
    if (rc == PD_EFORMAT)
        return 400;
    if (rc != PD_ETOOBIG)
        return rc;
    char msg[160];
    if (too_many_rows)
        snprintf(msg, sizeof msg, TOO_MANY_ROWS_FMT, rows->max_rows);
    pd_buf_reset(err);
    rc = fastapi_error(413, too_many_rows ? msg : ERRORS_TOO_BIG, err);
    return rc < 0 ? rc : 413;
}

/* The label (classifier) or the value (regressor) of row i. */
static int put_label(pd_buf_t *out, const pd_model_schema_t *s, const pd_rows_t *r, size_t i)
{
    if (s->task != PD_TASK_CLASSIFICATION) {
        double v = r->val[i];
        return isfinite(v) ? pd_buf_json_double(out, v) : PD_EINVAL;
    }
    int32_t k = r->cls[i];
    if (k < 0 || (size_t)k >= s->n_classes)
        return PD_EINVAL;
    if (s->labels_are_strings) {
        const char *l = s->class_labels_str[k];
        return pd_buf_json_str(out, l, strlen(l));
    }
    return pd_buf_printf(out, "%lld", (long long)s->class_labels_int[k]);
}

/* {"<class>":p,...} of row i, classes in the model's order (json.dumps turns integer
 * keys into strings). */
static int put_proba(pd_buf_t *out, const pd_model_schema_t *s, const pd_rows_t *r, size_t i)
{
    const double *p = r->proba + i * r->n_classes;
    int rc = pd_buf_puts(out, "{");
    for (size_t k = 0; k < s->n_classes && rc == 0; k++) {
        if (!isfinite(p[k]))
            return PD_EINVAL;
        if (k > 0)
            rc = pd_buf_puts(out, ",");
        if (rc == 0 && s->labels_are_strings)
            rc = pd_buf_json_str(out, s->class_labels_str[k], strlen(s->class_labels_str[k]));
        else if (rc == 0)
            rc = pd_buf_printf(out, "\"%lld\"", (long long)s->class_labels_int[k]);
        if (rc == 0)
            rc = pd_buf_puts(out, ":");
        if (rc == 0)
            rc = pd_buf_json_double(out, p[k]);
    }
    return rc < 0 ? rc : pd_buf_puts(out, "}");
}

typedef int (*put_row_fn)(pd_buf_t *, const pd_model_schema_t *, const pd_rows_t *, size_t);

/* "name":x for one row, or "names":[x,...] for a list. */
static int put_member(pd_buf_t *out, const pd_model_schema_t *s, const pd_rows_t *r,
                      const char *one, const char *many, put_row_fn put)
{
    int rc = pd_buf_puts(out, r->single ? one : many);
    if (rc == 0 && r->single)
        return put(out, s, r, 0);
    for (size_t i = 0; i < r->n_rows && rc == 0; i++) {
        if (i > 0)
            rc = pd_buf_puts(out, ",");
        if (rc == 0)
            rc = put(out, s, r, i);
    }
    return rc < 0 ? rc : pd_buf_puts(out, "]");
}

/* ,"name":v (one row) or ,"name":[v,...] (a list) for each named output asked for,
 * without the first comma when nothing comes before. */
static int put_named(pd_buf_t *out, const pd_model_schema_t *s, const pd_rows_t *r, int first)
{
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < s->n_outputs && k < PD_MODEL_MAX_OUTPUTS; k++) {
        if (!(r->outputs & PD_OUT_NAMED(k)))
            continue;
        if (r->extra[k] == NULL)
            return PD_EINVAL;
        const char *name = s->outputs[k].name;
        rc = first ? 0 : pd_buf_puts(out, ",");
        first = 0;
        if (rc == 0)
            rc = pd_buf_json_str(out, name, strlen(name));
        if (rc == 0)
            rc = pd_buf_puts(out, r->single ? ":" : ":[");
        for (size_t i = 0; rc == 0 && i < r->n_rows; i++) {
            if (i > 0)
                rc = pd_buf_puts(out, ",");
            if (rc == 0)
                rc = pd__outputs_put_row(out, r, k, i, ",");
        }
        if (rc == 0 && !r->single)
            rc = pd_buf_puts(out, "]");
    }
    return rc;
}

static int encode_body(const pd_model_schema_t *s, const pd_rows_t *r, pd_buf_t *out)
{
    int label = (r->outputs & PD_OUT_LABEL) != 0, proba = (r->outputs & PD_OUT_PROBA) != 0;
    int named = (r->outputs & PD_OUT_NAMED_ALL) != 0;
    if (!label && !proba && !named)
        return PD_EINVAL;
    if (r->single && r->n_rows != 1)
        return PD_EINVAL;
    if (proba && (s->task != PD_TASK_CLASSIFICATION || r->proba == NULL ||
                  r->n_classes != s->n_classes))
        return PD_EINVAL;
    int rc = pd_buf_puts(out, "{");
    if (rc == 0 && label)
        rc = put_member(out, s, r, "\"prediction\":", "\"predictions\":[", put_label);
    if (rc == 0 && label && proba)
        rc = pd_buf_puts(out, ",");
    if (rc == 0 && proba)
        rc = put_member(out, s, r, "\"probabilities\":", "\"probabilities\":[", put_proba);
    if (rc == 0 && named)
        rc = put_named(out, s, r, !label && !proba);
    return rc < 0 ? rc : pd_buf_puts(out, "}");
}

static int fastapi_encode(const pd_model_schema_t *s, const pd_rows_t *rows, pd_buf_t *out)
{
    size_t mark = out->len;
    int rc = encode_body(s, rows, out);
    if (rc < 0 && out->data != NULL) { /* leave out as it was (buf.h: NUL after len) */
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rc;
}

const pd_codec_t pd_codec_fastapi = {
    .name = "fastapi",
    .content_type = "application/json",
    .decode = fastapi_decode,
    .encode = fastapi_encode,
    .error = fastapi_error,
    .typed_inputs = 1,
};
