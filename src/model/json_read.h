/* json_read.h - a model file's bytes to a jansson tree: JSON text or UBJSON (recognised by
 * content), nesting bounded before any recursion, and the non-finite literals NaN,
 * Infinity, -Infinity that XGBoost writes (not JSON) kept as the strings "NaN",
 * "Infinity", "-Infinity" for the loaders that accept them (pd__jdoubles_nf). Internal to
 * src/model/. */
#ifndef PD_MODEL_JSON_READ_H
#define PD_MODEL_JSON_READ_H

#include <jansson.h>
#include <stddef.h>

#include "model/json_util.h"

/* Parses data (len bytes, not necessarily NUL-terminated) into *root (a new reference).
 * Returns 0, or PD_EFORMAT with "label: $: reason" in c (line/column for JSON text, byte
 * offset for UBJSON) or PD_ENOMEM. Any thread. */
int pd__json_read(pd__jctx_t *c, const char *data, size_t len, json_t **root);

#endif
