/* codec_v2_internal.h - what the files of the Open Inference Protocol codec share
 * (codec_v2.c decodes the request's JSON, codec_v2_data.c converts tensor data, JSON or
 * binary, into rows, codec_v2_encode.c writes the answer). Internal to src/api/.
 *
 * Invariants: one pd__v2dec_t per decode call, on the caller's stack (the codec keeps no
 * static mutable state: it may run on any thread); an input is placed (its rows and
 * columns decided, the rows made) before any of its values is written; every value
 * written goes to x[off + k * stride] of its own input's placement, so inputs never write
 * over each other's cells.
 * Threads and pointers: every function below runs inside one decode or encode call, on
 * whatever thread runs it (loop or worker), and touches only its arguments; the decoder,
 * its input and the rows are the caller's for the call, and the strings they point to
 * (the body, the schema's names) are borrowed for the call. */
#ifndef PD_API_CODEC_V2_INTERNAL_H
#define PD_API_CODEC_V2_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "api/codec.h"
#include "api/codec_json.h"

/* Dimensions read from a shape (the codec accepts 1 or 2; longer shapes are refused). */
#define PD_V2_MAX_DIMS 8
/* Bytes of a shape written for a message: "[18446744073709551615, ...]" for every dim. */
#define PD_V2_SHAPE_BUF (PD_V2_MAX_DIMS * 22 + 4)
/* Bytes of "input 'name'" for messages. */
#define PD_V2_WHO_BUF (PD_CODEC_SHOWN_BUF + 16)
/* Outputs a model may have: predict, predict_proba and its named outputs. */
#define PD_V2_OUTPUTS (2 + PD_MODEL_MAX_OUTPUTS)
/* Bytes of one BYTES element decoded for a string feature (a longer one is no category). */
#define PD_V2_MAX_STRING 1024
/* The header naming the JSON part's length in a binary request or answer. */
#define PD_V2_HEADER_LENGTH "Inference-Header-Content-Length"

/* Tensor datatypes (the protocol's names in pd__v2_types, same order). */
enum {
    PD__V2_BOOL = 0, PD__V2_UINT8, PD__V2_UINT16, PD__V2_UINT32, PD__V2_UINT64,
    PD__V2_INT8, PD__V2_INT16, PD__V2_INT32, PD__V2_INT64,
    PD__V2_FP16, PD__V2_FP32, PD__V2_FP64, PD__V2_BYTES, PD__V2_NTYPES
};

typedef struct pd__v2type_s {
    const char *name; /* "FP32" */
    uint8_t size;     /* bytes of one element in binary data (BYTES: 0, variable) */
    char kind;        /* 'b' bool, 'u' unsigned, 'i' signed, 'f' float, 's' bytes */
    int64_t min;      /* integers: the range of a value */
    uint64_t max;
} pd__v2type_t;

/* The protocol's datatypes, indexed by PD__V2_*. */
extern const pd__v2type_t pd__v2_types[PD__V2_NTYPES];

/* Outputs: predict, predict_proba, then the model's named output k as PD__V2_NAMED + k
 * (schema.outputs[k]). */
enum { PD__V2_PREDICT = 0, PD__V2_PROBA = 1, PD__V2_NAMED = 2 };

/* The name of output `which` of a model with schema s (which < 2 + s->n_outputs):
 * borrowed from static storage or the schema. */
const char *pd__v2_output_name(const pd_model_schema_t *s, int which);

/* Layout of the request's inputs, decided by the first one placed. */
enum {
    PD__V2_NONE = 0,   /* no input placed yet */
    PD__V2_MATRIX = 1, /* one [N, n_features] tensor, any name */
    PD__V2_COLUMNS = 2 /* one [N] or [N, 1] tensor per feature, named by the feature */
};

/* One input tensor, as its JSON object is read. */
typedef struct pd__v2in_s {
    size_t index;                 /* its position in "inputs" */
    char who[PD_V2_WHO_BUF];      /* "input 'name'" (or "inputs[3]" until named) */
    long feature;                 /* the feature its name names, or -1 */
    int has_name, has_shape, has_type, has_data, has_size;
    int type;                     /* PD__V2_* */
    size_t ndim;
    uint64_t dims[PD_V2_MAX_DIMS];
    size_t data_pos;              /* where its "data" value starts in the document */
    int data_depth;               /* the scanner's depth there */
    int data_done;                /* its data was converted where it was read */
    uint64_t bin_size;            /* parameters.binary_data_size */
    /* placement (pd__v2_place): element k goes to rows->x[off + k * stride] */
    size_t off, stride, total;
} pd__v2in_t;

/* One decode call. */
typedef struct pd__v2dec_s {
    pd__cj_t c;                   /* scanner over the JSON part, rows, message, names */
    const unsigned char *bin;     /* the binary part after the JSON (borrowed), or NULL */
    size_t bin_len, bin_used;
    int layout;                   /* PD__V2_NONE / MATRIX / COLUMNS */
    size_t n_rows;                /* rows of the inputs placed; SIZE_MAX before */
    char first[PD_V2_WHO_BUF];    /* the first input placed, for messages */
    size_t n_inputs;
    int seen_inputs;
    unsigned n_out;               /* outputs asked for, in order (0: all that apply) */
    uint8_t out_which[PD_V2_OUTPUTS];
    int8_t out_binary[PD_V2_OUTPUTS]; /* 1 / 0, -1: not said (binary_data_output decides) */
    int binary_all;               /* parameters.binary_data_output */
    uint64_t timeout_ns;          /* parameters.timeout, in ns; 0 none */
    int has_id;
    size_t id_start, id_end;      /* the id string's raw JSON content in the document */
} pd__v2dec_t;

/* What decode hands to encode (rows->codec_state, one malloc, freed with free()). */
typedef struct pd__v2state_s {
    const char *model_name, *model_label; /* borrowed from pd_codec_in_t (may be NULL) */
    unsigned n_out;
    uint8_t out_which[PD_V2_OUTPUTS];
    uint8_t out_binary[PD_V2_OUTPUTS];
    int has_id;
    size_t id_len;
    char id[];                    /* the body's "id" as its raw JSON string content
                                     (escapes kept), else the request's X-Request-Id */
} pd__v2state_t;

/* Decides where input `in` (name, shape and datatype read) goes - the matrix or one
 * column - checks its shape against the model and the other inputs, and makes the rows
 * when it is the first. Returns 0, 400 / 413 with a message, or PD_ENOMEM. */
int pd__v2_place(pd__v2dec_t *d, pd__v2in_t *in);
/* Converts the JSON "data" value at the scanner (flat or nested as in->dims) into the
 * placed input's cells. Returns 0, 400 or PD_ENOMEM. */
int pd__v2_json_data(pd__v2dec_t *d, const pd__v2in_t *in);
/* Converts the input's in->bin_size bytes of the binary part (little-endian, from
 * d->bin_used on) into its cells. Returns 0 or 400. */
int pd__v2_binary_data(pd__v2dec_t *d, const pd__v2in_t *in);

/* A refused value: writes "<input>: element k (row i, feature 'f'): <why>" as the
 * message and returns 400. */
int pd__v2_bad(pd__v2dec_t *d, const pd__v2in_t *in, size_t k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- codec_v2_strings.c: typed inputs ---- */

/* Element k of a BYTES tensor of a string feature, the scanned JSON value v: its code
 * (null: missing). Returns 0 or 400. */
int pd__v2_string_element(pd__v2dec_t *d, const pd__v2in_t *in, const pd__jval_t *v,
                          size_t k);
/* A string feature's BYTES tensor in binary (4-byte little-endian length, then the bytes,
 * per element; in->bin_size bytes from d->bin_used). Returns 0 or 400. */
int pd__v2_binary_strings(pd__v2dec_t *d, const pd__v2in_t *in);
/* Element k's value x of a number feature whose encoder refuses unknown categories:
 * 0 when known (or NaN), else 400. */
int pd__v2_check_known(pd__v2dec_t *d, const pd__v2in_t *in, size_t k, double x);

/* IEEE 754 binary16 bits -> the double of the same value (exact). */
double pd__v2_half_to_double(uint16_t h);
/* x rounded to the nearest binary16 value (ties to even; beyond the largest finite half
 * +-inf), as a double. NaN stays NaN. */
double pd__v2_double_to_half(double x);

/* Writes the shape dims[0, n) as "[2, 4]" into buf (PD_V2_SHAPE_BUF bytes); returns buf. */
const char *pd__v2_shape_str(char *buf, const uint64_t *dims, size_t n);

/* The datatype of the "predict" output of a model with schema s: INT64 (integer class
 * labels), BYTES (string labels) or FP64 (regressors). A string literal. */
const char *pd__v2_predict_datatype(const pd_model_schema_t *s);

/* The answer (see pd_codec_v2's encode). */
int pd__v2_encode(const pd_model_schema_t *s, const pd_rows_t *rows, pd_buf_t *out);

/* codec_v2_outputs.c: reads the request's "outputs" list (the value after its key) into
 * d->out_which / out_binary / n_out. Returns 0, or a status with the 400 message in d
 * (PD_ENOMEM when even that fails). */
int pd__v2_outputs(pd__v2dec_t *d);

/* Scans the next value of d's body into *v; a syntax error becomes the 400 message. */
static inline int pd__v2_scan(pd__v2dec_t *d, pd__jval_t *v)
{
    return pd__json_value(&d->c.s, v) < 0 ? pd__cj_scan_fail(&d->c) : 0;
}

/* 1 when the object key `key` of d's body is `name`. */
static inline int pd__v2_is_key(const pd__v2dec_t *d, const pd__jval_t *key, const char *name)
{
    return pd__json_str_eq(&d->c.s, key, name, strlen(name));
}

#endif
