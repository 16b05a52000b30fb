/* docs.h - GET /docs: Swagger UI on GET /openapi.json, the page FastAPI serves, with the
 * assets of npm's swagger-ui-dist (installed by scripts/bootstrap into
 * web/node_modules/swagger-ui-dist) served from files, never from a CDN:
 *   GET /docs                       the HTML page (in memory)
 *   GET /docs/{file}                swagger-ui-bundle.js, swagger-ui.css, favicon-32x32.png,
 *                                   favicon-16x16.png (a fixed list: no other path is read)
 * An asset is read from disk off the loop (uv_fs_*) at its first request, at most
 * PD_DOCS_MAX_ASSET bytes, and kept in memory until the server exits; requests that come
 * while it is being read wait for that one read. A failed read is answered 404 and tried
 * again by the next request. Without the assets (the directory has no
 * swagger-ui-bundle.js at start) /docs answers 404 saying how to install them.
 *
 * Threads: loop thread only. */
#ifndef PD_API_DOCS_H
#define PD_API_DOCS_H

#include <stddef.h>
#include <uv.h>

#include "http/router.h"

#define PD_DOCS_MAX_ASSET (8u << 20)  /* bytes of one asset file (the bundle: ~1.7 MB) */
#define PD_DOCS_DIR_MAX 4096          /* bytes of the directory's path */
#define PD_DOCS_SUBDIR "web/node_modules/swagger-ui-dist" /* in a checkout */

typedef struct pd_docs_s pd_docs_t;

/* Finds the assets and registers the routes on router. dir: the swagger-ui-dist
 * directory (--docs-dir; it must hold swagger-ui-bundle.js, else PD_ENOTFOUND with one
 * line in err); NULL: the first of <binary's directory>/../../PD_DOCS_SUBDIR (a build
 * tree), <binary's directory>/../share/predictd/swagger-ui-dist (an install) and
 * ./PD_DOCS_SUBDIR that holds it, or none (then /docs answers 404). Checks the directory
 * with one stat before the loop runs; reads nothing else. loop and router are borrowed
 * and must outlive the server. Returns 0, PD_ENOTFOUND, PD_ENOMEM or the router's error.
 * Call before the loop runs. */
int pd_docs_create(pd_docs_t **out, uv_loop_t *loop, pd_router_t *router, const char *dir,
                   char *err, size_t errlen);

/* The directory the assets are served from, or NULL when none was found. Valid as long as
 * d. */
const char *pd_docs_dir(const pd_docs_t *d);

/* Frees the page and the assets read. Call after uv_run returned (no read in flight, every
 * request answered). Accepts NULL. */
void pd_docs_destroy(pd_docs_t *d);

/* The names GET /docs/{file} serves (static storage) and their count in *n. */
const char *const *pd_docs_assets(size_t *n);

#endif
