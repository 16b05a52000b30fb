/* codec.h - a protocol is a codec: it decodes a request body into rows (api/rows.h) plus
 * the outputs asked for, encodes the results, and encodes errors in its own shape. The
 * request pipeline (api/predict.c) and the HTTP layer know no protocol's bodies.
 *
 * Adding a protocol: one codec_<name>.c that defines a const pd_codec_t, its declaration
 * below, and its routes in api/predict_routes.c's table.
 *
 * Per-request state: a codec that must carry something from decode to encode (V2: which
 * outputs, binary or JSON, the request's id) hangs it on rows->codec_state; one that
 * answers with its own Content-Type or headers sets them in *rows->reply at encode.
 *
 * Threads: every operation is reentrant and touches only its arguments, so the pipeline
 * may run it on the loop thread (small bodies) or on a worker (big bodies). */
#ifndef PD_API_CODEC_H
#define PD_API_CODEC_H

#include <stddef.h>

#include "api/rows.h"
#include "model/model.h"
#include "util/buf.h"

/* What a decode call gets; every pointer is borrowed for the call only. */
typedef struct pd_codec_in_s {
    const pd_model_schema_t *schema; /* columns: schema->feature_names, in order */
    int missing_ok;                  /* the model takes missing values: null, an omitted
                                        feature (and, where the protocol has them, an
                                        empty CSV field or NaN) decode as NaN; otherwise
                                        they are an error */
    const char *content_type;        /* the Content-Type header, or NULL when absent */
    const char *query;               /* the URL's query string without '?', or "" */
    const char *body;                /* need not be NUL-terminated */
    size_t len;
    const char *header;              /* the value of the codec's request_header, or NULL
                                        (absent, or the codec reads none) */
    const char *model_name;          /* the served model's name and the label of the
                                        version answering, for answers that name them */
    const char *model_label;         /* (both NULL when unknown, e.g. in tests); they stay
                                        valid until the request is answered, so a codec
                                        may keep them in its state for encode */
    const char *request_id;          /* the request's X-Request-Id (pd_http_request_id:
                                        printable ASCII without '"' or '\\', so it needs
                                        no escape in JSON), or NULL; V2 answers it as its
                                        "id" when the body gave none */
} pd_codec_in_t;

typedef struct pd_codec_s {
    const char *name;         /* "fastapi", "v1", "mlflow": metrics and logs */
    const char *content_type; /* of the answers encode writes */
    /* Decodes in->body into rows, which the caller prepared with pd_rows_init (n_cols =
     * the model's features, max_rows = the limit, outputs = what the route asks for).
     * Returns 0; or an HTTP status (400, 413, 415, 422) with the protocol's error body in
     * err, 413 when the body holds more than rows->max_rows rows; or PD_ENOMEM. On failure
     * rows may hold partial data (the caller frees it). */
    int (*decode)(const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *err);
    /* Appends the answer for rows' results (pd_rows_results was called and every row
     * predicted) to out; may fill *rows->reply (when not NULL) with the answer's own
     * Content-Type and header lines. Returns 0, or PD_EINVAL when a value cannot be
     * written (a non-finite regression value: the caller answers 500), or
     * PD_ENOMEM/PD_ETOOBIG. */
    int (*encode)(const pd_model_schema_t *s, const pd_rows_t *rows, pd_buf_t *out);
    /* Appends the protocol's error body for `status` with the human-readable `message`
     * (e.g. 503 "the model's queue is full") to out. Returns 0 or a negative code. */
    int (*error)(int status, const char *message, pd_buf_t *out);
    /* The name of one request header decode reads (V2: Inference-Header-Content-Length),
     * or NULL. The pipeline looks it up on the loop thread and passes its value in
     * pd_codec_in_t.header, so that decode may run on a worker. */
    const char *request_header;
    /* decode maps string inputs through the model's vocabulary and refuses unknown
     * categories (model.h schema.inputs); 0: the pipeline refuses a model whose
     * schema.typed_inputs is set with 400 before decode, naming its string inputs. */
    int typed_inputs;
} pd_codec_t;

/* FastAPI-style routes (/predict*, /models/{name}/predict[_proba]): an object is one row
 * answered {"prediction": ...} byte for byte as the article's app; an array is
 * List[InputData] answered {"predictions": [...]}; PD_OUT_PROBA answers
 * {"probabilities": ...}. Errors {"detail": ...} as FastAPI 0.92 + Pydantic 1.10. */
extern const pd_codec_t pd_codec_fastapi;
/* KServe V1 / TF Serving: {"instances": [...]} -> {"predictions": [...]};
 * errors {"error": "..."}. */
extern const pd_codec_t pd_codec_v1;
/* MLflow scoring server / SageMaker: dataframe_split, dataframe_records, instances,
 * inputs, or text/csv -> {"predictions": [...]}; errors
 * {"error_code": "BAD_REQUEST", "message": "..."}. */
extern const pd_codec_t pd_codec_mlflow;
/* Open Inference Protocol (KServe V2 / Triton) inference request -> response, with
 * Triton's binary tensor data extension; errors {"error": "..."}. docs/protocols.md. */
extern const pd_codec_t pd_codec_v2;

#endif
