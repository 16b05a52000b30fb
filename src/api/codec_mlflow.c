/* codec_mlflow.c - MLflow 2.x's pyfunc scoring server protocol, also SageMaker's
 * container contract (POST /invocations); docs/protocols.md has the full description.
 *
 * Accepted, by Content-Type (media type compared case-insensitively; a charset other than
 * UTF-8 is refused with 415, other parameters are ignored):
 *   application/json: an object with exactly one of
 *     "dataframe_split": {"columns": [...], "data": [[...], ...], "index": [...]}
 *     "dataframe_records": [{name: value, ...}, ...]
 *     "instances" | "inputs": a list of rows (lists in feature order, or objects), or an
 *                             object of name -> list of values (columns)
 *     other keys ("params", ...) are ignored, as MLflow ignores them;
 *   text/csv: a header of column names, then rows (api/codec_csv.h).
 * Columns are matched by name; columns the model does not know are ignored (MLflow drops
 * them with a warning); a feature with no column is refused unless the model takes
 * missing values. Answers {"predictions": [...]} spaced as Python's json.dumps writes it,
 * plus a member per output the `outputs` query parameter adds (codec_outputs.h);
 * errors {"error_code": "BAD_REQUEST", "message": "..."} (other codes by status).
 *
 * Reentrant: every call works on its own stack context (api/codec_json.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/codec.h"
#include "api/codec_csv.h"
#include "api/codec_json.h"
#include "api/codec_outputs.h"
#include "common.h"

/* Columns a dataframe_split may list (the model's and others). */
#define PD_CODEC_SPLIT_MAX_COLS ((size_t)100000)

enum { DF_SPLIT = 0, DF_RECORDS, INSTANCES, INPUTS, N_FORMATS };
static const char *const formats[N_FORMATS] = {"dataframe_split", "dataframe_records",
                                               "instances", "inputs"};

#define REQUIRED "The input must be a JSON dictionary with exactly one of the input fields " \
                 "{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}"
#define SPLIT_KEYS "Invalid input. Dataframe split format must have 'data' field and " \
                   "optionally 'columns' and 'index' fields."
#define CONTENT_TYPES "This predictor only supports the following content types: " \
                      "Types: ['text/csv', 'application/json']."

/* Python's type name of a JSON value, as MLflow's messages print it. */
static const char *py_type(pd__jkind_t k)
{
    switch (k) {
    case PD__JK_STRING: return "str";
    case PD__JK_INT: return "int";
    case PD__JK_TRUE:
    case PD__JK_FALSE: return "bool";
    case PD__JK_NULL: return "NoneType";
    case PD__JK_OBJECT: return "dict";
    case PD__JK_ARRAY: return "list";
    default: return "float";
    }
}

/* "columns": names matched to features into *map (owned by the caller), *width. */
static int split_columns(pd__cj_t *c, long **map, size_t *width)
{
    pd__jval_t v;
    if (pd__json_value(&c->s, &v) < 0)
        return pd__cj_scan_fail(c);
    if (v.kind != PD__JK_ARRAY)
        return pd__cj_fail(c, 400, "Invalid input. dataframe_split \"columns\" must be a list "
                           "of column names, got %s", pd__cj_kind(v.kind));
    pd__cnames_reset_seen(&c->names);
    size_t n = 0, cap = 0;
    int r = pd__json_arr_first(&c->s);
    for (; r == 1; n++, r = pd__json_arr_next(&c->s)) {
        if (n == PD_CODEC_SPLIT_MAX_COLS)
            return pd__cj_fail(c, 400, "dataframe_split: more than %zu columns", n);
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            long *m = realloc(*map, cap * sizeof *m);
            if (!m)
                return PD_ENOMEM;
            *map = m;
        }
        if (pd__json_value(&c->s, &v) < 0)
            return pd__cj_scan_fail(c);
        long f = -1; /* pandas allows any label; only strings can name a feature */
        const char *name = "";
        size_t len = 0;
        if (v.kind == PD__JK_ARRAY || v.kind == PD__JK_OBJECT)
            return pd__cj_fail(c, 400, "dataframe_split: column %zu: expected a name, got %s",
                               n, pd__cj_kind(v.kind));
        if (v.kind == PD__JK_STRING && pd__cj_name(c, &v, &f, &name, &len) < 0)
            return PD_ENOMEM;
        if (f >= 0 && c->names.seen[f]) {
            char b[PD_CODEC_SHOWN_BUF];
            return pd__cj_fail(c, 400, "dataframe_split: column '%s' appears twice",
                               pd__codec_shown(b, name, len));
        }
        if (f >= 0)
            c->names.seen[f] = 1;
        (*map)[n] = f;
    }
    if (r < 0)
        return pd__cj_scan_fail(c);
    *width = n;
    return c->missing_ok ? 0 : pd__codec_missing(c->msg, c->schema, c->names.seen, 1, "");
}

/* "data": a list of rows, values in the order of the columns (map/width, or the model's
 * features when "columns" is absent: map NULL). */
static int split_data(pd__cj_t *c, const long *map, size_t width)
{
    pd__jval_t v;
    if (pd__json_value(&c->s, &v) < 0)
        return pd__cj_scan_fail(c);
    if (v.kind != PD__JK_ARRAY)
        return pd__cj_fail(c, 400, "Invalid input. dataframe_split \"data\" must be a list of "
                           "rows, got %s", pd__cj_kind(v.kind));
    c->what = "dataframe_split \"data\"";
    return pd__cj_rows(c, PD__CJ_ARRAY | PD__CJ_SCALAR, map, width);
}

/* "index": only its length matters (pandas: it must match the rows). */
static int split_index(pd__cj_t *c, size_t *count)
{
    pd__jval_t v;
    if (pd__json_value(&c->s, &v) < 0)
        return pd__cj_scan_fail(c);
    if (v.kind == PD__JK_OBJECT && pd__json_skip_rest(&c->s, v.kind, 1) < 0)
        return pd__cj_scan_fail(c);
    if (v.kind != PD__JK_ARRAY)
        return 0;
    size_t n = 0;
    int r = pd__json_arr_first(&c->s);
    for (; r == 1; n++, r = pd__json_arr_next(&c->s))
        if (pd__json_skip(&c->s) < 0)
            return pd__cj_scan_fail(c);
    if (r < 0)
        return pd__cj_scan_fail(c);
    *count = n;
    return 0;
}

enum { K_COLUMNS = 1, K_DATA = 2, K_INDEX = 4 };

/* The split object's keys; "data" before "columns" is remembered (*data_at) and decoded
 * once the columns are known. */
static int split_keys(pd__cj_t *c, long **map, size_t *width, size_t *data_at, size_t *index_n)
{
    unsigned seen = 0;
    pd__jval_t key;
    int r = pd__json_obj_first(&c->s, &key);
    for (; r == 1; r = pd__json_obj_next(&c->s, &key)) {
        unsigned k = pd__json_str_eq(&c->s, &key, "columns", 7) ? K_COLUMNS
                     : pd__json_str_eq(&c->s, &key, "data", 4)  ? K_DATA
                     : pd__json_str_eq(&c->s, &key, "index", 5) ? K_INDEX
                                                                 : 0;
        char b[PD_CODEC_SHOWN_BUF];
        long f;
        const char *name;
        size_t len;
        if (k == 0 && pd__cj_name(c, &key, &f, &name, &len) < 0)
            return PD_ENOMEM;
        if (k == 0)
            return pd__cj_fail(c, 400, SPLIT_KEYS " Got '%s'.", pd__codec_shown(b, name, len));
        if (seen & k)
            return pd__cj_fail(c, 400, "Invalid input. dataframe_split: a key appears twice");
        seen |= k;
        int rc = 0;
        if (k == K_COLUMNS)
            rc = split_columns(c, map, width);
        else if (k == K_INDEX)
            rc = split_index(c, index_n);
        else if (seen & K_COLUMNS)
            rc = split_data(c, *map, *width);
        else {
            *data_at = c->s.pos;
            rc = pd__cj_skip(c);
        }
        if (rc)
            return rc;
    }
    if (r < 0)
        return pd__cj_scan_fail(c);
    if (!(seen & K_DATA))
        return pd__cj_fail(c, 400, SPLIT_KEYS " Got no 'data'.");
    return 0;
}

/* The value of "dataframe_split" ('{' consumed). */
static int split(pd__cj_t *c)
{
    long *map = NULL;
    size_t width = c->rows->n_cols, data_at = SIZE_MAX, index_n = SIZE_MAX;
    int depth = c->s.depth;
    int rc = split_keys(c, &map, &width, &data_at, &index_n);
    if (rc == 0 && data_at != SIZE_MAX) { /* "data" came first: decode it now */
        pd__jscan_t after = c->s;
        c->s.pos = data_at;
        c->s.depth = depth;
        rc = split_data(c, map, width);
        if (rc == 0)
            c->s = after;
    }
    free(map);
    if (rc == 0 && index_n != SIZE_MAX && index_n != c->rows->n_rows)
        rc = pd__cj_fail(c, 400, "Invalid input. dataframe_split: \"index\" has %zu entries, "
                         "\"data\" has %zu rows", index_n, c->rows->n_rows);
    return rc;
}

/* The value of format key k, at the scanner. */
static int part(pd__cj_t *c, int k)
{
    static const char *const units[N_FORMATS] = {"row", "record", "instance", "row"};
    static const char *const whats[N_FORMATS] = {"\"dataframe_split\"", "\"dataframe_records\"",
                                                 "\"instances\"", "\"inputs\""};
    c->unit = units[k];
    c->what = whats[k];
    pd__jval_t v;
    if (pd__json_value(&c->s, &v) < 0)
        return pd__cj_scan_fail(c);
    if (pd_rows_resize(c->rows, 0) < 0) /* a repeated key: the last one wins */
        return PD_ENOMEM;
    if (k == DF_SPLIT && v.kind == PD__JK_OBJECT)
        return split(c);
    if (k == DF_SPLIT)
        return pd__cj_fail(c, 400, "Invalid input. Dataframe split format must be a dictionary. "
                           "Got %s.", v.kind == PD__JK_ARRAY ? "list" : py_type(v.kind));
    if (k == DF_RECORDS && v.kind == PD__JK_ARRAY)
        return pd__cj_rows(c, PD__CJ_OBJECT, NULL, c->rows->n_cols);
    if (k == DF_RECORDS)
        return pd__cj_fail(c, 400, "Invalid input. Dataframe records format must be a list of "
                           "records. Got %s.", v.kind == PD__JK_OBJECT ? "dictionary"
                                                                       : py_type(v.kind));
    if (v.kind == PD__JK_ARRAY)
        return pd__cj_rows(c, PD__CJ_ARRAY | PD__CJ_OBJECT | PD__CJ_SCALAR, NULL,
                           c->rows->n_cols);
    if (v.kind == PD__JK_OBJECT)
        return pd__cj_columns(c);
    return pd__cj_fail(c, 400, "Invalid input. %s must be a list or an object, got %s", c->what,
                       pd__cj_kind(v.kind));
}

/* The list of format keys found, for the "exactly one" message. */
static int not_one(pd__cj_t *c, const int *found, size_t n)
{
    pd__cj_fail(c, 400, REQUIRED ". Received dictionary with input fields: [");
    for (size_t i = 0; i < n; i++)
        pd_buf_printf(c->msg, "%s'%s'", i ? ", " : "", formats[found[i]]);
    pd_buf_puts(c->msg, "].");
    return 400;
}

static int json_body(pd__cj_t *c)
{
    pd__jval_t top, key;
    int rc = pd__cj_top(c, &top);
    if (rc)
        return rc;
    if (top.kind == PD__JK_ARRAY)
        return pd__cj_fail(c, 400, REQUIRED ". Received a list.");
    if (top.kind != PD__JK_OBJECT)
        return pd__cj_fail(c, 400, REQUIRED ". Received unexpected input type '%s'.",
                           py_type(top.kind));
    int found[N_FORMATS];
    size_t n = 0;
    int r = pd__json_obj_first(&c->s, &key);
    for (; r == 1; r = pd__json_obj_next(&c->s, &key)) {
        int k = 0;
        while (k < N_FORMATS && !pd__json_str_eq(&c->s, &key, formats[k], strlen(formats[k])))
            k++;
        size_t j = 0;
        while (j < n && found[j] != k)
            j++;
        if (k < N_FORMATS && j == n)
            found[n++] = k;
        /* once two formats are named the answer is the "exactly one" error: only scan */
        rc = k == N_FORMATS || n > 1 ? pd__cj_skip(c) : part(c, k);
        if (rc)
            return rc;
    }
    if (r < 0)
        return pd__cj_scan_fail(c);
    if ((rc = pd__cj_finish(c)))
        return rc;
    return n == 1 ? 0 : not_one(c, found, n);
}

/* A failed body: a JSON syntax error anywhere, then the "exactly one" rule, come first
 * (MLflow parses the whole document and checks its keys before it reads them). */
static int json_checked(pd__cj_t *c)
{
    int rc = json_body(c);
    if (rc <= 0)
        return rc;
    int found[N_FORMATS], object = 0;
    size_t n;
    int rc2 = pd__cj_recheck(c, formats, N_FORMATS, found, &n, &object);
    if (rc2)
        return rc2;
    return object && n != 1 ? not_one(c, found, n) : rc;
}

enum { MEDIA_OTHER = 0, MEDIA_JSON, MEDIA_CSV };

/* p[0, n) without blanks around it. */
static void trim(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t'))
        (*p)++, (*n)--;
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

/* The media type of a Content-Type (NULL: absent); *utf8 = 0 when a charset parameter
 * names anything but UTF-8. Other parameters are ignored. */
static int media(const char *ct, int *utf8)
{
    *utf8 = 1;
    if (ct == NULL)
        return MEDIA_OTHER;
    const char *p = ct;
    size_t n = strcspn(p, ";");
    const char *next = p + n;
    trim(&p, &n);
    int m = n == 16 && !strncasecmp(p, "application/json", 16) ? MEDIA_JSON
            : n == 8 && !strncasecmp(p, "text/csv", 8)        ? MEDIA_CSV
                                                               : MEDIA_OTHER;
    while (*next == ';') {
        p = next + 1;
        n = strcspn(p, ";");
        next = p + n;
        const char *eq = memchr(p, '=', n);
        if (!eq)
            continue;
        const char *k = p, *v = eq + 1;
        size_t kn = (size_t)(eq - p), vn = n - kn - 1;
        trim(&k, &kn);
        trim(&v, &vn);
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"')
            v++, vn -= 2;
        if (kn == 7 && !strncasecmp(k, "charset", 7))
            *utf8 = (vn == 5 && !strncasecmp(v, "utf-8", 5)) ||
                    (vn == 4 && !strncasecmp(v, "utf8", 4));
    }
    return m;
}

/* MLflow's error_code for an HTTP status (its HTTP_STATUS_TO_ERROR_CODE, except 404:
 * a model that does not exist is RESOURCE_DOES_NOT_EXIST). */
static const char *error_code(int status)
{
    switch (status) {
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "RESOURCE_DOES_NOT_EXIST";
    case 409: return "ALREADY_EXISTS";
    case 429: return "RESOURCE_EXHAUSTED";
    case 499: return "CANCELLED";
    case 501: return "NOT_IMPLEMENTED";
    case 503: return "TEMPORARILY_UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: return status >= 400 && status < 500 ? "BAD_REQUEST" : "INTERNAL_ERROR";
    }
}

static int mlflow_error(int status, const char *message, pd_buf_t *out)
{
    int rc = pd_buf_printf(out, "{\"error_code\": \"%s\", \"message\": ", error_code(status));
    if (rc == 0)
        rc = pd_buf_json_str(out, message, strlen(message));
    return rc ? rc : pd_buf_puts(out, "}");
}

/* Decodes by media type; the failure's message goes to msg. */
static int decode_body(const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *msg)
{
    int utf8, m = media(in->content_type, &utf8);
    if (m != MEDIA_OTHER && !utf8) {
        pd_buf_puts(msg, "The scoring server only supports UTF-8");
        return 415;
    }
    if (m == MEDIA_OTHER) {
        char b[PD_CODEC_SHOWN_BUF];
        const char *ct = in->content_type;
        if (ct)
            pd_buf_printf(msg, CONTENT_TYPES " Got '%s'.", pd__codec_shown(b, ct, strlen(ct)));
        else
            pd_buf_puts(msg, CONTENT_TYPES " Got no Content-Type.");
        return 415;
    }
    if (m == MEDIA_CSV && in->schema->typed_inputs) {
        pd_buf_puts(msg, "This model has string features: send its rows as JSON "
                         "(dataframe_split, dataframe_records, instances or inputs), not "
                         "text/csv.");
        return 400;
    }
    if (m == MEDIA_CSV)
        return pd__codec_csv(in, rows, msg);
    pd__cj_t c;
    int rc = pd__cj_init(&c, in, rows, msg);
    if (rc == 0) {
        c.ignore_unknown = 1;
        c.mlflow_words = 1;
        c.json_prefix = "Invalid input. Ensure that input is a valid JSON formatted string. "
                        "Error: ";
        rc = json_checked(&c);
    }
    pd__cj_fini(&c);
    return rc;
}

static int mlflow_decode(const pd_codec_in_t *in, pd_rows_t *rows, pd_buf_t *err)
{
    pd_buf_t msg;
    pd_buf_init(&msg, PD_CODEC_MSG_LIMIT);
    int rc = pd__outputs_add(in, rows, &msg); /* ?outputs=..., before the body */
    if (rc == 0)
        rc = decode_body(in, rows, &msg);
    if (rc > 0) {
        int e = mlflow_error(rc, msg.data ? msg.data : "bad request", err);
        if (e < 0)
            rc = e;
    }
    pd_buf_free(&msg);
    return rc;
}

static int mlflow_encode(const pd_model_schema_t *s, const pd_rows_t *rows, pd_buf_t *out)
{
    return pd__codec_predictions(s, rows, out, 1);
}

const pd_codec_t pd_codec_mlflow = {
    .name = "mlflow",
    .content_type = "application/json",
    .decode = mlflow_decode,
    .encode = mlflow_encode,
    .error = mlflow_error,
    .typed_inputs = 1,
};
