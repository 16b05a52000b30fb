/* predict_routes.c - the table of prediction routes: which path speaks which protocol
 * (codec), for which model, asking which outputs, running where. Adding a protocol's
 * routes touches this table only (and the codec's own file). */
#include "api/codec.h"
#include "api/predict.h"
#include "api/rows.h"
#include "common.h"

static const pd_predict_route_t k_routes[] = {
    /* The article's two routes, and the production one. */
    {"POST", "/predict_non_blocking", &pd_codec_fastapi, PD_PREDICT_MODEL_DEFAULT,
     PD_PREDICT_POOL, PD_OUT_LABEL, "the default model on the worker pool (the article's fix)"},
    {"POST", "/predict_blocking", &pd_codec_fastapi, PD_PREDICT_MODEL_DEFAULT, PD_PREDICT_LOOP,
     PD_OUT_LABEL, "the default model on the event loop (the article's anti-pattern)"},
    {"POST", "/predict", &pd_codec_fastapi, PD_PREDICT_MODEL_DEFAULT, PD_PREDICT_AUTO,
     PD_OUT_LABEL, "the default model: labels or values"},
    {"POST", "/predict_proba", &pd_codec_fastapi, PD_PREDICT_MODEL_DEFAULT, PD_PREDICT_AUTO,
     PD_OUT_PROBA, "the default classifier: class probabilities"},
    {"POST", "/models/{name}/predict", &pd_codec_fastapi, PD_PREDICT_MODEL_PARAM,
     PD_PREDICT_AUTO, PD_OUT_LABEL, "a model by name: labels or values"},
    {"POST", "/models/{name}/predict_proba", &pd_codec_fastapi, PD_PREDICT_MODEL_PARAM,
     PD_PREDICT_AUTO, PD_OUT_PROBA, "a classifier by name: class probabilities"},
    {"POST", "/models/{name}/versions/{version}/predict", &pd_codec_fastapi,
     PD_PREDICT_MODEL_PARAM, PD_PREDICT_AUTO, PD_OUT_LABEL, "one version of a model"},
    {"POST", "/models/{name}/versions/{version}/predict_proba", &pd_codec_fastapi,
     PD_PREDICT_MODEL_PARAM, PD_PREDICT_AUTO, PD_OUT_PROBA,
     "one version of a classifier: class probabilities"},
    /* KServe V1 / TF Serving. */
    {"POST", "/v1/models/{name}:predict", &pd_codec_v1, PD_PREDICT_MODEL_PARAM,
     PD_PREDICT_AUTO, PD_OUT_LABEL, "KServe V1 predict: {\"instances\": [...]}"},
    /* Open Inference Protocol (KServe V2, Triton, MLServer): outputs, binary or JSON, are
     * chosen by the body (codec_v2.c); the other /v2 routes are api/v2_api.c's. */
    {"POST", "/v2/models/{name}/infer", &pd_codec_v2, PD_PREDICT_MODEL_PARAM, PD_PREDICT_AUTO,
     PD_OUT_LABEL, "Open Inference Protocol (KServe V2) inference, JSON or binary tensors"},
    {"POST", "/v2/models/{name}/versions/{version}/infer", &pd_codec_v2,
     PD_PREDICT_MODEL_PARAM, PD_PREDICT_AUTO, PD_OUT_LABEL,
     "Open Inference Protocol (KServe V2) inference on one version"},
    /* MLflow scoring server / SageMaker. */
    {"POST", "/invocations", &pd_codec_mlflow, PD_PREDICT_MODEL_DEFAULT, PD_PREDICT_AUTO,
     PD_OUT_LABEL, "MLflow / SageMaker scoring on the default model"},
};

const pd_predict_route_t *pd_predict_routes(size_t *n)
{
    *n = PD_ARRAY_SIZE(k_routes);
    return k_routes;
}
