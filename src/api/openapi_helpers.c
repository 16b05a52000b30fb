/* openapi_helpers.c - the building blocks describe hooks use (openapi.h): references,
 * example rows and answers for a model, schemas derived from examples, responses.
 * Stateless; every function returns a new reference (or 0 / PD_ENOMEM) and releases what
 * it was given on failure, so callers can chain them. Loop thread (jansson objects are
 * not shared). */
#include <stdio.h>
#include <string.h>

#include "api/codec.h"
#include "api/openapi.h"
#include "common.h"

/* json_object_set_new that reports failure as PD_ENOMEM (v is released either way). */
int pd_openapi_put(json_t *obj, const char *key, json_t *v)
{
    if (obj == NULL || v == NULL) {
        json_decref(v);
        return PD_ENOMEM;
    }
    return json_object_set_new(obj, key, v) < 0 ? PD_ENOMEM : 0;
}

json_t *pd_openapi_ref(const char *component)
{
    return json_pack("{s:s+}", "$ref", "#/components/schemas/", component);
}

json_t *pd_openapi_example_row(const pd_model_schema_t *s, int skip_last)
{
    json_t *row = json_object();
    size_t n = s->n_features - (skip_last && s->n_features > 1 ? 1 : 0);
    for (size_t i = 0; row && i < n; i++)
        if (pd_openapi_put(row, s->feature_names[i], json_real(0.0)) < 0) {
            json_decref(row);
            return NULL;
        }
    return row;
}

json_t *pd_openapi_example_values(const pd_model_schema_t *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < s->n_features; i++)
        if (json_array_append_new(arr, json_real(0.0)) < 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

json_t *pd_openapi_example_label(const pd_model_schema_t *s)
{
    if (s->task != PD_TASK_CLASSIFICATION || s->n_classes == 0)
        return json_real(0.0);
    return s->labels_are_strings ? json_string(s->class_labels_str[0])
                                 : json_integer((json_int_t)s->class_labels_int[0]);
}

json_t *pd_openapi_example_proba(const pd_model_schema_t *s)
{
    if (s->task != PD_TASK_CLASSIFICATION || s->n_classes == 0)
        return NULL;
    json_t *o = json_object();
    char key[32];
    for (size_t k = 0; o && k < s->n_classes; k++) {
        const char *name = key;
        if (s->labels_are_strings)
            name = s->class_labels_str[k];
        else
            snprintf(key, sizeof key, "%lld", (long long)s->class_labels_int[k]);
        if (pd_openapi_put(o, name, json_real(1.0 / (double)s->n_classes)) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *pd_openapi_schema_of(const json_t *ex)
{
    if (ex == NULL)
        return json_object(); /* any value */
    switch (json_typeof(ex)) {
    case JSON_OBJECT: {
        json_t *props = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)ex, k, v)
            if (pd_openapi_put(props, k, pd_openapi_schema_of(v)) < 0) {
                json_decref(props);
                return NULL;
            }
        return json_pack("{s:s,s:o}", "type", "object", "properties", props);
    }
    case JSON_ARRAY:
        return json_array_size(ex)
                   ? json_pack("{s:s,s:o}", "type", "array", "items",
                               pd_openapi_schema_of(json_array_get(ex, 0)))
                   : json_pack("{s:s,s:{}}", "type", "array", "items");
    case JSON_STRING:
        return json_pack("{s:s}", "type", "string");
    case JSON_INTEGER:
        return json_pack("{s:s}", "type", "integer");
    case JSON_REAL:
        return json_pack("{s:s}", "type", "number");
    case JSON_TRUE:
    case JSON_FALSE:
        return json_pack("{s:s}", "type", "boolean");
    default:
        return json_pack("{s:b}", "nullable", 1);
    }
}

int pd_openapi_response(const pd_openapi_op_t *op, int status, const char *description,
                        const char *media, json_t *schema, json_t *examples)
{
    json_t *responses = json_object_get(op->operation, "responses");
    if (responses == NULL) {
        responses = json_object();
        if (pd_openapi_put(op->operation, "responses", responses) < 0)
            responses = NULL;
    }
    json_t *r = json_pack("{s:s}", "description", description);
    int rc = 0;
    if (media != NULL) {
        json_t *m = json_object();
        rc |= pd_openapi_put(m, "schema", schema ? schema : json_object());
        if (examples != NULL)
            rc |= pd_openapi_put(m, "examples", examples);
        rc |= pd_openapi_put(r, "content", json_pack("{s:o}", media, m));
    } else {
        json_decref(schema);
        json_decref(examples);
    }
    char code[16];
    snprintf(code, sizeof code, "%d", status);
    rc |= pd_openapi_put(responses, code, r);
    return rc ? PD_ENOMEM : 0;
}

int pd_openapi_example(json_t *examples, const char *key, const char *summary, json_t *value)
{
    return pd_openapi_put(examples, key,
                          json_pack("{s:s,s:o}", "summary", summary, "value", value));
}


int pd_openapi_error_response(const pd_openapi_op_t *op, int status, const char *description,
                              const char *message)
{
    const pd_codec_t *codec = op->route->codec;
    pd_buf_t b;
    pd_buf_init(&b, 0);
    json_t *ex = NULL;
    if (codec->error(status, message, &b) == 0 && b.data)
        ex = json_loads(b.data, 0, NULL);
    pd_buf_free(&b);
    json_t *schema = pd_openapi_schema_of(ex), *examples = json_object();
    int rc = ex ? pd_openapi_example(examples, "error", description, ex) : 0;
    if (rc < 0) {
        json_decref(schema);
        json_decref(examples);
        return rc;
    }
    return pd_openapi_response(op, status, description, codec->content_type, schema, examples);
}

/* Adds name to the array names unless it is there. */
static int add_name(json_t *names, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
        if (strcmp(json_string_value(v), name) == 0)
            return 0;
    return json_array_append_new(names, json_string(name)) < 0 ? PD_ENOMEM : 0;
}

int pd_openapi_outputs_param(const pd_openapi_op_t *op, int replace)
{
    json_t *names = json_array();
    int rc = names ? add_name(names, "predict") : PD_ENOMEM;
    for (size_t i = 0; rc == 0 && i < op->n_models; i++) {
        const pd_model_schema_t *s = op->models[i]->schema;
        if (s->task == PD_TASK_CLASSIFICATION && s->proba_ok)
            rc = add_name(names, "predict_proba");
        for (size_t k = 0; rc == 0 && k < s->n_outputs && k < PD_MODEL_MAX_OUTPUTS; k++)
            rc = add_name(names, s->outputs[k].name);
    }
    const char *what = replace
        ? "the outputs to answer, replacing the route's: predict -> \"prediction(s)\", "
          "predict_proba -> \"probabilities\", a named output (decision_function, "
          "score_samples, transform, ...) -> a member of its own name (a number per row when "
          "it is one value wide, else a list); each model's outputs are listed by GET /models. "
          "An unknown name answers 422"
        : "outputs to answer beside \"predictions\" (which stays), each a member of its own "
          "name (a number per row when one value wide, else a list); each model's outputs "
          "are listed by GET /models. An unknown name answers 400";
    json_t *prm = rc ? NULL : json_pack("{s:s,s:s,s:b,s:s,s:b,s:s,s:{s:s,s:{s:s,s:O}}}", "name",
                                        "outputs", "in", "query", "required", 0, "style",
                                        "form", "explode", 0, "description", what, "schema",
                                        "type", "array", "items", "type", "string", "enum",
                                        names);
    json_decref(names);
    json_t *params = json_object_get(op->operation, "parameters");
    if (prm == NULL)
        return PD_ENOMEM;
    if (params == NULL)
        return pd_openapi_put(op->operation, "parameters", json_pack("[o]", prm));
    return json_array_append_new(params, prm) < 0 ? PD_ENOMEM : 0;
}
