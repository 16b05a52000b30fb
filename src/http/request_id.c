/* request_id.c - the X-Request-Id of each request.
 *
 * A request keeps the id its client sent in X-Request-Id when that is a usable token: 1 to
 * PD_HTTP_REQUEST_ID_MAX bytes of printable ASCII other than space, '"' and '\\' (so that
 * it goes unescaped into a header line, a JSON string and a text log line). Otherwise -
 * absent, empty, too long, or any other byte - it gets one made here:
 *
 *     <16 hex digits: a random prefix drawn once per process>-<a counter in hex>
 *
 * unique within the process (the counter is one relaxed atomic increment: no lock, safe
 * from any number of event-loop threads) and, through the random prefix, across restarts
 * and replicas with overwhelming probability. The id lives in the request (request_id[]),
 * assigned once (pd__req_assign_id) before its handler runs or, for the answers the server
 * gives itself, when it is answered. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "http/internal.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static uint64_t g_prefix;
static atomic_uint_fast64_t g_counter;

static void draw_prefix(void)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        /* no entropy yet (early boot): time and pid still differ between processes */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16);
    }
    g_prefix = r;
}

int pd__request_id_valid(const char *s, size_t len)
{
    if (len == 0 || len > PD_HTTP_REQUEST_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

/* Writes v in lowercase hex, `width` digits at least; returns the digits written. */
static size_t put_hex(char *p, uint64_t v, size_t width)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v || n < width);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

size_t pd__request_id_generate(char out[PD_HTTP_REQUEST_ID_MAX + 1])
{
    pthread_once(&g_once, draw_prefix);
    uint64_t n = atomic_fetch_add_explicit(&g_counter, 1, memory_order_relaxed) + 1;
    size_t len = put_hex(out, g_prefix, 16);
    out[len++] = '-';
    len += put_hex(out + len, n, 1);
    out[len] = '\0';
    return len;
}

void pd__req_assign_id(pd_http_request_t *req)
{
    if (req->request_id[0] != '\0')
        return;
    const char *h = pd_http_request_header(req, "x-request-id");
    size_t len = h ? strlen(h) : 0;
    if (h && pd__request_id_valid(h, len)) {
        memcpy(req->request_id, h, len + 1);
        return;
    }
    pd__request_id_generate(req->request_id);
}

const char *pd_http_request_id(const pd_http_request_t *req)
{
    return req->request_id;
}
