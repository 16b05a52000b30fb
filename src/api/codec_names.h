/* codec_names.h - what the row codecs (V1, MLflow, CSV) share about a model's feature
 * names: a per-call index from a column or key name to the feature's column, the
 * "which features were seen" flags, and names shown safely inside error messages.
 *
 * Invariants: the index borrows the schema's names and never changes them; lookups are
 * O(1) for wide models (a hash table built per call) and one compare for in-order keys
 * of narrow ones; nothing is static or shared, so two threads may each run their own
 * index over the same schema. Internal to src/api/. */
#ifndef PD_API_CODEC_NAMES_H
#define PD_API_CODEC_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "util/buf.h"

/* Up to this many features names are matched by a linear scan from a hint; wider models
 * get a hash index (one malloc per call). */
#define PD_CODEC_NAMES_LINEAR 16
/* Feature "seen" flags kept inside the index; wider models allocate them. */
#define PD_CODEC_NAMES_SEEN_INLINE 128
/* Most features a codec accepts for one model (a wider one is refused: PD_ETOOBIG). */
#define PD_CODEC_MAX_FEATURES 65536
/* Bytes of a name or key quoted in a message (longer ones are cut, with "..."). */
#define PD_CODEC_SHOWN 120
/* Size of the buffer pd__codec_shown writes into. */
#define PD_CODEC_SHOWN_BUF (PD_CODEC_SHOWN + 8)
/* Names listed in a "missing inputs" message before ", ..." ends the list. */
#define PD_CODEC_MISSING_LISTED 10

typedef struct pd__cnames_s {
    const char *const *names; /* borrowed: the schema's feature names */
    size_t n;
    size_t hint;              /* the feature after the last one found */
    size_t max_len;           /* longest name in bytes: longer keys cannot match */
    uint32_t *tab;            /* n > PD_CODEC_NAMES_LINEAR: index + 1 per slot, 0 empty */
    uint32_t mask;            /* slots - 1 */
    unsigned char *seen;      /* n flags, see pd__cnames_reset_seen */
    unsigned char *seen_heap; /* owned, when n > PD_CODEC_NAMES_SEEN_INLINE */
    unsigned char seen_inline[PD_CODEC_NAMES_SEEN_INLINE];
} pd__cnames_t;

/* Prepares an index over names[0, n) (borrowed: must outlive the index). Returns 0,
 * PD_ETOOBIG when n > PD_CODEC_MAX_FEATURES, or PD_ENOMEM. Free with pd__cnames_fini. */
int pd__cnames_init(pd__cnames_t *ix, const char *const *names, size_t n);

/* The feature named key[0, len) (UTF-8 bytes, need not be NUL-terminated; borrowed for the
 * call), or -1. */
long pd__cnames_find(pd__cnames_t *ix, const char *key, size_t len);

/* Clears every "seen" flag (ix->seen[i] for feature i). */
void pd__cnames_reset_seen(pd__cnames_t *ix);

/* Frees what the index allocated. Accepts an index that was never initialized only if it
 * was zeroed. */
void pd__cnames_fini(pd__cnames_t *ix);

/* Writes p[0, n) into buf (PD_CODEC_SHOWN_BUF bytes) as text safe for a message: at most
 * PD_CODEC_SHOWN bytes cut at a character boundary (then "..."), every byte sequence that
 * is not valid UTF-8 (including encoded surrogates) replaced by U+FFFD. Returns buf. */
const char *pd__codec_shown(char *buf, const char *p, size_t n);

/* When some feature i has seen[i] == 0, writes the message naming them into msg (reset
 * first) and returns 400; else returns 0. mlflow_words: MLflow's wording
 * "Model is missing inputs ['a', 'b']."; else "<what>: missing feature 'a'" (what is a
 * short label of the body part, e.g. "\"inputs\""). s, seen, what are borrowed. */
int pd__codec_missing(pd_buf_t *msg, const pd_model_schema_t *s, const unsigned char *seen,
                      int mlflow_words, const char *what);

#endif
