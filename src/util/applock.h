/* applock.h - the app lock: the one mutex that serializes the application's shared state
 * (model registry, metrics, statistics, repository) when several event loops serve HTTP
 * (`predictd serve --loops N`, src/cli/serve_loops.c).
 *
 * With one loop it is never enabled and every call below is one predictable branch: the
 * single-loop server takes no lock at all. Once enabled (before any loop thread starts,
 * never disabled while they run), a thread holds it while it runs application code: a
 * route's handler, a response hook, a pool completion, a feature store's callback, a
 * loop-monitor tick; the HTTP layer's reading, parsing and writing run outside it, on
 * every loop at once. The main loop (repository, reloads, signals) holds it during each
 * whole iteration and releases it only while it waits for events.
 *
 * Enter/leave nest on one thread (a per-thread depth): code that may be called with the
 * lock held or not simply enters. Every enter is paired with a leave on the same thread. */
#ifndef PD_UTIL_APPLOCK_H
#define PD_UTIL_APPLOCK_H

#include <stdatomic.h>

extern atomic_int pd__applock_on;

/* Turns the lock on (process-wide). Call before the threads that use it start. */
void pd_applock_enable(void);

/* 1 when enabled. */
static inline int pd_applock_enabled(void)
{
    return atomic_load_explicit(&pd__applock_on, memory_order_relaxed);
}

void pd__applock_enter(void);
void pd__applock_leave(void);

/* Takes the lock (no-op when not enabled; nests on one thread). */
static inline void pd_applock_enter(void)
{
    if (pd_applock_enabled())
        pd__applock_enter();
}

/* Releases one enter of the calling thread. */
static inline void pd_applock_leave(void)
{
    if (pd_applock_enabled())
        pd__applock_leave();
}

#endif
