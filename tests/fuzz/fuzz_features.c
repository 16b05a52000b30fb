/* fuzz_features.c - libFuzzer target for the request-body decoder: pd_features_decode()
 * (one row) and pd_codec_fastapi's decode (a JSON array is a list of rows), i.e.
 * src/api/features*.c, codec_fastapi.c and the json_* scanner under them. The first input
 * byte picks the Content-Type (bits 0-2), the feature names (bit 4), the entry point (bit
 * 5: the codec), missing_ok (bit 6) and the codec's max_rows (bit 7: 2, else the default);
 * the rest is the body. Checked on every input: the return code is one of the documented
 * ones; a success yields finite features (NaN only as a missing value with missing_ok),
 * one row for a non-list body, at most max_rows rows; every error body is valid JSON of
 * FastAPI's shape ({"detail":[...]} for 422, {"detail":"..."} for 400 and 413). ASan/UBSan
 * catch the rest.
 *
 * `make fuzz` / `make fuzz-quick` build and run it with the other targets (seeds from
 * seed_corpus.py, see run_fuzzers.py). By hand (clang-14 + libclang-rt-14-dev, Debian 12),
 * from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_features.c src/api/features*.c src/api/json_*.c \
 *     src/api/codec_fastapi.c src/api/rows.c src/util/buf.c src/util/dtoa.c \
 *     src/util/error.c \
 *     -ljansson -lm -o build/fuzz_features
 *   /usr/bin/python3 tests/fuzz/seed_corpus.py build/fuzz_corpus
 *   build/fuzz_features -max_total_time=60 -max_len=4096 build/fuzz_corpus */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"
#include "api/features.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const CTYPES[] = {NULL, "application/json", "text/plain", "",
                                     "application/x+json; charset=utf-8"};
static const char *const NAMES2[] = {"feature1", "feature2"};
static const char *const NAMES3[] = {"a", "\xc3\xa9", "feature1"};

/* An error body must be JSON: {"detail": [non-empty]} when `list`, else {"detail": "..."}. */
static void check_error_body(const pd_buf_t *err, int list)
{
    json_error_t jerr;
    json_t *doc = json_loadb(err->data, err->len, JSON_ALLOW_NUL, &jerr);
    json_t *detail = doc ? json_object_get(doc, "detail") : NULL;
    if (detail == NULL || (list ? !json_is_array(detail) || !json_array_size(detail)
                                : !json_is_string(detail)))
        abort();
    json_decref(doc);
}

static void run_features(const char *const *names, size_t n, const char *ct,
                         const uint8_t *body, size_t len)
{
    double out[3];
    pd_buf_t err = PD_BUF_INIT;
    int rc = pd_features_decode(names, n, ct, (const char *)body, len, out, &err);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            if (!isfinite(out[i]))
                abort();
    } else if (rc == PD_EINVAL || rc == PD_EFORMAT)
        check_error_body(&err, rc == PD_EINVAL);
    else
        abort();
    pd_buf_free(&err);
}

static void run_codec(const char *const *names, size_t n, const char *ct, int missing_ok,
                      size_t max_rows, const uint8_t *body, size_t len)
{
    pd_model_schema_t s = {.task = PD_TASK_REGRESSION, .n_features = n, .feature_names = names};
    pd_codec_in_t in = {.schema = &s, .missing_ok = missing_ok, .content_type = ct,
                        .query = "", .body = (const char *)body, .len = len};
    pd_rows_t r;
    pd_buf_t err = PD_BUF_INIT;
    pd_rows_init(&r, n, max_rows);
    int rc = pd_codec_fastapi.decode(&in, &r, &err);
    if (r.n_rows > r.max_rows)
        abort();
    if (rc == 0) {
        if (r.single && r.n_rows != 1)
            abort();
        for (size_t i = 0; i < r.n_rows * n; i++)
            if (!isfinite(r.x[i]) && !(missing_ok && isnan(r.x[i])))
                abort();
    } else if (rc == 400 || rc == 413 || rc == 422)
        check_error_body(&err, rc == 422);
    else
        abort();
    pd_rows_free(&r);
    pd_buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned sel = data[0];
    const char *ct = CTYPES[(sel & 7) % PD_ARRAY_SIZE(CTYPES)];
    int three = (sel >> 4) & 1;
    const char *const *names = three ? NAMES3 : NAMES2;
    size_t n = three ? 3 : 2;
    if (sel & 0x20)
        run_codec(names, n, ct, (sel >> 6) & 1, (sel & 0x80) ? 2 : 0, data + 1, size - 1);
    else
        run_features(names, n, ct, data + 1, size - 1);
    return 0;
}
