/* test_codec_util.h - what the JSON/CSV codecs' unit tests share: decode a body (from a
 * heap copy of exactly its bytes, so ASan sees any read past it), expect an exact error
 * body or exact values, expect an exact encoding, and the mutation test (bounded random
 * mutations of valid bodies must decode cleanly or fail with the codec's own error
 * shape). Header-only (static inline) so that each test file stays one executable. */
#ifndef PD_TEST_CODEC_UTIL_H
#define PD_TEST_CODEC_UTIL_H

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"

/* Decodes body (content type ct) for model s into rows (max_rows) and err, both
 * initialised here; the caller frees them. Returns decode's result. */
static inline int codec_run(const pd_codec_t *codec, const pd_model_schema_t *s,
                            int missing_ok, const char *ct, const char *body, size_t max_rows,
                            pd_rows_t *rows, pd_buf_t *err)
{
    size_t len = strlen(body);
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, body, len);
    pd_rows_init(rows, s->n_features, max_rows);
    pd_buf_init(err, 0);
    pd_codec_in_t in = {.schema = s, .missing_ok = missing_ok, .content_type = ct,
                        .query = "", .body = copy, .len = len};
    int rc = codec->decode(&in, rows, err);
    free(copy);
    return rc;
}

/* The body must be refused with `status` and exactly the error body `want`. */
static inline void codec_expect_err(const pd_codec_t *codec, const pd_model_schema_t *s,
                                    const char *ct, const char *body, int missing_ok,
                                    size_t max_rows, int status, const char *want)
{
    pd_rows_t rows;
    pd_buf_t err;
    int rc = codec_run(codec, s, missing_ok, ct, body, max_rows, &rows, &err);
    if (rc != status || err.data == NULL || strcmp(err.data, want) != 0)
        fail_msg("body %s\n got  %d %s\n want %d %s", body, rc, err.data ? err.data : "(none)",
                 status, want);
    pd_rows_free(&rows);
    pd_buf_free(&err);
}

/* The body must decode into n rows equal to want bit for bit (NaN: any NaN). */
static inline void codec_expect_rows(const pd_codec_t *codec, const pd_model_schema_t *s,
                                     const char *ct, const char *body, int missing_ok,
                                     size_t n, const double *want)
{
    pd_rows_t rows;
    pd_buf_t err;
    int rc = codec_run(codec, s, missing_ok, ct, body, 0, &rows, &err);
    if (rc != 0)
        fail_msg("body %s\n got %d %s", body, rc, err.data ? err.data : "");
    if (rows.n_rows != n)
        fail_msg("body %s\n got %zu rows, want %zu", body, rows.n_rows, n);
    assert_int_equal(rows.single, 0);
    for (size_t i = 0; i < n * s->n_features; i++) {
        double g = rows.x[i], w = want[i];
        if (isnan(w) ? !isnan(g) : memcmp(&g, &w, sizeof g) != 0)
            fail_msg("body %s\n value %zu: got %.17g want %.17g", body, i, g, w);
    }
    pd_rows_free(&rows);
    pd_buf_free(&err);
}

/* rows' results must encode as exactly `want`. */
static inline void codec_expect_encode(const pd_codec_t *codec, const pd_model_schema_t *s,
                                       const pd_rows_t *rows, const char *want)
{
    pd_buf_t out = PD_BUF_INIT;
    assert_int_equal(codec->encode(s, rows, &out), 0);
    assert_string_equal(out.data, want);
    pd_buf_free(&out);
}

/* Bounded random mutations of valid bodies (bytes flipped, inserted, cut): whatever the
 * body, decode answers 0 with finite values (NaN only with missing_ok) and at least one
 * row, or 400/413 with a valid JSON error body of the protocol's shape. ASan checks the
 * reads stay within the body. */
static inline void mutate_all(const pd_codec_t *codec, const pd_model_schema_t *s,
                              const char *ct, const char *const *seeds, size_t n_seeds,
                              int rounds, const char *err_key)
{
    srand(777);
    for (int round = 0; round < rounds; round++) {
        const char *seed = seeds[(size_t)round % n_seeds];
        size_t len = strlen(seed);
        char *b = malloc(len + 8);
        assert_non_null(b);
        memcpy(b, seed, len);
        for (int m = 0, nm = 1 + rand() % 3; m < nm && len > 0; m++) {
            size_t at = (size_t)rand() % len;
            static const char alphabet[] = "{}[],:\"\\ 0123456789.eE-+nulltruefalseNaI\xff\xc3";
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
        int missing_ok = round % 2;
        pd_rows_t rows;
        pd_buf_t err;
        pd_rows_init(&rows, s->n_features, 4);
        pd_buf_init(&err, 0);
        pd_codec_in_t in = {.schema = s, .missing_ok = missing_ok, .content_type = ct,
                             .query = "", .body = b, .len = len};
        int rc = codec->decode(&in, &rows, &err);
        if (rc == 0) {
            assert_true(rows.n_rows >= 1 && rows.n_rows <= 4);
            for (size_t i = 0; i < rows.n_rows * rows.n_cols; i++)
                assert_true(isfinite(rows.x[i]) || (missing_ok && isnan(rows.x[i])));
        } else {
            if (rc != 400 && rc != 413)
                fail_msg("rc %d for %.*s", rc, (int)len, b);
            json_error_t je;
            json_t *j = json_loads(err.data, 0, &je);
            if (!j || !json_is_string(json_object_get(j, err_key)))
                fail_msg("bad error body %s", err.data);
            json_decref(j);
        }
        pd_rows_free(&rows);
        pd_buf_free(&err);
        free(b);
    }
}


#endif
