/* codec_json.c - JSON bodies into rows for the V1 and MLflow codecs, and their
 * {"predictions": [...]} answer (see codec_json.h).
 *
 * Invariants: a row is appended (all NaN) before its values are read, so a value is
 * written only into the row it belongs to; with !missing_ok every missing value is
 * refused where it is read (null, NaN) or when its row ends (an omitted feature), so a
 * NaN never reaches the model unless the model takes missing values. */
#include "api/codec_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/codec_num.h"
#include "api/codec_outputs.h"
#include "api/json_pyfloat.h"
#include "common.h"

int pd__cj_init(pd__cj_t *c, const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *msg)
{
    memset(c, 0, sizeof *c);
    pd__json_init(&c->s, (const unsigned char *)in->body, in->body ? in->len : 0);
    c->rows = rows;
    c->msg = msg;
    c->schema = in->schema;
    c->missing_ok = in->missing_ok;
    c->unit = "row";
    c->what = "body";
    c->json_prefix = "";
    pd_buf_init(&c->key, 0);
    if (rows->n_cols != in->schema->n_features)
        return PD_EINVAL; /* the caller's rows do not match the model */
    int rc = pd__cnames_init(&c->names, in->schema->feature_names, in->schema->n_features);
    if (rc == PD_ETOOBIG)
        return pd__cj_fail(c, 400, "the model has more than %d features", PD_CODEC_MAX_FEATURES);
    return rc;
}

void pd__cj_fini(pd__cj_t *c)
{
    pd__cnames_fini(&c->names);
    pd_buf_free(&c->key);
}

int pd__cj_fail(pd__cj_t *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pd_buf_reset(c->msg);
    pd_buf_vprintf(c->msg, fmt, ap); /* a message cut by the buffer's cap is still sent */
    va_end(ap);
    return status;
}

int pd__cj_scan_fail(pd__cj_t *c)
{
    const pd__jscan_t *s = &c->s;
    size_t at = s->err_pos, chars, line, col;
    pd__json_char_offset(s->doc, at, &chars, &line, &col);
    const char *why = s->msg;
    if (s->err != PD__J_SYNTAX) { /* what Python reports as a ValueError or RecursionError */
        unsigned char ch = at < s->len ? s->doc[at] : 0;
        if (ch == '{' || ch == '[')
            why = "nesting too deep";
        else if (ch == '-' || (ch >= '0' && ch <= '9'))
            why = "integer with too many digits";
        else
            why = "invalid UTF-8";
    }
    return pd__cj_fail(c, 400, "%s%s at byte %zu (line %zu, column %zu)", c->json_prefix, why,
                       at, line, col);
}

int pd__cj_top(pd__cj_t *c, pd__jval_t *v)
{
    if (c->s.pos == 0 && c->s.len >= 3 && !memcmp(c->s.doc, "\xEF\xBB\xBF", 3))
        c->s.pos = 3; /* a UTF-8 BOM, as Python's json.loads(bytes) skips it */
    pd__json_ws(&c->s);
    return pd__json_value(&c->s, v) < 0 ? pd__cj_scan_fail(c) : 0;
}

int pd__cj_finish(pd__cj_t *c)
{
    pd__json_ws(&c->s);
    if (c->s.pos < c->s.len) {
        c->s.err = PD__J_SYNTAX;
        c->s.msg = "Extra data";
        c->s.err_pos = c->s.pos;
        return pd__cj_scan_fail(c);
    }
    return 0;
}

int pd__cj_skip(pd__cj_t *c)
{
    return pd__json_skip(&c->s) < 0 ? pd__cj_scan_fail(c) : 0;
}

int pd__cj_recheck(pd__cj_t *c, const char *const *keys, int nkeys, int *found, size_t *n,
                   int *object)
{
    pd__json_init(&c->s, c->s.doc, c->s.len);
    *n = 0;
    pd__jval_t top, key;
    int rc = pd__cj_top(c, &top);
    if (rc)
        return rc;
    *object = top.kind == PD__JK_OBJECT;
    if (top.kind == PD__JK_ARRAY && pd__json_skip_rest(&c->s, top.kind, 1) < 0)
        return pd__cj_scan_fail(c);
    int r = *object ? pd__json_obj_first(&c->s, &key) : 0;
    for (; r == 1; r = pd__json_obj_next(&c->s, &key)) {
        int k = 0;
        while (k < nkeys && !pd__json_str_eq(&c->s, &key, keys[k], strlen(keys[k])))
            k++;
        size_t j = 0;
        while (j < *n && found[j] != k)
            j++;
        if (k < nkeys && j == *n)
            found[(*n)++] = k;
        if (pd__json_skip(&c->s) < 0)
            return pd__cj_scan_fail(c);
    }
    if (r < 0)
        return pd__cj_scan_fail(c);
    return pd__cj_finish(c);
}

int pd__cj_name(pd__cj_t *c, const pd__jval_t *v, long *idx, const char **name, size_t *len)
{
    if (!v->escaped) {
        *name = (const char *)c->s.doc + v->start;
        *len = v->end - v->start;
    } else {
        pd_buf_reset(&c->key);
        size_t i = v->start;
        uint32_t cp;
        while (pd__json_str_next(c->s.doc, &i, v->end, &cp)) {
            unsigned char enc[4];
            int rc = pd_buf_append(&c->key, enc, pd__utf8_put(cp, enc));
            if (rc < 0)
                return PD_ENOMEM;
        }
        *name = c->key.data ? c->key.data : "";
        *len = c->key.len;
    }
    *idx = pd__cnames_find(&c->names, *name, *len);
    return 0;
}

const char *pd__cj_kind(pd__jkind_t k)
{
    switch (k) {
    case PD__JK_STRING: return "a string";
    case PD__JK_TRUE:
    case PD__JK_FALSE: return "a boolean";
    case PD__JK_NULL: return "null";
    case PD__JK_OBJECT: return "an object";
    case PD__JK_ARRAY: return "a list";
    default: return "a number";
    }
}

/* The name of feature f, made safe for a message. */
static const char *feat(const pd__cj_t *c, size_t f, char *buf)
{
    const char *n = c->schema->feature_names[f];
    return pd__codec_shown(buf, n, strlen(n));
}

static int convert_number(pd__cj_t *c, const pd__jval_t *v, size_t i, size_t f, double *out);

/* A string feature's value (issue 10): a string is its category's code (-1: unknown; a
 * 400 naming it where the model's encoder refuses unknown categories), null or NaN a
 * missing value as for numbers; anything else is refused (a pandas column of mixed
 * strings and numbers is refused by scikit-learn's encoders too). */
static int convert_string(pd__cj_t *c, const pd_model_input_t *in, const pd__jval_t *v,
                          size_t i, size_t f, double *out)
{
    char b[PD_CODEC_SHOWN_BUF], s[PD_CJ_MAX_STRING + 4];
    if (v->kind == PD__JK_NULL || v->kind == PD__JK_NAN)
        return convert_number(c, v, i, f, out);
    if (v->kind != PD__JK_STRING)
        return pd__cj_fail(c, 400, "%s %zu: feature '%s' is a string feature, got %s",
                           c->unit, i, feat(c, f, b), pd__cj_kind(v->kind));
    size_t n = 0, k = v->start;
    uint32_t cp;
    while (n <= PD_CJ_MAX_STRING && pd__json_str_next(c->s.doc, &k, v->end, &cp))
        n += pd__utf8_put(cp, (unsigned char *)s + n);
    long code = n > PD_CJ_MAX_STRING ? -1 : pd_model_input_code(in, s, n);
    if (in->unknown_error && (code < 0 || (size_t)code >= in->n_known)) {
        char q[PD_CODEC_SHOWN_BUF];
        return pd__cj_fail(c, 400, "%s %zu: feature '%s': unknown category \"%s\" (the "
                           "model's encoder was fitted with handle_unknown='error')", c->unit,
                           i, feat(c, f, b), pd__codec_shown(q, s, n));
    }
    *out = code < 0 ? PD_MODEL_CODE_UNKNOWN : (double)code;
    return 0;
}

/* Converts the scanned value v of row i, feature f into *out: a string feature's through
 * its vocabulary, a number checked against its known values when the model's encoder
 * refuses unknown ones (typed inputs, model.h). */
static int convert(pd__cj_t *c, const pd__jval_t *v, size_t i, size_t f, double *out)
{
    const pd_model_input_t *in = c->schema->typed_inputs ? &c->schema->inputs[f] : NULL;
    if (in && in->type == PD_INPUT_STRING)
        return convert_string(c, in, v, i, f, out);
    int rc = convert_number(c, v, i, f, out);
    if (rc == 0 && in && !isnan(*out) && !pd_model_input_known(in, *out)) {
        char b[PD_CODEC_SHOWN_BUF];
        return pd__cj_fail(c, 400, "%s %zu: feature '%s': unknown category %.17g (the model's "
                           "encoder was fitted with handle_unknown='error')", c->unit, i,
                           feat(c, f, b), *out);
    }
    return rc;
}

/* Converts the scanned number v of row i, feature f into *out. A container is refused
 * without being entered (the scanner is left inside it: the caller stops). */
static int convert_number(pd__cj_t *c, const pd__jval_t *v, size_t i, size_t f, double *out)
{
    char b[PD_CODEC_SHOWN_BUF];
    switch (v->kind) {
    case PD__JK_INT:
    case PD__JK_FLOAT:
        if (!pd__codec_decimal((const char *)c->s.doc + v->start, v->end - v->start, out) &&
            pd__pyfloat_number(&c->s, v, out) < 0)
            return PD_ENOMEM;
        if (v->kind == PD__JK_INT && *out == 0)
            *out = 0.0; /* float(int("-0")) is +0.0 */
        if (!isfinite(*out))
            return pd__cj_fail(c, 400, "%s %zu: feature '%s' is not a finite number", c->unit,
                               i, feat(c, f, b));
        return 0;
    case PD__JK_TRUE:
    case PD__JK_FALSE:
        *out = v->kind == PD__JK_TRUE;
        return 0;
    case PD__JK_NULL:
    case PD__JK_NAN:
        if (c->missing_ok) {
            *out = NAN;
            return 0;
        }
        return pd__cj_fail(c, 400, "%s %zu: feature '%s' is %s and the model takes no missing "
                           "values", c->unit, i, feat(c, f, b), v->kind == PD__JK_NULL ? "null" : "NaN");
    case PD__JK_INF:
    case PD__JK_NINF:
        return pd__cj_fail(c, 400, "%s %zu: feature '%s' is not a finite number", c->unit, i,
                           feat(c, f, b));
    default:
        return pd__cj_fail(c, 400, "%s %zu: feature '%s' is not a number (got %s)", c->unit, i,
                           feat(c, f, b), pd__cj_kind(v->kind));
    }
}

/* Scans and converts the value at the scanner for row i, feature f. */
static int value(pd__cj_t *c, size_t i, size_t f, double *out)
{
    pd__jval_t v;
    if (pd__json_value(&c->s, &v) < 0)
        return pd__cj_scan_fail(c);
    return convert(c, &v, i, f, out);
}

static int too_many(pd__cj_t *c)
{
    return pd__cj_fail(c, 413, "%s: more than %zu rows, the server's limit", c->what,
                       c->rows->max_rows);
}

/* Refuses row i of an object form when !missing_ok and a feature was never given. */
static int row_complete(pd__cj_t *c, const double *row, size_t i)
{
    if (c->missing_ok)
        return 0;
    for (size_t f = 0; f < c->rows->n_cols; f++)
        if (isnan(row[f])) {
            char b[PD_CODEC_SHOWN_BUF];
            return pd__cj_fail(c, 400, "%s %zu: missing feature '%s'", c->unit, i,
                               feat(c, f, b));
        }
    return 0;
}

/* Row i as a list whose '[' was consumed: width values, value k to map[k] (see
 * pd__cj_rows). Extra values are counted so that the message says how many there were. */
static int row_array(pd__cj_t *c, double *row, const long *map, size_t width, size_t i)
{
    size_t k = 0;
    int r = pd__json_arr_first(&c->s);
    for (; r == 1; k++, r = pd__json_arr_next(&c->s)) {
        long f = k >= width ? -1 : map ? map[k] : (long)k;
        int rc = f < 0 ? pd__cj_skip(c) : value(c, i, (size_t)f, &row[f]);
        if (rc)
            return rc;
    }
    if (r < 0)
        return pd__cj_scan_fail(c);
    if (k != width)
        return pd__cj_fail(c, 400, "%s %zu: expected %zu values, got %zu", c->unit, i, width, k);
    return 0;
}

/* Row i as an object whose '{' was consumed: feature name -> value, last one wins. */
static int row_object(pd__cj_t *c, double *row, size_t i)
{
    pd__jval_t key;
    int r = pd__json_obj_first(&c->s, &key);
    for (; r == 1; r = pd__json_obj_next(&c->s, &key)) {
        long f;
        const char *name;
        size_t len;
        int rc = pd__cj_name(c, &key, &f, &name, &len);
        if (rc == 0 && f < 0 && !c->ignore_unknown) {
            char b[PD_CODEC_SHOWN_BUF];
            return pd__cj_fail(c, 400, "%s %zu: unknown feature '%s'", c->unit, i,
                               pd__codec_shown(b, name, len));
        }
        if (rc == 0)
            rc = f < 0 ? pd__cj_skip(c) : value(c, i, (size_t)f, &row[f]);
        if (rc)
            return rc;
    }
    if (r < 0)
        return pd__cj_scan_fail(c);
    return row_complete(c, row, i);
}

/* "expected ..." for an element of none of the forms. */
static int wrong_form(pd__cj_t *c, unsigned forms, size_t width, const pd__jval_t *v, size_t i)
{
    const char *want = (forms & PD__CJ_OBJECT) && (forms & PD__CJ_ARRAY)
                           ? "a list of values or an object of features"
                       : forms & PD__CJ_OBJECT ? "an object of features"
                                               : "a list of values";
    if ((forms & PD__CJ_SCALAR) && width == 1)
        want = forms & PD__CJ_OBJECT ? "a value, a list of values or an object of features"
                                     : "a value or a list of values";
    return pd__cj_fail(c, 400, "%s %zu: expected %s, got %s", c->unit, i, want,
                       pd__cj_kind(v->kind));
}

int pd__cj_rows(pd__cj_t *c, unsigned forms, const long *map, size_t width)
{
    size_t i = 0;
    int r = pd__json_arr_first(&c->s);
    for (; r == 1; i++, r = pd__json_arr_next(&c->s)) {
        double *row;
        int rc = pd_rows_add(c->rows, &row);
        if (rc == PD_ETOOBIG)
            return too_many(c);
        if (rc < 0)
            return rc;
        pd__jval_t v;
        if (pd__json_value(&c->s, &v) < 0)
            return pd__cj_scan_fail(c);
        int scalar = v.kind != PD__JK_ARRAY && v.kind != PD__JK_OBJECT;
        if (v.kind == PD__JK_ARRAY && (forms & PD__CJ_ARRAY))
            rc = row_array(c, row, map, width, i);
        else if (v.kind == PD__JK_OBJECT && (forms & PD__CJ_OBJECT))
            rc = row_object(c, row, i);
        else if (scalar && (forms & PD__CJ_SCALAR) && width == 1) {
            long f = map ? map[0] : 0;
            double ignored;
            rc = convert(c, &v, i, f < 0 ? 0 : (size_t)f, f < 0 ? &ignored : &row[f]);
            if (rc == 400 && f < 0) /* a value of an ignored column: anything goes */
                rc = 0;
        } else
            rc = wrong_form(c, forms, width, &v, i);
        if (rc)
            return rc;
    }
    if (r < 0)
        return pd__cj_scan_fail(c);
    if (i == 0)
        return pd__cj_fail(c, 400, "%s is empty", c->what);
    return 0;
}

/* Where value i of feature f's column goes: a new row while the first column is read
 * (n == SIZE_MAX), row i after that, or NULL past the last row (counted, not kept). */
static int column_cell(pd__cj_t *c, size_t f, size_t i, size_t n, double **cell)
{
    if (n != SIZE_MAX) {
        *cell = i < n ? c->rows->x + i * c->rows->n_cols + f : NULL;
        return 0;
    }
    double *row;
    int rc = pd_rows_add(c->rows, &row);
    if (rc == PD_ETOOBIG)
        return too_many(c);
    if (rc < 0)
        return rc;
    *cell = row + f;
    return 0;
}

/* The column of feature f whose value is at the scanner: a list of values, or one value
 * (a one-row column). The first column decoded appends the rows (*n == SIZE_MAX until
 * then, *first names it); every later one fills them and must have *n values. */
static int column(pd__cj_t *c, size_t f, size_t *n, size_t *first)
{
    pd__jval_t v;
    if (pd__json_value(&c->s, &v) < 0)
        return pd__cj_scan_fail(c);
    char b[PD_CODEC_SHOWN_BUF], b2[PD_CODEC_SHOWN_BUF];
    if (v.kind == PD__JK_OBJECT)
        return pd__cj_fail(c, 400, "%s: feature '%s': expected a list of values, got an object",
                           c->what, feat(c, f, b));
    size_t i = 0;
    double *cell = NULL, spare;
    if (v.kind != PD__JK_ARRAY) {
        int rc = column_cell(c, f, 0, *n, &cell);
        if (rc == 0)
            rc = convert(c, &v, 0, f, cell ? cell : &spare);
        if (rc)
            return rc;
        i = 1;
    } else {
        int r = pd__json_arr_first(&c->s);
        for (; r == 1; i++, r = pd__json_arr_next(&c->s)) {
            int rc = column_cell(c, f, i, *n, &cell);
            if (rc == 0)
                rc = cell ? value(c, i, f, cell) : pd__cj_skip(c);
            if (rc)
                return rc;
        }
        if (r < 0)
            return pd__cj_scan_fail(c);
    }
    if (*n == SIZE_MAX) {
        *n = i;
        *first = f;
    } else if (i != *n)
        return pd__cj_fail(c, 400, "%s: feature '%s' has %zu values, '%s' has %zu", c->what,
                           feat(c, f, b), i, feat(c, *first, b2), *n);
    return 0;
}

int pd__cj_columns(pd__cj_t *c)
{
    size_t n = SIZE_MAX, first = 0;
    pd__cnames_reset_seen(&c->names);
    pd__jval_t key;
    int r = pd__json_obj_first(&c->s, &key);
    for (; r == 1; r = pd__json_obj_next(&c->s, &key)) {
        long f;
        const char *name;
        size_t len;
        int rc = pd__cj_name(c, &key, &f, &name, &len);
        if (rc == 0 && f < 0 && !c->ignore_unknown) {
            char b[PD_CODEC_SHOWN_BUF];
            return pd__cj_fail(c, 400, "%s: unknown feature '%s'", c->what,
                               pd__codec_shown(b, name, len));
        }
        if (rc == 0 && f >= 0)
            c->names.seen[f] = 1;
        if (rc == 0)
            rc = f < 0 ? pd__cj_skip(c) : column(c, (size_t)f, &n, &first);
        if (rc)
            return rc;
    }
    if (r < 0)
        return pd__cj_scan_fail(c);
    int rc = c->missing_ok ? 0
                           : pd__codec_missing(c->msg, c->schema, c->names.seen,
                                               c->mlflow_words, c->what);
    if (rc)
        return rc;
    if (n == SIZE_MAX)
        return pd__cj_fail(c, 400, "%s names no feature of the model", c->what);
    if (n == 0)
        return pd__cj_fail(c, 400, "%s is empty", c->what);
    return 0;
}

/* One result: the label (classifiers) or the value (regressors). */
static int put_label(const pd_model_schema_t *s, const pd_rows_t *rows, size_t i, pd_buf_t *out)
{
    if (s->task != PD_TASK_CLASSIFICATION) {
        double v = rows->val[i];
        return isfinite(v) ? pd_buf_json_double(out, v) : PD_EINVAL;
    }
    int32_t k = rows->cls[i];
    if (k < 0 || (size_t)k >= s->n_classes)
        return PD_EINVAL;
    if (s->labels_are_strings && s->class_labels_str) {
        const char *l = s->class_labels_str[k];
        return pd_buf_json_str(out, l, strlen(l));
    }
    if (s->class_labels_int)
        return pd_buf_printf(out, "%" PRId64, s->class_labels_int[k]);
    return pd_buf_printf(out, "%" PRId32, k);
}

/* The probabilities of row i as a list. */
static int put_proba(const pd_rows_t *rows, size_t i, const char *sep, pd_buf_t *out)
{
    const double *p = rows->proba + i * rows->n_classes;
    int rc = pd_buf_puts(out, "[");
    for (size_t k = 0; rc == 0 && k < rows->n_classes; k++) {
        if (!isfinite(p[k]))
            return PD_EINVAL;
        if (k)
            rc = pd_buf_puts(out, sep);
        if (rc == 0)
            rc = pd_buf_json_double(out, p[k]);
    }
    return rc ? rc : pd_buf_puts(out, "]");
}

int pd__codec_predictions(const pd_model_schema_t *s, const pd_rows_t *rows, pd_buf_t *out,
                          int spaced)
{
    const char *sep = spaced ? ", " : ",", *colon = spaced ? ": " : ":";
    int proba = (rows->outputs & PD_OUT_PROBA) && rows->proba && rows->n_classes;
    int label = (rows->outputs & PD_OUT_LABEL) || !proba; /* labels in "predictions" */
    int rc = pd_buf_puts(out, spaced ? "{\"predictions\": [" : "{\"predictions\":[");
    for (size_t i = 0; rc == 0 && i < rows->n_rows; i++) {
        if (i)
            rc = pd_buf_puts(out, sep);
        if (rc == 0)
            rc = label ? put_label(s, rows, i, out) : put_proba(rows, i, sep, out);
    }
    if (rc == 0)
        rc = pd_buf_puts(out, "]");
    if (rc == 0 && label && proba) /* asked for beside the labels: a member of its own */
        rc = pd_buf_printf(out, "%s\"predict_proba\"%s[", sep, colon);
    for (size_t i = 0; rc == 0 && label && proba && i < rows->n_rows; i++) {
        if (i)
            rc = pd_buf_puts(out, sep);
        if (rc == 0)
            rc = put_proba(rows, i, sep, out);
    }
    if (rc == 0 && label && proba)
        rc = pd_buf_puts(out, "]");
    if (rc == 0)
        rc = pd__outputs_put_members(out, s, rows, sep, colon);
    return rc ? rc : pd_buf_puts(out, "}");
}
