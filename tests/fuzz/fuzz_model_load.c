/* fuzz_model_load.c - libFuzzer target for the model file readers: pd_model_load_buffer()
 * on arbitrary bytes, i.e. the JSON text reader with XGBoost's NaN/Infinity literals and
 * the UBJSON reader (src/model/json_read.c, ubjson.c) and, behind them, every loader.
 * Checked on every input: a success yields a model with a schema of >= 1 feature that
 * predicts one all-zero row; a failure returns a negative code, no model and a message
 * naming the label. ASan/UBSan catch the rest. Seeds: corpus/fuzz_model_load (an XGBoost
 * model as .json and .ubj).
 *
 * By hand (clang-14 + libclang-rt-14-dev), from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_model_load.c src/model/[a-z]*.c src/util/[a-z]*.c -ljansson -lm \
 *     -o build/fuzz_model_load
 *   build/fuzz_model_load -max_total_time=60 -max_len=8192 tests/fuzz/corpus/fuzz_model_load */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    pd_model_t *m = NULL;
    int rc = pd_model_load_buffer((const char *)data, size, "fz", &m, err, sizeof err);
    if (rc != 0) {
        if (rc >= 0 || m != NULL || strncmp(err, "fz: ", 4) != 0)
            abort();
        return 0;
    }
    const pd_model_schema_t *s = pd_model_schema(m);
    if (!s || s->n_features < 1)
        abort();
    double *x = calloc(s->n_features, sizeof *x);
    void *ws = malloc(pd_model_scratch_size(m, 1));
    int32_t cls = 0;
    double val = 0, *proba = calloc(s->n_classes ? s->n_classes : 1, sizeof *proba);
    pd_predict_out_t out = {s->task == PD_TASK_CLASSIFICATION ? &cls : NULL,
                            s->task == PD_TASK_REGRESSION ? &val : NULL, NULL};
    if (x && ws && proba && pd_model_predict(m, x, 1, ws, &out) != 0)
        abort();
    free(x), free(ws), free(proba);
    pd_model_free(m);
    return 0;
}
