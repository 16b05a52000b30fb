/* ubjson.h - a bounded reader of UBJSON (Universal Binary JSON, the binary format of
 * XGBoost's Booster.save_model("m.ubj")) into the same jansson tree the JSON text loaders
 * read, so that every loader and its checks apply unchanged. Internal to src/model/. */
#ifndef PD_MODEL_UBJSON_H
#define PD_MODEL_UBJSON_H

#include <jansson.h>
#include <stddef.h>

#include "model/json_util.h"

/* 1 when data (len bytes) looks like UBJSON rather than JSON text: '{' followed by a
 * UBJSON key-length type marker, '$' or '#' (JSON text follows '{' with whitespace, '"' or
 * '}'). */
int pd__ubjson_sniff(const char *data, size_t len);

/* Parses the len bytes at data (one value, nothing after it) into *out (a new reference
 * the caller json_decref's). Nesting is bounded by PD_MODEL_MAX_JSON_DEPTH, every count by
 * the bytes left, strings must be UTF-8, object keys unique. Non-finite floats become the
 * strings "NaN", "Infinity", "-Infinity" (as pd__json_read gives the JSON literals).
 * Returns 0, or PD_EFORMAT (message with the byte offset in c) / PD_ENOMEM. Any thread;
 * nothing is kept after the call. */
int pd__ubjson_parse(pd__jctx_t *c, const char *data, size_t len, json_t **out);

#endif
