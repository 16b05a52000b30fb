/* catalog.c - GET /models and GET /v1/models/{name} (see catalog.h), rendered with jansson
 * from the registry at request time. */
#include "api/catalog.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/predict.h"
#include "api/rows.h"
#include "common.h"
#include "http/http.h"

static const char *const k_states[] = {"loading", "ready", "failed", "unloaded"};

/* Each input with its type ("number" or "string"; a string input's vocabulary size, and
 * "unknown": "error" when an unknown category is refused) and whether it may be missing
 * (null or omitted). */
static json_t *inputs_json(const pd_model_schema_t *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < s->n_features; i++) {
        const pd_model_input_t *in = s->inputs ? &s->inputs[i] : NULL;
        json_t *o = json_pack("{s:s,s:s,s:b}", "name", s->feature_names[i], "type",
                              pd_model_input_type_name(in ? in->type : PD_INPUT_NUMBER),
                              "optional", s->missing_ok);
        if (o && in && in->type == PD_INPUT_STRING)
            json_object_set_new(o, "categories", json_integer((json_int_t)in->n_categories));
        if (o && in && in->unknown_error)
            json_object_set_new(o, "unknown", json_string("error"));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* Every output a request may choose (`outputs`, codec_outputs.h): predict,
 * predict_proba when the model computes probabilities, then its named outputs, each with
 * its width (values per row) and what it is. */
static json_t *outputs_json(const pd_model_schema_t *s)
{
    int cls = s->task == PD_TASK_CLASSIFICATION;
    json_t *arr = json_array();
    json_array_append_new(arr, json_pack("{s:s,s:I,s:s}", "name", "predict", "width",
                                         (json_int_t)1, "description",
                                         cls ? "the predicted class label"
                                             : "the predicted value"));
    if (cls && s->proba_ok)
        json_array_append_new(arr, json_pack("{s:s,s:I,s:s}", "name", "predict_proba", "width",
                                             (json_int_t)s->n_classes, "description",
                                             "the probability of each class, in the order of "
                                             "\"classes\""));
    for (size_t k = 0; k < s->n_outputs && k < PD_MODEL_MAX_OUTPUTS; k++) {
        const pd_model_output_t *o = &s->outputs[k];
        json_array_append_new(arr, json_pack("{s:s,s:I,s:s}", "name", o->name, "width",
                                             (json_int_t)o->width, "description",
                                             o->description ? o->description : ""));
    }
    return arr;
}

/* "POST /models/iris/predict", ... : every route of the table that serves this model (a
 * {version} route once per served version). */
static json_t *routes_json(const pd_served_model_t *sm, int is_default)
{
    size_t n;
    const pd_predict_route_t *t = pd_predict_routes(&n);
    const pd_model_schema_t *s = sm->primary->schema;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (t[i].model == PD_PREDICT_MODEL_DEFAULT && !is_default)
            continue;
        if ((t[i].outputs & PD_OUT_PROBA) && (s->task != PD_TASK_CLASSIFICATION || !s->proba_ok))
            continue;
        const char *at = strstr(t[i].path, "{name}");
        const char *ver = strstr(t[i].path, "{version}");
        if (at == NULL) {
            json_array_append_new(arr, json_sprintf("%s %s", t[i].method, t[i].path));
            continue;
        }
        for (size_t k = 0; k < (ver ? sm->n_versions : 1); k++) {
            if (ver == NULL) {
                json_array_append_new(arr, json_sprintf("%s %.*s%s%s", t[i].method,
                                                        (int)(at - t[i].path), t[i].path,
                                                        sm->name, at + 6));
                continue;
            }
            json_array_append_new(arr, json_sprintf("%s %.*s%s%.*s%s%s", t[i].method,
                                                    (int)(at - t[i].path), t[i].path, sm->name,
                                                    (int)(ver - at - 6), at + 6,
                                                    sm->versions[k]->label, ver + 9));
        }
    }
    return arr;
}

static json_t *versions_json(const pd_registry_t *reg, const pd_served_model_t *sm)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < sm->n_versions; i++) {
        const pd_model_version_t *v = sm->versions[i];
        pd_model_stats_t st;
        pd_model_stats(v->model, &st);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:f,s:I,s:I,s:I,s:I}", "version", v->label,
                                             "path", v->path, "cost_us_per_row", v->cost_us,
                                             "loop_max_rows",
                                             (json_int_t)pd_registry_loop_max_rows(reg, v),
                                             "trees", (json_int_t)st.n_trees, "nodes",
                                             (json_int_t)st.n_nodes, "bytes",
                                             (json_int_t)st.bytes));
    }
    return arr;
}

/* "feature_source": the store, the key and its request fields, the stored field of each
 * feature, and the source's state now. */
static json_t *fsource_json(const pd_fsource_spec_t *f, pd_fsources_t *fs,
                            const pd_model_schema_t *s)
{
    json_t *keys = json_array(), *fields = json_object();
    for (size_t i = 0; i < f->n_key_fields; i++)
        json_array_append_new(keys, json_string(f->key_fields[i]));
    for (size_t i = 0; i < f->n_features && i < s->n_features; i++)
        json_object_set_new(fields, s->feature_names[i], json_string(f->fields[i]));
    return json_pack("{s:s,s:s,s:s,s:o,s:o,s:s}", "kind", pd_fsource_spec_kind(f), "source", f->display,
                     "key", f->key, "key_fields", keys, "fields", fields, "state",
                     pd_fsources_state(fs, f));
}

/* The primary version's schema and costs, at the model's top level. */
static void primary_json(json_t *m, const pd_catalog_t *c, const pd_served_model_t *sm,
                         int is_default)
{
    const pd_registry_t *reg = c->reg;
    const pd_model_version_t *v = sm->primary;
    const pd_model_schema_t *s = v->schema;
    json_t *feats = json_array();
    for (size_t i = 0; i < s->n_features; i++)
        json_array_append_new(feats, json_string(s->feature_names[i]));
    json_object_set_new(m, "version", json_string(v->label));
    json_object_set_new(m, "source", json_string(s->source ? s->source : ""));
    json_object_set_new(m, "kind", json_string(s->kind ? s->kind : ""));
    json_object_set_new(m, "task", json_string(s->task == PD_TASK_CLASSIFICATION
                                                   ? "classification" : "regression"));
    json_object_set_new(m, "features", feats);
    json_object_set_new(m, "inputs", inputs_json(s));
    json_object_set_new(m, "missing_values", json_boolean(s->missing_ok));
    if (v->features != NULL)
        json_object_set_new(m, "feature_source", fsource_json(v->features, c->fsources, s));
    if (s->task == PD_TASK_CLASSIFICATION) {
        json_t *cls = json_array();
        for (size_t i = 0; i < s->n_classes; i++)
            json_array_append_new(cls, s->labels_are_strings
                                           ? json_string(s->class_labels_str[i])
                                           : json_integer((json_int_t)s->class_labels_int[i]));
        json_object_set_new(m, "classes", cls);
    }
    json_object_set_new(m, "outputs", outputs_json(s));
    json_object_set_new(m, "routes", routes_json(sm, is_default));
    size_t loop_rows = pd_registry_loop_max_rows(reg, v);
    json_object_set_new(m, "cost_us_per_row", json_real(v->cost_us));
    json_object_set_new(m, "predict_runs_on", json_string(loop_rows ? "loop" : "pool"));
    json_object_set_new(m, "loop_max_rows", json_integer((json_int_t)loop_rows));
}

static json_t *model_json(const pd_catalog_t *c, const pd_served_model_t *sm,
                          const pd_served_model_t *def)
{
    pd_registry_t *reg = c->reg;
    json_t *m = json_pack("{s:s,s:s,s:b,s:o}", "name", sm->name, "state", k_states[sm->state],
                          "default", sm == def, "versions", versions_json(reg, sm));
    if (m == NULL)
        return NULL;
    if (sm->reason[0] != '\0')
        json_object_set_new(m, "reason", json_string(sm->reason));
    if (sm->primary != NULL)
        primary_json(m, c, sm, sm == def);
    return m;
}

static void respond_json(pd_http_request_t *req, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(body);
    if (text == NULL) {
        static const char e[] = "{\"detail\":\"out of memory\"}";
        pd_http_respond_json(req, 500, e, PD_ARRAY_SIZE(e) - 1);
        return;
    }
    pd_http_respond_json(req, status, text, strlen(text));
    free(text);
}

static void models_handler(pd_http_request_t *req, void *ctx)
{
    const pd_catalog_t *c = ctx;
    pd_registry_t *reg = c->reg;
    const pd_served_model_t *def = pd_registry_default(reg);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < reg->n; i++)
        json_array_append_new(arr, model_json(c, reg->models[i], def));
    respond_json(req, 200, arr ? json_pack("{s:o}", "models", arr) : NULL);
}

/* GET /v1/models/{name}: KServe V1 model metadata. */
static void v1_model_handler(pd_http_request_t *req, void *ctx)
{
    pd_registry_t *reg = ((const pd_catalog_t *)ctx)->reg;
    const char *name = pd_http_request_param(req, "name");
    pd_served_model_t *sm = name ? pd_registry_find(reg, name) : NULL;
    if (sm == NULL || sm->primary == NULL) {
        respond_json(req, 404, json_pack("{s:s+}", "error", "no model named ", name ? name : ""));
        return;
    }
    respond_json(req, 200, json_pack("{s:s,s:b,s:o}", "name", sm->name, "ready", 1, "outputs",
                                     outputs_json(sm->primary->schema)));
}

int pd_catalog_register(pd_router_t *router, pd_catalog_t *c)
{
    int rc = pd_router_add(router, "GET", "/models", models_handler, c);
    if (rc == 0)
        rc = pd_router_add(router, "GET", "/v1/models/{name}", v1_model_handler, c);
    return rc;
}
