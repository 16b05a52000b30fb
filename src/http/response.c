/* response.c - formats HTTP/1.1 responses: status line, Date (cached per second), Server,
 * Content-Type, Content-Length, Connection, extra header lines, body - into one buffer,
 * with memcpy rather than printf because it runs once per request. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "http/internal.h"

const char *pd__status_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void pd__http_date(char out[32])
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[64];
    time_t now = time(NULL);
    if (now != cached_sec) {
        static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char mons[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(cached, sizeof cached, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
                 tm.tm_mday, mons[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        cached_sec = now;
    }
    memcpy(out, cached, PD__HTTP_DATE_LEN + 1);
}

/* Most decimal digits of a size_t (2^64 - 1 has 20). */
#define UINT_DIGITS_MAX 20

/* Appends an unsigned decimal; returns the number of digits. */
static size_t put_uint(char *p, size_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* The fixed parts of a response, named once so that PUT and the size bound agree. */
#define K_STATUS "HTTP/1.1 "   /* + "NNN " + reason */
#define K_DATE "\r\nDate: "    /* + date */
#define K_SERVER "\r\nServer: predictd\r\n"
#define K_TYPE "Content-Type: " /* + type + K_CRLF */
#define K_LENGTH "Content-Length: " /* + digits + K_CRLF */
#define K_CLOSE "Connection: close\r\n"
#define K_KEEP "Connection: keep-alive\r\n"
#define K_CRLF "\r\n"
#define K_ID "X-Request-Id: " /* + id + K_CRLF */

#define PUT(lit) (memcpy(p, PD_LIT(lit)), p += PD_LIT_LEN(lit))

int pd__response_format(pd_buf_t *b, int status, const char *content_type, const char *extra,
                        const char *body, size_t len, int keep_alive, int http_minor,
                        const char *request_id)
{
    if (status < 100 || status > 999)
        return PD_EINVAL;
    const char *reason = pd__status_reason(status);
    size_t rl = strlen(reason);
    size_t cl = content_type ? strlen(content_type) : 0;
    size_t el = extra ? strlen(extra) : 0;
    size_t il = request_id ? strnlen(request_id, PD_HTTP_REQUEST_ID_MAX) : 0;
    /* an upper bound of the head: every part that may appear, at its longest */
    size_t head = PD_LIT_LEN(K_STATUS "NNN ") + rl + PD_LIT_LEN(K_DATE) + PD__HTTP_DATE_LEN +
                  PD_LIT_LEN(K_SERVER) + PD_LIT_LEN(K_TYPE K_CRLF) + cl +
                  PD_LIT_LEN(K_LENGTH K_CRLF) + UINT_DIGITS_MAX +
                  PD_MAX(PD_LIT_LEN(K_CLOSE), PD_LIT_LEN(K_KEEP)) + PD_LIT_LEN(K_ID K_CRLF) + il +
                  el + PD_LIT_LEN(K_CRLF);
    pd_buf_reset(b);
    int rc = pd_buf_reserve(b, head + len);
    if (rc < 0)
        return rc;
    char *p = b->data;
    PUT(K_STATUS);
    p[0] = (char)('0' + status / 100);
    p[1] = (char)('0' + status / 10 % 10);
    p[2] = (char)('0' + status % 10);
    p[3] = ' ';
    p += 4;
    memcpy(p, reason, rl);
    p += rl;
    PUT(K_DATE);
    pd__http_date(p);
    p += PD__HTTP_DATE_LEN;
    PUT(K_SERVER);
    if (content_type) {
        PUT(K_TYPE);
        memcpy(p, content_type, cl);
        p += cl;
        PUT(K_CRLF);
    }
    PUT(K_LENGTH);
    p += put_uint(p, len);
    PUT(K_CRLF);
    if (!keep_alive)
        PUT(K_CLOSE);
    else if (http_minor == 0)
        PUT(K_KEEP);
    if (il) {
        PUT(K_ID);
        memcpy(p, request_id, il);
        p += il;
        PUT(K_CRLF);
    }
    if (el) {
        memcpy(p, extra, el);
        p += el;
    }
    PUT(K_CRLF);
    if (len) {
        memcpy(p, body, len);
        p += len;
    }
    *p = '\0';
    b->len = (size_t)(p - b->data);
    return 0;
}
