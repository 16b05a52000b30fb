/* test_api_codec_v2_encode.c - pd_codec_v2's answers, byte for byte: labels as INT64
 * (integer classes), BYTES (string classes) and FP64 (regressors), probabilities, the
 * outputs asked for in their order (all that apply when none is named), the id echoed
 * as sent, model name and version, binary outputs (little-endian, BYTES length-prefixed)
 * after the JSON part with the answer's Content-Type and Inference-Header-Content-Length,
 * and the error body. */
#include "test_api_codec_v2_fixture.h"

/* Decodes request `body` for s, fills the results (labels cls[], values val[], proba[]),
 * encodes; returns the answer in out (caller frees) and what encode said in *reply. */
static void roundtrip(const pd_model_schema_t *s, const char *body, const int32_t *cls,
                      const double *val, const double *proba, pd_buf_t *out,
                      pd_rows_reply_t *reply)
{
    pd_rows_t rows;
    pd_buf_t err;
    int rc = v2_run(s, 0, NULL, body, strlen(body), 0, &rows, &err);
    if (rc != 0)
        fail_msg("decode %s: %d %s", body, rc, err.data ? err.data : "");
    assert_int_equal(pd_rows_results(&rows, s->n_classes), 0);
    for (size_t i = 0; i < rows.n_rows; i++) {
        rows.cls[i] = cls ? cls[i] : 0;
        rows.val[i] = val ? val[i] : 0;
    }
    if (rows.proba && proba)
        memcpy(rows.proba, proba, rows.n_rows * s->n_classes * sizeof *proba);
    memset(reply, 0, sizeof *reply);
    rows.reply = reply;
    pd_buf_init(out, 0);
    assert_int_equal(pd_codec_v2.encode(s, &rows, out), 0);
    pd_rows_free(&rows);
    pd_buf_free(&err);
}

static void expect_json(const pd_model_schema_t *s, const char *body, const int32_t *cls,
                        const double *val, const double *proba, const char *want)
{
    pd_buf_t out;
    pd_rows_reply_t reply;
    roundtrip(s, body, cls, val, proba, &out, &reply);
    if (strcmp(out.data, want) != 0)
        fail_msg("body %s\n got  %s\n want %s", body, out.data, want);
    assert_null(reply.content_type);
    assert_string_equal(reply.headers, "");
    pd_buf_free(&out);
}

#define TWO_ROWS "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,4],\"datatype\":\"FP64\"," \
                 "\"data\":[1,2,3,4,5,6,7,8]}]"

static const int32_t CLS[] = {2, 0};
static const double PROBA[] = {0.1, 0.2, 0.7, 0.9, 0.05, 0.05};

static void test_classifier_json(void **state)
{
    (void)state;
    /* none asked for: predict then predict_proba */
    expect_json(&iris, TWO_ROWS "}", CLS, NULL, PROBA,
                "{\"model_name\":\"served\",\"model_version\":\"3\",\"outputs\":["
                "{\"name\":\"predict\",\"datatype\":\"INT64\",\"shape\":[2],\"data\":[2,0]},"
                "{\"name\":\"predict_proba\",\"datatype\":\"FP64\",\"shape\":[2,3],\"data\":"
                "[0.1,0.2,0.7,0.9,0.05,0.05]}]}");
    /* asked for in this order; the id echoed exactly as sent (escapes kept) */
    expect_json(&iris, TWO_ROWS ",\"id\":\"r\\u00e9q \\\"1\\\"\",\"outputs\":[{\"name\":"
                "\"predict_proba\"},{\"name\":\"predict\"}]}", CLS, NULL, PROBA,
                "{\"model_name\":\"served\",\"model_version\":\"3\",\"id\":\"r\\u00e9q "
                "\\\"1\\\"\",\"outputs\":[{\"name\":\"predict_proba\",\"datatype\":\"FP64\","
                "\"shape\":[2,3],\"data\":[0.1,0.2,0.7,0.9,0.05,0.05]},{\"name\":\"predict\","
                "\"datatype\":\"INT64\",\"shape\":[2],\"data\":[2,0]}]}");
    expect_json(&iris_str, TWO_ROWS ",\"outputs\":[{\"name\":\"predict\"}]}", CLS, NULL, NULL,
                "{\"model_name\":\"served\",\"model_version\":\"3\",\"outputs\":[{\"name\":"
                "\"predict\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"virginica\","
                "\"setosa\"]}]}");
}

static void test_regressor_json(void **state)
{
    (void)state;
    const double val[] = {152.13348416289594, -0.0};
    expect_json(&reg2, "{\"inputs\":[{\"name\":\"a\",\"shape\":[2],\"datatype\":\"FP64\","
                "\"data\":[1,2]},{\"name\":\"b\",\"shape\":[2],\"datatype\":\"FP64\","
                "\"data\":[1,2]}],\"id\":\"\"}", NULL, val, NULL,
                "{\"model_name\":\"served\",\"model_version\":\"3\",\"id\":\"\",\"outputs\":["
                "{\"name\":\"predict\",\"datatype\":\"FP64\",\"shape\":[2],\"data\":"
                "[152.13348416289594,-0.0]}]}");
    /* a non-finite value cannot be JSON: the pipeline answers 500 */
    pd_rows_t rows;
    pd_buf_t err, out;
    const char *body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\","
                       "\"data\":[1,2]}]}";
    assert_int_equal(v2_run(&reg2, 0, NULL, body, strlen(body), 0, &rows, &err), 0);
    assert_int_equal(pd_rows_results(&rows, 0), 0);
    rows.val[0] = NAN;
    pd_buf_init(&out, 0);
    assert_int_equal(pd_codec_v2.encode(&reg2, &rows, &out), PD_EINVAL);
    pd_buf_free(&out);
    pd_rows_free(&rows);
    pd_buf_free(&err);
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Binary outputs, as Triton's client asks for them: JSON part, then the bytes. */
static void test_binary_outputs(void **state)
{
    (void)state;
    pd_buf_t out;
    pd_rows_reply_t reply;
    /* binary_data_output for all, predict_proba asked for as JSON by its own parameter */
    roundtrip(&iris, TWO_ROWS ",\"parameters\":{\"binary_data_output\":true},\"outputs\":["
              "{\"name\":\"predict\"},{\"name\":\"predict_proba\",\"parameters\":{\"binary_data\":"
              "false}}]}", CLS, NULL, PROBA, &out, &reply);
    const char *want = "{\"model_name\":\"served\",\"model_version\":\"3\",\"outputs\":[{\"name\":"
                       "\"predict\",\"datatype\":\"INT64\",\"shape\":[2],\"parameters\":{"
                       "\"binary_data_size\":16}},{\"name\":\"predict_proba\",\"datatype\":"
                       "\"FP64\",\"shape\":[2,3],\"data\":[0.1,0.2,0.7,0.9,0.05,0.05]}]}";
    size_t j = strlen(want);
    assert_int_equal(out.len, j + 16);
    assert_memory_equal(out.data, want, j);
    assert_true(rd64((unsigned char *)out.data + j) == 2 && rd64((unsigned char *)out.data + j + 8) == 0);
    assert_string_equal(reply.content_type, "application/octet-stream");
    char h[64];
    snprintf(h, sizeof h, "Inference-Header-Content-Length: %zu\r\n", j);
    assert_string_equal(reply.headers, h);
    pd_buf_free(&out);

    /* string labels: a 4-byte length, then the bytes; probabilities as doubles */
    roundtrip(&iris_str, TWO_ROWS ",\"outputs\":[{\"name\":\"predict_proba\",\"parameters\":"
              "{\"binary_data\":true}},{\"name\":\"predict\",\"parameters\":{\"binary_data\":"
              "true}}]}", CLS, NULL, PROBA, &out, &reply);
    want = "{\"model_name\":\"served\",\"model_version\":\"3\",\"outputs\":[{\"name\":"
           "\"predict_proba\",\"datatype\":\"FP64\",\"shape\":[2,3],\"parameters\":{"
           "\"binary_data_size\":48}},{\"name\":\"predict\",\"datatype\":\"BYTES\",\"shape\":[2],"
           "\"parameters\":{\"binary_data_size\":23}}]}";
    j = strlen(want);
    assert_int_equal(out.len, j + 48 + 23);
    assert_memory_equal(out.data, want, j);
    for (int i = 0; i < 6; i++) {
        uint64_t w = rd64((unsigned char *)out.data + j + 8 * i);
        double d;
        memcpy(&d, &w, 8);
        assert_true(d == PROBA[i]);
    }
    assert_memory_equal(out.data + j + 48, "\x09\0\0\0virginica\x06\0\0\0setosa", 23);
    pd_buf_free(&out);

    /* a regressor's values, bit for bit (NaN is fine in binary) */
    const double val[] = {-1.5, NAN};
    roundtrip(&reg2, "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP64\","
              "\"data\":[1,2,3,4]}],\"parameters\":{\"binary_data_output\":true}}", NULL, val,
              NULL, &out, &reply);
    j = out.len - 16;
    assert_memory_equal(out.data, "{\"model_name\":\"served\",\"model_version\":\"3\",\"outputs\""
                        ":[{\"name\":\"predict\",\"datatype\":\"FP64\",\"shape\":[2],\"parameters"
                        "\":{\"binary_data_size\":16}}]}", j);
    uint64_t w0 = rd64((unsigned char *)out.data + j), w1 = rd64((unsigned char *)out.data + j + 8);
    uint64_t e0, e1;
    memcpy(&e0, &val[0], 8);
    memcpy(&e1, &val[1], 8);
    assert_true(w0 == e0 && w1 == e1);
    pd_buf_free(&out);
}

/* Zero rows: empty tensors. */
static void test_empty_batch(void **state)
{
    (void)state;
    expect_json(&iris, "{\"inputs\":[{\"name\":\"x\",\"shape\":[0,4],\"datatype\":\"FP32\","
                "\"data\":[]}]}", NULL, NULL, NULL,
                "{\"model_name\":\"served\",\"model_version\":\"3\",\"outputs\":[{\"name\":"
                "\"predict\",\"datatype\":\"INT64\",\"shape\":[0],\"data\":[]},{\"name\":"
                "\"predict_proba\",\"datatype\":\"FP64\",\"shape\":[0,3],\"data\":[]}]}");
}

/* Errors are {"error": message}, whatever the status; encode without a V2 decode fails. */
static void test_error_body(void **state)
{
    (void)state;
    pd_buf_t out;
    pd_buf_init(&out, 0);
    assert_int_equal(pd_codec_v2.error(503, "the model's queue is full", &out), 0);
    assert_string_equal(out.data, "{\"error\":\"the model's queue is full\"}");
    pd_buf_reset(&out);
    assert_int_equal(pd_codec_v2.error(404, "no \"x\"\n", &out), 0);
    assert_string_equal(out.data, "{\"error\":\"no \\\"x\\\"\\n\"}");
    pd_rows_t rows;
    pd_rows_init(&rows, 2, 0);
    assert_int_equal(pd_codec_v2.encode(&reg2, &rows, &out), PD_EINVAL);
    pd_rows_free(&rows);
    pd_buf_free(&out);
    assert_string_equal(pd_codec_v2.request_header, "Inference-Header-Content-Length");
    assert_string_equal(pd_codec_v2.content_type, "application/json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classifier_json),
        cmocka_unit_test(test_regressor_json),
        cmocka_unit_test(test_binary_outputs),
        cmocka_unit_test(test_empty_batch),
        cmocka_unit_test(test_error_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
