/* openapi_routes.c - how GET /openapi.json documents the routes that answer on the loop
 * (everything but the prediction routes, which their codecs document: openapi_codecs.c).
 *
 * One row per route, matched with the router's entries by method and pattern: a route
 * registered elsewhere (health.c, catalog.c, control.c, app.c, docs.c, openapi.c) is
 * documented by its row, and a row whose route is not registered (the control API when
 * --model-control is not explicit) is left out. Adding a loop-side route: add its row
 * here. Examples are JSON text; the answers' schemas are derived from them
 * (pd_openapi_schema_of), so an example must show every field of the answer.
 * Invariant (tests/e2e/test_openapi.py): every example of a JSON answer parses. */
#include "api/docs.h"
#include "api/openapi.h"
#include "common.h"

#define JSON PD_OPENAPI_MEDIA_JSON
#define UNAUTHORIZED \
    {401, JSON, "no or a wrong admin token (WWW-Authenticate: Bearer)", \
     "{\"error\":\"a valid admin token is required: Authorization: Bearer <token>\"}"}

static int describe_assets(const pd_openapi_op_t *op);

/* Triton's statistics extension, one model. */
#define V2_STATS                                                                              \
    "{\"model_stats\":[{\"name\":\"iris\",\"version\":\"1\",\"last_inference\":0,"             \
    "\"inference_count\":0,\"execution_count\":0,\"inference_stats\":{\"success\":{\"count\":0,"  \
    "\"ns\":0},\"fail\":{\"count\":0,\"ns\":0},\"queue\":{\"count\":0,\"ns\":0}},"                \
    "\"batch_stats\":[]}]}"
#define V2_NO_MODEL {404, JSON, "no such model or version", "{\"error\":\"no model named iris2\"}"}
/* Metadata, readiness and statistics of a model at `base` (of `which` version). */
#define V2_MODEL_ROUTES(base, which)                                                          \
    {"GET", base, "KServe V2", "Model metadata: inputs and outputs of " which, NULL, 0,      \
     {{200, JSON, "the model's metadata",                                                   \
       "{\"name\":\"iris\",\"versions\":[\"1\"],\"platform\":\"sklearn\",\"inputs\":[{\"name\":"   \
       "\"input-0\",\"datatype\":\"FP64\",\"shape\":[-1,4]}],\"outputs\":[{\"name\":\"predict\","   \
       "\"datatype\":\"BYTES\",\"shape\":[-1]}]}"},                                              \
      V2_NO_MODEL}, NULL},                                                                  \
    {"GET", base "/ready", "KServe V2", "Whether " which " is served", NULL, 0,              \
     {{200, JSON, "served", "{\"name\":\"iris\",\"ready\":true}"},                             \
      {503, JSON, "not served (loading or unloaded)", "{\"name\":\"iris\",\"ready\":false}"},    \
      V2_NO_MODEL}, NULL},                                                                  \
    {"GET", base "/stats", "KServe V2", "Statistics of " which " (statistics extension)",   \
     NULL, 0, {{200, JSON, "counts and cumulative nanoseconds", V2_STATS}, V2_NO_MODEL}, NULL}

/* What /models and /v1/models/{name} list as a model's "outputs" (catalog.c). */
#define OUTPUTS_EXAMPLE                                                                       \
    "{\"name\":\"predict\",\"width\":1,\"description\":\"the predicted class label\"},"        \
    "{\"name\":\"predict_proba\",\"width\":3,\"description\":\"the probability of each class, " \
    "in the order of \\\"classes\\\"\"},{\"name\":\"decision_function\",\"width\":3,"           \
    "\"description\":\"one score per class\"}"

static const pd_openapi_route_doc_t k_docs[] = {
    /* health.c */
    {"GET", "/health", "health", "Liveness: the process answers", NULL, 0,
     {{200, JSON, "alive", "{\"status\":\"ok\"}"}}, NULL},
    {"GET", "/v2/health/live", "health", "KServe V2 liveness", NULL, 0,
     {{200, JSON, "alive", "{\"live\":true}"}}, NULL},
    {"GET", "/v2/health/ready", "health", "KServe V2 readiness",
     "Ready when the server listens and is not draining, at least one model is loaded and "
     "none is loading its first version.", 0,
     {{200, JSON, "ready", "{\"ready\":true}"},
      {503, JSON, "not ready (starting, loading or draining)", "{\"ready\":false}"}}, NULL},
    {"GET", "/ping", "MLflow / SageMaker", "SageMaker health check",
     "200 with a newline when ready (as /v2/health/ready), else 503.", 0,
     {{200, JSON, "ready", NULL}, {503, JSON, "not ready", NULL}}, NULL},
    /* app.c */
    {"GET", "/metrics", "metrics", "Prometheus metrics",
     "Requests by route, method and status, request duration, queue wait, inference time, "
     "batch size, queue depth, jobs by outcome, model loads, in-flight requests, open "
     "connections, event-loop lag and utilization.", 0,
     {{200, "text/plain", "the text exposition format 0.0.4",
       "# HELP predictd_http_requests_total HTTP requests answered, by route, method and "
       "status.\n# TYPE predictd_http_requests_total counter\n"
       "predictd_http_requests_total{route=\"/health\",method=\"GET\",status=\"200\"} 1\n"}},
     NULL},
    /* catalog.c */
    {"GET", "/models", "models", "The models: inputs, classes, versions, routes, cost",
     "Every model the server knows, in any state, from the live registry: its inputs (optional "
     "ones marked), classes, the outputs a request may choose (?outputs=, V2 outputs: name, "
     "values per row, description), versions, the routes that serve it, its measured cost "
     "per row and where /predict runs it; \"reason\" tells a failed load's error.", 0,
     {{200, JSON, "the models",
       "{\"models\":[{\"name\":\"iris\",\"state\":\"ready\",\"default\":true,"
       "\"versions\":[{\"version\":\"1\",\"path\":\"models/iris.json\",\"cost_us_per_row\":0.4,"
       "\"loop_max_rows\":25,\"trees\":0,\"nodes\":0,\"bytes\":2048}],\"version\":\"1\","
       "\"source\":\"sklearn\",\"kind\":\"LogisticRegression\",\"task\":\"classification\","
       "\"features\":[\"sepal length (cm)\"],\"inputs\":[{\"name\":\"sepal length (cm)\","
       "\"type\":\"number\",\"optional\":false}],\"missing_values\":false,"
       "\"classes\":[\"setosa\",\"versicolor\",\"virginica\"],"
       "\"outputs\":[" OUTPUTS_EXAMPLE "],"
       "\"routes\":[\"POST /models/iris/predict\"],\"cost_us_per_row\":0.4,"
       "\"predict_runs_on\":\"loop\",\"loop_max_rows\":25}]}"}},
     NULL},
    {"GET", "/v1/models/{name}", "KServe V1", "KServe V1 model metadata", NULL, 0,
     {{200, JSON, "the model is loaded, with the outputs a request may choose (?outputs=)",
       "{\"name\":\"iris\",\"ready\":true,\"outputs\":[" OUTPUTS_EXAMPLE "]}"},
      {404, JSON, "no such model is loaded", "{\"error\":\"no model named iris2\"}"}}, NULL},
    /* v2_api.c: the Open Inference Protocol's loop-side routes */
    {"GET", "/v2", "KServe V2", "Server metadata", NULL, 0,
     {{200, JSON, "name, version and the extensions implemented",
       "{\"name\":\"predictd\",\"version\":\"0.1.0\",\"extensions\":[\"binary_tensor_data\","
       "\"statistics\"]}"}}, NULL},
    V2_MODEL_ROUTES("/v2/models/{name}", "the newest served version"),
    V2_MODEL_ROUTES("/v2/models/{name}/versions/{version}", "that version"),
    {"GET", "/v2/models/stats", "KServe V2", "Statistics of every model (statistics extension)",
     NULL, 0, {{200, JSON, "every model's statistics", V2_STATS}}, NULL},
    /* control.c: registered in explicit mode only */
    {"POST", "/v2/repository/index", "model repository", "The repository's models and states",
     "Explicit model control (--model-control explicit), behind the admin token.",
     PD_OPENAPI_AUTH,
     {{200, JSON, "every model with its state",
       "[{\"name\":\"iris\",\"state\":\"READY\",\"version\":\"1\"}]"},
      UNAUTHORIZED}, NULL},
    {"POST", "/v2/repository/models/{name}/load", "model repository",
     "Load (or reload) a model of the repository",
     "Answers once the load is done: the model is then served. Behind the admin token.",
     PD_OPENAPI_AUTH | PD_OPENAPI_ANY_NAME,
     {{200, JSON, "loaded", "{}"},
      {400, JSON, "the load failed", "{\"error\":\"failed to load 'iris': no such model in "
                                     "the repository\"}"},
      UNAUTHORIZED}, NULL},
    {"POST", "/v2/repository/models/{name}/unload", "model repository", "Unload a model",
     "Requests in flight finish with the version they started with. Behind the admin token.",
     PD_OPENAPI_AUTH,
     {{200, JSON, "unloaded", "{}"},
      {400, JSON, "no such model is loaded",
       "{\"error\":\"failed to unload 'iris': no such model is loaded\"}"},
      UNAUTHORIZED}, NULL},
    /* openapi.c, docs.c */
    {"GET", "/openapi.json", "docs", "This OpenAPI document",
     "Generated at each request from the models loaded now.", 0,
     {{200, JSON, "the OpenAPI 3 document", NULL}}, NULL},
    {"GET", "/docs", "docs", "Swagger UI on /openapi.json", NULL, 0,
     {{200, "text/html", "the page", NULL},
      {404, JSON, "Swagger UI's files are not installed",
       "{\"detail\":\"Swagger UI's files are not installed: ... (run scripts/bootstrap, or "
       "start with --docs-dir DIR)\"}"}}, NULL},
    {"GET", "/docs/{file}", "docs", "Swagger UI's files (npm swagger-ui-dist)", NULL, 0,
     {{404, JSON, "no such file, or it could not be read", "{\"detail\":\"Not Found\"}"}},
     describe_assets},
};

/* /docs/{file}: the files it serves, and their media types. */
static int describe_assets(const pd_openapi_op_t *op)
{
    size_t n;
    const char *const *names = pd_docs_assets(&n);
    json_t *values = json_array();
    for (size_t i = 0; values && i < n; i++)
        if (json_array_append_new(values, json_string(names[i])) < 0) {
            json_decref(values);
            values = NULL;
        }
    json_t *param = json_array_get(json_object_get(op->operation, "parameters"), 0);
    int rc = pd_openapi_put(json_object_get(param, "schema"), "enum", values);
    json_t *content = json_pack("{s:{s:{s:s}},s:{s:{s:s}},s:{s:{s:s,s:s}}}", "text/javascript",
                                "schema", "type", "string", "text/css", "schema", "type",
                                "string", "image/png", "schema", "type", "string", "format",
                                "binary");
    json_t *ok = json_pack("{s:s,s:o}", "description", "the file", "content", content);
    return rc ? rc : pd_openapi_put(json_object_get(op->operation, "responses"), "200", ok);
}

const pd_openapi_route_doc_t *pd__openapi_route_docs(size_t *n)
{
    *n = PD_ARRAY_SIZE(k_docs);
    return k_docs;
}
