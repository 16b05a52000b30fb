/* log.h - leveled log lines on stderr: "2026-11-25T20:21:50.123Z WARN  message".
 *
 * Thread-safe: each line is formatted into a local buffer and written with one write(2),
 * so lines from workers and the loop never interleave. The level is a process global set
 * once at start-up (pd_log_set_level) before threads exist. */
#ifndef PD_LOG_H
#define PD_LOG_H

typedef enum {
    PD_LOG_DEBUG = 0,
    PD_LOG_INFO = 1,
    PD_LOG_WARN = 2,
    PD_LOG_ERROR = 3,
    PD_LOG_OFF = 4
} pd_log_level_t;

/* Sets the lowest level that is printed (default PD_LOG_INFO). */
void pd_log_set_level(pd_log_level_t level);
/* Returns the current level. */
pd_log_level_t pd_log_get_level(void);
/* Parses "debug", "info", "warning"/"warn", "error", "off". Returns 0 or PD_EINVAL. */
int pd_log_parse_level(const char *s, pd_log_level_t *out);
/* Writes one line at `level` if enabled. The message is truncated at 4 KiB. */
void pd_log(pd_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Capture hook (tests, embedding): while set, every enabled line goes to
 * fn(level, msg, ud) instead of stderr; msg is the formatted message without timestamp,
 * level tag or newline, valid only during the call. fn may be called from any thread.
 * Set and clear it (NULL restores stderr) while no other thread logs. */
typedef void (*pd_log_sink_fn)(pd_log_level_t level, const char *msg, void *ud);
void pd_log_set_sink(pd_log_sink_fn fn, void *ud);

#define pd_log_debug(...) pd_log(PD_LOG_DEBUG, __VA_ARGS__)
#define pd_log_info(...) pd_log(PD_LOG_INFO, __VA_ARGS__)
#define pd_log_warn(...) pd_log(PD_LOG_WARN, __VA_ARGS__)
#define pd_log_error(...) pd_log(PD_LOG_ERROR, __VA_ARGS__)

#endif
