/* v2_api.c - the Open Inference Protocol's server metadata, model metadata, model
 * readiness and statistics endpoints (see v2_api.h), rendered with jansson from the
 * registry at request time. Stateless: the context is the registry; every body is built
 * per request and bounded by the registry's limits (models, versions, batch sizes). */
#include "api/v2_api.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec_v2_internal.h"
#include "common.h"
#include "http/http.h"

#ifndef PD_VERSION
#define PD_VERSION "0.0.0"
#endif

/* The name the metadata gives the [N, n_features] input: "input-0" as KServe's examples,
 * or the first "input-<k>" that is no feature's name (any such name is accepted). */
#define PD_V2_MATRIX_NAME_MAX 32

static void respond(pd_http_request_t *req, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL) {
        pd_http_respond_json(req, 500, PD_LIT("{\"error\":\"out of memory\"}"));
        return;
    }
    pd_http_respond_json(req, status, text, strlen(text));
    free(text);
}

static void respond_error(pd_http_request_t *req, int status, json_t *message)
{
    respond(req, status, message ? json_pack("{s:o}", "error", message) : NULL);
}

/* The model the path names, and the version it names (its primary when it names none,
 * NULL when that version is not served). Answers 404 itself and returns -1 for an
 * unknown model; with need_version, also for a version not served. */
static int lookup(pd_registry_t *reg, pd_http_request_t *req, int need_version,
                  pd_served_model_t **sm, pd_model_version_t **v)
{
    const char *name = pd_http_request_param(req, "name");
    const char *label = pd_http_request_param(req, "version");
    *sm = name ? pd_registry_find(reg, name) : NULL;
    *v = NULL;
    if (*sm == NULL) {
        respond_error(req, 404, json_sprintf("unknown model '%s'", name ? name : ""));
        return -1;
    }
    if (label == NULL)
        *v = (*sm)->primary;
    for (size_t i = 0; label && i < (*sm)->n_versions; i++)
        if (strcmp((*sm)->versions[i]->label, label) == 0)
            *v = (*sm)->versions[i];
    if (*v == NULL && need_version) {
        respond_error(req, 404, label ? json_sprintf("model '%s' has no version '%s' loaded",
                                                     name, label)
                                      : json_sprintf("model '%s' has no version loaded", name));
        return -1;
    }
    return 0;
}

/* ---- server and model metadata ---- */

static void server_handler(pd_http_request_t *req, void *ctx)
{
    (void)ctx;
    respond(req, 200, json_pack("{s:s,s:s,s:[s,s]}", "name", "predictd", "version", PD_VERSION,
                                "extensions", "binary_tensor_data", "statistics"));
}

static json_t *tensor(const char *name, const char *datatype, json_int_t d0, json_int_t d1,
                      int rank)
{
    json_t *shape = rank == 1 ? json_pack("[I]", d0) : json_pack("[I,I]", d0, d1);
    return json_pack("{s:s,s:s,s:o}", "name", name, "datatype", datatype, "shape", shape);
}

static void matrix_name(const pd_model_schema_t *s, char *buf, size_t len)
{
    for (unsigned k = 0;; k++) {
        snprintf(buf, len, "input-%u", k);
        size_t f = 0;
        while (f < s->n_features && strcmp(s->feature_names[f], buf) != 0)
            f++;
        if (f == s->n_features)
            return;
    }
}

/* The inputs: the [-1, n_features] matrix first, then one [-1] column per feature. */
static json_t *inputs_json(const pd_model_schema_t *s, const char *matrix)
{
    json_t *arr = json_array();
    json_t *m = tensor(matrix, "FP64", -1, (json_int_t)s->n_features, 2);
    json_object_set_new(m, "parameters", json_pack("{s:s}", "form", "matrix"));
    json_array_append_new(arr, m);
    for (size_t i = 0; i < s->n_features; i++) {
        json_t *t = tensor(s->feature_names[i], "FP64", -1, 0, 1);
        json_object_set_new(t, "parameters", json_pack("{s:s,s:b}", "form", "feature",
                                                       "optional", s->missing_ok));
        json_array_append_new(arr, t);
    }
    return arr;
}

static json_t *outputs_json(const pd_model_schema_t *s)
{
    json_t *arr = json_array();
    json_array_append_new(arr, tensor("predict", pd__v2_predict_datatype(s), -1, 0, 1));
    if (s->task == PD_TASK_CLASSIFICATION && s->proba_ok)
        json_array_append_new(arr, tensor("predict_proba", "FP64", -1,
                                          (json_int_t)s->n_classes, 2));
    for (size_t k = 0; k < s->n_outputs && k < PD_MODEL_MAX_OUTPUTS; k++) {
        const pd_model_output_t *o = &s->outputs[k]; /* [N] when one value wide */
        json_t *t = tensor(o->name, "FP64", -1, (json_int_t)o->width, o->width > 1 ? 2 : 1);
        json_object_set_new(t, "parameters", json_pack("{s:s}", "description",
                                                       o->description ? o->description : ""));
        json_array_append_new(arr, t);
    }
    return arr;
}

/* How to send inputs and what else a client may want to know, as "parameters". */
static json_t *about_json(const pd_model_version_t *v, const char *matrix)
{
    const pd_model_schema_t *s = v->schema;
    json_t *p = json_pack("{s:s,s:s,s:s++,s:b}", "version", v->label, "task",
                          s->task == PD_TASK_CLASSIFICATION ? "classification" : "regression",
                          "inputs", "either the tensor '", matrix,
                          "' alone, shape [N, n_features] with the features in the order of "
                          "the feature tensors, or one tensor per feature named by the "
                          "feature, shape [N] or [N, 1]; any numeric datatype (BOOL, INT*, "
                          "UINT*, FP16, FP32, FP64), JSON or binary",
                          "missing_values", s->missing_ok);
    if (p != NULL && s->task == PD_TASK_CLASSIFICATION) {
        json_t *cls = json_array();
        for (size_t i = 0; i < s->n_classes; i++)
            json_array_append_new(cls, s->labels_are_strings && s->class_labels_str
                                           ? json_string(s->class_labels_str[i])
                                       : s->class_labels_int
                                           ? json_integer((json_int_t)s->class_labels_int[i])
                                           : json_integer((json_int_t)i));
        json_object_set_new(p, "classes", cls);
    }
    return p;
}

static void model_handler(pd_http_request_t *req, void *ctx)
{
    pd_served_model_t *sm;
    pd_model_version_t *v;
    if (lookup(ctx, req, 1, &sm, &v) < 0)
        return;
    const pd_model_schema_t *s = v->schema;
    char matrix[PD_V2_MATRIX_NAME_MAX];
    matrix_name(s, matrix, sizeof matrix);
    json_t *versions = json_array();
    for (size_t i = 0; i < sm->n_versions; i++)
        json_array_append_new(versions, json_string(sm->versions[i]->label));
    respond(req, 200, json_pack("{s:s,s:o,s:s,s:o,s:o,s:o}", "name", sm->name, "versions",
                                versions, "platform", s->source ? s->source : "",
                                "inputs", inputs_json(s, matrix), "outputs", outputs_json(s),
                                "parameters", about_json(v, matrix)));
}

static void ready_handler(pd_http_request_t *req, void *ctx)
{
    pd_served_model_t *sm;
    pd_model_version_t *v;
    if (lookup(ctx, req, 0, &sm, &v) < 0)
        return;
    respond(req, v ? 200 : 503, json_pack("{s:s,s:b}", "name", sm->name, "ready", v != NULL));
}

/* ---- statistics ---- */

static json_t *duration(const pd_duration_stat_t *d)
{
    return json_pack("{s:I,s:I}", "count", (json_int_t)d->count, "ns", (json_int_t)d->ns);
}

static json_t *version_stats(const pd_served_model_t *sm, const pd_model_version_t *v)
{
    const pd_infer_stats_t *st = &v->stats;
    pd_duration_stat_t none = {0, 0};
    json_t *batches = json_array();
    for (size_t i = 0; i < st->n_batches; i++) {
        const pd_batch_stat_t *b = &st->batches[i];
        pd_duration_stat_t copy = {b->infer.count, 0}; /* rows are read in place */
        json_array_append_new(batches, json_pack("{s:I,s:o,s:o,s:o}", "batch_size",
                                                 (json_int_t)b->batch_size, "compute_input",
                                                 duration(&copy), "compute_infer",
                                                 duration(&b->infer), "compute_output",
                                                 duration(&copy)));
    }
    json_t *inference = json_pack(
        "{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "success", duration(&st->success), "fail",
        duration(&st->fail), "queue", duration(&st->queue), "compute_input",
        duration(&st->compute_input), "compute_infer", duration(&st->compute_infer),
        "compute_output", duration(&st->compute_output), "cache_hit", duration(&none));
    return json_pack("{s:s,s:s,s:I,s:I,s:I,s:o,s:o}", "name", sm->name, "version", v->label,
                     "last_inference", (json_int_t)st->last_inference_ms, "inference_count",
                     (json_int_t)st->inference_count, "execution_count",
                     (json_int_t)st->execution_count, "inference_stats", inference,
                     "batch_stats", batches);
}

static void stats_handler(pd_http_request_t *req, void *ctx)
{
    pd_registry_t *reg = ctx;
    json_t *arr = json_array();
    if (pd_http_request_param(req, "name") == NULL) { /* GET /v2/models/stats */
        for (size_t i = 0; i < reg->n; i++)
            for (size_t k = 0; k < reg->models[i]->n_versions; k++)
                json_array_append_new(arr, version_stats(reg->models[i],
                                                         reg->models[i]->versions[k]));
    } else {
        pd_served_model_t *sm;
        pd_model_version_t *v;
        int one = pd_http_request_param(req, "version") != NULL;
        if (lookup(reg, req, one, &sm, &v) < 0) {
            json_decref(arr);
            return;
        }
        for (size_t k = 0; k < sm->n_versions; k++)
            if (!one || sm->versions[k] == v)
                json_array_append_new(arr, version_stats(sm, sm->versions[k]));
    }
    respond(req, 200, json_pack("{s:o}", "model_stats", arr));
}

int pd_v2_register(pd_router_t *router, pd_registry_t *reg)
{
    static const struct {
        const char *path;
        pd_http_handler_fn fn;
    } routes[] = {
        {"/v2", server_handler},
        {"/v2/models/stats", stats_handler},
        {"/v2/models/{name}", model_handler},
        {"/v2/models/{name}/versions/{version}", model_handler},
        {"/v2/models/{name}/ready", ready_handler},
        {"/v2/models/{name}/versions/{version}/ready", ready_handler},
        {"/v2/models/{name}/stats", stats_handler},
        {"/v2/models/{name}/versions/{version}/stats", stats_handler},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < PD_ARRAY_SIZE(routes); i++)
        rc = pd_router_add(router, "GET", routes[i].path, routes[i].fn, reg);
    return rc;
}
