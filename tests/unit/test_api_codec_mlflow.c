/* test_api_codec_mlflow.c - pd_codec_mlflow (MLflow 2.x scoring server / SageMaker):
 * every JSON shape (MLflow's documented examples first), text/csv with RFC 4180 quoting,
 * Content-Type handling, every error with its exact status and body, the row limit,
 * missing values on and off, MLflow's error codes, and the answers.
 *
 * Bodies are copied into a buffer of exactly their length (no NUL after them), so that
 * ASan catches any read past the end. */
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
#include "test_codec_util.h"

static const char *const ABC[] = {"a", "b", "c"};
static const char *const ABC_CLS[] = {"no", "yes"};
static const pd_model_schema_t abc = {
    .name = "abc", .version = "1", .source = "sklearn", .kind = "RandomForestClassifier",
    .task = PD_TASK_CLASSIFICATION, .n_features = 3, .feature_names = ABC,
    .n_classes = 2, .labels_are_strings = 1, .class_labels_str = ABC_CLS,
};
static const char *const ONE[] = {"x"};
static const pd_model_schema_t one = {.name = "one", .task = PD_TASK_REGRESSION,
                                      .n_features = 1, .feature_names = ONE};

#define JSON "application/json"
#define CSV "text/csv"

static int run(const pd_model_schema_t *s, int missing_ok, const char *ct, const char *body,
               size_t max_rows, pd_rows_t *rows, pd_buf_t *err)
{
    return codec_run(&pd_codec_mlflow, s, missing_ok, ct, body, max_rows, rows, err);
}

static void expect_err_s(const pd_model_schema_t *s, const char *ct, const char *body,
                         int missing_ok, size_t max_rows, int status, const char *want)
{
    codec_expect_err(&pd_codec_mlflow, s, ct, body, missing_ok, max_rows, status, want);
}

/* A 400 from a JSON body of the abc model. */
static void expect_400(const char *body, int missing_ok, const char *message)
{
    char want[2048];
    snprintf(want, sizeof want, "{\"error_code\": \"BAD_REQUEST\", \"message\": \"%s\"}", message);
    expect_err_s(&abc, JSON, body, missing_ok, 0, 400, want);
}

static void csv_400(const char *body, int missing_ok, const char *message)
{
    char want[2048];
    snprintf(want, sizeof want, "{\"error_code\": \"BAD_REQUEST\", \"message\": \"%s\"}", message);
    expect_err_s(&abc, CSV, body, missing_ok, 0, 400, want);
}

static void expect_rows_s(const pd_model_schema_t *s, const char *ct, const char *body,
                          int missing_ok, size_t n, const double *want)
{
    codec_expect_rows(&pd_codec_mlflow, s, ct, body, missing_ok, n, want);
}

static void expect_rows(const char *ct, const char *body, int missing_ok, size_t n,
                        const double *want)
{
    expect_rows_s(&abc, ct, body, missing_ok, n, want);
}

static const double ROWS2[] = {1, 2, 3, 4, 5, 6};

/* MLflow's documented request examples ("Deploy MLflow models", local REST API). */
static void test_documented_examples(void **state)
{
    (void)state;
    expect_rows(JSON, "{\n  \"dataframe_split\": {\n      \"columns\": [\"a\", \"b\", \"c\"],\n"
                "      \"data\": [[1, 2, 3], [4, 5, 6]]\n  }\n}", 0, 2, ROWS2);
    expect_rows(JSON, "{\n  \"dataframe_records\": [\n    {\"a\": 1,\"b\": 2,\"c\": 3},\n"
                "    {\"a\": 4,\"b\": 5,\"c\": 6}\n  ]\n}", 0, 2, ROWS2);
    expect_rows(JSON, "{\"inputs\": {\"a\": [1, 4], \"b\": [2, 5], \"c\": [3, 6]}}", 0, 2, ROWS2);
    expect_rows(JSON, "{\"inputs\": [[1, 2, 3], [4, 5, 6]]}", 0, 2, ROWS2);
    expect_rows(JSON, "{\"instances\": [{\"a\": 1, \"b\": 2, \"c\": 3}, "
                "{\"a\": 4, \"b\": 5, \"c\": 6}]}", 0, 2, ROWS2);
    expect_rows(CSV, "a,b,c\n1,2,3\n4,5,6\n", 0, 2, ROWS2);
}

/* dataframe_split: columns by name in any order, unknown ones ignored whatever they hold,
 * "index" checked against the rows, "data" before "columns", no "columns" at all. */
static void test_dataframe_split(void **state)
{
    (void)state;
    expect_rows(JSON, "{\"dataframe_split\": {\"columns\": [\"c\", \"extra\", \"a\", 7, \"b\"], "
                "\"index\": [10, 11], \"data\": [[3, \"s\", 1, [0], 2], [6, null, 4, {}, 5]]}}",
                0, 2, ROWS2);
    expect_rows(JSON, "{\"dataframe_split\": {\"data\": [[3, 1, 2], [6, 4, 5]], "
                "\"index\": [0, 1], \"columns\": [\"c\", \"a\", \"b\"]}}", 0, 2, ROWS2);
    expect_rows(JSON, "{\"dataframe_split\": {\"data\": [[1, 2, 3], [4, 5, 6]]}}", 0, 2, ROWS2);
    const double nan_b[] = {1, NAN, 3};
    expect_rows(JSON, "{\"dataframe_split\": {\"columns\": [\"a\", \"c\"], \"data\": [[1, 3]]}}",
                1, 1, nan_b);
    const double xs[] = {1.5, 2.5, -3};
    expect_rows_s(&one, JSON, "{\"dataframe_split\": {\"columns\": [\"x\"], "
                  "\"data\": [1.5, [2.5], -3]}}", 0, 3, xs);
    /* "params" and other keys beside the format key are ignored */
    expect_rows(JSON, "{\"params\": {\"k\": 1}, \"dataframe_split\": {\"columns\": [\"a\", \"b\", "
                "\"c\"], \"data\": [[1, 2, 3], [4, 5, 6]]}, \"note\": [1]}", 0, 2, ROWS2);
}

static void test_records_instances_inputs(void **state)
{
    (void)state;
    /* unknown keys of a record are ignored; key order does not matter */
    expect_rows(JSON, "{\"dataframe_records\": [{\"c\": 3, \"zz\": \"x\", \"b\": 2, \"a\": 1}, "
                "{\"a\": 4, \"b\": 5, \"c\": 6, \"d\": [1, 2]}]}", 0, 2, ROWS2);
    const double miss[] = {1, NAN, 3, NAN, NAN, NAN};
    expect_rows(JSON, "{\"dataframe_records\": [{\"a\": 1, \"c\": 3}, {}]}", 1, 2, miss);
    expect_rows(JSON, "{\"instances\": [[1, 2, 3], {\"a\": 4, \"b\": 5, \"c\": 6}]}", 0, 2, ROWS2);
    expect_rows(JSON, "{\"instances\": {\"a\": [1, 4], \"b\": [2, 5], \"c\": [3, 6], "
                "\"other\": [\"x\"]}}", 0, 2, ROWS2);
    const double single[] = {1, 2, 3};
    expect_rows(JSON, "{\"inputs\": {\"a\": 1, \"b\": 2, \"c\": 3}}", 0, 1, single);
    const double bools[] = {1, 0, 0.5};
    expect_rows(JSON, "{\"inputs\": [[true, false, 0.5]]}", 0, 1, bools);
    const double xs[] = {1, 2, 3};
    expect_rows_s(&one, JSON, "{\"inputs\": [1, 2, 3]}", 0, 3, xs);
    expect_rows_s(&one, JSON, "{\"instances\": [[1], {\"x\": 2}, 3]}", 0, 3, xs);
}

#define REQ "The input must be a JSON dictionary with exactly one of the input fields " \
            "{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}. "
#define SPLIT "Invalid input. Dataframe split format must have 'data' field and optionally " \
              "'columns' and 'index' fields. "

static void test_json_errors(void **state)
{
    (void)state;
    expect_400("{\"data\": [[1, 2, 3]]}", 0, REQ "Received dictionary with input fields: [].");
    expect_400("{\"inputs\": [[1, 2, 3]], \"x\": 1, \"instances\": [[1, 2, 3]]}", 0,
               REQ "Received dictionary with input fields: ['inputs', 'instances'].");
    expect_400("{\"dataframe_records\": 5, \"dataframe_split\": {}, \"inputs\": []}", 0,
               REQ "Received dictionary with input fields: ['dataframe_records', "
               "'dataframe_split', 'inputs'].");
    expect_400("{\"dataframe_records\": [{\"a\": \"x\"}], \"b\": [}", 0,
               "Invalid input. Ensure that input is a valid JSON formatted string. Error: "
               "Expecting value at byte 42 (line 1, column 43)");
    expect_400("[[1, 2, 3]]", 0, REQ "Received a list.");
    expect_400("[[1, 2, 3]", 0, "Invalid input. Ensure that input is a valid JSON formatted "
               "string. Error: Expecting ',' delimiter at byte 10 (line 1, column 11)");
    expect_400("\"abc\"", 0, REQ "Received unexpected input type 'str'.");
    expect_400("12", 0, REQ "Received unexpected input type 'int'.");
    expect_400("{\"inputs\": [[1, 2, 3]]", 0,
               "Invalid input. Ensure that input is a valid JSON formatted string. Error: "
               "Expecting ',' delimiter at byte 22 (line 1, column 23)");
    expect_400("", 0, "Invalid input. Ensure that input is a valid JSON formatted string. "
               "Error: Expecting value at byte 0 (line 1, column 1)");
    expect_400("{\"dataframe_split\": [[1, 2, 3]]}", 0,
               "Invalid input. Dataframe split format must be a dictionary. Got list.");
    expect_400("{\"dataframe_split\": {\"columns\": [\"a\", \"b\", \"c\"], \"rows\": []}}", 0,
               SPLIT "Got 'rows'.");
    expect_400("{\"dataframe_split\": {\"columns\": [\"a\", \"b\", \"c\"]}}", 0,
               SPLIT "Got no 'data'.");
    expect_400("{\"dataframe_split\": {\"columns\": [\"a\", \"b\", \"a\"], \"data\": []}}", 0,
               "dataframe_split: column 'a' appears twice");
    expect_400("{\"dataframe_split\": {\"columns\": [\"a\", \"c\"], \"data\": [[1, 3]]}}", 0,
               "Model is missing inputs ['b'].");
    expect_400("{\"dataframe_split\": {\"columns\": [\"q\"], \"data\": [[1]]}}", 0,
               "Model is missing inputs ['a', 'b', 'c'].");
    expect_400("{\"dataframe_split\": {\"columns\": [\"a\", \"b\", \"c\"], \"index\": [0], "
               "\"data\": [[1, 2, 3], [4, 5, 6]]}}", 0,
               "Invalid input. dataframe_split: \\\"index\\\" has 1 entries, \\\"data\\\" has 2 rows");
    expect_400("{\"dataframe_split\": {\"columns\": [\"a\", \"b\", \"c\"], "
               "\"data\": [[1, 2, 3], [4, 5]]}}", 0, "row 1: expected 3 values, got 2");
    expect_400("{\"dataframe_split\": {\"columns\": [\"a\", \"b\", \"c\"], \"data\": []}}", 0,
               "dataframe_split \\\"data\\\" is empty");
    expect_400("{\"dataframe_split\": {\"data\": {}, \"columns\": [\"a\", \"b\", \"c\"]}}", 0,
               "Invalid input. dataframe_split \\\"data\\\" must be a list of rows, got an object");
    expect_400("{\"dataframe_split\": {\"columns\": [[\"a\"]], \"data\": []}}", 0,
               "dataframe_split: column 0: expected a name, got a list");
    expect_400("{\"dataframe_split\": {\"data\": [[1, 2, \"x\"]], \"columns\": [\"a\", \"b\", "
               "\"c\"]}}", 0, "row 0: feature 'c' is not a number (got a string)");
    expect_400("{\"dataframe_records\": {\"a\": 1}}", 0,
               "Invalid input. Dataframe records format must be a list of records. "
               "Got dictionary.");
    expect_400("{\"dataframe_records\": [{\"a\": 1, \"b\": 2, \"c\": 3}, [4, 5, 6]]}", 0,
               "record 1: expected an object of features, got a list");
    expect_400("{\"dataframe_records\": [{\"a\": 1, \"c\": 3}]}", 0,
               "record 0: missing feature 'b'");
    expect_400("{\"dataframe_records\": [{\"a\": 1, \"b\": null, \"c\": 3}]}", 0,
               "record 0: feature 'b' is null and the model takes no missing values");
    expect_400("{\"instances\": [[1, 2, 3, 4]]}", 0, "instance 0: expected 3 values, got 4");
    expect_400("{\"instances\": [7]}", 0,
               "instance 0: expected a list of values or an object of features, got a number");
    expect_400("{\"inputs\": {\"a\": [1, 2], \"b\": [1, 2], \"c\": [1]}}", 0,
               "\\\"inputs\\\": feature 'c' has 1 values, 'a' has 2");
    expect_400("{\"inputs\": {\"a\": [1], \"c\": [1]}}", 0, "Model is missing inputs ['b'].");
    expect_400("{\"inputs\": \"a,b\"}", 0,
               "Invalid input. \\\"inputs\\\" must be a list or an object, got a string");
    expect_400("{\"inputs\": [[1, 2, 1e999]]}", 0, "row 0: feature 'c' is not a finite number");
}

static void test_content_types(void **state)
{
    (void)state;
    const char *body = "{\"inputs\": [[1, 2, 3], [4, 5, 6]]}";
    expect_rows("application/json; charset=utf-8", body, 0, 2, ROWS2);
    expect_rows("Application/JSON;charset=\"UTF-8\"", body, 0, 2, ROWS2);
    expect_rows("application/json;", body, 0, 2, ROWS2); /* as MLflow's docs send it */
    expect_rows(" application/json ; format=pandas-split", body, 0, 2, ROWS2);
    expect_rows("text/csv; charset=utf8", "a,b,c\r\n1,2,3\r\n4,5,6", 0, 2, ROWS2);
    expect_err_s(&abc, "application/json; charset=latin-1", body, 0, 0, 415,
                 "{\"error_code\": \"BAD_REQUEST\", \"message\": \"The scoring server only "
                 "supports UTF-8\"}");
    expect_err_s(&abc, "text/plain", body, 0, 0, 415,
                 "{\"error_code\": \"BAD_REQUEST\", \"message\": \"This predictor only supports "
                 "the following content types: Types: ['text/csv', 'application/json']. "
                 "Got 'text/plain'.\"}");
    expect_err_s(&abc, "application/jsonx", body, 0, 0, 415,
                 "{\"error_code\": \"BAD_REQUEST\", \"message\": \"This predictor only supports "
                 "the following content types: Types: ['text/csv', 'application/json']. "
                 "Got 'application/jsonx'.\"}");
    expect_err_s(&abc, NULL, body, 0, 0, 415,
                 "{\"error_code\": \"BAD_REQUEST\", \"message\": \"This predictor only supports "
                 "the following content types: Types: ['text/csv', 'application/json']. "
                 "Got no Content-Type.\"}");
}

/* text/csv: RFC 4180 quoting, line endings, BOM, blank lines, pandas' missing markers. */
static void test_csv(void **state)
{
    (void)state;
    expect_rows(CSV, "c,extra,a,b\n3,\"x,\"\"y\"\"\nz\",1,2\n6,,4,5", 0, 2, ROWS2);
    expect_rows(CSV, "\xEF\xBB\xBF\"a\",\"b\",\"c\"\r\n\r\n\"1\", 2 ,3\r\n\n4,5,6\r\n\r\n", 0, 2,
                ROWS2);
    expect_rows(CSV, "a,b,c\r1,2,3\r4,5,6\r", 0, 2, ROWS2);
    const double exact[] = {0.1, -0.0, 1e-7, 1, 0, 12.5, 0.5, 1e300, 1};
    expect_rows(CSV, "a,b,c\n0.1,-0.0,1E-7\nTrue,false,+12.5\n.5,1e300,1.\n", 0, 3, exact);
    const double nan[] = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, 1, NAN, NAN, NAN, NAN, NAN};
    expect_rows(CSV, "a,b,c\n,NA,nan\nNaN,null,N/A\n\"\",<NA>,None\n1,#N/A,-nan\n  ,NULL,n/a",
                1, 5, nan);
    /* a record shorter than the header is missing its last values */
    const double shortr[] = {1, 2, NAN, 4, NAN, NAN};
    expect_rows(CSV, "a,b,c\n1,2\n4\n", 1, 2, shortr);
    /* header names with quotes, commas and line breaks */
    static const char *const odd[] = {"x,1", "say \"hi\"", "two\nlines"};
    pd_model_schema_t s = {.name = "odd", .task = PD_TASK_REGRESSION, .n_features = 3,
                           .feature_names = odd};
    expect_rows_s(&s, CSV, "\"two\nlines\",\"say \"\"hi\"\"\",\"x,1\"\n3,2,1\n6,5,4\n", 0, 2,
                  ROWS2);
}

static void test_csv_errors(void **state)
{
    (void)state;
    csv_400("", 0, "csv: the body is empty: expected a header row of column names");
    csv_400("\n\r\n", 0, "csv: the body is empty: expected a header row of column names");
    csv_400("a,b,c\n", 0, "csv: no rows after the header");
    csv_400("a,c\n1,3\n", 0, "Model is missing inputs ['b'].");
    csv_400("a,b,c,b\n1,2,3,4\n", 0, "csv line 1: column 'b' appears twice");
    csv_400("a,b,c\n1,2,3\n1,2,3,4\n", 0, "csv line 3: expected 3 fields, saw 4");
    csv_400("a,b,c\n1,2,3\n1,2\n", 0,
            "row 1 (csv line 3): feature 'c' is missing and the model takes no missing values");
    csv_400("a,b,c\n1,,3\n", 0, "row 0 (csv line 2): feature 'b' is missing ('') and the "
            "model takes no missing values");
    csv_400("a,b,c\n1,NaN,3\n", 0, "row 0 (csv line 2): feature 'b' is missing ('NaN') and "
            "the model takes no missing values");
    csv_400("a,b,c\n1,2,0x10\n", 1, "row 0 (csv line 2): feature 'c' is not a number: '0x10'");
    csv_400("a,b,c\n1,inf,3\n", 1, "row 0 (csv line 2): feature 'b' is not a number: 'inf'");
    csv_400("a,b,c\n1,1e999,3\n", 1, "row 0 (csv line 2): feature 'b' is not a finite number");
    csv_400("a,b,c\n1,\"2\n", 1, "csv line 2: a quoted field is not closed");
    csv_400("a,b,c\n1,\"2\"x,3\n", 1, "csv line 2: text after the closing quote of a field");
    csv_400("a,b,c\n1,\xff,3\n", 1, "csv: invalid UTF-8 at byte 8");
    /* a field longer than the limit, quoted or not */
    size_t big = 64 * 1024 + 1;
    char *body = malloc(big + 32);
    assert_non_null(body);
    int k = sprintf(body, "a,b,c\n1,2,");
    memset(body + k, '1', big);
    body[k + big] = '\0';
    csv_400(body, 0, "csv line 2: a field is longer than 65536 bytes");
    k = sprintf(body, "a,b,c\n1,2,\"");
    memset(body + k, '1', big);
    strcpy(body + k + big, "\"\n");
    csv_400(body, 0, "csv line 2: a field is longer than 65536 bytes");
    free(body);
    /* a record longer than the limit (fields within theirs) */
    size_t rec = 4u * 1024 * 1024 + 100;
    body = malloc(rec + 32);
    assert_non_null(body);
    k = sprintf(body, "a,b,c\n");
    while ((size_t)k < rec) {
        memcpy(body + k, "1111111111,", 11);
        k += 11;
    }
    body[k] = '\0';
    csv_400(body, 1, "csv line 2: a record is longer than 4194304 bytes");
    free(body);
}

/* More than rows->max_rows rows: 413 with MLflow's BAD_REQUEST, JSON and CSV alike. */
static void test_max_rows(void **state)
{
    (void)state;
    expect_err_s(&abc, JSON, "{\"dataframe_split\": {\"columns\": [\"a\", \"b\", \"c\"], "
                 "\"data\": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}}", 0, 2, 413,
                 "{\"error_code\": \"BAD_REQUEST\", \"message\": \"dataframe_split \\\"data\\\": "
                 "more than 2 rows, the server's limit\"}");
    expect_err_s(&abc, JSON, "{\"dataframe_records\": [{}, {}, {}]}", 1, 2, 413,
                 "{\"error_code\": \"BAD_REQUEST\", \"message\": \"\\\"dataframe_records\\\": "
                 "more than 2 rows, the server's limit\"}");
    expect_err_s(&abc, CSV, "a,b,c\n1,2,3\n4,5,6\n7,8,9\n", 0, 2, 413,
                 "{\"error_code\": \"BAD_REQUEST\", \"message\": \"csv: more than 2 rows, the "
                 "server's limit\"}");
    pd_rows_t rows;
    pd_buf_t err;
    assert_int_equal(run(&abc, 0, CSV, "a,b,c\n1,2,3\n4,5,6\n7,8,9\n", 3, &rows, &err), 0);
    assert_int_equal(rows.n_rows, 3);
    pd_rows_free(&rows);
    pd_buf_free(&err);
}

/* A wide model and a 10,000-row CSV and dataframe_split, columns in reverse order. */
static void test_big(void **state)
{
    (void)state;
    enum { NF = 30, NR = 10000 };
    static char names_buf[NF][16];
    const char *names[NF];
    for (int j = 0; j < NF; j++) {
        snprintf(names_buf[j], sizeof names_buf[j], "col%d", j);
        names[j] = names_buf[j];
    }
    pd_model_schema_t wide = {.name = "w", .task = PD_TASK_REGRESSION, .n_features = NF,
                              .feature_names = names};
    pd_buf_t csv = PD_BUF_INIT, js = PD_BUF_INIT;
    pd_buf_puts(&js, "{\"dataframe_split\": {\"columns\": [");
    for (int j = NF - 1; j >= 0; j--) {
        pd_buf_printf(&csv, "col%d%s", j, j ? "," : "\n");
        pd_buf_printf(&js, "\"col%d\"%s", j, j ? ", " : "], \"data\": [");
    }
    for (int i = 0; i < NR; i++) {
        pd_buf_puts(&js, i ? ", [" : "[");
        for (int j = NF - 1; j >= 0; j--) {
            pd_buf_printf(&csv, "%d.25%s", i * NF + j, j ? "," : "\r\n");
            pd_buf_printf(&js, "%d.25%s", i * NF + j, j ? ", " : "]");
        }
    }
    pd_buf_puts(&js, "]}}");
    const char *bodies[2] = {csv.data, js.data}, *cts[2] = {CSV, JSON};
    for (int b = 0; b < 2; b++) {
        pd_rows_t rows;
        pd_buf_t err;
        int rc = run(&wide, 0, cts[b], bodies[b], PD_ROWS_DEFAULT_MAX, &rows, &err);
        if (rc)
            fail_msg("%s: %d %s", cts[b], rc, err.data);
        assert_int_equal(rows.n_rows, NR);
        for (int i = 0; i < NR; i += 331)
            for (int j = 0; j < NF; j++)
                assert_true(rows.x[i * NF + j] == i * NF + j + 0.25);
        pd_rows_free(&rows);
        pd_buf_free(&err);
    }
    pd_buf_free(&csv);
    pd_buf_free(&js);
}

static void expect_encode(const pd_model_schema_t *s, const pd_rows_t *rows, const char *want)
{
    codec_expect_encode(&pd_codec_mlflow, s, rows, want);
}

static void test_encode(void **state)
{
    (void)state;
    pd_rows_t rows;
    pd_rows_init(&rows, 3, 0);
    assert_int_equal(pd_rows_resize(&rows, 3), 0);
    assert_int_equal(pd_rows_results(&rows, 2), 0);
    rows.cls[0] = 1, rows.cls[1] = 0, rows.cls[2] = 1;
    expect_encode(&abc, &rows, "{\"predictions\": [\"yes\", \"no\", \"yes\"]}");
    const int64_t ints[] = {3, -1};
    pd_model_schema_t s = abc;
    s.labels_are_strings = 0, s.class_labels_str = NULL, s.class_labels_int = ints;
    expect_encode(&s, &rows, "{\"predictions\": [-1, 3, -1]}");
    pd_rows_free(&rows);

    pd_rows_init(&rows, 3, 0);
    assert_int_equal(pd_rows_resize(&rows, 2), 0);
    rows.outputs = PD_OUT_PROBA;
    assert_int_equal(pd_rows_results(&rows, 2), 0);
    const double p[] = {0.25, 0.75, 1.0, 0.0};
    memcpy(rows.proba, p, sizeof p);
    expect_encode(&abc, &rows, "{\"predictions\": [[0.25, 0.75], [1.0, 0.0]]}");
    pd_rows_free(&rows);

    pd_rows_init(&rows, 1, 0);
    assert_int_equal(pd_rows_resize(&rows, 2), 0);
    assert_int_equal(pd_rows_results(&rows, 0), 0);
    rows.val[0] = 2.5, rows.val[1] = 1e-5;
    expect_encode(&one, &rows, "{\"predictions\": [2.5, 1e-05]}");
    rows.val[0] = NAN;
    pd_buf_t out = PD_BUF_INIT;
    assert_int_equal(pd_codec_mlflow.encode(&one, &rows, &out), PD_EINVAL);
    pd_buf_free(&out);
    pd_rows_free(&rows);
}

/* error(): MLflow's error_code for each status the server answers. */
static void test_error_codes(void **state)
{
    (void)state;
    static const struct { int status; const char *code; } cases[] = {
        {400, "BAD_REQUEST"}, {404, "RESOURCE_DOES_NOT_EXIST"}, {413, "BAD_REQUEST"},
        {415, "BAD_REQUEST"}, {422, "BAD_REQUEST"}, {429, "RESOURCE_EXHAUSTED"},
        {500, "INTERNAL_ERROR"}, {501, "NOT_IMPLEMENTED"}, {503, "TEMPORARILY_UNAVAILABLE"},
        {504, "DEADLINE_EXCEEDED"}, {401, "UNAUTHENTICATED"}, {403, "PERMISSION_DENIED"},
        {409, "ALREADY_EXISTS"}, {499, "CANCELLED"}, {405, "BAD_REQUEST"}, {502, "INTERNAL_ERROR"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pd_buf_t out = PD_BUF_INIT;
        char want[200];
        assert_int_equal(pd_codec_mlflow.error(cases[i].status, "x \"y\"", &out), 0);
        snprintf(want, sizeof want, "{\"error_code\": \"%s\", \"message\": \"x \\\"y\\\"\"}",
                 cases[i].code);
        assert_string_equal(out.data, want);
        pd_buf_free(&out);
    }
    assert_string_equal(pd_codec_mlflow.name, "mlflow");
    assert_string_equal(pd_codec_mlflow.content_type, "application/json");
}

static void test_mutations(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        ("{\"dataframe_split\": {\"columns\": [\"a\", \"b\", \"c\"], \"index\": [0, 1], "
         "\"data\": [[1, 2, 3], [4, 5, 6]]}}"),
        "{\"dataframe_split\": {\"data\": [[1, 2, 3]], \"columns\": [\"c\", \"a\", \"b\"]}}",
        "{\"dataframe_records\": [{\"a\": 1, \"b\": null, \"c\": 3}, {\"c\": 1}]}",
        "{\"instances\": {\"a\": [1], \"b\": [2], \"c\": [3]}, \"params\": {}}",
        "{\"inputs\": [[1, 2, 3], {\"a\": 1, \"b\": 2, \"c\": 3}]}",
    };
    mutate_all(&pd_codec_mlflow, &abc, JSON, seeds, 5, 40000, "message");
    static const char *const csvs[] = {
        "a,b,c\n1,2,3\n4,5,6\n",
        "\"c\",\"a\",x,b\r\n\"1\",2,\"q,\"\"r\",3\r\n,NA,,nan\r\n",
    };
    mutate_all(&pd_codec_mlflow, &abc, CSV, csvs, 2, 20000, "message");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documented_examples),
        cmocka_unit_test(test_dataframe_split),
        cmocka_unit_test(test_records_instances_inputs),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_max_rows),
        cmocka_unit_test(test_big),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_error_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
