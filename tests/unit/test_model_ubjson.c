/* test_model_ubjson.c - the UBJSON reader (ubjson.c) and the JSON text reader's
 * non-finite literals (json_read.c): every UBJSON type XGBoost writes (objects and
 * optimized arrays included) read into the tree JSON text gives; an XGBoost model
 * encoded as UBJSON predicts what its JSON text predicts; malformed input (truncated,
 * too deep, counts beyond the bytes left, zero-byte element types, duplicate keys, bad
 * UTF-8, trailing bytes, unknown markers) refused with the byte offset. Under ASan. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "model/json_read.h"
#include "model/model.h"
#include "model/ubjson.h"

/* ---- a small UBJSON writer (the way XGBoost's UBJWriter writes) -------------------- */

typedef struct {
    unsigned char b[8192];
    size_t n;
} out_t;

static void put(out_t *o, const void *p, size_t k)
{
    assert_true(o->n + k <= sizeof o->b);
    memcpy(o->b + o->n, p, k);
    o->n += k;
}

static void put_be(out_t *o, uint64_t v, size_t k)
{
    for (size_t i = 0; i < k; i++)
        o->b[o->n++] = (unsigned char)(v >> (8 * (k - 1 - i)));
}

static void put_len(out_t *o, size_t len)
{
    put(o, "L", 1);
    put_be(o, len, 8);
}

/* Arrays of numbers become typed arrays: float32 ($d) when any is real, else int64. */
static void enc(out_t *o, const json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        put(o, "{", 1);
        json_object_foreach((json_t *)v, k, e) {
            put_len(o, strlen(k));
            put(o, k, strlen(k));
            enc(o, e);
        }
        put(o, "}", 1);
    } else if (json_is_array(v)) {
        size_t i, n = json_array_size(v);
        int nums = n > 0, reals = 0;
        json_t *e;
        json_array_foreach(v, i, e) {
            nums &= json_is_number(e);
            reals |= json_is_real(e);
        }
        if (!nums) {
            put(o, "[", 1);
            json_array_foreach(v, i, e) enc(o, e);
            put(o, "]", 1);
            return;
        }
        put(o, reals ? "[$d#" : "[$L#", 4);
        put_len(o, n);
        json_array_foreach(v, i, e) {
            if (reals) {
                float f = (float)json_number_value(e);
                uint32_t u;
                memcpy(&u, &f, 4);
                put_be(o, u, 4);
            } else {
                put_be(o, (uint64_t)json_integer_value(e), 8);
            }
        }
    } else if (json_is_string(v)) {
        put(o, "S", 1);
        put_len(o, json_string_length(v));
        put(o, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        put(o, "L", 1);
        put_be(o, (uint64_t)json_integer_value(v), 8);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        uint64_t u;
        memcpy(&u, &d, 8);
        put(o, "D", 1);
        put_be(o, u, 8);
    } else {
        put(o, json_is_true(v) ? "T" : json_is_false(v) ? "F" : "Z", 1);
    }
}

static json_t *parse_ok(const void *data, size_t len)
{
    char err[256];
    pd__jctx_t c = {"t.ubj", err, sizeof err};
    json_t *root = NULL;
    if (pd__ubjson_parse(&c, data, len, &root) != 0)
        fail_msg("parse failed: %s", err);
    return root;
}

/* Scalars of every marker, optimized and plain containers, no-ops, non-finite floats. */
static void test_types(void **st)
{
    (void)st;
    static const unsigned char doc[] = {
        '{', 'i', 1, 'a', '[', '$', 'i', '#', 'U', 3, 0xff, 0, 5,           /* [-1,0,5] */
        'U', 1, 'b', '[', 'N', 'U', 200, 'I', 0x80, 0x00, 'l', 0, 0, 1, 0, 'Z', 'T', 'F',
        'C', 'x', 'S', 'i', 2, 'h', 'i', ']',
        'i', 1, 'c', '[', '#', 'i', 2, 'd', 0x7f, 0xc0, 0, 0, 'd', 0xff, 0x80, 0, 0,
        'i', 1, 'd', 'D', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,                     /* 1.5 */
        'i', 1, 'e', '{', '#', 'i', 1, 'i', 1, 'k', 'L', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xfe, '}'};
    json_t *root = parse_ok(doc, sizeof doc);
    json_error_t je;
    json_t *want = json_loads("{\"a\":[-1,0,5],\"b\":[200,-32768,256,null,true,false,\"x\","
                              "\"hi\"],\"c\":[\"NaN\",\"-Infinity\"],\"d\":1.5,\"e\":{\"k\":-2}}",
                              0, &je);
    assert_non_null(want);
    if (!json_equal(root, want)) {
        char *s = json_dumps(root, JSON_SORT_KEYS);
        fail_msg("got %s", s);
    }
    json_decref(root);
    json_decref(want);
}

static void expect_bad(const void *data, size_t len, const char *reason)
{
    char err[256];
    pd__jctx_t c = {"t.ubj", err, sizeof err};
    json_t *root = (json_t *)1;
    int rc = pd__ubjson_parse(&c, data, len, &root);
    assert_int_equal(rc, PD_EFORMAT);
    assert_null(root);
    if (strncmp(err, "t.ubj: $: invalid UBJSON at byte ", 33) != 0 || !strstr(err, reason))
        fail_msg("message \"%s\" lacks \"%s\"", err, reason);
}

#define BAD(lit, reason) expect_bad(lit, sizeof(lit) - 1, reason)

static void test_malformed(void **st)
{
    (void)st;
    BAD("{i\x01" "a", "truncated");
    BAD("{i\x01" "aS", "truncated");
    BAD("{i\x01" "aSi\x05" "ab}", "truncated");
    BAD("{i\x01" "a[$d#i\x03\0\0\0\0}", "count 3 larger than the bytes left");
    BAD("{i\x01" "a[$Z#L\x7f\xff\xff\xff\xff\xff\xff\xff}", "takes no bytes");
    BAD("{i\x01" "a[#L\x7f\xff\xff\xff\xff\xff\xff\xff}", "out of range");
    BAD("{i\x01" "a[#i\xff}", "count -1 out of range");
    BAD("{i\x01" "a[$dZ]}", "must be followed by a count");
    BAD("{i\x01" "aZi\x01" "aT}", "duplicate key \"a\"");
    BAD("{i\x01" "aSi\x02\xc3\x28}", "not valid UTF-8");
    BAD("{i\x01\xff" "Z}", "key is not valid UTF-8");
    BAD("{i\x01" "aZ}Z", "1 bytes after the top-level value");
    BAD("{i\x01" "aH}", "high-precision");
    BAD("{i\x01" "aq}", "unknown type marker 0x71");
    BAD("{i\x01" "aC\xe9}", "not ASCII");
    BAD("{i\x01" "a[$i#i\x01", "count 1 larger than the bytes left (0)");
    BAD("{", "truncated");
    BAD("{S", "expected an integer type marker");
    /* nesting: 65 arrays inside the object */
    char deep[200] = "{i\x01" "a";
    size_t n = 4;
    for (int i = 0; i < 64; i++)
        deep[n++] = '[';
    expect_bad(deep, n, "nested deeper than 64");
}

/* The tree of JSON text with XGBoost's literals: strings the loaders may accept. */
static void test_json_literals(void **st)
{
    (void)st;
    char err[256];
    pd__jctx_t c = {"t.json", err, sizeof err};
    const char *txt = "{\"a\":[NaN,Infinity,-Infinity,-1.5,\"NaN x\"],\"s\":\"Infinity\\\"NaN\"}";
    json_t *root;
    assert_int_equal(pd__json_read(&c, txt, strlen(txt), &root), 0);
    json_error_t je;
    json_t *want = json_loads("{\"a\":[\"NaN\",\"Infinity\",\"-Infinity\",-1.5,\"NaN x\"],"
                              "\"s\":\"Infinity\\\"NaN\"}", 0, &je);
    assert_true(json_equal(root, want));
    json_decref(root);
    json_decref(want);
    const char *bad = "{\"a\":[NaNa]}";
    assert_int_equal(pd__json_read(&c, bad, strlen(bad), &root), PD_EFORMAT);
    assert_non_null(strstr(err, "invalid JSON"));
}

/* One XGBoost model as JSON text and as UBJSON (float32 arrays, as XGBoost writes): same
 * schema and bit-identical predictions. */
#define XGB_DOC \
    "{\"learner\":{\"attributes\":{},\"feature_names\":[\"a\",\"b\"],\"feature_types\":[]," \
    "\"gradient_booster\":{\"name\":\"gbtree\",\"model\":{\"gbtree_model_param\":{}," \
    "\"tree_info\":[0,0],\"trees\":[" TREE "," TREE "]}},\"learner_model_param\":" \
    "{\"base_score\":\"3E-1\",\"num_class\":\"0\",\"num_feature\":\"2\",\"num_target\":" \
    "\"1\"},\"objective\":{\"name\":\"binary:logistic\"}},\"version\":[1,7,4]}"
#define TREE \
    "{\"left_children\":[1,-1,-1],\"right_children\":[2,-1,-1],\"split_indices\":[1,0,0]," \
    "\"split_conditions\":[0.25,-0.4,0.6],\"default_left\":[1,0,0],\"split_type\":[0,0,0]}"

static void test_xgboost_model_as_ubjson(void **st)
{
    (void)st;
    json_error_t je;
    json_t *tree = json_loads(XGB_DOC, 0, &je);
    assert_non_null(tree);
    out_t o = {0};
    enc(&o, tree);
    json_decref(tree);
    assert_true(pd__ubjson_sniff((const char *)o.b, o.n));
    assert_false(pd__ubjson_sniff(XGB_DOC, strlen(XGB_DOC)));
    char err[256];
    pd_model_t *mj, *mu;
    assert_int_equal(pd_model_load_buffer(XGB_DOC, strlen(XGB_DOC), "x.json", &mj, err,
                                          sizeof err), 0);
    if (pd_model_load_buffer((const char *)o.b, o.n, "x.ubj", &mu, err, sizeof err) != 0)
        fail_msg("ubj load: %s", err);
    assert_string_equal(pd_model_schema(mu)->feature_names[1], "b");
    double x[] = {0, 0.1, 0, 0.3, 0, NAN}, pj[6], pu[6];
    int32_t cj[3], cu[3];
    void *ws = malloc(pd_model_scratch_size(mj, 3));
    pd_predict_out_t oj = {cj, NULL, pj}, ou = {cu, NULL, pu};
    assert_int_equal(pd_model_predict(mj, x, 3, ws, &oj), 0);
    assert_int_equal(pd_model_predict(mu, x, 3, ws, &ou), 0);
    assert_memory_equal(pj, pu, sizeof pj);
    assert_memory_equal(cj, cu, sizeof cj);
    free(ws);
    pd_model_free(mj);
    pd_model_free(mu);
    /* every strict prefix is refused, never read past */
    for (size_t k = 1; k < o.n; k += 7) {
        pd_model_t *m = (pd_model_t *)1;
        assert_true(pd_model_load_buffer((const char *)o.b, k, "x.ubj", &m, err, sizeof err) < 0);
        assert_null(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_json_literals),
        cmocka_unit_test(test_xgboost_model_as_ubjson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
