/* looplag.c - event-loop lag, per-iteration work and utilization (see looplag.h).
 *
 * Invariants: the timer and the prepare handle are unreferenced (the monitor never keeps
 * the loop alive); `closing` counts handles whose close callback has not run yet, and the
 * struct is freed when it drops to 0. depth > 0 while a labeled section is open;
 * longest_ns/longest_label describe the longest section closed since the last prepare.
 * Metric series pointers belong to the registry (NULL without one: updates are no-ops). */
#include "obs/looplag.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "util/applock.h"
#include "obs/log.h"

struct pd_looplag_s {
    uv_loop_t *loop;
    uv_timer_t timer;
    uv_prepare_t prepare;
    int closing;
    uint64_t interval_ns, slow_ns, window_ns;
    /* lag */
    uint64_t last_fire_ns;
    /* per iteration */
    uint64_t last_prepare_ns, last_prepare_idle;
    /* utilization window */
    uint64_t window_start_ns, window_start_idle;
    /* sections */
    unsigned depth;
    const char *sec_label;
    uint64_t sec_start_ns;
    uint64_t longest_ns;
    char longest_label[PD_LOOPLAG_LABEL_MAX];
    pd_looplag_stats_t stats;
    pd_metrics_series_t *m_lag, *m_iter, *m_util, *m_slow;
};

static void on_timer_locked(uv_timer_t *t)
{
    pd_looplag_t *mon = t->data;
    uint64_t now = uv_hrtime();
    if (mon->last_fire_ns) {
        uint64_t due = mon->last_fire_ns + mon->interval_ns;
        uint64_t lag = now > due ? now - due : 0;
        pd_metrics_observe(mon->m_lag, (double)lag / 1e9);
        mon->stats.lag_samples++;
    }
    mon->last_fire_ns = now;
    uint64_t idle = uv_metrics_idle_time(mon->loop);
    if (mon->window_start_ns == 0) {
        mon->window_start_ns = now;
        mon->window_start_idle = idle;
    } else if (now - mon->window_start_ns >= mon->window_ns) {
        double elapsed = (double)(now - mon->window_start_ns);
        double idle_d = (double)(idle - mon->window_start_idle);
        double u = 1.0 - idle_d / elapsed;
        mon->stats.utilization = u < 0 ? 0 : u > 1 ? 1 : u;
        pd_metrics_set(mon->m_util, mon->stats.utilization);
        mon->window_start_ns = now;
        mon->window_start_idle = idle;
    }
}

/* on_timer_locked under the app lock (util/applock.h): a loop callback into shared state. */
static void on_timer(uv_timer_t *t)
{
    pd_applock_enter();
    on_timer_locked(t);
    pd_applock_leave();
}

static void on_prepare_locked(uv_prepare_t *h)
{
    pd_looplag_t *mon = h->data;
    uint64_t now = uv_hrtime();
    uint64_t idle = uv_metrics_idle_time(mon->loop);
    if (mon->last_prepare_ns) {
        uint64_t elapsed = now - mon->last_prepare_ns;
        uint64_t idle_d = idle - mon->last_prepare_idle;
        uint64_t work = elapsed > idle_d ? elapsed - idle_d : 0;
        pd_metrics_observe(mon->m_iter, (double)work / 1e9);
        mon->stats.iterations++;
        if (work >= mon->slow_ns) {
            mon->stats.slow_iterations++;
            pd_metrics_inc(mon->m_slow, 1);
            pd_log_warn("event loop blocked for %.1f ms (%s)", (double)work / 1e6,
                        mon->longest_ns ? mon->longest_label : "no labeled section");
        }
    }
    mon->last_prepare_ns = now;
    mon->last_prepare_idle = idle;
    mon->longest_ns = 0;
    mon->longest_label[0] = '\0';
}

/* on_prepare_locked under the app lock (util/applock.h): a loop callback into shared state. */
static void on_prepare(uv_prepare_t *h)
{
    pd_applock_enter();
    on_prepare_locked(h);
    pd_applock_leave();
}

void pd_looplag_enter(pd_looplag_t *mon, const char *label)
{
    if (mon == NULL)
        return;
    if (mon->depth++ == 0) {
        mon->sec_label = label ? label : "";
        mon->sec_start_ns = uv_hrtime();
    }
}

void pd_looplag_leave(pd_looplag_t *mon)
{
    if (mon == NULL || mon->depth == 0)
        return;
    if (--mon->depth > 0)
        return;
    uint64_t d = uv_hrtime() - mon->sec_start_ns;
    if (d >= mon->longest_ns) {
        mon->longest_ns = d ? d : 1;
        strncpy(mon->longest_label, mon->sec_label, sizeof mon->longest_label - 1);
        mon->longest_label[sizeof mon->longest_label - 1] = '\0';
    }
    mon->sec_label = NULL;
}

void pd_looplag_stats(const pd_looplag_t *mon, pd_looplag_stats_t *out)
{
    *out = mon->stats;
}

/* Registers the monitor's metrics in reg and keeps their series. */
static int register_metrics(pd_looplag_t *mon, pd_metrics_t *reg)
{
    pd_metrics_family_t *lag, *iter, *util, *slow;
    int rc = pd_metrics_histogram(reg, "predictd_event_loop_lag_seconds",
                                  "How late the loop-lag sampling timer fired.", NULL, 0,
                                  pd_metrics_latency_buckets, PD_METRICS_LATENCY_BUCKETS_N, &lag);
    if (rc == 0)
        rc = pd_metrics_histogram(reg, "predictd_event_loop_iteration_seconds",
                                  "Time one event-loop iteration spent running callbacks.", NULL,
                                  0, pd_metrics_latency_buckets, PD_METRICS_LATENCY_BUCKETS_N,
                                  &iter);
    if (rc == 0)
        rc = pd_metrics_gauge(reg, "predictd_event_loop_utilization",
                              "Fraction of the last window the event loop was not idle.", NULL,
                              0, &util);
    if (rc == 0)
        rc = pd_metrics_counter(reg, "predictd_event_loop_slow_iterations_total",
                                "Loop iterations that ran callbacks for at least slow_ms.",
                                NULL, 0, &slow);
    if (rc < 0)
        return rc;
    mon->m_lag = pd_metrics_series(lag, NULL);
    mon->m_iter = pd_metrics_series(iter, NULL);
    mon->m_util = pd_metrics_series(util, NULL);
    mon->m_slow = pd_metrics_series(slow, NULL);
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    pd_looplag_t *mon = h->data;
    if (--mon->closing == 0)
        free(mon);
}

static unsigned opt_or(unsigned v, unsigned def)
{
    return v ? v : def;
}

int pd_looplag_init(pd_looplag_t **out, uv_loop_t *loop, pd_metrics_t *reg,
                    const pd_looplag_options_t *opt)
{
    *out = NULL;
    pd_looplag_options_t o = {0, 0, 0};
    if (opt)
        o = *opt;
    o.interval_ms = opt_or(o.interval_ms, PD_LOOPLAG_DEFAULT_INTERVAL_MS);
    o.slow_ms = opt_or(o.slow_ms, PD_LOOPLAG_DEFAULT_SLOW_MS);
    o.window_ms = opt_or(o.window_ms, PD_LOOPLAG_DEFAULT_WINDOW_MS);
    if (o.interval_ms > PD_LOOPLAG_MAX_MS || o.slow_ms > PD_LOOPLAG_MAX_MS ||
        o.window_ms > PD_LOOPLAG_MAX_MS)
        return PD_EINVAL;
    pd_looplag_t *mon = calloc(1, sizeof *mon);
    if (mon == NULL)
        return PD_ENOMEM;
    mon->loop = loop;
    mon->interval_ns = (uint64_t)o.interval_ms * 1000000u;
    mon->slow_ns = (uint64_t)o.slow_ms * 1000000u;
    mon->window_ns = (uint64_t)o.window_ms * 1000000u;
    int rc = reg ? register_metrics(mon, reg) : 0;
    if (rc < 0)
        goto fail_mon;
    rc = PD_EIO;
    if (uv_loop_configure(loop, UV_METRICS_IDLE_TIME) != 0)
        goto fail_mon;
    if (uv_timer_init(loop, &mon->timer) != 0)
        goto fail_mon;
    mon->timer.data = mon;
    mon->closing = 1;
    if (uv_prepare_init(loop, &mon->prepare) != 0)
        goto fail_timer;
    mon->prepare.data = mon;
    mon->closing = 2;
    if (uv_timer_start(&mon->timer, on_timer, o.interval_ms, o.interval_ms) != 0 ||
        uv_prepare_start(&mon->prepare, on_prepare) != 0)
        goto fail_handles;
    uv_unref((uv_handle_t *)&mon->timer);
    uv_unref((uv_handle_t *)&mon->prepare);
    *out = mon;
    return 0;

fail_handles:
    uv_close((uv_handle_t *)&mon->prepare, on_closed);
fail_timer:
    uv_close((uv_handle_t *)&mon->timer, on_closed);
    return rc; /* freed by the close callbacks */
fail_mon:
    free(mon);
    return rc;
}

void pd_looplag_destroy(pd_looplag_t *mon)
{
    if (mon == NULL)
        return;
    uv_close((uv_handle_t *)&mon->timer, on_closed);
    uv_close((uv_handle_t *)&mon->prepare, on_closed);
}
