/* fsource_redis_url.c - the Redis store's URLs (fsource_redis_url.h): parsed by hand,
 * bounded by the buffers of pd__redis_url_t; pure, any thread. */
#include <stdio.h>
#include <string.h>

#include "api/fsource_redis_url.h"
#include "common.h"

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* Percent-decodes s[0, n) into out (cap bytes with the NUL). Returns 0 or -1 (too long,
 * a bad escape, or %00). */
static int unescape(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (o + 1 >= cap)
            return -1;
        if (ch == '%') {
            int h = i + 2 < n ? hexval(s[i + 1]) : -1, l = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return -1;
            ch = (char)(h * 16 + l);
            i += 2;
        }
        out[o++] = ch;
    }
    out[o] = '\0';
    return 0;
}

static int url_fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s (expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB])", why);
    return PD_EINVAL;
}

/* The host (a name, an IPv4 address or [IPv6]) and port of s[0, n). */
static int parse_hostport(const char *s, size_t n, pd__redis_url_t *u, char *err, size_t errlen)
{
    const char *h = s, *colon = NULL;
    size_t hl;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            return url_fail(err, errlen, "an IPv6 address lacks its ']'");
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1 < s + n ? close + 1 : NULL;
        if (colon && *colon != ':')
            return url_fail(err, errlen, "text after the IPv6 address");
    } else {
        colon = memchr(s, ':', n);
        hl = colon ? (size_t)(colon - s) : n;
        for (size_t i = 0; i < hl; i++)
            if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                  (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || s[i] == '_'))
                return url_fail(err, errlen, "the host holds a character other than "
                                "[A-Za-z0-9._-]");
    }
    if (hl == 0 || hl > PD_REDIS_HOST_MAX)
        return url_fail(err, errlen, "no host, or a host longer than 255 bytes");
    memcpy(u->host, h, hl);
    u->host[hl] = '\0';
    u->port = PD_REDIS_DEFAULT_PORT;
    if (colon == NULL)
        return 0;
    const char *p = colon + 1, *end = s + n;
    long port = 0;
    if (p == end || end - p > 5)
        return url_fail(err, errlen, "the port must be 1 to 65535");
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return url_fail(err, errlen, "the port must be 1 to 65535");
        port = port * 10 + (*p - '0');
    }
    if (port < 1 || port > 65535)
        return url_fail(err, errlen, "the port must be 1 to 65535");
    u->port = (int)port;
    return 0;
}

int pd__redis_url_parse(const char *url, pd__redis_url_t *u, char *err, size_t errlen)
{
    static const char scheme[] = "redis://";
    memset(u, 0, sizeof *u);
    if (strncmp(url, scheme, sizeof scheme - 1) != 0)
        return url_fail(err, errlen, "not a redis:// URL");
    const char *s = url + sizeof scheme - 1, *slash = strchr(s, '/');
    size_t auth_end = slash ? (size_t)(slash - s) : strlen(s);
    const char *at = memchr(s, '@', auth_end);
    if (strpbrk(s, "?#") != NULL)
        return url_fail(err, errlen, "a query or fragment");
    if (at != NULL) {
        const char *colon = memchr(s, ':', (size_t)(at - s));
        if (colon == NULL)
            return url_fail(err, errlen, "user information without ':PASSWORD'");
        if (unescape(s, (size_t)(colon - s), u->user, sizeof u->user) < 0 ||
            unescape(colon + 1, (size_t)(at - colon - 1), u->pass, sizeof u->pass) < 0)
            return url_fail(err, errlen, "a bad %-escape, or a user or password over 255 "
                            "bytes");
        u->has_pass = 1;
        s = at + 1;
    }
    int rc = parse_hostport(s, slash ? (size_t)(slash - s) : strlen(s), u, err, errlen);
    if (rc < 0 || slash == NULL || slash[1] == '\0')
        return rc;
    unsigned long db = 0;
    for (const char *p = slash + 1; *p; p++) {
        if (*p < '0' || *p > '9' || db > PD_REDIS_MAX_DB)
            return url_fail(err, errlen, "the database must be a number from 0 to 65535");
        db = db * 10 + (unsigned long)(*p - '0');
    }
    if (db > PD_REDIS_MAX_DB)
        return url_fail(err, errlen, "the database must be a number from 0 to 65535");
    u->db = (unsigned)db;
    return 0;
}

