/* test_http_router.c - routing: exact paths, 404/405 decisions and the Allow list; routes
 * with {params}: segment matching, literal suffixes, precedence, 405 on parameter routes,
 * percent-decoding of values and every limit. */
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

static void h3(struct pd_http_request_s *r, void *c) { (void)r; (void)c; }

/* Matches and returns the value of param i as a string ("" on no match). */
static const char *value(const pd_route_params_t *p, size_t i)
{
    return i < p->n ? p->buf + p->value[i].off : "";
}

static void test_params_match_segments(void **state)
{
    (void)state;
    pd_router_t r;
    pd_router_init(&r);
    assert_int_equal(pd_router_add(&r, "GET", "/v2/models/{name}/versions/{version}", h1, NULL),
                     0);
    const pd_route_t *rt = NULL;
    pd_route_params_t p;
    assert_int_equal(pd_router_match_params(&r, "GET", "/v2/models/iris/versions/3", &rt, &p,
                                            NULL, 0),
                     PD_ROUTE_FOUND);
    assert_ptr_equal(rt->fn, h1);
    assert_int_equal(p.n, 2);
    assert_string_equal(value(&p, 0), "iris");
    assert_string_equal(value(&p, 1), "3");
    assert_int_equal(p.value[0].name_len, PD_LIT_LEN("name"));
    assert_memory_equal(p.value[0].name, "name", PD_LIT_LEN("name"));
    assert_int_equal(p.value[1].name_len, PD_LIT_LEN("version"));
    assert_memory_equal(p.value[1].name, "version", PD_LIT_LEN("version"));
    static const char *const misses[] = {
        "/v2/models/iris/versions",    "/v2/models/iris/versions/",  "/v2/models//versions/3",
        "/v2/models/iris/versions/3/", "/v2/models/a/b/versions/3", "/v2/models/iris/version/3",
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(misses); i++)
        assert_int_equal(pd_router_match_params(&r, "GET", misses[i], &rt, &p, NULL, 0),
                         PD_ROUTE_NOT_FOUND);
}

static void test_params_suffix(void **state)
{
    (void)state;
    pd_router_t r;
    pd_router_init(&r);
    assert_int_equal(pd_router_add(&r, "POST", "/v1/models/{name}:predict", h1, NULL), 0);
    assert_int_equal(pd_router_add(&r, "GET", "/v1/models/{name}", h2, NULL), 0);
    const pd_route_t *rt = NULL;
    pd_route_params_t p;
    assert_int_equal(pd_router_match_params(&r, "POST", "/v1/models/iris:predict", &rt, &p,
                                            NULL, 0),
                     PD_ROUTE_FOUND);
    assert_ptr_equal(rt->fn, h1);
    assert_string_equal(value(&p, 0), "iris");
    /* the suffix is the segment's end: the value may hold the same text */
    assert_int_equal(pd_router_match_params(&r, "POST", "/v1/models/a:predict:predict", &rt,
                                            &p, NULL, 0),
                     PD_ROUTE_FOUND);
    assert_string_equal(value(&p, 0), "a:predict");
    /* an empty value does not match; nor does a segment without the suffix (POST) */
    char allow[64];
    assert_int_equal(pd_router_match_params(&r, "POST", "/v1/models/:predict", &rt, &p, allow,
                                            sizeof allow),
                     PD_ROUTE_BAD_METHOD); /* {name} (GET) takes ":predict" as a name */
    assert_string_equal(allow, "GET");
    assert_int_equal(pd_router_match_params(&r, "POST", "/v1/models/iris", &rt, &p, allow,
                                            sizeof allow),
                     PD_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "GET");
    /* GET of the predict path: {name} matches the whole segment (as in Starlette) */
    assert_int_equal(pd_router_match_params(&r, "GET", "/v1/models/iris:predict", &rt, &p,
                                            NULL, 0),
                     PD_ROUTE_FOUND);
    assert_ptr_equal(rt->fn, h2);
    assert_string_equal(value(&p, 0), "iris:predict");
}

static void test_params_precedence(void **state)
{
    (void)state;
    pd_router_t r;
    pd_router_init(&r);
    assert_int_equal(pd_router_add(&r, "GET", "/models/{name}", h1, NULL), 0);
    assert_int_equal(pd_router_add(&r, "GET", "/models/list", h2, NULL), 0);
    assert_int_equal(pd_router_add(&r, "GET", "/models/{other}", h3, NULL), 0);
    assert_int_equal(pd_router_add(&r, "POST", "/models/{name}", h3, NULL), 0);
    const pd_route_t *rt = NULL;
    pd_route_params_t p;
    /* a literal route wins, wherever it was added */
    assert_int_equal(pd_router_match_params(&r, "GET", "/models/list", &rt, &p, NULL, 0),
                     PD_ROUTE_FOUND);
    assert_ptr_equal(rt->fn, h2);
    assert_int_equal(p.n, 0);
    /* among parameter routes, the first added */
    assert_int_equal(pd_router_match_params(&r, "GET", "/models/iris", &rt, &p, NULL, 0),
                     PD_ROUTE_FOUND);
    assert_ptr_equal(rt->fn, h1);
    /* a full match of a parameter route beats a literal route of another method */
    assert_int_equal(pd_router_match_params(&r, "POST", "/models/list", &rt, &p, NULL, 0),
                     PD_ROUTE_FOUND);
    assert_ptr_equal(rt->fn, h3);
    assert_string_equal(value(&p, 0), "list");
    /* duplicates are per (method, pattern): the same pattern twice is refused */
    assert_int_equal(pd_router_add(&r, "GET", "/models/{name}", h2, NULL), PD_EINVAL);
}

static void test_params_405(void **state)
{
    (void)state;
    pd_router_t r;
    pd_router_init(&r);
    assert_int_equal(pd_router_add(&r, "POST", "/v1/models/{name}:predict", h1, NULL), 0);
    assert_int_equal(pd_router_add(&r, "PUT", "/v1/models/{name}:predict", h1, NULL), 0);
    assert_int_equal(pd_router_add(&r, "GET", "/v1/models/x:predict", h2, NULL), 0);
    assert_int_equal(pd_router_add(&r, "POST", "/v1/models/{m}:predict", h2, NULL), 0);
    const pd_route_t *rt = NULL;
    char allow[64];
    assert_int_equal(pd_router_match(&r, "DELETE", "/v1/models/iris:predict", &rt, allow,
                                     sizeof allow),
                     PD_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "POST, PUT"); /* each method once */
    assert_int_equal(pd_router_match(&r, "DELETE", "/v1/models/x:predict", &rt, allow,
                                     sizeof allow),
                     PD_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "POST, PUT, GET"); /* in the order the routes were added */
    assert_int_equal(pd_router_match(&r, "DELETE", "/v1/models/iris", &rt, allow, sizeof allow),
                     PD_ROUTE_NOT_FOUND);
}

static void test_params_decoding(void **state)
{
    (void)state;
    pd_router_t r;
    pd_router_init(&r);
    assert_int_equal(pd_router_add(&r, "GET", "/m/{name}/x", h1, NULL), 0);
    const pd_route_t *rt = NULL;
    pd_route_params_t p;
    static const struct {
        const char *path, *want; /* want NULL: no match (404) */
    } cases[] = {
        {"/m/my%20model/x", "my model"}, {"/m/%41%62c/x", "Abc"}, {"/m/a+b/x", "a+b"},
        {"/m/%e2%82%ac/x", "\xe2\x82\xac"}, {"/m/%25/x", "%"},
        {"/m/a%2Fb/x", NULL},  /* a decoded '/' */
        {"/m/a%2fb/x", NULL},  {"/m/a%00b/x", NULL}, /* a decoded NUL */
        {"/m/a%zzb/x", NULL},  {"/m/a%4/x", NULL},   {"/m/a%/x", NULL},
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(cases); i++) {
        pd_route_result_t res = pd_router_match_params(&r, "GET", cases[i].path, &rt, &p, NULL, 0);
        if (cases[i].want == NULL) {
            assert_int_equal(res, PD_ROUTE_NOT_FOUND);
            continue;
        }
        assert_int_equal(res, PD_ROUTE_FOUND);
        assert_string_equal(value(&p, 0), cases[i].want);
        assert_int_equal(p.value[0].len, strlen(cases[i].want));
    }
}

static void test_params_limits(void **state)
{
    (void)state;
    pd_router_t r;
    pd_router_init(&r);
    /* the shape of a pattern */
    static const char *const bad[] = {
        "/a/{}",        "/a/{1x}",       "/a/x{name}",    "/a/{name",     "/a/name}",
        "/a/{n}{m}",    "/a/{n}:x}",     "/a/{n}/{n}",    "/a/{n-m}",
        "/{a}/{b}/{c}/{d}/{e}", /* over PD_ROUTER_MAX_PARAMS */
        "/a/{abcdefghijabcdefghijabcdefghijabc}", /* a name over PD_ROUTER_MAX_PARAM_NAME */
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(bad); i++)
        if (pd_router_add(&r, "GET", bad[i], h1, NULL) != PD_EINVAL)
            fail_msg("accepted %s", bad[i]);
    assert_int_equal(r.n, 0);
    assert_int_equal(pd_router_add(&r, "GET", "/{a}/{b}/{c}/{d_9}", h1, NULL), 0);
    /* a value is bounded: PD_ROUTER_MAX_PARAM_LEN decoded bytes match, one more does not */
    char path[2 * PD_ROUTER_MAX_PARAM_LEN + 16];
    memset(path, 0, sizeof path);
    strcpy(path, "/x/y/z/");
    memset(path + strlen(path), 'v', PD_ROUTER_MAX_PARAM_LEN);
    const pd_route_t *rt = NULL;
    pd_route_params_t p;
    assert_int_equal(pd_router_match_params(&r, "GET", path, &rt, &p, NULL, 0), PD_ROUTE_FOUND);
    assert_int_equal(p.n, 4);
    assert_int_equal(strlen(value(&p, 3)), PD_ROUTER_MAX_PARAM_LEN);
    strcat(path, "v");
    assert_int_equal(pd_router_match_params(&r, "GET", path, &rt, &p, NULL, 0),
                     PD_ROUTE_NOT_FOUND);
    /* literal routes still match without any parameter work */
    assert_int_equal(pd_router_add(&r, "GET", "/health", h2, NULL), 0);
    assert_int_equal(pd_router_match_params(&r, "GET", "/health", &rt, &p, NULL, 0),
                     PD_ROUTE_FOUND);
    assert_int_equal(p.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_found_and_ctx),
        cmocka_unit_test(test_exact_paths_only),
        cmocka_unit_test(test_405_lists_methods),
        cmocka_unit_test(test_add_rejects_bad_input),
        cmocka_unit_test(test_params_match_segments),
        cmocka_unit_test(test_params_suffix),
        cmocka_unit_test(test_params_precedence),
        cmocka_unit_test(test_params_405),
        cmocka_unit_test(test_params_decoding),
        cmocka_unit_test(test_params_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
