/* codec_v2_encode.c - the Open Inference Protocol inference response:
 *
 *   {"model_name": ..., "model_version": ..., "id": ... (when the request had one),
 *    "outputs": [{"name": "predict", "datatype": "INT64" | "BYTES" | "FP64", "shape": [N],
 *                 "data": [...]},
 *                {"name": "predict_proba", "datatype": "FP64", "shape": [N, n_classes], ...},
 *                {"name": "decision_function" (a named output), "datatype": "FP64",
 *                 "shape": [N] (one value per row) or [N, width], ...}]}
 *
 * Outputs come in the order the request asked for them (all that apply when it named
 * none). An output asked for as binary (Triton's binary tensor data extension) carries
 * "parameters": {"binary_data_size": bytes} instead of "data", and its bytes follow the
 * JSON object, in the order of the outputs: little-endian INT64 / FP64, BYTES as a 4-byte
 * little-endian length then the label's UTF-8 bytes. Such an answer is
 * application/octet-stream with an Inference-Header-Content-Length header naming the JSON
 * object's length (set in *rows->reply). Reentrant: writes only into its arguments and
 * the state decode made (rows->codec_state). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/codec_v2_internal.h"
#include "common.h"

/* What one output holds. */
typedef struct {
    int which;            /* PD__V2_PREDICT / PD__V2_PROBA / PD__V2_NAMED + k */
    const double *fp;     /* its FP64 values (probabilities, a named output), row-major;
                             NULL for predict */
    const char *datatype;
    size_t width;         /* values per row */
    uint64_t bytes;       /* of its binary data */
} out_desc_t;

/* The label of row i as a class's index, checked. */
static int class_of(const pd_model_schema_t *s, const pd_rows_t *rows, size_t i, size_t *k)
{
    int32_t c = rows->cls[i];
    if (c < 0 || (size_t)c >= s->n_classes)
        return PD_EINVAL;
    *k = (size_t)c;
    return 0;
}

static int64_t int_label(const pd_model_schema_t *s, size_t k)
{
    return s->class_labels_int ? s->class_labels_int[k] : (int64_t)k;
}

static int string_labels(const pd_model_schema_t *s)
{
    return s->task == PD_TASK_CLASSIFICATION && s->labels_are_strings && s->class_labels_str;
}

const char *pd__v2_predict_datatype(const pd_model_schema_t *s)
{
    return s->task != PD_TASK_CLASSIFICATION ? "FP64" : string_labels(s) ? "BYTES" : "INT64";
}

static int describe(const pd_model_schema_t *s, const pd_rows_t *rows, int which,
                    out_desc_t *o)
{
    size_t n = rows->n_rows;
    o->which = which;
    o->fp = NULL;
    if (which == PD__V2_PROBA) {
        if (rows->proba == NULL || rows->n_classes == 0)
            return PD_EINVAL;
        o->fp = rows->proba;
        o->width = rows->n_classes;
    } else if (which >= PD__V2_NAMED) {
        size_t k = (size_t)(which - PD__V2_NAMED);
        if (k >= PD_MODEL_MAX_OUTPUTS || rows->extra[k] == NULL)
            return PD_EINVAL;
        o->fp = rows->extra[k];
        o->width = rows->extra_width[k];
    }
    if (o->fp != NULL) {
        o->datatype = "FP64";
        o->bytes = (uint64_t)n * o->width * 8;
        return 0;
    }
    o->width = 1;
    o->bytes = (uint64_t)n * 8;
    o->datatype = pd__v2_predict_datatype(s);
    if (!string_labels(s))
        return 0;
    o->bytes = 0;
    for (size_t i = 0, k; i < n; i++) {
        if (class_of(s, rows, i, &k) < 0)
            return PD_EINVAL;
        o->bytes += 4 + strlen(s->class_labels_str[k]);
    }
    return 0;
}

/* The JSON "data" list of output o. */
static int json_data(const pd_model_schema_t *s, const pd_rows_t *rows, const out_desc_t *o,
                     pd_buf_t *out)
{
    int rc = pd_buf_puts(out, ",\"data\":[");
    size_t n = rows->n_rows * o->width;
    for (size_t i = 0, k; rc == 0 && i < n; i++) {
        if (i && (rc = pd_buf_puts(out, ",")))
            break;
        double v = o->fp != NULL                           ? o->fp[i]
                   : s->task != PD_TASK_CLASSIFICATION ? rows->val[i]
                                                       : 0;
        if (o->fp != NULL || s->task != PD_TASK_CLASSIFICATION) {
            rc = isfinite(v) ? pd_buf_json_double(out, v) : PD_EINVAL;
        } else if ((rc = class_of(s, rows, i, &k)) == 0) {
            const char *l = string_labels(s) ? s->class_labels_str[k] : NULL;
            rc = l ? pd_buf_json_str(out, l, strlen(l))
                   : pd_buf_printf(out, "%" PRId64, int_label(s, k));
        }
    }
    return rc ? rc : pd_buf_puts(out, "]");
}

static void put_le(char *p, uint64_t u, size_t n)
{
    for (size_t b = 0; b < n; b++)
        p[b] = (char)(u >> (8 * b));
}

/* Appends output o's binary data (o->bytes bytes) to out. */
static int binary_data(const pd_model_schema_t *s, const pd_rows_t *rows, const out_desc_t *o,
                       pd_buf_t *out)
{
    int rc = pd_buf_reserve(out, (size_t)o->bytes);
    if (rc < 0)
        return rc;
    char *p = out->data + out->len;
    size_t n = rows->n_rows * o->width;
    for (size_t i = 0, k; i < n; i++) {
        uint64_t u;
        if (o->fp != NULL || s->task != PD_TASK_CLASSIFICATION) {
            double v = o->fp != NULL ? o->fp[i] : rows->val[i];
            memcpy(&u, &v, sizeof u);
        } else if (class_of(s, rows, i, &k) < 0) {
            return PD_EINVAL;
        } else if (string_labels(s)) {
            const char *l = s->class_labels_str[k];
            size_t len = strlen(l);
            put_le(p, len, 4);
            memcpy(p + 4, l, len);
            p += 4 + len;
            continue;
        } else {
            u = (uint64_t)int_label(s, k);
        }
        put_le(p, u, 8);
        p += 8;
    }
    out->len += (size_t)o->bytes;
    out->data[out->len] = '\0';
    return 0;
}

/* One output's JSON object (its binary data, if any, comes after the whole object). */
static int output_json(const pd_model_schema_t *s, const pd_rows_t *rows, const out_desc_t *o,
                       int binary, pd_buf_t *out)
{
    const char *name = pd__v2_output_name(s, o->which);
    int rc = pd_buf_puts(out, "{\"name\":");
    if (rc == 0)
        rc = pd_buf_json_str(out, name, strlen(name));
    if (rc == 0)
        rc = pd_buf_printf(out, ",\"datatype\":\"%s\",\"shape\":[%zu", o->datatype,
                           rows->n_rows);
    /* probabilities are always [N, n_classes]; a named output one value wide is [N], as
     * its library's 1-D array */
    if (rc == 0 && (o->which == PD__V2_PROBA || o->width > 1))
        rc = pd_buf_printf(out, ",%zu", o->width);
    if (rc == 0)
        rc = pd_buf_puts(out, "]");
    if (rc == 0 && binary)
        rc = pd_buf_printf(out, ",\"parameters\":{\"binary_data_size\":%llu}",
                           (unsigned long long)o->bytes);
    else if (rc == 0)
        rc = json_data(s, rows, o, out);
    return rc ? rc : pd_buf_puts(out, "}");
}

/* {"model_name": ..., "model_version": ..., "id": ...,  */
static int head(const pd_model_schema_t *s, const pd__v2state_t *st, pd_buf_t *out)
{
    const char *name = st->model_name ? st->model_name : s->name ? s->name : "";
    const char *label = st->model_label ? st->model_label : s->version ? s->version : "";
    int rc = pd_buf_puts(out, "{\"model_name\":");
    if (rc == 0)
        rc = pd_buf_json_str(out, name, strlen(name));
    if (rc == 0)
        rc = pd_buf_puts(out, ",\"model_version\":");
    if (rc == 0)
        rc = pd_buf_json_str(out, label, strlen(label));
    if (rc == 0 && st->has_id) { /* the request's own JSON string content, escapes kept */
        rc = pd_buf_puts(out, ",\"id\":\"");
        if (rc == 0)
            rc = pd_buf_append(out, st->id, st->id_len);
        if (rc == 0)
            rc = pd_buf_puts(out, "\"");
    }
    return rc ? rc : pd_buf_puts(out, ",\"outputs\":[");
}

int pd__v2_encode(const pd_model_schema_t *s, const pd_rows_t *rows, pd_buf_t *out)
{
    const pd__v2state_t *st = rows->codec_state;
    if (st == NULL)
        return PD_EINVAL; /* not decoded by pd_codec_v2 */
    out_desc_t o[PD_V2_OUTPUTS];
    size_t start = out->len;
    int rc = head(s, st, out), any_binary = 0;
    for (unsigned i = 0; rc == 0 && i < st->n_out; i++) {
        rc = describe(s, rows, st->out_which[i], &o[i]);
        if (rc == 0 && i)
            rc = pd_buf_puts(out, ",");
        if (rc == 0)
            rc = output_json(s, rows, &o[i], st->out_binary[i], out);
        any_binary |= st->out_binary[i];
    }
    if (rc == 0)
        rc = pd_buf_puts(out, "]}");
    if (rc < 0 || !any_binary)
        return rc;
    size_t json_len = out->len - start;
    for (unsigned i = 0; rc == 0 && i < st->n_out; i++)
        if (st->out_binary[i])
            rc = binary_data(s, rows, &o[i], out);
    if (rc == 0 && rows->reply != NULL) {
        rows->reply->content_type = "application/octet-stream";
        snprintf(rows->reply->headers, sizeof rows->reply->headers,
                 PD_V2_HEADER_LENGTH ": %zu\r\n", json_len);
    }
    return rc;
}
