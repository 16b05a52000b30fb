/* codec_outputs.h - which of a model's outputs a request gets, shared by the codecs:
 * the outputs' names ("predict", "predict_proba", then the model's named outputs such as
 * "decision_function", "score_samples", "transform": schema.outputs), the `outputs` query
 * parameter of the FastAPI-style, V1 and MLflow routes, and a named output's values
 * written as JSON. docs/protocols.md "Choosing outputs" describes them for users.
 *
 * Names are matched exactly (case-sensitive), as the library's method names. "predict"
 * is every model's; "predict_proba" only a classifier's that computes probabilities
 * (schema.proba_ok). Internal to src/api/. Reentrant: every function touches only its
 * arguments (any thread). */
#ifndef PD_API_CODEC_OUTPUTS_H
#define PD_API_CODEC_OUTPUTS_H

#include <stddef.h>

#include "api/codec.h"
#include "api/rows.h"
#include "model/model.h"
#include "util/buf.h"

/* The name of the query parameter that chooses outputs. */
#define PD_OUTPUTS_PARAM "outputs"
/* Bytes of one output name read from a query (longer names are unknown). */
#define PD_OUTPUTS_NAME_MAX 64
/* Bytes of a message about the `outputs` parameter (the model's names listed in it). */
#define PD_CODEC_OUTPUTS_MSG_LIMIT 4096
/* Names one query may list (in all its `outputs` parameters together). */
#define PD_OUTPUTS_MAX_NAMES 32

/* The PD_OUT_* bit that the output named name[0, len) of a model with schema s selects:
 * PD_OUT_LABEL for "predict", PD_OUT_PROBA for "predict_proba" (when s->proba_ok),
 * PD_OUT_NAMED(k) for schema.outputs[k]; 0 when the model has no such output. */
unsigned pd__outputs_lookup(const pd_model_schema_t *s, const char *name, size_t len);

/* Appends the model's output names, "predict, predict_proba, decision_function", to out.
 * Returns 0 or a negative pd_buf code. */
int pd__outputs_list(const pd_model_schema_t *s, pd_buf_t *out);

/* Reads every `outputs` parameter of query (without '?'; NULL or "" is none): names
 * separated by commas, percent-encoded or not ('+' is a space, blanks around a name are
 * dropped), the parameter repeatable (outputs=a,b is outputs=a&outputs=b). *bits gets
 * the union of the PD_OUT_* bits named, *given whether the query had the parameter at
 * all (when 0, *bits is 0: the route's default applies). Other parameters are ignored.
 * Returns 0, or 400 with one line in msg (reset first): an unknown name ("unknown output
 * 'x' (the model's outputs: predict, decision_function)"), an empty one, or more than
 * PD_OUTPUTS_MAX_NAMES names; or a negative pd_buf code. */
int pd__outputs_query(const pd_model_schema_t *s, const char *query, unsigned *bits,
                      int *given, pd_buf_t *msg);

/* V1 and MLflow: the `outputs` query parameter of in (pd__outputs_query) adds the
 * outputs it names to rows->outputs (the route's stay: "predictions" is always
 * answered) and asks rows for the named ones. Returns 0, or 400 with the message in msg
 * (reset first), or a negative code. */
int pd__outputs_add(const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *msg);

/* Asks rows for the named outputs among bits (pd_rows_want_output with each one's width
 * from s); the PD_OUT_LABEL / PD_OUT_PROBA bits are left to the caller. Returns 0 or
 * PD_EINVAL (a bit the model has no output for). */
int pd__outputs_want(const pd_model_schema_t *s, unsigned bits, pd_rows_t *rows);

/* Appends row i of named output k (rows->extra[k] set) as JSON: a number when the
 * output is one value wide (as scikit-learn returns a 1-D array: a binary SVC's
 * decision_function, score_samples), else a list of extra_width[k] numbers separated by
 * sep. Returns 0, PD_EINVAL (a non-finite value) or a negative pd_buf code. */
int pd__outputs_put_row(pd_buf_t *out, const pd_rows_t *rows, size_t k, size_t i,
                        const char *sep);

/* Appends `"name": [row 0, row 1, ...]` (sep between members and values, e.g. "," or
 * ", "; colon ":" or ": ") for every named output rows asked for, each preceded by sep,
 * in the model's order. Returns as pd__outputs_put_row. */
int pd__outputs_put_members(pd_buf_t *out, const pd_model_schema_t *s, const pd_rows_t *rows,
                            const char *sep, const char *colon);

#endif
