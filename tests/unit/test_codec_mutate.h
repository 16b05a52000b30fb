/* test_codec_mutate.h - the mutation test every JSON/CSV codec's unit test shares: bounded
 * random mutations of valid bodies must decode cleanly or fail with the codec's own error
 * shape. Header-only (static inline) so that each test file stays one executable. */
#ifndef PD_TEST_CODEC_MUTATE_H
#define PD_TEST_CODEC_MUTATE_H

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"

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
