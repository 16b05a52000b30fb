/* codec_csv.h - a text/csv request body (MLflow's scoring server, SageMaker) decoded
 * straight into rows: a header row of column names, then one row per record, as pandas'
 * read_csv reads what DataFrame.to_csv writes.
 *
 * Format: RFC 4180 (fields separated by ',', records by LF, CRLF or CR; a field in double
 * quotes may hold commas, line breaks and "" for a quote); a leading UTF-8 BOM is skipped;
 * empty lines are skipped. Columns are matched to the model's features by name, in any
 * order; columns the model does not know are ignored; a feature named twice is refused;
 * a feature with no column is refused unless the model takes missing values ("Model is
 * missing inputs [...]", MLflow's words). Values: decimal numbers (leading/trailing
 * blanks allowed, correctly rounded), True/False (1/0); an empty field and pandas' default
 * missing-value markers (NA, NaN, nan, null, NULL, None, N/A, n/a, #N/A, <NA>, ...) are
 * missing; a record shorter than the header is missing its last values; a longer one is
 * refused. Every field, record and the column count is bounded by the limits below.
 * Internal to src/api/; reentrant (all state is per call). */
#ifndef PD_API_CODEC_CSV_H
#define PD_API_CODEC_CSV_H

#include <stddef.h>

#include "api/codec.h"

/* Bytes of one field (after unquoting). */
#define PD_CODEC_CSV_MAX_FIELD ((size_t)64 * 1024)
/* Bytes of one record, line breaks inside quoted fields included. */
#define PD_CODEC_CSV_MAX_RECORD ((size_t)4 * 1024 * 1024)
/* Columns of the header (and fields of a record). */
#define PD_CODEC_CSV_MAX_COLS ((size_t)100000)

/* Decodes in->body (borrowed for the call) into rows, prepared by the caller with
 * pd_rows_init (n_cols = in->schema->n_features). Returns 0; 400 or 413 (more than
 * rows->max_rows records) with a plain-text message in msg (reset first; the caller
 * wraps it in its protocol's error body); PD_ENOMEM; or PD_EINVAL when rows does not
 * match the schema. */
int pd__codec_csv(const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *msg);

#endif
