/* codec_outputs.c - output names, the `outputs` query parameter and named outputs' JSON
 * values (see codec_outputs.h). Invariants: a query is read in one pass with bounded
 * buffers (a name longer than PD_OUTPUTS_NAME_MAX is unknown, at most
 * PD_OUTPUTS_MAX_NAMES names); nothing is allocated except in the caller's buffers. */
#include "api/codec_outputs.h"

#include <math.h>
#include <string.h>

#include "api/codec_names.h"
#include "common.h"

#define PREDICT "predict"
#define PREDICT_PROBA "predict_proba"

static int has_proba(const pd_model_schema_t *s)
{
    return s->task == PD_TASK_CLASSIFICATION && s->proba_ok;
}

unsigned pd__outputs_lookup(const pd_model_schema_t *s, const char *name, size_t len)
{
    if (len == strlen(PREDICT) && memcmp(name, PREDICT, len) == 0)
        return PD_OUT_LABEL;
    if (len == strlen(PREDICT_PROBA) && memcmp(name, PREDICT_PROBA, len) == 0)
        return has_proba(s) ? PD_OUT_PROBA : 0;
    for (size_t k = 0; k < s->n_outputs && k < PD_MODEL_MAX_OUTPUTS; k++)
        if (strlen(s->outputs[k].name) == len && memcmp(s->outputs[k].name, name, len) == 0)
            return PD_OUT_NAMED(k);
    return 0;
}

int pd__outputs_list(const pd_model_schema_t *s, pd_buf_t *out)
{
    int rc = pd_buf_puts(out, PREDICT);
    if (rc == 0 && has_proba(s))
        rc = pd_buf_puts(out, ", " PREDICT_PROBA);
    for (size_t k = 0; rc == 0 && k < s->n_outputs && k < PD_MODEL_MAX_OUTPUTS; k++)
        rc = pd_buf_printf(out, ", %s", s->outputs[k].name);
    return rc;
}

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes p[0, n) ('+' is a space) into buf (cap bytes); returns the decoded
 * length, or cap + 1 when it does not fit. A '%' not followed by two hex digits is kept
 * as it is (as Python's unquote_plus does). */
static size_t unquote(const char *p, size_t n, char *buf, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '+')
            c = ' ';
        else if (c == '%' && i + 2 < n && hex(p[i + 1]) >= 0 && hex(p[i + 2]) >= 0) {
            c = (char)(hex(p[i + 1]) * 16 + hex(p[i + 2]));
            i += 2;
        }
        if (len == cap)
            return cap + 1;
        buf[len++] = c;
    }
    return len;
}

/* One name of a parameter's value (blanks around it dropped) into *bits. */
static int one_name(const pd_model_schema_t *s, const char *name, size_t len, unsigned *bits,
                    pd_buf_t *msg)
{
    while (len && (*name == ' ' || *name == '\t'))
        name++, len--;
    while (len && (name[len - 1] == ' ' || name[len - 1] == '\t'))
        len--;
    if (len == 0)
        return pd_buf_puts(msg, PD_OUTPUTS_PARAM ": an empty output name (list names "
                                "separated by commas, e.g. " PD_OUTPUTS_PARAM "=" PREDICT
                                ")") < 0 ? PD_ENOMEM : 400;
    unsigned bit = pd__outputs_lookup(s, name, len);
    if (bit != 0) {
        *bits |= bit;
        return 0;
    }
    char b[PD_CODEC_SHOWN_BUF];
    int rc = pd_buf_printf(msg, PD_OUTPUTS_PARAM ": unknown output '%s' (the model's outputs: ",
                           pd__codec_shown(b, name, len));
    if (rc == 0)
        rc = pd__outputs_list(s, msg);
    if (rc == 0)
        rc = pd_buf_puts(msg, ")");
    return rc < 0 ? rc : 400;
}

/* The value v[0, n) of one `outputs` parameter: names separated by commas. */
static int one_value(const pd_model_schema_t *s, const char *v, size_t n, unsigned *bits,
                     size_t *count, pd_buf_t *msg)
{
    char name[PD_OUTPUTS_NAME_MAX];
    size_t at = 0;
    for (;;) { /* one comma-separated raw piece per turn (an encoded comma splits too) */
        size_t end = at;
        while (end < n && v[end] != ',' && !(v[end] == '%' && end + 2 < n &&
                                             v[end + 1] == '2' && (v[end + 2] | 0x20) == 'c'))
            end++;
        if (++*count > PD_OUTPUTS_MAX_NAMES)
            return pd_buf_printf(msg, PD_OUTPUTS_PARAM ": more than %d names",
                                 PD_OUTPUTS_MAX_NAMES) < 0 ? PD_ENOMEM : 400;
        size_t len = unquote(v + at, end - at, name, sizeof name);
        int rc = one_name(s, len > sizeof name ? v + at : name,
                          len > sizeof name ? end - at : len, bits, msg);
        if (rc)
            return rc;
        if (end == n)
            return 0;
        at = end + (v[end] == ',' ? 1 : 3);
    }
}

int pd__outputs_query(const pd_model_schema_t *s, const char *query, unsigned *bits,
                      int *given, pd_buf_t *msg)
{
    *bits = 0;
    *given = 0;
    pd_buf_reset(msg);
    size_t count = 0;
    for (const char *p = query; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, "&;");
        const char *eq = memchr(p, '=', n);
        size_t kn = eq ? (size_t)(eq - p) : n;
        char key[sizeof PD_OUTPUTS_PARAM];
        size_t klen = unquote(p, kn, key, sizeof key);
        if (klen == strlen(PD_OUTPUTS_PARAM) && memcmp(key, PD_OUTPUTS_PARAM, klen) == 0) {
            *given = 1;
            int rc = one_value(s, eq ? eq + 1 : p + n, eq ? n - kn - 1 : 0, bits, &count, msg);
            if (rc)
                return rc;
        }
        p += n + (p[n] != '\0');
    }
    return 0;
}

int pd__outputs_want(const pd_model_schema_t *s, unsigned bits, pd_rows_t *rows)
{
    for (size_t k = 0; k < PD_MODEL_MAX_OUTPUTS; k++) {
        if (!(bits & PD_OUT_NAMED(k)))
            continue;
        if (k >= s->n_outputs || pd_rows_want_output(rows, k, s->outputs[k].width) < 0)
            return PD_EINVAL;
    }
    return 0;
}

int pd__outputs_add(const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *msg)
{
    unsigned bits;
    int given;
    int rc = pd__outputs_query(in->schema, in->query, &bits, &given, msg);
    if (rc != 0 || !given)
        return rc;
    rows->outputs |= bits & (PD_OUT_LABEL | PD_OUT_PROBA);
    return pd__outputs_want(in->schema, bits, rows);
}

int pd__outputs_put_row(pd_buf_t *out, const pd_rows_t *rows, size_t k, size_t i,
                        const char *sep)
{
    size_t w = rows->extra_width[k];
    const double *v = rows->extra[k] + i * w;
    if (w == 1)
        return isfinite(v[0]) ? pd_buf_json_double(out, v[0]) : PD_EINVAL;
    int rc = pd_buf_puts(out, "[");
    for (size_t j = 0; rc == 0 && j < w; j++) {
        if (!isfinite(v[j]))
            return PD_EINVAL;
        if (j > 0)
            rc = pd_buf_puts(out, sep);
        if (rc == 0)
            rc = pd_buf_json_double(out, v[j]);
    }
    return rc ? rc : pd_buf_puts(out, "]");
}

int pd__outputs_put_members(pd_buf_t *out, const pd_model_schema_t *s, const pd_rows_t *rows,
                            const char *sep, const char *colon)
{
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < s->n_outputs && k < PD_MODEL_MAX_OUTPUTS; k++) {
        if (!(rows->outputs & PD_OUT_NAMED(k)) || rows->extra[k] == NULL)
            continue;
        rc = pd_buf_puts(out, sep);
        if (rc == 0)
            rc = pd_buf_json_str(out, s->outputs[k].name, strlen(s->outputs[k].name));
        if (rc == 0)
            rc = pd_buf_printf(out, "%s[", colon);
        for (size_t i = 0; rc == 0 && i < rows->n_rows; i++) {
            if (i > 0)
                rc = pd_buf_puts(out, sep);
            if (rc == 0)
                rc = pd__outputs_put_row(out, rows, k, i, sep);
        }
        if (rc == 0)
            rc = pd_buf_puts(out, "]");
    }
    return rc;
}
