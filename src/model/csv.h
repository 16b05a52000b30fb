/* csv.h - a bounded CSV reader for model input (predictd predict, benchmarks): a header of
 * column names, then rows of numbers (or, for a model's string features, categories). Columns are matched to a model's features by name
 * (any order, extra columns ignored); an empty cell or nan (any case) is a missing value.
 * Quoted cells ("a,b", "" for a quote) are accepted; a cell never spans lines. Every line,
 * column count and row count is bounded by the limits below. A reader is used by one
 * thread, except pd_csv_parse_lines, which many threads may call at once on one reader
 * (it reads the reader only) to parse blocks of lines split from the file by the caller. */
#ifndef PD_MODEL_CSV_H
#define PD_MODEL_CSV_H

#include <stddef.h>
#include <stdint.h>
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

/* The file given to pd_csv_open (after pd_csv_open, positioned after the header line),
 * for a caller that reads the rest in blocks of whole lines (pd_csv_parse_lines). */
FILE *pd_csv_file(const pd_csv_t *c);

/* Lines read so far by pd_csv_open / pd_csv_read (1 after the header). */
size_t pd_csv_lines(const pd_csv_t *c);

/* Columns of the header: pd_csv_parse_lines wants ncols + 1 cell pointers. */
size_t pd_csv_ncols(const pd_csv_t *c);

/* What pd_csv_parse_lines consumed. */
typedef struct pd_csv_span_s {
    size_t used;  /* bytes of whole lines parsed (with their '\n') */
    size_t lines; /* lines among them (blank ones included; on error: up to and with the
                     bad one) */
    size_t rows;  /* rows written to rows (the bad line's excluded) */
} pd_csv_span_t;

/* Parses the lines of buf[0, len) (the caller's, modified: cells are unquoted in place;
 * buf[len] must be writable, as a final line may lack its '\n') as pd_csv_read would,
 * the first being file line first_line (for messages), until max_rows rows are read or
 * the buffer ends (*sp says how far). Every line must be whole, except that a final line
 * longer than PD_CSV_MAX_LINE may be cut (it fails as too long). cells: ncols + 1
 * pointers of scratch. row_line (NULL, or max_rows entries) receives each row's line
 * index from buf's first line (0-based). Does not count rows against PD_CSV_MAX_ROWS (the caller does).
 * Returns 0 or pd_csv_read's errors with "LABEL: line N: reason" in err. Any thread,
 * after pd_csv_map and pd_csv_set_inputs. */
int pd_csv_parse_lines(const pd_csv_t *c, char *buf, size_t len, size_t first_line,
                       double *rows, size_t max_rows, char **cells, uint32_t *row_line,
                       pd_csv_span_t *sp,
                       char *err, size_t errlen);

/* Frees the reader. Accepts NULL. */
void pd_csv_close(pd_csv_t *c);

#endif
