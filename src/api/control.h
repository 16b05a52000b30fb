/* control.h - the model control API of explicit mode (the Open Inference Protocol's
 * repository extension), answered on the loop:
 *   POST /v2/repository/index                    [{"name", "version", "state", "reason"}]
 *   POST /v2/repository/models/{name}/load       (re)reads the model from the repository;
 *                                                answers when its load is done
 *   POST /v2/repository/models/{name}/unload     retires every version of the model
 * Every route requires "Authorization: Bearer <token>"; a missing or wrong token answers
 * 401 and changes nothing. Errors are {"error": "..."} (400, 401). */
#ifndef PD_API_CONTROL_H
#define PD_API_CONTROL_H

#include "api/registry.h"
#include "api/repository.h"
#include "http/router.h"

#define PD_CONTROL_TOKEN_MAX 4096 /* bytes of an admin token */
#define PD_CONTROL_TOKEN_ENV "PREDICTD_ADMIN_TOKEN"

typedef struct pd_control_s pd_control_t;

/* Reads the admin token: from token_file (may be NULL) if given, else from the
 * environment variable PD_CONTROL_TOKEN_ENV; surrounding white space is dropped. Returns
 * a malloc'd token (the caller frees it), or NULL with the reason in err (no token
 * configured, unreadable file, empty or too long). */
char *pd_control_read_token(const char *token_file, char *err, size_t errlen);

/* Registers the routes on router. reg and repo are borrowed and must outlive the server;
 * token is copied. Returns 0 or a negative code. Free with pd_control_destroy after the
 * server drained (no control request is then unanswered). */
int pd_control_create(pd_control_t **out, pd_router_t *router, pd_registry_t *reg,
                      pd_repository_t *repo, const char *token);

/* Frees the control context. Accepts NULL. */
void pd_control_destroy(pd_control_t *c);

#endif
