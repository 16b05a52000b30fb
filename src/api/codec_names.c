/* codec_names.c - feature names for the row codecs (see codec_names.h): the per-call
 * name index (linear with a hint for narrow models, FNV-1a open addressing for wide ones),
 * names made safe for messages, and the "missing features" message.
 *
 * Invariant: tab, when present, holds every index 0..n-1 exactly once (as index + 1) in a
 * table of at least 2n slots, so a probe always ends at an empty slot. */
#include "api/codec_names.h"

#include <stdlib.h>
#include <string.h>

#include "api/json_scan.h"
#include "common.h"

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

static uint32_t fnv(const char *p, size_t n)
{
    uint32_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * FNV_PRIME;
    return h;
}

int pd__cnames_init(pd__cnames_t *ix, const char *const *names, size_t n)
{
    memset(ix, 0, offsetof(pd__cnames_t, seen_inline));
    if (n > PD_CODEC_MAX_FEATURES)
        return PD_ETOOBIG;
    ix->names = names;
    ix->n = n;
    ix->seen = ix->seen_inline;
    if (n > PD_CODEC_NAMES_SEEN_INLINE) {
        if (!(ix->seen_heap = malloc(n)))
            return PD_ENOMEM;
        ix->seen = ix->seen_heap;
    }
    for (size_t i = 0; i < n; i++)
        ix->max_len = PD_MAX(ix->max_len, strlen(names[i]));
    if (n <= PD_CODEC_NAMES_LINEAR)
        return 0;
    uint32_t slots = 64;
    while (slots < 2 * n)
        slots *= 2;
    if (!(ix->tab = calloc(slots, sizeof *ix->tab))) {
        pd__cnames_fini(ix);
        return PD_ENOMEM;
    }
    ix->mask = slots - 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t j = fnv(names[i], strlen(names[i])) & ix->mask;
        while (ix->tab[j] != 0)
            j = (j + 1) & ix->mask;
        ix->tab[j] = (uint32_t)i + 1;
    }
    return 0;
}

static int name_is(const char *name, const char *key, size_t len)
{
    return strncmp(name, key, len) == 0 && name[len] == '\0';
}

long pd__cnames_find(pd__cnames_t *ix, const char *key, size_t len)
{
    if (ix->n == 0 || len > ix->max_len || memchr(key, '\0', len))
        return -1;
    long found = -1;
    if (ix->hint < ix->n && name_is(ix->names[ix->hint], key, len)) {
        found = (long)ix->hint;
    } else if (ix->tab) {
        for (uint32_t j = fnv(key, len) & ix->mask; ix->tab[j] != 0; j = (j + 1) & ix->mask)
            if (name_is(ix->names[ix->tab[j] - 1], key, len)) {
                found = (long)ix->tab[j] - 1;
                break;
            }
    } else {
        for (size_t i = 0; i < ix->n && found < 0; i++)
            if (name_is(ix->names[i], key, len))
                found = (long)i;
    }
    if (found >= 0)
        ix->hint = (size_t)found + 1 < ix->n ? (size_t)found + 1 : 0;
    return found;
}

void pd__cnames_reset_seen(pd__cnames_t *ix)
{
    if (ix->n)
        memset(ix->seen, 0, ix->n);
}

void pd__cnames_fini(pd__cnames_t *ix)
{
    free(ix->tab);
    free(ix->seen_heap);
    ix->tab = NULL;
    ix->seen_heap = NULL;
    ix->seen = ix->seen_inline;
}

const char *pd__codec_shown(char *buf, const char *p, size_t n)
{
    static const char repl[] = "\xEF\xBF\xBD";
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0, w = 0;
    while (i < n) {
        size_t k = u[i] < 0x80 ? 1 : pd__utf8_seq(u + i, n - i);
        /* invalid, an encoded surrogate, or NUL (which would end the C string) */
        int bad = k == 0 || u[i] == 0 || (k == 3 && u[i] == 0xED && u[i + 1] >= 0xA0);
        size_t out = bad ? 3 : k;
        if (w + out > PD_CODEC_SHOWN) {
            memcpy(buf + w, "...", 3);
            w += 3;
            break;
        }
        memcpy(buf + w, bad ? repl : p + i, out);
        w += out;
        i += k ? k : 1;
    }
    buf[w] = '\0';
    return buf;
}

int pd__codec_missing(pd_buf_t *msg, const pd_model_schema_t *s, const unsigned char *seen,
                      int mlflow_words, const char *what)
{
    size_t first = 0;
    while (first < s->n_features && seen[first])
        first++;
    if (first == s->n_features)
        return 0;
    char shown[PD_CODEC_SHOWN_BUF];
    const char *name = s->feature_names[first];
    pd_buf_reset(msg);
    if (!mlflow_words) {
        pd_buf_printf(msg, "%s: missing feature '%s'", what,
                      pd__codec_shown(shown, name, strlen(name)));
        return 400;
    }
    pd_buf_puts(msg, "Model is missing inputs [");
    size_t listed = 0;
    for (size_t i = first; i < s->n_features; i++) {
        if (seen[i])
            continue;
        if (listed == PD_CODEC_MISSING_LISTED) {
            pd_buf_puts(msg, ", ...");
            break;
        }
        name = s->feature_names[i];
        pd_buf_printf(msg, "%s'%s'", listed ? ", " : "",
                      pd__codec_shown(shown, name, strlen(name)));
        listed++;
    }
    pd_buf_puts(msg, "].");
    return 400;
}
