/* codec_csv.c - text/csv bodies into rows (see codec_csv.h).
 *
 * One pass over the body: next_field() tokenizes (an unquoted field is used in place, a
 * quoted one is unescaped into one reused buffer), the header maps each column to a
 * feature or to -1 (ignored), and every later record becomes one row.
 *
 * Invariants: c->pos <= c->len; c->line is the line number of c->pos (1-based, counting
 * line breaks inside quoted fields); a value is written only into its own row; with
 * !missing_ok a missing value is refused where it is read or when its record ends. */
#include "api/codec_csv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec_names.h"
#include "api/codec_num.h"
#include "api/json_scan.h"
#include "common.h"

/* Longest number converted from a stack copy; longer ones are copied to c->num. */
#define NUM_STACK 128

typedef struct csv_s {
    const char *p;
    size_t len, pos;
    size_t line;            /* line of pos */
    size_t rec_start;       /* offset where the current record began */
    size_t rec_line;        /* line where the current record began */
    pd_buf_t field;         /* owned: a quoted field, unescaped */
    pd_buf_t num;           /* owned: a long number, NUL-terminated for strtod */
    pd_buf_t *msg;          /* borrowed */
    pd_rows_t *rows;        /* borrowed */
    const pd_model_schema_t *schema;
    int missing_ok;
    pd__cnames_t names;     /* owned */
    long *map;              /* owned: column -> feature, or -1 */
    size_t ncols;
} csv_t;

static int fail(csv_t *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(csv_t *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pd_buf_reset(c->msg);
    pd_buf_vprintf(c->msg, fmt, ap);
    va_end(ap);
    return status;
}

/* A byte that ends an unquoted field. */
static int ends_field(char ch)
{
    return ch == ',' || ch == '\n' || ch == '\r';
}

/* The line break at pos (LF, CRLF or CR): consumed, 1; else 0. */
static int line_break(csv_t *c)
{
    if (c->pos >= c->len || (c->p[c->pos] != '\n' && c->p[c->pos] != '\r'))
        return 0;
    c->pos += c->p[c->pos] == '\r' && c->pos + 1 < c->len && c->p[c->pos + 1] == '\n' ? 2 : 1;
    c->line++;
    return 1;
}

/* The rest of a quoted field after its opening quote, unescaped into c->field. */
static int quoted(csv_t *c)
{
    size_t opened = c->line;
    pd_buf_reset(&c->field);
    for (;;) {
        if (c->pos >= c->len)
            return fail(c, 400, "csv line %zu: a quoted field is not closed", opened);
        const char *q = memchr(c->p + c->pos, '"', c->len - c->pos);
        size_t end = q ? (size_t)(q - c->p) : c->len;
        for (size_t i = c->pos; i < end; i++) /* line breaks inside the field */
            c->line += c->p[i] == '\n' || (c->p[i] == '\r' && (i + 1 >= c->len || c->p[i + 1] != '\n'));
        if (c->field.len + (end - c->pos) > PD_CODEC_CSV_MAX_FIELD)
            return fail(c, 400, "csv line %zu: a field is longer than %zu bytes", opened,
                        PD_CODEC_CSV_MAX_FIELD);
        if (pd_buf_append(&c->field, c->p + c->pos, end - c->pos) < 0)
            return PD_ENOMEM;
        c->pos = end;
        if (!q)
            continue; /* reports the unclosed quote */
        if (c->pos + 1 < c->len && c->p[c->pos + 1] == '"') {
            if (pd_buf_append(&c->field, "\"", 1) < 0)
                return PD_ENOMEM;
            c->pos += 2;
            continue;
        }
        c->pos++;
        if (c->pos < c->len && !ends_field(c->p[c->pos]))
            return fail(c, 400, "csv line %zu: text after the closing quote of a field", c->line);
        return 0;
    }
}

/* Reads the field at pos into *f / *n (borrowed until the next call) and its separator;
 * *eor = 1 when the record ended after it (a line break or the end of the body). */
static int next_field(csv_t *c, const char **f, size_t *n, int *eor)
{
    if (c->pos < c->len && c->p[c->pos] == '"') {
        c->pos++;
        int rc = quoted(c);
        if (rc)
            return rc;
        *f = c->field.data ? c->field.data : "";
        *n = c->field.len;
    } else {
        size_t start = c->pos;
        while (c->pos < c->len && !ends_field(c->p[c->pos]))
            c->pos++;
        *f = c->p + start;
        *n = c->pos - start;
        if (*n > PD_CODEC_CSV_MAX_FIELD)
            return fail(c, 400, "csv line %zu: a field is longer than %zu bytes", c->line,
                        PD_CODEC_CSV_MAX_FIELD);
    }
    if (c->pos - c->rec_start > PD_CODEC_CSV_MAX_RECORD)
        return fail(c, 400, "csv line %zu: a record is longer than %zu bytes", c->rec_line,
                    PD_CODEC_CSV_MAX_RECORD);
    *eor = c->pos >= c->len || line_break(c);
    if (!*eor)
        c->pos++; /* the ',' */
    return 0;
}

/* Skips empty lines; 1 when a record starts at pos, 0 at the end of the body. */
static int record_start(csv_t *c)
{
    while (line_break(c))
        ;
    c->rec_start = c->pos;
    c->rec_line = c->line;
    return c->pos < c->len;
}

/* The header: one column per field, mapped to a feature by name. */
static int header(csv_t *c)
{
    if (!record_start(c))
        return fail(c, 400, "csv: the body is empty: expected a header row of column names");
    size_t cap = 0;
    int eor = 0;
    pd__cnames_reset_seen(&c->names);
    while (!eor) {
        const char *f;
        size_t n;
        int rc = next_field(c, &f, &n, &eor);
        if (rc)
            return rc;
        if (c->ncols == PD_CODEC_CSV_MAX_COLS)
            return fail(c, 400, "csv line %zu: more than %zu columns", c->rec_line,
                        PD_CODEC_CSV_MAX_COLS);
        if (c->ncols == cap) {
            cap = cap ? 2 * cap : 64;
            long *m = realloc(c->map, cap * sizeof *m);
            if (!m)
                return PD_ENOMEM;
            c->map = m;
        }
        long idx = pd__cnames_find(&c->names, f, n);
        if (idx >= 0 && c->names.seen[idx]) {
            char b[PD_CODEC_SHOWN_BUF];
            return fail(c, 400, "csv line %zu: column '%s' appears twice", c->rec_line,
                        pd__codec_shown(b, f, n));
        }
        if (idx >= 0)
            c->names.seen[idx] = 1;
        c->map[c->ncols++] = idx;
    }
    if (c->missing_ok)
        return 0;
    return pd__codec_missing(c->msg, c->schema, c->names.seen, 1, "csv");
}

/* pandas' default missing-value markers (read_csv's na_values), besides the empty field. */
static int is_na(const char *s, size_t n)
{
    static const char *const na[] = {"NA", "N/A", "n/a", "NaN", "-NaN", "nan", "-nan",
                                     "null", "NULL", "None", "<NA>", "#NA", "#N/A",
                                     "#N/A N/A", "1.#IND", "-1.#IND", "1.#QNAN", "-1.#QNAN"};
    if (n == 0)
        return 1;
    for (size_t i = 0; i < PD_ARRAY_SIZE(na); i++)
        if (strlen(na[i]) == n && memcmp(na[i], s, n) == 0)
            return 1;
    return 0;
}

/* Whether s[0, n) is a decimal number: [+-] digits [. digits] [e [+-] digits], with at
 * least one digit before the exponent ("1.", ".5" allowed; no hex, inf or nan). */
static int decimal(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (digits == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == e)
            return 0;
    }
    return i == n;
}

/* Field f[0, n) of row r (on line `line`) for feature j into *out. */
static int cell(csv_t *c, const char *f, size_t n, size_t r, size_t line, size_t j, double *out)
{
    char b[PD_CODEC_SHOWN_BUF], v[PD_CODEC_SHOWN_BUF];
    const char *name = c->schema->feature_names[j];
    while (n && (*f == ' ' || *f == '\t'))
        f++, n--;
    while (n && (f[n - 1] == ' ' || f[n - 1] == '\t'))
        n--;
    if (pd__codec_decimal(f, n, out))
        return 0; /* the exact fast path (never an NA marker, always finite) */
    if (is_na(f, n)) {
        if (c->missing_ok) {
            *out = NAN;
            return 0;
        }
        return fail(c, 400, "row %zu (csv line %zu): feature '%s' is missing ('%s') and the "
                    "model takes no missing values", r, line,
                    pd__codec_shown(b, name, strlen(name)), pd__codec_shown(v, f, n));
    }
    if ((n == 4 && (!memcmp(f, "True", 4) || !memcmp(f, "TRUE", 4) || !memcmp(f, "true", 4))) ||
        (n == 5 && (!memcmp(f, "False", 5) || !memcmp(f, "FALSE", 5) || !memcmp(f, "false", 5)))) {
        *out = n == 4;
        return 0;
    }
    if (!decimal(f, n))
        return fail(c, 400, "row %zu (csv line %zu): feature '%s' is not a number: '%s'", r,
                    line, pd__codec_shown(b, name, strlen(name)), pd__codec_shown(v, f, n));
    char stack[NUM_STACK];
    char *z = stack;
    if (n >= sizeof stack) {
        pd_buf_reset(&c->num);
        if (pd_buf_append(&c->num, f, n) < 0)
            return PD_ENOMEM;
        z = c->num.data;
    } else {
        memcpy(stack, f, n);
        stack[n] = '\0';
    }
    *out = strtod(z, NULL); /* correctly rounded (glibc, "C" locale) */
    if (!isfinite(*out))
        return fail(c, 400, "row %zu (csv line %zu): feature '%s' is not a finite number", r,
                    line, pd__codec_shown(b, name, strlen(name)));
    return 0;
}

/* With !missing_ok, a record shorter than the header left features unset: refused. */
static int row_complete(csv_t *c, const double *row, size_t r, size_t line)
{
    for (size_t j = 0; !c->missing_ok && j < c->rows->n_cols; j++)
        if (isnan(row[j])) {
            char b[PD_CODEC_SHOWN_BUF];
            const char *name = c->schema->feature_names[j];
            return fail(c, 400, "row %zu (csv line %zu): feature '%s' is missing and the "
                        "model takes no missing values", r, line,
                        pd__codec_shown(b, name, strlen(name)));
        }
    return 0;
}

/* Every record after the header, one row each. */
static int records(csv_t *c)
{
    size_t r = 0;
    for (; record_start(c); r++) {
        double *row;
        int rc = pd_rows_add(c->rows, &row);
        if (rc == PD_ETOOBIG)
            return fail(c, 413, "csv: more than %zu rows, the server's limit", c->rows->max_rows);
        if (rc < 0)
            return rc;
        size_t k = 0, line = c->rec_line;
        for (int eor = 0; !eor; k++) {
            const char *f;
            size_t n;
            if ((rc = next_field(c, &f, &n, &eor)))
                return rc;
            if (k < c->ncols && c->map[k] >= 0)
                rc = cell(c, f, n, r, line, (size_t)c->map[k], &row[c->map[k]]);
            if (rc)
                return rc;
        }
        if (k > c->ncols)
            return fail(c, 400, "csv line %zu: expected %zu fields, saw %zu", line, c->ncols, k);
        if ((rc = row_complete(c, row, r, line)))
            return rc;
    }
    return r ? 0 : fail(c, 400, "csv: no rows after the header");
}

int pd__codec_csv(const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *msg)
{
    csv_t c;
    memset(&c, 0, sizeof c);
    c.p = in->body ? in->body : "";
    c.len = in->body ? in->len : 0;
    c.line = 1;
    c.msg = msg;
    c.rows = rows;
    c.schema = in->schema;
    c.missing_ok = in->missing_ok;
    pd_buf_init(&c.field, 0);
    pd_buf_init(&c.num, 0);
    if (rows->n_cols != in->schema->n_features)
        return PD_EINVAL;
    int rc = pd__cnames_init(&c.names, in->schema->feature_names, in->schema->n_features);
    if (rc == PD_ETOOBIG)
        rc = fail(&c, 400, "the model has more than %d features", PD_CODEC_MAX_FEATURES);
    size_t bad = rc ? c.len : pd__utf8_check((const unsigned char *)c.p, c.len);
    if (bad < c.len)
        rc = fail(&c, 400, "csv: invalid UTF-8 at byte %zu", bad);
    if (rc == 0 && c.len >= 3 && !memcmp(c.p, "\xEF\xBB\xBF", 3))
        c.pos = 3;
    if (rc == 0)
        rc = header(&c);
    if (rc == 0)
        rc = records(&c);
    free(c.map);
    pd__cnames_fini(&c.names);
    pd_buf_free(&c.field);
    pd_buf_free(&c.num);
    return rc;
}
