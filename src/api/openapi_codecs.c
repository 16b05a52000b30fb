/* openapi_codecs.c - how GET /openapi.json documents the routes of each codec (openapi.h):
 * one row per codec with its tag, the shared schemas it refers to and a describe hook
 * that writes the request body (a schema over the models the route serves now, and an
 * example per model), the 200 answer (an example per model) and the errors only that codec
 * gives. Adding a protocol: a row here (a codec without one is listed as undocumented).
 *
 * Stateless; loop thread (it builds jansson objects of the document being answered). */
#include <string.h>

#include "api/codec.h"
#include "api/openapi.h"
#include "api/rows.h"
#include "common.h"

#define PD_OPENAPI_EXAMPLE_KEY_MAX (PD_OPENAPI_COMPONENT_MAX + 16)

/* FastAPI 0.92's own schemas of a 422 (fastapi.openapi.utils), by their names. */
#define FASTAPI_SCHEMAS                                                                        \
    "{\"HTTPValidationError\":{\"title\":\"HTTPValidationError\",\"type\":\"object\","         \
    "\"properties\":{\"detail\":{\"title\":\"Detail\",\"type\":\"array\",\"items\":"          \
    "{\"$ref\":\"#/components/schemas/ValidationError\"}}}},"                                 \
    "\"ValidationError\":{\"title\":\"ValidationError\",\"required\":[\"loc\",\"msg\","       \
    "\"type\"],\"type\":\"object\",\"properties\":{\"loc\":{\"title\":\"Location\","          \
    "\"type\":\"array\",\"items\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}}," \
    "\"msg\":{\"title\":\"Message\",\"type\":\"string\"},\"type\":{\"title\":\"Error Type\","  \
    "\"type\":\"string\"}}}}"

/* One result: a class label (integer or string) or a regressor's value. */
#define LABEL_SCHEMA \
    "{s:s,s:[{s:s},{s:s}]}", "description", \
    "the class label (as the model's classes), or the value of a regressor", "anyOf", \
    "type", "string", "type", "number"

/* 1 when op->models[i] has the input row of an earlier one: a version that shares its
 * primary's, listed (op->models keeps the registry's order: a model's primary, then its
 * other versions). */
static int seen_before(const pd_openapi_op_t *op, size_t i)
{
    const pd_openapi_model_t *m = op->models[i];
    if (!m->same_as_primary)
        return 0;
    for (size_t j = i; j-- > 0 && op->models[j]->name == m->name;)
        if (op->models[j]->is_primary)
            return 1;
    return 0;
}

/* 1 when op->models[i] gets examples: a distinct input row among the first
 * PD_OPENAPI_MAX_EXAMPLE_MODELS of the operation. *n counts those given so far. */
static int exemplify(const pd_openapi_op_t *op, size_t i, size_t *n)
{
    if (seen_before(op, i) || *n >= PD_OPENAPI_MAX_EXAMPLE_MODELS)
        return 0;
    ++*n;
    return 1;
}

/* "<component><suffix>": the key of a model's example. */
static const char *example_key(char *buf, const pd_openapi_model_t *m, const char *suffix)
{
    snprintf(buf, PD_OPENAPI_EXAMPLE_KEY_MAX, "%s%s", m->component, suffix);
    return buf;
}

/* requestBody: content[media] with the schema and examples (both stolen). */
static int request_body(const pd_openapi_op_t *op, const char *media, json_t *schema,
                        json_t *examples)
{
    json_t *m = json_pack("{s:o}", "schema", schema ? schema : json_object());
    int rc = examples && json_object_size(examples) ? pd_openapi_put(m, "examples", examples)
                                                    : (json_decref(examples), 0);
    json_t *body = json_object_get(op->operation, "requestBody");
    if (body == NULL) {
        body = json_pack("{s:b,s:{}}", "required", 1, "content");
        rc |= pd_openapi_put(op->operation, "requestBody", body);
    }
    rc |= pd_openapi_put(json_object_get(body, "content"), media, m);
    return rc ? PD_ENOMEM : 0;
}

/* The 200 answer: schema (stolen) and, per model, `answer(model)` as one row's example and
 * as two rows' ({"x": a} -> {"xs": [a, a]} when many is not NULL). */
static int answer_200(const pd_openapi_op_t *op, json_t *schema, const char *one,
                      const char *many, int as_list)
{
    int proba = (op->route->outputs & PD_OUT_PROBA) != 0;
    json_t *examples = json_object();
    int rc = examples ? 0 : PD_ENOMEM;
    char key[PD_OPENAPI_EXAMPLE_KEY_MAX];
    size_t shown = 0;
    for (size_t i = 0; rc == 0 && i < op->n_models; i++) {
        if (!exemplify(op, i, &shown))
            continue;
        const pd_model_schema_t *s = op->models[i]->schema;
        json_t *v = proba ? pd_openapi_example_proba(s) : pd_openapi_example_label(s);
        json_t *two = json_pack("[O,O]", v, v);
        if (one != NULL && !as_list)
            rc |= pd_openapi_example(examples, example_key(key, op->models[i], ""),
                                     op->models[i]->name, json_pack("{s:O}", one, v));
        rc |= pd_openapi_example(examples, example_key(key, op->models[i], "-list"),
                                 op->models[i]->name, json_pack("{s:o}", many, two));
        json_decref(v);
    }
    return rc ? (json_decref(schema), json_decref(examples), PD_ENOMEM)
              : pd_openapi_response(op, 200, "Successful Response", PD_OPENAPI_MEDIA_JSON,
                                    schema, examples);
}

/* ---- FastAPI-style: InputData | List[InputData] ---- */

static int fastapi_request(const pd_openapi_op_t *op)
{
    json_t *any = json_array(), *examples = json_object();
    int rc = any && examples ? 0 : PD_ENOMEM;
    char key[PD_OPENAPI_EXAMPLE_KEY_MAX], what[PD_OPENAPI_EXAMPLE_KEY_MAX + 64];
    size_t shown = 0;
    for (size_t i = 0; rc == 0 && i < op->n_models; i++) {
        const pd_openapi_model_t *m = op->models[i];
        if (seen_before(op, i))
            continue;
        rc |= json_array_append_new(any, pd_openapi_ref(m->component));
        rc |= json_array_append_new(any, json_pack("{s:s+,s:s,s:o}", "title", "List of ",
                                                   m->component, "type", "array", "items",
                                                   pd_openapi_ref(m->component)));
        if (!exemplify(op, i, &shown))
            continue;
        snprintf(what, sizeof what, "%s: one row", m->name);
        rc |= pd_openapi_example(examples, example_key(key, m, ""), what,
                                 pd_openapi_example_row(m->schema, 0));
        snprintf(what, sizeof what, "%s: a list of rows%s", m->name,
                 m->schema->missing_ok ? " (the second omits a feature: missing)" : "");
        rc |= pd_openapi_example(examples, example_key(key, m, "-list"), what,
                                 json_pack("[o,o]", pd_openapi_example_row(m->schema, 0),
                                           pd_openapi_example_row(m->schema,
                                                                  m->schema->missing_ok)));
    }
    json_t *schema = json_array_size(any) == 0 ? json_pack("{s:s}", "type", "object")
                     : json_array_size(any) == 1 ? json_incref(json_array_get(any, 0))
                                                 : json_pack("{s:O}", "anyOf", any);
    json_decref(any);
    if (rc) {
        json_decref(schema);
        json_decref(examples);
        return PD_ENOMEM;
    }
    return request_body(op, PD_OPENAPI_MEDIA_JSON, schema, examples);
}

/* 422: FastAPI's HTTPValidationError, with a missing feature as the example; on a
 * probability route also {"detail": "..."} for a regressor (predict.c). */
static int fastapi_422(const pd_openapi_op_t *op)
{
    const pd_model_schema_t *s = op->n_models ? op->models[0]->schema : NULL;
    const char *f = s && s->n_features ? s->feature_names[s->n_features - 1] : "feature1";
    int proba = (op->route->outputs & PD_OUT_PROBA) != 0;
    json_t *examples = json_object();
    int rc = pd_openapi_example(examples, "missing", "a required feature is missing",
                                json_pack("{s:[{s:[s,s],s:s,s:s}]}", "detail", "loc", "body", f,
                                          "msg", "field required", "type",
                                          "value_error.missing"));
    if (rc == 0 && proba)
        rc = pd_openapi_example(examples, "regressor", "the model is a regressor",
                                json_pack("{s:s}", "detail", "this model is a regressor: it "
                                                             "has no probabilities"));
    json_t *schema = pd_openapi_ref("HTTPValidationError");
    if (proba)
        schema = json_pack("{s:[o,{s:s,s:{s:{s:s}}}]}", "anyOf", schema, "type", "object",
                           "properties", "detail", "type", "string");
    if (rc < 0) {
        json_decref(examples);
        json_decref(schema);
        return rc;
    }
    return pd_openapi_response(op, 422, "Validation Error", PD_OPENAPI_MEDIA_JSON, schema,
                               examples);
}

static int describe_fastapi(const pd_openapi_op_t *op)
{
    int proba = (op->route->outputs & PD_OUT_PROBA) != 0;
    json_t *schema;
    if (proba)
        schema = json_pack("{s:s,s:{s:{s:[{s:s,s:{s:s}},{s:s,s:{s:s,s:{s:s}}}]}}}", "type",
                           "object", "properties", "probabilities", "anyOf", "type", "object",
                           "additionalProperties", "type", "number", "type", "array", "items",
                           "type", "object", "additionalProperties", "type", "number");
    else
        schema = json_pack("{s:s,s:{s:o,s:{s:s,s:o}}}", "type", "object", "properties",
                           "prediction", json_pack(LABEL_SCHEMA), "predictions", "type",
                           "array", "items", json_pack(LABEL_SCHEMA));
    int rc = fastapi_request(op);
    if (rc < 0) {
        json_decref(schema);
        return rc;
    }
    rc = answer_200(op, schema, proba ? "probabilities" : "prediction",
                    proba ? "probabilities" : "predictions", 0);
    return rc < 0 ? rc : fastapi_422(op);
}

/* ---- KServe V1: {"instances": [...]} ---- */

static int describe_v1(const pd_openapi_op_t *op)
{
    json_t *items = json_array(), *examples = json_object();
    int rc = items && examples ? 0 : PD_ENOMEM;
    rc |= json_array_append_new(items, json_pack("{s:s,s:s,s:{s:s}}", "description",
                                                 "every feature, in the model's order", "type",
                                                 "array", "items", "type", "number"));
    char key[PD_OPENAPI_EXAMPLE_KEY_MAX];
    size_t shown = 0;
    for (size_t i = 0; rc == 0 && i < op->n_models; i++) {
        const pd_openapi_model_t *m = op->models[i];
        if (seen_before(op, i))
            continue;
        rc |= json_array_append_new(items, pd_openapi_ref(m->component));
        if (!exemplify(op, i, &shown))
            continue;
        rc |= pd_openapi_example(examples, example_key(key, m, ""), m->name,
                                 json_pack("{s:[o]}", "instances",
                                           pd_openapi_example_values(m->schema)));
        rc |= pd_openapi_example(examples, example_key(key, m, "-objects"), m->name,
                                 json_pack("{s:[o]}", "instances",
                                           pd_openapi_example_row(m->schema, 0)));
    }
    json_t *schema = json_pack(
        "{s:s,s:s,s:{s:{s:s,s:{s:O}},s:{s:s}}}", "type", "object", "description",
        "exactly one of instances (a list of rows: lists in feature order or objects of "
        "features) and inputs (the same list, or TF Serving's columns: feature -> values)",
        "properties", "instances", "type", "array", "items", "anyOf", items, "inputs",
        "description", "a list as instances, or an object of feature -> list of values");
    json_decref(items);
    rc |= request_body(op, PD_OPENAPI_MEDIA_JSON, schema, rc ? (json_decref(examples), NULL)
                                                              : examples);
    int proba = (op->route->outputs & PD_OUT_PROBA) != 0;
    json_t *answer = json_pack("{s:s,s:{s:{s:s,s:o}}}", "type", "object", "properties",
                               "predictions", "type", "array", "items",
                               proba ? json_pack("{s:s,s:{s:s}}", "type", "array", "items",
                                                 "type", "number")
                                     : json_pack(LABEL_SCHEMA));
    rc |= rc ? (json_decref(answer), 0) : answer_200(op, answer, NULL, "predictions", 1);
    return rc ? PD_ENOMEM
              : pd_openapi_error_response(op, 400, "a body the protocol refuses",
                                          "instance 0: expected 4 values, got 2");
}

/* ---- MLflow / SageMaker: dataframe_split, dataframe_records, instances, inputs, CSV ---- */

/* Appends a CSV field: quoted (quotes doubled) when it holds a comma, quote or newline. */
static int csv_field(pd_buf_t *csv, const char *f)
{
    if (strpbrk(f, ",\"\r\n") == NULL)
        return pd_buf_puts(csv, f);
    int rc = pd_buf_puts(csv, "\"");
    for (const char *p = f; *p && rc == 0; p++)
        rc = pd_buf_append(csv, p, 1) | (*p == '"' ? pd_buf_puts(csv, "\"") : 0);
    return rc ? rc : pd_buf_puts(csv, "\"");
}

/* The JSON bodies' examples for model m, and its CSV example (appended to csv). */
static int mlflow_examples(const pd_openapi_model_t *m, json_t *examples, pd_buf_t *csv)
{
    char key[PD_OPENAPI_EXAMPLE_KEY_MAX];
    json_t *cols = json_array();
    for (size_t k = 0; cols && k < m->schema->n_features; k++)
        json_array_append_new(cols, json_string(m->schema->feature_names[k]));
    int rc = pd_openapi_example(examples, example_key(key, m, "-split"), m->name,
                                json_pack("{s:{s:o,s:[o]}}", "dataframe_split", "columns", cols,
                                          "data", pd_openapi_example_values(m->schema)));
    rc |= pd_openapi_example(examples, example_key(key, m, "-records"), m->name,
                             json_pack("{s:[o]}", "dataframe_records",
                                       pd_openapi_example_row(m->schema, 0)));
    for (size_t k = 0; k < m->schema->n_features; k++) /* the header, then one row */
        rc |= csv_field(csv, m->schema->feature_names[k]) |
              pd_buf_puts(csv, k + 1 < m->schema->n_features ? "," : "\n");
    for (size_t k = 0; k < m->schema->n_features && rc == 0; k++)
        rc |= pd_buf_puts(csv, k + 1 < m->schema->n_features ? "0.0," : "0.0\n");
    return rc ? PD_ENOMEM : 0;
}

static int describe_mlflow(const pd_openapi_op_t *op)
{
    json_t *examples = json_object();
    pd_buf_t csv;
    pd_buf_init(&csv, 0);
    int rc = examples ? 0 : PD_ENOMEM;
    if (rc == 0 && op->n_models > 0) /* the default model's: /invocations serves it */
        rc = mlflow_examples(op->models[0], examples, &csv);
    json_t *schema = json_pack(
        "{s:s,s:s,s:{s:{s:s,s:{s:{s:s,s:{s:s}},s:{s:s,s:{}},s:{s:s,s:{s:s}}},s:[s]},"
        "s:{s:s,s:{s:s,s:{s:s}}},s:{s:s,s:{}},s:{}}}",
        "type", "object", "description",
        "exactly one of dataframe_split (columns matched by name), dataframe_records, "
        "instances and inputs; other fields (params) are ignored",
        "properties", "dataframe_split", "type", "object", "properties", "columns", "type",
        "array", "items", "type", "string", "index", "type", "array", "items", "data", "type",
        "array", "items", "type", "array", "required", "data", "dataframe_records", "type",
        "array", "items", "type", "object", "additionalProperties", "type", "number",
        "instances", "type", "array", "items", "inputs");
    rc |= request_body(op, PD_OPENAPI_MEDIA_JSON, schema, rc ? (json_decref(examples), NULL)
                                                              : examples);
    json_t *csv_ex = json_object();
    if (csv.len)
        rc |= pd_openapi_example(csv_ex, "csv", "a header of feature names, then rows",
                                 json_string(csv.data));
    pd_buf_free(&csv);
    rc |= request_body(op, "text/csv", json_pack("{s:s}", "type", "string"), csv_ex);
    json_t *answer = json_pack("{s:s,s:{s:{s:s,s:o}}}", "type", "object", "properties",
                               "predictions", "type", "array", "items", json_pack(LABEL_SCHEMA));
    rc |= rc ? (json_decref(answer), 0) : answer_200(op, answer, NULL, "predictions", 1);
    if (rc == 0)
        rc = pd_openapi_error_response(op, 400, "a body the protocol refuses",
                                       "The input must be a JSON dictionary with exactly one of "
                                       "the input fields {'dataframe_split', "
                                       "'dataframe_records', 'instances', 'inputs'}");
    return rc ? rc
              : pd_openapi_error_response(op, 415, "neither application/json nor text/csv",
                                          "This predictor only supports the following content "
                                          "types: Types: ['text/csv', 'application/json']. Got "
                                          "'text/plain'.");
}

/* ---- KServe V2 / Open Inference Protocol: {"inputs": [tensors]} ---- */

/* The request's tensor: name, shape, datatype, data (flat or nested). */
#define V2_TENSOR_SCHEMA                                                                   \
    "{s:s,s:[s,s,s],s:{s:{s:s},s:{s:s,s:{s:s}},s:{s:s,s:[s,s,s,s,s,s,s,s,s,s,s,s]},"      \
    "s:{s:s},s:{s:s}}}"

static json_t *v2_tensor_schema(void)
{
    return json_pack(V2_TENSOR_SCHEMA, "type", "object", "required", "name", "shape",
                     "datatype", "properties", "name", "type", "string", "shape", "type",
                     "array", "items", "type", "integer", "datatype", "type", "string", "enum",
                     "BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32",
                     "UINT64", "FP16", "FP32", "FP64", "data", "description",
                     "the values, flat or nested, row-major (absent with binary_data_size)",
                     "parameters", "description", "binary_data_size: the tensor's bytes "
                     "after the JSON header (binary tensor extension)");
}

/* One example request per model: the [N, n_features] tensor input-0 of one row. */
static json_t *v2_example(const pd_openapi_model_t *m)
{
    json_t *values = pd_openapi_example_values(m->schema);
    return json_pack("{s:s,s:[{s:s,s:[i,I],s:s,s:o}]}", "id", "42", "inputs", "name",
                     "input-0", "shape", 1, (json_int_t)m->schema->n_features, "datatype",
                     "FP64", "data", values);
}

static int describe_v2(const pd_openapi_op_t *op)
{
    json_t *examples = json_object();
    char key[PD_OPENAPI_EXAMPLE_KEY_MAX];
    size_t shown = 0;
    int rc = examples ? 0 : PD_ENOMEM;
    for (size_t i = 0; rc == 0 && i < op->n_models; i++)
        if (!seen_before(op, i) && exemplify(op, i, &shown))
            rc |= pd_openapi_example(examples, example_key(key, op->models[i], ""),
                                     op->models[i]->name, v2_example(op->models[i]));
    json_t *schema = json_pack(
        "{s:s,s:s,s:[s],s:{s:{s:s},s:{s:s},s:{s:s,s:o},s:{s:s,s:s}}}", "type", "object",
        "description", "either the tensor input-0, shape [N, n_features], or one tensor per "
        "feature named by the feature, shape [N] or [N, 1]; with Inference-Header-Content-"
        "Length the body is this JSON header followed by the binary tensors",
        "required", "inputs", "properties", "id", "type", "string", "parameters", "type",
        "object", "inputs", "type", "array", "items", v2_tensor_schema(), "outputs",
        "type", "array", "description", "[{\"name\": \"predict\" | \"predict_proba\" | a "
        "named output of the model (decision_function, score_samples, transform, ...: "
        "GET /v2/models/{name} lists them), \"parameters\": {\"binary_data\": true}}]; only "
        "those are answered; none: predict and predict_proba");
    rc |= request_body(op, PD_OPENAPI_MEDIA_JSON, schema, rc ? (json_decref(examples), NULL)
                                                              : examples);
    json_t *ex = json_pack("{s:s,s:s,s:s,s:[{s:s,s:s,s:[i],s:[s]}]}", "model_name", "iris",
                           "model_version", "1", "id", "42", "outputs", "name", "predict",
                           "datatype", "BYTES", "shape", 1, "data", "setosa");
    json_t *answer = json_pack(
        "{s:s,s:[s,s],s:{s:{s:s},s:{s:s},s:{s:s},s:{s:s,s:{s:s,s:{s:{s:s},s:{s:s},"
        "s:{s:s,s:{s:s}},s:{s:s,s:s,s:{}},s:{s:s}}}}}}",
        "type", "object", "required", "model_name", "outputs", "properties", "model_name",
        "type", "string", "model_version", "type", "string", "id", "type", "string",
        "outputs", "type", "array", "items", "type", "object", "properties", "name", "type",
        "string", "datatype", "type", "string", "shape", "type", "array", "items", "type",
        "integer", "data", "type", "array", "description", "labels (INT64 or BYTES), values "
        "or probabilities (FP64); absent for a binary output", "items", "parameters", "type",
        "object");
    json_t *answers = ex ? json_pack("{s:{s:O}}", "iris", "value", ex) : NULL;
    json_decref(ex);
    rc |= answer == NULL || answers == NULL;
    rc |= pd_openapi_response(op, 200, "the outputs (binary ones follow the JSON header when "
                              "Inference-Header-Content-Length is set)", PD_OPENAPI_MEDIA_JSON,
                              answer, answers); /* steals both, NULL or not */
    return rc ? PD_ENOMEM
              : pd_openapi_error_response(op, 400, "a request the protocol refuses",
                                          "input 'input-0': shape [1,3] does not match 4 "
                                          "features");
}

static const pd_openapi_codec_doc_t k_codecs[] = {
    {&pd_codec_fastapi, "predict (FastAPI-style)", FASTAPI_SCHEMAS, describe_fastapi},
    {&pd_codec_v1, "KServe V1", NULL, describe_v1},
    {&pd_codec_mlflow, "MLflow / SageMaker", NULL, describe_mlflow},
    {&pd_codec_v2, "KServe V2", NULL, describe_v2},
};

const pd_openapi_codec_doc_t *pd__openapi_codec_docs(size_t *n)
{
    *n = PD_ARRAY_SIZE(k_codecs);
    return k_codecs;
}
