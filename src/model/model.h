/* model.h - the interface every loaded model offers, whatever file it came from.
 *
 * A pd_model_t is immutable once loaded: every worker thread may call pd_model_predict on
 * the same model at once without locks. Prediction never allocates: the caller provides
 * the output buffers and a scratch area of pd_model_scratch_size() bytes.
 *
 * Input is always a row-major batch of doubles, n_features columns in schema order; NaN
 * means "missing"; a string column holds its category's code (schema.inputs: the codecs
 * map strings through the model's vocabulary with pd_model_input_code). Each estimator applies its library's rule to it (scikit-learn trees cast
 * to float32 and test x <= t; XGBoost casts to float32 and tests x < t, NaN follows
 * default_left; ...). */
#ifndef PD_MODEL_H
#define PD_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* Named outputs one model may offer (decision_function, score_samples, ...): bounds
 * schema.n_outputs, so callers may keep one slot per output on the stack. */
#define PD_MODEL_MAX_OUTPUTS 4

typedef enum { PD_TASK_CLASSIFICATION = 0, PD_TASK_REGRESSION = 1 } pd_task_t;

/* The type of one raw input column (issue 10). A number column takes a number; a string
 * column takes a string, which decode maps through the input's vocabulary to a double
 * code: the category's index in `categories` (0..n_categories-1), PD_MODEL_CODE_UNKNOWN
 * for a string the model never saw, NaN for a missing value. */
typedef enum { PD_INPUT_NUMBER = 0, PD_INPUT_STRING = 1 } pd_input_type_t;

/* The code of a string that is not in the input's vocabulary. */
#define PD_MODEL_CODE_UNKNOWN (-1.0)

/* One raw input column (schema.inputs[i] describes feature_names[i]). Immutable, owned
 * by the model, any thread. */
typedef struct pd_model_input_s {
    pd_input_type_t type;
    size_t n_categories;           /* strings: the vocabulary's size; numbers: the known
                                      values (0 when any number is taken) */
    const char *const *categories; /* strings: n_categories UTF-8 strings, code order */
    const double *known;           /* numbers with unknown_error: n_categories values,
                                      sorted ascending; else NULL */
    int unknown_error;             /* a value outside the accepted ones is refused at
                                      decode (an encoder with handle_unknown="error" reads
                                      it) */
    size_t n_known;                /* strings with unknown_error: codes 0..n_known-1 are
                                      accepted, the others are refused; else n_categories */
    const uint32_t *tab;           /* strings: hash slots -> code + 1 (0: empty) */
    uint32_t tab_mask;             /* slots - 1 */
} pd_model_input_t;

typedef struct pd_model_schema_s {
    const char *name;    /* model name (from the file, else the file's base name) */
    const char *version; /* model version string, "1" if the file has none */
    const char *source;  /* "sklearn", "xgboost", ... : the training library */
    const char *kind;    /* the estimator, e.g. "RandomForestClassifier", "gbtree" */
    pd_task_t task;
    size_t n_features;
    const char *const *feature_names; /* n_features names, in input column order */
    size_t n_classes;                 /* classification: >= 2; regression: 0 */
    int labels_are_strings;           /* classification: 1 if class_labels_str is used */
    const char *const *class_labels_str; /* n_classes labels, or NULL */
    const int64_t *class_labels_int;     /* n_classes labels, or NULL */
    int missing_ok;      /* the model takes missing values (NaN): XGBoost, trees whose file
                            gives a missing-value direction (HistGradientBoosting), or a
                            file that says "missing_values": true */
    /* Added with the model-type table (fields appended; older readers ignore them): */
    int proba_ok;        /* classification: the model computes class probabilities (its
                            library has predict_proba); when 0, pd_model_predict writes NaN
                            into any proba buffer it is given (e.g. SVC without
                            probability=True, LinearSVC, KMeans, IsolationForest) */
    size_t n_outputs;    /* named outputs beyond label/value/proba, e.g. "decision_function",
                            "score_samples", "transform" (cluster distances): see
                            pd_model_predict_ex */
    const struct pd_model_output_s *outputs; /* n_outputs entries, or NULL */
    /* Added with typed inputs (issue 10): */
    const pd_model_input_t *inputs; /* n_features entries, in feature order */
    int has_strings;                /* some input is a string column */
    int typed_inputs;               /* has_strings, or some number input refuses values
                                       outside its known ones: a codec must decode
                                       through schema.inputs (pd_codec_t.typed_inputs) */
} pd_model_schema_t;

/* One named output of a model (schema.outputs): `width` doubles per row, in the order
 * its library returns them (e.g. decision_function of a multiclass SVC with
 * decision_function_shape="ovr": one column per class). */
typedef struct pd_model_output_s {
    const char *name;        /* the library's method name: "decision_function", ... */
    size_t width;            /* values per row (>= 1) */
    const char *description; /* one line for /models and `inspect` */
} pd_model_output_t;

typedef struct pd_model_stats_s {
    size_t n_trees;   /* tree ensembles: number of trees, else 0 */
    size_t n_nodes;   /* total nodes in all trees */
    size_t n_layers;  /* MLP: number of dense layers */
    size_t n_params;  /* coefficients/weights/thresholds stored */
    size_t bytes;     /* memory held by the loaded model */
} pd_model_stats_t;

typedef struct pd_model_s pd_model_t;

/* Outputs of one pd_model_predict call. Buffers are owned by the caller and must hold
 * nrows entries (proba: nrows * n_classes, row-major). Any pointer may be NULL when the
 * caller does not want that output. */
typedef struct pd_predict_out_s {
    int32_t *class_index; /* classification: index into the class labels */
    double *value;        /* regression: the predicted value */
    double *proba;        /* classification: class probabilities */
} pd_predict_out_t;

/* Loads a model file: the predictd format (docs/model-format.md) or an XGBoost JSON model
 * (Booster.save_model("m.json")), told apart by content. On failure returns a negative
 * code and writes into err (errlen bytes, always NUL-terminated) a message naming the file,
 * the JSON path and the reason, e.g. "m.json: $.steps[1].trees[3].left[7]: child index 99
 * out of range (12 nodes)". On success *out owns the model; free it with pd_model_free. */
int pd_model_load(const char *path, pd_model_t **out, char *err, size_t errlen);

/* Same as pd_model_load from a buffer already in memory; `label` names it in errors. */
int pd_model_load_buffer(const char *data, size_t len, const char *label, pd_model_t **out,
                         char *err, size_t errlen);

/* The most memory parsing one model file's JSON may take (jansson's tree, before the
 * model is built from it): a file whose parse would need more is refused with "model parse
 * would need more than N MiB". The budget of one file is 12 times its size, at least
 * 64 MiB, at most this cap (`predictd serve --max-model-memory`). */
#define PD_MODEL_DEFAULT_MAX_PARSE_BYTES ((size_t)1 << 30)
/* Sets the cap (0: the default). Call at start-up, before models load on other threads. */
void pd_model_set_max_parse_bytes(size_t bytes);
/* The cap in force. */
size_t pd_model_max_parse_bytes(void);

/* Frees a model. Accepts NULL. No prediction may be running on it. */
void pd_model_free(pd_model_t *m);

/* The model's schema; valid as long as the model. */
const pd_model_schema_t *pd_model_schema(const pd_model_t *m);

/* Sizes of the loaded model (for `inspect`, /models and metrics). */
void pd_model_stats(const pd_model_t *m, pd_model_stats_t *out);

/* Bytes of scratch that pd_model_predict needs for a batch of nrows rows. */
size_t pd_model_scratch_size(const pd_model_t *m, size_t nrows);

/* Predicts nrows rows of x (row-major, n_features doubles each). scratch must point to
 * pd_model_scratch_size(m, nrows) bytes (8-byte aligned) owned by the caller and not shared
 * with another thread during the call. Thread-safe, no allocation, no locks. Returns 0 or
 * PD_EINVAL (nrows == 0 is fine and does nothing). */
int pd_model_predict(const pd_model_t *m, const double *x, size_t nrows, void *scratch,
                     const pd_predict_out_t *out);

/* Bytes of the message pd_model_check writes at most. */
#define PD_MODEL_CHECK_MSG 512

/* Checks nrows rows of x (as pd_model_predict takes them) against the values the model
 * accepts beyond "a number, or NaN when schema.missing_ok": e.g. CategoricalNB takes only
 * the category indexes it was fitted on (where scikit-learn raises). Returns 0, or
 * PD_EINVAL with the first bad row's index (0-based) in *row and its feature and why in
 * msg (len bytes, NUL-terminated, at most PD_MODEL_CHECK_MSG), e.g. "feature 'color': 7
 * is not one of its categories: ...". O(rows x features) for a model that checks, nothing
 * for the others. Reads only the immutable model: any thread. */
int pd_model_check(const pd_model_t *m, const double *x, size_t nrows, size_t *row, char *msg,
                   size_t len);

/* pd_model_predict plus the model's named outputs: extra is NULL or an array of
 * schema.n_outputs pointers, each NULL (not wanted) or a caller-owned buffer of
 * nrows * outputs[k].width doubles (row-major). Same scratch, threads and errors as
 * pd_model_predict (which is this call with extra == NULL). */
int pd_model_predict_ex(const pd_model_t *m, const double *x, size_t nrows, void *scratch,
                        const pd_predict_out_t *out, double *const *extra);

/* The code of the string s (len bytes, UTF-8, need not be NUL-terminated) in string
 * input `in`: its index in in->categories, or -1 when it is not one of them. A hash
 * lookup bounded by the vocabulary (no allocation, any thread). */
long pd_model_input_code(const pd_model_input_t *in, const char *s, size_t len);

/* Whether the number v is one of a number input's known values (always 1 when the input
 * has none: it takes any number). Any thread. */
int pd_model_input_known(const pd_model_input_t *in, double v);

/* "number" or "string". */
const char *pd_model_input_type_name(pd_input_type_t t);

/* Writes a one-line description of the model's pipeline into buf (n bytes, always
 * NUL-terminated, truncated if short), e.g. "standard_scaler > svm(rbf kernel, 3 classes,
 * 41 support vectors, ovr)", for `inspect` and /models. Returns the length it needed
 * (as snprintf). Reads only immutable model fields: any thread. */
int pd_model_describe(const pd_model_t *m, char *buf, size_t n);

#endif
