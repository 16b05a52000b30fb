/* test_api_features.c - pd_features_decode() against the answers the real FastAPI 0.92
 * gave (tests/data/validation_cases.json, written by tests/tools/gen_validation_cases.py):
 * every case must produce FastAPI's status and exact body, or success with the exact
 * doubles Pydantic produced; plus Content-Type classification, many-feature and
 * non-ASCII names, and a bounded random-mutation fuzz loop checking the invariants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/features.h"
#include "common.h"

static const char *const NAMES[] = {"feature1", "feature2"};

/* Decodes standard base64 (the generator's body_b64) into a malloc'd buffer. */
static unsigned char *b64_decode(const char *in, size_t *outlen)
{
    size_t n = strlen(in);
    unsigned char *out = malloc(n / 4 * 3 + 3);
    assert_non_null(out);
    uint32_t acc = 0;
    int bits = 0;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        if (in[i] == '=')
            break;
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

static json_t *load_cases(void)
{
    json_error_t jerr;
    json_t *cases = json_load_file(PD_SOURCE_DIR "/tests/data/validation_cases.json", JSON_ALLOW_NUL, &jerr);
    if (cases == NULL)
        fail_msg("validation_cases.json: %s (line %d)", jerr.text, jerr.line);
    assert_true(json_is_array(cases));
    assert_true(json_array_size(cases) >= 60);
    return cases;
}

/* Runs one golden case; returns 1 when it matches, printing why when it does not. */
static int run_case(json_t *c)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    json_t *ct = json_object_get(c, "content_type");
    json_t *body_s = json_object_get(c, "body");
    size_t len;
    unsigned char *body;
    if (body_s) {
        len = json_string_length(body_s);
        body = malloc(len + 1);
        assert_non_null(body);
        memcpy(body, json_string_value(body_s), len);
    } else
        body = b64_decode(json_string_value(json_object_get(c, "body_b64")), &len);
    int status = (int)json_integer_value(json_object_get(c, "expect_status"));
    const char *want = json_string_value(json_object_get(c, "expect_response"));
    double out[2] = {-12345, -12345};
    pd_buf_t err = PD_BUF_INIT;
    int rc = pd_features_decode(NAMES, 2, json_is_string(ct) ? json_string_value(ct) : NULL,
                                (const char *)body, len, out, &err);
    int ok = 1;
    if (status == 200) {
        json_t *vals = json_object_get(c, "values");
        ok = rc == 0;
        for (size_t i = 0; ok && i < 2; i++) {
            double want_v = strtod(json_string_value(json_array_get(vals, i)), NULL);
            ok = memcmp(&want_v, &out[i], sizeof want_v) == 0;
            if (!ok)
                printf("  %s: feature %zu = %.17g, want %.17g\n", name, i, out[i], want_v);
        }
        if (rc != 0)
            printf("  %s: rc %d, body %s\n", name, rc, err.data ? err.data : "");
    } else {
        int want_rc = status == 400 ? PD_EFORMAT : PD_EINVAL;
        ok = rc == want_rc && err.data && strcmp(err.data, want) == 0;
        if (!ok)
            printf("  %s: rc %d (want %d)\n    got  %.400s\n    want %.400s\n", name, rc,
                   want_rc, err.data ? err.data : "(none)", want);
    }
    pd_buf_free(&err);
    free(body);
    return ok;
}

static void test_golden_cases(void **state)
{
    (void)state;
    json_t *cases = load_cases();
    size_t i, failed = 0;
    json_t *c;
    json_array_foreach(cases, i, c) failed += !run_case(c);
    json_decref(cases);
    assert_int_equal(failed, 0);
}

static void test_content_types(void **state)
{
    (void)state;
    const char *json_types[] = {NULL, "", "  ", "application/json", "Application/JSON",
                                "application/json; charset=utf-8", " application/json ;x=1",
                                "application/vnd.api+json", "application/+json"};
    const char *other[] = {"text/plain", "json", "application/jsonx", "application/json/x",
                           "text/json", "application / json", "multipart/form-data",
                           "application/x-www-form-urlencoded", "application/json+x"};
    for (size_t i = 0; i < PD_ARRAY_SIZE(json_types); i++)
        assert_true(pd_features_is_json(json_types[i]));
    for (size_t i = 0; i < PD_ARRAY_SIZE(other); i++)
        assert_false(pd_features_is_json(other[i]));
}

/* More names than fit on the stack, matched out of order, with escapes and UTF-8. */
static void test_many_features(void **state)
{
    (void)state;
    enum { N = PD_FEATURES_STACK + 44 };
    static char store[N][16];
    const char *names[N];
    pd_buf_t body = PD_BUF_INIT, err = PD_BUF_INIT;
    assert_int_equal(pd_buf_puts(&body, "{"), 0);
    for (int i = 0; i < N; i++) {
        snprintf(store[i], sizeof store[i], i == 7 ? "caf\xc3\xa9%d" : "f%d", i);
        names[i] = store[i];
    }
    for (int i = N - 1; i >= 0; i--) /* reverse order; name 7 spelled with an escape */
        assert_int_equal(i == 7 ? pd_buf_printf(&body, "\"caf\\u00e9%d\": %d%s", i, i, i ? "," : "")
                                : pd_buf_printf(&body, "\"%s\": \"%d.5\"%s", names[i], i, i ? "," : ""),
                         0);
    assert_int_equal(pd_buf_puts(&body, "}"), 0);
    double *out = calloc(N, sizeof *out);
    assert_non_null(out);
    assert_int_equal(pd_features_decode(names, N, "application/json", body.data, body.len, out, &err), 0);
    for (int i = 0; i < N; i++)
        assert_true(out[i] == (i == 7 ? 7.0 : i + 0.5));
    /* drop one field: exactly that one is reported, by name */
    char *gap = strstr(body.data, "\"f100\": \"100.5\",");
    assert_non_null(gap);
    memcpy(gap, "\"x100\"", 6);
    assert_int_equal(pd_features_decode(names, N, NULL, body.data, body.len, out, &err), PD_EINVAL);
    assert_string_equal(err.data, "{\"detail\":[{\"loc\":[\"body\",\"f100\"],\"msg\":\"field required\","
                                  "\"type\":\"value_error.missing\"}]}");
    assert_int_equal(pd_features_decode(names, PD_FEATURES_MAX + 1, NULL, "{}", 2, out, &err),
                     PD_ETOOBIG);
    free(out);
    pd_buf_free(&body);
    pd_buf_free(&err);
}

/* A model wide enough for the hashed name index (but within the stack): keys out of order,
 * escaped, unknown, longer than any name, and duplicated (the last one wins, as in
 * Python's json) all resolve as the linear match does. */
static void test_name_index(void **state)
{
    (void)state;
    enum { N = 40 };
    static char store[N][16];
    const char *names[N];
    for (int i = 0; i < N; i++) {
        snprintf(store[i], sizeof store[i], i == 7 ? "caf\xc3\xa9%d" : "f%d", i);
        names[i] = store[i];
    }
    pd_buf_t body = PD_BUF_INIT, err = PD_BUF_INIT;
    assert_int_equal(pd_buf_puts(&body, "{\"f1\": \"not a number\", \"zzz\": 1, "
                                        "\"a-key-longer-than-every-name\": 2, \"\\u0066oo\": 3"), 0);
    for (int i = N - 1; i >= 0; i--)
        assert_int_equal(i == 7 ? pd_buf_printf(&body, ", \"caf\\u00e9%d\": %d", i, i)
                                : pd_buf_printf(&body, ", \"\\u0066%s\": %d.25", names[i] + 1, i),
                         0);
    assert_int_equal(pd_buf_puts(&body, "}"), 0);
    double out[N];
    assert_int_equal(pd_features_decode(names, N, NULL, body.data, body.len, out, &err), 0);
    for (int i = 0; i < N; i++)
        assert_true(out[i] == (i == 7 ? 7.0 : i + 0.25));
    /* without the later f1, the first (a string) is reported, and only it */
    char *late = strstr(body.data, "\"\\u0066" "1\"");
    assert_non_null(late);
    memcpy(late + 1, "\\u0067", 6); /* \u0066 (f) -> \u0067 (g): an unknown key */
    assert_int_equal(pd_features_decode(names, N, NULL, body.data, body.len, out, &err),
                     PD_EINVAL);
    assert_string_equal(err.data, "{\"detail\":[{\"loc\":[\"body\",\"f1\"],\"msg\":\"value is not "
                                  "a valid float\",\"type\":\"type_error.float\"}]}");
    pd_buf_free(&body);
    pd_buf_free(&err);
}

/* A tiny PRNG so the fuzz loop is reproducible. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static void mutate(unsigned char *b, size_t *len, size_t cap)
{
    static const char tokens[] = "{}[]\",:\\ 0123456789.eE+-tfnNIu_x\n\t\x00\x7f\xc3\xa9\xed\xa0\xff";
    int edits = 1 + (int)(rnd() % 4);
    for (int e = 0; e < edits; e++) {
        uint32_t op = rnd() % 4;
        size_t at = *len ? rnd() % (*len + 1) : 0;
        if (op == 0 && at < *len) /* replace */
            b[at] = (unsigned char)tokens[rnd() % (sizeof tokens - 1)];
        else if (op == 1 && *len < cap) { /* insert */
            memmove(b + at + 1, b + at, *len - at);
            b[at] = (unsigned char)tokens[rnd() % (sizeof tokens - 1)];
            (*len)++;
        } else if (op == 2 && at < *len) { /* delete */
            memmove(b + at, b + at + 1, *len - at - 1);
            (*len)--;
        } else if (op == 3) /* truncate */
            *len = at;
    }
}

/* Every mutated golden body must decode to one of the documented outcomes, with a body
 * that is valid JSON of FastAPI's shape, finite features on success, and no leak. */
static void test_fuzz_invariants(void **state)
{
    (void)state;
    json_t *cases = load_cases();
    enum { ITER = 20000, CAP = 1024 };
    unsigned char buf[CAP];
    pd_buf_t err = PD_BUF_INIT;
    size_t ncases = json_array_size(cases), outcomes[3] = {0, 0, 0};
    for (int it = 0; it < ITER; it++) {
        json_t *c = json_array_get(cases, rnd() % ncases);
        json_t *bs = json_object_get(c, "body");
        const char *s = json_string_value(bs);
        size_t len = s ? json_string_length(bs) : 0;
        if (len > CAP / 2)
            len = CAP / 2;
        memcpy(buf, s ? s : "", len);
        mutate(buf, &len, CAP);
        double out[2];
        int rc = pd_features_decode(NAMES, 2, "application/json", (const char *)buf, len, out, &err);
        if (rc == 0) {
            outcomes[0]++;
            assert_true(isfinite(out[0]) && isfinite(out[1]));
            continue;
        }
        assert_true(rc == PD_EINVAL || rc == PD_EFORMAT);
        outcomes[rc == PD_EINVAL ? 1 : 2]++;
        json_error_t jerr;
        json_t *doc = json_loadb(err.data, err.len, JSON_ALLOW_NUL, &jerr);
        if (doc == NULL)
            fail_msg("invalid error body %s: %s", err.data, jerr.text);
        json_t *detail = json_object_get(doc, "detail");
        assert_true(rc == PD_EFORMAT ? json_is_string(detail)
                                     : json_is_array(detail) && json_array_size(detail) >= 1);
        json_decref(doc);
    }
    printf("  fuzz: %zu ok, %zu 422, %zu 400\n", outcomes[0], outcomes[1], outcomes[2]);
    assert_true(outcomes[0] > 0 && outcomes[1] > 0);
    pd_buf_free(&err);
    json_decref(cases);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_cases),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_many_features),
        cmocka_unit_test(test_name_index),
        cmocka_unit_test(test_fuzz_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
