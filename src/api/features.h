/* features.h - request-body validation for the prediction endpoints: the JSON body of
 * POST /predict* decoded straight into a model's feature vector, accepted and refused
 * exactly as FastAPI 0.92 + Pydantic 1.10 (Debian 12) accept and refuse it for
 *     class InputData(BaseModel): feature1: float; feature2: float   (one float per name)
 * The one deliberate difference: where FastAPI answers 500 because a float is not finite
 * (NaN, Infinity, -Infinity, 1e400, "nan", "inf", an integer beyond a double), predictd
 * answers 422 value_error.number.not_finite_number (see features.c).
 *
 * Runs on the loop thread: single pass, bounded (nesting, integer digits, feature count),
 * and no allocation in the common case (heap only for more than PD_FEATURES_STACK
 * features, a numeric literal longer than 256 characters, or a UTF-16/32 body). Reentrant
 * (no static state). The same decoder serves pd_codec_fastapi (api/codec.h), which also
 * reads a JSON array as a list of rows and takes missing values (features_internal.h). */
#ifndef PD_API_FEATURES_H
#define PD_API_FEATURES_H

#include <stddef.h>

#include "util/buf.h"

/* Most feature names a decode call accepts (a model with more is refused: PD_ETOOBIG). */
#define PD_FEATURES_MAX 65536
/* Feature states kept on the stack; more features cost one malloc per call. */
#define PD_FEATURES_STACK 256
/* Bytes of a string value decoded for a string column: a longer one is no category
 * (PD_MODEL_MAX_CATEGORY_BYTES) and is quoted cut to this length in a 422. */
#define PD_FEATURES_MAX_STRING 1024

/* The 400 body FastAPI sends for a body it cannot decode at all (invalid UTF-8, an
 * integer of more than 4300 digits, nesting deeper than Python's recursion limit). */
#define PD_FEATURES_BODY_400 "{\"detail\":\"There was an error parsing the body\"}"

/* Decodes a request body into out[0, n).
 *   names:        the model's feature names (UTF-8, NUL-terminated), in field order; borrowed
 *                 for the call only.
 *   content_type: the request's Content-Type header value, or NULL when absent; borrowed.
 *   body, len:    the request body; borrowed for the call only; need not be NUL-terminated.
 *   out:          n doubles, written on success (may be partly written on failure).
 *   err_body:     owned by the caller; reset, then filled on PD_EINVAL / PD_EFORMAT.
 * Returns 0 on success; PD_EINVAL when FastAPI would answer 422 (err_body holds the exact
 * {"detail":[...]} JSON, compact, non-ASCII unescaped); PD_EFORMAT when it would answer 400
 * (err_body holds PD_FEATURES_BODY_400); PD_ETOOBIG when n > PD_FEATURES_MAX or err_body
 * hit its cap; PD_ENOMEM when memory ran out (the caller answers 500). */
int pd_features_decode(const char *const *names, size_t n, const char *content_type,
                       const char *body, size_t len, double *out, pd_buf_t *err_body);

/* Whether FastAPI 0.92 parses a body with this Content-Type as JSON: absent or empty, or
 * application/json or application/<anything>+json, case-insensitive, parameters ignored
 * (its email.message parsing). content_type may be NULL; borrowed for the call only. */
int pd_features_is_json(const char *content_type);

#endif
