/* docs.c - GET /docs and its assets (see docs.h).
 *
 * Each asset is a small state machine on the loop thread: IDLE -> READING (one uv_fs
 * chain: open, fstat, read until the size, close; requests wait in its list) -> READY
 * (kept in memory) or back to IDLE after a failure (every waiter answered 404). Nothing
 * here blocks the loop on the disk: the only synchronous file-system call is the one
 * access() per candidate directory in pd_docs_create, before the loop runs. */
#include "api/docs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "http/http.h"
#include "obs/log.h"

#define PD_DOCS_MSG_MAX (PD_DOCS_DIR_MAX + 256) /* a 404's message */
#define PD_DOCS_CACHE "Cache-Control: public, max-age=3600\r\n"
#define PD_DOCS_PROBE "swagger-ui-bundle.js" /* the file that tells a directory holds them */

/* What GET /docs/{file} serves: the name in the directory and its Content-Type. */
static const char *const k_names[] = {"swagger-ui-bundle.js", "swagger-ui.css",
                                      "favicon-32x32.png", "favicon-16x16.png"};
static const char *const k_types[] = {"text/javascript; charset=utf-8", "text/css; charset=utf-8",
                                      "image/png", "image/png"};
#define PD_DOCS_N_ASSETS PD_ARRAY_SIZE(k_names)

/* The page: FastAPI's get_swagger_ui_html with its default parameters, the assets local. */
static const char k_page[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<title>predictd - Swagger UI</title>\n"
    "<link type=\"text/css\" rel=\"stylesheet\" href=\"/docs/swagger-ui.css\">\n"
    "<link rel=\"icon\" type=\"image/png\" href=\"/docs/favicon-32x32.png\">\n"
    "</head>\n"
    "<body>\n"
    "<div id=\"swagger-ui\"></div>\n"
    "<script src=\"/docs/swagger-ui-bundle.js\"></script>\n"
    "<script>\n"
    "window.ui = SwaggerUIBundle({\n"
    "  url: '/openapi.json',\n"
    "  dom_id: '#swagger-ui',\n"
    "  layout: 'BaseLayout',\n"
    "  deepLinking: true,\n"
    "  showExtensions: true,\n"
    "  showCommonExtensions: true,\n"
    "  presets: [SwaggerUIBundle.presets.apis],\n"
    "});\n"
    "</script>\n"
    "</body>\n"
    "</html>\n";

enum { PD__ASSET_IDLE = 0, PD__ASSET_READING = 1, PD__ASSET_READY = 2 };

typedef struct {
    pd_docs_t *docs;
    size_t index;               /* into k_names */
    int state;                  /* PD__ASSET_* */
    uv_fs_t fs;                 /* the read in flight (READING) */
    uv_file fd;
    char *data;                 /* owned: size bytes (READING: being filled) */
    size_t len, size;
    int err;                    /* the first libuv error of this read, 0 */
    pd_http_request_t **waiters; /* owned array: requests answered when the read ends */
    size_t n_waiters, cap_waiters;
} pd__asset_t;

struct pd_docs_s {
    uv_loop_t *loop;
    int found;                  /* dir holds the assets */
    char dir[PD_DOCS_DIR_MAX];
    char missing[PD_DOCS_MSG_MAX]; /* the 404 body when not found */
    pd__asset_t assets[PD_DOCS_N_ASSETS];
};

const char *const *pd_docs_assets(size_t *n)
{
    *n = PD_DOCS_N_ASSETS;
    return k_names;
}

const char *pd_docs_dir(const pd_docs_t *d)
{
    return d && d->found ? d->dir : NULL;
}

static void respond_detail(pd_http_request_t *req, int status, const char *message)
{
    pd_buf_t b;
    pd_buf_init(&b, 0);
    int rc = pd_buf_puts(&b, "{\"detail\":");
    if (rc == 0)
        rc = pd_buf_json_str(&b, message, strlen(message));
    if (rc == 0 && (rc = pd_buf_puts(&b, "}")) == 0)
        pd_http_respond_json(req, status, b.data, b.len);
    else
        pd_http_respond_json(req, 500, PD_LIT("{\"detail\":\"out of memory\"}"));
    pd_buf_free(&b);
}

/* Answers every waiting request: the asset, or 404 saying why it could not be read. */
static void finish(pd__asset_t *a)
{
    char msg[PD_DOCS_MSG_MAX]; /* the client's: no path of the server's disk in it */
    if (a->state != PD__ASSET_READY) {
        snprintf(msg, sizeof msg, "%s could not be read: %s", k_names[a->index],
                 a->err == UV_EFBIG ? "larger than the limit" : uv_strerror(a->err));
        pd_log_warn("docs: %s/%s", a->docs->dir, msg);
        free(a->data);
        a->data = NULL;
    }
    for (size_t i = 0; i < a->n_waiters; i++) {
        if (a->state == PD__ASSET_READY)
            pd_http_respond(a->waiters[i], 200, k_types[a->index], PD_DOCS_CACHE, a->data,
                            a->len);
        else
            respond_detail(a->waiters[i], 404, msg);
    }
    a->n_waiters = 0;
}

static void on_close(uv_fs_t *fs)
{
    pd__asset_t *a = fs->data;
    uv_fs_req_cleanup(fs);
    a->state = a->err == 0 ? PD__ASSET_READY : PD__ASSET_IDLE;
    finish(a);
}

/* Ends the read (err: a libuv error, or 0 when the whole file is in memory). */
static void read_end(pd__asset_t *a, int err)
{
    a->err = err;
    if (a->fd < 0 || uv_fs_close(a->docs->loop, &a->fs, a->fd, on_close) < 0) {
        a->state = err == 0 ? PD__ASSET_READY : PD__ASSET_IDLE;
        finish(a);
    }
}

static void on_read(uv_fs_t *fs);

static void read_more(pd__asset_t *a)
{
    uv_buf_t b = uv_buf_init(a->data + a->len, (unsigned)(a->size - a->len));
    int rc = uv_fs_read(a->docs->loop, &a->fs, a->fd, &b, 1, (int64_t)a->len, on_read);
    if (rc < 0)
        read_end(a, rc);
}

static void on_read(uv_fs_t *fs)
{
    pd__asset_t *a = fs->data;
    ssize_t n = fs->result;
    uv_fs_req_cleanup(fs);
    if (n < 0) {
        read_end(a, (int)n);
        return;
    }
    a->len += (size_t)n;
    if (n == 0 || a->len == a->size) /* n == 0: the file shrank; serve what it holds */
        read_end(a, 0);
    else
        read_more(a);
}

static void on_stat(uv_fs_t *fs)
{
    pd__asset_t *a = fs->data;
    int rc = (int)fs->result;
    uint64_t size = fs->statbuf.st_size;
    int regular = S_ISREG(fs->statbuf.st_mode);
    uv_fs_req_cleanup(fs);
    if (rc < 0) {
        read_end(a, rc);
        return;
    }
    if (!regular) {
        read_end(a, UV_EISDIR);
        return;
    }
    if (size > PD_DOCS_MAX_ASSET) {
        read_end(a, UV_EFBIG);
        return;
    }
    a->size = (size_t)size;
    a->len = 0;
    if ((a->data = malloc(a->size ? a->size : 1)) == NULL) {
        read_end(a, UV_ENOMEM);
        return;
    }
    if (a->size == 0) {
        read_end(a, 0);
        return;
    }
    read_more(a);
}

static void on_open(uv_fs_t *fs)
{
    pd__asset_t *a = fs->data;
    int rc = (int)fs->result;
    uv_fs_req_cleanup(fs);
    if (rc < 0) {
        read_end(a, rc);
        return;
    }
    a->fd = rc;
    if ((rc = uv_fs_fstat(a->docs->loop, &a->fs, a->fd, on_stat)) < 0)
        read_end(a, rc);
}

/* Starts reading asset a off the loop. */
static void start_read(pd__asset_t *a)
{
    char path[PD_DOCS_DIR_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", a->docs->dir, k_names[a->index]);
    a->state = PD__ASSET_READING;
    a->fd = -1;
    a->err = 0;
    a->fs.data = a;
    int rc = uv_fs_open(a->docs->loop, &a->fs, path, O_RDONLY | O_CLOEXEC, 0, on_open);
    if (rc < 0)
        read_end(a, rc);
}

static void page_handler(pd_http_request_t *req, void *ctx)
{
    pd_docs_t *d = ctx;
    if (!d->found) {
        respond_detail(req, 404, d->missing);
        return;
    }
    pd_http_respond(req, 200, "text/html; charset=utf-8", NULL, k_page, sizeof k_page - 1);
}

static void asset_handler(pd_http_request_t *req, void *ctx)
{
    pd_docs_t *d = ctx;
    const char *file = pd_http_request_param(req, "file");
    size_t i;
    for (i = 0; file && i < PD_DOCS_N_ASSETS && strcmp(file, k_names[i]) != 0; i++)
        ;
    if (file == NULL || i == PD_DOCS_N_ASSETS) {
        respond_detail(req, 404, "Not Found");
        return;
    }
    if (!d->found) {
        respond_detail(req, 404, d->missing);
        return;
    }
    pd__asset_t *a = &d->assets[i];
    if (a->state == PD__ASSET_READY) {
        pd_http_respond(req, 200, k_types[i], PD_DOCS_CACHE, a->data, a->len);
        return;
    }
    if (a->n_waiters == a->cap_waiters) {
        size_t cap = a->cap_waiters ? 2 * a->cap_waiters : 8;
        pd_http_request_t **w = realloc(a->waiters, cap * sizeof *w);
        if (w == NULL) {
            respond_detail(req, 500, "out of memory");
            return;
        }
        a->waiters = w;
        a->cap_waiters = cap;
    }
    a->waiters[a->n_waiters++] = req;
    if (a->state == PD__ASSET_IDLE)
        start_read(a);
}

/* 1 when dir holds the assets (one access() call). */
static int holds_assets(const char *dir)
{
    char path[PD_DOCS_DIR_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, PD_DOCS_PROBE);
    return access(path, R_OK) == 0;
}

/* Finds the directory: dir when given, else the first default candidate that holds them. */
static int find_dir(pd_docs_t *d, const char *dir, char *err, size_t errlen)
{
    if (dir != NULL) {
        snprintf(d->dir, sizeof d->dir, "%s", dir);
        if (strlen(dir) >= sizeof d->dir || !holds_assets(d->dir)) {
            snprintf(err, errlen, "--docs-dir %s: no %s there (install swagger-ui-dist: "
                                  "scripts/bootstrap)", dir, PD_DOCS_PROBE);
            return PD_ENOTFOUND;
        }
        d->found = 1;
        return 0;
    }
    char exe[PD_DOCS_DIR_MAX];
    size_t len = sizeof exe;
    char *slash = uv_exepath(exe, &len) == 0 ? strrchr(exe, '/') : NULL;
    if (slash != NULL)
        *slash = '\0';
    /* next to the binary: a build tree (build/<type>/predictd), an install (bin/) */
    const char *const rel[] = {"/../../" PD_DOCS_SUBDIR, "/../share/predictd/swagger-ui-dist"};
    for (size_t i = 0; slash && i < PD_ARRAY_SIZE(rel) && !d->found; i++) {
        snprintf(d->dir, sizeof d->dir, "%s%s", exe, rel[i]);
        d->found = holds_assets(d->dir);
    }
    if (!d->found) {
        snprintf(d->dir, sizeof d->dir, "%s", PD_DOCS_SUBDIR);
        d->found = holds_assets(d->dir);
    }
    char real[PATH_MAX];
    if (d->found && realpath(d->dir, real) != NULL && strlen(real) < sizeof d->dir)
        memcpy(d->dir, real, strlen(real) + 1);
    return 0;
}

int pd_docs_create(pd_docs_t **out, uv_loop_t *loop, pd_router_t *router, const char *dir,
                   char *err, size_t errlen)
{
    pd_docs_t *d = calloc(1, sizeof *d);
    if (d == NULL) {
        snprintf(err, errlen, "out of memory");
        return PD_ENOMEM;
    }
    d->loop = loop;
    for (size_t i = 0; i < PD_DOCS_N_ASSETS; i++) {
        d->assets[i].docs = d;
        d->assets[i].index = i;
        d->assets[i].fd = -1;
    }
    int rc = find_dir(d, dir, err, errlen);
    if (rc == 0 && !d->found)
        snprintf(d->missing, sizeof d->missing,
                 "Swagger UI's files are not installed: no %s in %s next to the binary or in "
                 "the working directory (run scripts/bootstrap, or start with --docs-dir DIR)",
                 PD_DOCS_PROBE, PD_DOCS_SUBDIR);
    if (rc == 0 && (rc = pd_router_add(router, "GET", "/docs", page_handler, d)) == 0)
        rc = pd_router_add(router, "GET", "/docs/{file}", asset_handler, d);
    if (rc < 0) {
        if (rc != PD_ENOTFOUND)
            snprintf(err, errlen, "docs routes: %s", pd_strerror(rc));
        pd_docs_destroy(d);
        return rc;
    }
    if (d->found)
        pd_log_info("docs: GET /docs serves Swagger UI from %s", d->dir);
    else
        pd_log_warn("docs: %s: GET /docs answers 404", d->missing);
    *out = d;
    return 0;
}

void pd_docs_destroy(pd_docs_t *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < PD_DOCS_N_ASSETS; i++) {
        free(d->assets[i].data);
        free(d->assets[i].waiters);
    }
    free(d);
}
