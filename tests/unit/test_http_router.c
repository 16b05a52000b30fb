/* test_http_router.c - exact-path routing, 404/405 decisions and the Allow list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "http/router.h"

static void h1(struct pd_http_request_s *r, void *c) { (void)r; (void)c; }
static void h2(struct pd_http_request_s *r, void *c) { (void)r; (void)c; }

static void test_match_found_and_ctx(void **state)
{
    (void)state;
    pd_router_t r;
    int ctx1 = 1, ctx2 = 2;
    pd_router_init(&r);
    assert_int_equal(pd_router_add(&r, "GET", "/health", h1, &ctx1), 0);
    assert_int_equal(pd_router_add(&r, "POST", "/predict", h2, &ctx2), 0);
    const pd_route_t *rt = NULL;
    assert_int_equal(pd_router_match(&r, "GET", "/health", &rt, NULL, 0), PD_ROUTE_FOUND);
    assert_ptr_equal(rt->fn, h1);
    assert_ptr_equal(rt->ctx, &ctx1);
    assert_int_equal(pd_router_match(&r, "POST", "/predict", &rt, NULL, 0), PD_ROUTE_FOUND);
    assert_ptr_equal(rt->ctx, &ctx2);
}

static void test_exact_paths_only(void **state)
{
    (void)state;
    pd_router_t r;
    pd_router_init(&r);
    assert_int_equal(pd_router_add(&r, "GET", "/health", h1, NULL), 0);
    const pd_route_t *rt = NULL;
    assert_int_equal(pd_router_match(&r, "GET", "/health/", &rt, NULL, 0), PD_ROUTE_NOT_FOUND);
    assert_int_equal(pd_router_match(&r, "GET", "/healt", &rt, NULL, 0), PD_ROUTE_NOT_FOUND);
    assert_int_equal(pd_router_match(&r, "GET", "/HEALTH", &rt, NULL, 0), PD_ROUTE_NOT_FOUND);
    assert_int_equal(pd_router_match(&r, "GET", "", &rt, NULL, 0), PD_ROUTE_NOT_FOUND);
}

static void test_405_lists_methods(void **state)
{
    (void)state;
    pd_router_t r;
    pd_router_init(&r);
    assert_int_equal(pd_router_add(&r, "GET", "/m", h1, NULL), 0);
    assert_int_equal(pd_router_add(&r, "POST", "/m", h2, NULL), 0);
    assert_int_equal(pd_router_add(&r, "PUT", "/other", h2, NULL), 0);
    const pd_route_t *rt = NULL;
    char allow[64];
    assert_int_equal(pd_router_match(&r, "DELETE", "/m", &rt, allow, sizeof allow),
                     PD_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "GET, POST");
    /* a too-small buffer truncates at a whole method, never overflows */
    char tiny[6];
    assert_int_equal(pd_router_match(&r, "DELETE", "/m", &rt, tiny, sizeof tiny),
                     PD_ROUTE_BAD_METHOD);
    assert_string_equal(tiny, "GET");
}

static void test_add_rejects_bad_input(void **state)
{
    (void)state;
    pd_router_t r;
    pd_router_init(&r);
    char longpath[PD_ROUTER_MAX_PATH + 8];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(pd_router_add(&r, "GET", "nopath", h1, NULL), PD_EINVAL);
    assert_int_equal(pd_router_add(&r, "", "/x", h1, NULL), PD_EINVAL);
    assert_int_equal(pd_router_add(&r, "GET", "/x", NULL, NULL), PD_EINVAL);
    assert_int_equal(pd_router_add(&r, "GET", longpath, h1, NULL), PD_EINVAL);
    assert_int_equal(pd_router_add(&r, "GET", "/x", h1, NULL), 0);
    assert_int_equal(pd_router_add(&r, "GET", "/x", h2, NULL), PD_EINVAL); /* duplicate */
    for (int i = 1; i < PD_ROUTER_MAX_ROUTES; i++) {
        char p[32];
        snprintf(p, sizeof p, "/r%d", i);
        assert_int_equal(pd_router_add(&r, "GET", p, h1, NULL), 0);
    }
    assert_int_equal(pd_router_add(&r, "GET", "/one-too-many", h1, NULL), PD_EFULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_found_and_ctx),
        cmocka_unit_test(test_exact_paths_only),
        cmocka_unit_test(test_405_lists_methods),
        cmocka_unit_test(test_add_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
