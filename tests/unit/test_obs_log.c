/* test_obs_log.c - log lines as text and JSON (pd_log_format_line): exact lines for the
 * escapes (quotes, backslashes, control characters, bytes that are not UTF-8, valid
 * multi-byte characters), access lines in both formats, long messages cut at a character
 * boundary, and random bytes that must always give one valid, flat JSON object (checked by
 * a small strict parser here: strings with legal escapes and well-formed UTF-8, integers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "obs/log.h"

#define T0 1764547200123456789ull /* 2025-12-01T00:00:00.123Z */

static char g_line[16384];

static const char *json(const char *msg)
{
    size_t n = pd_log_format_line(g_line, sizeof g_line, PD_LOG_JSON, PD_LOG_WARN, T0, msg, NULL);
    g_line[n] = '\0';
    return g_line;
}

static const char *text(const char *msg)
{
    size_t n = pd_log_format_line(g_line, sizeof g_line, PD_LOG_TEXT, PD_LOG_INFO, T0, msg, NULL);
    g_line[n] = '\0';
    return g_line;
}

/* ---- a strict checker of one flat JSON object line: {"k":"v"|int,...}\n ---- */

static size_t utf8_ok(const unsigned char *u)
{
    unsigned c = u[0];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0)
        return 0;
    unsigned cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (u[i] & 0x3F);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static const char *parse_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p != '"') {
        const unsigned char c = (unsigned char)*p;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || p[i] == '\0')
                        return NULL;
                p += 5;
            } else if (*p && strchr("\"\\/bfnrt", *p)) {
                p++;
            } else {
                return NULL;
            }
            continue;
        }
        size_t n = utf8_ok((const unsigned char *)p);
        if (n == 0)
            return NULL;
        p += n;
    }
    return p + 1;
}

static int valid_json_line(const char *s)
{
    const char *p = s;
    if (*p++ != '{')
        return 0;
    for (;;) {
        if ((p = parse_string(p)) == NULL || *p++ != ':')
            return 0;
        if (*p == '"') {
            if ((p = parse_string(p)) == NULL)
                return 0;
        } else {
            const char *q = p;
            while (*p >= '0' && *p <= '9')
                p++;
            if (p == q)
                return 0;
        }
        if (*p == '}')
            break;
        if (*p++ != ',')
            return 0;
    }
    return strcmp(p, "}\n") == 0;
}

/* ---- tests ---- */

static void test_plain_lines(void **state)
{
    (void)state;
    assert_string_equal(json("model iris loaded"),
                        "{\"time\":\"2025-12-01T00:00:00.123Z\",\"level\":\"warning\","
                        "\"message\":\"model iris loaded\"}\n");
    assert_string_equal(text("model iris loaded"),
                        "2025-12-01T00:00:00.123Z INFO  model iris loaded\n");
}

static void test_json_escapes(void **state)
{
    (void)state;
    assert_string_equal(json("q\" b\\ n\n r\r t\t \x01 \x1f \x7f /"),
                        "{\"time\":\"2025-12-01T00:00:00.123Z\",\"level\":\"warning\",\"message\":"
                        "\"q\\\" b\\\\ n\\n r\\r t\\t \\u0001 \\u001f \\u007f /\"}\n");
    /* valid UTF-8 passes through; bytes that are not become U+FFFD, one per byte */
    assert_string_equal(json("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                        "{\"time\":\"2025-12-01T00:00:00.123Z\",\"level\":\"warning\",\"message\":"
                        "\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}\n");
    assert_string_equal(json("a\xff" "b"),
                        "{\"time\":\"2025-12-01T00:00:00.123Z\",\"level\":\"warning\",\"message\":"
                        "\"a\xef\xbf\xbd" "b\"}\n");
    const char *bad[] = {"\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\x80"};
    for (size_t i = 0; i < PD_ARRAY_SIZE(bad); i++) {
        const char *l = json(bad[i]);
        assert_true(valid_json_line(l));
        assert_non_null(strstr(l, "\xef\xbf\xbd"));
    }
}

static void test_text_stays_one_line(void **state)
{
    (void)state;
    assert_string_equal(text("a\nINFO  forged\r\t\x01z"),
                        "2025-12-01T00:00:00.123Z INFO  a\\nINFO  forged\\r\\t\\x01z\n");
}

static void test_long_message_is_cut_at_a_character(void **state)
{
    (void)state;
    static char msg[PD_LOG_MESSAGE_MAX * 2 + 1];
    for (size_t i = 0; i < sizeof msg - 1; i += 2) { /* é é é ... and quotes */
        msg[i] = (char)0xc3;
        msg[i + 1] = (char)0xa9;
    }
    const char *l = json(msg);
    assert_true(valid_json_line(l));
    assert_true(strlen(l) < 12288);
    memset(msg, '"', sizeof msg - 1); /* every byte escaped to two */
    assert_true(valid_json_line(json(msg)));
    memset(msg, 1, sizeof msg - 1); /* every byte escaped to six */
    assert_true(valid_json_line(json(msg)));
}

static void test_access_lines(void **state)
{
    (void)state;
    pd_log_access_t a = {"GET", "/v2/health/ready", 200, 133, 41, "10.1.2.3", 5555, "r-1"};
    size_t n = pd_log_format_line(g_line, sizeof g_line, PD_LOG_JSON, PD_LOG_INFO, T0, NULL, &a);
    g_line[n] = '\0';
    assert_string_equal(g_line,
                        "{\"time\":\"2025-12-01T00:00:00.123Z\",\"level\":\"info\","
                        "\"message\":\"GET /v2/health/ready 200\",\"kind\":\"access\","
                        "\"method\":\"GET\",\"path\":\"/v2/health/ready\",\"status\":200,"
                        "\"bytes\":133,\"duration_us\":41,\"client_addr\":\"10.1.2.3\","
                        "\"client_port\":5555,\"request_id\":\"r-1\"}\n");
    n = pd_log_format_line(g_line, sizeof g_line, PD_LOG_TEXT, PD_LOG_INFO, T0, NULL, &a);
    g_line[n] = '\0';
    assert_string_equal(g_line,
                        "2025-12-01T00:00:00.123Z INFO  GET /v2/health/ready 200 133 41 "
                        "10.1.2.3:5555 r-1\n");
    pd_log_access_t v6 = {"POST", "/p\"\xff", 400, 1, 2, "::1", 7, NULL};
    n = pd_log_format_line(g_line, sizeof g_line, PD_LOG_TEXT, PD_LOG_INFO, T0, NULL, &v6);
    g_line[n] = '\0';
    assert_string_equal(g_line, "2025-12-01T00:00:00.123Z INFO  POST /p\"\xff 400 1 2 [::1]:7 -\n");
    n = pd_log_format_line(g_line, sizeof g_line, PD_LOG_JSON, PD_LOG_INFO, T0, NULL, &v6);
    g_line[n] = '\0';
    assert_true(valid_json_line(g_line));
    assert_non_null(strstr(g_line, "\"path\":\"/p\\\"\xef\xbf\xbd\""));
    /* unknown method, path and client (the server's own 400 before a request line) */
    pd_log_access_t none = {NULL, NULL, 400, 0, 0, NULL, 0, NULL};
    n = pd_log_format_line(g_line, sizeof g_line, PD_LOG_JSON, PD_LOG_INFO, T0, NULL, &none);
    g_line[n] = '\0';
    assert_true(valid_json_line(g_line));
    assert_null(strstr(g_line, "client_addr"));
    assert_null(strstr(g_line, "request_id"));
    n = pd_log_format_line(g_line, sizeof g_line, PD_LOG_TEXT, PD_LOG_INFO, T0, NULL, &none);
    g_line[n] = '\0';
    assert_string_equal(g_line, "2025-12-01T00:00:00.123Z INFO  - - 400 0 0 - -\n");
}

static void test_random_bytes_always_give_valid_json(void **state)
{
    (void)state;
    static char msg[6000], path[5000];
    unsigned seed = 12345;
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)(rand_r(&seed) % (round < 1000 ? 40 : (int)sizeof msg - 1));
        for (size_t i = 0; i < len; i++) {
            int r = rand_r(&seed);
            msg[i] = (char)(r % 7 == 0 ? 0xc3 : 1 + (r >> 8) % 255); /* non-zero bytes */
        }
        msg[len] = '\0';
        assert_true(valid_json_line(json(msg)));
        size_t plen = len < sizeof path ? len : sizeof path - 1;
        memcpy(path, msg, plen);
        path[plen] = '\0';
        pd_log_access_t a = {msg, path, 200, 1, 1, msg, 1, msg};
        size_t n = pd_log_format_line(g_line, sizeof g_line, PD_LOG_JSON, PD_LOG_INFO, T0, NULL,
                                      &a);
        g_line[n] = '\0';
        assert_true(valid_json_line(g_line));
        n = pd_log_format_line(g_line, sizeof g_line, PD_LOG_TEXT, PD_LOG_INFO, T0, msg, NULL);
        assert_int_equal(memchr(g_line, '\n', n), g_line + n - 1); /* one line */
    }
}

static void test_parse(void **state)
{
    (void)state;
    pd_log_format_t f;
    assert_int_equal(pd_log_parse_format("json", &f), 0);
    assert_int_equal(f, PD_LOG_JSON);
    assert_int_equal(pd_log_parse_format("TEXT", &f), 0);
    assert_int_equal(f, PD_LOG_TEXT);
    assert_int_equal(pd_log_parse_format("yaml", &f), PD_EINVAL);
    pd_log_level_t l;
    assert_int_equal(pd_log_parse_level("warning", &l), 0);
    assert_int_equal(l, PD_LOG_WARN);
}

static struct {
    char msg[256];
    int n;
} CAP;

static void sink(pd_log_level_t level, const char *msg, void *ud)
{
    (void)ud;
    (void)level;
    snprintf(CAP.msg, sizeof CAP.msg, "%s", msg);
    CAP.n++;
}

static void test_sink_gets_the_text_of_an_access_line(void **state)
{
    (void)state;
    pd_log_set_sink(sink, NULL);
    pd_log_set_format(PD_LOG_JSON);
    pd_log_access_t a = {"GET", "/x", 404, 10, 3, "127.0.0.1", 9, NULL};
    pd_log_access(&a);
    assert_string_equal(CAP.msg, "GET /x 404 10 3 127.0.0.1:9 -");
    pd_log_set_level(PD_LOG_WARN);
    pd_log_access(&a); /* below the level: nothing */
    assert_int_equal(CAP.n, 1);
    pd_log_set_level(PD_LOG_INFO);
    pd_log_set_format(PD_LOG_TEXT);
    pd_log_set_sink(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lines),
        cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_text_stays_one_line),
        cmocka_unit_test(test_long_message_is_cut_at_a_character),
        cmocka_unit_test(test_access_lines),
        cmocka_unit_test(test_random_bytes_always_give_valid_json),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_sink_gets_the_text_of_an_access_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
