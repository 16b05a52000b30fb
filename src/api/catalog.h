/* catalog.h - what the server serves, answered on the loop from the live registry:
 *   GET /models              every model: state, last failure, versions, inputs, classes,
 *                            the outputs a request may choose (name, width, description),
 *                            routes, cost per row and where /predict runs it, and the
 *                            feature source a model reads (key fields, stored fields,
 *                            the source's state)
 *   GET /v1/models/{name}    KServe V1 model metadata {"name": ..., "ready": ...}, plus its
 *                            "outputs" as /models lists them
 * Bodies are built per request (models come and go), bounded by the registry's limits. */
#ifndef PD_API_CATALOG_H
#define PD_API_CATALOG_H

#include "api/fsource.h"
#include "api/registry.h"
#include "http/router.h"

/* What the catalog reads: both borrowed, outliving the server. */
typedef struct pd_catalog_s {
    pd_registry_t *reg;
    pd_fsources_t *fsources; /* the live feature sources' states, or NULL */
} pd_catalog_t;

/* Registers the routes on router with c as their context (borrowed: it must outlive the
 * server). Returns 0 or the router's error. */
int pd_catalog_register(pd_router_t *router, pd_catalog_t *c);

#endif
