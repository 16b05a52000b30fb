/* repo_watch.h - "tell me when the model repository may have changed": a libuv component
 * on the loop thread that calls back when a rescan (pd_repo_scan, repo_scan.h) is worth
 * doing. It says *that* something may have changed, never *what*: the caller rescans and
 * diffs.
 *
 * - Watches, with uv_fs_event_t (inotify on Linux: one directory each, not recursive),
 *   every directory of the repository layout: each PATH that is a directory, each model
 *   folder (valid name) in it, each numbered version folder in those; and the parent of a
 *   PATH that is a file (or missing), which sees an atomic rename replacing it.
 * - The watched set is recomputed after every change and every timer tick, on the libuv
 *   threadpool (readdir/stat never run on the loop), then applied on the loop: watchers
 *   start for folders that appeared (or were deleted and made again under the same path,
 *   even with a reused inode number) and close for folders that went away. A folder created after start is watched from the next cycle on.
 * - Events are coalesced: PD_REPO_WATCH_DEBOUNCE_MS after the last event of a burst (and
 *   at most PD_REPO_WATCH_MAX_DELAY_MS after its first), ONE cycle runs: re-arm, then cb.
 *   cb runs after re-arming, so a change made after cb's rescan began is never lost.
 * - A periodic timer (interval_ms) runs the same cycle: the fallback when events are
 *   missed (network file systems, more than PD_REPO_WATCH_MAX_DIRS folders, a folder
 *   filled before its watcher started).
 *
 * Bounded: at most PD_REPO_WATCH_MAX_DIRS watched folders (the others rely on the timer;
 * one warning), PD_REPO_MAX_DIR_NAMES names read per folder, one cycle in flight.
 * Loop thread only, except where a comment says otherwise. */
#ifndef PD_API_REPO_WATCH_H
#define PD_API_REPO_WATCH_H

#include <stddef.h>

#include <uv.h>

#define PD_REPO_WATCH_DEFAULT_INTERVAL_MS 1000u /* periodic rescan when interval_ms is 0 */
#define PD_REPO_WATCH_MAX_INTERVAL_MS 3600000u  /* largest interval_ms accepted (1 h) */
#define PD_REPO_WATCH_DEBOUNCE_MS 100u          /* quiet time that ends a burst of events */
#define PD_REPO_WATCH_MAX_DELAY_MS 1000u        /* a longer burst still calls back this often */
#define PD_REPO_WATCH_MAX_DIRS 512              /* folders watched with inotify at most */
#define PD_REPO_WATCH_MAX_WARNINGS 16           /* "cannot watch" warnings logged per watch */

/* Why cb is called; the caller may ignore it (every call means "rescan"). */
typedef enum {
    PD_REPO_WATCH_ARMED = 0, /* the first watchers are in place: rescan once to catch
                                changes made between your initial load and now */
    PD_REPO_WATCH_EVENT = 1, /* file system events (a debounced burst) */
    PD_REPO_WATCH_TIMER = 2, /* the periodic rescan */
} pd_repo_watch_reason_t;

typedef struct pd_repo_watch_s pd_repo_watch_t;

/* Called on the loop thread. It may call pd_repo_watch_stop (then it is not called again). */
typedef void (*pd_repo_watch_cb)(pd_repo_watch_reason_t reason, void *ud);

/* Starts watching paths[0, n) (the PATHs given to `predictd serve`, 1..PD_REPO_MAX_PATHS;
 * copied, so they are borrowed for the call only). interval_ms: the periodic rescan
 * (0: PD_REPO_WATCH_DEFAULT_INTERVAL_MS; at most PD_REPO_WATCH_MAX_INTERVAL_MS). cb (not
 * NULL) and ud are kept until stop; cb is first called with PD_REPO_WATCH_ARMED once the
 * initial watchers are armed. Watchers and timers are referenced handles: the loop keeps
 * running while the watch exists. On success *out owns the watch (end it with
 * pd_repo_watch_stop). Returns 0, PD_EINVAL or PD_ENOMEM (nothing left to clean up).
 * Loop thread (the loop's own thread), including before the loop first runs. */
int pd_repo_watch_start(uv_loop_t *loop, const char *const *paths, size_t n,
                        unsigned interval_ms, pd_repo_watch_cb cb, void *ud,
                        pd_repo_watch_t **out);

/* Stops the watch: cb is never called again (even from a cycle in flight), every handle
 * is closed and a queued threadpool job canceled. Its memory is freed by the close
 * callbacks and by a job still running, so the loop must run once more (uv_run until it
 * has nothing left) before uv_loop_close. Accepts NULL; may be called from cb. Loop thread. */
void pd_repo_watch_stop(pd_repo_watch_t *w);

/* The number of folders watched now (tests, metrics). Loop thread. */
size_t pd_repo_watch_dirs(const pd_repo_watch_t *w);

#endif
