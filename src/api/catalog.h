/* catalog.h - what the server serves, answered on the loop from the live registry:
 *   GET /models              every model: state, last failure, versions, inputs, classes,
 *                            routes, cost per row and where /predict runs it
 *   GET /v1/models/{name}    KServe V1 model metadata {"name": ..., "ready": ...}
 * Bodies are built per request (models come and go), bounded by the registry's limits. */
#ifndef PD_API_CATALOG_H
#define PD_API_CATALOG_H

#include "api/registry.h"
#include "http/router.h"

/* Registers the routes on router with reg as their context; reg is borrowed and must
 * outlive the server. Returns 0 or the router's error. */
int pd_catalog_register(pd_router_t *router, pd_registry_t *reg);

#endif
