/* codec_shim.c - flat entry points to pd_codec_fastapi for the Python differential tests
 * (tests/fuzz/diff_list_vs_fastapi.py loads it with ctypes), so that Python never has to
 * mirror pd_rows_t or pd_model_schema_t. Built into a temporary shared library together
 * with the decoder's sources; not part of predictd. Every pointer is borrowed for the call
 * only; nothing is kept between calls. */
#include <stdint.h>
#include <string.h>

#include "api/codec.h"
#include "common.h"

int pd_shim_decode(const char *const *names, size_t n, int missing_ok, const char *ct,
                   const char *body, size_t len, size_t max_rows, double *x, size_t x_cap,
                   size_t *n_rows, int *single, pd_buf_t *err);
int pd_shim_encode(int task, size_t n_classes, const char *const *labels_str,
                   const int64_t *labels_int, int single, unsigned outputs, size_t n_rows,
                   const int32_t *cls, const double *val, const double *proba, pd_buf_t *out);

/* Decodes with the codec; copies up to x_cap values of the rows into x. Returns the
 * codec's answer (0, an HTTP status or a negative code). */
int pd_shim_decode(const char *const *names, size_t n, int missing_ok, const char *ct,
                   const char *body, size_t len, size_t max_rows, double *x, size_t x_cap,
                   size_t *n_rows, int *single, pd_buf_t *err)
{
    pd_model_schema_t s = {.task = PD_TASK_REGRESSION, .n_features = n, .feature_names = names};
    pd_codec_in_t in = {.schema = &s, .missing_ok = missing_ok, .content_type = ct,
                        .query = "", .body = body, .len = len};
    pd_rows_t r;
    pd_rows_init(&r, n, max_rows);
    int rc = pd_codec_fastapi.decode(&in, &r, err);
    *n_rows = r.n_rows;
    *single = r.single;
    size_t have = r.n_rows * n;
    memcpy(x, r.x, (have < x_cap ? have : x_cap) * sizeof(double));
    pd_rows_free(&r);
    return rc;
}

/* Encodes n_rows results (cls or val, and proba: n_rows * n_classes) of a model of `task`
 * with these labels (labels_str non-NULL: string labels). Returns the codec's answer. */
int pd_shim_encode(int task, size_t n_classes, const char *const *labels_str,
                   const int64_t *labels_int, int single, unsigned outputs, size_t n_rows,
                   const int32_t *cls, const double *val, const double *proba, pd_buf_t *out)
{
    pd_model_schema_t s = {.task = (pd_task_t)task, .n_classes = n_classes,
                           .labels_are_strings = labels_str != NULL,
                           .class_labels_str = labels_str, .class_labels_int = labels_int};
    pd_rows_t r;
    pd_rows_init(&r, 1, 0);
    r.outputs = outputs;
    int rc = pd_rows_resize(&r, n_rows);
    if (rc == 0)
        rc = pd_rows_results(&r, n_classes);
    if (rc == 0) {
        r.single = single;
        for (size_t i = 0; i < n_rows; i++) {
            r.cls[i] = cls ? cls[i] : 0;
            r.val[i] = val ? val[i] : 0;
        }
        if (r.proba && proba)
            memcpy(r.proba, proba, n_rows * n_classes * sizeof(double));
        rc = pd_codec_fastapi.encode(&s, &r, out);
    }
    pd_rows_free(&r);
    return rc;
}
