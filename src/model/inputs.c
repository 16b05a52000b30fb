/* inputs.c - the type of each raw input column (model.h pd_model_input_t) and the
 * vocabulary of the string ones: the predictd format's optional top-level "inputs"
 * object (docs/model-format.md) and the hash table from category to code built at load
 * (the decode-time lookups are inputs_lookup.c's).
 *
 * Invariants: every input starts as a number column (pd__inputs_default, called by both
 * loaders once the feature names are set); a string input's categories are unique, each
 * 0..PD_MODEL_MAX_CATEGORY_BYTES bytes, at most PD_MODEL_MAX_CATEGORIES of them, and its
 * table has a power-of-two number of slots >= 2 * n_categories, so a lookup ends at an
 * empty slot; codes below n_known are the strings an encoder with handle_unknown=
 * "error" accepts ("n_known", default all); a number input's known values are finite,
 * sorted and unique. Everything is allocated with pd__model_calloc and immutable after
 * load. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model/inputs_lookup.h"
#include "model/load_common.h"

int pd__inputs_default(pd_model_t *m)
{
    pd_model_input_t *in = pd__model_calloc(m, m->schema.n_features, sizeof *in);
    if (!in)
        return PD_ENOMEM;
    m->inputs = in;
    m->schema.inputs = in;
    m->schema.has_strings = 0;
    m->schema.typed_inputs = 0;
    return 0;
}

/* A string input's vocabulary (arr at path) and its hash table. */
static int load_strings(pd__jctx_t *c, pd_model_t *m, const json_t *arr, const char *path,
                        pd_model_input_t *in)
{
    size_t n;
    int rc = pd__jlen(c, arr, path, 0, PD_MODEL_MAX_CATEGORIES, &n);
    if (rc)
        return rc;
    uint32_t slots = 8;
    while (slots < 2 * n)
        slots *= 2;
    const char **cats = pd__model_calloc(m, n ? n : 1, sizeof *cats);
    uint32_t *tab = pd__model_calloc(m, slots, sizeof *tab);
    if (!cats || !tab)
        return PD_ENOMEM;
    in->categories = cats;
    in->tab = tab;
    in->tab_mask = slots - 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        char p[PD__PATH_MAX];
        pd__jpath(p, sizeof p, path, "[%zu]", i);
        if ((rc = pd__jcheck(c, v, p, PD__J_STR)))
            return rc;
        size_t len = json_string_length(v);
        if (len > PD_MODEL_MAX_CATEGORY_BYTES || memchr(json_string_value(v), '\0', len))
            return pd__jfail(c, p, "a category must have at most %d bytes and no NUL",
                             PD_MODEL_MAX_CATEGORY_BYTES);
        if (pd_model_input_code(in, json_string_value(v), len) >= 0)
            return pd__jfail(c, p, "duplicate category \"%.64s\"", json_string_value(v));
        if (!(cats[i] = pd__model_strdup(m, json_string_value(v))))
            return PD_ENOMEM;
        uint32_t j = pd__input_hash(cats[i], len) & in->tab_mask;
        while (tab[j])
            j = (j + 1) & in->tab_mask;
        tab[j] = (uint32_t)i + 1;
        in->n_categories = i + 1;
    }
    return 0;
}

/* A number input's known values (arr at path): sorted and unique. */
static int load_known(pd__jctx_t *c, pd_model_t *m, const json_t *arr, const char *path,
                      pd_model_input_t *in)
{
    size_t n;
    int rc = pd__jlen(c, arr, path, 1, PD_MODEL_MAX_CATEGORIES, &n);
    if (rc)
        return rc;
    double *k = pd__model_calloc(m, n, sizeof *k);
    if (!k)
        return PD_ENOMEM;
    if ((rc = pd__jdoubles(c, arr, path, n, k)))
        return rc;
    for (size_t i = 1; i < n; i++)
        if (!(k[i - 1] < k[i]))
            return pd__jfail(c, path, "values must be sorted ascending and unique");
    in->known = k;
    in->n_categories = n;
    return 0;
}

/* One entry of "inputs": {"type", "categories", "unknown"}. */
static int load_input(pd__jctx_t *c, pd_model_t *m, const json_t *o, const char *path,
                      pd_model_input_t *in)
{
    static const char *const types[] = {"number", "string"};
    static const char *const unknowns[] = {"error", "encode"};
    char p[PD__PATH_MAX];
    int rc, t, u = 1;
    json_t *cats;
    if ((rc = pd__jcheck(c, o, path, PD__J_OBJ)))
        return rc;
    const char *ts = pd__jstr(c, o, path, "type", 1, NULL, &rc);
    pd__jpath(p, sizeof p, path, ".type");
    if (rc || (rc = pd__jenum(c, ts, p, types, 2, &t)))
        return rc;
    const char *us = pd__jstr(c, o, path, "unknown", 0, "encode", &rc);
    pd__jpath(p, sizeof p, path, ".unknown");
    if (rc || (rc = pd__jenum(c, us, p, unknowns, 2, &u)))
        return rc;
    in->type = t ? PD_INPUT_STRING : PD_INPUT_NUMBER;
    in->unknown_error = u == 0;
    if ((rc = pd__jget(c, o, path, "categories", PD__J_ARR, t == 1 || u == 0, &cats, p)))
        return rc;
    if (t == 1) {
        json_t *nk;
        int64_t k;
        if ((rc = load_strings(c, m, cats, p, in)))
            return rc;
        in->n_known = in->n_categories;
        if ((rc = pd__jget(c, o, path, "n_known", PD__J_INT, 0, &nk, p)) || !nk)
            return rc;
        if (u != 0)
            return pd__jfail(c, p, "only with \"unknown\": \"error\"");
        if ((rc = pd__jint(c, nk, p, 0, (int64_t)in->n_categories, &k)))
            return rc;
        in->n_known = (size_t)k;
        return 0;
    }
    if (cats && u != 0)
        return pd__jfail(c, p, "a number input lists its values only with "
                         "\"unknown\": \"error\"");
    return cats ? load_known(c, m, cats, p, in) : 0;
}

int pd__inputs_load(pd__jctx_t *c, pd_model_t *m, const json_t *obj, const char *path)
{
    int rc = pd__jcheck(c, obj, path, PD__J_OBJ);
    if (rc)
        return rc;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        char p[PD__PATH_MAX];
        pd__jpath(p, sizeof p, path, ".%s", key);
        size_t i = 0;
        while (i < m->schema.n_features && strcmp(m->feature_names[i], key) != 0)
            i++;
        if (i == m->schema.n_features)
            return pd__jfail(c, p, "\"%.64s\" is not one of the model's features", key);
        if ((rc = load_input(c, m, v, p, &m->inputs[i])))
            return rc;
        if (m->inputs[i].type == PD_INPUT_STRING)
            m->schema.has_strings = 1;
        if (m->inputs[i].type == PD_INPUT_STRING || m->inputs[i].unknown_error)
            m->schema.typed_inputs = 1;
    }
    return 0;
}
