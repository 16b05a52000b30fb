/* codec_json.h - JSON request bodies decoded straight into rows (api/rows.h), shared by
 * the V1 and MLflow codecs, and the {"predictions": [...]} answer both write.
 *
 * Decoding streams over the body with the project's scanner (api/json_scan.h): no tree is
 * built, every value is converted where it is read, in one linear pass (a dataframe_split
 * whose "data" comes before its "columns" is scanned twice). Containers are only entered
 * where a row format expects them, so nesting stays at a few levels; values that are
 * skipped (unknown keys) are walked without recursion, bounded by PD_JSON_MAX_DEPTH.
 *
 * A decode step returns 0, an HTTP status (400, 413) with a plain-text message in
 * c->msg (the codec wraps it in its protocol's error body), or PD_ENOMEM.
 *
 * Numbers (integers and decimals) are converted as Python's float() (correctly rounded);
 * true/false are 1/0; null (and the NaN literal) are missing values, accepted as NaN only
 * when the model takes missing values; Infinity, -Infinity and numbers beyond a double
 * are refused; strings, lists and objects where a number belongs are refused.
 * Internal to src/api/; one context per call, so the codecs stay reentrant. */
#ifndef PD_API_CODEC_JSON_H
#define PD_API_CODEC_JSON_H

#include <stddef.h>

#include "api/codec.h"
#include "api/codec_names.h"
#include "api/json_scan.h"

/* Largest message a decode failure writes (longer ones are cut). */
#define PD_CODEC_MSG_LIMIT (16u * 1024u)
/* Bytes of a string feature's value decoded (a longer one is no category, model.h). */
#define PD_CJ_MAX_STRING 1024

/* Row forms a list element may take (bits). */
enum {
    PD__CJ_ARRAY = 1u,  /* [v0, v1, ...]: the values in column order */
    PD__CJ_OBJECT = 2u, /* {"name": v, ...}: matched by name */
    PD__CJ_SCALAR = 4u  /* v: a one-value row, only when the row is one column wide */
};

typedef struct pd__cj_s {
    pd__jscan_t s;                   /* over the body; borrowed from the codec's input */
    pd_rows_t *rows;                 /* borrowed: where rows are appended */
    pd_buf_t *msg;                   /* borrowed: the failure's message */
    const pd_model_schema_t *schema; /* borrowed */
    int missing_ok;                  /* null / NaN / an omitted feature decode as NaN */
    int ignore_unknown;              /* unknown keys are skipped (MLflow), else refused */
    int mlflow_words;                /* missing columns worded as MLflow words them */
    const char *unit;                /* a row in messages: "instance", "record", "row" */
    const char *what;                /* the body part being decoded: "\"instances\"" */
    const char *json_prefix;         /* before a JSON syntax error's message */
    pd__cnames_t names;              /* owned */
    pd_buf_t key;                    /* owned: an escaped key, decoded */
} pd__cj_t;

/* Prepares c over in->body for rows (both borrowed: must outlive c), writing failures
 * into msg (borrowed). unit/what/json_prefix start as "row", "body", "". Returns 0,
 * PD_ENOMEM, or 400 with a message when the model is too wide to serve. */
int pd__cj_init(pd__cj_t *c, const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *msg);
/* Frees what c owns. */
void pd__cj_fini(pd__cj_t *c);

/* Writes the printf-formatted message into c->msg (reset first); returns status. */
int pd__cj_fail(pd__cj_t *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The scanner's error (c->s.err set) as a 400 message: json_prefix, then the reason and
 * where ("Expecting ',' delimiter at byte 17 (line 1, column 18)"). Returns 400. */
int pd__cj_scan_fail(pd__cj_t *c);
/* Scans the top-level value after a UTF-8 BOM and whitespace into *v (containers
 * opened). Returns 0 or 400. */
int pd__cj_top(pd__cj_t *c, pd__jval_t *v);
/* After the top-level value: only whitespace may follow ("Extra data"). Returns 0/400. */
int pd__cj_finish(pd__cj_t *c);
/* After a failed decode: scans the whole body again, decoding nothing, because the
 * Python servers parse the whole document before they look at it: a JSON syntax error
 * anywhere is reported first (returns 400 with its message), then the top-level keys
 * decide. Otherwise returns 0 with *object = whether the body is an object, and found[0,
 * *n) the indexes into keys[0, nkeys) of its top-level keys present, in order of first
 * appearance (found holds nkeys entries). keys are borrowed for the call. */
int pd__cj_recheck(pd__cj_t *c, const char *const *keys, int nkeys, int *found, size_t *n,
                   int *object);
/* Skips the value at the scanner. Returns 0 or 400. */
int pd__cj_skip(pd__cj_t *c);

/* The feature named by the string v (a key or an element), or -1, in *idx; the decoded
 * name in *name / *len (borrowed from the body or c->key: valid until the next call).
 * Returns 0 or PD_ENOMEM. */
int pd__cj_name(pd__cj_t *c, const pd__jval_t *v, long *idx, const char **name, size_t *len);

/* A short phrase for a value's kind in messages: "a string", "a list", "null", ...
 * (a string literal: never freed). */
const char *pd__cj_kind(pd__jkind_t k);

/* Decodes the list whose '[' was just consumed: one row per element, each in one of
 * `forms`. Arrays hold `width` values; value k goes to column map[k] (map[k] < 0: the
 * value is skipped whatever it is) or, when map is NULL, to column k (width must then be
 * the model's features). An empty list is refused. Returns 0, 400, 413 or PD_ENOMEM. */
int pd__cj_rows(pd__cj_t *c, unsigned forms, const long *map, size_t width);

/* Decodes the object whose '{' was just consumed as columns: feature name -> list of
 * values (or one value: a one-row column); every listed feature must have as many values.
 * Features never named are missing (refused unless missing_ok). Returns 0, 400, 413 or
 * PD_ENOMEM. */
int pd__cj_columns(pd__cj_t *c);

/* Appends {"predictions": [...]} for rows' results to out: one label per row (the
 * model's class, an integer or a string), or value (regressors, shortest round trip); or,
 * when rows->outputs has PD_OUT_PROBA but not PD_OUT_LABEL, one list of probabilities per
 * row. With both, the probabilities follow as "predict_proba": [[...], ...]; then each
 * named output asked for, as "<name>": [...] (codec_outputs.h). spaced: ", " and ": "
 * separators (Python's json.dumps) instead of compact ones. Returns 0, PD_EINVAL (a
 * non-finite value or a class index out of range), PD_ENOMEM or PD_ETOOBIG. */
int pd__codec_predictions(const pd_model_schema_t *s, const pd_rows_t *rows, pd_buf_t *out,
                          int spaced);

#endif
