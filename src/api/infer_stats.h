/* infer_stats.h - inference statistics of one model version, the counters of Triton's
 * statistics extension (GET /v2/models/{name}[/versions/{version}]/stats, api/v2_api.c),
 * kept by the request pipeline (api/predict.c) for every request a version answers,
 * whatever its protocol.
 *
 * What is counted (durations in nanoseconds, pd_pool_now_ns clock):
 *   success / fail   requests answered 200 / with an error once their version was found,
 *                    from the handler to the answer; inference_count adds the rows of
 *                    each success and last_inference its wall-clock time (ms since epoch)
 *   queue            every job of the version's rows (a chunk of at most --max-batch rows;
 *                    a request predicted on the loop counts one job that waited 0 ns)
 *                    from its queueing to a worker picking it
 *   compute_input    decoding the request's body into rows (on the loop or a worker)
 *   compute_infer    every job, from a worker picking it to its batch finishing (for a
 *                    prediction on the loop: the model call)
 *   compute_output   encoding the answer
 *   executions       worker batches (one run of the model's queue by a worker: several
 *                    requests' chunks gathered, at most --max-batch rows) counted once, for
 *                    the version of their first job, and predictions on the loop; by batch
 *                    size (rows) in batches[], ascending.
 * A version's statistics start at zero when it is installed (a reload of the same version
 * number is a new version) and live as long as it.
 * Threads: loop thread only (the pipeline records from its completions on the loop). */
#ifndef PD_API_INFER_STATS_H
#define PD_API_INFER_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Distinct batch sizes kept per version; executions of further sizes are counted in
 * sizes_dropped only (the default --max-batch of 64 gives at most 64 sizes). */
#define PD_INFER_STATS_MAX_SIZES 1024

typedef struct pd_duration_stat_s {
    uint64_t count, ns;
} pd_duration_stat_t;

typedef struct pd_batch_stat_s {
    uint64_t batch_size;          /* rows */
    pd_duration_stat_t infer;     /* executions of that size and their time */
} pd_batch_stat_t;

typedef struct pd_infer_stats_s {
    uint64_t last_inference_ms;   /* 0: none yet */
    uint64_t inference_count;     /* rows of successful requests */
    uint64_t execution_count;
    pd_duration_stat_t success, fail, queue, compute_input, compute_infer, compute_output;
    pd_batch_stat_t *batches;     /* owned: n_batches, by batch_size ascending */
    size_t n_batches, cap_batches;
    uint64_t sizes_dropped;
} pd_infer_stats_t;

/* Adds one occurrence of ns nanoseconds to d (the caller's). Loop thread. */
void pd_infer_stats_add(pd_duration_stat_t *d, uint64_t ns);

/* One answered request: ok (200) or failed, ns from its handler to its answer, rows
 * predicted (ok only). s is the version's (lives as long as it). Loop thread. */
void pd_infer_stats_request(pd_infer_stats_t *s, int ok, uint64_t ns, size_t rows);

/* One execution of the model on batch_rows rows that took ns. A new batch size needs
 * memory (s->batches, owned by s): without it (or past PD_INFER_STATS_MAX_SIZES sizes)
 * the execution is counted in execution_count and sizes_dropped only. Loop thread. */
void pd_infer_stats_execution(pd_infer_stats_t *s, size_t batch_rows, uint64_t ns);

/* Frees what s allocated and zeroes it (with its version, on the loop). Accepts NULL. */
void pd_infer_stats_free(pd_infer_stats_t *s);

#endif
