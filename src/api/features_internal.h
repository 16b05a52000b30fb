/* features_internal.h - the request-body decoder behind pd_features_decode (one row) and
 * pd_codec_fastapi (one row, or a list of rows as FastAPI validates `List[InputData]`).
 *
 *   features.c         the decode call: Content-Type, encoding, one row or a list, the
 *                      per-row state (pd__fctx_t, json_pairs.h) and its name index
 *   features_value.c   one InputData: keys matched to fields, values through float()
 *   features_list.c    a top-level array as a list of rows
 *   features_errors.c  the {"detail": ...} bodies: Pydantic's list, jsondecode, 400
 *
 * Invariants: one call owns its pd__fctx_t and touches nothing else (reentrant: the
 * codec runs on workers for big bodies); a row's value is written only when the field's
 * state says so (PD__F_OK, or a marker, see pd__features_finish); the error list is
 * streamed into the caller's buffer row by row, and replaced wholesale when a later
 * syntax error, the rows limit or the buffer's cap decides the answer instead.
 * Internal to src/api/. */
#ifndef PD_API_FEATURES_INTERNAL_H
#define PD_API_FEATURES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "api/features.h"
#include "api/json_pairs.h"
#include "api/json_scan.h"
#include "api/rows.h"
#include "util/buf.h"

/* The index a top-level row's errors carry: none (loc ["body", <name>]). */
#define PD__FEATURES_TOP SIZE_MAX

/* What one decode call reads; every pointer is borrowed for the call only. */
typedef struct pd__fcall_s {
    const char *const *names; /* n feature names, UTF-8, NUL-terminated, in field order */
    size_t n;
    int missing_ok;           /* null / omitted / NaN fields are missing values (NaN) */
    const pd_model_input_t *inputs; /* n input types (string columns decode to codes,
                                       model.h), or NULL: every field is a number */
    const char *content_type; /* the Content-Type header value, or NULL when absent */
    const char *body;         /* need not be NUL-terminated */
    size_t len;
} pd__fcall_t;

/* Decodes a->body. rows == NULL: the body is one InputData written into out[0, n) (a
 * top-level array is dict(pairs), as pd_features_decode always did). rows != NULL: a
 * top-level array is a list of rows appended to rows (rows->single = 0); any other body
 * is one row appended to rows (rows->single = 1); out is unused.
 * err is reset, then holds the answer's body on PD_EINVAL (422) or PD_EFORMAT (400).
 * Returns 0; PD_EINVAL; PD_EFORMAT; PD_ETOOBIG with *too_many_rows = 1 when the list
 * holds more than rows->max_rows elements (decided when element max_rows + 1 begins;
 * err is empty), or with *too_many_rows = 0 when n > PD_FEATURES_MAX or the error list
 * outgrew err's cap (err is empty); PD_ENOMEM. */
int pd__features_run(const pd__fcall_t *a, double *out, pd_rows_t *rows, pd_buf_t *err,
                     int *too_many_rows);

/* ---- features_value.c: one InputData ---- */

/* Starts a row: every field missing, no body-level outcome, out = row (n doubles, owned by
 * the caller, valid until the row is finished). The name index and hint are kept. */
void pd__features_reset(pd__fctx_t *c, double *row);
/* Validates the value v just scanned from s (containers opened, not walked) as one
 * InputData, as BaseModel.validate does: an object is the mapping, an array or a string
 * goes through dict(), null and everything else fail. Walks v to its end. Returns 0,
 * PD_EFORMAT on a scan error (s->err set), or PD_ENOMEM. */
int pd__features_element(pd__fctx_t *c, pd__jscan_t *s, const pd__jval_t *v);
/* Ends a row: with missing_ok, a missing, null or NaN field becomes a missing value (NaN
 * in the row, PD__F_OK); a field float() made NaN (without missing_ok) or infinite gets
 * the marker INFINITY in the row and PD__F_NONFINITE, and c->nonfinite is set. */
void pd__features_finish(pd__fctx_t *c);

/* ---- features_list.c ---- */

/* Walks the list whose '[' was consumed: one row per element, appended to rows, each
 * element's errors streamed into err with loc ["body", <index>, ...]. Returns 0,
 * PD_EFORMAT (s->err set), PD_ETOOBIG (c->too_many_rows set) or PD_ENOMEM. */
int pd__features_list(pd__fctx_t *c, pd__jscan_t *s, pd_rows_t *rows, pd_buf_t *err);

/* ---- features_errors.c ---- */

/* Appends the Pydantic errors of the row just finished (c's states and body outcome) to
 * the error list in err, with loc ["body", index, ...] (index PD__FEATURES_TOP: ["body",
 * ...]); sets c->pydantic when there is one. Not-finite fields are not listed here.
 * Returns 0 or PD_ENOMEM (a full buffer sets c->err_full and is not an error). */
int pd__features_row_errors(pd__fctx_t *c, pd_buf_t *err, size_t index);
/* Lists every not-finite marker (INFINITY) of x (n_rows rows of c->n values), in order,
 * as value_error.number.not_finite_number; `list`: loc ["body", row, name], else
 * ["body", name]. Returns 0 or PD_ENOMEM. */
int pd__features_nonfinite_errors(pd__fctx_t *c, pd_buf_t *err, const double *x,
                                  size_t n_rows, int list);
/* Lists the unknown categories recorded in c->unk (features_string.c) as
 * value_error.category, naming the column and the value. Returns 0 or PD_ENOMEM. */
int pd__features_unknown_errors(pd__fctx_t *c, pd_buf_t *err, int list);
/* Closes the error list: returns PD_EINVAL when it holds items (err then holds the whole
 * {"detail":[...]} body), 0 when there are none, PD_ETOOBIG when the buffer was full (err
 * is emptied), or PD_ENOMEM. */
int pd__features_errors_end(pd__fctx_t *c, pd_buf_t *err);
/* Replaces err with one error at ["body"] (msg, type as Pydantic words them).
 * Returns PD_EINVAL, or PD_ENOMEM / PD_ETOOBIG from the buffer. */
int pd__features_body_error(pd_buf_t *err, const char *msg, const char *type);
/* Replaces err with the answer to a document json.loads refuses (s->err set): 400
 * PD_FEATURES_BODY_400 when Python could not decode or nest it, else 422
 * value_error.jsondecode at the character offset. Returns PD_EFORMAT or PD_EINVAL, or
 * PD_ENOMEM / PD_ETOOBIG from the buffer. */
int pd__features_syntax_error(pd_buf_t *err, const pd__jscan_t *s);

#endif
