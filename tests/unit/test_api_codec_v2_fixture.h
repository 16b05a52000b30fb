/* test_api_codec_v2_fixture.h - what the pd_codec_v2 tests share: model schemas (an iris
 * classifier with integer labels, the same with string labels, a two-feature regressor),
 * decoding a body (copied into a buffer of exactly its length, so that ASan catches any
 * read past its end) with or without Inference-Header-Content-Length, and checks of the
 * decoded values (bit for bit) and of error bodies ({"error": message}, exact message).
 * Included by one test file each (static inline functions: a file may use some only). */
#ifndef TEST_API_CODEC_V2_FIXTURE_H
#define TEST_API_CODEC_V2_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/codec.h"
#include "common.h"

static const char *const IRIS[] = {"sepal_length", "sepal_width", "petal_length", "petal_width"};
static const int64_t IRIS_CLS[] = {0, 1, 2};
static const char *const IRIS_STR[] = {"setosa", "versicolor", "virginica"};
static const pd_model_schema_t iris = {
    .name = "iris", .version = "1", .source = "sklearn", .kind = "LogisticRegression",
    .task = PD_TASK_CLASSIFICATION, .n_features = 4, .feature_names = IRIS,
    .n_classes = 3, .class_labels_int = IRIS_CLS, .proba_ok = 1,
};
static const pd_model_schema_t iris_str = {
    .name = "iris_str", .version = "1", .source = "sklearn", .kind = "RandomForestClassifier",
    .task = PD_TASK_CLASSIFICATION, .n_features = 4, .feature_names = IRIS,
    .n_classes = 3, .labels_are_strings = 1, .class_labels_str = IRIS_STR, .proba_ok = 1,
};
static const char *const AB[] = {"a", "b"};
static const pd_model_schema_t reg2 = {
    .name = "reg2", .version = "7", .source = "sklearn", .kind = "Ridge",
    .task = PD_TASK_REGRESSION, .n_features = 2, .feature_names = AB,
};

/* Decodes body[0, len) for schema s; rows (prepared here, max_rows 0 = default) and err
 * are the caller's to free. header: Inference-Header-Content-Length's value or NULL. */
static inline int v2_run(const pd_model_schema_t *s, int missing_ok, const char *header,
                  const void *body, size_t len, size_t max_rows, pd_rows_t *rows, pd_buf_t *err)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, body, len);
    pd_rows_init(rows, s->n_features, max_rows);
    pd_buf_init(err, 0);
    pd_codec_in_t in = {.schema = s, .missing_ok = missing_ok, .content_type = NULL,
                        .query = "", .body = copy, .len = len, .header = header,
                        .model_name = "served", .model_label = "3"};
    int rc = pd_codec_v2.decode(&in, rows, err);
    free(copy);
    return rc;
}

/* The "error" string of an error body, or fails the test. Freed by the caller. */
static inline char *error_message(const pd_buf_t *err)
{
    json_error_t je;
    json_t *j = err->data ? json_loads(err->data, 0, &je) : NULL;
    if (j == NULL || !json_is_string(json_object_get(j, "error")) || json_object_size(j) != 1)
        fail_msg("not an {\"error\": ...} body: %s", err->data ? err->data : "(none)");
    char *m = strdup(json_string_value(json_object_get(j, "error")));
    json_decref(j);
    return m;
}

static inline void expect_err_full(const pd_model_schema_t *s, int missing_ok, const char *header,
                            const void *body, size_t len, size_t max_rows, int status,
                            const char *want)
{
    pd_rows_t rows;
    pd_buf_t err;
    int rc = v2_run(s, missing_ok, header, body, len, max_rows, &rows, &err);
    if (rc != status)
        fail_msg("body %.*s\n got %d %s\n want %d %s", (int)len, (const char *)body, rc,
                 err.data ? err.data : "", status, want);
    char *m = error_message(&err);
    if (strcmp(m, want) != 0)
        fail_msg("body %.*s\n got  %s\n want %s", (int)len, (const char *)body, m, want);
    free(m);
    pd_rows_free(&rows);
    pd_buf_free(&err);
}

/* A JSON body that must be refused with status and exactly this message. */
static inline void expect_err(const pd_model_schema_t *s, int missing_ok, const char *body, int status,
                       const char *want)
{
    expect_err_full(s, missing_ok, NULL, body, strlen(body), 0, status, want);
}

/* Compares every decoded value with want bit for bit (a NaN wanted: any NaN). */
static inline void check_x(const pd_rows_t *rows, size_t n, const double *want, const char *what)
{
    assert_int_equal(rows->n_rows, n);
    for (size_t i = 0; i < n * rows->n_cols; i++) {
        double g = rows->x[i], w = want[i];
        if (isnan(w) ? !isnan(g) : memcmp(&g, &w, sizeof g) != 0)
            fail_msg("%s\n value %zu: got %.17g want %.17g", what, i, g, w);
    }
}

/* A body (JSON, or JSON + binary with header) that must decode to want (n rows). */
static inline void expect_rows_full(const pd_model_schema_t *s, int missing_ok, const char *header,
                             const void *body, size_t len, size_t n, const double *want)
{
    pd_rows_t rows;
    pd_buf_t err;
    int rc = v2_run(s, missing_ok, header, body, len, 0, &rows, &err);
    if (rc != 0)
        fail_msg("body %.*s\n got %d %s", (int)len, (const char *)body, rc,
                 err.data ? err.data : "");
    check_x(&rows, n, want, (const char *)body);
    assert_non_null(rows.codec_state);
    pd_rows_free(&rows);
    pd_buf_free(&err);
}

static inline void expect_rows(const pd_model_schema_t *s, int missing_ok, const char *body, size_t n,
                        const double *want)
{
    expect_rows_full(s, missing_ok, NULL, body, strlen(body), n, want);
}

/* A binary request: the JSON part, then the bytes; *header gets the JSON part's length as
 * text (hbuf: 32 bytes). Returns the body (malloc'd) and its length in *len. */
static inline char *binary_body(const char *json, const void *bytes, size_t nbytes, size_t *len,
                         char *hbuf)
{
    size_t j = strlen(json);
    char *b = malloc(j + nbytes + 1);
    assert_non_null(b);
    memcpy(b, json, j);
    if (nbytes)
        memcpy(b + j, bytes, nbytes);
    *len = j + nbytes;
    snprintf(hbuf, 32, "%zu", j);
    return b;
}

#endif
