/* test_api_codec_fastapi.c - pd_codec_fastapi (src/api/codec_fastapi.c) against the answers
 * the real FastAPI 0.92 + Pydantic 1.10 gave: tests/data/validation_cases.json (one object
 * or other non-array body: today's bytes, one row) and tests/data/list_validation_cases.json
 * (arrays as List[InputData], missing_ok models, the rows limit), both written by
 * tests/tools/gen_*validation_cases.py; plus lists and limits spelled out here (errors at
 * several indexes, mixed elements, pairs, 413, missing values, wide models, big bodies, a
 * full error buffer, threads), and a bounded mutation loop. Encode: *_encode.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"
#include "api/features.h"
#include "common.h"

static const char *const NAMES[] = {"feature1", "feature2"};
static const pd_model_schema_t SCHEMA2 = {.task = PD_TASK_REGRESSION, .n_features = 2,
                                          .feature_names = NAMES};

/* Decodes body with the codec into r (initialized here; the caller frees it). */
static int decode_ct(const pd_model_schema_t *s, const char *ct, const char *body, size_t len,
                     int missing_ok, size_t max_rows, pd_rows_t *r, pd_buf_t *err)
{
    pd_codec_in_t in = {.schema = s, .missing_ok = missing_ok, .content_type = ct,
                        .query = "", .body = body, .len = len};
    pd_rows_init(r, s->n_features, max_rows);
    return pd_codec_fastapi.decode(&in, r, err);
}

static int decode(const char *body, int missing_ok, size_t max_rows, pd_rows_t *r, pd_buf_t *err)
{
    return decode_ct(&SCHEMA2, "application/json", body, strlen(body), missing_ok, max_rows, r,
                     err);
}

/* Decodes standard base64 (the generators' body_b64) into a malloc'd buffer. */
static unsigned char *b64_decode(const char *in, size_t *outlen)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), w = 0;
    unsigned char *out = malloc(n / 4 * 3 + 3);
    assert_non_null(out);
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && in[i] != '='; i++) {
        const char *p = strchr(tab, in[i]);
        assert_non_null(p);
        acc = acc << 6 | (uint32_t)(p - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[w++] = (unsigned char)(acc >> bits);
        }
    }
    *outlen = w;
    return out;
}

static json_t *load(const char *file)
{
    json_error_t jerr;
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/%s", PD_SOURCE_DIR, file);
    json_t *cases = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (cases == NULL)
        fail_msg("%s: %s (line %d)", file, jerr.text, jerr.line);
    assert_true(json_is_array(cases));
    return cases;
}

static unsigned char *case_body(json_t *c, size_t *len)
{
    json_t *s = json_object_get(c, "body");
    if (s == NULL)
        return b64_decode(json_string_value(json_object_get(c, "body_b64")), len);
    *len = json_string_length(s);
    unsigned char *b = malloc(*len + 1);
    assert_non_null(b);
    memcpy(b, json_string_value(s), *len);
    return b;
}

/* The double a golden "values" string stands for ("None": a missing value, NaN). */
static double value_of(const char *v)
{
    return strcmp(v, "None") == 0 ? NAN : strtod(v, NULL);
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* Runs one golden case through the codec; returns 1 when it matches (prints why not). */
static int run_case(json_t *c, int list_file)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    json_t *ct = json_object_get(c, "content_type");
    size_t len, max_rows = (size_t)json_integer_value(json_object_get(c, "max_rows"));
    if (!list_file && json_is_true(json_object_get(c, "is_list")))
        return 1; /* arrays are lists now: list_validation_cases.json has their answers */
    unsigned char *body = case_body(c, &len);
    int status = (int)json_integer_value(json_object_get(c, "expect_status"));
    int missing_ok = json_is_true(json_object_get(c, "missing_ok"));
    const char *want = json_string_value(json_object_get(c, "expect_response"));
    int want_single = !list_file || strcmp(json_string_value(json_object_get(c, "fastapi_path")),
                                           "/predict_list") != 0;
    pd_rows_t r;
    pd_buf_t err = PD_BUF_INIT;
    int rc = decode_ct(&SCHEMA2, json_is_string(ct) ? json_string_value(ct) : NULL,
                       (const char *)body, len, missing_ok, max_rows, &r, &err);
    int ok = 1;
    if (status == 200) {
        json_t *vals = json_object_get(c, "values");
        /* values: one list per row in the list file, the one row's values in the other */
        size_t want_rows = list_file ? json_array_size(vals) : 1;
        ok = rc == 0 && r.single == want_single && r.n_rows == want_rows;
        for (size_t i = 0; ok && i < r.n_rows; i++)
            for (size_t j = 0; ok && j < 2; j++) {
                json_t *row = list_file ? json_array_get(vals, i) : vals;
                double w = value_of(json_string_value(json_array_get(row, j)));
                ok = same_double(r.x[i * 2 + j], w);
                if (!ok)
                    printf("  %s: row %zu feature %zu = %.17g, want %.17g\n", name, i, j,
                           r.x[i * 2 + j], w);
            }
        if (!ok)
            printf("  %s: rc %d single %d rows %zu, body %s\n", name, rc, r.single, r.n_rows,
                   err.data ? err.data : "");
    } else {
        ok = rc == status && err.data && strcmp(err.data, want) == 0;
        if (!ok)
            printf("  %s: rc %d (want %d)\n    got  %.400s\n    want %.400s\n", name, rc,
                   status, err.data ? err.data : "(none)", want);
    }
    pd_rows_free(&r);
    pd_buf_free(&err);
    free(body);
    return ok;
}

static void test_golden_single_bodies_keep_their_bytes(void **state)
{
    (void)state;
    json_t *cases = load("validation_cases.json"), *c;
    size_t i, failed = 0, ran = 0;
    assert_true(json_array_size(cases) >= 60);
    json_array_foreach(cases, i, c) {
        assert_true(json_is_boolean(json_object_get(c, "is_list")));
        ran += !json_is_true(json_object_get(c, "is_list"));
        failed += !run_case(c, 0);
    }
    json_decref(cases);
    assert_true(ran >= 100);
    assert_int_equal(failed, 0);
}

static void test_golden_lists(void **state)
{
    (void)state;
    json_t *cases = load("list_validation_cases.json"), *c;
    size_t i, failed = 0;
    assert_true(json_array_size(cases) >= 70);
    json_array_foreach(cases, i, c) failed += !run_case(c, 1);
    json_decref(cases);
    assert_int_equal(failed, 0);
}

#define ITEM(loc, msg, type) "{\"loc\":[\"body\"," loc "],\"msg\":\"" msg "\",\"type\":\"" type "\"}"
#define MISSING(loc) ITEM(loc, "field required", "value_error.missing")
#define NOT_FLOAT(loc) ITEM(loc, "value is not a valid float", "type_error.float")
#define NOT_DICT(loc) ITEM(loc, "value is not a valid dict", "type_error.dict")
#define NONE(loc) ITEM(loc, "none is not an allowed value", "type_error.none.not_allowed")
#define NOT_FINITE(loc) \
    ITEM(loc, "ensure this value is a finite number", "value_error.number.not_finite_number")

/* Decodes body and checks the status and the error body (want NULL: success). */
static void expect(const char *body, int missing_ok, size_t max_rows, int status,
                   const char *want)
{
    pd_rows_t r;
    pd_buf_t err = PD_BUF_INIT;
    int rc = decode(body, missing_ok, max_rows, &r, &err);
    if (rc != status || (want && (err.data == NULL || strcmp(err.data, want) != 0)))
        fail_msg("%s: rc %d, want %d\n  got  %s\n  want %s", body, rc, status,
                 err.data ? err.data : "(none)", want ? want : "(none)");
    pd_rows_free(&r);
    pd_buf_free(&err);
}

static void test_list_values(void **state)
{
    (void)state;
    pd_rows_t r;
    pd_buf_t err = PD_BUF_INIT;
    assert_int_equal(decode("[{\"feature1\": 1.5, \"feature2\": \"-2\"}, [[\"feature2\", 4], "
                            "[\"feature1\", true]], {\"feature2\": 0.1, \"x\": [], "
                            "\"feature1\": 1e-7}]", 0, 0, &r, &err), 0);
    assert_int_equal(r.single, 0);
    assert_int_equal(r.n_rows, 3);
    const double want[] = {1.5, -2, 1, 4, 1e-7, 0.1};
    for (size_t i = 0; i < 6; i++)
        assert_true(r.x[i] == want[i]);
    pd_rows_free(&r);
    /* an object is one row, answered as one */
    assert_int_equal(decode("{\"feature1\": 3, \"feature2\": 4}", 0, 0, &r, &err), 0);
    assert_int_equal(r.single, 1);
    assert_int_equal(r.n_rows, 1);
    assert_true(r.x[0] == 3 && r.x[1] == 4);
    pd_rows_free(&r);
    /* an empty list: no rows, valid */
    assert_int_equal(decode(" [\n] ", 0, 0, &r, &err), 0);
    assert_int_equal(r.single, 0);
    assert_int_equal(r.n_rows, 0);
    pd_rows_free(&r);
    pd_buf_free(&err);
}

static void test_list_errors_in_order(void **state)
{
    (void)state;
    const char *ok = "{\"feature1\": 1, \"feature2\": 2}";
    char body[512];
    snprintf(body, sizeof body, "[%s, {\"feature1\": \"x\"}, %s, null, 7, \"\", \"ab\", "
             "[[\"feature1\", 1]], [[1, 2]], {\"__pydantic_self__\": 0}, %s, [\"ab\"]]", ok, ok, ok);
    expect(body, 0, 0, 422,
           "{\"detail\":[" NOT_FLOAT("1,\"feature1\"") "," MISSING("1,\"feature2\"") ","
           NONE("3") "," NOT_DICT("4") "," MISSING("5,\"feature1\"") ","
           MISSING("5,\"feature2\"") "," NOT_DICT("6") "," MISSING("7,\"feature2\"") ","
           ITEM("8", "keywords must be strings", "type_error") ","
           ITEM("9", "BaseModel.__init__() got multiple values for argument "
                "'__pydantic_self__'", "type_error") ","
           MISSING("11,\"feature1\"") "," MISSING("11,\"feature2\"") "]}");
    /* not finite: listed (by row) only when nothing else is wrong anywhere */
    expect("[{\"feature1\": NaN, \"feature2\": 1}, {\"feature1\": 1, \"feature2\": \"-inf\"}]",
           0, 0, 422, "{\"detail\":[" NOT_FINITE("0,\"feature1\"") ","
           NOT_FINITE("1,\"feature2\"") "]}");
    expect("[{\"feature1\": 1e400, \"feature2\": 1}, {\"feature2\": 1}]", 0, 0, 422,
           "{\"detail\":[" MISSING("1,\"feature1\"") "]}");
    /* a syntax error after element errors wins: json.loads fails before validation */
    expect("[{\"feature1\": \"x\"}, {\"feature1\": 1,}]", 0, 0, 422, NULL);
    pd_rows_t r;
    pd_buf_t err = PD_BUF_INIT;
    assert_int_equal(decode("[{\"feature1\": \"x\"}, {\"feature1\": 1,}]", 0, 0, &r, &err), 422);
    assert_non_null(strstr(err.data, "value_error.jsondecode"));
    assert_null(strstr(err.data, "type_error.float"));
    pd_rows_free(&r);
    assert_int_equal(decode("[{\"feature1\": \"\xff\"}, {\"feature1\": ", 0, 0, &r, &err), 400);
    assert_string_equal(err.data, PD_FEATURES_BODY_400);
    pd_rows_free(&r);
    pd_buf_free(&err);
}

static void test_max_rows(void **state)
{
    (void)state;
    const char *four = "[{}, {}, {}, {}]";
    expect(four, 0, 3, 413, "{\"detail\":\"too many rows: the body holds more than 3 rows "
                            "(the limit is --max-rows)\"}");
    /* decided when element 4 begins: what follows is never read */
    expect("[{}, {}, {}, {\"feature1\": ", 0, 3, 413, NULL);
    expect("[{}, {}, {}, \xff", 0, 3, 413, NULL);
    /* three rows are fine (their errors are reported) */
    expect("[{}, {}, {}]", 1, 3, 0, NULL);
    /* one object never hits a limit of one row */
    expect("{\"feature1\": 1, \"feature2\": 2}", 0, 1, 0, NULL);
    /* the default limit */
    pd_buf_t body = PD_BUF_INIT;
    assert_int_equal(pd_buf_puts(&body, "["), 0);
    for (int i = 0; i <= PD_ROWS_DEFAULT_MAX; i++)
        assert_int_equal(pd_buf_puts(&body, i ? ",[]" : "[]"), 0);
    assert_int_equal(pd_buf_puts(&body, "]"), 0);
    expect(body.data, 1, 0, 413, "{\"detail\":\"too many rows: the body holds more than 10000 "
                                 "rows (the limit is --max-rows)\"}");
    body.data[body.len - 4] = ']'; /* drop the last element: 10,000 rows, all missing */
    body.data[body.len - 3] = '\0';
    pd_rows_t r;
    pd_buf_t err = PD_BUF_INIT;
    assert_int_equal(decode(body.data, 1, 0, &r, &err), 0);
    assert_int_equal(r.n_rows, PD_ROWS_DEFAULT_MAX);
    assert_true(isnan(r.x[0]) && isnan(r.x[2 * PD_ROWS_DEFAULT_MAX - 1]));
    pd_rows_free(&r);
    pd_buf_free(&err);
    pd_buf_free(&body);
}

static void test_missing_ok(void **state)
{
    (void)state;
    pd_rows_t r;
    pd_buf_t err = PD_BUF_INIT;
    assert_int_equal(decode("[{\"feature1\": null, \"feature2\": 2}, {\"feature2\": NaN}, "
                            "{\"feature1\": \"nan\", \"feature2\": \"-NaN\"}, \"\", [], "
                            "{\"feature1\": 5, \"feature1\": null}]", 1, 0, &r, &err), 0);
    assert_int_equal(r.n_rows, 6);
    for (size_t i = 0; i < 12; i++)
        assert_true(i == 1 ? r.x[i] == 2 : isnan(r.x[i]));
    pd_rows_free(&r);
    /* one object too; the last value given wins, even a null over a number */
    assert_int_equal(decode("{\"feature2\": 3, \"feature1\": 1, \"feature1\": null}", 1, 0, &r,
                            &err), 0);
    assert_true(isnan(r.x[0]) && r.x[1] == 3 && r.single == 1);
    pd_rows_free(&r);
    pd_buf_free(&err);
    /* infinities are still refused; Pydantic's errors are still FastAPI's */
    expect("[{\"feature1\": Infinity}, {\"feature2\": \"-inf\"}, {\"feature1\": 1e400}]", 1, 0,
           422, "{\"detail\":[" NOT_FINITE("0,\"feature1\"") "," NOT_FINITE("1,\"feature2\"") ","
           NOT_FINITE("2,\"feature1\"") "]}");
    expect("{\"feature2\": -Infinity}", 1, 0, 422,
           "{\"detail\":[" NOT_FINITE("\"feature2\"") "]}");
    expect("[{\"feature1\": \"x\"}, null, {\"feature1\": Infinity}, 5]", 1, 0, 422,
           "{\"detail\":[" NOT_FLOAT("0,\"feature1\"") "," NONE("1") "," NOT_DICT("3") "]}");
    expect("null", 1, 0, 422, "{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"field required\","
                              "\"type\":\"value_error.missing\"}]}");
    /* without missing_ok the same NaN is not finite and null is an error */
    expect("[{\"feature1\": NaN, \"feature2\": 1}]", 0, 0, 422,
           "{\"detail\":[" NOT_FINITE("0,\"feature1\"") "]}");
    expect("[{\"feature1\": null, \"feature2\": NaN}]", 0, 0, 422,
           "{\"detail\":[" NONE("0,\"feature1\"") "]}");
}

/* A model wider than the per-call stack state: the heap state and the name index are
 * reused by every element; the errors name the right field of the right row. */
static void test_wide_model_list(void **state)
{
    (void)state;
    enum { N = 300 };
    static char store[N][8];
    const char *names[N];
    for (int i = 0; i < N; i++) {
        snprintf(store[i], sizeof store[i], "f%d", i);
        names[i] = store[i];
    }
    pd_model_schema_t s = {.task = PD_TASK_REGRESSION, .n_features = N, .feature_names = names};
    pd_buf_t body = PD_BUF_INIT, err = PD_BUF_INIT;
    assert_int_equal(pd_buf_puts(&body, "["), 0);
    for (int row = 0; row < 3; row++) {
        assert_int_equal(pd_buf_puts(&body, row ? ",{" : "{"), 0);
        for (int i = N - 1; i >= 0; i--)
            if (!(row == 2 && i == 123))
                assert_int_equal(pd_buf_printf(&body, "\"f%d\":%d%s", i, row * 1000 + i,
                                               i ? "," : ""), 0);
        assert_int_equal(pd_buf_puts(&body, "}"), 0);
    }
    assert_int_equal(pd_buf_puts(&body, "]"), 0);
    pd_rows_t r;
    assert_int_equal(decode_ct(&s, NULL, body.data, body.len, 0, 0, &r, &err), 422);
    assert_string_equal(err.data, "{\"detail\":[" MISSING("2,\"f123\"") "]}");
    pd_rows_free(&r);
    assert_int_equal(decode_ct(&s, NULL, body.data, body.len, 1, 0, &r, &err), 0);
    assert_int_equal(r.n_rows, 3);
    for (int row = 0; row < 3; row++)
        for (int i = 0; i < N; i++)
            assert_true(row == 2 && i == 123 ? isnan(r.x[row * N + i])
                                             : r.x[row * N + i] == row * 1000 + i);
    pd_rows_free(&r);
    /* rows that do not fit the model are the caller's bug */
    pd_codec_in_t in = {.schema = &s, .content_type = NULL, .query = "", .body = "[]", .len = 2};
    pd_rows_init(&r, 2, 0);
    assert_int_equal(pd_codec_fastapi.decode(&in, &r, &err), PD_EINVAL);
    pd_buf_free(&body);
    pd_buf_free(&err);
}

/* A 16 MiB list (10,000 rows, each padded with unknown keys) decodes in one pass. */
static void test_big_body(void **state)
{
    (void)state;
    enum { ROWS = 10000, BODY = 16 << 20 };
    pd_buf_t body = PD_BUF_INIT, err = PD_BUF_INIT;
    pd_buf_init(&body, BODY + 4096);
    char pad[1600];
    memset(pad, 'p', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    assert_int_equal(pd_buf_puts(&body, "["), 0);
    for (int i = 0; i < ROWS; i++)
        assert_int_equal(pd_buf_printf(&body, "%s{\"x\":\"%s\",\"feature2\":%d,\"feature1\":"
                                       "\"%d.5\"}", i ? "," : "", pad, i, i), 0);
    assert_int_equal(pd_buf_puts(&body, "]"), 0);
    assert_true(body.len > 15u << 20 && body.len <= BODY);
    pd_rows_t r;
    assert_int_equal(decode_ct(&SCHEMA2, "application/json", body.data, body.len, 0, 0, &r, &err),
                     0);
    assert_int_equal(r.n_rows, ROWS);
    for (int i = 0; i < ROWS; i++)
        assert_true(r.x[2 * i] == i + 0.5 && r.x[2 * i + 1] == i);
    pd_rows_free(&r);
    /* the same body with one bad value at the end: one error, the rest validated */
    assert_memory_equal(body.data + body.len - 10, "\"9999.5\"}]", 10);
    body.data[body.len - 9] = 'x';
    assert_int_equal(decode_ct(&SCHEMA2, NULL, body.data, body.len, 0, 0, &r, &err), 422);
    assert_string_equal(err.data, "{\"detail\":[" NOT_FLOAT("9999,\"feature1\"") "]}");
    pd_rows_free(&r);
    pd_buf_free(&body);
    pd_buf_free(&err);
}

/* An error list larger than the caller's buffer: 413 with a short body, unless json.loads
 * would have refused the document (then its error, as FastAPI). */
static void test_error_buffer_cap(void **state)
{
    (void)state;
    pd_buf_t err;
    pd_buf_init(&err, 1000);
    pd_rows_t r;
    const char *many = "[{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}]";
    assert_int_equal(decode(many, 0, 0, &r, &err), 413);
    assert_string_equal(err.data, "{\"detail\":\"the error report for this body exceeds the "
                                  "error body limit\"}");
    pd_rows_free(&r);
    assert_int_equal(decode("[{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{} x", 0, 0, &r,
                            &err), 422);
    assert_non_null(strstr(err.data, "\"Expecting ',' delimiter\""));
    pd_rows_free(&r);
    assert_int_equal(decode("[{},{}]", 0, 0, &r, &err), 422); /* fits */
    pd_rows_free(&r);
    /* a jsondecode error quotes the whole document: past the cap, the same 413 */
    char long_doc[1200];
    memset(long_doc, ' ', sizeof long_doc - 2);
    memcpy(long_doc, "{\"feature1\": 1", 14);
    long_doc[sizeof long_doc - 2] = ',';
    long_doc[sizeof long_doc - 1] = '\0';
    assert_int_equal(decode(long_doc, 0, 0, &r, &err), 413);
    assert_string_equal(err.data, "{\"detail\":\"the error report for this body exceeds the "
                                  "error body limit\"}");
    pd_rows_free(&r);
    pd_buf_free(&err);
}

/* The codec keeps no state: threads decoding different bodies get their own answers. */
typedef struct {
    int id, failures;
} thread_arg_t;

static void *decode_many(void *p)
{
    thread_arg_t *a = p;
    char body[160], want[300];
    pd_buf_t err = PD_BUF_INIT;
    for (int it = 0; it < 300; it++) {
        int k = a->id * 1000 + it;
        snprintf(body, sizeof body, "[{\"feature1\": %d, \"feature2\": 1}, {\"feature%d\": 1}]", k,
                 1 + (k & 1));
        snprintf(want, sizeof want, "{\"detail\":[" MISSING("1,\"feature%d\"") "]}", 2 - (k & 1));
        pd_rows_t r;
        int rc = decode(body, 0, 0, &r, &err);
        if (rc != 422 || strcmp(err.data, want) != 0 || r.x[0] != k)
            a->failures++;
        pd_rows_free(&r);
    }
    pd_buf_free(&err);
    return NULL;
}

static void test_reentrant(void **state)
{
    (void)state;
    pthread_t t[4];
    thread_arg_t a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (thread_arg_t){.id = i};
        assert_int_equal(pthread_create(&t[i], NULL, decode_many, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(a[i].failures, 0);
    }
}

/* ---- a bounded mutation loop over list bodies: documented outcomes only ---- */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static void mutate(char *b, size_t *len, size_t cap)
{
    static const char tokens[] = "{}[]\",:\\ 0123456789.eE+-tfnNIu_x\n\t\x7f\xc3\xa9\xed\xa0\xff";
    for (int e = 0, edits = 1 + (int)(rnd() % 4); e < edits; e++) {
        uint32_t op = rnd() % 4;
        size_t at = *len ? rnd() % (*len + 1) : 0;
        char t = tokens[rnd() % (sizeof tokens - 1)];
        if (op == 0 && at < *len)
            b[at] = t;
        else if (op == 1 && *len < cap) {
            memmove(b + at + 1, b + at, *len - at);
            b[at] = t;
            (*len)++;
        } else if (op == 2 && at < *len) {
            memmove(b + at, b + at + 1, *len - at - 1);
            (*len)--;
        } else if (op == 3 && rnd() % 4 == 0)
            *len = at;
    }
}

/* Checks one answer: rc one of 0/400/413/422, error bodies JSON of FastAPI's shape, rows
 * within the limit, successes finite (missing values only with missing_ok). */
static void check_outcome(int rc, const pd_rows_t *r, const pd_buf_t *err, int missing_ok,
                          size_t max_rows, size_t *counts)
{
    assert_true(rc == 0 || rc == 400 || rc == 413 || rc == 422);
    counts[rc == 0 ? 0 : rc == 400 ? 1 : rc == 413 ? 2 : 3]++;
    assert_true(r->n_rows <= max_rows);
    if (rc == 0) {
        assert_true(r->single ? r->n_rows == 1 : 1);
        for (size_t i = 0; i < r->n_rows * 2; i++)
            assert_true(isfinite(r->x[i]) || (missing_ok && isnan(r->x[i])));
        return;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(err->data, err->len, 0, &jerr);
    if (doc == NULL)
        fail_msg("invalid error body %s: %s", err->data, jerr.text);
    json_t *detail = json_object_get(doc, "detail");
    assert_true(rc == 422 ? json_is_array(detail) && json_array_size(detail) >= 1
                          : json_is_string(detail));
    json_decref(doc);
}

static void test_fuzz_lists(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "[{\"feature1\": 1, \"feature2\": 2}, {\"feature1\": \"3\", \"feature2\": null}]",
        "[[[\"feature1\", 1], [\"feature2\", NaN]], {}, \"\", null, 5]",
        "[{\"feature2\": 1e400, \"feature1\": -0}, [\"ab\"], [[1, 2]]]",
        "{\"feature1\": 1, \"feature2\": [2]}",
    };
    enum { ITER = 20000, CAP = 512 };
    char buf[CAP];
    size_t counts[4] = {0, 0, 0, 0};
    pd_buf_t err = PD_BUF_INIT;
    for (int it = 0; it < ITER; it++) {
        const char *seed = seeds[rnd() % PD_ARRAY_SIZE(seeds)];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        mutate(buf, &len, CAP);
        int missing_ok = (int)(rnd() & 1);
        size_t max_rows = 1 + rnd() % 4;
        pd_rows_t r;
        int rc = decode_ct(&SCHEMA2, "application/json", buf, len, missing_ok, max_rows, &r, &err);
        check_outcome(rc, &r, &err, missing_ok, max_rows, counts);
        pd_rows_free(&r);
    }
    printf("  fuzz: %zu ok, %zu 400, %zu 413, %zu 422\n", counts[0], counts[1], counts[2],
           counts[3]);
    assert_true(counts[0] > 0 && counts[1] > 0 && counts[2] > 0 && counts[3] > 0);
    pd_buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_single_bodies_keep_their_bytes),
        cmocka_unit_test(test_golden_lists),
        cmocka_unit_test(test_list_values),
        cmocka_unit_test(test_list_errors_in_order),
        cmocka_unit_test(test_max_rows),
        cmocka_unit_test(test_missing_ok),
        cmocka_unit_test(test_wide_model_list),
        cmocka_unit_test(test_big_body),
        cmocka_unit_test(test_error_buffer_cap),
        cmocka_unit_test(test_reentrant),
        cmocka_unit_test(test_fuzz_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
