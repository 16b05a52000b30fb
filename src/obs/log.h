/* log.h - leveled log lines on stderr, as text or as JSON lines.
 *
 *   text: 2026-11-25T20:21:50.123Z WARN  message
 *   json: {"time":"2026-11-25T20:21:50.123Z","level":"warning","message":"message"}
 *
 * An access line (pd_log_access) adds "kind":"access" and its fields in JSON; in text it is
 * "METHOD PATH STATUS BYTES MICROSECONDS CLIENT REQUEST_ID". Every JSON line is one valid JSON object
 * whatever the message holds: quotes, backslashes and control characters are escaped, bytes
 * that are not UTF-8 become U+FFFD, and a long message is cut at a character boundary.
 * Text lines stay one line: control characters are written as \n, \r, \t or \xNN.
 *
 * Thread-safe: each line is formatted into a local buffer and written with one write(2),
 * so lines from workers and the loop never interleave. The level and the format are
 * process globals set once at start-up (pd_log_set_level, pd_log_set_format) before
 * threads exist. */
#ifndef PD_LOG_H
#define PD_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    PD_LOG_DEBUG = 0,
    PD_LOG_INFO = 1,
    PD_LOG_WARN = 2,
    PD_LOG_ERROR = 3,
    PD_LOG_OFF = 4
} pd_log_level_t;

typedef enum {
    PD_LOG_TEXT = 0, /* the default */
    PD_LOG_JSON = 1
} pd_log_format_t;

#define PD_LOG_MESSAGE_MAX 4096 /* a message longer than this (formatted) is cut */

/* Sets the lowest level that is printed (default PD_LOG_INFO). */
void pd_log_set_level(pd_log_level_t level);
/* Returns the current level. */
pd_log_level_t pd_log_get_level(void);
/* Parses "debug", "info", "warning"/"warn", "error", "off". Returns 0 or PD_EINVAL. */
int pd_log_parse_level(const char *s, pd_log_level_t *out);
/* Sets the line format (default PD_LOG_TEXT). */
void pd_log_set_format(pd_log_format_t format);
pd_log_format_t pd_log_get_format(void);
/* Parses "text" or "json". Returns 0 or PD_EINVAL. */
int pd_log_parse_format(const char *s, pd_log_format_t *out);
/* Writes one line at `level` if enabled. The message is cut at PD_LOG_MESSAGE_MAX bytes. */
void pd_log(pd_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One answered request. Strings are borrowed for the call; NULL counts as unknown. */
typedef struct {
    const char *method;      /* "GET"; "-" when the request line was not received */
    const char *path;        /* the path as received (percent-encoded, no query) */
    int status;
    uint64_t bytes;          /* response bytes: status line, headers and body */
    uint64_t duration_us;    /* from the request's first byte to its answer */
    const char *client_addr; /* numeric peer address ("127.0.0.1", "::1"), or NULL */
    int client_port;         /* the peer's port, 0 when unknown */
    const char *request_id;  /* the request's X-Request-Id (as answered), or NULL */
} pd_log_access_t;

/* Writes the access line of one request at INFO (if enabled). In JSON its fields are
 * method, path, status, bytes, duration_us, client_addr and client_port (both only when
 * known) and request_id (when known), beside time, level, message ("GET /health 200") and
 * kind "access". In text the request id (or "-") is the last field. */
void pd_log_access(const pd_log_access_t *a);

/* Capture hook (tests, embedding): while set, every enabled line goes to
 * fn(level, msg, ud) instead of stderr; msg is the formatted message without timestamp,
 * level tag or newline (an access line's text form), valid only during the call. fn may
 * be called from any thread. Set and clear it (NULL restores stderr) while no other
 * thread logs. */
typedef void (*pd_log_sink_fn)(pd_log_level_t level, const char *msg, void *ud);
void pd_log_set_sink(pd_log_sink_fn fn, void *ud);

/* Formats one line as it would be written (with its newline) into buf (size >= 64);
 * returns its length. For tests; pd_log and pd_log_access use it. `a` may be NULL (a plain
 * line); then msg is the message. time_ns is the wall-clock time in ns since the epoch. */
size_t pd_log_format_line(char *buf, size_t size, pd_log_format_t format, pd_log_level_t level,
                          uint64_t time_ns, const char *msg, const pd_log_access_t *a);

#define pd_log_debug(...) pd_log(PD_LOG_DEBUG, __VA_ARGS__)
#define pd_log_info(...) pd_log(PD_LOG_INFO, __VA_ARGS__)
#define pd_log_warn(...) pd_log(PD_LOG_WARN, __VA_ARGS__)
#define pd_log_error(...) pd_log(PD_LOG_ERROR, __VA_ARGS__)

#endif
