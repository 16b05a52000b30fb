/* log.c - leveled, timestamped log lines on stderr, as text or JSON (see log.h).
 *
 * A line is built in a stack buffer by a bounded writer: every string that comes from
 * outside (the message, a path, a method) has its own output budget, and the budgets plus
 * the fixed parts fit the buffer, so a JSON line is always closed, never cut mid-escape. */
#include "obs/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define LINE_MAX_BYTES 12288 /* one line, any format */
#define MSG_OUT_MAX 8192     /* the message, escaped */
#define PATH_OUT_MAX 2048    /* an access line's path, escaped (also in its message) */
#define SHORT_OUT_MAX 64     /* method, client address */
#define ID_OUT_MAX 160       /* a request id, escaped (the server's are <= 128 bytes that
                                need no escape) */

static pd_log_level_t g_level = PD_LOG_INFO;
static pd_log_format_t g_format = PD_LOG_TEXT;
static pd_log_sink_fn g_sink;
static void *g_sink_ud;

void pd_log_set_sink(pd_log_sink_fn fn, void *ud)
{
    g_sink = fn;
    g_sink_ud = ud;
}

void pd_log_set_level(pd_log_level_t level)
{
    g_level = level;
}

pd_log_level_t pd_log_get_level(void)
{
    return g_level;
}

void pd_log_set_format(pd_log_format_t format)
{
    g_format = format;
}

pd_log_format_t pd_log_get_format(void)
{
    return g_format;
}

int pd_log_parse_level(const char *s, pd_log_level_t *out)
{
    static const struct {
        const char *name;
        pd_log_level_t level;
    } names[] = {{"debug", PD_LOG_DEBUG}, {"info", PD_LOG_INFO},   {"warning", PD_LOG_WARN},
                 {"warn", PD_LOG_WARN},   {"error", PD_LOG_ERROR}, {"off", PD_LOG_OFF}};
    for (size_t i = 0; i < PD_ARRAY_SIZE(names); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return PD_EINVAL;
}

int pd_log_parse_format(const char *s, pd_log_format_t *out)
{
    if (strcasecmp(s, "text") == 0)
        *out = PD_LOG_TEXT;
    else if (strcasecmp(s, "json") == 0)
        *out = PD_LOG_JSON;
    else
        return PD_EINVAL;
    return 0;
}

/* ---- the bounded writer ---- */

typedef struct {
    char *p;
    size_t len, cap;
} wr_t;

static void put(wr_t *w, const char *s, size_t n)
{
    if (n > w->cap - w->len)
        n = w->cap - w->len;
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void puts_(wr_t *w, const char *s)
{
    put(w, s, strlen(s));
}

static void putf(wr_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(wr_t *w, const char *fmt, ...)
{
    char tmp[96];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(w, tmp, PD_MIN((size_t)n, sizeof tmp - 1));
}

/* Length of the well-formed UTF-8 sequence at u (1..4), or 0 when it is not one
 * (overlong, surrogate, above U+10FFFF, truncated). u is NUL-terminated. */
static size_t utf8_len(const unsigned char *u)
{
    unsigned char c = u[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (u[1] < lo || u[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (u[i] < 0x80 || u[i] > 0xBF)
            return 0;
    return n;
}

/* Appends s as a JSON string (with its quotes), its content at most max_out bytes: cut at a
 * character boundary, never inside an escape. NULL is written as "-". */
static void put_json_str(wr_t *w, const char *s, size_t max_out)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "-");
    size_t used = 0;
    put(w, "\"", 1);
    while (*u) {
        char esc[8];
        const char *out = esc;
        size_t n, adv = 1;
        unsigned char c = *u;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            n = 2;
        } else if (c < 0x20 || c == 0x7F) {
            static const char short_esc[] = "btn\0fr"; /* \b \t \n - \f \r for 8..13 */
            if (c >= 8 && c <= 13 && short_esc[c - 8]) {
                esc[0] = '\\';
                esc[1] = short_esc[c - 8];
                n = 2;
            } else {
                n = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
            }
        } else if (c < 0x80) {
            out = (const char *)u;
            n = 1;
        } else if ((n = utf8_len(u)) != 0) {
            out = (const char *)u;
            adv = n;
        } else {
            out = "\xEF\xBF\xBD"; /* U+FFFD for a byte that is not UTF-8 */
            n = 3;
        }
        if (used + n > max_out || w->len + n + 1 > w->cap)
            break;
        put(w, out, n);
        used += n;
        u += adv;
    }
    put(w, "\"", 1);
}

/* Appends s as text on one line: control characters become \n, \r, \t or \xNN. */
static void put_text(wr_t *w, const char *s, size_t max_out)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "-");
    size_t used = 0;
    for (; *u; u++) {
        char esc[8];
        const char *out = esc;
        size_t n;
        if (*u >= 0x20 && *u != 0x7F) {
            out = (const char *)u;
            n = 1;
        } else if (*u == '\n' || *u == '\r' || *u == '\t') {
            esc[0] = '\\';
            esc[1] = *u == '\n' ? 'n' : *u == '\r' ? 'r' : 't';
            n = 2;
        } else {
            n = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *u);
        }
        if (used + n > max_out || w->len + n > w->cap)
            break;
        put(w, out, n);
        used += n;
    }
}

static void put_time(wr_t *w, uint64_t time_ns)
{
    struct tm tm;
    time_t sec = (time_t)(time_ns / 1000000000u);
    gmtime_r(&sec, &tm);
    putf(w, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
         (unsigned)((time_ns % 1000000000u) / 1000000u));
}

/* The client as text: "127.0.0.1:5555", "[::1]:5555" or "-". */
static void put_client_text(wr_t *w, const pd_log_access_t *a)
{
    if (a->client_addr == NULL || a->client_addr[0] == '\0') {
        put(w, "-", 1);
        return;
    }
    int v6 = strchr(a->client_addr, ':') != NULL;
    if (v6)
        put(w, "[", 1);
    put_text(w, a->client_addr, SHORT_OUT_MAX);
    if (v6)
        put(w, "]", 1);
    putf(w, ":%d", a->client_port);
}

/* An access line's text: "GET /health 200 133 41 127.0.0.1:5555 <request id or ->". */
static void put_access_text(wr_t *w, const pd_log_access_t *a)
{
    put_text(w, a->method, SHORT_OUT_MAX);
    put(w, " ", 1);
    put_text(w, a->path, PATH_OUT_MAX);
    putf(w, " %d %llu %llu ", a->status, (unsigned long long)a->bytes,
         (unsigned long long)a->duration_us);
    put_client_text(w, a);
    put(w, " ", 1);
    put_text(w, a->request_id && a->request_id[0] ? a->request_id : "-", ID_OUT_MAX);
}

size_t pd_log_format_line(char *buf, size_t size, pd_log_format_t format, pd_log_level_t level,
                          uint64_t time_ns, const char *msg, const pd_log_access_t *a)
{
    static const char *const tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    static const char *const names[] = {"debug", "info", "warning", "error"};
    if (level < PD_LOG_DEBUG || level > PD_LOG_ERROR)
        level = PD_LOG_ERROR;
    wr_t w = {buf, 0, size - 1}; /* room for the newline */
    if (format == PD_LOG_JSON) {
        w.cap = size - 2; /* room for "}" and the newline */
        puts_(&w, "{\"time\":\"");
        put_time(&w, time_ns);
        puts_(&w, "\",\"level\":\"");
        puts_(&w, names[level]);
        puts_(&w, "\",\"message\":");
        if (a == NULL) {
            put_json_str(&w, msg, MSG_OUT_MAX);
        } else {
            char m[SHORT_OUT_MAX + PATH_OUT_MAX + 32];
            snprintf(m, sizeof m, "%.64s %.2048s %d", a->method ? a->method : "-",
                     a->path ? a->path : "-", a->status);
            put_json_str(&w, m, MSG_OUT_MAX);
            puts_(&w, ",\"kind\":\"access\",\"method\":");
            put_json_str(&w, a->method, SHORT_OUT_MAX);
            puts_(&w, ",\"path\":");
            put_json_str(&w, a->path, PATH_OUT_MAX);
            putf(&w, ",\"status\":%d,\"bytes\":%llu,\"duration_us\":%llu", a->status,
                 (unsigned long long)a->bytes, (unsigned long long)a->duration_us);
            if (a->client_addr && a->client_addr[0]) {
                puts_(&w, ",\"client_addr\":");
                put_json_str(&w, a->client_addr, SHORT_OUT_MAX);
                putf(&w, ",\"client_port\":%d", a->client_port);
            }
            if (a->request_id && a->request_id[0]) {
                puts_(&w, ",\"request_id\":");
                put_json_str(&w, a->request_id, ID_OUT_MAX);
            }
        }
        w.cap = size - 1;
        put(&w, "}", 1);
    } else {
        put_time(&w, time_ns);
        put(&w, " ", 1);
        puts_(&w, tags[level]);
        put(&w, " ", 1);
        if (a == NULL)
            put_text(&w, msg, MSG_OUT_MAX);
        else
            put_access_text(&w, a);
    }
    buf[w.len++] = '\n';
    return w.len;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void emit(pd_log_level_t level, const char *msg, const pd_log_access_t *a)
{
    char line[LINE_MAX_BYTES];
    if (g_sink) {
        if (a != NULL) { /* the sink gets the text form, without time and level */
            wr_t w = {line, 0, sizeof line - 1};
            put_access_text(&w, a);
            line[w.len] = '\0';
            g_sink(level, line, g_sink_ud);
        } else {
            g_sink(level, msg, g_sink_ud);
        }
        return;
    }
    size_t len = pd_log_format_line(line, sizeof line, g_format, level, now_ns(), msg, a);
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void pd_log(pd_log_level_t level, const char *fmt, ...)
{
    if (level < g_level || level >= PD_LOG_OFF)
        return;
    char msg[PD_LOG_MESSAGE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m < 0)
        msg[0] = '\0';
    emit(level, msg, NULL);
}

void pd_log_access(const pd_log_access_t *a)
{
    if (PD_LOG_INFO < g_level)
        return;
    emit(PD_LOG_INFO, NULL, a);
}
