/* bench_kernels.c - single-threaded kernel benchmark: predictd's pd_model_predict against
 * libxgboost's XGBoosterPredictFromDense (nthread=1) on the same model and rows.
 *
 *   bench_kernels MODEL.json X.f64 NROWS NFEAT [XGB_MODEL.json]
 *
 * X.f64 holds NROWS*NFEAT native doubles (row-major). Prints one "key value" per line:
 * single-row latency (ns, mean over many calls), batch throughput (rows/s, whole X per
 * call), loaded-model memory against its node arrays, and with XGB_MODEL the same figures
 * for libxgboost plus the number of predictions that differ (0 expected). Driven by
 * run.py; every loop is bounded by a time budget and an iteration cap.
 *
 * Clock: wall time, or with PD_BENCH_CLOCK=thread this thread's CPU time, which a busy
 * shared machine disturbs much less (time spent descheduled is not counted); use it to
 * compare two builds side by side. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xgboost/c_api.h>

#include "model/model.h"

#define BUDGET_S 1.0          /* seconds per measurement */
#define MAX_ITERS 10000000L   /* iteration cap per measurement */

static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
    const pd_model_t *m;
    const double *x;
    size_t n, nf;
    void *ws;
    double *val, *proba;
    int32_t *cls;
} pd_ctx_t;

static void pd_run(pd_ctx_t *c, size_t r0, size_t n)
{
    pd_predict_out_t out = {c->cls + r0, c->val + r0, c->proba + r0 * 16};
    pd_model_predict(c->m, c->x + r0 * c->nf, n, c->ws, &out);
}

typedef struct {
    BoosterHandle h;
    const float *x;
    size_t n, nf;
    const float *last;
} xgb_ctx_t;

static void xgb_run(xgb_ctx_t *c, size_t r0, size_t n)
{
    char arr[256];
    snprintf(arr, sizeof arr,
             "{\"data\": [%lu, true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", "
             "\"version\": 3}",
             (unsigned long)(uintptr_t)(c->x + r0 * c->nf), n, c->nf);
    const char *cfg = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                      "\"iteration_end\": 0, \"strict_shape\": false, \"cache_id\": 0, "
                      "\"missing\": NaN}";
    const bst_ulong *shape;
    bst_ulong dim;
    if (XGBoosterPredictFromDense(c->h, arr, cfg, NULL, &shape, &dim, &c->last) != 0) {
        fprintf(stderr, "xgboost: %s\n", XGBGetLastError());
        exit(1);
    }
}

/* Mean seconds per call of fn(ctx, row, rows) over rotating single rows / whole batch. */
#define MEASURE(fn, ctx, rows, out_s)                                            \
    do {                                                                         \
        long it = 0;                                                             \
        double t0 = now(), t;                                                    \
        do {                                                                     \
            for (int k = 0; k < 64; k++, it++)                                   \
                fn(ctx, (rows) == 1 ? (size_t)it % (ctx)->n : 0, rows);          \
            t = now() - t0;                                                      \
        } while (t < BUDGET_S && it < MAX_ITERS);                                \
        out_s = t / (double)it;                                                  \
    } while (0)

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: bench_kernels MODEL.json X.f64 NROWS NFEAT [XGB.json]\n");
        return 2;
    }
    const char *clk = getenv("PD_BENCH_CLOCK");
    if (clk && strcmp(clk, "thread") == 0)
        bench_clock = CLOCK_THREAD_CPUTIME_ID;
    size_t n = strtoul(argv[3], NULL, 10), nf = strtoul(argv[4], NULL, 10);
    if (n == 0 || nf == 0 || n > 10000000 || nf > 100000) {
        fprintf(stderr, "bench_kernels: bad NROWS/NFEAT\n");
        return 2;
    }
    double *x = malloc(n * nf * sizeof *x);
    float *xf = malloc(n * nf * sizeof *xf);
    FILE *f = fopen(argv[2], "rb");
    if (!x || !xf || !f || fread(x, sizeof *x, n * nf, f) != n * nf) {
        fprintf(stderr, "bench_kernels: cannot read %s\n", argv[2]);
        return 1;
    }
    fclose(f);
    for (size_t i = 0; i < n * nf; i++)
        xf[i] = (float)x[i];
    char err[1024];
    pd_model_t *m;
    if (pd_model_load(argv[1], &m, err, sizeof err)) {
        fprintf(stderr, "bench_kernels: %s\n", err);
        return 1;
    }
    if (pd_model_schema(m)->n_features != nf || pd_model_schema(m)->n_classes > 16) {
        fprintf(stderr, "bench_kernels: model has %zu features\n", pd_model_schema(m)->n_features);
        return 1;
    }
    pd_ctx_t pc = {m, x, n, nf, malloc(pd_model_scratch_size(m, n)), malloc(n * sizeof(double)),
                   malloc(n * 16 * sizeof(double)), malloc(n * sizeof(int32_t))};
    pd_model_stats_t st;
    pd_model_stats(m, &st);
    printf("trees %zu\nnodes %zu\nmodel_bytes %zu\nnode_array_bytes %zu\n", st.n_trees,
           st.n_nodes, st.bytes, st.n_nodes * 16);
    double s1, sb;
    MEASURE(pd_run, &pc, 1, s1);
    MEASURE(pd_run, &pc, n, sb);
    printf("predictd_single_ns %.1f\npredictd_batch_rows_per_s %.0f\n", s1 * 1e9, (double)n / sb);
    if (argc == 6) {
        xgb_ctx_t xc = {NULL, xf, n, nf, NULL};
        if (XGBoosterCreate(NULL, 0, &xc.h) || XGBoosterLoadModel(xc.h, argv[5]) ||
            XGBoosterSetParam(xc.h, "nthread", "1")) {
            fprintf(stderr, "xgboost: %s\n", XGBGetLastError());
            return 1;
        }
        MEASURE(xgb_run, &xc, 1, s1);
        MEASURE(xgb_run, &xc, n, sb);
        printf("xgboost_single_ns %.1f\nxgboost_batch_rows_per_s %.0f\n", s1 * 1e9,
               (double)n / sb);
        xgb_run(&xc, 0, n);
        pd_run(&pc, 0, n);
        size_t diff = 0, nc = pd_model_schema(m)->n_classes;
        for (size_t r = 0; r < n; r++) {
            double ours = nc == 2 ? pc.proba[r * 2 + 1] : nc ? pc.proba[r * nc] : pc.val[r];
            double theirs = nc > 2 ? xc.last[r * nc] : xc.last[r];
            diff += ours != theirs;
        }
        printf("xgboost_mismatches %zu\n", diff);
        XGBoosterFree(xc.h);
    }
    free(pc.ws), free(pc.val), free(pc.proba), free(pc.cls), free(x), free(xf);
    pd_model_free(m);
    return 0;
}
