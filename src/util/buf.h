/* buf.h - a growable byte buffer with a hard cap, used to build responses, error bodies
 * and metric text.
 *
 * Invariants: data[len] == '\0' whenever data != NULL (so the contents can be used as a
 * C string); len <= cap_limit. Appends that would pass cap_limit fail with PD_ETOOBIG and
 * leave the buffer unchanged. Not thread-safe: one owner at a time. */
#ifndef PD_BUF_H
#define PD_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct pd_buf_s {
    char *data;       /* owned; NULL until the first append */
    size_t len;       /* bytes used, not counting the terminating NUL */
    size_t cap;       /* bytes allocated */
    size_t cap_limit; /* largest len allowed; 0 means the default (64 MiB) */
} pd_buf_t;

#define PD_BUF_INIT {NULL, 0, 0, 0}

/* Initializes an empty buffer that may grow to `limit` bytes (0: the default 64 MiB). */
void pd_buf_init(pd_buf_t *b, size_t limit);
/* Frees the storage; the buffer is left empty and reusable. Accepts NULL. */
void pd_buf_free(pd_buf_t *b);
/* Empties the buffer, keeping its storage. */
void pd_buf_reset(pd_buf_t *b);
/* Makes room for `extra` more bytes. Returns 0, PD_ENOMEM or PD_ETOOBIG. */
int pd_buf_reserve(pd_buf_t *b, size_t extra);
/* Like pd_buf_reserve, for a buffer whose final length is known (`hint`, e.g. a
 * Content-Length): it still grows by doubling as bytes arrive, but never allocates more
 * than hint + 1 bytes while len + extra <= hint. Returns 0, PD_ENOMEM or PD_ETOOBIG. */
int pd_buf_reserve_hint(pd_buf_t *b, size_t extra, size_t hint);
/* Appends n bytes from p (p may alias nothing in b). Returns 0, PD_ENOMEM or PD_ETOOBIG. */
int pd_buf_append(pd_buf_t *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
int pd_buf_puts(pd_buf_t *b, const char *s);
/* Appends printf-formatted text. */
int pd_buf_printf(pd_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pd_buf_vprintf(pd_buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string literal (with quotes), escaping as Python's json.dumps with
 * ensure_ascii=False does: \" \\ \n \r \t \b \f and \u00XX for other control bytes. */
int pd_buf_json_str(pd_buf_t *b, const char *s, size_t n);
/* Appends a double as JSON the way Python's repr(float) prints it (shortest round-trip:
 * 0.1, 1e-07, 1.0, 1e+16). Non-finite values are written as NaN/Infinity/-Infinity. */
int pd_buf_json_double(pd_buf_t *b, double v);

/* The same bytes by printf and strtod, several times slower: what pd_buf_json_double
 * uses outside pd_dtoa_digits' range (0, subnormals, below 1e-6, 1e38 and above), and
 * the reference its unit test compares with. Internal. */
int pd__buf_json_double_printf(pd_buf_t *b, double v);

/* Detaches the storage: returns data (caller frees with free()) and leaves b empty. */
char *pd_buf_steal(pd_buf_t *b, size_t *len);

#endif
