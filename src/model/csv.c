/* csv.c - the bounded CSV reader (see csv.h). Owns one line buffer of PD_CSV_MAX_LINE + 1
 * bytes, the header's names and the column -> feature map; rows are parsed in place. */
#include "model/csv.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "model/model.h"

struct pd_csv_s {
    FILE *f;
    const char *label;
    char *line;      /* PD_CSV_MAX_LINE + 1 bytes */
    size_t lineno;   /* lines read so far */
    size_t rows;     /* data rows read so far */
    size_t ncols;
    char **names;    /* header names, ncols */
    long *col_feat;  /* per column: feature index or -1 (ignored) */
    size_t nfeat;
    char **cells;    /* ncols pointers into line */
    const pd_model_input_t *inputs; /* nfeat input types (pd_csv_set_inputs), or NULL */
};

/* Writes "LABEL: line N: reason" into err; returns code. */
static int failn(const pd_csv_t *c, size_t lineno, char *err, size_t errlen, int code,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int failn(const pd_csv_t *c, size_t lineno, char *err, size_t errlen, int code,
                 const char *fmt, ...)
{
    if (err && errlen) {
        int k = snprintf(err, errlen, "%s: line %zu: ", c->label, lineno);
        if (k >= 0 && (size_t)k < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

/* failn at the reader's current line (pd_csv_open, pd_csv_read). */
#define fail(c, err, errlen, ...) failn((c), (c)->lineno, (err), (errlen), __VA_ARGS__)

/* Reads one line into c->line. Returns 1 if a line was read, 0 at EOF, or an error. */
static int read_line(pd_csv_t *c, size_t *len, char *err, size_t errlen)
{
    size_t n = 0;
    int ch;
    while ((ch = getc(c->f)) != EOF && ch != '\n') {
        if (ch == '\0') { /* "5.1\0junk" must not read as 5.1 */
            c->lineno++;
            return fail(c, err, errlen, PD_EFORMAT, "a NUL byte in the line");
        }
        if (n >= PD_CSV_MAX_LINE) {
            c->lineno++;
            return fail(c, err, errlen, PD_ETOOBIG, "line longer than %zu bytes",
                        PD_CSV_MAX_LINE);
        }
        c->line[n++] = (char)ch;
    }
    if (ferror(c->f))
        return fail(c, err, errlen, PD_EIO, "read error");
    if (ch == EOF && n == 0)
        return 0;
    c->lineno++;
    if (n > 0 && c->line[n - 1] == '\r')
        n--;
    c->line[n] = '\0';
    *len = n;
    return 1;
}

/* Splits c->line into cells (in place, unquoting). Returns the count or an error. */
static long split(const pd_csv_t *c, size_t lineno, char *s, size_t len, char **cells,
                  size_t maxc, char *err, size_t errlen)
{
    size_t nc = 0, i = 0;
    for (;;) {
        if (nc >= maxc)
            return failn(c, lineno, err, errlen, PD_ETOOBIG, "more than %zu columns", maxc);
        char *out = s + i, *start = out;
        if (i < len && s[i] == '"') {
            i++;
            for (;;) {
                if (i >= len)
                    return failn(c, lineno, err, errlen, PD_EFORMAT, "unterminated quoted cell");
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"') {
                        *out++ = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                *out++ = s[i++];
            }
            if (i < len && s[i] != ',')
                return failn(c, lineno, err, errlen, PD_EFORMAT, "text after a closing quote");
        } else {
            while (i < len && s[i] != ',')
                i++;
            out = s + i;
        }
        cells[nc++] = start;
        int more = i < len; /* s[i] == ',' */
        *out = '\0';
        if (!more)
            break;
        i++;
    }
    return (long)nc;
}

void pd_csv_close(pd_csv_t *c)
{
    if (!c)
        return;
    if (c->names)
        for (size_t i = 0; i < c->ncols; i++)
            free(c->names[i]);
    free(c->names);
    free(c->col_feat);
    free(c->cells);
    free(c->line);
    free(c);
}

int pd_csv_open(FILE *f, const char *label, pd_csv_t **out, char *err, size_t errlen)
{
    *out = NULL;
    pd_csv_t *c = calloc(1, sizeof *c);
    if (!c)
        return PD_ENOMEM;
    c->f = f, c->label = label;
    c->line = malloc(PD_CSV_MAX_LINE + 1);
    c->cells = malloc(PD_CSV_MAX_COLS * sizeof *c->cells);
    int rc = PD_ENOMEM;
    size_t len;
    if (!c->line || !c->cells)
        goto fail;
    rc = read_line(c, &len, err, errlen);
    if (rc == 0)
        rc = fail(c, err, errlen, PD_EFORMAT, "empty file: expected a header of column names");
    if (rc < 0)
        goto fail;
    if (len >= 3 && memcmp(c->line, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 byte order mark */
        memmove(c->line, c->line + 3, len - 3 + 1);
        len -= 3;
    }
    long nc = split(c, c->lineno, c->line, len, c->cells, PD_CSV_MAX_COLS, err, errlen);
    if (nc < 0) {
        rc = (int)nc;
        goto fail;
    }
    c->ncols = (size_t)nc;
    c->names = calloc(c->ncols, sizeof *c->names);
    c->col_feat = malloc(c->ncols * sizeof *c->col_feat);
    rc = PD_ENOMEM;
    if (!c->names || !c->col_feat)
        goto fail;
    for (size_t i = 0; i < c->ncols; i++) {
        if (!(c->names[i] = strdup(c->cells[i])))
            goto fail;
        c->col_feat[i] = -1;
    }
    *out = c;
    return 0;
fail:
    pd_csv_close(c);
    return rc;
}

int pd_csv_map(pd_csv_t *c, const char *const *names, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->ncols; i++)
        c->col_feat[i] = -1;
    c->nfeat = n;
    for (size_t j = 0; j < n; j++) {
        long found = -1;
        for (size_t i = 0; i < c->ncols; i++) {
            if (strcmp(c->names[i], names[j]) != 0)
                continue;
            if (found >= 0)
                return fail(c, err, errlen, PD_EFORMAT, "column '%.200s' appears twice",
                            names[j]);
            found = (long)i;
        }
        if (found < 0)
            return fail(c, err, errlen, PD_EFORMAT, "missing column '%.200s'", names[j]);
        c->col_feat[found] = (long)j;
    }
    return 0;
}

/* A string feature's cell: empty is missing (NaN), any other text is a category, mapped
 * to its code; an unknown one is an error when the model's encoder refuses it. */
static int string_cell(const pd_csv_t *c, size_t lineno, const pd_model_input_t *in,
                       const char *s, size_t col, double *out, char *err, size_t errlen)
{
    if (*s == '\0') {
        *out = NAN;
        return 0;
    }
    long code = pd_model_input_code(in, s, strlen(s));
    if (in->unknown_error && (code < 0 || (size_t)code >= in->n_known))
        return failn(c, lineno, err, errlen, PD_EFORMAT, "column '%.200s': unknown category '%.200s' "
                    "(the model's encoder was fitted with handle_unknown='error')",
                    c->names[col], s);
    *out = code < 0 ? PD_MODEL_CODE_UNKNOWN : (double)code;
    return 0;
}

static int parse_cell(const pd_csv_t *c, size_t lineno, const char *s, size_t col,
                      double *out, char *err, size_t errlen)
{
    const pd_model_input_t *in = c->inputs ? &c->inputs[c->col_feat[col]] : NULL;
    if (in && in->type == PD_INPUT_STRING)
        return string_cell(c, lineno, in, s, col, out, err, errlen);
    while (*s == ' ')
        s++;
    if (*s == '\0' || strcasecmp(s, "nan") == 0) {
        *out = NAN;
        return 0;
    }
    char *end;
    double d = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end != '\0' || isnan(d))
        return failn(c, lineno, err, errlen, PD_EFORMAT, "column '%.200s': not a number: '%.40s'",
                    c->names[col], s);
    if (in && !pd_model_input_known(in, d))
        return failn(c, lineno, err, errlen, PD_EFORMAT, "column '%.200s': unknown category %.17g "
                    "(the model's encoder was fitted with handle_unknown='error')",
                    c->names[col], d);
    *out = d;
    return 0;
}

void pd_csv_set_inputs(pd_csv_t *c, const pd_model_input_t *inputs)
{
    c->inputs = inputs;
}

/* Parses one non-empty line s (len bytes, NUL-terminated, no line break) of file line
 * lineno into row (nfeat doubles), splitting into cells (ncols + 1 pointers). */
static int parse_row(const pd_csv_t *c, size_t lineno, char *s, size_t len, char **cells,
                     double *row, char *err, size_t errlen)
{
    long nc = split(c, lineno, s, len, cells, c->ncols + 1, err, errlen);
    if (nc < 0)
        return (int)nc;
    if ((size_t)nc != c->ncols)
        return failn(c, lineno, err, errlen, PD_EFORMAT, "%ld columns, the header has %zu",
                     nc, c->ncols);
    for (size_t i = 0; i < c->ncols; i++) {
        if (c->col_feat[i] < 0)
            continue;
        int rc = parse_cell(c, lineno, cells[i], i, &row[c->col_feat[i]], err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

int pd_csv_read(pd_csv_t *c, double *rows, size_t max_rows, size_t *got, char *err,
                size_t errlen)
{
    *got = 0;
    while (*got < max_rows) {
        size_t len;
        int rc = read_line(c, &len, err, errlen);
        if (rc <= 0)
            return rc;
        if (len == 0)
            continue; /* blank lines (e.g. a trailing one) are skipped */
        if (c->rows >= PD_CSV_MAX_ROWS)
            return fail(c, err, errlen, PD_ETOOBIG, "more than %zu rows", PD_CSV_MAX_ROWS);
        rc = parse_row(c, c->lineno, c->line, len, c->cells, rows + *got * c->nfeat, err,
                       errlen);
        if (rc)
            return rc;
        c->rows++;
        (*got)++;
    }
    return 0;
}

FILE *pd_csv_file(const pd_csv_t *c)
{
    return c->f;
}

size_t pd_csv_lines(const pd_csv_t *c)
{
    return c->lineno;
}

size_t pd_csv_ncols(const pd_csv_t *c)
{
    return c->ncols;
}

int pd_csv_parse_lines(const pd_csv_t *c, char *buf, size_t len, size_t first_line,
                       double *rows, size_t max_rows, char **cells, uint32_t *row_line,
                       pd_csv_span_t *sp, char *err, size_t errlen)
{
    size_t pos = 0;
    sp->used = sp->lines = sp->rows = 0;
    while (pos < len && sp->rows < max_rows) {
        char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos, lineno = first_line + sp->lines;
        /* as read_line: a NUL within the first PD_CSV_MAX_LINE + 1 bytes, then length */
        sp->lines++; /* counts the bad line on error */
        if (memchr(s, '\0', PD_MIN(n, PD_CSV_MAX_LINE + 1)))
            return failn(c, lineno, err, errlen, PD_EFORMAT, "a NUL byte in the line");
        if (n > PD_CSV_MAX_LINE)
            return failn(c, lineno, err, errlen, PD_ETOOBIG, "line longer than %zu bytes",
                         PD_CSV_MAX_LINE);
        pos += n + (nl != NULL);
        if (n > 0 && s[n - 1] == '\r')
            n--;
        s[n] = '\0'; /* the '\n' or '\r' (or, at the end, buf[len]: see csv.h) */
        if (n > 0) {
            int rc = parse_row(c, lineno, s, n, cells, rows + sp->rows * c->nfeat, err,
                               errlen);
            if (rc)
                return rc;
            if (row_line)
                row_line[sp->rows] = (uint32_t)(sp->lines - 1);
            sp->rows++;
        }
        sp->used = pos;
    }
    return 0;
}
