/* fsource.c - the live feature sources (fsource.h): one per store URL, opened when a
 * served model version names it (the sweep) or a request needs it, shared by every
 * version that names it, closed when none does and no lookup waits on it; their metrics,
 * their state for /v2/health/ready and /models.
 *
 * Invariants (loop thread): srcs[0, n) are open sources with distinct (kind, URL); a
 * source with a waiting lookup is never closed; a closed source's memory lives until its
 * timer's close callback; no handle here keeps the loop alive (the server's own handles
 * do while a request is unanswered). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fsource_impl.h"
#include "api/registry.h"
#include "common.h"
#include "util/applock.h"
#include "obs/log.h"

const char *const pd__ferr_names[PD__FERR_N] = {
    [PD__FERR_TIMEOUT] = "timeout",   [PD__FERR_UNAVAILABLE] = "unavailable",
    [PD__FERR_BUSY] = "busy",         [PD__FERR_MISSING] = "missing",
    [PD__FERR_NAN] = "not_a_number",  [PD__FERR_WRONGTYPE] = "wrong_type",
    [PD__FERR_KEY] = "key",           [PD__FERR_STORE] = "store",
};

/* Keys per request: predictd_feature_lookup_keys's bucket bounds. */
static const double k_key_buckets[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000,
                                       5000, 10000, 100000};

static const char *const k_states[] = {
    [PD_FSTORE_DOWN] = "down", [PD_FSTORE_CONNECTING] = "connecting", [PD_FSTORE_UP] = "up"};

void pd__fsource_count(pd_fsource_t *src, pd__ferr_t kind)
{
    pd_metrics_inc(src->errors[kind], 1);
}

/* ---- open and close ---- */

static void src_free(uv_handle_t *h)
{
    pd_fsource_t *src = h->data;
    free(src->url);
    free(src->display);
    free(src);
}

static void src_series(pd_fsources_t *fs, pd_fsource_t *src)
{
    const char *l1[1] = {src->display};
    if (fs->f_latency == NULL)
        return;
    src->latency = pd_metrics_series(fs->f_latency, l1);
    src->keys = pd_metrics_series(fs->f_keys, l1);
    src->up = pd_metrics_series(fs->f_up, l1);
    src->conns = pd_metrics_series(fs->f_conns, l1);
    src->connects = pd_metrics_series(fs->f_connects, l1);
    for (size_t k = 0; k < PD__FERR_N; k++) {
        const char *l2[2] = {src->display, pd__ferr_names[k]};
        src->errors[k] = pd_metrics_series(fs->f_errors, l2);
    }
}

static pd_fsource_t *src_open(pd_fsources_t *fs, const pd_fsource_spec_t *spec)
{
    if (fs->n == PD_FSOURCE_MAX_SOURCES) {
        pd_log_error("feature source %s: not opened: %d sources are open already",
                     spec->display, PD_FSOURCE_MAX_SOURCES);
        return NULL;
    }
    pd_fsource_t *src = calloc(1, sizeof *src);
    if (src == NULL)
        goto fail;
    if ((src->url = strdup(spec->url)) == NULL || (src->display = strdup(spec->display)) == NULL)
        goto fail_strings;
    if (spec->ops->open(&src->store, fs->loop, spec->url, spec->display, &fs->o) < 0)
        goto fail_strings;
    src->owner = fs;
    src->ops = spec->ops;
    src->last = PD_FSTORE_CONNECTING;
    pd_list_init(&src->waiting);
    uv_timer_init(fs->loop, &src->timer);
    uv_unref((uv_handle_t *)&src->timer);
    src->timer.data = src;
    src_series(fs, src);
    fs->srcs[fs->n++] = src;
    pd_log_info("feature source %s: opened (%u connections)", src->display,
                fs->o.connections);
    return src;
fail_strings:
    free(src->url);
    free(src->display);
    free(src);
fail:
    pd_log_error("feature source %s: cannot be opened: out of memory", spec->display);
    return NULL;
}

/* Closes srcs[i] (no lookup waits on it); the last source takes its slot. */
static void src_close(pd_fsources_t *fs, size_t i)
{
    pd_fsource_t *src = fs->srcs[i];
    fs->srcs[i] = fs->srcs[--fs->n];
    src->ops->close(src->store);
    src->store = NULL;
    pd_metrics_set(src->up, 0);
    pd_metrics_set(src->conns, 0);
    uv_close((uv_handle_t *)&src->timer, src_free);
}

static pd_fsource_t *src_find(pd_fsources_t *fs, const pd_fsource_spec_t *spec)
{
    for (size_t i = 0; i < fs->n; i++)
        if (fs->srcs[i]->ops == spec->ops && strcmp(fs->srcs[i]->url, spec->url) == 0)
            return fs->srcs[i];
    return NULL;
}

pd_fsource_t *pd__fsources_get(pd_fsources_t *fs, const pd_fsource_spec_t *spec)
{
    pd_fsource_t *src = src_find(fs, spec);
    return src ? src : src_open(fs, spec);
}

/* ---- the sweep ---- */

void pd_fsources_sweep(pd_fsources_t *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        fs->srcs[i]->used = 0;
    for (size_t m = 0; m < fs->reg->n; m++) {
        const pd_served_model_t *sm = fs->reg->models[m];
        for (size_t k = 0; k < sm->n_versions; k++) {
            const pd_fsource_spec_t *spec = sm->versions[k]->features;
            pd_fsource_t *src = spec ? pd__fsources_get(fs, spec) : NULL;
            if (src != NULL)
                src->used = 1;
        }
    }
    for (size_t i = fs->n; i-- > 0;) {
        pd_fsource_t *src = fs->srcs[i];
        if (!src->used && pd_list_empty(&src->waiting)) {
            pd_log_info("feature source %s: closed (no served model names it)", src->display);
            src_close(fs, i);
        } else if (src->ops->tick != NULL) {
            src->ops->tick(src->store);
        }
    }
}

static void sweep_cb_locked(uv_timer_t *t)
{
    pd_fsources_sweep(t->data);
}

/* sweep_cb_locked under the app lock (util/applock.h): a loop callback into shared state. */
static void sweep_cb(uv_timer_t *t)
{
    pd_applock_enter();
    sweep_cb_locked(t);
    pd_applock_leave();
}

/* ---- metrics, health, catalog ---- */

static void collect(pd_metrics_family_t *f, void *ud)
{
    pd_fsources_t *fs = ud;
    for (size_t i = 0; i < fs->n; i++) {
        pd_fsource_t *src = fs->srcs[i];
        pd_fstore_stats_t st;
        src->ops->stats(src->store, &st);
        if (f == fs->f_up)
            pd_metrics_set(src->up, st.up > 0);
        else if (f == fs->f_conns)
            pd_metrics_set(src->conns, st.up);
        else
            pd_metrics_set(src->connects, (double)st.connects);
    }
}

static int add_metrics(pd_fsources_t *fs, pd_metrics_t *m)
{
    static const char *const l1[] = {"source"}, *const l2[] = {"source", "kind"};
    int rc = pd_metrics_histogram(m, "predictd_feature_lookup_seconds", "One request's "
                                  "feature lookup, from sending its keys to its last reply or "
                                  "its timeout, by source.", l1, 1, pd_metrics_latency_buckets,
                                  PD_METRICS_LATENCY_BUCKETS_N, &fs->f_latency);
    if (rc == 0)
        rc = pd_metrics_histogram(m, "predictd_feature_lookup_keys", "Entity keys looked up "
                                  "per request, by source.", l1, 1, k_key_buckets,
                                  PD_ARRAY_SIZE(k_key_buckets), &fs->f_keys);
    if (rc == 0)
        rc = pd_metrics_counter(m, "predictd_feature_lookup_errors_total", "Feature lookups "
                                "answered with an error, by source and kind (timeout, "
                                "unavailable, busy, missing, not_a_number, wrong_type, key, "
                                "store).", l2, 2, &fs->f_errors);
    if (rc == 0)
        rc = pd_metrics_gauge(m, "predictd_feature_source_up", "1 while at least one "
                              "connection to the source is up.", l1, 1, &fs->f_up);
    if (rc == 0)
        rc = pd_metrics_gauge(m, "predictd_feature_source_connections", "Connections to the "
                              "source that are up.", l1, 1, &fs->f_conns);
    if (rc == 0)
        rc = pd_metrics_counter(m, "predictd_feature_source_connects_total", "Connections to "
                                "the source established (the first ones and reconnects).", l1,
                                1, &fs->f_connects);
    if (rc == 0) {
        pd_metrics_on_collect(fs->f_up, collect, fs);
        pd_metrics_on_collect(fs->f_conns, collect, fs);
        pd_metrics_on_collect(fs->f_connects, collect, fs);
    }
    return rc;
}

const char *pd_fsources_state(pd_fsources_t *fs, const pd_fsource_spec_t *spec)
{
    pd_fsource_t *src = fs ? src_find(fs, spec) : NULL;
    return src ? k_states[src->ops->state(src->store)] : "closed";
}

int pd_fsources_any_down(pd_fsources_t *fs)
{
    for (size_t i = 0; fs && i < fs->n; i++)
        if (fs->srcs[i]->ops->state(fs->srcs[i]->store) != PD_FSTORE_UP)
            return 1;
    return 0;
}

int pd_fsources_report(pd_fsources_t *fs, pd_buf_t *out)
{
    int rc = 0;
    if (fs == NULL || fs->n == 0)
        return 0;
    rc = pd_buf_puts(out, ",\"feature_sources\":[");
    for (size_t i = 0; i < fs->n && rc == 0; i++) {
        pd_fsource_t *src = fs->srcs[i];
        rc = pd_buf_puts(out, i ? ",{\"source\":" : "{\"source\":");
        if (rc == 0)
            rc = pd_buf_json_str(out, src->display, strlen(src->display));
        if (rc == 0)
            rc = pd_buf_printf(out, ",\"state\":\"%s\"}", k_states[src->ops->state(src->store)]);
    }
    return rc < 0 ? rc : pd_buf_puts(out, "]");
}

/* ---- life cycle ---- */

int pd_fsources_create(pd_fsources_t **out, uv_loop_t *loop, struct pd_registry_s *reg,
                       pd_metrics_t *metrics, const pd_fsource_options_t *o)
{
    pd_fsources_t *fs = calloc(1, sizeof *fs);
    if (fs == NULL)
        return PD_ENOMEM;
    fs->loop = loop;
    fs->reg = reg;
    fs->o = *o;
    if (fs->o.timeout_ms == 0)
        fs->o.timeout_ms = PD_FSOURCE_DEFAULT_TIMEOUT_MS;
    if (fs->o.connections == 0)
        fs->o.connections = PD_FSOURCE_DEFAULT_CONNECTIONS;
    if (fs->o.max_pending == 0)
        fs->o.max_pending = PD_FSOURCE_DEFAULT_MAX_PENDING;
    int rc = metrics ? add_metrics(fs, metrics) : 0;
    if (rc < 0) {
        free(fs);
        return rc;
    }
    uv_timer_init(loop, &fs->sweep);
    fs->sweep.data = fs;
    uv_timer_start(&fs->sweep, sweep_cb, PD_FSOURCE_SWEEP_MS, PD_FSOURCE_SWEEP_MS);
    uv_unref((uv_handle_t *)&fs->sweep);
    *out = fs;
    return 0;
}

static void fs_free(uv_handle_t *h)
{
    free(h->data);
}

void pd_fsources_destroy(pd_fsources_t *fs)
{
    if (fs == NULL)
        return;
    while (fs->n > 0) {
        pd_fsource_t *src = fs->srcs[fs->n - 1];
        while (!pd_list_empty(&src->waiting)) { /* none: every request was answered */
            pd_fetch_t *f = pd_list_entry(pd_list_head(&src->waiting), pd_fetch_t, link);
            pd_fetch_cancel(f);
        }
        src_close(fs, fs->n - 1);
    }
    uv_close((uv_handle_t *)&fs->sweep, fs_free);
}
