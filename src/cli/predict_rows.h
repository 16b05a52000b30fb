/* predict_rows.h - the rows path of `predictd predict` (predict_rows.c): CSV lines in,
 * one output line per row out, on N threads, bytes identical for every N. */
#ifndef PD_CLI_PREDICT_ROWS_H
#define PD_CLI_PREDICT_ROWS_H

#include <stddef.h>
#include <stdio.h>

#include "model/csv.h"
#include "model/model.h"

#define PD_PREDICT_CHUNK_ROWS 4096          /* lines a block holds at most */
#define PD_PREDICT_BLOCK_BYTES (256u << 10) /* bytes a block reads (grows for a longer line) */
#define PD_PREDICT_SLOTS_PER_THREAD 2       /* blocks in flight per thread (N > 1) */
#define PD_PREDICT_MAX_THREADS 64

/* One run. Everything is borrowed for the call: m, and csv after pd_csv_open (its file
 * positioned after the header), pd_csv_map and pd_csv_set_inputs; out already holds the
 * header. label names the input in messages. */
typedef struct pd_predict_rows_s {
    const pd_model_t *m;
    pd_csv_t *csv;
    const char *label;
    FILE *out;
    int proba; /* classifiers: write every class's probability after the label */
    long threads; /* 1..PD_PREDICT_MAX_THREADS: 1 runs on the caller's thread only */
} pd_predict_rows_t;

/* Reads the rest of the file in blocks of whole lines, parses and predicts each (on the
 * caller's thread, or N worker threads while the caller reads and writes) and writes the
 * blocks' lines in file order. The first bad row in file order stops the run: the rows
 * before it are written, the message ("LABEL: line N: why" or "LABEL: row N: why") goes to
 * err. Returns 0, PD_EFORMAT/PD_ETOOBIG/PD_EIO/PD_EINVAL (bad input), PD_ENOMEM or the
 * model's error. Memory: at most N * PD_PREDICT_SLOTS_PER_THREAD blocks. */
int pd_predict_rows(const pd_predict_rows_t *r, char *err, size_t errlen);

/* Writes v as printf's "%.17g" does (the same bytes) into p (at least 32 bytes); returns
 * the length (no NUL written). Any thread. */
size_t pd_predict_fmt_g17(char *p, double v);

#endif
