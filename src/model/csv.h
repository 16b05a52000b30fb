/* csv.h - a bounded CSV reader for model input (predictd predict, benchmarks): a header of
 * column names, then rows of numbers (or, for a model's string features, categories). Columns are matched to a model's features by name
 * (any order, extra columns ignored); an empty cell or nan (any case) is a missing value.
 * Quoted cells ("a,b", "" for a quote) are accepted; a cell never spans lines. Every line,
 * column count and row count is bounded by the limits below. Not thread-safe. */
#ifndef PD_MODEL_CSV_H
#define PD_MODEL_CSV_H

#include <stddef.h>
#include <stdio.h>

#define PD_CSV_MAX_LINE ((size_t)1 << 22)  /* bytes per line, newline excluded */
#define PD_CSV_MAX_COLS 200000             /* columns per line */
#define PD_CSV_MAX_ROWS ((size_t)100000000) /* data rows per file */

typedef struct pd_csv_s pd_csv_t;

/* Reads the header line from f (borrowed: must stay open until pd_csv_close; not closed
 * by it). label names the file in messages and is kept: it must stay valid until
 * pd_csv_close. Returns 0, PD_EFORMAT/PD_ETOOBIG/PD_EIO with a
 * message "LABEL: line N: reason" in err, or PD_ENOMEM. *out is freed by pd_csv_close. */
int pd_csv_open(FILE *f, const char *label, pd_csv_t **out, char *err, size_t errlen);

/* Maps the n feature names (borrowed for the call) to header columns. A feature with no
 * column is an error naming it; a name appearing twice in the header is an error. */
int pd_csv_map(pd_csv_t *c, const char *const *names, size_t n, char *err, size_t errlen);

struct pd_model_input_s;
/* Gives the types of the features mapped (pd_csv_map's n entries, borrowed until
 * pd_csv_close; NULL: all numbers): a string feature's cell is a category, decoded to its
 * code (an empty cell is missing), a number feature with known values refuses others. */
void pd_csv_set_inputs(pd_csv_t *c, const struct pd_model_input_s *inputs);

/* Reads up to max_rows rows into rows (max_rows * n doubles, row-major, features in the
 * order given to pd_csv_map). *got receives the number read; 0 means end of file. */
int pd_csv_read(pd_csv_t *c, double *rows, size_t max_rows, size_t *got, char *err,
                size_t errlen);

/* Frees the reader. Accepts NULL. */
void pd_csv_close(pd_csv_t *c);

#endif
