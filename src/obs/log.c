/* log.c - leveled, timestamped log lines on stderr (see log.h). */
#include "obs/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static pd_log_level_t g_level = PD_LOG_INFO;
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

void pd_log(pd_log_level_t level, const char *fmt, ...)
{
    static const char *const tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    if (level < g_level || level >= PD_LOG_OFF)
        return;
    char line[4200];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, tags[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    if (g_sink) {
        g_sink(level, line + n, g_sink_ud);
        return;
    }
    size_t len = (size_t)n + PD_MIN((size_t)m, sizeof line - (size_t)n - 2);
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
