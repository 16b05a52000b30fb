/* test_api_codec_outputs.c - choosing a model's outputs per request (api/codec_outputs.h):
 * names looked up in the schema, the `outputs` query parameter (repeated, comma lists,
 * percent-encoding, blanks, the errors with the model's outputs listed), the result
 * buffers of named outputs (api/rows.h), and each codec's answer with them: FastAPI-style
 * (the parameter replaces the route's outputs; 422 in FastAPI's shape), V1 and MLflow
 * (outputs beside "predictions"), V2 (`outputs` in the body, JSON and binary, [N] and
 * [N, width] shapes). Byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "api/codec.h"
#include "api/codec_outputs.h"
#include "common.h"

static const char *const AB[] = {"a", "b"};
static const int64_t CLS3[] = {0, 1, 2};
/* An SVC without probabilities: decision_function (ovr) three wide, and a one-wide output. */
static const pd_model_output_t SVC_OUT[] = {
    {"decision_function", 3, "one score per class (ovr)"},
    {"score_samples", 1, "one score per row"},
};
static const pd_model_schema_t svc = {
    .name = "svc", .version = "1", .task = PD_TASK_CLASSIFICATION, .n_features = 2,
    .feature_names = AB, .n_classes = 3, .class_labels_int = CLS3, .proba_ok = 0,
    .n_outputs = 2, .outputs = SVC_OUT,
};
/* The same with probabilities. */
static const pd_model_schema_t svcp = {
    .name = "svcp", .version = "1", .task = PD_TASK_CLASSIFICATION, .n_features = 2,
    .feature_names = AB, .n_classes = 3, .class_labels_int = CLS3, .proba_ok = 1,
    .n_outputs = 2, .outputs = SVC_OUT,
};

/* ---- names and the query ---- */

static unsigned query_ok(const pd_model_schema_t *s, const char *q, int want_given)
{
    unsigned bits = 99;
    int given = -1;
    pd_buf_t msg = PD_BUF_INIT;
    int rc = pd__outputs_query(s, q, &bits, &given, &msg);
    if (rc != 0)
        fail_msg("query %s: %d %s", q, rc, msg.data ? msg.data : "");
    assert_int_equal(given, want_given);
    pd_buf_free(&msg);
    return bits;
}

static void query_err(const pd_model_schema_t *s, const char *q, const char *want)
{
    unsigned bits;
    int given;
    pd_buf_t msg = PD_BUF_INIT;
    int rc = pd__outputs_query(s, q, &bits, &given, &msg);
    if (rc != 400 || msg.data == NULL || strcmp(msg.data, want) != 0)
        fail_msg("query %s\n got  %d %s\n want 400 %s", q, rc, msg.data ? msg.data : "", want);
    pd_buf_free(&msg);
}

static void test_lookup(void **state)
{
    (void)state;
    assert_int_equal(pd__outputs_lookup(&svc, PD_LIT("predict")), PD_OUT_LABEL);
    assert_int_equal(pd__outputs_lookup(&svc, PD_LIT("predict_proba")), 0); /* no proba */
    assert_int_equal(pd__outputs_lookup(&svcp, PD_LIT("predict_proba")), PD_OUT_PROBA);
    assert_int_equal(pd__outputs_lookup(&svc, PD_LIT("decision_function")), PD_OUT_NAMED(0));
    assert_int_equal(pd__outputs_lookup(&svc, PD_LIT("score_samples")), PD_OUT_NAMED(1));
    assert_int_equal(pd__outputs_lookup(&svc, PD_LIT("Decision_function")), 0);
    assert_int_equal(pd__outputs_lookup(&svc, "decision_functionX", 17), PD_OUT_NAMED(0));
    assert_int_equal(pd__outputs_lookup(&svc, PD_LIT("decision_")), 0);
    pd_buf_t b = PD_BUF_INIT;
    assert_int_equal(pd__outputs_list(&svcp, &b), 0);
    assert_string_equal(b.data, "predict, predict_proba, decision_function, score_samples");
    pd_buf_free(&b);
}

static void test_query(void **state)
{
    (void)state;
    assert_int_equal(query_ok(&svc, NULL, 0), 0);
    assert_int_equal(query_ok(&svc, "", 0), 0);
    assert_int_equal(query_ok(&svc, "x=1&output=predict&outputsx=1", 0), 0);
    assert_int_equal(query_ok(&svc, "outputs=decision_function", 1), PD_OUT_NAMED(0));
    assert_int_equal(query_ok(&svc, "outputs=predict,decision_function", 1),
                     PD_OUT_LABEL | PD_OUT_NAMED(0));
    assert_int_equal(query_ok(&svc, "outputs=predict%2cscore_samples", 1),
                     PD_OUT_LABEL | PD_OUT_NAMED(1));
    assert_int_equal(query_ok(&svc, "a=b&outputs=score_samples&c&outputs=predict", 1),
                     PD_OUT_LABEL | PD_OUT_NAMED(1));
    assert_int_equal(query_ok(&svc, "outputs=+predict+,%20score_samples%09", 1),
                     PD_OUT_LABEL | PD_OUT_NAMED(1));
    assert_int_equal(query_ok(&svc, "%6futputs=%64ecision_function", 1), PD_OUT_NAMED(0));
    assert_int_equal(query_ok(&svc, "outputs=predict,predict", 1), PD_OUT_LABEL);
    assert_int_equal(query_ok(&svcp, "outputs=predict_proba;x=1", 1), PD_OUT_PROBA);

    query_err(&svc, "outputs=decision", "outputs: unknown output 'decision' (the model's "
              "outputs: predict, decision_function, score_samples)");
    query_err(&svc, "outputs=predict_proba", "outputs: unknown output 'predict_proba' (the "
              "model's outputs: predict, decision_function, score_samples)");
    query_err(&svc, "outputs=predict,,score_samples", "outputs: an empty output name (list "
              "names separated by commas, e.g. outputs=predict)");
    query_err(&svc, "outputs=", "outputs: an empty output name (list names separated by "
              "commas, e.g. outputs=predict)");
    query_err(&svc, "outputs", "outputs: an empty output name (list names separated by "
              "commas, e.g. outputs=predict)");
    query_err(&svc, "outputs=%ZZ", "outputs: unknown output '%ZZ' (the model's outputs: "
              "predict, decision_function, score_samples)");
    query_err(&svc, "outputs=a%22b%0Ac", "outputs: unknown output 'a\"b\nc' (the model's "
              "outputs: predict, decision_function, score_samples)");
    char q[400] = "outputs=";
    for (int i = 0; i < 33; i++)
        strcat(q, i ? ",predict" : "predict");
    query_err(&svc, q, "outputs: more than 32 names");
    char longq[300] = "outputs=";
    memset(longq + 8, 'x', 200);
    longq[208] = '\0';
    unsigned bits;
    int given;
    pd_buf_t msg = PD_BUF_INIT;
    assert_int_equal(pd__outputs_query(&svc, longq, &bits, &given, &msg), 400);
    assert_non_null(strstr(msg.data, "outputs: unknown output 'xxxx"));
    pd_buf_free(&msg);
}

/* ---- result buffers ---- */

static void test_rows_buffers(void **state)
{
    (void)state;
    pd_rows_t r;
    pd_rows_init(&r, 2, 0);
    assert_int_equal(pd_rows_resize(&r, 3), 0);
    assert_int_equal(pd_rows_want_output(&r, PD_MODEL_MAX_OUTPUTS, 1), PD_EINVAL);
    assert_int_equal(pd_rows_want_output(&r, 0, 0), PD_EINVAL);
    assert_int_equal(pd_rows_want_output(&r, 1, 1), 0);
    assert_int_equal(r.outputs, PD_OUT_LABEL | PD_OUT_NAMED(1));
    assert_int_equal(pd_rows_results(&r, 3), 0);
    assert_null(r.extra[0]);
    assert_non_null(r.extra[1]);
    assert_null(r.proba);
    assert_int_equal(pd_rows_values_per_row(&r), 2);
    pd_rows_free(&r);
    assert_int_equal(r.outputs, PD_OUT_LABEL);

    /* big: one heap block, the buffers disjoint and in bounds (ASan) */
    pd_rows_init(&r, 2, 0);
    assert_int_equal(pd_rows_resize(&r, 1000), 0);
    r.outputs |= PD_OUT_PROBA;
    assert_int_equal(pd_rows_want_output(&r, 0, 3), 0);
    assert_int_equal(pd_rows_want_output(&r, 2, 5), 0);
    assert_int_equal(pd_rows_results(&r, 3), 0);
    assert_int_equal(pd_rows_values_per_row(&r), 1 + 3 + 3 + 5);
    for (size_t i = 0; i < 1000; i++) {
        r.cls[i] = 1;
        r.val[i] = 1.0;
    }
    for (size_t i = 0; i < 3000; i++)
        r.proba[i] = 2.0, r.extra[0][i] = 3.0;
    for (size_t i = 0; i < 5000; i++)
        r.extra[2][i] = 4.0;
    assert_true(r.proba[2999] == 2.0 && r.extra[0][0] == 3.0 && r.extra[0][2999] == 3.0);
    assert_true(r.val[999] == 1.0 && r.cls[0] == 1);
    pd_rows_free(&r);
}

/* ---- codecs ---- */

/* Decodes body for s with query q through codec; on success fills results: labels 2, 0, ...
 * values row+0.5, proba k/10, named output k's values (k+1)*10 + j + row/4. */
static int run(const pd_codec_t *codec, const pd_model_schema_t *s, const char *q,
               const char *ct, const char *body, pd_rows_t *rows, pd_buf_t *err)
{
    pd_rows_init(rows, s->n_features, 0);
    pd_buf_init(err, 0);
    pd_codec_in_t in = {.schema = s, .content_type = ct, .query = q, .body = body,
                        .len = strlen(body), .model_name = "m", .model_label = "1"};
    int rc = codec->decode(&in, rows, err);
    if (rc != 0)
        return rc;
    assert_int_equal(pd_rows_results(rows, s->n_classes), 0);
    for (size_t i = 0; i < rows->n_rows; i++) {
        rows->cls[i] = i % 2 ? 0 : 2;
        rows->val[i] = (double)i + 0.5;
        for (size_t k = 0; rows->proba && k < s->n_classes; k++)
            rows->proba[i * s->n_classes + k] = (double)(k + 1) / 10;
        for (size_t k = 0; k < PD_MODEL_MAX_OUTPUTS; k++)
            for (size_t j = 0; rows->extra[k] && j < rows->extra_width[k]; j++)
                rows->extra[k][i * rows->extra_width[k] + j] =
                    (double)((k + 1) * 10 + j) + (double)i / 4;
    }
    return 0;
}

static void expect_answer(const pd_codec_t *codec, const pd_model_schema_t *s, const char *q,
                          const char *ct, const char *body, const char *want)
{
    pd_rows_t rows;
    pd_buf_t err, out = PD_BUF_INIT;
    int rc = run(codec, s, q, ct, body, &rows, &err);
    if (rc != 0)
        fail_msg("%s ?%s %s: %d %s", codec->name, q, body, rc, err.data ? err.data : "");
    assert_int_equal(codec->encode(s, &rows, &out), 0);
    if (strcmp(out.data, want) != 0)
        fail_msg("%s ?%s %s\n got  %s\n want %s", codec->name, q, body, out.data, want);
    pd_buf_free(&out);
    pd_buf_free(&err);
    pd_rows_free(&rows);
}

static void expect_refused(const pd_codec_t *codec, const pd_model_schema_t *s, const char *q,
                           const char *ct, const char *body, int status, const char *want)
{
    pd_rows_t rows;
    pd_buf_t err;
    int rc = run(codec, s, q, ct, body, &rows, &err);
    if (rc != status || err.data == NULL || strcmp(err.data, want) != 0)
        fail_msg("%s ?%s %s\n got  %d %s\n want %d %s", codec->name, q, body, rc,
                 err.data ? err.data : "", status, want);
    pd_buf_free(&err);
    pd_rows_free(&rows);
}

#define ONE "{\"a\":1,\"b\":2}"
#define TWO "[{\"a\":1,\"b\":2},{\"a\":3,\"b\":4}]"

static void test_fastapi(void **state)
{
    (void)state;
    const pd_codec_t *c = &pd_codec_fastapi;
    expect_answer(c, &svc, "", NULL, ONE, "{\"prediction\":2}"); /* unchanged */
    expect_answer(c, &svc, "outputs=decision_function", NULL, ONE,
                  "{\"decision_function\":[10.0,11.0,12.0]}");
    expect_answer(c, &svc, "outputs=score_samples,predict", NULL, TWO,
                  "{\"predictions\":[2,0],\"score_samples\":[20.0,20.25]}");
    expect_answer(c, &svcp, "outputs=decision_function,predict_proba,score_samples", NULL, ONE,
                  "{\"probabilities\":{\"0\":0.1,\"1\":0.2,\"2\":0.3},"
                  "\"decision_function\":[10.0,11.0,12.0],\"score_samples\":20.0}");
    expect_answer(c, &svc, "outputs=decision_function", NULL, TWO,
                  "{\"decision_function\":[[10.0,11.0,12.0],[10.25,11.25,12.25]]}");
    expect_refused(c, &svc, "outputs=proba", NULL, ONE, 422,
                   "{\"detail\":[{\"loc\":[\"query\",\"outputs\"],\"msg\":\"outputs: unknown "
                   "output 'proba' (the model's outputs: predict, decision_function, "
                   "score_samples)\",\"type\":\"value_error\"}]}");
}

static void test_v1_mlflow(void **state)
{
    (void)state;
    expect_answer(&pd_codec_v1, &svc, "", NULL, "{\"instances\":[[1,2],[3,4]]}",
                  "{\"predictions\":[2,0]}");
    expect_answer(&pd_codec_v1, &svcp, "outputs=decision_function,predict_proba", NULL,
                  "{\"instances\":[[1,2],[3,4]]}",
                  "{\"predictions\":[2,0],\"predict_proba\":[[0.1,0.2,0.3],[0.1,0.2,0.3]],"
                  "\"decision_function\":[[10.0,11.0,12.0],[10.25,11.25,12.25]]}");
    expect_answer(&pd_codec_v1, &svc, "outputs=score_samples", NULL, "{\"instances\":[[1,2]]}",
                  "{\"predictions\":[2],\"score_samples\":[20.0]}");
    expect_refused(&pd_codec_v1, &svc, "outputs=x", NULL, "{\"instances\":[[1,2]]}", 400,
                   "{\"error\":\"outputs: unknown output 'x' (the model's outputs: predict, "
                   "decision_function, score_samples)\"}");
    expect_answer(&pd_codec_mlflow, &svc, "outputs=decision_function", "application/json",
                  "{\"inputs\":[[1,2],[3,4]]}",
                  "{\"predictions\": [2, 0], \"decision_function\": [[10.0, 11.0, 12.0], "
                  "[10.25, 11.25, 12.25]]}");
    expect_answer(&pd_codec_mlflow, &svc, "outputs=score_samples", "text/csv", "a,b\n1,2\n",
                  "{\"predictions\": [2], \"score_samples\": [20.0]}");
    expect_refused(&pd_codec_mlflow, &svc, "outputs=", "application/json",
                   "{\"inputs\":[[1,2]]}", 400,
                   "{\"error_code\": \"BAD_REQUEST\", \"message\": \"outputs: an empty output "
                   "name (list names separated by commas, e.g. outputs=predict)\"}");
}

#define V2_IN "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP64\"," \
              "\"data\":[1,2,3,4]}]"

static void test_v2(void **state)
{
    (void)state;
    const pd_codec_t *c = &pd_codec_v2;
    /* none asked for: predict (and predict_proba), never the named ones */
    expect_answer(c, &svc, "", NULL, V2_IN "}",
                  "{\"model_name\":\"m\",\"model_version\":\"1\",\"outputs\":[{\"name\":"
                  "\"predict\",\"datatype\":\"INT64\",\"shape\":[2],\"data\":[2,0]}]}");
    expect_answer(c, &svc, "", NULL,
                  V2_IN ",\"outputs\":[{\"name\":\"score_samples\"},{\"name\":"
                        "\"decision_function\"}]}",
                  "{\"model_name\":\"m\",\"model_version\":\"1\",\"outputs\":["
                  "{\"name\":\"score_samples\",\"datatype\":\"FP64\",\"shape\":[2],"
                  "\"data\":[20.0,20.25]},"
                  "{\"name\":\"decision_function\",\"datatype\":\"FP64\",\"shape\":[2,3],"
                  "\"data\":[10.0,11.0,12.0,10.25,11.25,12.25]}]}");
    pd_buf_t err;
    pd_rows_t rows;
    assert_int_equal(run(c, &svc, "", NULL, V2_IN ",\"outputs\":[{\"name\":\"nope\"}]}", &rows,
                         &err), 400);
    assert_string_equal(err.data, "{\"error\":\"outputs[0]: unknown output 'nope' (the model's "
                                  "outputs: predict, decision_function, score_samples)\"}");
    pd_buf_free(&err);
    pd_rows_free(&rows);
    assert_int_equal(run(c, &svc, "", NULL,
                         V2_IN ",\"outputs\":[{\"name\":\"score_samples\"},{\"name\":"
                               "\"score_samples\"}]}", &rows, &err), 400);
    assert_string_equal(err.data, "{\"error\":\"outputs[1]: output 'score_samples' is asked "
                                  "for twice\"}");
    pd_buf_free(&err);
    pd_rows_free(&rows);

    /* binary: FP64 little-endian after the JSON part */
    assert_int_equal(run(c, &svc, "", NULL,
                         V2_IN ",\"outputs\":[{\"name\":\"decision_function\",\"parameters\":"
                               "{\"binary_data\":true}}]}", &rows, &err), 0);
    pd_rows_reply_t reply;
    memset(&reply, 0, sizeof reply);
    rows.reply = &reply;
    pd_buf_t out = PD_BUF_INIT;
    assert_int_equal(c->encode(&svc, &rows, &out), 0);
    const char *head = "{\"model_name\":\"m\",\"model_version\":\"1\",\"outputs\":[{\"name\":"
                       "\"decision_function\",\"datatype\":\"FP64\",\"shape\":[2,3],"
                       "\"parameters\":{\"binary_data_size\":48}}]}";
    size_t hl = strlen(head);
    assert_int_equal(out.len, hl + 48);
    assert_memory_equal(out.data, head, hl);
    for (size_t i = 0; i < 6; i++) {
        double v;
        uint64_t u = 0;
        for (size_t b = 0; b < 8; b++)
            u |= (uint64_t)(unsigned char)out.data[hl + i * 8 + b] << (8 * b);
        memcpy(&v, &u, sizeof v);
        assert_true(v == rows.extra[0][i]);
    }
    assert_string_equal(reply.content_type, "application/octet-stream");
    char h[64];
    snprintf(h, sizeof h, "Inference-Header-Content-Length: %zu\r\n", hl);
    assert_string_equal(reply.headers, h);
    pd_buf_free(&out);
    pd_buf_free(&err);
    pd_rows_free(&rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_rows_buffers),
        cmocka_unit_test(test_fastapi),
        cmocka_unit_test(test_v1_mlflow),
        cmocka_unit_test(test_v2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
