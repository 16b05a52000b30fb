/* test_api_fsource_fetch.c - a lookup's life on the loop (api/fsource_fetch.c, fsource.c)
 * against a fake store (an operations table the test drives by hand): cells filled where
 * the request left NaN and only there; the answer of every reply kind (absent entity or
 * field, not a number, wrong type, store error, lost); a source down or busy refused at
 * once; the deadline (504) with the replies that come after it; a cancel and a free while
 * replies are in flight (ASan sees any use after free); closing the sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/fsource_impl.h"
#include "api/registry.h"
#include "common.h"

/* ---- the fake store: one per test, driven by the test ---- */

#define FAKE_MAX 8

struct pd_fstore_s {
    pd_fstore_state_t state;
    int send_rc;              /* what send returns */
    pd_fetch_t *sent[FAKE_MAX]; /* fetches sent, in order, whose replies are not all in
                                 (a test that delivers them all sets n_sent = 0) */
    size_t n_sent;
    int closed;
};

static struct pd_fstore_s g_store;

static int fake_check(const char *url, char *display, size_t displen, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    snprintf(display, displen, "fake:%s", url);
    return 0;
}

static int fake_open(pd_fstore_t **out, uv_loop_t *loop, const char *url, const char *display,
                     const pd_fsource_options_t *o)
{
    (void)loop, (void)url, (void)display, (void)o;
    *out = &g_store;
    return 0;
}

static pd_fstore_state_t fake_state(const pd_fstore_t *s)
{
    return s->state;
}

static int fake_send(pd_fstore_t *s, pd_fetch_t *f, const pd_fsource_spec_t *spec)
{
    (void)spec;
    if (s->send_rc == 0)
        s->sent[s->n_sent++] = f;
    return s->send_rc;
}

static void fake_stats(const pd_fstore_t *s, pd_fstore_stats_t *st)
{
    st->up = s->state == PD_FSTORE_UP;
    st->connects = 1;
    st->pending = 0;
}

/* Closing ends every key still out as lost, as a real store must. */
static void fake_close(pd_fstore_t *s)
{
    for (size_t i = 0; i < s->n_sent; i++) {
        pd_fetch_t *f = s->sent[i];
        size_t left = f ? f->n_keys - f->replied : 0;
        s->sent[i] = NULL;
        for (size_t k = 0; k < left; k++) /* the last call may free f */
            pd__fetch_reply_end(f, PD__FREPLY_LOST, "closed");
    }
    s->closed = 1;
}

static const pd_fsource_ops_t k_fake = {"fake", fake_check, fake_open, fake_state, fake_send,
                                        NULL, fake_stats, fake_close};

/* ---- fixtures ---- */

static const char *const k_feats[] = {"a", "b", "c"};

typedef struct {
    uv_loop_t loop;
    pd_registry_t reg;
    pd_fsources_t *fs;
    pd_fsource_spec_t *spec;
    int done_calls, done_status;
} fix_t;

static int setup(void **st)
{
    fix_t *x = calloc(1, sizeof *x);
    char err[256];
    const char *t = "{\"feature_source\": {\"redis\": \"redis://h\", \"key\": \"u:{id}\"}}";
    memset(&g_store, 0, sizeof g_store);
    g_store.state = PD_FSTORE_UP;
    assert_int_equal(uv_loop_init(&x->loop), 0);
    assert_int_equal(pd_registry_init(&x->reg, 4, NULL, 0, 100), 0);
    pd_fsource_options_t o = {20, 1, 5};
    assert_int_equal(pd_fsources_create(&x->fs, &x->loop, &x->reg, NULL, &o), 0);
    assert_int_equal(pd_fsource_spec_parse(t, strlen(t), k_feats, 3, 0, &x->spec, err,
                                           sizeof err), 0);
    x->spec->ops = &k_fake; /* the same spec, on the fake store */
    *st = x;
    return 0;
}

static int teardown(void **st)
{
    fix_t *x = *st;
    pd_fsources_destroy(x->fs);
    uv_run(&x->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&x->loop), 0);
    pd_fsource_spec_free(x->spec);
    pd_registry_free(&x->reg);
    free(x);
    return 0;
}

static void on_done(void *arg, int status)
{
    fix_t *x = arg;
    x->done_calls++;
    x->done_status = status;
}

/* rows: n rows of 3 columns; row i gets column 0 = 100 + i, the others NaN. A list body. */
static void rows_for(pd_rows_t *r, size_t n, char *body, size_t cap)
{
    pd_rows_init(r, 3, 0);
    size_t at = (size_t)snprintf(body, cap, "[");
    for (size_t i = 0; i < n; i++) {
        double *row;
        assert_int_equal(pd_rows_add(r, &row), 0);
        row[0] = 100.0 + (double)i;
        at += (size_t)snprintf(body + at, cap - at, "%s{\"id\": %zu, \"a\": 1}", i ? "," : "", i);
    }
    snprintf(body + at, cap - at, "]");
    r->single = 0;
}

static pd_fetch_t *start(fix_t *x, pd_rows_t *r, size_t n, int want)
{
    char body[1024];
    pd_fetch_t *f;
    rows_for(r, n, body, sizeof body);
    assert_int_equal(pd_fetch_prepare(x->spec, body, strlen(body), r, &f), 0);
    assert_non_null(f);
    assert_int_equal(pd_fetch_start(x->fs, x->spec, f, r, on_done, x), want);
    return f;
}

/* One reply: cells[j] for each column (NULL: absent). */
static void reply(pd_fetch_t *f, const char *c0, const char *c1, const char *c2)
{
    const char *c[3] = {c0, c1, c2};
    for (size_t j = 0; j < 3 && pd__fetch_wanted(f); j++)
        pd__fetch_cell(f, j, c[j], c[j] ? strlen(c[j]) : 0);
    pd__fetch_reply_end(f, PD__FREPLY_OK, NULL);
}

/* ---- tests ---- */

static void test_cells_filled_where_missing(void **st)
{
    fix_t *x = *st;
    pd_rows_t r;
    pd_fetch_t *f = start(x, &r, 2, 0);
    assert_int_equal(g_store.n_sent, 1);
    size_t len;
    assert_string_equal(pd__fetch_key(f, 1, &len), "u:1");
    reply(f, "7", "1.5", "-2e3");
    assert_int_equal(x->done_calls, 0);
    reply(f, "8", "0", "3");
    assert_int_equal(x->done_calls, 1);
    assert_int_equal(x->done_status, 0);
    assert_true(r.x[0] == 100.0 && r.x[1] == 1.5 && r.x[2] == -2000.0); /* request wins */
    assert_true(r.x[3] == 101.0 && r.x[4] == 0.0 && r.x[5] == 3.0);
    g_store.n_sent = 0;
    pd_fetch_free(f);
    pd_rows_free(&r);
}

static void check_error(fix_t *x, const char *a, const char *b, const char *c,
                        pd__freply_t kind, int want, const char *msg)
{
    pd_rows_t r;
    x->done_calls = 0;
    g_store.n_sent = 0;
    pd_fetch_t *f = start(x, &r, 1, 0);
    if (kind == PD__FREPLY_OK)
        reply(f, a, b, c);
    else
        pd__fetch_reply_end(f, kind, "boom");
    assert_int_equal(x->done_calls, 1);
    assert_int_equal(x->done_status, want);
    if (strstr(pd_fetch_message(f), msg) == NULL)
        fail_msg("'%s' lacks '%s'", pd_fetch_message(f), msg);
    assert_true((pd_fetch_extra_headers(f) != NULL) == (want == 503));
    g_store.n_sent = 0;
    pd_fetch_free(f);
    pd_rows_free(&r);
}

static void test_reply_errors(void **st)
{
    fix_t *x = *st;
    check_error(x, NULL, NULL, NULL, PD__FREPLY_OK, 422, "no entity 'u:0'");
    check_error(x, "1", "1", NULL, PD__FREPLY_OK, 422, "entity 'u:0' has no field 'c'");
    check_error(x, "1", "1", "abc", PD__FREPLY_OK, 422, "field 'c' holds 'abc', not a number");
    check_error(x, "1", "1", "nan", PD__FREPLY_OK, 422, "not a number");
    check_error(x, "1", "1", "inf", PD__FREPLY_OK, 422, "not a number");
    check_error(x, "1", "1", "1e999", PD__FREPLY_OK, 422, "not a number");
    check_error(x, "1", "1", "0x10", PD__FREPLY_OK, 422, "not a number");
    check_error(x, "1", "1", " 1", PD__FREPLY_OK, 422, "not a number");
    check_error(x, "1", "1", "", PD__FREPLY_OK, 422, "not a number");
    check_error(x, "1", "1", "1-2", PD__FREPLY_OK, 422, "not a number");
    check_error(x, "1", "1", "1234567890123456789012345678901234567890123456789012345678901234567890",
                PD__FREPLY_OK, 422, "'12345678901234567890123456789012'..., not a number");
    check_error(x, NULL, NULL, NULL, PD__FREPLY_WRONGTYPE, 422, "key 'u:0' holds no entity (boom)");
    check_error(x, NULL, NULL, NULL, PD__FREPLY_ERROR, 503, "answered an error: boom");
    check_error(x, NULL, NULL, NULL, PD__FREPLY_LOST, 503, "connection was lost (boom)");
    x->spec->missing_ok = 1; /* absent cells stay NaN */
    check_error(x, NULL, NULL, NULL, PD__FREPLY_OK, 0, "feature lookup failed");
    x->spec->missing_ok = 0;
}

static void test_refused_at_once(void **st)
{
    fix_t *x = *st;
    pd_rows_t r;
    g_store.state = PD_FSTORE_DOWN;
    pd_fetch_t *f = start(x, &r, 1, 503);
    assert_non_null(strstr(pd_fetch_message(f), "is unavailable (down)"));
    assert_string_equal(pd_fetch_extra_headers(f), "Retry-After: 1\r\n");
    pd_fetch_free(f);
    pd_rows_free(&r);
    g_store.state = PD_FSTORE_CONNECTING;
    f = start(x, &r, 1, 503);
    assert_non_null(strstr(pd_fetch_message(f), "(connecting)"));
    pd_fetch_free(f);
    pd_rows_free(&r);
    g_store.state = PD_FSTORE_UP;
    g_store.send_rc = PD_EFULL;
    f = start(x, &r, 1, 503);
    assert_non_null(strstr(pd_fetch_message(f), "busy"));
    pd_fetch_free(f);
    pd_rows_free(&r);
    assert_int_equal(x->done_calls, 0);
    assert_string_equal(pd_fsources_state(x->fs, x->spec), "up");
    assert_int_equal(pd_fsources_any_down(x->fs), 0);
    pd_buf_t b;
    pd_buf_init(&b, 0);
    assert_int_equal(pd_fsources_report(x->fs, &b), 0);
    assert_string_equal(b.data, ",\"feature_sources\":[{\"source\":\"redis://h:6379/0\","
                                "\"state\":\"up\"}]");
    pd_buf_free(&b);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

static void test_deadline_then_late_replies(void **st)
{
    fix_t *x = *st;
    pd_rows_t r;
    pd_fetch_t *f = start(x, &r, 2, 0);
    reply(f, "1", "2", "3");
    uv_timer_t ticker; /* the sources' handles never keep the loop alive: this does */
    uv_timer_init(&x->loop, &ticker);
    uv_timer_start(&ticker, on_tick, 5, 5);
    uint64_t t0 = uv_hrtime();
    while (x->done_calls == 0 && uv_hrtime() - t0 < 2000000000u)
        uv_run(&x->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&ticker, NULL);
    uv_run(&x->loop, UV_RUN_NOWAIT);
    assert_int_equal(x->done_calls, 1);
    assert_int_equal(x->done_status, 504);
    assert_non_null(strstr(pd_fetch_message(f), "timed out after 20 ms"));
    pd_fetch_free(f);  /* the request is answered and gone ... */
    pd_rows_free(&r);
    assert_false(pd__fetch_wanted(f));
    pd__fetch_reply_end(f, PD__FREPLY_OK, NULL); /* ... the last reply frees the fetch */
    g_store.n_sent = 0;
    assert_int_equal(x->done_calls, 1);
}

static void test_cancel_and_free_in_flight(void **st)
{
    fix_t *x = *st;
    pd_rows_t r;
    pd_fetch_t *f = start(x, &r, 3, 0);
    reply(f, "1", "2", "3");
    pd_fetch_cancel(f); /* the client went away */
    pd_rows_free(&r);
    pd_fetch_free(f);
    pd__fetch_reply_end(f, PD__FREPLY_OK, NULL);
    pd__fetch_reply_end(f, PD__FREPLY_LOST, NULL); /* the last one frees it */
    g_store.n_sent = 0;
    assert_int_equal(x->done_calls, 0);
    pd_fetch_cancel(NULL);
}

static void test_close_ends_lookups_in_flight(void **st)
{
    fix_t *x = *st;
    pd_rows_t r;
    pd_fetch_t *f = start(x, &r, 2, 0);
    pd_fetch_free(f); /* detached: the store's hold keeps it */
    pd_rows_free(&r);
    pd_fsources_sweep(x->fs); /* no served version names the source: closed */
    assert_int_equal(g_store.closed, 1);
    assert_string_equal(pd_fsources_state(x->fs, x->spec), "closed");
    assert_int_equal(x->done_calls, 0);
}

static void test_key_error_counts_and_answers(void **st)
{
    fix_t *x = *st;
    pd_rows_t r;
    char body[] = "{\"a\": 1}";
    pd_fetch_t *f;
    pd_rows_init(&r, 3, 0);
    double *row;
    assert_int_equal(pd_rows_add(&r, &row), 0);
    r.single = 1;
    assert_int_equal(pd_fetch_prepare(x->spec, body, strlen(body), &r, &f), 0);
    assert_int_equal(pd_fetch_start(x->fs, x->spec, f, &r, on_done, x), 422);
    assert_int_equal(g_store.n_sent, 0);
    pd_fetch_free(f);
    pd_rows_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cells_filled_where_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_then_late_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_free_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_ends_lookups_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_error_counts_and_answers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
