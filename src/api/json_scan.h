/* json_scan.h - a JSON scanner that speaks the dialect of CPython 3.11's `json` module
 * (the C scanner in Modules/_json.c) over a UTF-8 document, so that request bodies are
 * accepted, refused and located exactly as FastAPI refuses them.
 *
 * What it reproduces: NaN / Infinity / -Infinity literals; integers of any length (with
 * Python's 4300-digit int limit reported as a "bad body", FastAPI's 400); the error
 * messages ("Expecting value", "Expecting ',' delimiter", ...) and the position each one
 * names; strict strings (control characters refused); surrogate-pair escapes combined as
 * Python combines them; nesting deeper than PD_JSON_MAX_DEPTH reported as a "bad body"
 * (Python's RecursionError, also FastAPI's 400).
 *
 * Positions are byte offsets into the document; pd__json_char_offset() turns them into
 * the character offsets Python reports. Nothing here allocates. Internal to src/api/. */
#ifndef PD_API_JSON_SCAN_H
#define PD_API_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* Deepest container nesting accepted. FastAPI 0.92 on Python 3.11 under uvicorn with
 * uvloop (the seed app's configuration) hits RecursionError -> 400 past depth 975; the
 * exact figure depends on the Python stack at the call, so it is pinned to that setup. */
#define PD_JSON_MAX_DEPTH 975
/* Python 3.11's sys.get_int_max_str_digits(): int("...") refuses more digits (-> 400). */
#define PD_JSON_MAX_INT_DIGITS 4300

typedef enum pd__jerr_e {
    PD__J_OK = 0,
    PD__J_SYNTAX,  /* a json.JSONDecodeError: msg and pos are set */
    PD__J_BADBODY, /* a ValueError/RecursionError other than JSONDecodeError: FastAPI's 400 */
} pd__jerr_t;

typedef enum pd__jkind_e {
    PD__JK_STRING,
    PD__JK_INT,    /* an integer literal: span is its text */
    PD__JK_FLOAT,  /* a number with a fraction or exponent: span is its text */
    PD__JK_TRUE,
    PD__JK_FALSE,
    PD__JK_NULL,
    PD__JK_NAN,
    PD__JK_INF,
    PD__JK_NINF,
    PD__JK_OBJECT, /* '{' consumed: the caller walks it with pd__json_obj_* */
    PD__JK_ARRAY,  /* '[' consumed: the caller walks it with pd__json_arr_* */
} pd__jkind_t;

/* The scanner's state over one document. `doc` is borrowed and must outlive the scanner. */
typedef struct pd__jscan_s {
    const unsigned char *doc;
    size_t len;
    size_t pos;        /* next byte to read */
    int depth;         /* containers currently open */
    pd__jerr_t err;
    const char *msg;   /* static Python wording, when err == PD__J_SYNTAX */
    size_t err_pos;    /* byte offset the error names */
} pd__jscan_t;

/* One scanned value. For strings, [start, end) is the raw content between the quotes and
 * `escaped` says whether it holds backslash escapes; for numbers it is the literal's text. */
typedef struct pd__jval_s {
    pd__jkind_t kind;
    size_t start, end;
    int escaped;
} pd__jval_t;

/* Starts scanning doc[0, len) at offset 0. */
void pd__json_init(pd__jscan_t *s, const unsigned char *doc, size_t len);
/* Skips JSON whitespace (space, tab, CR, LF). */
void pd__json_ws(pd__jscan_t *s);
/* Scans one value at s->pos (as Python's scan_once). Containers are opened, not skipped.
 * Returns 0, or -1 with s->err set. */
int pd__json_value(pd__jscan_t *s, pd__jval_t *v);
/* Skips one whole value at s->pos, containers included, without recursion.
 * Returns 0 or -1 with s->err set. */
int pd__json_skip(pd__jscan_t *s);
/* Skips the rest of a container already opened by pd__json_value (kind is OBJECT or
 * ARRAY, `first` nonzero if nothing has been read from it yet). Returns 0 or -1. */
int pd__json_skip_rest(pd__jscan_t *s, pd__jkind_t kind, int first);

/* Object walking, after '{' was consumed. Each returns 1 when a key string follows (it is
 * scanned into *key and the ':' and following whitespace consumed), 0 when the object
 * ended ('}' consumed), -1 on error. _first is used once, _next after each value. */
int pd__json_obj_first(pd__jscan_t *s, pd__jval_t *key);
int pd__json_obj_next(pd__jscan_t *s, pd__jval_t *key);
/* Array walking, after '[' was consumed: 1 when a value follows (whitespace consumed),
 * 0 when the array ended (']' consumed), -1 on error. */
int pd__json_arr_first(pd__jscan_t *s);
int pd__json_arr_next(pd__jscan_t *s);

/* Decodes the next code point of a validated string's raw content doc[*i, end) into *cp,
 * resolving escapes (a \uD8xx\uDCxx pair becomes one code point, as in Python).
 * Returns 1 and advances *i, or 0 at the end. */
int pd__json_str_next(const unsigned char *doc, size_t *i, size_t end, uint32_t *cp);
/* 1 if the string value v of the scanner's document equals the UTF-8 text name[0, nlen). */
int pd__json_str_eq(const pd__jscan_t *s, const pd__jval_t *v, const char *name, size_t nlen);
/* Length in bytes of the UTF-8 sequence at p[0, n) as Python's decoder with
 * errors='surrogatepass' accepts it (encoded surrogates allowed), or 0 if invalid. */
size_t pd__utf8_seq(const unsigned char *p, size_t n);
/* Offset of the first byte of p[0, n) that does not decode, or n if all of it does. */
size_t pd__utf8_check(const unsigned char *p, size_t n);
/* Appends the UTF-8 encoding of cp (surrogates encoded as 3 bytes) to out; returns bytes. */
size_t pd__utf8_put(uint32_t cp, unsigned char out[4]);
/* Number of characters in doc[0, off), and the line/column numbers Python reports there. */
void pd__json_char_offset(const unsigned char *doc, size_t off, size_t *chars, size_t *lineno,
                          size_t *colno);

#endif
