/* test_http_response.c - the response writer: exact bytes, Connection handling, extra
 * headers, the Date format, and bad statuses refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "http/internal.h"

/* Replaces the Date value with a fixed one so the bytes can be compared. */
static void blank_date(char *s)
{
    char *d = strstr(s, "Date: ");
    assert_non_null(d);
    memcpy(d + PD_LIT_LEN("Date: "), PD_LIT("Thu, 01 Jan 1970 00:00:00 GMT"));
}

/* s starts with prefix. */
static void assert_prefix(const char *s, const char *prefix)
{
    assert_memory_equal(s, prefix, strlen(prefix));
}

static void test_exact_bytes_keepalive(void **state)
{
    (void)state;
    pd_buf_t b = PD_BUF_INIT;
    assert_int_equal(pd__response_format(&b, 200, "application/json", NULL, PD_LIT("{\"a\":1}"), 1, 1, NULL), 0);
    blank_date(b.data);
    assert_string_equal(b.data, "HTTP/1.1 200 OK\r\n"
                                "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                                "Server: predictd\r\n"
                                "Content-Type: application/json\r\n"
                                "Content-Length: 7\r\n"
                                "\r\n{\"a\":1}");
    assert_int_equal(b.len, strlen(b.data));
    pd_buf_free(&b);
}

static void test_close_extra_and_http10(void **state)
{
    (void)state;
    pd_buf_t b = PD_BUF_INIT;
    assert_int_equal(pd__response_format(&b, 503, NULL, "Retry-After: 1\r\n", PD_LIT(""), 0, 1, NULL), 0);
    blank_date(b.data);
    assert_string_equal(b.data, "HTTP/1.1 503 Service Unavailable\r\n"
                                "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                                "Server: predictd\r\n"
                                "Content-Length: 0\r\n"
                                "Connection: close\r\n"
                                "Retry-After: 1\r\n\r\n");
    assert_int_equal(pd__response_format(&b, 200, NULL, NULL, PD_LIT("x"), 1, 0, NULL), 0);
    assert_non_null(strstr(b.data, "Connection: keep-alive\r\n"));
    pd_buf_free(&b);
}

static void test_request_id_line(void **state)
{
    (void)state;
    pd_buf_t b = PD_BUF_INIT;
    assert_int_equal(pd__response_format(&b, 404, NULL, "Allow: GET\r\n", PD_LIT(""), 0, 1,
                                         "abc-123"), 0);
    blank_date(b.data);
    assert_string_equal(b.data, "HTTP/1.1 404 Not Found\r\n"
                                "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                                "Server: predictd\r\n"
                                "Content-Length: 0\r\n"
                                "Connection: close\r\n"
                                "X-Request-Id: abc-123\r\n"
                                "Allow: GET\r\n\r\n");
    char longest[PD_HTTP_REQUEST_ID_MAX + 1];
    memset(longest, 'i', PD_HTTP_REQUEST_ID_MAX);
    longest[PD_HTTP_REQUEST_ID_MAX] = '\0';
    assert_int_equal(pd__response_format(&b, 200, NULL, NULL, PD_LIT(""), 1, 1, longest), 0);
    assert_non_null(strstr(b.data, longest));
    assert_int_equal(pd__response_format(&b, 200, NULL, NULL, PD_LIT(""), 1, 1, ""), 0);
    assert_null(strstr(b.data, "X-Request-Id"));
    pd_buf_free(&b);
}

static void test_large_body_and_reuse(void **state)
{
    (void)state;
    pd_buf_t b = PD_BUF_INIT;
    static char big[300000];
    memset(big, 'z', sizeof big);
    assert_int_equal(pd__response_format(&b, 200, "text/plain", NULL, big, sizeof big, 1, 1, NULL), 0);
    assert_non_null(strstr(b.data, "Content-Length: 300000\r\n"));
    assert_int_equal(b.data[b.len - 1], 'z');
    /* the buffer is reset, not appended to */
    assert_int_equal(pd__response_format(&b, 404, NULL, NULL, PD_LIT(""), 1, 1, NULL), 0);
    assert_prefix(b.data, "HTTP/1.1 404 Not Found\r\n");
    pd_buf_free(&b);
}

static void test_bad_status_and_unknown_reason(void **state)
{
    (void)state;
    pd_buf_t b = PD_BUF_INIT;
    assert_int_equal(pd__response_format(&b, 42, NULL, NULL, PD_LIT(""), 1, 1, NULL), PD_EINVAL);
    assert_int_equal(pd__response_format(&b, 1000, NULL, NULL, PD_LIT(""), 1, 1, NULL), PD_EINVAL);
    assert_int_equal(pd__response_format(&b, 299, NULL, NULL, PD_LIT(""), 1, 1, NULL), 0);
    assert_prefix(b.data, "HTTP/1.1 299 Unknown\r\n");
    assert_string_equal(pd__status_reason(431), "Request Header Fields Too Large");
    pd_buf_free(&b);
}

static void test_date_format(void **state)
{
    (void)state;
    char d[32];
    pd__http_date(d);
    assert_int_equal(strlen(d), PD__HTTP_DATE_LEN);
    assert_string_equal(d + 25, " GMT");
    assert_int_equal(d[3], ',');
    int day, year, h, m, s;
    char wd[4], mon[4];
    assert_int_equal(sscanf(d, "%3s, %2d %3s %4d %2d:%2d:%2d", wd, &day, mon, &year, &h, &m, &s), 7);
    assert_true(year >= 2024 && day >= 1 && day <= 31 && h < 24 && m < 60 && s < 61);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_bytes_keepalive),
        cmocka_unit_test(test_close_extra_and_http10),
        cmocka_unit_test(test_request_id_line),
        cmocka_unit_test(test_large_body_and_reuse),
        cmocka_unit_test(test_bad_status_and_unknown_reason),
        cmocka_unit_test(test_date_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
