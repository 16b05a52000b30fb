/* json_encoding.c - json.detect_encoding() and UTF-16/32 -> UTF-8 (surrogatepass), see
 * json_encoding.h. The transcoded buffer is at most 2 * len bytes (a 2-byte UTF-16 unit
 * becomes at most 3 bytes, a 4-byte UTF-32 unit at most 4). */
#include "api/json_encoding.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_scan.h"
#include "common.h"

enum enc { ENC_UTF8, ENC_UTF8_SIG, ENC_16LE, ENC_16BE, ENC_32LE, ENC_32BE };

/* Python's json.detect_encoding; *skip is the BOM length the codec consumes. */
static enum enc detect(const unsigned char *b, size_t n, size_t *skip)
{
    *skip = 0;
    if (n >= 4 && ((b[0] == 0xFF && b[1] == 0xFE && !b[2] && !b[3]) ||
                   (!b[0] && !b[1] && b[2] == 0xFE && b[3] == 0xFF))) {
        *skip = 4;
        return b[0] == 0xFF ? ENC_32LE : ENC_32BE;
    }
    if (n >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))) {
        *skip = 2;
        return b[0] == 0xFF ? ENC_16LE : ENC_16BE;
    }
    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
        *skip = 3;
        return ENC_UTF8_SIG;
    }
    if (n >= 4) {
        if (!b[0])
            return b[1] ? ENC_16BE : ENC_32BE;
        if (!b[1])
            return (b[2] || b[3]) ? ENC_16LE : ENC_32LE;
    } else if (n == 2) {
        if (!b[0])
            return ENC_16BE;
        if (!b[1])
            return ENC_16LE;
    }
    return ENC_UTF8;
}

static uint32_t unit16(const unsigned char *p, int be)
{
    return be ? (uint32_t)(p[0] << 8 | p[1]) : (uint32_t)(p[1] << 8 | p[0]);
}

static uint32_t unit32(const unsigned char *p, int be)
{
    return be ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
              : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

/* Transcodes b[0, n) to UTF-8 in out; returns the length, or (size_t)-1 if undecodable. */
static size_t transcode(const unsigned char *b, size_t n, enum enc e, unsigned char *out)
{
    int be = e == ENC_16BE || e == ENC_32BE;
    size_t w = 0, i = 0;
    if (e == ENC_32LE || e == ENC_32BE) {
        if (n % 4)
            return (size_t)-1;
        for (; i < n; i += 4) {
            uint32_t cp = unit32(b + i, be);
            if (cp > 0x10FFFF)
                return (size_t)-1;
            w += pd__utf8_put(cp, out + w);
        }
        return w;
    }
    if (n % 2)
        return (size_t)-1;
    while (i < n) {
        uint32_t cp = unit16(b + i, be);
        i += 2;
        if (cp >= 0xD800 && cp <= 0xDBFF && i < n) {
            uint32_t lo = unit16(b + i, be);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            }
        }
        w += pd__utf8_put(cp, out + w);
    }
    return w;
}

int pd__json_text(const unsigned char *body, size_t len, const unsigned char **doc,
                  size_t *dlen, unsigned char **owned)
{
    size_t skip;
    enum enc e = detect(body, len, &skip);
    *owned = NULL;
    if (e == ENC_UTF8 || e == ENC_UTF8_SIG) {
        *doc = body + skip;
        *dlen = len - skip;
        return 0;
    }
    if (len > SIZE_MAX / 2)
        return PD_ETOOBIG;
    unsigned char *buf = malloc(2 * len + 1);
    if (buf == NULL)
        return PD_ENOMEM;
    size_t w = transcode(body + skip, len - skip, e, buf);
    if (w == (size_t)-1) {
        free(buf);
        return PD_EFORMAT;
    }
    *doc = buf;
    *dlen = w;
    *owned = buf;
    return 0;
}
