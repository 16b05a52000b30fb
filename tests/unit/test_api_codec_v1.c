/* test_api_codec_v1.c - pd_codec_v1 (KServe V1 / TF Serving predict): every accepted body
 * shape (the protocols' own documented examples first), the exact value each number
 * decodes to, every error with its exact status and body, the row limit, missing values
 * on and off, and the answers for labels, values and probabilities.
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

static const char *const IRIS[] = {"sepal_length", "sepal_width", "petal_length", "petal_width"};
static const int64_t IRIS_CLS[] = {0, 1, 2};
static const pd_model_schema_t iris = {
    .name = "iris", .version = "1", .source = "sklearn", .kind = "LogisticRegression",
    .task = PD_TASK_CLASSIFICATION, .n_features = 4, .feature_names = IRIS,
    .n_classes = 3, .class_labels_int = IRIS_CLS,
};

/* Decodes body with pd_codec_v1 into rows (prepared here) and err. */
static int run(const pd_model_schema_t *s, int missing_ok, const char *body, size_t max_rows,
               pd_rows_t *rows, pd_buf_t *err)
{
    return codec_run(&pd_codec_v1, s, missing_ok, "application/json", body, max_rows, rows,
                     err);
}

static void expect_err_s(const pd_model_schema_t *s, const char *body, int missing_ok,
                         size_t max_rows, int status, const char *want)
{
    codec_expect_err(&pd_codec_v1, s, "application/json", body, missing_ok, max_rows, status,
                     want);
}

static void expect_err(const char *body, int missing_ok, int status, const char *want)
{
    expect_err_s(&iris, body, missing_ok, 0, status, want);
}

static void expect_rows_s(const pd_model_schema_t *s, const char *body, int missing_ok,
                          size_t n, const double *want)
{
    codec_expect_rows(&pd_codec_v1, s, "application/json", body, missing_ok, n, want);
}

static void expect_rows(const char *body, int missing_ok, size_t n, const double *want)
{
    expect_rows_s(&iris, body, missing_ok, n, want);
}

/* KServe's sklearn iris example and TF Serving's row format. */
static void test_instances_lists(void **state)
{
    (void)state;
    const double want[] = {6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6};
    expect_rows("{\"instances\": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}", 0, 2, want);
    expect_rows("{\"signature_name\": \"serving_default\", \"instances\": "
                "[[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}", 0, 2, want);
    expect_rows(" \r\n\t{\"instances\":[[6.8,2.8,4.8,1.4],[6.0,3.4,4.5,1.6]]} \n", 0, 2, want);
    expect_rows("\xEF\xBB\xBF{\"instances\":[[6.8,2.8,4.8,1.4],[6.0,3.4,4.5,1.6]]}", 0, 2, want);
    /* other keys, whatever they hold, are skipped */
    expect_rows("{\"x\": {\"y\": [1, {\"z\": null}]}, \"instances\": [[6.8, 2.8, 4.8, 1.4], "
                "[6.0, 3.4, 4.5, 1.6]], \"parameters\": {}}", 0, 2, want);
}

static void test_instances_objects(void **state)
{
    (void)state;
    const double want[] = {6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6};
    expect_rows("{\"instances\": [{\"sepal_length\": 6.8, \"sepal_width\": 2.8, "
                "\"petal_length\": 4.8, \"petal_width\": 1.4}, {\"petal_width\": 1.6, "
                "\"petal_length\": 4.5, \"sepal_width\": 3.4, \"sepal_length\": 6.0}]}",
                0, 2, want);
    /* a list and an object may be mixed; escaped keys match; the last duplicate wins */
    expect_rows("{\"instances\": [[6.8, 2.8, 4.8, 1.4], {\"sepal_\\u006cength\": 1, "
                "\"sepal_length\": 6.0, \"sepal_width\": 3.4, \"petal_length\": 4.5, "
                "\"petal_width\": 1.6}]}", 0, 2, want);
}

/* TF Serving's "inputs": a list is rows, an object is one column per feature. */
static void test_inputs(void **state)
{
    (void)state;
    const double want[] = {6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6};
    expect_rows("{\"inputs\": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}", 0, 2, want);
    expect_rows("{\"inputs\": {\"petal_width\": [1.4, 1.6], \"sepal_length\": [6.8, 6.0], "
                "\"sepal_width\": [2.8, 3.4], \"petal_length\": [4.8, 4.5]}}", 0, 2, want);
    const double one[] = {1, 2, 3, 4};
    expect_rows("{\"inputs\": {\"sepal_length\": 1, \"sepal_width\": 2, \"petal_length\": 3, "
                "\"petal_width\": 4}}", 0, 1, one);
    /* a repeated key: the last one wins */
    expect_rows("{\"inputs\": [[9, 9, 9, 9]], \"inputs\": [[1, 2, 3, 4]]}", 0, 1, one);
}

/* Numbers decode as Python's float() does (correctly rounded); booleans are 1/0. */
static void test_numbers(void **state)
{
    (void)state;
    /* "-0" is the integer 0 for Python (float(int("-0")) == 0.0); "-0.0" keeps its sign */
    const double want[] = {0.1, 1e-7, 123456789012345678901234567890.0, 0.0,
                           2.2250738585072014e-308, 4.9406564584124654e-324, 1, 0,
                           9007199254740993.0, 0.30000000000000004, 1.7976931348623157e308,
                           -12.5, -0.0, 0.5, 100, 1e-300};
    expect_rows("{\"instances\": [[0.1, 1e-7, 123456789012345678901234567890, -0],"
                "[2.2250738585072014e-308, 5e-324, true, false],"
                "[9007199254740993, 0.30000000000000004, 1.7976931348623157e308, -1.25E1],"
                "[-0.0, 5E-1, 1e+2, 1e-300]]}",
                0, 4, want);
    /* a long literal (heap path of the converter) */
    char body[1200];
    int k = snprintf(body, sizeof body, "{\"instances\": [[0.");
    for (int i = 0; i < 1000; i++)
        body[k++] = '1';
    snprintf(body + k, sizeof body - (size_t)k, ", 1, 2, 3]]}");
    const double longw[] = {0.11111111111111111, 1, 2, 3};
    expect_rows(body, 0, 1, longw);
}

/* Random decimals of every length and exponent decode to strtod's double, bit for bit:
 * the short ones take the codecs' fast path, the others strtod. */
static void test_numbers_random(void **state)
{
    (void)state;
    enum { N = 4 * 5000 };
    pd_buf_t body = PD_BUF_INIT;
    double *want = malloc(N * sizeof *want);
    assert_non_null(want);
    srand(12345);
    pd_buf_puts(&body, "{\"instances\": [");
    for (int i = 0; i < N; i++) {
        char num[80];
        int k = 0, digits = 1 + rand() % 20, point = rand() % (digits + 1);
        if (rand() % 2)
            num[k++] = '-';
        for (int d = 0; d < digits; d++) {
            if (d == point && d > 0)
                num[k++] = '.';
            num[k++] = (char)('0' + (d == 0 && digits > 1 ? 1 + rand() % 9 : rand() % 10));
        }
        if (rand() % 3 == 0)
            k += sprintf(num + k, "e%d", rand() % 70 - 35);
        num[k] = '\0';
        want[i] = strtod(num, NULL);
        if (strpbrk(num, ".e") == NULL && want[i] == 0)
            want[i] = 0.0; /* an integer zero is +0.0 */
        pd_buf_printf(&body, "%s%s%s%s", i % 4 ? "" : i ? "], [" : "[", i % 4 ? ", " : "", num,
                      i == N - 1 ? "]]}" : "");
    }
    expect_rows(body.data, 0, N / 4, want);
    pd_buf_free(&body);
    free(want);
}

static void test_missing_values(void **state)
{
    (void)state;
    const double want[] = {NAN, 2, NAN, NAN, 5, NAN, 7, 8};
    expect_rows("{\"instances\": [[null, 2, NaN, null], {\"sepal_length\": 5, "
                "\"petal_length\": 7, \"petal_width\": 8}]}", 1, 2, want);
    const double col[] = {NAN, 2, 3, 4};
    expect_rows("{\"inputs\": {\"sepal_width\": [2], \"petal_length\": [3], "
                "\"petal_width\": [4]}}", 1, 1, col);
    expect_err("{\"instances\": [[1, 2, 3, 4], [1, null, 3, 4]]}", 0, 400,
               "{\"error\":\"instance 1: feature 'sepal_width' is null and the model takes "
               "no missing values\"}");
    expect_err("{\"instances\": [[NaN, 2, 3, 4]]}", 0, 400,
               "{\"error\":\"instance 0: feature 'sepal_length' is NaN and the model takes "
               "no missing values\"}");
    expect_err("{\"instances\": [{\"sepal_length\": 1, \"sepal_width\": 2, "
               "\"petal_width\": 4}]}", 0, 400,
               "{\"error\":\"instance 0: missing feature 'petal_length'\"}");
    expect_err("{\"inputs\": {\"sepal_length\": [1], \"sepal_width\": [2], "
               "\"petal_width\": [4]}}", 0, 400,
               "{\"error\":\"\\\"inputs\\\": missing feature 'petal_length'\"}");
}

static void test_value_errors(void **state)
{
    (void)state;
    expect_err("{\"instances\": [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2]]}", 0, 400,
               "{\"error\":\"instance 3: expected 4 values, got 2\"}");
    expect_err("{\"instances\": [[1, 2, 3, 4, 5, [6], {\"a\": 7}]]}", 0, 400,
               "{\"error\":\"instance 0: expected 4 values, got 7\"}");
    expect_err("{\"instances\": [[\"1.5\", 2, 3, 4]]}", 0, 400,
               "{\"error\":\"instance 0: feature 'sepal_length' is not a number (got a "
               "string)\"}");
    expect_err("{\"instances\": [{\"sepal_length\": 1, \"sepal_width\": [2]}]}", 0, 400,
               "{\"error\":\"instance 0: feature 'sepal_width' is not a number (got a "
               "list)\"}");
    expect_err("{\"instances\": [[1, 2, {}, 4]]}", 0, 400,
               "{\"error\":\"instance 0: feature 'petal_length' is not a number (got an "
               "object)\"}");
    expect_err("{\"instances\": [[1, 2, 3, Infinity]]}", 1, 400,
               "{\"error\":\"instance 0: feature 'petal_width' is not a finite number\"}");
    expect_err("{\"instances\": [[1, -Infinity, 3, 4]]}", 1, 400,
               "{\"error\":\"instance 0: feature 'sepal_width' is not a finite number\"}");
    expect_err("{\"instances\": [[1, 2, 3, 1e400]]}", 0, 400,
               "{\"error\":\"instance 0: feature 'petal_width' is not a finite number\"}");
    expect_err("{\"instances\": [{\"sepal_length\": 1, \"colour\": 2}]}", 1, 400,
               "{\"error\":\"instance 0: unknown feature 'colour'\"}");
    expect_err("{\"instances\": [[1, 2, 3, 4], \"x\"]}", 0, 400,
               "{\"error\":\"instance 1: expected a list of values or an object of features, "
               "got a string\"}");
    expect_err("{\"instances\": [5]}", 0, 400,
               "{\"error\":\"instance 0: expected a list of values or an object of features, "
               "got a number\"}");
    /* a key quoted in a message is cut, and made valid UTF-8 (a lone surrogate) */
    expect_err("{\"instances\": [{\"\\ud800\\\"x\": 1}]}", 0, 400,
               "{\"error\":\"instance 0: unknown feature '\xEF\xBF\xBD\\\"x'\"}");
}

static void test_body_errors(void **state)
{
    (void)state;
    expect_err("{\"instance\": [[1, 2, 3, 4]]}", 0, 400,
               "{\"error\":\"body: missing \\\"instances\\\"\"}");
    expect_err("[[1, 2, 3, 4]]", 0, 400,
               "{\"error\":\"body: expected a JSON object with \\\"instances\\\", got a list\"}");
    expect_err("{\"instances\": {\"sepal_length\": [1]}}", 0, 400,
               "{\"error\":\"body: \\\"instances\\\" must be a list, got an object\"}");
    expect_err("{\"inputs\": 3}", 0, 400,
               "{\"error\":\"body: \\\"inputs\\\" must be a list or an object, got a number\"}");
    expect_err("{\"instances\": [[1, 2, 3, 4]], \"inputs\": [[1, 2, 3, 4]]}", 0, 400,
               "{\"error\":\"body: use \\\"instances\\\" or \\\"inputs\\\", not both\"}");
    expect_err("{\"instances\": []}", 0, 400,
               "{\"error\":\"\\\"instances\\\" is empty\"}");
    expect_err("{\"inputs\": {\"sepal_length\": [1, 2], \"sepal_width\": [1]}}", 1, 400,
               "{\"error\":\"\\\"inputs\\\": feature 'sepal_width' has 1 values, "
               "'sepal_length' has 2\"}");
    expect_err("{\"inputs\": {\"sepal_length\": [1], \"sepal_width\": [1, 2, [3]]}}", 1, 400,
               "{\"error\":\"\\\"inputs\\\": feature 'sepal_width' has 3 values, "
               "'sepal_length' has 1\"}");
    expect_err("{\"inputs\": {\"sepal_length\": {}}}", 1, 400,
               "{\"error\":\"\\\"inputs\\\": feature 'sepal_length': expected a list of "
               "values, got an object\"}");
    expect_err("{\"inputs\": {\"size\": [1]}}", 1, 400,
               "{\"error\":\"\\\"inputs\\\": unknown feature 'size'\"}");
    expect_err("{\"inputs\": {}}", 1, 400,
               "{\"error\":\"\\\"inputs\\\" names no feature of the model\"}");
    expect_err("{\"inputs\": {\"sepal_length\": []}}", 1, 400,
               "{\"error\":\"\\\"inputs\\\" is empty\"}");
}

static void test_json_errors(void **state)
{
    (void)state;
    expect_err("", 0, 400,
               "{\"error\":\"body: invalid JSON: Expecting value at byte 0 (line 1, column 1)\"}");
    expect_err("{\"instances\": [[1, 2, 3, 4] [5]]}", 0, 400,
               "{\"error\":\"body: invalid JSON: Expecting ',' delimiter at byte 28 (line 1, "
               "column 29)\"}");
    expect_err("{\"instances\": [[1, 2, 3, 4]]}\n{}", 0, 400,
               "{\"error\":\"body: invalid JSON: Extra data at byte 30 (line 2, column 1)\"}");
    expect_err("{\"instances\": [[1, 2, 3, 4]]", 0, 400,
               "{\"error\":\"body: invalid JSON: Expecting ',' delimiter at byte 28 (line 1, "
               "column 29)\"}");
    expect_err("{\"x\": \"\xff\", \"instances\": [[1, 2, 3, 4]]}", 0, 400,
               "{\"error\":\"body: invalid JSON: invalid UTF-8 at byte 7 (line 1, column 8)\"}");
    expect_err("{'instances': []}", 0, 400,
               "{\"error\":\"body: invalid JSON: Expecting property name enclosed in double "
               "quotes at byte 1 (line 1, column 2)\"}");
    /* the whole document is parsed before it is read (as KServe's server does): a syntax
     * error after a bad instance wins, and so does naming both keys */
    expect_err("{\"instances\": [[\"x\", 2, 3, 4]], \"y\": [}", 0, 400,
               "{\"error\":\"body: invalid JSON: Expecting value at byte 38 (line 1, "
               "column 39)\"}");
    expect_err("{\"instances\": [[1, 2]], \"inputs\": [[1, 2, 3, 4]]}", 0, 400,
               "{\"error\":\"body: use \\\"instances\\\" or \\\"inputs\\\", not both\"}");
    /* nesting inside a skipped key is walked without recursion, bounded */
    char *deep = malloc(3000);
    assert_non_null(deep);
    int k = sprintf(deep, "{\"x\": ");
    for (int i = 0; i < 1000; i++)
        deep[k++] = '[';
    deep[k] = '\0';
    expect_err(deep, 0, 400,
               "{\"error\":\"body: invalid JSON: nesting too deep at byte 980 (line 1, "
               "column 981)\"}");
    free(deep);
    char *digits = malloc(5000);
    assert_non_null(digits);
    k = sprintf(digits, "{\"instances\": [[");
    for (int i = 0; i < 4301; i++)
        digits[k++] = '7';
    sprintf(digits + k, ", 1, 2, 3]]}");
    expect_err(digits, 0, 400,
               "{\"error\":\"body: invalid JSON: integer with too many digits at byte 16 "
               "(line 1, column 17)\"}");
    free(digits);
}

/* More than rows->max_rows rows: 413, in every shape; exactly max_rows is fine. */
static void test_max_rows(void **state)
{
    (void)state;
    const char *three = "{\"instances\": [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]}";
    expect_err_s(&iris, three, 0, 2, 413,
                 "{\"error\":\"\\\"instances\\\": more than 2 rows, the server's limit\"}");
    expect_err_s(&iris, "{\"inputs\": {\"sepal_length\": [1, 2, 3]}}", 1, 2, 413,
                 "{\"error\":\"\\\"inputs\\\": more than 2 rows, the server's limit\"}");
    pd_rows_t rows;
    pd_buf_t err;
    assert_int_equal(run(&iris, 0, three, 3, &rows, &err), 0);
    assert_int_equal(rows.n_rows, 3);
    pd_rows_free(&rows);
    pd_buf_free(&err);
}

/* A model wider than the linear-match limit: keys found through the hash index, in any
 * order; a 10,000-row body decodes in one pass. */
static void test_wide_and_big(void **state)
{
    (void)state;
    enum { NF = 40, NR = 10000 };
    static char names_buf[NF][16];
    const char *names[NF];
    for (int j = 0; j < NF; j++) {
        snprintf(names_buf[j], sizeof names_buf[j], "f%02d", j);
        names[j] = names_buf[j];
    }
    pd_model_schema_t wide = {.name = "wide", .task = PD_TASK_REGRESSION, .n_features = NF,
                              .feature_names = names};
    pd_buf_t body = PD_BUF_INIT;
    assert_int_equal(pd_buf_puts(&body, "{\"instances\": ["), 0);
    for (int i = 0; i < NR; i++) {
        pd_buf_puts(&body, i ? ", {" : "{");
        for (int j = NF - 1; j >= 0; j--) /* reverse order: the hint never helps */
            pd_buf_printf(&body, "\"f%02d\": %d.5%s", j, i * NF + j, j ? ", " : "");
        pd_buf_puts(&body, "}");
    }
    pd_buf_puts(&body, "]}");
    pd_rows_t rows;
    pd_buf_t err;
    assert_int_equal(run(&wide, 0, body.data, PD_ROWS_DEFAULT_MAX, &rows, &err), 0);
    assert_int_equal(rows.n_rows, NR);
    for (int i = 0; i < NR; i += 997)
        for (int j = 0; j < NF; j++)
            assert_true(rows.x[i * NF + j] == i * NF + j + 0.5);
    pd_rows_free(&rows);
    pd_buf_free(&err);
    pd_buf_free(&body);
    expect_err_s(&wide, "{\"instances\": [{\"f00\": 1, \"f41\": 2}]}", 0, 0, 400,
                 "{\"error\":\"instance 0: unknown feature 'f41'\"}");
    expect_err_s(&wide, "{\"instances\": [{\"f00\": 1}]}", 0, 0, 400,
                 "{\"error\":\"instance 0: missing feature 'f01'\"}");
}

/* Results of n rows into rows, through pd_rows_results. */
static void fill(pd_rows_t *rows, size_t n, unsigned outputs, size_t n_classes)
{
    pd_rows_init(rows, 4, 0);
    assert_int_equal(pd_rows_resize(rows, n), 0);
    rows->outputs = outputs;
    assert_int_equal(pd_rows_results(rows, n_classes), 0);
}

static void expect_encode(const pd_model_schema_t *s, const pd_rows_t *rows, const char *want)
{
    codec_expect_encode(&pd_codec_v1, s, rows, want);
}

static void test_encode(void **state)
{
    (void)state;
    pd_rows_t rows;
    fill(&rows, 3, PD_OUT_LABEL, 3);
    rows.cls[0] = 1, rows.cls[1] = 0, rows.cls[2] = 2;
    expect_encode(&iris, &rows, "{\"predictions\":[1,0,2]}");
    const int64_t big[] = {-5, 4000000000LL, 7};
    pd_model_schema_t s = iris;
    s.class_labels_int = big;
    expect_encode(&s, &rows, "{\"predictions\":[4000000000,-5,7]}");
    const char *const str[] = {"setosa", "versi\"color\"", "vïrginica"};
    s.labels_are_strings = 1;
    s.class_labels_str = str;
    s.class_labels_int = NULL;
    expect_encode(&s, &rows, "{\"predictions\":[\"versi\\\"color\\\"\",\"setosa\",\"vïrginica\"]}");
    rows.cls[2] = 3; /* out of range */
    pd_buf_t out = PD_BUF_INIT;
    assert_int_equal(pd_codec_v1.encode(&s, &rows, &out), PD_EINVAL);
    pd_buf_free(&out);
    pd_rows_free(&rows);

    fill(&rows, 2, PD_OUT_PROBA, 3);
    const double p[] = {0.1, 0.7, 0.2, 1.0, 0.0, 1e-7};
    memcpy(rows.proba, p, sizeof p);
    expect_encode(&iris, &rows, "{\"predictions\":[[0.1,0.7,0.2],[1.0,0.0,1e-07]]}");
    rows.outputs = PD_OUT_LABEL | PD_OUT_PROBA; /* ?outputs=predict_proba: beside the labels */
    rows.cls[0] = 2, rows.cls[1] = 0;
    expect_encode(&iris, &rows, "{\"predictions\":[2,0],\"predict_proba\":[[0.1,0.7,0.2],"
                                "[1.0,0.0,1e-07]]}");
    rows.proba[4] = NAN;
    assert_int_equal(pd_codec_v1.encode(&iris, &rows, &out), PD_EINVAL);
    pd_buf_free(&out);
    pd_rows_free(&rows);

    pd_model_schema_t reg = {.name = "r", .task = PD_TASK_REGRESSION, .n_features = 4,
                             .feature_names = IRIS};
    fill(&rows, 5, PD_OUT_LABEL, 0);
    const double v[] = {0.1, 3.0, 1e16, -2.5e-7, 123456.789};
    memcpy(rows.val, v, sizeof v);
    expect_encode(&reg, &rows, "{\"predictions\":[0.1,3.0,1e+16,-2.5e-07,123456.789]}");
    rows.val[1] = INFINITY;
    assert_int_equal(pd_codec_v1.encode(&reg, &rows, &out), PD_EINVAL);
    pd_buf_free(&out);
    pd_rows_free(&rows);
}

static void test_error_body(void **state)
{
    (void)state;
    pd_buf_t out = PD_BUF_INIT;
    assert_int_equal(pd_codec_v1.error(503, "the model's queue is full", &out), 0);
    assert_string_equal(out.data, "{\"error\":\"the model's queue is full\"}");
    pd_buf_reset(&out);
    assert_int_equal(pd_codec_v1.error(404, "model \"x\"\nnot found", &out), 0);
    assert_string_equal(out.data, "{\"error\":\"model \\\"x\\\"\\nnot found\"}");
    pd_buf_free(&out);
    assert_string_equal(pd_codec_v1.name, "v1");
    assert_string_equal(pd_codec_v1.content_type, "application/json");
}

static void test_mutations(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "{\"instances\": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}",
        ("{\"instances\": [{\"sepal_length\": 6.8, \"sepal_width\": 2.8, \"petal_length\": 4.8, "
         "\"petal_width\": null}]}"),
        ("{\"inputs\": {\"sepal_length\": [1, 2], \"sepal_width\": [3, 4], \"petal_length\": [5, 6], "
         "\"petal_width\": [7, 8]}, \"signature_name\": \"x\"}"),
        "{\"inputs\": [[1e5, -2, true, false]]}",
    };
    mutate_all(&pd_codec_v1, &iris, "application/json", seeds, 4, 40000, "error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_instances_lists),
        cmocka_unit_test(test_instances_objects),
        cmocka_unit_test(test_inputs),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_numbers_random),
        cmocka_unit_test(test_missing_values),
        cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_body_errors),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_max_rows),
        cmocka_unit_test(test_wide_and_big),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_error_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
