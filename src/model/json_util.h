/* json_util.h - checked access to a jansson tree for the model loaders: every getter
 * verifies type, range and length and, on failure, writes "LABEL: $.json.path: reason"
 * into the context's error buffer and returns PD_EFORMAT. Internal to src/model/. */
#ifndef PD_MODEL_JSON_UTIL_H
#define PD_MODEL_JSON_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Longest JSON path kept in messages (longer paths are truncated, never overflowed). */
#define PD__PATH_MAX 256

/* Error context: label names the file in messages; err/errlen is the caller's buffer
 * (may be NULL/0). Both must outlive the load call. */
typedef struct pd__jctx_s {
    const char *label;
    char *err;
    size_t errlen;
} pd__jctx_t;

typedef enum { PD__J_ANY, PD__J_OBJ, PD__J_ARR, PD__J_STR, PD__J_NUM, PD__J_INT } pd__jtype_t;

/* Writes "label: path: reason" into c->err and returns PD_EFORMAT. */
int pd__jfail(pd__jctx_t *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes a path built from base and a printf suffix into dst (n bytes), truncating. */
void pd__jpath(char *dst, size_t n, const char *base, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Checks that v (at path) has type t. */
int pd__jcheck(pd__jctx_t *c, const json_t *v, const char *path, pd__jtype_t t);
/* Looks up obj[key] (obj at path, an object) and checks its type. If absent: error when
 * required, else *out = NULL and 0. subpath (PD__PATH_MAX bytes, may be NULL) receives
 * "path.key". *out is borrowed from obj. */
int pd__jget(pd__jctx_t *c, const json_t *obj, const char *path, const char *key,
             pd__jtype_t t, int required, json_t **out, char *subpath);
/* A finite number (integer or real) into *out. */
int pd__jnum(pd__jctx_t *c, const json_t *v, const char *path, double *out);
/* An integer in [lo, hi] into *out. */
int pd__jint(pd__jctx_t *c, const json_t *v, const char *path, int64_t lo, int64_t hi,
             int64_t *out);
/* Checks that arr is an array whose length is in [lo, hi]; its length into *n. */
int pd__jlen(pd__jctx_t *c, const json_t *arr, const char *path, size_t lo, size_t hi,
             size_t *n);
/* arr must be an array of exactly n finite numbers; copied into out (n doubles). */
int pd__jdoubles(pd__jctx_t *c, const json_t *arr, const char *path, size_t n, double *out);
/* As pd__jdoubles, but the strings "NaN", "Infinity" and "-Infinity" (the non-finite
 * literals of XGBoost's files, as pd__json_read keeps them) are accepted as those values. */
int pd__jdoubles_nf(pd__jctx_t *c, const json_t *arr, const char *path, size_t n,
                    double *out);
/* arr must be an array of exactly n integers in [lo, hi]; copied into out. */
int pd__jints(pd__jctx_t *c, const json_t *arr, const char *path, size_t n, int64_t lo,
              int64_t hi, int32_t *out);
/* Returns the string obj[key] (borrowed), NULL with an error if absent/not a string and
 * required; dflt if absent and not required. *rc receives 0 or PD_EFORMAT. */
const char *pd__jstr(pd__jctx_t *c, const json_t *obj, const char *path, const char *key,
                     int required, const char *dflt, int *rc);
/* Maps s (at path) to the index of the equal entry of names (n entries); error listing
 * the accepted names if none matches. */
int pd__jenum(pd__jctx_t *c, const char *s, const char *path, const char *const *names,
              size_t n, int *out);

#endif
