/* repository.h - keeps the registry in step with the model repository (the files and
 * folders given to `predictd serve`; docs/repository.md): scans it and loads what changed
 * off the loop (libuv's threadpool: a model file can take seconds to parse), installs each
 * loaded version on the loop, where a swap is a pointer change (api/registry.h).
 *
 * Modes (Triton's names): none - the repository is read at start and on SIGHUP; poll -
 * also on every change seen by file-system events, and every poll interval as a fallback;
 * explicit - as none, plus load/unload through the control API (api/control.c). SIGHUP
 * rescans in every mode and never ends the server.
 *
 * In poll mode a file is loaded only once it has not changed for settle_ms (a file still
 * being written is not read half-written); SIGHUP and an explicit load read it at once; a failed load keeps the version being served and is reported
 * (log, /models, metrics). Models removed from the repository are retired; requests in
 * flight finish on the version they hold.
 *
 * Threads: every function here runs on the loop thread; only the scan and the loads run on
 * the threadpool, on data they own until their after-callback hands it back. */
#ifndef PD_API_REPOSITORY_H
#define PD_API_REPOSITORY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "api/registry.h"
#include "obs/metrics.h"

#define PD_REPOSITORY_DEFAULT_POLL_MS 1000
#define PD_REPOSITORY_DEFAULT_SETTLE_MS 200
#define PD_REPOSITORY_DEFAULT_MAX_ENTRIES 4096

typedef enum {
    PD_CONTROL_NONE = 0,
    PD_CONTROL_POLL = 1,
    PD_CONTROL_EXPLICIT = 2
} pd_model_control_t;

typedef struct pd_repository_options_s {
    const char *const *paths;   /* files and directories; copied */
    size_t n_paths;
    pd_model_control_t mode;
    uint32_t poll_ms;           /* poll mode's fallback rescan period; 0: default */
    uint32_t settle_ms;         /* 0: default */
    size_t max_entries;         /* model version files in the repository; 0: default */
    int strict;                 /* pd_repository_load_initial fails on any failure */
} pd_repository_options_t;

typedef struct pd_repository_s pd_repository_t;

/* Called when a sync (pd_repository_sync) finished: every load it started is done. */
typedef void (*pd_repository_sync_cb)(void *arg);

/* Creates the repository keeper for reg (borrowed; must outlive it) on loop, with its
 * metrics in `metrics` (may be NULL; borrowed):
 *   predictd_model_loads_total{model,outcome}   outcome = loaded, failed
 *   predictd_model_serving_version{model}        the primary version's number
 *   predictd_model_retired_references{model}     requests still holding retired versions
 * Starts nothing yet. Returns 0 or a negative code with one line in err. */
int pd_repository_create(pd_repository_t **out, uv_loop_t *loop, pd_registry_t *reg,
                         pd_metrics_t *metrics, const pd_repository_options_t *o, char *err,
                         size_t errlen);

/* Reads the repository and loads every model in it, on the calling thread (before the
 * server listens), then starts watching (poll mode) and SIGHUP. Logs nothing (see
 * pd_repository_report): failures are recorded in the registry; with strict, the first
 * one is returned instead (negative code, one line in err). Also fails when a PATH cannot
 * be read at all, and in mode none when no model could be loaded. */
int pd_repository_load_initial(pd_repository_t *repo, char *err, size_t errlen);

/* Logs what the initial load did: every version loaded with its cost per row, every
 * model skipped and why, and the repository's warnings. Call once start-up succeeded. */
void pd_repository_report(pd_repository_t *repo);

/* Rescans now (asynchronously) and applies what changed; cb(arg) (may be NULL) runs when
 * every load this rescan started is done. Returns 0 or PD_ENOMEM. */
int pd_repository_sync(pd_repository_t *repo, pd_repository_sync_cb cb, void *arg);

/* Explicit control: allows model `name` to be loaded again (after an unload) and syncs;
 * cb(arg) runs when done. Returns 0 or PD_ENOMEM. */
int pd_repository_load_model(pd_repository_t *repo, const char *name,
                             pd_repository_sync_cb cb, void *arg);

/* Explicit control: unloads model `name` until it is loaded again (rescans leave it
 * alone). Returns 0 or PD_ENOTFOUND. */
int pd_repository_unload_model(pd_repository_t *repo, const char *name);

/* Stops watching and rescanning (the server is draining); loads in flight finish and are
 * dropped. Idempotent. */
void pd_repository_stop(pd_repository_t *repo);

/* Frees the keeper (its handles are freed by their close callbacks: run the loop once
 * more). Call after uv_run returned. Accepts NULL. */
void pd_repository_destroy(pd_repository_t *repo);

#endif
