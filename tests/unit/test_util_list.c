/* test_util_list.c - the intrusive list (util/list.h): order of tail and head inserts,
 * removal from anywhere (also of an unlinked node), the linked flag, safe removal while
 * walking, concat and move, and getting back to the owner struct. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common.h"
#include "util/list.h"

typedef struct {
    int id;
    pd_list_t link; /* deliberately not the first member: pd_list_entry must subtract */
} item_t;

/* Writes the ids of the list at h into out (at most max); returns how many. */
static size_t ids(const pd_list_t *h, int *out, size_t max)
{
    size_t n = 0;
    const pd_list_t *q;
    pd_list_foreach(q, h) {
        if (n < max)
            out[n] = pd_list_entry(q, const item_t, link)->id;
        n++;
    }
    return n;
}

static void assert_ids(const pd_list_t *h, const int *want, size_t n)
{
    int got[16];
    assert_int_equal(ids(h, got, 16), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

static void test_empty_and_init(void **state)
{
    (void)state;
    pd_list_t h;
    pd_list_init(&h);
    assert_true(pd_list_empty(&h));
    assert_ptr_equal(pd_list_head(&h), &h);
    assert_ptr_equal(pd_list_tail(&h), &h);
    assert_ids(&h, NULL, 0);
    item_t a = {1, {NULL, NULL}};
    pd_list_init(&a.link);
    assert_false(pd_list_linked(&a.link));
    pd_list_remove(&a.link); /* unlinked: harmless */
    assert_false(pd_list_linked(&a.link));
}

static void test_insert_order(void **state)
{
    (void)state;
    pd_list_t h;
    pd_list_init(&h);
    item_t it[4] = {{1, {0}}, {2, {0}}, {3, {0}}, {4, {0}}};
    pd_list_insert_tail(&h, &it[1].link);
    pd_list_insert_tail(&h, &it[2].link);
    pd_list_insert_head(&h, &it[0].link);
    pd_list_insert_tail(&h, &it[3].link);
    assert_false(pd_list_empty(&h));
    assert_ids(&h, (const int[]){1, 2, 3, 4}, 4);
    assert_ptr_equal(pd_list_entry(pd_list_head(&h), item_t, link), &it[0]);
    assert_ptr_equal(pd_list_entry(pd_list_tail(&h), item_t, link), &it[3]);
    assert_ptr_equal(pd_list_next(&it[3].link), &h); /* the last one wraps to the head */
    for (int i = 0; i < 4; i++)
        assert_true(pd_list_linked(&it[i].link));
}

static void test_remove_anywhere(void **state)
{
    (void)state;
    pd_list_t h;
    pd_list_init(&h);
    item_t it[4] = {{1, {0}}, {2, {0}}, {3, {0}}, {4, {0}}};
    for (int i = 0; i < 4; i++)
        pd_list_insert_tail(&h, &it[i].link);
    pd_list_remove(&it[1].link); /* middle */
    assert_false(pd_list_linked(&it[1].link));
    assert_ids(&h, (const int[]){1, 3, 4}, 3);
    pd_list_remove(&it[0].link); /* first */
    pd_list_remove(&it[3].link); /* last */
    assert_ids(&h, (const int[]){3}, 1);
    pd_list_remove(&it[2].link);
    assert_true(pd_list_empty(&h));
    /* a removed node can join another list */
    pd_list_insert_head(&h, &it[1].link);
    assert_ids(&h, (const int[]){2}, 1);
}

static void test_foreach_safe_removes(void **state)
{
    (void)state;
    pd_list_t h, odd;
    pd_list_init(&h);
    pd_list_init(&odd);
    item_t it[6];
    for (int i = 0; i < 6; i++) {
        it[i].id = i;
        pd_list_insert_tail(&h, &it[i].link);
    }
    pd_list_t *q, *tmp;
    pd_list_foreach_safe(q, tmp, &h) {
        item_t *x = pd_list_entry(q, item_t, link);
        if (x->id % 2) {
            pd_list_remove(q);
            pd_list_insert_tail(&odd, q);
        }
    }
    assert_ids(&h, (const int[]){0, 2, 4}, 3);
    assert_ids(&odd, (const int[]){1, 3, 5}, 3);
}

static void test_concat_and_move(void **state)
{
    (void)state;
    pd_list_t a, b, c;
    pd_list_init(&a);
    pd_list_init(&b);
    item_t it[4] = {{1, {0}}, {2, {0}}, {3, {0}}, {4, {0}}};
    pd_list_concat(&a, &b); /* empty into empty */
    assert_true(pd_list_empty(&a));
    pd_list_insert_tail(&a, &it[0].link);
    pd_list_insert_tail(&b, &it[1].link);
    pd_list_insert_tail(&b, &it[2].link);
    pd_list_concat(&a, &b);
    assert_true(pd_list_empty(&b));
    assert_ids(&a, (const int[]){1, 2, 3}, 3);
    pd_list_concat(&a, &b); /* empty source: nothing changes */
    assert_ids(&a, (const int[]){1, 2, 3}, 3);
    pd_list_move(&a, &c); /* c uninitialized before: move initializes it */
    assert_true(pd_list_empty(&a));
    assert_ids(&c, (const int[]){1, 2, 3}, 3);
    pd_list_insert_tail(&c, &it[3].link);
    assert_ids(&c, (const int[]){1, 2, 3, 4}, 4);
    pd_list_move(&a, &b); /* moving an empty list leaves both empty */
    assert_true(pd_list_empty(&b));
}

/* A LIFO (free list) and a FIFO (queue) over the same node type: pop from the head. */
static void test_lifo_and_fifo(void **state)
{
    (void)state;
    pd_list_t lifo, fifo;
    pd_list_init(&lifo);
    pd_list_init(&fifo);
    item_t a[3] = {{1, {0}}, {2, {0}}, {3, {0}}}, b[3] = {{1, {0}}, {2, {0}}, {3, {0}}};
    for (int i = 0; i < 3; i++) {
        pd_list_insert_head(&lifo, &a[i].link);
        pd_list_insert_tail(&fifo, &b[i].link);
    }
    int want_lifo[3] = {3, 2, 1}, want_fifo[3] = {1, 2, 3};
    for (int i = 0; i < 3; i++) {
        pd_list_t *n = pd_list_head(&lifo);
        pd_list_remove(n);
        assert_int_equal(pd_list_entry(n, item_t, link)->id, want_lifo[i]);
        n = pd_list_head(&fifo);
        pd_list_remove(n);
        assert_int_equal(pd_list_entry(n, item_t, link)->id, want_fifo[i]);
    }
    assert_true(pd_list_empty(&lifo) && pd_list_empty(&fifo));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_init),
        cmocka_unit_test(test_insert_order),
        cmocka_unit_test(test_remove_anywhere),
        cmocka_unit_test(test_foreach_safe_removes),
        cmocka_unit_test(test_concat_and_move),
        cmocka_unit_test(test_lifo_and_fifo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
