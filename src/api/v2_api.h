/* v2_api.h - the Open Inference Protocol (KServe V2 / Triton) endpoints other than
 * inference (which is the request pipeline's, api/predict_routes.c) and health (which is
 * api/health.c's), answered on the loop thread from the live registry:
 *
 *   GET /v2                                            server metadata: name, version,
 *                                                      extensions (binary_tensor_data,
 *                                                      statistics)
 *   GET /v2/models/{name}[/versions/{version}]         model metadata: versions, platform,
 *                                                      inputs and outputs (-1: batch dim)
 *   GET /v2/models/{name}[/versions/{version}]/ready   200 {"name", "ready": true} when that
 *                                                      version (or any, without one) is
 *                                                      served; 503 "ready": false when the
 *                                                      model is known but that version is
 *                                                      not served; 404 for unknown names
 *   GET /v2/models[/{name}[/versions/{version}]]/stats Triton's statistics extension
 *                                                      (api/infer_stats.h): every served
 *                                                      version of every model, of one
 *                                                      model, or one version
 *
 * Errors are {"error": "..."}: 404 for an unknown model or version. A model named "stats"
 * has no metadata route (GET /v2/models/stats is the statistics of all models). */
#ifndef PD_API_V2_API_H
#define PD_API_V2_API_H

#include "api/registry.h"
#include "http/router.h"

/* Registers the routes on router with reg as their context; reg is borrowed and must
 * outlive the server. Loop thread, before the server starts. Returns 0 or the router's
 * error. */
int pd_v2_register(pd_router_t *router, pd_registry_t *reg);

#endif
