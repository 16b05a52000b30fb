/* looplag.h - the event-loop monitor, like Node's monitorEventLoopDelay plus asyncio's
 * slow-callback warning.
 *
 * - Lag: an unreferenced uv_timer fires every interval_ms; how late it fires (beyond the
 *   interval) is recorded into predictd_event_loop_lag_seconds.
 * - Work per iteration: an unreferenced uv_prepare runs once per loop iteration; the time
 *   between two prepares minus the time the loop spent blocked in poll
 *   (uv_metrics_idle_time) is what that iteration spent running callbacks. It is recorded
 *   into predictd_event_loop_iteration_seconds; when it is at least slow_ms, ONE warning
 *   names the longest labeled section that ran in that iteration:
 *   "event loop blocked for 512.3 ms (POST /predict_blocking)".
 * - Utilization: 1 - idle/elapsed over each window_ms, as predictd_event_loop_utilization.
 *
 * pd_looplag_init enables UV_METRICS_IDLE_TIME on the loop (uv_loop_configure): call it
 * before the loop first runs, or idle time before that call counts as work.
 * Loop thread only. */
#ifndef PD_LOOPLAG_H
#define PD_LOOPLAG_H

#include <stdint.h>

#include <uv.h>

#include "obs/metrics.h"

#define PD_LOOPLAG_DEFAULT_INTERVAL_MS 10
#define PD_LOOPLAG_DEFAULT_SLOW_MS 100 /* asyncio's slow_callback_duration */
#define PD_LOOPLAG_DEFAULT_WINDOW_MS 1000
#define PD_LOOPLAG_MAX_MS 3600000u    /* upper bound of every *_ms option */
#define PD_LOOPLAG_LABEL_MAX 96       /* bytes kept of a section label, with the NUL */

typedef struct pd_looplag_options_s {
    unsigned interval_ms; /* lag sampling period; 0 = default (10) */
    unsigned slow_ms;     /* warn when an iteration works this long; 0 = default (100) */
    unsigned window_ms;   /* utilization window; 0 = default (1000) */
} pd_looplag_options_t;

typedef struct pd_looplag_s pd_looplag_t;

typedef struct pd_looplag_stats_s {
    uint64_t lag_samples;     /* timer firings measured */
    uint64_t iterations;      /* loop iterations measured */
    uint64_t slow_iterations; /* iterations that logged the warning */
    double utilization;       /* last complete window, 0..1 (0 before the first) */
} pd_looplag_stats_t;

/* Starts monitoring `loop` (loop thread). reg may be NULL; otherwise the monitor registers
 * predictd_event_loop_{lag_seconds,iteration_seconds,utilization,slow_iterations_total}
 * in it, and reg must outlive the monitor. opt may be NULL (defaults) and is copied.
 * Returns 0, PD_EINVAL (an option over PD_LOOPLAG_MAX_MS, or the metric names already
 * registered), PD_ENOMEM, PD_EIO (a libuv handle could not be started). */
int pd_looplag_init(pd_looplag_t **out, uv_loop_t *loop, pd_metrics_t *reg,
                    const pd_looplag_options_t *opt);

/* Opens a labeled section (e.g. "POST /predict_blocking") around handler code. Sections
 * do not nest: inside an open section, enter/leave pairs are counted but not timed. label
 * is only read until the matching leave (it is copied, truncated to PD_LOOPLAG_LABEL_MAX-1
 * bytes, if it is the longest so far). mon may be NULL (no-op). */
void pd_looplag_enter(pd_looplag_t *mon, const char *label);
/* Closes the section opened by the matching enter; unmatched leaves are ignored. */
void pd_looplag_leave(pd_looplag_t *mon);

/* Copies the monitor's counters. */
void pd_looplag_stats(const pd_looplag_t *mon, pd_looplag_stats_t *out);

/* Stops the monitor and closes its handles; its memory is freed by their close callbacks,
 * i.e. on the next uv_run of the loop. Accepts NULL. */
void pd_looplag_destroy(pd_looplag_t *mon);

#endif
