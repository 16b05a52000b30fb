/* test_api_openapi.c - pd_openapi_document() on a router and a registry built here: every
 * route of the router is in the document (a prediction route by its codec, a loop-side one
 * by its row, an unknown one marked undocumented), each model's input row is a schema named
 * after it (a clash with a shared schema gets a suffix, a version with other inputs its own
 * schema), {name} lists the models a route serves (classifiers only for probabilities), a
 * registry without models still gives a document, and every JSON text of the tables parses.
 * The e2e tests validate the document against the official OpenAPI schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "api/openapi.h"
#include "api/predict.h"
#include "api/registry.h"
#include "common.h"
#include "http/router.h"

#define MAX_MODELS 8
#define ERR_MAX 256

static void dummy(struct pd_http_request_s *req, void *ctx)
{
    (void)req;
    (void)ctx;
}

/* The prediction table's routes, /health, and a route no table describes. */
static void fill_router(pd_router_t *r)
{
    pd_router_init(r);
    size_t n;
    const pd_predict_route_t *t = pd_predict_routes(&n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(pd_router_add(r, t[i].method, t[i].path, dummy, NULL), 0);
    assert_int_equal(pd_router_add(r, "GET", "/health", dummy, NULL), 0);
    assert_int_equal(pd_router_add(r, "GET", "/mystery/{thing}", dummy, NULL), 0);
}

/* Installs models/<file> as version `number` of model `name`. */
static void install(pd_registry_t *reg, const char *file, const char *name, uint64_t number)
{
    char path[1024], err[ERR_MAX], label[16];
    snprintf(path, sizeof path, "%s/models/%s", PD_SOURCE_DIR, file);
    snprintf(label, sizeof label, "%llu", (unsigned long long)number);
    pd_model_t *m = NULL;
    assert_int_equal(pd_model_load(path, &m, err, sizeof err), 0);
    assert_non_null(pd_registry_install(reg, name, m, strdup(path), NULL, number, label, 1.0, err,
                                        sizeof err));
}

static json_t *op_of(json_t *doc, const char *path, const char *method)
{
    json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), path), method);
    assert_non_null(op);
    return op;
}

static json_t *name_enum(json_t *doc, const char *path)
{
    json_t *p = json_array_get(json_object_get(op_of(doc, path, "post"), "parameters"), 0);
    return json_object_get(json_object_get(p, "schema"), "enum");
}

static void test_every_route_and_model(void **state)
{
    (void)state;
    pd_router_t *router = malloc(sizeof *router);
    assert_non_null(router);
    fill_router(router);
    pd_registry_t reg;
    assert_int_equal(pd_registry_init(&reg, MAX_MODELS, "seed", 10.0, 1024), 0);
    install(&reg, "seed.json", "seed", 1);
    install(&reg, "iris.json", "HTTPValidationError", 1); /* a shared schema's name */
    install(&reg, "iris.json", "HTTPValidationError", 2); /* same inputs: same schema */
    install(&reg, "seed.json", "twice", 1);
    install(&reg, "iris.json", "twice", 2);                /* other inputs: its own */
    install(&reg, "iris.json", "twice_v1", 1);             /* a model first: its name */

    json_t *doc = pd_openapi_document(router, &reg);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), PD_OPENAPI_VERSION);
    json_t *paths = json_object_get(doc, "paths");
    size_t n_ops = 0;
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item) n_ops += json_object_size(item);
    assert_int_equal(n_ops, router->n);

    json_t *mystery = op_of(doc, "/mystery/{thing}", "get");
    assert_true(json_is_true(json_object_get(mystery, "x-predictd-undocumented")));
    assert_null(json_object_get(op_of(doc, "/health", "get"), "x-predictd-undocumented"));
    assert_null(json_object_get(op_of(doc, "/predict", "post"), "x-predictd-undocumented"));
    assert_non_null(strstr(json_string_value(json_object_get(op_of(doc, "/predict", "post"),
                                                             "description")), "'seed'"));

    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    json_t *fastapi = json_object_get(schemas, "HTTPValidationError");
    assert_non_null(json_object_get(json_object_get(fastapi, "properties"), "detail"));
    json_t *iris = json_object_get(schemas, "HTTPValidationError_2");
    assert_int_equal(json_object_size(json_object_get(iris, "properties")), 4);
    assert_int_equal(json_array_size(json_object_get(iris, "required")), 4);
    assert_null(json_object_get(schemas, "HTTPValidationError_2_v1"));
    assert_int_equal(json_object_size(json_object_get(json_object_get(schemas, "twice"),
                                                      "properties")), 4);
    assert_int_equal(json_object_size(json_object_get(json_object_get(schemas, "twice_v1"),
                                                      "properties")), 4);
    assert_int_equal(json_object_size(json_object_get(json_object_get(schemas, "twice_v1_2"),
                                                      "properties")), 2);

    json_t *names = name_enum(doc, "/models/{name}/predict");
    assert_int_equal(json_array_size(names), 4);
    assert_string_equal(json_string_value(json_array_get(names, 1)), "HTTPValidationError");
    json_t *versions = json_array_get(json_object_get(op_of(doc, "/models/{name}/versions/"
                                                          "{version}/predict", "post"),
                                                    "parameters"), 1);
    assert_int_equal(json_array_size(json_object_get(json_object_get(versions, "schema"),
                                                     "enum")), 2);
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(text);
    free(text);
    json_decref(doc);
    pd_registry_free(&reg);
    free(router);
}

static void test_no_models(void **state)
{
    (void)state;
    pd_router_t *router = malloc(sizeof *router);
    assert_non_null(router);
    fill_router(router);
    pd_registry_t reg;
    assert_int_equal(pd_registry_init(&reg, MAX_MODELS, NULL, 10.0, 1024), 0);
    json_t *doc = pd_openapi_document(router, &reg);
    assert_non_null(doc);
    assert_null(name_enum(doc, "/models/{name}/predict"));
    assert_non_null(strstr(json_string_value(json_object_get(op_of(doc, "/predict", "post"),
                                                             "description")),
                           "No default model"));
    json_decref(doc);
    pd_registry_free(&reg);
    free(router);
}

/* Every JSON text of the tables parses (a typo would silently drop an example). */
static void test_tables_parse(void **state)
{
    (void)state;
    size_t n;
    const pd_openapi_route_doc_t *docs = pd__openapi_route_docs(&n);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < PD_OPENAPI_MAX_RESPONSES && docs[i].responses[k].status; k++) {
            const pd_openapi_response_t *r = &docs[i].responses[k];
            if (r->example == NULL || strcmp(r->media, PD_OPENAPI_MEDIA_JSON) != 0)
                continue;
            json_error_t e;
            json_t *j = json_loads(r->example, JSON_DECODE_ANY, &e);
            if (j == NULL)
                fail_msg("%s %s %d: %s", docs[i].method, docs[i].path, r->status, e.text);
            json_decref(j);
        }
    const pd_openapi_codec_doc_t *codecs = pd__openapi_codec_docs(&n);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(codecs[i].describe);
        if (codecs[i].components == NULL)
            continue;
        json_t *j = json_loads(codecs[i].components, 0, NULL);
        assert_true(json_is_object(j));
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_parse),
        cmocka_unit_test(test_every_route_and_model),
        cmocka_unit_test(test_no_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
