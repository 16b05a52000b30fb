/* json_scan.c - CPython-3.11-json-compatible scanning of a UTF-8 document (see
 * json_scan.h). Each function mirrors its counterpart in Modules/_json.c (scan_once,
 * scanstring, _parse_object, _parse_array, _match_number) closely enough that the same
 * input fails with the same message at the same position; the character-vs-byte
 * difference is resolved by pd__json_char_offset() when an error is reported.
 *
 * Invariants: s->pos <= s->len; s->depth counts the containers opened and not yet
 * closed; once s->err is set, the caller stops scanning. */
#include "api/json_scan.h"

#include <string.h>

#define MSG_VALUE "Expecting value"
#define MSG_COMMA "Expecting ',' delimiter"
#define MSG_COLON "Expecting ':' delimiter"
#define MSG_PROP "Expecting property name enclosed in double quotes"
#define MSG_UNTERM "Unterminated string starting at"
#define MSG_CTRL "Invalid control character at"
#define MSG_ESC "Invalid \\escape"
#define MSG_UESC "Invalid \\uXXXX escape"

void pd__json_init(pd__jscan_t *s, const unsigned char *doc, size_t len)
{
    memset(s, 0, sizeof *s);
    s->doc = doc;
    s->len = len;
}

static int fail(pd__jscan_t *s, pd__jerr_t err, const char *msg, size_t pos)
{
    s->err = err;
    s->msg = msg;
    s->err_pos = pos;
    return -1;
}

void pd__json_ws(pd__jscan_t *s)
{
    while (s->pos < s->len) {
        unsigned char c = s->doc[s->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        s->pos++;
    }
}

size_t pd__utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms; 0xED A0..BF (surrogates) passes: surrogatepass */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < need || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < need; k++)
        if ((p[k] & 0xC0) != 0x80)
            return 0;
    return need;
}

size_t pd__utf8_check(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = pd__utf8_seq(p + i, n - i);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}

size_t pd__utf8_put(uint32_t cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The 4 hex digits at p (4 bytes readable) as a code unit, or -1. */
static long hex4(const unsigned char *p)
{
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(p[k]);
        if (h < 0)
            return -1;
        v = (v << 4) | h;
    }
    return v;
}

/* The backslash escape whose backslash is at q-1 (q indexes the escape letter).
 * Returns the index just past it, or 0 on error (s->err set). */
static size_t scan_escape(pd__jscan_t *s, size_t q, size_t begin, int *escaped)
{
    const unsigned char *d = s->doc;
    *escaped = 1;
    if (q == s->len)
        return fail(s, PD__J_SYNTAX, MSG_UNTERM, begin), 0;
    if (d[q] != 'u') {
        if (!strchr("\"\\/bfnrt", d[q]) || d[q] == '\0')
            return fail(s, PD__J_SYNTAX, MSG_ESC, q - 1), 0;
        return q + 1;
    }
    /* Python: at least one character must follow the 4 digits; error at the 'u'. */
    size_t end = q + 5;
    if (end >= s->len || hex4(d + q + 1) < 0)
        return fail(s, PD__J_SYNTAX, MSG_UESC, q), 0;
    long c = hex4(d + q + 1);
    if (c >= 0xD800 && c <= 0xDBFF && end + 6 < s->len && d[end] == '\\' && d[end + 1] == 'u') {
        long c2 = hex4(d + end + 2);
        if (c2 < 0)
            return fail(s, PD__J_SYNTAX, MSG_UESC, end + 1), 0;
        if (c2 >= 0xDC00 && c2 <= 0xDFFF)
            end += 6;
    }
    return end;
}

/* A string starting at the quote s->pos (Python's scanstring, strict=True). */
static int scan_string(pd__jscan_t *s, pd__jval_t *v)
{
    const unsigned char *d = s->doc;
    size_t begin = s->pos, q = begin + 1;
    v->kind = PD__JK_STRING;
    v->start = q;
    v->escaped = 0;
    for (;;) {
        while (q < s->len && d[q] != '"' && d[q] != '\\') {
            if (d[q] < 0x20)
                return fail(s, PD__J_SYNTAX, MSG_CTRL, q);
            if (d[q] < 0x80) {
                q++;
                continue;
            }
            size_t k = pd__utf8_seq(d + q, s->len - q);
            if (k == 0)
                return fail(s, PD__J_BADBODY, NULL, q);
            q += k;
        }
        if (q == s->len)
            return fail(s, PD__J_SYNTAX, MSG_UNTERM, begin);
        if (d[q] == '"')
            break;
        q = scan_escape(s, q + 1, begin, &v->escaped);
        if (q == 0)
            return -1;
    }
    v->end = q;
    s->pos = q + 1;
    return 0;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* A number at s->pos (Python's _match_number): Expecting value when none is there. */
static int scan_number(pd__jscan_t *s, pd__jval_t *v)
{
    const unsigned char *d = s->doc;
    size_t start = s->pos, i = start, n = s->len;
    int is_float = 0;
    if (d[i] == '-' && ++i >= n)
        return fail(s, PD__J_SYNTAX, MSG_VALUE, start);
    if (d[i] >= '1' && d[i] <= '9') {
        while (i < n && is_digit(d[i]))
            i++;
    } else if (d[i] == '0')
        i++;
    else
        return fail(s, PD__J_SYNTAX, MSG_VALUE, start);
    size_t int_digits = i - start - (d[start] == '-');
    if (i + 1 < n && d[i] == '.' && is_digit(d[i + 1])) {
        is_float = 1;
        i += 2;
        while (i < n && is_digit(d[i]))
            i++;
    }
    if (i + 1 < n && (d[i] == 'e' || d[i] == 'E')) {
        size_t e_start = i++;
        if (i + 1 < n && (d[i] == '-' || d[i] == '+'))
            i++;
        while (i < n && is_digit(d[i]))
            i++;
        if (is_digit(d[i - 1]))
            is_float = 1;
        else
            i = e_start;
    }
    if (!is_float && int_digits > PD_JSON_MAX_INT_DIGITS)
        return fail(s, PD__J_BADBODY, NULL, start); /* int(): exceeds the digit limit */
    v->kind = is_float ? PD__JK_FLOAT : PD__JK_INT;
    v->start = start;
    v->end = i;
    v->escaped = 0;
    s->pos = i;
    return 0;
}

static int literal(pd__jscan_t *s, const char *word, size_t wlen)
{
    if (s->len - s->pos < wlen || memcmp(s->doc + s->pos, word, wlen) != 0)
        return 0;
    s->pos += wlen;
    return 1;
}

int pd__json_value(pd__jscan_t *s, pd__jval_t *v)
{
    if (s->pos >= s->len)
        return fail(s, PD__J_SYNTAX, MSG_VALUE, s->pos);
    v->start = v->end = s->pos;
    v->escaped = 0;
    switch (s->doc[s->pos]) {
    case '"':
        return scan_string(s, v);
    case '{':
    case '[':
        if (s->depth >= PD_JSON_MAX_DEPTH) /* Python: RecursionError, not a JSONDecodeError */
            return fail(s, PD__J_BADBODY, NULL, s->pos);
        s->depth++;
        v->kind = s->doc[s->pos++] == '{' ? PD__JK_OBJECT : PD__JK_ARRAY;
        return 0;
    case 'n':
        if (literal(s, "null", 4))
            return v->kind = PD__JK_NULL, 0;
        break;
    case 't':
        if (literal(s, "true", 4))
            return v->kind = PD__JK_TRUE, 0;
        break;
    case 'f':
        if (literal(s, "false", 5))
            return v->kind = PD__JK_FALSE, 0;
        break;
    case 'N':
        if (literal(s, "NaN", 3))
            return v->kind = PD__JK_NAN, 0;
        break;
    case 'I':
        if (literal(s, "Infinity", 8))
            return v->kind = PD__JK_INF, 0;
        break;
    case '-':
        if (literal(s, "-Infinity", 9))
            return v->kind = PD__JK_NINF, 0;
        break;
    default:
        break;
    }
    return scan_number(s, v);
}

/* After a key's opening position: the key string, then ':' and whitespace. */
static int obj_key(pd__jscan_t *s, pd__jval_t *key)
{
    if (s->pos >= s->len || s->doc[s->pos] != '"')
        return fail(s, PD__J_SYNTAX, MSG_PROP, s->pos);
    if (scan_string(s, key) < 0)
        return -1;
    pd__json_ws(s);
    if (s->pos >= s->len || s->doc[s->pos] != ':')
        return fail(s, PD__J_SYNTAX, MSG_COLON, s->pos);
    s->pos++;
    pd__json_ws(s);
    return 1;
}

static int closes(pd__jscan_t *s, unsigned char closer)
{
    if (s->pos < s->len && s->doc[s->pos] == closer) {
        s->pos++;
        s->depth--;
        return 1;
    }
    return 0;
}

int pd__json_obj_first(pd__jscan_t *s, pd__jval_t *key)
{
    pd__json_ws(s);
    if (closes(s, '}'))
        return 0;
    return obj_key(s, key);
}

int pd__json_obj_next(pd__jscan_t *s, pd__jval_t *key)
{
    pd__json_ws(s);
    if (closes(s, '}'))
        return 0;
    if (s->pos >= s->len || s->doc[s->pos] != ',')
        return fail(s, PD__J_SYNTAX, MSG_COMMA, s->pos);
    s->pos++;
    pd__json_ws(s);
    return obj_key(s, key);
}

int pd__json_arr_first(pd__jscan_t *s)
{
    pd__json_ws(s);
    return closes(s, ']') ? 0 : 1;
}

int pd__json_arr_next(pd__jscan_t *s)
{
    pd__json_ws(s);
    if (closes(s, ']'))
        return 0;
    if (s->pos >= s->len || s->doc[s->pos] != ',')
        return fail(s, PD__J_SYNTAX, MSG_COMMA, s->pos);
    s->pos++;
    pd__json_ws(s);
    return 1;
}

int pd__json_skip_rest(pd__jscan_t *s, pd__jkind_t kind, int first)
{
    /* One bit per open container (1 = object), at most PD_JSON_MAX_DEPTH of them. */
    unsigned char stack[PD_JSON_MAX_DEPTH / 8 + 1];
    int top = 0;
    stack[0] = kind == PD__JK_OBJECT;
    top = 1;
    while (top > 0) {
        int is_obj = (stack[(top - 1) / 8] >> ((top - 1) % 8)) & 1;
        pd__jval_t v;
        int r = is_obj ? (first ? pd__json_obj_first(s, &v) : pd__json_obj_next(s, &v))
                       : (first ? pd__json_arr_first(s) : pd__json_arr_next(s));
        if (r < 0)
            return -1;
        first = 0;
        if (r == 0) {
            top--;
            continue;
        }
        if (pd__json_value(s, &v) < 0)
            return -1;
        if (v.kind == PD__JK_OBJECT || v.kind == PD__JK_ARRAY) {
            if (top >= PD_JSON_MAX_DEPTH) /* unreachable: pd__json_value bounds depth */
                return fail(s, PD__J_BADBODY, NULL, s->pos);
            unsigned char bit = (unsigned char)(1u << (top % 8));
            stack[top / 8] = (unsigned char)(v.kind == PD__JK_OBJECT ? stack[top / 8] | bit
                                                                     : stack[top / 8] & ~bit);
            top++;
            first = 1;
        }
    }
    return 0;
}

int pd__json_skip(pd__jscan_t *s)
{
    pd__jval_t v;
    if (pd__json_value(s, &v) < 0)
        return -1;
    if (v.kind == PD__JK_OBJECT || v.kind == PD__JK_ARRAY)
        return pd__json_skip_rest(s, v.kind, 1);
    return 0;
}

static uint32_t utf8_decode(const unsigned char *p, size_t k)
{
    if (k == 1)
        return p[0];
    uint32_t cp = p[0] & (0x7F >> k);
    for (size_t j = 1; j < k; j++)
        cp = (cp << 6) | (p[j] & 0x3F);
    return cp;
}

int pd__json_str_next(const unsigned char *doc, size_t *i, size_t end, uint32_t *cp)
{
    size_t q = *i;
    if (q >= end)
        return 0;
    if (doc[q] != '\\') {
        size_t k = pd__utf8_seq(doc + q, end - q);
        if (k == 0) /* not reached for a validated string */
            k = 1;
        *cp = utf8_decode(doc + q, k);
        *i = q + k;
        return 1;
    }
    unsigned char e = doc[q + 1];
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (e != 'u') {
        const char *hit = strchr(from, e);
        *cp = hit ? (unsigned char)to[hit - from] : e;
        *i = q + 2;
        return 1;
    }
    long c = hex4(doc + q + 2);
    q += 6;
    if (c >= 0xD800 && c <= 0xDBFF && q + 6 <= end && doc[q] == '\\' && doc[q + 1] == 'u') {
        long c2 = hex4(doc + q + 2);
        if (c2 >= 0xDC00 && c2 <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (c2 - 0xDC00);
            q += 6;
        }
    }
    *cp = (uint32_t)c;
    *i = q;
    return 1;
}

int pd__json_str_eq(const pd__jscan_t *s, const pd__jval_t *v, const char *name, size_t nlen)
{
    if (!v->escaped)
        return v->end - v->start == nlen && memcmp(s->doc + v->start, name, nlen) == 0;
    size_t i = v->start, at = 0;
    uint32_t cp;
    while (pd__json_str_next(s->doc, &i, v->end, &cp)) {
        unsigned char enc[4];
        size_t k = pd__utf8_put(cp, enc);
        if (k > nlen - at || memcmp(name + at, enc, k) != 0)
            return 0;
        at += k;
    }
    return at == nlen;
}

void pd__json_char_offset(const unsigned char *doc, size_t off, size_t *chars, size_t *lineno,
                          size_t *colno)
{
    size_t n = 0, lines = 1, last_nl = 0; /* last_nl: chars up to and including the last \n */
    for (size_t i = 0; i < off; i++) {
        if ((doc[i] & 0xC0) == 0x80)
            continue;
        n++;
        if (doc[i] == '\n') {
            lines++;
            last_nl = n;
        }
    }
    *chars = n;
    *lineno = lines;
    *colno = n - last_nl + 1;
}
