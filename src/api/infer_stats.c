/* infer_stats.c - per version inference counters (see infer_stats.h). Invariant: batches[]
 * is sorted by batch_size and holds each size once, so a lookup is a binary search. */
#include "api/infer_stats.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

void pd_infer_stats_add(pd_duration_stat_t *d, uint64_t ns)
{
    d->count++;
    d->ns += ns;
}

void pd_infer_stats_request(pd_infer_stats_t *s, int ok, uint64_t ns, size_t rows)
{
    if (!ok) {
        pd_infer_stats_add(&s->fail, ns);
        return;
    }
    pd_infer_stats_add(&s->success, ns);
    s->inference_count += rows;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s->last_inference_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The index of batch_size in s->batches, or where it would go (*found = 0). */
static size_t find(const pd_infer_stats_t *s, uint64_t batch_size, int *found)
{
    size_t lo = 0, hi = s->n_batches;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->batches[mid].batch_size < batch_size)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < s->n_batches && s->batches[lo].batch_size == batch_size;
    return lo;
}

void pd_infer_stats_execution(pd_infer_stats_t *s, size_t batch_rows, uint64_t ns)
{
    s->execution_count++;
    int found;
    size_t i = find(s, batch_rows, &found);
    if (!found) {
        if (s->n_batches == PD_INFER_STATS_MAX_SIZES) {
            s->sizes_dropped++;
            return;
        }
        if (s->n_batches == s->cap_batches) {
            size_t cap = PD_MIN(s->cap_batches ? s->cap_batches * 2 : 8,
                                (size_t)PD_INFER_STATS_MAX_SIZES);
            pd_batch_stat_t *b = realloc(s->batches, cap * sizeof *b);
            if (b == NULL) {
                s->sizes_dropped++;
                return;
            }
            s->batches = b;
            s->cap_batches = cap;
        }
        memmove(&s->batches[i + 1], &s->batches[i], (s->n_batches - i) * sizeof *s->batches);
        memset(&s->batches[i], 0, sizeof s->batches[i]);
        s->batches[i].batch_size = batch_rows;
        s->n_batches++;
    }
    pd_infer_stats_add(&s->batches[i].infer, ns);
}

void pd_infer_stats_free(pd_infer_stats_t *s)
{
    if (s == NULL)
        return;
    free(s->batches);
    memset(s, 0, sizeof *s);
}
