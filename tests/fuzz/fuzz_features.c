/* fuzz_features.c - libFuzzer target for pd_features_decode() (src/api/features.c and the
 * json_* scanner under it). The first input byte picks the Content-Type and the feature
 * names; the rest is the body. Checked on every input: the return code is one of the
 * documented ones, success yields finite features, and every error body is valid JSON of
 * FastAPI's shape ({"detail":[...]} for 422, {"detail":"..."} for 400). ASan/UBSan catch
 * the rest.
 *
 * Build and run (clang-14 + libclang-rt-14-dev, Debian 12), from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_features.c src/api/features.c src/api/json_*.c src/util/buf.c \
 *     src/util/error.c -ljansson -lm -o build/fuzz_features
 *   /usr/bin/python3 tests/fuzz/seed_corpus.py build/fuzz_corpus
 *   build/fuzz_features -max_total_time=60 -max_len=4096 build/fuzz_corpus */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/features.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const CTYPES[] = {NULL, "application/json", "text/plain", "",
                                     "application/x+json; charset=utf-8"};
static const char *const NAMES2[] = {"feature1", "feature2"};
static const char *const NAMES3[] = {"a", "\xc3\xa9", "feature1"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned sel = data[0];
    const char *ct = CTYPES[sel % PD_ARRAY_SIZE(CTYPES)];
    int three = (sel >> 4) & 1;
    const char *const *names = three ? NAMES3 : NAMES2;
    size_t n = three ? 3 : 2;
    double out[3];
    pd_buf_t err = PD_BUF_INIT;
    int rc = pd_features_decode(names, n, ct, (const char *)data + 1, size - 1, out, &err);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            if (!isfinite(out[i]))
                abort();
    } else if (rc == PD_EINVAL || rc == PD_EFORMAT) {
        json_error_t jerr;
        json_t *doc = json_loadb(err.data, err.len, JSON_ALLOW_NUL, &jerr);
        json_t *detail = doc ? json_object_get(doc, "detail") : NULL;
        if (detail == NULL || (rc == PD_EINVAL ? !json_is_array(detail) || !json_array_size(detail)
                                               : !json_is_string(detail)))
            abort();
        json_decref(doc);
    } else
        abort();
    pd_buf_free(&err);
    return 0;
}
