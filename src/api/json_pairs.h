/* json_pairs.h - the state one decode call (pd_features_decode, pd_codec_fastapi) shares
 * between features*.c (a JSON object) and json_pairs.c (a JSON array in the place of one
 * InputData, which Pydantic 1.10 turns into a dict with dict(value):
 * [["feature1", 1], ["feature2", 2]] is a valid row).
 * The per-feature states describe one InputData at a time: a list of rows reuses them for
 * every element (pd__features_reset). Internal to src/api/. */
#ifndef PD_API_JSON_PAIRS_H
#define PD_API_JSON_PAIRS_H

#include <stddef.h>

#include "api/json_scan.h"
#include "model/model.h"
#include "util/buf.h"

/* Per-feature outcome, in field order. */
enum {
    PD__F_MISSING = 0, /* value_error.missing */
    PD__F_OK,          /* out[i] holds a finite double (NaN after pd__features_finish
                          when missing_ok: a missing value) */
    PD__F_NULL,        /* type_error.none.not_allowed */
    PD__F_TYPE,        /* type_error.float */
    PD__F_NONFINITE,   /* accepted by Pydantic, refused by predictd (+-inf, or an integer
                          too large for a double) */
    PD__F_NAN,         /* float() gave NaN: a missing value when missing_ok, else refused
                          as not finite (pd__features_finish turns it into one of those) */
    PD__F_STR,         /* type_error.str: an object or array for a string column */
};

/* What dict(value) and then Model(**dict) make of the body, besides per-field outcomes. */
enum {
    PD__B_FIELDS = 0,  /* a mapping: per-field outcomes decide */
    PD__B_MISSING,     /* null: value_error.missing at ["body"] for the whole body,
                          type_error.none.not_allowed at ["body", i] for a list element */
    PD__B_DICT,        /* dict(value) failed: type_error.dict at ["body"] */
    PD__B_KW_STR,      /* a non-string key: type_error "keywords must be strings" */
    PD__B_KW_SELF,     /* key "__pydantic_self__": type_error from BaseModel.__init__ */
};

/* One decode call. names/out/st are borrowed for the call; st has n entries; out points
 * at the row being decoded (n doubles), valid while that row is. */
typedef struct pd__fctx_s {
    const char *const *names;
    size_t n;
    double *out;
    unsigned char *st;
    int missing_ok;    /* null, omitted and NaN fields are missing values (NaN), not errors */
    size_t hint;       /* the field after the last one matched: keys usually come in order */
    int body;          /* PD__B_* */
    int kw_nonstr;     /* a non-string key seen (array bodies) */
    int kw_self;       /* "__pydantic_self__" seen as a key */
    const pd_model_input_t *inputs; /* n input types (model.h), or NULL: all numbers */
    pd_buf_t *txt;       /* with typed inputs: a value's str() (features_string.c) */
    pd_buf_t *unk;       /* with typed inputs: unknown categories recorded, or NULL */
    size_t row;          /* the row being decoded (PD__FEATURES_TOP: the body's one) */
    size_t unk_row_mark; /* unk's length when the row began */
    int unk_full;        /* unk hit its cap: listing it would outgrow the error buffer */
    const uint32_t *tab; /* wide models: hash of names -> index + 1 (0: empty), or NULL */
    uint32_t tab_mask;   /* slots - 1 (a power of two minus one) */
    size_t max_name;     /* longest name in bytes: longer keys cannot match */
    /* The error list of the whole body, streamed into the error buffer as rows end. */
    size_t n_err;        /* items written so far ({"detail":[ opened when > 0) */
    int pydantic;        /* some row has one of Pydantic's errors */
    int nonfinite;       /* some row holds a not-finite marker (INFINITY) */
    int err_full;        /* the error buffer hit its cap: nothing more is written to it */
    int too_many_rows;   /* a list held more than the rows' max_rows elements */
} pd__fctx_t;

/* The index of the field named by string value key, or -1; notes "__pydantic_self__". */
long pd__features_match(pd__fctx_t *c, const pd__jscan_t *s, const pd__jval_t *key);
/* Records float() = d for field idx: PD__F_OK with out[idx] = d when d is finite, else
 * PD__F_NAN or PD__F_NONFINITE. */
void pd__features_set(pd__fctx_t *c, long idx, double d);
/* A string column's value v (scanned at s, containers opened) as field idx's new value:
 * Pydantic's str, then the vocabulary (features_string.c). Returns 0 or PD_ENOMEM. */
int pd__features_string(pd__fctx_t *c, const pd__jscan_t *s, const pd__jval_t *v, long idx);
/* A number column with accepted values: records field idx's value when it is not one.
 * Returns 0 or PD_ENOMEM. */
int pd__features_known(pd__fctx_t *c, long idx);
/* Starts row `row` (its index in the list, or PD__FEATURES_TOP) for the records. */
void pd__features_row_begin(pd__fctx_t *c, size_t row);
/* Scans the value at s->pos as field idx's new value (last one wins; idx < 0: skipped).
 * Returns 0, PD_EFORMAT on a scan error (s->err set), or PD_ENOMEM. */
int pd__features_value(pd__fctx_t *c, pd__jscan_t *s, long idx);
/* Walks an array body whose '[' was consumed, as dict(list) then Model(**d) would see it.
 * Returns 0, PD_EFORMAT on a scan error (s->err set), or PD_ENOMEM. */
int pd__features_pairs(pd__fctx_t *c, pd__jscan_t *s);

#endif
