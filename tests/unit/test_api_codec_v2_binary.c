/* test_api_codec_v2_binary.c - pd_codec_v2 with Triton's binary tensor data extension:
 * the request Triton's Python client sends (JSON part, Inference-Header-Content-Length,
 * inputs with binary_data_size and raw little-endian bytes), every datatype's bytes
 * converted exactly, binary16 (every bit pattern, its specials, rounding to it), JSON and
 * binary inputs mixed, missing values, the errors of sizes and lengths, and random
 * mutations of valid requests. */
#include "test_api_codec_v2_fixture.h"

#include "api/codec_v2_internal.h"

/* Little-endian bytes of v (n bytes) at p. */
static void le(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* A one-input binary request for reg2: shape [rows, 2] of `type`, the given bytes. */
static void expect_binary(const char *type, const unsigned char *bytes, size_t n, size_t rows,
                          const double *want)
{
    char json[256], h[32];
    snprintf(json, sizeof json, "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[%zu,2],"
             "\"datatype\":\"%s\",\"parameters\":{\"binary_data_size\":%zu}}],\"parameters\":"
             "{\"binary_data_output\":true}}", rows, type, n);
    size_t len;
    char *b = binary_body(json, bytes, n, &len, h);
    expect_rows_full(&reg2, 1, h, b, len, rows, want);
    free(b);
}

/* Every datatype's little-endian bytes. */
static void test_binary_datatypes(void **state)
{
    (void)state;
    unsigned char b[32];
    b[0] = 1, b[1] = 0, b[2] = 0, b[3] = 1;
    expect_binary("BOOL", b, 4, 2, (const double[]){1, 0, 0, 1});
    le(b, 255, 1), le(b + 1, 7, 1);
    expect_binary("UINT8", b, 2, 1, (const double[]){255, 7});
    le(b, 0xFFFF, 2), le(b + 2, 0x1234, 2);
    expect_binary("UINT16", b, 4, 1, (const double[]){65535, 0x1234});
    le(b, 0xFFFFFFFFu, 4), le(b + 4, 0x01020304u, 4);
    expect_binary("UINT32", b, 8, 1, (const double[]){4294967295.0, 0x01020304});
    le(b, UINT64_MAX, 8), le(b + 8, (1ull << 53) + 1, 8);
    expect_binary("UINT64", b, 16, 1, (const double[]){18446744073709551616.0, 9007199254740992.0});
    le(b, 0x80, 1), le(b + 1, 0x7F, 1);
    expect_binary("INT8", b, 2, 1, (const double[]){-128, 127});
    le(b, 0x8000, 2), le(b + 2, 0xFFFF, 2);
    expect_binary("INT16", b, 4, 1, (const double[]){-32768, -1});
    le(b, 0x80000000u, 4), le(b + 4, 5, 4);
    expect_binary("INT32", b, 8, 1, (const double[]){-2147483648.0, 5});
    le(b, 0x8000000000000000ull, 8), le(b + 8, (uint64_t)-3, 8);
    expect_binary("INT64", b, 16, 1, (const double[]){-9223372036854775808.0, -3});
    le(b, 0x3C00, 2), le(b + 2, 0xC000, 2), le(b + 4, 0x0001, 2), le(b + 6, 0x7BFF, 2);
    expect_binary("FP16", b, 8, 2, (const double[]){1.0, -2.0, 0x1p-24, 65504});
    float f[2] = {0.1f, -1e-45f}; /* a subnormal float */
    uint32_t u;
    memcpy(&u, &f[0], 4), le(b, u, 4);
    memcpy(&u, &f[1], 4), le(b + 4, u, 4);
    expect_binary("FP32", b, 8, 1, (const double[]){(double)0.1f, (double)f[1]});
    double d[2] = {0.1, -0.0};
    uint64_t w;
    memcpy(&w, &d[0], 8), le(b, w, 8);
    memcpy(&w, &d[1], 8), le(b + 8, w, 8);
    expect_binary("FP64", b, 16, 1, d);
    /* missing values: a NaN of any float type, for a model that takes them */
    le(b, 0x7E00, 2), le(b + 2, 0x3800, 2);
    expect_binary("FP16", b, 4, 1, (const double[]){NAN, 0.5});
    le(b, 0x7FC00000u, 4), le(b + 4, 0x3F800000u, 4);
    expect_binary("FP32", b, 8, 1, (const double[]){NAN, 1});
}

/* binary16 -> double for all 65536 bit patterns: the value as IEEE 754 defines it, and
 * back through the rounding function; every midpoint between two neighbours rounds to
 * the even one. */
static void test_half_exhaustive(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 0x10000; h++) {
        double x = pd__v2_half_to_double((uint16_t)h);
        int e = (h >> 10) & 0x1f, m = h & 0x3ff;
        double want = e == 0 ? m * 0x1p-24 : e == 31 ? (m ? NAN : INFINITY)
                                                     : (1 + m / 1024.0) * ldexp(1, e - 15);
        if (h & 0x8000)
            want = -want;
        if (isnan(want)) {
            assert_true(isnan(x) && isnan(pd__v2_double_to_half(x)));
            continue;
        }
        assert_true(memcmp(&x, &want, sizeof x) == 0);
        double back = pd__v2_double_to_half(x);
        assert_true(memcmp(&back, &x, sizeof x) == 0);
        if ((h & 0x7fff) >= 0x7bff) /* 65504 and up: no finite neighbour above */
            continue;
        double next = pd__v2_half_to_double((uint16_t)(h + 1)), mid = (x + next) / 2;
        double even = (h & 1) ? next : x, r = pd__v2_double_to_half(mid);
        assert_true(memcmp(&r, &even, sizeof r) == 0);
        /* just above / below the midpoint: the nearer one */
        double up = pd__v2_double_to_half(nextafter(mid, signbit(x) ? -INFINITY : INFINITY));
        double down = pd__v2_double_to_half(nextafter(mid, 0));
        assert_true(up == next && down == x);
    }
    assert_true(pd__v2_double_to_half(65519.999) == 65504);
    assert_true(isinf(pd__v2_double_to_half(65520)) && isinf(pd__v2_double_to_half(-1e300)));
    assert_true(pd__v2_double_to_half(0x1p-25) == 0 && pd__v2_double_to_half(0x1.8p-25) ==
                0x1p-24);
    double nz = pd__v2_double_to_half(-0x1p-30);
    assert_true(nz == 0 && signbit(nz));
}

/* Non-finite and refused binary values. */
static void test_binary_value_errors(void **state)
{
    (void)state;
    unsigned char b[16];
    char h[32];
    size_t len;
    struct {
        const char *type;
        uint64_t v0;
        size_t size;
        int missing_ok;
        const char *want;
    } cases[] = {
        {"FP16", 0x7C00, 2, 1, "input 'x': element 0 (row 0, feature 'a'): Infinity is not a "
                               "finite number"},
        {"FP16", 0xFC00, 2, 1, "input 'x': element 0 (row 0, feature 'a'): -Infinity is not a "
                               "finite number"},
        {"FP16", 0x7E00, 2, 0, "input 'x': element 0 (row 0, feature 'a'): NaN, and the model "
                               "takes no missing values"},
        {"FP32", 0x7F800000u, 4, 1, "input 'x': element 0 (row 0, feature 'a'): Infinity is not "
                                    "a finite number"},
        {"FP64", 0x7FF8000000000000ull, 8, 0, "input 'x': element 0 (row 0, feature 'a'): NaN, "
                                              "and the model takes no missing values"},
        {"BOOL", 2, 1, 1, "input 'x': element 0 (row 0, feature 'a'): BOOL byte 2 is neither 0 "
                          "nor 1"},
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(cases); i++) {
        memset(b, 0, sizeof b);
        le(b, cases[i].v0, cases[i].size);
        char json[256];
        snprintf(json, sizeof json, "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":"
                 "\"%s\",\"parameters\":{\"binary_data_size\":%zu}}]}", cases[i].type,
                 2 * cases[i].size);
        char *body = binary_body(json, b, 2 * cases[i].size, &len, h);
        expect_err_full(&reg2, cases[i].missing_ok, h, body, len, 0, 400, cases[i].want);
        free(body);
    }
}

/* As Triton's client sends it: JSON and binary inputs mixed, per feature, key order of
 * rapidjson's dumps, the header's length exact. */
static void test_mixed_json_and_binary_columns(void **state)
{
    (void)state;
    unsigned char bytes[8 + 4];
    float bf[2] = {3.25f, 4.5f};
    uint32_t u;
    memcpy(&u, &bf[0], 4), le(bytes, u, 4);
    memcpy(&u, &bf[1], 4), le(bytes + 4, u, 4);
    le(bytes + 8, 0xFFFFFFFFu, 4); /* the INT16 input's two values: -1, -1 */
    const char *json = "{\"id\":\"7\",\"inputs\":[{\"name\":\"b\",\"shape\":[2,1],\"datatype\":"
                       "\"FP32\",\"parameters\":{\"binary_data_size\":8}},{\"name\":\"a\","
                       "\"shape\":[2],\"datatype\":\"FP64\",\"data\":[1.5,-2.25]}],\"outputs\":"
                       "[{\"name\":\"predict\",\"parameters\":{\"binary_data\":true}}]}";
    char h[32];
    size_t len;
    char *b = binary_body(json, bytes, 8, &len, h);
    expect_rows_full(&reg2, 0, h, b, len, 2, (const double[]){1.5, 3.25, -2.25, 4.5});
    free(b);
    /* the header with no binary data at all (some clients always send it) */
    const char *plain = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\","
                        "\"data\":[1,2]}]}";
    snprintf(h, sizeof h, "%zu", strlen(plain));
    expect_rows_full(&reg2, 0, h, plain, strlen(plain), 1, (const double[]){1, 2});
    /* two binary inputs: bytes in the order of the inputs */
    const char *two = "{\"inputs\":[{\"name\":\"a\",\"shape\":[2],\"datatype\":\"FP32\","
                      "\"parameters\":{\"binary_data_size\":8}},{\"name\":\"b\",\"shape\":[2],"
                      "\"datatype\":\"INT16\",\"parameters\":{\"binary_data_size\":4}}]}";
    b = binary_body(two, bytes, 12, &len, h);
    expect_rows_full(&reg2, 0, h, b, len, 2, (const double[]){3.25, -1, 4.5, -1});
    free(b);
}

/* Lengths that do not add up, and a bad header. */
static void test_binary_length_errors(void **state)
{
    (void)state;
    unsigned char bytes[40] = {0};
    char h[32];
    size_t len;
    const char *j16 = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\","
                      "\"parameters\":{\"binary_data_size\":16}}]}";
    char *b = binary_body(j16, bytes, 8, &len, h);
    expect_err_full(&reg2, 0, h, b, len, 0, 400, "input 'x': its 16 bytes of binary data go "
                    "past the end of the body (8 bytes left after the JSON part)");
    free(b);
    b = binary_body(j16, bytes, 24, &len, h);
    expect_err_full(&reg2, 0, h, b, len, 0, 400, "the body has 8 bytes after the JSON part (94 "
                    "bytes, Inference-Header-Content-Length) that no input's binary_data_size "
                    "accounts for");
    free(b);
    /* no header: the whole body is JSON, there is no binary part */
    expect_err_full(&reg2, 0, NULL, j16, strlen(j16), 0, 400, "input 'x': its 16 bytes of "
                    "binary data go past the end of the body (0 bytes left after the JSON part; "
                    "no Inference-Header-Content-Length header says where it ends)");
    const char *j12 = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\","
                      "\"parameters\":{\"binary_data_size\":12}}]}";
    b = binary_body(j12, bytes, 12, &len, h);
    expect_err_full(&reg2, 0, h, b, len, 0, 400, "input 'x': binary_data_size is 12 bytes, "
                    "shape [1, 2] of FP64 holds 16");
    free(b);
    b = binary_body(j16, bytes, 16, &len, h);
    expect_err_full(&reg2, 0, "12x", b, len, 0, 400, "Inference-Header-Content-Length: expected "
                    "the JSON part's length in bytes, got '12x'");
    expect_err_full(&reg2, 0, "", b, len, 0, 400, "Inference-Header-Content-Length: expected "
                    "the JSON part's length in bytes, got ''");
    expect_err_full(&reg2, 0, "999", b, len, 0, 400, "Inference-Header-Content-Length is 999, "
                    "more than the body's 110 bytes");
    /* a header one byte short cuts the JSON */
    snprintf(h, sizeof h, "%zu", strlen(j16) - 1);
    expect_err_full(&reg2, 0, h, b, len, 0, 400, "body: invalid JSON: Expecting ',' delimiter "
                    "at byte 93 (line 1, column 94)");
    free(b);
    const char *neg = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\","
                      "\"parameters\":{\"binary_data_size\":-16}}]}";
    expect_err(&reg2, 0, neg, 400, "input 'x': parameters.binary_data_size must be a "
               "non-negative integer, got a number");
    const char *bytes_in = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"BYTES\","
                           "\"parameters\":{\"binary_data_size\":10}}]}";
    b = binary_body(bytes_in, bytes, 10, &len, h);
    expect_err_full(&reg2, 0, h, b, len, 0, 400, "input 'x': datatype BYTES is not accepted, "
                    "the model's inputs are numbers (BOOL, INT8..INT64, UINT8..UINT64, FP16, "
                    "FP32, FP64)");
    free(b);
}

/* A big binary request, as the bench sends it: every value lands in its cell. */
static void test_binary_matrix_many_rows(void **state)
{
    (void)state;
    enum { N = 1000 };
    static double x[N * 4];
    static unsigned char bytes[N * 4 * 8];
    for (size_t i = 0; i < N * 4; i++) {
        x[i] = (double)i * 0.25 - 100;
        uint64_t w;
        memcpy(&w, &x[i], 8);
        le(bytes + 8 * i, w, 8);
    }
    char json[256], h[32];
    snprintf(json, sizeof json, "{\"inputs\":[{\"name\":\"input-0\",\"shape\":[%d,4],"
             "\"datatype\":\"FP64\",\"parameters\":{\"binary_data_size\":%d}}]}", N, N * 32);
    size_t len;
    char *b = binary_body(json, bytes, sizeof bytes, &len, h);
    expect_rows_full(&iris, 0, h, b, len, N, x);
    free(b);
}

/* Random mutations of valid requests (JSON and binary): never a crash or a read past the
 * body (ASan), always 0 with sound rows or a 400/413 {"error": ...}. */
static void test_mutations(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "{\"id\":\"1\",\"inputs\":[{\"name\":\"input-0\",\"shape\":[2,2],\"datatype\":\"FP32\","
        "\"data\":[[1.5,2],[3,4e1]]}],\"outputs\":[{\"name\":\"predict\"}]}",
        "{\"inputs\":[{\"data\":[1,2],\"name\":\"b\",\"datatype\":\"INT8\",\"shape\":[2]},"
        "{\"name\":\"a\",\"shape\":[2,1],\"datatype\":\"FP16\",\"data\":[null,0.5]}],"
        "\"parameters\":{\"timeout\":5,\"binary_data_output\":true}}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\",\"parameters\":"
        "{\"binary_data_size\":16}}]}\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00"
        "\x00\x40",
    };
    static const size_t json_len[] = {0, 0, 94};
    static const char alphabet[] = "{}[],:\"\\ 0123456789.eE-+nulltruefalseNaI\xff\xc3";
    srand(4242);
    for (int round = 0; round < 30000; round++) {
        size_t k = (size_t)round % PD_ARRAY_SIZE(seeds);
        size_t len = k == 2 ? 94 + 16 : strlen(seeds[k]);
        char *b = malloc(len + 8), h[32];
        assert_non_null(b);
        memcpy(b, seeds[k], len);
        for (int m = 0, nm = 1 + rand() % 3; m < nm && len > 0; m++) {
            size_t at = (size_t)rand() % len;
            switch (rand() % 4) {
            case 0: b[at] = alphabet[rand() % (int)(sizeof alphabet - 1)]; break;
            case 1: b[at] = (char)(rand() % 256); break;
            case 2: len = at; break;
            default:
                memmove(b + at + 1, b + at, len - at);
                b[at] = alphabet[rand() % (int)(sizeof alphabet - 1)];
                len++;
            }
        }
        snprintf(h, sizeof h, "%zu", json_len[k]);
        int missing_ok = round % 2;
        pd_rows_t rows;
        pd_buf_t err;
        int rc = v2_run(&reg2, missing_ok, json_len[k] ? h : NULL, b, len, 4, &rows, &err);
        if (rc == 0) {
            assert_true(rows.n_rows <= 4 && rows.codec_state != NULL);
            for (size_t i = 0; i < rows.n_rows * rows.n_cols; i++)
                assert_true(isfinite(rows.x[i]) || (missing_ok && isnan(rows.x[i])));
        } else {
            if (rc != 400 && rc != 413)
                fail_msg("rc %d for %.*s", rc, (int)len, b);
            free(error_message(&err));
        }
        pd_rows_free(&rows);
        pd_buf_free(&err);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_datatypes),
        cmocka_unit_test(test_half_exhaustive),
        cmocka_unit_test(test_binary_value_errors),
        cmocka_unit_test(test_mixed_json_and_binary_columns),
        cmocka_unit_test(test_binary_length_errors),
        cmocka_unit_test(test_binary_matrix_many_rows),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
