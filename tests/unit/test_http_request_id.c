/* test_http_request_id.c - X-Request-Id: which client ids are kept (length bound, byte
 * set), the generated ids (well-formed, one prefix per process, unique across threads),
 * and the assignment from a request's header (kept, replaced, assigned once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "http/internal.h"

static void test_valid_ids(void **state)
{
    (void)state;
    assert_true(pd__request_id_valid(PD_LIT("abc-123")));
    assert_true(pd__request_id_valid(PD_LIT("a")));
    assert_true(pd__request_id_valid(PD_LIT("!#$%&'()*+,-./:;<=>?@[]^_`{|}~")));
    char s[PD_HTTP_REQUEST_ID_MAX + 2];
    memset(s, 'x', sizeof s);
    assert_true(pd__request_id_valid(s, PD_HTTP_REQUEST_ID_MAX));
    assert_false(pd__request_id_valid(s, PD_HTTP_REQUEST_ID_MAX + 1));
    assert_false(pd__request_id_valid(PD_LIT("")));
    assert_false(pd__request_id_valid(PD_LIT("a b")));
    assert_false(pd__request_id_valid(PD_LIT("a\"b")));
    assert_false(pd__request_id_valid(PD_LIT("a\\b")));
    assert_false(pd__request_id_valid(PD_LIT("a\tb")));
    assert_false(pd__request_id_valid(PD_LIT("a\x7f")));
    assert_false(pd__request_id_valid(PD_LIT("caf\xc3\xa9")));
    assert_false(pd__request_id_valid("a\0b", 3));
}

/* 16 hex digits, '-', hex digits. */
static void assert_generated_form(const char *id)
{
    size_t len = strlen(id);
    assert_true(len >= 18 && len <= 33);
    assert_int_equal(id[16], '-');
    for (size_t i = 0; i < len; i++)
        if (i != 16)
            assert_non_null(strchr("0123456789abcdef", id[i]));
    assert_true(pd__request_id_valid(id, len));
}

#define PER_THREAD 5000
#define THREADS 4

static void *gen_many(void *arg)
{
    char (*out)[PD_HTTP_REQUEST_ID_MAX + 1] = arg;
    for (int i = 0; i < PER_THREAD; i++)
        pd__request_id_generate(out[i]);
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_generated_ids_are_unique_across_threads(void **state)
{
    (void)state;
    char (*ids)[PD_HTTP_REQUEST_ID_MAX + 1] = calloc(THREADS * PER_THREAD, sizeof *ids);
    assert_non_null(ids);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, gen_many, ids + i * PER_THREAD), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS * PER_THREAD; i++) {
        assert_generated_form(ids[i]);
        assert_memory_equal(ids[i], ids[0], 16); /* one prefix per process */
    }
    qsort(ids, THREADS * PER_THREAD, sizeof *ids, cmp_id);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) != 0);
    free(ids);
}

/* A request with one header name: value, as the parser stores it. */
static pd_http_request_t *req_with(const char *name, const char *value)
{
    pd_http_request_t *r = pd__req_new();
    assert_non_null(r);
    if (name) {
        r->hdr_off[0][0] = (uint32_t)r->raw.len;
        assert_int_equal(pd_buf_append(&r->raw, name, strlen(name) + 1), 0);
        r->hdr_off[0][1] = (uint32_t)r->raw.len;
        assert_int_equal(pd_buf_append(&r->raw, value, strlen(value) + 1), 0);
        r->nheaders = 1;
    }
    return r;
}

static void test_assign_keeps_or_replaces(void **state)
{
    (void)state;
    pd_http_request_t *r = req_with("X-Request-ID", "client-id.42");
    pd__req_assign_id(r);
    assert_string_equal(pd_http_request_id(r), "client-id.42");
    pd__req_free(r);

    char longest[PD_HTTP_REQUEST_ID_MAX + 2];
    memset(longest, 'k', sizeof longest - 1);
    longest[PD_HTTP_REQUEST_ID_MAX] = '\0';
    r = req_with("x-request-id", longest);
    pd__req_assign_id(r);
    assert_string_equal(pd_http_request_id(r), longest);
    pd__req_free(r);

    longest[PD_HTTP_REQUEST_ID_MAX] = 'k'; /* one byte too long */
    longest[PD_HTTP_REQUEST_ID_MAX + 1] = '\0';
    const char *bad[] = {longest, "", "has space", "quote\"", "back\\slash", "\x01"};
    for (size_t i = 0; i < PD_ARRAY_SIZE(bad); i++) {
        r = req_with("x-request-id", bad[i]);
        pd__req_assign_id(r);
        assert_generated_form(pd_http_request_id(r));
        pd__req_free(r);
    }

    r = req_with(NULL, NULL); /* none sent: generated, and assigned only once */
    pd__req_assign_id(r);
    char first[PD_HTTP_REQUEST_ID_MAX + 1];
    strcpy(first, pd_http_request_id(r));
    assert_generated_form(first);
    pd__req_assign_id(r);
    assert_string_equal(pd_http_request_id(r), first);
    pd__req_reset(r); /* a recycled request gets a new one */
    assert_string_equal(pd_http_request_id(r), "");
    pd__req_assign_id(r);
    assert_string_not_equal(pd_http_request_id(r), first);
    pd__req_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_ids),
        cmocka_unit_test(test_generated_ids_are_unique_across_threads),
        cmocka_unit_test(test_assign_keeps_or_replaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
