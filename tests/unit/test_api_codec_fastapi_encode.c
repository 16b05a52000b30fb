/* test_api_codec_fastapi_encode.c - pd_codec_fastapi's encode and error (src/api/
 * codec_fastapi.c): {"prediction": ...} / {"predictions": [...]} for labels (integer and
 * string classes) and regression values, {"probabilities": ...} for one row and for lists,
 * both members together, compact and formatted as FastAPI's JSONResponse renders them
 * (floats as Python's repr, strings as json.dumps with ensure_ascii=False); what cannot be
 * written (a non-finite value, a class out of range) fails and leaves the buffer as it was.
 * tests/fuzz/diff_list_vs_fastapi.py compares the same against the real FastAPI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "api/codec.h"
#include "common.h"

static const int64_t INT_LABELS[] = {0, 1, -7};
static const char *const STR_LABELS[] = {"setosa", "caf\xc3\xa9 \"q\"", "a\\b\n"};

/* Results of n rows: classes cls (or values val), probabilities proba (n * 3). */
static int encode(const pd_model_schema_t *s, int single, unsigned outputs, size_t n,
                  const int32_t *cls, const double *val, const double *proba, pd_buf_t *out)
{
    pd_rows_t r;
    pd_rows_init(&r, 1, 0);
    r.outputs = outputs;
    assert_int_equal(pd_rows_resize(&r, n), 0);
    assert_int_equal(pd_rows_results(&r, s->n_classes), 0);
    r.single = single;
    for (size_t i = 0; i < n; i++) {
        r.cls[i] = cls ? cls[i] : 0;
        r.val[i] = val ? val[i] : 0;
    }
    if (proba)
        memcpy(r.proba, proba, n * s->n_classes * sizeof(double));
    pd_buf_reset(out);
    int rc = pd_codec_fastapi.encode(s, &r, out);
    pd_rows_free(&r);
    return rc;
}

static void test_encode_labels_and_values(void **state)
{
    (void)state;
    pd_model_schema_t ci = {.task = PD_TASK_CLASSIFICATION, .n_classes = 3,
                            .class_labels_int = INT_LABELS};
    pd_model_schema_t cs = {.task = PD_TASK_CLASSIFICATION, .n_classes = 3,
                            .labels_are_strings = 1, .class_labels_str = STR_LABELS};
    pd_model_schema_t rg = {.task = PD_TASK_REGRESSION};
    pd_buf_t out = PD_BUF_INIT;
    const int32_t cls[] = {2, 0, 1};
    const double val[] = {0.1, -0.0, 1e16, 1e-7, 3.0};
    assert_int_equal(encode(&ci, 1, PD_OUT_LABEL, 1, cls, NULL, NULL, &out), 0);
    assert_string_equal(out.data, "{\"prediction\":-7}");
    assert_int_equal(encode(&ci, 0, PD_OUT_LABEL, 3, cls, NULL, NULL, &out), 0);
    assert_string_equal(out.data, "{\"predictions\":[-7,0,1]}");
    assert_int_equal(encode(&cs, 1, PD_OUT_LABEL, 1, cls + 1, NULL, NULL, &out), 0);
    assert_string_equal(out.data, "{\"prediction\":\"setosa\"}");
    assert_int_equal(encode(&cs, 0, PD_OUT_LABEL, 3, cls, NULL, NULL, &out), 0);
    assert_string_equal(out.data, "{\"predictions\":[\"a\\\\b\\n\",\"setosa\","
                                  "\"caf\xc3\xa9 \\\"q\\\"\"]}");
    assert_int_equal(encode(&rg, 1, PD_OUT_LABEL, 1, NULL, val, NULL, &out), 0);
    assert_string_equal(out.data, "{\"prediction\":0.1}");
    assert_int_equal(encode(&rg, 0, PD_OUT_LABEL, 5, NULL, val, NULL, &out), 0);
    assert_string_equal(out.data, "{\"predictions\":[0.1,-0.0,1e+16,1e-07,3.0]}");
    assert_int_equal(encode(&rg, 0, PD_OUT_LABEL, 0, NULL, NULL, NULL, &out), 0);
    assert_string_equal(out.data, "{\"predictions\":[]}");
    /* what cannot be written leaves out as it was */
    const double bad[] = {1.0, NAN};
    const int32_t bad_cls[] = {3};
    pd_buf_reset(&out);
    assert_int_equal(pd_buf_puts(&out, "kept"), 0);
    pd_rows_t r;
    pd_rows_init(&r, 1, 0);
    assert_int_equal(pd_rows_resize(&r, 2), 0);
    assert_int_equal(pd_rows_results(&r, 0), 0);
    memcpy(r.val, bad, sizeof bad);
    assert_int_equal(pd_codec_fastapi.encode(&rg, &r, &out), PD_EINVAL);
    assert_string_equal(out.data, "kept");
    r.val[1] = INFINITY;
    r.single = 1; /* and one row announced with two rows present */
    assert_int_equal(pd_codec_fastapi.encode(&rg, &r, &out), PD_EINVAL);
    pd_rows_free(&r);
    assert_int_equal(encode(&ci, 1, PD_OUT_LABEL, 1, bad_cls, NULL, NULL, &out), PD_EINVAL);
    assert_int_equal(encode(&rg, 1, 0, 1, NULL, val, NULL, &out), PD_EINVAL);
    assert_int_equal(encode(&rg, 1, PD_OUT_PROBA, 1, NULL, val, NULL, &out), PD_EINVAL);
    pd_buf_free(&out);
}

static void test_encode_probabilities(void **state)
{
    (void)state;
    pd_model_schema_t ci = {.task = PD_TASK_CLASSIFICATION, .n_classes = 3,
                            .class_labels_int = INT_LABELS};
    pd_model_schema_t cs = {.task = PD_TASK_CLASSIFICATION, .n_classes = 3,
                            .labels_are_strings = 1, .class_labels_str = STR_LABELS};
    pd_buf_t out = PD_BUF_INIT;
    const int32_t cls[] = {1, 2};
    const double p[] = {0.25, 0.7, 0.05, 1.0, 0.0, 1e-20};
    assert_int_equal(encode(&ci, 1, PD_OUT_PROBA, 1, cls, NULL, p, &out), 0);
    assert_string_equal(out.data, "{\"probabilities\":{\"0\":0.25,\"1\":0.7,\"-7\":0.05}}");
    assert_int_equal(encode(&ci, 0, PD_OUT_PROBA, 2, cls, NULL, p, &out), 0);
    assert_string_equal(out.data, "{\"probabilities\":[{\"0\":0.25,\"1\":0.7,\"-7\":0.05},"
                                  "{\"0\":1.0,\"1\":0.0,\"-7\":1e-20}]}");
    assert_int_equal(encode(&cs, 1, PD_OUT_LABEL | PD_OUT_PROBA, 1, cls, NULL, p, &out), 0);
    assert_string_equal(out.data, "{\"prediction\":\"caf\xc3\xa9 \\\"q\\\"\",\"probabilities\":"
                                  "{\"setosa\":0.25,\"caf\xc3\xa9 \\\"q\\\"\":0.7,"
                                  "\"a\\\\b\\n\":0.05}}");
    assert_int_equal(encode(&ci, 0, PD_OUT_LABEL | PD_OUT_PROBA, 2, cls, NULL, p, &out), 0);
    assert_string_equal(out.data, "{\"predictions\":[1,-7],\"probabilities\":["
                                  "{\"0\":0.25,\"1\":0.7,\"-7\":0.05},"
                                  "{\"0\":1.0,\"1\":0.0,\"-7\":1e-20}]}");
    assert_int_equal(encode(&ci, 0, PD_OUT_PROBA, 0, NULL, NULL, NULL, &out), 0);
    assert_string_equal(out.data, "{\"probabilities\":[]}");
    const double nan_p[] = {0.5, NAN, 0.5};
    assert_int_equal(encode(&ci, 1, PD_OUT_PROBA, 1, cls, NULL, nan_p, &out), PD_EINVAL);
    pd_buf_free(&out);
}

static void test_error_body(void **state)
{
    (void)state;
    pd_buf_t out = PD_BUF_INIT;
    assert_int_equal(pd_buf_puts(&out, "x"), 0);
    assert_int_equal(pd_codec_fastapi.error(503, "the model's \"queue\" is full\n", &out), 0);
    assert_string_equal(out.data, "x{\"detail\":\"the model's \\\"queue\\\" is full\\n\"}");
    assert_string_equal(pd_codec_fastapi.name, "fastapi");
    assert_string_equal(pd_codec_fastapi.content_type, "application/json");
    pd_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_labels_and_values),
        cmocka_unit_test(test_encode_probabilities),
        cmocka_unit_test(test_error_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
