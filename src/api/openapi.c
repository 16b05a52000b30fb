/* openapi.c - GET /openapi.json (see openapi.h): walks the router and documents each route
 * from the tables (prediction routes by their codec, the others by openapi_routes.c),
 * with a schema per loaded model named after it.
 *
 * Invariants: the document answered is the one the router and the registry give now (it
 * is rebuilt whenever the registry changed since the last request: a reload shows at the
 * next request; the text is reused while it has not); every route of the router is
 * in the document, described or marked "x-predictd-undocumented"; component names are
 * unique ([A-Za-z0-9._-], the shared ones first, then the models'). Loop thread only. */
#include "api/fsource.h"
#include "api/openapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"
#include "api/rows.h"
#include "common.h"
#include "http/http.h"

#ifndef PD_VERSION
#define PD_VERSION "0"
#endif

#define PD_OPENAPI_STR_(x) #x
#define PD_OPENAPI_STR(x) PD_OPENAPI_STR_(x) /* a numeric macro as a literal */
#define PD_OPENAPI_ID_MAX 256         /* bytes of an operationId, with its NUL */
#define PD_OPENAPI_DESCRIPTION_MAX 1024 /* bytes of a generated operation description */

struct pd_openapi_s {
    const pd_router_t *router;
    pd_registry_t *reg;
    pd_buf_t key;  /* what the registry looked like when `text` was built (registry_key) */
    char *text;    /* owned: the last document answered, or NULL */
    size_t len;
};

/* One document being built. */
typedef struct {
    pd_registry_t *reg;
    pd_openapi_model_t *all;          /* every served version */
    size_t n_all;
    const pd_openapi_model_t **sel;   /* n_all slots: one operation's selection */
    json_t *paths, *schemas, *op_ids; /* borrowed from the document */
} pd__oa_t;

/* pd_openapi_put, shorter. */
static int put(json_t *obj, const char *key, json_t *v)
{
    return pd_openapi_put(obj, key, v);
}

/* ---- the models ---- */

static pd_input_type_t input_type(const pd_model_schema_t *s, size_t i)
{
    return s->inputs ? s->inputs[i].type : PD_INPUT_NUMBER;
}

/* 1 when two versions take the same input row. */
static int same_inputs(const pd_openapi_model_t *ma, const pd_openapi_model_t *mb)
{
    const pd_model_schema_t *a = ma->schema, *b = mb->schema;
    if (a->n_features != b->n_features || a->missing_ok != b->missing_ok ||
        (ma->features == NULL) != (mb->features == NULL))
        return 0;
    if (ma->features) {
        const pd_fsource_spec_t *fa = ma->features, *fb = mb->features;
        if (fa->n_key_fields != fb->n_key_fields)
            return 0;
        for (size_t i = 0; i < fa->n_key_fields; i++)
            if (strcmp(fa->key_fields[i], fb->key_fields[i]) != 0)
                return 0;
    }
    for (size_t i = 0; i < a->n_features; i++)
        if (strcmp(a->feature_names[i], b->feature_names[i]) != 0 ||
            input_type(a, i) != input_type(b, i))
            return 0;
    return 1;
}

/* A component name for `base` + `suffix` not yet used in c->schemas: [A-Za-z0-9._-]
 * (other bytes become '_'), then "_2", "_3", ... on a clash. */
static void unique_name(pd__oa_t *c, const char *base, const char *suffix, char *out)
{
    char want[PD_OPENAPI_COMPONENT_MAX - 16];
    snprintf(want, sizeof want, "%s%s", base, suffix);
    for (char *p = want; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
            *p = '_';
    snprintf(out, PD_OPENAPI_COMPONENT_MAX, "%s", want);
    for (unsigned k = 2; json_object_get(c->schemas, out) != NULL; k++)
        snprintf(out, PD_OPENAPI_COMPONENT_MAX, "%s_%u", want, k);
}

/* The key fields of a model with a feature source: strings or integers, needed unless the
 * row carries every feature. */
static int key_fields(const pd_openapi_model_t *m, json_t *props)
{
    int rc = 0;
    for (size_t i = 0; m->features && i < m->features->n_key_fields; i++) {
        const char *k = m->features->key_fields[i];
        rc |= put(props, k, json_pack("{s:s,s:s+,s:[{s:s},{s:s}]}", "title", k, "description",
                                      "the entity whose stored features fill the omitted ones: ",
                                      m->features->key, "oneOf", "type", "string", "type",
                                      "integer"));
    }
    return rc;
}

/* The input row of m as an object schema (FastAPI's shape for a Pydantic model). A model
 * with a feature source takes its key fields, and its features become optional (request
 * values win over stored ones). */
static json_t *row_schema(const pd_openapi_model_t *m)
{
    const pd_model_schema_t *s = m->schema;
    json_t *props = json_object(), *req = json_array();
    int optional = s->missing_ok || m->features != NULL;
    int rc = key_fields(m, props);
    for (size_t i = 0; i < s->n_features; i++) {
        const char *f = s->feature_names[i];
        json_t *p = json_pack("{s:s,s:s}", "title", f, "type",
                              pd_model_input_type_name(input_type(s, i)));
        if (optional)
            rc |= put(p, "nullable", json_true());
        rc |= put(props, f, p);
        if (!optional)
            rc |= json_array_append_new(req, json_string(f)) < 0 ? PD_ENOMEM : 0;
    }
    json_t *o = json_pack("{s:s+,s:s,s:s+++,s:o,s:o}", "title", m->name,
                          m->is_primary ? "" : " (a version)", "type", "object",
                          "description",
                          m->features ? "One row: its key fields, and any features (omitted ones "
                                        "are read from the feature source). "
                          : s->missing_ok ? "One row. Every feature is optional: null or omitted "
                                            "is a missing value. "
                                          : "One row. Every feature is required. ",
                          s->kind ? s->kind : "model", " from ", s->source ? s->source : "?",
                          "example", pd_openapi_example_row(s, 0), "properties", props);
    if (json_array_size(req) > 0)
        rc |= put(o, "required", req);
    else
        json_decref(req);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Names m's input row and adds its schema; prim: its model's primary (NULL for itself). */
static int name_model(pd__oa_t *c, pd_openapi_model_t *m, const pd_openapi_model_t *prim)
{
    char suffix[PD_REGISTRY_LABEL_MAX + 2] = "";
    if (prim != NULL && same_inputs(prim, m)) {
        memcpy(m->component, prim->component, sizeof m->component);
        m->same_as_primary = 1;
        return 0;
    }
    if (prim != NULL)
        snprintf(suffix, sizeof suffix, "_v%s", m->version);
    unique_name(c, m->name, suffix, m->component);
    return put(c->schemas, m->component, row_schema(m));
}

/* Lists every served version (c->all: each model's primary, then its other versions,
 * newest first) and adds each distinct input row's schema: the primaries' first, so that a
 * model's schema is named after it unless a shared schema has the name. */
static int collect_models(pd__oa_t *c)
{
    size_t total = 0;
    for (size_t i = 0; i < c->reg->n; i++)
        if (c->reg->models[i]->primary != NULL)
            total += c->reg->models[i]->n_versions;
    c->all = calloc(total ? total : 1, sizeof *c->all);
    c->sel = calloc(total ? total : 1, sizeof *c->sel);
    if (c->all == NULL || c->sel == NULL)
        return PD_ENOMEM;
    for (size_t i = 0; i < c->reg->n; i++) {
        const pd_served_model_t *sm = c->reg->models[i];
        for (size_t k = sm->n_versions + 1; sm->primary != NULL && k-- > 0;) {
            const pd_model_version_t *v = k == sm->n_versions ? sm->primary : sm->versions[k];
            if (k < sm->n_versions && v == sm->primary)
                continue;
            pd_openapi_model_t *m = &c->all[c->n_all++];
            m->name = sm->name;
            m->version = v->label;
            m->schema = v->schema;
            m->features = v->features;
            m->is_primary = v == sm->primary;
        }
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->n_all; i++)
        if (c->all[i].is_primary)
            rc = name_model(c, &c->all[i], NULL);
    const pd_openapi_model_t *prim = NULL;
    for (size_t i = 0; rc == 0 && i < c->n_all; i++) {
        if (c->all[i].is_primary)
            prim = &c->all[i];
        else
            rc = name_model(c, &c->all[i], prim);
    }
    return rc;
}

/* The versions route r can serve now, into c->sel; returns their count. */
static size_t select_models(pd__oa_t *c, const pd_predict_route_t *r, int any_version)
{
    const pd_served_model_t *def = NULL;
    if (r && r->model == PD_PREDICT_MODEL_DEFAULT && (def = pd_registry_default(c->reg)) == NULL)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < c->n_all; i++) {
        const pd_openapi_model_t *m = &c->all[i];
        if (!any_version && !m->is_primary)
            continue;
        if (def && strcmp(m->name, def->name) != 0)
            continue;
        if (r && (r->outputs & PD_OUT_PROBA) && (m->schema->task != PD_TASK_CLASSIFICATION || !m->schema->proba_ok))
            continue;
        c->sel[n++] = m;
    }
    return n;
}

/* ---- operations ---- */

/* A path parameter; {name} and {version} list what the selection serves (once each). */
static json_t *path_param(const char *name, size_t len, const pd_openapi_op_t *op, int any)
{
    json_t *schema = json_pack("{s:s}", "type", "string"), *values = json_array();
    json_t *seen = json_object(); /* a set: the values listed so far */
    int is_name = len == 4 && memcmp(name, "name", 4) == 0;
    int is_version = len == 7 && memcmp(name, "version", 7) == 0;
    const char *what = is_name ? (any ? "a model of the repository" : "a loaded model")
                     : is_version ? "a loaded version of the model" : "a path segment";
    int rc = values && seen ? 0 : PD_ENOMEM;
    for (size_t i = 0; rc == 0 && !any && i < op->n_models && (is_name || is_version); i++) {
        const char *v = is_name ? op->models[i]->name : op->models[i]->version;
        if (json_object_get(seen, v) == NULL)
            rc = put(seen, v, json_true()) | json_array_append_new(values, json_string(v));
    }
    if (rc == 0 && json_array_size(values) > 0)
        rc = put(schema, "enum", json_incref(values));
    json_decref(values);
    json_decref(seen);
    if (rc < 0) {
        json_decref(schema);
        return NULL;
    }
    return json_pack("{s:s#,s:s,s:b,s:s,s:o}", "name", name, (int)len, "in", "path", "required",
                     1, "description", what, "schema", schema);
}

/* op->operation.parameters: one per {param} of op->path (none when it has no {param}). */
static int add_params(const pd_openapi_op_t *op, int any_name)
{
    json_t *params = json_array();
    int rc = params ? 0 : PD_ENOMEM;
    for (const char *p = strchr(op->path, '{'); p && rc == 0; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        if (end == NULL)
            break;
        json_t *prm = path_param(p + 1, (size_t)(end - p - 1), op, any_name);
        rc = json_array_append_new(params, prm) < 0 || prm == NULL ? PD_ENOMEM : 0;
    }
    if (json_array_size(params) == 0) {
        json_decref(params);
        return rc;
    }
    return rc ? (json_decref(params), rc) : put(op->operation, "parameters", params);
}

/* "post_models_name_predict": unique within the document. */
static int add_operation_id(pd__oa_t *c, json_t *op, const char *method, const char *path)
{
    char id[PD_OPENAPI_ID_MAX], uniq[PD_OPENAPI_ID_MAX + 16];
    size_t n = 0;
    for (const char *p = method; *p && n + 1 < sizeof id; p++)
        id[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    for (const char *p = path; *p && n + 1 < sizeof id; p++) {
        int word = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
        if (word)
            id[n++] = *p;
        else if (n > 0 && id[n - 1] != '_')
            id[n++] = '_';
    }
    while (n > 0 && id[n - 1] == '_')
        n--;
    id[n] = '\0';
    snprintf(uniq, sizeof uniq, "%s", id);
    for (unsigned k = 2; json_object_get(c->op_ids, uniq) != NULL; k++)
        snprintf(uniq, sizeof uniq, "%s_%u", id, k);
    int rc = put(c->op_ids, uniq, json_true());
    return rc ? rc : put(op, "operationId", json_string(uniq));
}

/* The errors every prediction route shares, with bodies the codec writes. */
static int shared_errors(const pd_openapi_op_t *op)
{
    static const struct {
        int status;
        const char *what, *message;
    } k_errs[] = {
        {404, "no such model or version is loaded", "no such model or version is loaded"},
        {413, "more rows than --max-rows, or a body over --max-body-size",
         "the body holds more than --max-rows rows (" PD_OPENAPI_STR(PD_ROWS_DEFAULT_MAX)
         " by default)"},
        {503, "the model's queue is full (Retry-After: 1), the default model is not loaded, "
              "or the model was unloaded", "the model's queue is full"},
        {504, "the request waited longer than --queue-timeout for a worker",
         "the request waited too long for a worker"},
    };
    int rc = 0;
    for (size_t i = 0; i < PD_ARRAY_SIZE(k_errs) && rc == 0; i++)
        if (k_errs[i].status != 404 || op->route->model == PD_PREDICT_MODEL_PARAM)
            rc = pd_openapi_error_response(op, k_errs[i].status, k_errs[i].what,
                                           k_errs[i].message);
    json_t *r503 = json_object_get(json_object_get(op->operation, "responses"), "503");
    if (rc == 0 && r503)
        rc = put(r503, "headers",
                 json_pack("{s:{s:s,s:{s:s}}}", "Retry-After", "description",
                           "seconds to wait, when the queue is full", "schema", "type",
                           "integer"));
    json_t *r200 = json_object_get(json_object_get(op->operation, "responses"), "200");
    if (rc == 0 && r200)
        rc = put(r200, "headers",
                 json_pack("{s:{s:s,s:{s:s}}}", "X-Model-Version", "description",
                           "the version that answered", "schema", "type", "string"));
    return rc;
}

/* The description of a prediction route: which model, where it runs. */
static json_t *route_text(pd__oa_t *c, const pd_predict_route_t *r)
{
    static const char *const k_where[] = {
        "The model runs on the worker pool, in chunks of --max-batch rows.",
        "The model runs on the event loop thread: every other request waits meanwhile "
        "(the article's anti-pattern, kept to be measured).",
        "The model runs on the event loop when rows x its cost per row is below "
        "--inline-below-us (loop_max_rows in GET /models), else on the worker pool in "
        "chunks of --max-batch rows."};
    char text[PD_OPENAPI_DESCRIPTION_MAX];
    const pd_served_model_t *def = pd_registry_default(c->reg);
    if (r->model == PD_PREDICT_MODEL_PARAM)
        snprintf(text, sizeof text, "%s The model is the path's {name}%s.", k_where[r->where],
                 strstr(r->path, "{version}") ? ", the version its {version}" : "");
    else if (def != NULL)
        snprintf(text, sizeof text, "%s Serves the default model, now '%s' (--default-model).",
                 k_where[r->where], def->name);
    else
        snprintf(text, sizeof text, "%s No default model is loaded now: it answers 503.",
                 k_where[r->where]);
    return json_string(text);
}

/* Documents a prediction route by its codec's row. */
static int predict_op(pd__oa_t *c, pd_openapi_op_t *op, const pd_predict_route_t *r)
{
    size_t n;
    const pd_openapi_codec_doc_t *docs = pd__openapi_codec_docs(&n), *doc = NULL;
    for (size_t i = 0; i < n && doc == NULL; i++)
        if (docs[i].codec == r->codec)
            doc = &docs[i];
    op->route = r;
    op->models = c->sel;
    op->n_models = select_models(c, r, strstr(r->path, "{version}") != NULL);
    int rc = put(op->operation, "summary", json_string(r->summary));
    rc |= put(op->operation, "description", route_text(c, r));
    rc |= put(op->operation, "tags", json_pack("[s]", doc ? doc->tag : r->codec->name));
    rc |= add_params(op, 0);
    if (rc == 0 && r->codec != &pd_codec_v2) /* V2 chooses outputs in its body */
        rc = pd_openapi_outputs_param(op, r->codec == &pd_codec_fastapi);
    if (rc == 0 && doc)
        rc = doc->describe(op);
    if (rc == 0 && doc == NULL) {
        rc = put(op->operation, "x-predictd-undocumented", json_true());
        rc |= put(op->operation, "requestBody",
                  json_pack("{s:{s:{s:{}}}}", "content", r->codec->content_type, "schema"));
        rc |= pd_openapi_response(op, 200, "the answer, in the codec's shape",
                                  r->codec->content_type, NULL, NULL);
    }
    return rc ? PD_ENOMEM : shared_errors(op);
}

/* Documents a route by its static row (d), or generically when d is NULL. */
static int static_op(pd__oa_t *c, pd_openapi_op_t *op, const pd_openapi_route_doc_t *d)
{
    op->models = c->sel;
    op->n_models = select_models(c, NULL, 0);
    if (d == NULL) {
        int rc = put(op->operation, "summary", json_sprintf("%s %s", op->method, op->path));
        rc |= put(op->operation, "tags", json_pack("[s]", "undocumented"));
        rc |= put(op->operation, "x-predictd-undocumented", json_true());
        rc |= add_params(op, 1);
        return rc ? PD_ENOMEM : pd_openapi_response(op, 200, "the route's answer", NULL, NULL,
                                                    NULL);
    }
    int rc = put(op->operation, "summary", json_string(d->summary));
    rc |= put(op->operation, "tags", json_pack("[s]", d->tag));
    if (d->description)
        rc |= put(op->operation, "description", json_string(d->description));
    if (d->flags & PD_OPENAPI_AUTH)
        rc |= put(op->operation, "security", json_pack("[{s:[]}]", "adminToken"));
    rc |= add_params(op, (d->flags & PD_OPENAPI_ANY_NAME) != 0);
    for (size_t i = 0; rc == 0 && i < PD_OPENAPI_MAX_RESPONSES && d->responses[i].status; i++) {
        const pd_openapi_response_t *r = &d->responses[i];
        int is_json = r->media && strcmp(r->media, PD_OPENAPI_MEDIA_JSON) == 0;
        json_t *ex = !r->example ? NULL : is_json ? json_loads(r->example, 0, NULL)
                                                  : json_string(r->example);
        json_t *schema = is_json ? pd_openapi_schema_of(ex) : json_pack("{s:s}", "type", "string");
        json_t *examples = ex ? json_object() : NULL;
        if (ex && pd_openapi_example(examples, "example", r->description, ex) < 0)
            rc = PD_ENOMEM;
        rc |= pd_openapi_response(op, r->status, r->description, r->media, schema, examples);
    }
    return rc == 0 && d->describe ? d->describe(op) : (rc ? PD_ENOMEM : 0);
}

/* Adds the operation of one router entry to c->paths. */
static int add_route(pd__oa_t *c, const pd_route_t *rt)
{
    char method[PD_ROUTER_MAX_METHOD];
    size_t i;
    for (i = 0; rt->method[i] && i + 1 < sizeof method; i++)
        method[i] = (char)(rt->method[i] >= 'A' && rt->method[i] <= 'Z' ? rt->method[i] + 32
                                                                       : rt->method[i]);
    method[i] = '\0';
    json_t *item = json_object_get(c->paths, rt->path);
    if (item == NULL && put(c->paths, rt->path, item = json_object()) < 0)
        return PD_ENOMEM;
    pd_openapi_op_t op = {rt->method, rt->path, NULL, NULL, 0, json_object(), c->schemas};
    if (put(item, method, op.operation) < 0 || add_operation_id(c, op.operation, method, rt->path))
        return PD_ENOMEM;
    size_t n;
    const pd_predict_route_t *pr = pd_predict_routes(&n);
    for (i = 0; i < n; i++)
        if (strcmp(pr[i].method, rt->method) == 0 && strcmp(pr[i].path, rt->path) == 0)
            return predict_op(c, &op, &pr[i]);
    const pd_openapi_route_doc_t *docs = pd__openapi_route_docs(&n);
    for (i = 0; i < n; i++)
        if (strcmp(docs[i].method, rt->method) == 0 && strcmp(docs[i].path, rt->path) == 0)
            return static_op(c, &op, &docs[i]);
    return static_op(c, &op, NULL);
}

/* The document's info: what it serves now. */
static json_t *info(const pd__oa_t *c)
{
    json_t *names = json_array();
    for (size_t i = 0; i < c->n_all; i++)
        if (c->all[i].is_primary)
            json_array_append_new(names, json_string(c->all[i].name));
    char *list = names ? json_dumps(names, JSON_COMPACT) : NULL;
    json_decref(names);
    const pd_served_model_t *def = pd_registry_default(c->reg);
    json_t *o = json_pack("{s:s,s:s,s:s++++}", "title", "predictd", "version", PD_VERSION,
                          "description",
                          "Prediction server for scikit-learn and XGBoost models. Generated "
                          "from the models loaded now: ", list ? list : "[]",
                          ". Default model: ", def ? def->name : "none",
                          ". GET /models tells each model's inputs, classes, versions and "
                          "cost; the schemas below are each model's input row.");
    free(list);
    return o;
}

/* The shared schemas of the codecs' rows, before any model's. */
static int shared_schemas(pd__oa_t *c)
{
    size_t n;
    const pd_openapi_codec_doc_t *docs = pd__openapi_codec_docs(&n);
    for (size_t i = 0; i < n; i++) {
        json_t *o = docs[i].components ? json_loads(docs[i].components, 0, NULL) : NULL;
        if (docs[i].components && (o == NULL || json_object_update(c->schemas, o) < 0)) {
            json_decref(o);
            return PD_ENOMEM; /* the table's JSON is tested: only memory can fail here */
        }
        json_decref(o);
    }
    return 0;
}

json_t *pd_openapi_document(const pd_router_t *router, pd_registry_t *reg)
{
    pd__oa_t c = {reg, NULL, 0, NULL, json_object(), json_object(), json_object()};
    json_t *doc = json_pack("{s:s,s:O,s:{s:O,s:{s:{s:s,s:s}}}}", "openapi", PD_OPENAPI_VERSION,
                            "paths", c.paths, "components", "schemas", c.schemas,
                            "securitySchemes", "adminToken", "type", "http", "scheme",
                            "bearer");
    int rc = doc ? shared_schemas(&c) : PD_ENOMEM;
    if (rc == 0)
        rc = collect_models(&c);
    for (size_t i = 0; rc == 0 && i < router->n; i++)
        rc = add_route(&c, &router->routes[i]);
    if (rc == 0)
        rc = put(doc, "info", info(&c));
    json_decref(c.paths);
    json_decref(c.schemas);
    json_decref(c.op_ids);
    free(c.all);
    free(c.sel);
    if (rc < 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* Appends to key what the document depends on in the registry: the installs so far (every
 * new or replaced version counts), the default model, and each model's state, primary and
 * versions. Equal keys: an equal document (the router does not change once serving). */
static int registry_key(pd_registry_t *reg, pd_buf_t *key)
{
    const void *def = pd_registry_default(reg);
    int rc = pd_buf_append(key, &reg->installs, sizeof reg->installs);
    rc |= pd_buf_append(key, &def, sizeof def);
    for (size_t i = 0; rc == 0 && i < reg->n; i++) {
        const pd_served_model_t *sm = reg->models[i];
        rc |= pd_buf_append(key, &sm->state, sizeof sm->state);
        rc |= pd_buf_append(key, &sm->primary, sizeof sm->primary);
        rc |= pd_buf_append(key, &sm->n_versions, sizeof sm->n_versions);
        rc |= pd_buf_append(key, sm->versions, sm->n_versions * sizeof sm->versions[0]);
    }
    return rc ? PD_ENOMEM : 0;
}

/* GET /openapi.json: the last document when the registry has not changed since (building
 * one costs O(models x features) on the loop), else a new one. */
static void openapi_handler(pd_http_request_t *req, void *ctx)
{
    pd_openapi_t *o = ctx;
    pd_buf_t key;
    pd_buf_init(&key, 0);
    int same = registry_key(o->reg, &key) == 0 && o->text != NULL && key.len == o->key.len &&
               memcmp(key.data, o->key.data, key.len) == 0;
    if (!same) {
        json_t *doc = pd_openapi_document(o->router, o->reg);
        free(o->text);
        o->text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
        o->len = o->text ? strlen(o->text) : 0;
        json_decref(doc);
        pd_buf_free(&o->key);
        o->key = key; /* moved */
        pd_buf_init(&key, 0);
    }
    pd_buf_free(&key);
    if (o->text == NULL) {
        pd_buf_free(&o->key);
        pd_http_respond_json(req, 500, PD_LIT("{\"detail\":\"out of memory\"}"));
        return;
    }
    pd_http_respond_json(req, 200, o->text, o->len);
}

int pd_openapi_create(pd_openapi_t **out, pd_router_t *router, pd_registry_t *reg)
{
    pd_openapi_t *o = calloc(1, sizeof *o);
    if (o == NULL)
        return PD_ENOMEM;
    o->router = router;
    o->reg = reg;
    pd_buf_init(&o->key, 0);
    int rc = pd_router_add(router, "GET", "/openapi.json", openapi_handler, o);
    if (rc < 0) {
        free(o);
        return rc;
    }
    *out = o;
    return 0;
}

void pd_openapi_destroy(pd_openapi_t *o)
{
    if (o == NULL)
        return;
    pd_buf_free(&o->key);
    free(o->text);
    free(o);
}
