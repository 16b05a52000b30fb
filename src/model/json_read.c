/* json_read.c - see json_read.h. One pass over JSON text outside strings both bounds the
 * nesting (jansson recurses) and counts the bare NaN / Infinity / -Infinity literals;
 * only when there are some is a copy made with each quoted (so jansson accepts it). */
#include "model/json_read.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"
#include "model/ubjson.h"

/* Length of the non-finite literal starting at s (n bytes left), 0 if none. */
static size_t literal_at(const char *s, size_t n)
{
    static const char *const lits[] = {"NaN", "Infinity", "-Infinity"};
    for (size_t k = 0; k < sizeof lits / sizeof *lits; k++) {
        size_t l = strlen(lits[k]);
        if (n >= l && memcmp(s, lits[k], l) == 0)
            return l;
    }
    return 0;
}

/* Refuses nesting deeper than the limit and counts literals (*lits), skipping strings. */
static int scan(pd__jctx_t *c, const char *s, size_t n, size_t *lits)
{
    int depth = 0, in_str = 0;
    *lits = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '[' || ch == '{') {
            if (++depth > PD_MODEL_MAX_JSON_DEPTH)
                return pd__jfail(c, "$", "JSON nested deeper than %d (at byte %zu)",
                                 PD_MODEL_MAX_JSON_DEPTH, i);
        } else if (ch == ']' || ch == '}') {
            depth--;
        } else if ((ch == 'N' || ch == 'I' || ch == '-') && literal_at(s + i, n - i)) {
            (*lits)++;
            i += literal_at(s + i, n - i) - 1;
        }
    }
    return 0;
}

/* A copy of s with every literal outside strings in quotes (lits of them). */
static char *quote_literals(const char *s, size_t n, size_t lits, size_t *outn)
{
    char *d = malloc(n + 2 * lits + 1);
    size_t o = 0;
    int in_str = 0;
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        size_t l = 0;
        if (in_str) {
            if (ch == '\\' && i + 1 < n)
                d[o++] = s[i++], ch = s[i];
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if ((ch == 'N' || ch == 'I' || ch == '-') && (l = literal_at(s + i, n - i))) {
            d[o++] = '"';
            memcpy(d + o, s + i, l);
            o += l, i += l - 1;
            d[o++] = '"';
            continue;
        }
        d[o++] = ch;
    }
    d[o] = '\0';
    *outn = o;
    return d;
}

int pd__json_read(pd__jctx_t *c, const char *data, size_t len, json_t **root)
{
    size_t lits;
    *root = NULL;
    if (pd__ubjson_sniff(data, len))
        return pd__ubjson_parse(c, data, len, root);
    int rc = scan(c, data, len, &lits);
    if (rc)
        return rc;
    char *copy = NULL;
    if (lits > 0) {
        if (!(copy = quote_literals(data, len, lits, &len))) {
            pd__jfail(c, "$", "out of memory");
            return PD_ENOMEM;
        }
        data = copy;
    }
    json_error_t jerr;
    *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    free(copy);
    if (!*root)
        return pd__jfail(c, "$", "invalid JSON at line %d, column %d: %s", jerr.line,
                         jerr.column, jerr.text);
    return 0;
}
