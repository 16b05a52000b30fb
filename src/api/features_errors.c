/* features_errors.c - the {"detail": ...} bodies of a request FastAPI 0.92 + Pydantic 1.10
 * refuse (see features_internal.h): Pydantic's error list, streamed row by row; the
 * jsondecode error of a document json.loads refuses; the 400 of one it cannot decode.
 *
 * Invariants: items are written compact and in Pydantic's order (rows in order, then
 * per row the body-level error or the fields in field order); not-finite values, which
 * Pydantic accepts, are listed only when no row has a Pydantic error (FastAPI answers 500
 * there; predictd 422); once the buffer hits its cap nothing more is written to it
 * (c->err_full) and the call ends with PD_ETOOBIG unless a syntax error wins. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/features_internal.h"
#include "common.h"

#define SELF_MSG "BaseModel.__init__() got multiple values for argument '__pydantic_self__'"

/* One {"loc":["body"(,index)(,name)],"msg":msg,"type":type}, after "[" or ",". */
static int put_item(pd_buf_t *b, int first, size_t index, const char *name, const char *msg,
                    const char *type)
{
    int rc = pd_buf_puts(b, first ? "{\"loc\":[\"body\"" : ",{\"loc\":[\"body\"");
    if (rc == 0 && index != PD__FEATURES_TOP)
        rc = pd_buf_printf(b, ",%zu", index);
    if (rc == 0 && name) {
        rc = pd_buf_puts(b, ",");
        if (rc == 0)
            rc = pd_buf_json_str(b, name, strlen(name));
    }
    if (rc == 0)
        rc = pd_buf_puts(b, "],\"msg\":");
    if (rc == 0)
        rc = pd_buf_json_str(b, msg, strlen(msg));
    if (rc == 0)
        rc = pd_buf_puts(b, ",\"type\":");
    if (rc == 0)
        rc = pd_buf_json_str(b, type, strlen(type));
    if (rc == 0)
        rc = pd_buf_puts(b, "}");
    return rc;
}

/* Appends one item to c's error list (opening it first). When the buffer reaches its cap
 * the partial item is cut off again (len back to the mark, NUL kept: buf.h's invariant)
 * and c->err_full set; only PD_ENOMEM is returned. */
static int list_item(pd__fctx_t *c, pd_buf_t *b, size_t index, const char *name,
                     const char *msg, const char *type)
{
    if (c->err_full)
        return 0;
    size_t mark = b->len;
    int rc = c->n_err == 0 ? pd_buf_puts(b, "{\"detail\":[") : 0;
    if (rc == 0)
        rc = put_item(b, c->n_err == 0, index, name, msg, type);
    if (rc == PD_ETOOBIG) {
        b->len = mark;
        if (b->data)
            b->data[mark] = '\0';
        c->err_full = 1;
        return 0;
    }
    if (rc == 0)
        c->n_err++;
    return rc;
}

int pd__features_row_errors(pd__fctx_t *c, pd_buf_t *err, size_t index)
{
    static const struct { const char *msg, *type; } what[] = {
        [PD__F_MISSING] = {"field required", "value_error.missing"},
        [PD__F_NULL] = {"none is not an allowed value", "type_error.none.not_allowed"},
        [PD__F_TYPE] = {"value is not a valid float", "type_error.float"},
        [PD__F_STR] = {"str type expected", "type_error.str"},
    };
    const char *msg = NULL, *type = NULL;
    if (c->body == PD__B_MISSING && index == PD__FEATURES_TOP)
        msg = "field required", type = "value_error.missing";
    else if (c->body == PD__B_MISSING) /* a null element of a list */
        msg = "none is not an allowed value", type = "type_error.none.not_allowed";
    else if (c->body == PD__B_DICT)
        msg = "value is not a valid dict", type = "type_error.dict";
    else if (c->kw_nonstr) /* Model(**d): Python checks the keys' type first */
        msg = "keywords must be strings", type = "type_error";
    else if (c->kw_self)
        msg = SELF_MSG, type = "type_error";
    if (msg != NULL) {
        c->pydantic = 1;
        return list_item(c, err, index, NULL, msg, type);
    }
    int rc = 0;
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        unsigned char st = c->st[i];
        if (st == PD__F_OK || st == PD__F_NONFINITE || st == PD__F_NAN)
            continue;
        c->pydantic = 1;
        rc = list_item(c, err, index, c->names[i], what[st].msg, what[st].type);
    }
    return rc;
}

int pd__features_nonfinite_errors(pd__fctx_t *c, pd_buf_t *err, const double *x,
                                  size_t n_rows, int list)
{
    int rc = 0;
    for (size_t r = 0; r < n_rows && rc == 0 && !c->err_full; r++)
        for (size_t i = 0; i < c->n && rc == 0; i++)
            if (isinf(x[r * c->n + i]))
                rc = list_item(c, err, list ? r : PD__FEATURES_TOP, c->names[i],
                               "ensure this value is a finite number",
                               "value_error.number.not_finite_number");
    return rc;
}

int pd__features_unknown_errors(pd__fctx_t *c, pd_buf_t *err, int list)
{
    const pd_buf_t *u = c->unk;
    size_t i = 0;
    int rc = 0;
    if (c->unk_full) { /* the whole list would not fit: 413, as any oversized report */
        c->err_full = 1;
        return 0;
    }
    pd_buf_t msg;
    pd_buf_init(&msg, 0);
    while (u && u->data && i < u->len && rc == 0 && !c->err_full) {
        char *end;
        size_t row = strtoul(u->data + i, &end, 10);
        long idx = strtol(end + 1, &end, 10);
        const char *val = end + 1;
        const char *nl = memchr(val, '\n', u->len - (size_t)(val - u->data));
        pd_buf_reset(&msg);
        rc = pd_buf_puts(&msg, "unknown category ");
        if (rc == 0)
            rc = pd_buf_append(&msg, val, (size_t)(nl - val));
        if (rc == 0)
            rc = pd_buf_puts(&msg, ": the model's encoder was fitted with "
                                   "handle_unknown='error'");
        if (rc == 0)
            rc = list_item(c, err, list ? row : PD__FEATURES_TOP, c->names[idx], msg.data,
                           "value_error.category");
        i = (size_t)(nl - u->data) + 1;
    }
    pd_buf_free(&msg);
    return rc;
}

int pd__features_errors_end(pd__fctx_t *c, pd_buf_t *err)
{
    if (c->err_full) {
        pd_buf_reset(err);
        return PD_ETOOBIG;
    }
    if (c->n_err == 0)
        return 0;
    int rc = pd_buf_puts(err, "]}");
    if (rc == PD_ETOOBIG) {
        pd_buf_reset(err);
        return PD_ETOOBIG;
    }
    return rc < 0 ? rc : PD_EINVAL;
}

int pd__features_body_error(pd_buf_t *err, const char *msg, const char *type)
{
    pd_buf_reset(err);
    int rc = pd_buf_puts(err, "{\"detail\":[");
    if (rc == 0)
        rc = put_item(err, 1, PD__FEATURES_TOP, NULL, msg, type);
    if (rc == 0)
        rc = pd_buf_puts(err, "]}");
    return rc < 0 ? rc : PD_EINVAL;
}


/* The decoded document as a JSON string (json.dumps, ensure_ascii=False); a lone surrogate
 * (3 bytes ED A0..BF xx) is written as U+FFFD. */
static int put_doc(pd_buf_t *b, const unsigned char *d, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0, i = 0;
    int rc = pd_buf_append(b, "\"", 1);
    while (i < n && rc == 0) {
        unsigned char c = d[i];
        char esc[8];
        size_t elen = 2, adv = 1;
        esc[0] = '\\';
        if (c == '"' || c == '\\')
            esc[1] = (char)c;
        else if (c >= 0x20 && !(c == 0xED && i + 2 < n && d[i + 1] >= 0xA0)) {
            i++;
            continue;
        } else if (c >= 0x20) { /* a lone surrogate: U+FFFD, so the body stays UTF-8 */
            memcpy(esc, "\xef\xbf\xbd", 3);
            elen = 3;
            adv = 3;
        } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
        else {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        rc = pd_buf_append(b, d + run, i - run);
        if (rc == 0)
            rc = pd_buf_append(b, esc, elen);
        i += adv;
        run = i;
    }
    if (rc == 0)
        rc = pd_buf_append(b, d + run, n - run);
    if (rc == 0)
        rc = pd_buf_append(b, "\"", 1);
    return rc;
}

static int jsondecode_error(pd_buf_t *b, const pd__jscan_t *s)
{
    size_t pos, line, col;
    char full[160];
    pd__json_char_offset(s->doc, s->err_pos, &pos, &line, &col);
    snprintf(full, sizeof full, "%s: line %zu column %zu (char %zu)", s->msg, line, col, pos);
    int rc = pd_buf_printf(b, "{\"detail\":[{\"loc\":[\"body\",%zu],\"msg\":", pos);
    if (rc == 0)
        rc = pd_buf_json_str(b, full, strlen(full));
    if (rc == 0)
        rc = pd_buf_puts(b, ",\"type\":\"value_error.jsondecode\",\"ctx\":{\"msg\":");
    if (rc == 0)
        rc = pd_buf_json_str(b, s->msg, strlen(s->msg));
    if (rc == 0)
        rc = pd_buf_puts(b, ",\"doc\":");
    if (rc == 0)
        rc = put_doc(b, s->doc, s->len);
    if (rc == 0)
        rc = pd_buf_printf(b, ",\"pos\":%zu,\"lineno\":%zu,\"colno\":%zu}}]}", pos, line, col);
    return rc < 0 ? rc : PD_EINVAL;
}


int pd__features_syntax_error(pd_buf_t *err, const pd__jscan_t *s)
{
    pd_buf_reset(err);
    /* Python decodes the whole body before parsing: undecodable text anywhere wins. */
    if (s->err == PD__J_BADBODY || pd__utf8_check(s->doc, s->len) != s->len) {
        int rc = pd_buf_puts(err, PD_FEATURES_BODY_400);
        return rc < 0 ? rc : PD_EFORMAT;
    }
    return jsondecode_error(err, s);
}
