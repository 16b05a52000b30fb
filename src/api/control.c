/* control.c - explicit model control behind a bearer token (see control.h). A load
 * request stays unanswered until the repository's sync callback reports its load done;
 * the request object stays valid until then even if its client left (http.h). */
#include "api/control.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "http/http.h"
#include "obs/log.h"

struct pd_control_s {
    pd_registry_t *reg;
    pd_repository_t *repo;
    char *token;
    size_t token_len;
};

/* One load waiting for its sync. */
typedef struct {
    pd_control_t *c;
    pd_http_request_t *req;
    char *name;
} pd__load_t;

static const char *const k_states[] = {"LOADING", "READY", "UNAVAILABLE", "UNAVAILABLE"};

char *pd_control_read_token(const char *token_file, char *err, size_t errlen)
{
    char buf[PD_CONTROL_TOKEN_MAX + 2];
    size_t n = 0;
    if (token_file != NULL) {
        FILE *f = fopen(token_file, "rb");
        if (f == NULL) {
            snprintf(err, errlen, "--admin-token-file %s: %s", token_file, strerror(errno));
            return NULL;
        }
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    } else {
        const char *env = getenv(PD_CONTROL_TOKEN_ENV);
        if (env == NULL) {
            snprintf(err, errlen, "explicit model control needs an admin token: "
                                  "--admin-token-file FILE or %s", PD_CONTROL_TOKEN_ENV);
            return NULL;
        }
        n = strnlen(env, sizeof buf - 1);
        memcpy(buf, env, n);
    }
    buf[n] = '\0';
    char *p = buf;
    while (*p && isspace((unsigned char)*p))
        p++;
    size_t len = strlen(p);
    while (len && isspace((unsigned char)p[len - 1]))
        p[--len] = '\0';
    if (len == 0 || len > PD_CONTROL_TOKEN_MAX) {
        snprintf(err, errlen, "the admin token is %s", len ? "too long" : "empty");
        return NULL;
    }
    char *t = strdup(p);
    if (t == NULL)
        snprintf(err, errlen, "out of memory");
    return t;
}

static void respond_error(pd_http_request_t *req, int status, const char *msg)
{
    json_t *j = json_pack("{s:s}", "error", msg);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    const char *extra = status == 401 ? "WWW-Authenticate: Bearer\r\n" : NULL;
    if (text == NULL)
        pd_http_respond(req, 500, "application/json", NULL, PD_LIT("{\"error\":\"out of memory\"}"));
    else
        pd_http_respond(req, status, "application/json", extra, text, strlen(text));
    free(text);
}

/* Compares the Authorization header with the token in time independent of where they
 * differ. */
static int authorized(const pd_control_t *c, const pd_http_request_t *req)
{
    const char *h = pd_http_request_header(req, "Authorization");
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    const char *t = h + 7;
    size_t n = strlen(t);
    unsigned diff = (unsigned)(n != c->token_len);
    for (size_t i = 0; i < c->token_len; i++)
        diff |= (unsigned char)c->token[i] ^ (unsigned char)(i < n ? t[i] : 0);
    return diff == 0;
}

static int check(pd_control_t *c, pd_http_request_t *req)
{
    if (authorized(c, req))
        return 1;
    respond_error(req, 401, "a valid admin token is required: Authorization: Bearer <token>");
    return 0;
}

static void index_handler(pd_http_request_t *req, void *ctx)
{
    pd_control_t *c = ctx;
    if (!check(c, req))
        return;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < c->reg->n; i++) {
        const pd_served_model_t *sm = c->reg->models[i];
        json_t *m = json_pack("{s:s,s:s}", "name", sm->name, "state", k_states[sm->state]);
        if (m && sm->primary)
            json_object_set_new(m, "version", json_string(sm->primary->label));
        if (m && sm->state == PD_MODEL_UNLOADED)
            json_object_set_new(m, "reason", json_string("unloaded"));
        else if (m && sm->reason[0])
            json_object_set_new(m, "reason", json_string(sm->reason));
        json_array_append_new(arr, m);
    }
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (text == NULL) {
        respond_error(req, 500, "out of memory");
        return;
    }
    pd_http_respond_json(req, 200, text, strlen(text));
    free(text);
}

static void load_done(void *arg)
{
    pd__load_t *l = arg;
    const pd_served_model_t *sm = pd_registry_find(l->c->reg, l->name);
    if (sm != NULL && sm->primary != NULL) {
        pd_http_respond_json(l->req, 200, PD_LIT("{}"));
    } else {
        char msg[PD_REGISTRY_REASON_MAX + 160];
        snprintf(msg, sizeof msg, "failed to load '%s': %s", l->name,
                 sm && sm->reason[0] ? sm->reason : "no such model in the repository");
        respond_error(l->req, 400, msg);
    }
    free(l->name);
    free(l);
}

static void load_handler(pd_http_request_t *req, void *ctx)
{
    pd_control_t *c = ctx;
    if (!check(c, req))
        return;
    const char *name = pd_http_request_param(req, "name");
    pd__load_t *l = calloc(1, sizeof *l);
    if (l == NULL || (l->name = strdup(name)) == NULL) {
        free(l);
        respond_error(req, 500, "out of memory");
        return;
    }
    l->c = c;
    l->req = req;
    pd_log_info("control: load %s", name);
    if (pd_repository_load_model(c->repo, name, load_done, l) < 0) {
        free(l->name);
        free(l);
        respond_error(req, 500, "out of memory");
    }
}

static void unload_handler(pd_http_request_t *req, void *ctx)
{
    pd_control_t *c = ctx;
    if (!check(c, req))
        return;
    const char *name = pd_http_request_param(req, "name");
    if (pd_repository_unload_model(c->repo, name) < 0) {
        char msg[PD_REGISTRY_REASON_MAX];
        snprintf(msg, sizeof msg, "failed to unload '%.200s': no such model is loaded", name);
        respond_error(req, 400, msg);
        return;
    }
    pd_http_respond_json(req, 200, PD_LIT("{}"));
}

int pd_control_create(pd_control_t **out, pd_router_t *router, pd_registry_t *reg,
                      pd_repository_t *repo, const char *token)
{
    pd_control_t *c = calloc(1, sizeof *c);
    if (c == NULL || (c->token = strdup(token)) == NULL) {
        free(c);
        return PD_ENOMEM;
    }
    c->reg = reg;
    c->repo = repo;
    c->token_len = strlen(token);
    int rc = pd_router_add(router, "POST", "/v2/repository/index", index_handler, c);
    if (rc == 0)
        rc = pd_router_add(router, "POST", "/v2/repository/models/{name}/load", load_handler, c);
    if (rc == 0)
        rc = pd_router_add(router, "POST", "/v2/repository/models/{name}/unload",
                           unload_handler, c);
    if (rc < 0) {
        pd_control_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

void pd_control_destroy(pd_control_t *c)
{
    if (c == NULL)
        return;
    free(c->token);
    free(c);
}
