/* openapi.h - GET /openapi.json: an OpenAPI 3.0 document of every route the router holds,
 * built with jansson at request time from the live registry (models come and go: a reload
 * shows at the next request).
 *
 * How a route gets documented (openapi.c walks the router, so a route is never missing;
 * what it says about the route comes from data):
 *   - a prediction route (a row of pd_predict_routes(), matched by method and pattern):
 *     its codec's row in pd__openapi_codec_docs() (openapi_codecs.c) describes the request
 *     body and the answers; the parameters, summary and where the model runs come from
 *     the route's row, the shared errors' bodies from the codec's `error`.
 *   - any other route: a row of pd__openapi_route_docs() (openapi_routes.c), matched by
 *     method and pattern, with its answers' examples (the schemas are derived from them)
 *     and an optional describe hook for anything that depends on the models.
 *   - a route with neither is listed with a generic answer and marked
 *     "x-predictd-undocumented": true (tests/e2e/test_openapi.py fails on it).
 * Path parameters come from the pattern: {name} is an enum of the models the route can
 * serve now, {version} of their version labels. Each model's input row is a schema under
 * components/schemas named after the model (a version whose inputs differ from the
 * primary's: "<model>_v<label>").
 *
 * Cost: O(routes + models x features) on the loop thread when the registry changed since
 * the last request (e.g. ~70 ms for 256 models x 2 versions x 50 features, 1.5 MB), else
 * O(models) to see that it did not and the last document's text again.
 * Threads: loop thread only (it reads the registry). */
#ifndef PD_API_OPENAPI_H
#define PD_API_OPENAPI_H

#include <jansson.h>
#include <stddef.h>

#include "api/predict.h"
#include "api/registry.h"
#include "http/router.h"
#include "model/model.h"

#define PD_OPENAPI_VERSION "3.0.3"     /* the OpenAPI version the document follows */
#define PD_OPENAPI_MAX_RESPONSES 4     /* answers of one static route description */
#define PD_OPENAPI_COMPONENT_MAX 160   /* bytes of a schema name, with its NUL */
#define PD_OPENAPI_MEDIA_JSON "application/json"
#define PD_OPENAPI_MAX_EXAMPLE_MODELS 16 /* models with examples in one operation (the
                                            schema lists them all): bounds the document */

/* One model version a route can serve now, as the document names it. */
typedef struct pd_openapi_model_s {
    const char *name;                /* the served model's name (the registry's) */
    const char *version;             /* its version label */
    const pd_model_schema_t *schema; /* its inputs, task and classes */
    const struct pd_fsource_spec_s *features; /* its feature source, or NULL: then its
                                        features may be omitted for the key fields */
    char component[PD_OPENAPI_COMPONENT_MAX]; /* its input row: #/components/schemas/<this> */
    int is_primary;                  /* the version /models/{name}/predict uses */
    int same_as_primary;             /* a version whose inputs are its primary's (and so is
                                        its component) */
} pd_openapi_model_t;

/* One operation being described: what a describe hook gets. Every pointer is borrowed for
 * the call. */
typedef struct pd_openapi_op_s {
    const char *method, *path;          /* the router's method and pattern */
    const pd_predict_route_t *route;    /* the prediction route's row; NULL for others */
    const pd_openapi_model_t *const *models; /* the versions the route can serve now (a
                                            route without {version}: primaries only; a
                                            probability route: classifiers only) */
    size_t n_models;
    json_t *operation;                  /* the OpenAPI operation: add to it */
    json_t *schemas;                    /* components/schemas: add shared schemas here */
} pd_openapi_op_t;

/* Describes one operation: adds requestBody, responses (and anything else) to
 * op->operation. Loop thread. Returns 0 or PD_ENOMEM. */
typedef int (*pd_openapi_describe_fn)(const pd_openapi_op_t *op);

/* An answer of a static route description. */
typedef struct pd_openapi_response_s {
    int status;              /* 0 ends the list */
    const char *media;       /* "application/json", "text/plain", "text/html", ... */
    const char *description;
    const char *example;     /* application/json: JSON text, its schema is derived from it;
                                other media: a plain example, or NULL */
} pd_openapi_response_t;

/* Flags of a static route description. */
enum {
    PD_OPENAPI_AUTH = 1u,     /* needs the admin bearer token (explicit model control) */
    PD_OPENAPI_ANY_NAME = 2u  /* {name} is any model of the repository, not only loaded ones */
};

/* How a route that is not a prediction route is documented (static storage). */
typedef struct pd_openapi_route_doc_s {
    const char *method, *path;  /* exactly as registered on the router */
    const char *tag;
    const char *summary;
    const char *description;    /* may be NULL */
    unsigned flags;             /* PD_OPENAPI_* */
    pd_openapi_response_t responses[PD_OPENAPI_MAX_RESPONSES];
    pd_openapi_describe_fn describe; /* may be NULL: amends the operation after the rest */
} pd_openapi_route_doc_t;

typedef struct pd_openapi_s pd_openapi_t;

/* Registers GET /openapi.json on router. router and reg are borrowed and must outlive the
 * server; routes added to router later (before the server listens) are documented too.
 * Returns 0, PD_ENOMEM or the router's error. Free with pd_openapi_destroy. */
int pd_openapi_create(pd_openapi_t **out, pd_router_t *router, pd_registry_t *reg);

/* Frees it. Accepts NULL. */
void pd_openapi_destroy(pd_openapi_t *o);

/* Builds the document now (what GET /openapi.json answers); the caller owns the result.
 * NULL when out of memory. Loop thread. */
json_t *pd_openapi_document(const pd_router_t *router, pd_registry_t *reg);

/* ---- helpers for describe hooks (openapi_helpers.c): each returns a new reference or
 * NULL, and takes what it steals even when it fails, so calls can be chained ---- */

/* json_object_set_new(obj, key, v) that returns 0 or PD_ENOMEM (also when obj or v is
 * NULL); v is stolen either way. */
int pd_openapi_put(json_t *obj, const char *key, json_t *v);

/* {"$ref": "#/components/schemas/<component>"} */
json_t *pd_openapi_ref(const char *component);
/* One example row: {"<feature>": 0.0, ...} in feature order; with skip_last (and more
 * than one feature) without its last feature (an omitted, optional one). */
json_t *pd_openapi_example_row(const pd_model_schema_t *s, int skip_last);
/* The example row's values as a list in feature order: [0.0, ...]. */
json_t *pd_openapi_example_values(const pd_model_schema_t *s);
/* An example answer for one row: the first class label, or 0.0 for a regressor. */
json_t *pd_openapi_example_label(const pd_model_schema_t *s);
/* An example of one row's probabilities, {"<class>": 1/n, ...}, or NULL for a regressor. */
json_t *pd_openapi_example_proba(const pd_model_schema_t *s);
/* A schema derived from an example value: types, object properties, array items. */
json_t *pd_openapi_schema_of(const json_t *example);
/* Adds the answer `status` to op->operation's responses: description, and when media is
 * not NULL content[media] with schema and examples (both stolen, may be NULL; examples:
 * an OpenAPI examples object keyed by name). Returns 0 or PD_ENOMEM (the stolen values
 * are released either way). */
int pd_openapi_response(const pd_openapi_op_t *op, int status, const char *description,
                        const char *media, json_t *schema, json_t *examples);
/* Adds the answer `status` of a prediction route (op->route) with the body its codec's
 * `error` writes for `message` as the example, and a schema derived from it. Returns 0 or
 * PD_ENOMEM. */
int pd_openapi_error_response(const pd_openapi_op_t *op, int status, const char *description,
                              const char *message);
/* Adds the `outputs` query parameter (api/codec_outputs.h) to op->operation's
 * parameters: a comma-separated list whose items are the output names of op->models
 * (the union), described as `replace` says (1: it replaces the route's outputs, the
 * FastAPI-style routes; 0: it adds members beside "predictions", V1 and MLflow). Returns
 * 0 or PD_ENOMEM. */
int pd_openapi_outputs_param(const pd_openapi_op_t *op, int replace);
/* {"<key>": {"summary": summary, "value": value}} added to examples (value stolen).
 * Returns 0 or PD_ENOMEM. */
int pd_openapi_example(json_t *examples, const char *key, const char *summary, json_t *value);

/* ---- the tables (openapi_routes.c, openapi_codecs.c) ---- */

/* How the routes of one codec are documented (static storage). */
typedef struct pd_openapi_codec_doc_s {
    const struct pd_codec_s *codec;
    const char *tag;                 /* its operations' tag, e.g. "KServe V1" */
    const char *components;          /* JSON text: an object of the shared schemas its
                                        describe refers to (added to components/schemas
                                        before the models' are named), or NULL */
    pd_openapi_describe_fn describe; /* requestBody, the 200 answer and the errors only
                                        this codec gives (400, 415, 422); the errors every
                                        prediction route shares (404 for {name} routes,
                                        413, 503, 504) are added by openapi.c with bodies
                                        written by the codec's `error` */
} pd_openapi_codec_doc_t;

/* The static route descriptions and their count in *n. */
const pd_openapi_route_doc_t *pd__openapi_route_docs(size_t *n);
/* The codecs' descriptions and their count in *n. */
const pd_openapi_codec_doc_t *pd__openapi_codec_docs(size_t *n);

#endif
