/* test_api_repo_watch.c - pd_repo_watch on a real uv loop over a repository in a mkdtemp
 * directory. File system changes are made in uv timer callbacks while the loop runs; every
 * wait is bounded by a uv timer used as a deadline (no sleeps). Checked: the first call
 * (ARMED), calls after an in-place write, an atomic rename over a file PATH, new and
 * removed model and version folders (a folder created after start is watched from the
 * next cycle, so changes inside it are seen), folders deleted and made again under the
 * same path (same inode number, often), debounce of a burst, the max-delay bound of
 * a long burst, the periodic timer, the bound on watched folders (one warning), and stop
 * (never a call after it, even from cb; loop closes cleanly; ASan checks the frees). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "api/repo_watch.h"
#include "common.h"
#include "obs/log.h"

#define MODEL "{\"format\": \"predictd-model\"}\n"
#define STEP_MS 3000 /* bound on one expected call: debounce + one cycle, with room for ASan */
#define SETTLE_MS 250 /* quiet time after a call, so stragglers do not count for the next */
#define NEVER_MS 600000 /* a periodic interval that never fires during a test */

typedef struct ctx_s {
    uv_loop_t loop;
    uv_timer_t deadline, action;
    pd_repo_watch_t *w;
    int deadline_hit;
    int calls[3]; /* per pd_repo_watch_reason_t */
    int total;
    int stopped;     /* pd_repo_watch_stop was called */
    int after_stop;  /* calls after it: must stay 0 */
    int stop_in_cb;  /* cb stops the watch */
    void (*act)(struct ctx_s *t);
    int writes, max_writes, writes_at_first_call;
    int warnings;    /* captured "more than 512 folders" warnings */
} ctx_t;

static ctx_t T;
static char g_root[PATH_MAX];

static const char *at(const char *rel)
{
    static char buf[4][PATH_MAX];
    static int k;
    char *b = buf[k++ % 4];
    size_t n = strlen(g_root), m = strlen(rel);
    assert_true(n + 1 + m < PATH_MAX);
    memcpy(b, g_root, n);
    b[n] = '/';
    memcpy(b + n + 1, rel, m + 1);
    return b;
}

static void put_mode(const char *rel, const char *text, const char *mode)
{
    FILE *f = fopen(at(rel), mode);
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void put(const char *rel, const char *text)
{
    put_mode(rel, text, "w");
}

static void mkd(const char *rel)
{
    assert_int_equal(mkdir(at(rel), 0755), 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void sink(pd_log_level_t level, const char *msg, void *ud)
{
    (void)ud;
    if (level == PD_LOG_WARN && strstr(msg, "more than 512 folders") != NULL)
        T.warnings++;
}

static void on_cb(pd_repo_watch_reason_t reason, void *ud)
{
    ctx_t *t = ud;
    if (t->stopped)
        t->after_stop++;
    if (t->total++ == 0)
        t->writes_at_first_call = t->writes;
    t->calls[reason]++;
    if (t->stop_in_cb) {
        pd_repo_watch_stop(t->w);
        t->stopped = 1;
    }
}

static void on_deadline(uv_timer_t *h)
{
    ((ctx_t *)h->data)->deadline_hit = 1;
}

static void on_action(uv_timer_t *h)
{
    ctx_t *t = h->data;
    t->act(t);
}

static void reset_counts(ctx_t *t)
{
    memset(t->calls, 0, sizeof t->calls);
    t->total = 0;
}

/* Runs the loop until cb has been called `want` times or ms passed. */
static int wait_calls(ctx_t *t, int want, uint64_t ms)
{
    t->deadline_hit = 0;
    uv_timer_start(&t->deadline, on_deadline, ms, 0);
    while (t->total < want && !t->deadline_hit)
        uv_run(&t->loop, UV_RUN_ONCE);
    uv_timer_stop(&t->deadline);
    return t->total >= want;
}

static void run_for(ctx_t *t, uint64_t ms)
{
    assert_false(wait_calls(t, INT32_MAX, ms));
}

/* Runs act in a timer callback, then expects one call within STEP_MS; then lets stragglers
 * pass and resets the counts. */
static void step(ctx_t *t, void (*act)(ctx_t *), const char *what)
{
    t->act = act;
    uv_timer_start(&t->action, on_action, 0, 0);
    if (!wait_calls(t, 1, STEP_MS))
        fail_msg("no call within %d ms after: %s", STEP_MS, what);
    assert_int_equal(t->calls[PD_REPO_WATCH_TIMER], 0);
    run_for(t, SETTLE_MS);
    reset_counts(t);
}

static void start(ctx_t *t, const char *const *paths, size_t n, unsigned interval_ms)
{
    assert_int_equal(pd_repo_watch_start(&t->loop, paths, n, interval_ms, on_cb, t, &t->w), 0);
    assert_non_null(t->w);
}

static void start_armed(ctx_t *t, const char *const *paths, size_t n, unsigned interval_ms)
{
    start(t, paths, n, interval_ms);
    if (!wait_calls(t, 1, STEP_MS))
        fail_msg("no ARMED call within %d ms", STEP_MS);
    assert_int_equal(t->calls[PD_REPO_WATCH_ARMED], 1);
    run_for(t, SETTLE_MS);
    assert_int_equal(t->calls[PD_REPO_WATCH_ARMED], 1);
    assert_int_equal(t->calls[PD_REPO_WATCH_EVENT], 0); /* timer calls: when interval_ms is short */
    reset_counts(t);
}

static int setup(void **state)
{
    (void)state;
    memset(&T, 0, sizeof T);
    snprintf(g_root, sizeof g_root, "/tmp/pd_repo_watch_XXXXXX");
    if (mkdtemp(g_root) == NULL || uv_loop_init(&T.loop) != 0)
        return -1;
    uv_timer_init(&T.loop, &T.deadline);
    uv_timer_init(&T.loop, &T.action);
    T.deadline.data = T.action.data = &T;
    mkd("repo");
    mkd("repo/a");
    mkd("repo/a/1");
    put("repo/a/1/m.json", MODEL);
    put("repo/loose.json", MODEL);
    mkd("repo/c-old"); /* sorts between repo/c and repo/c/1 once those exist */
    mkd("other");
    put("other/single.json", MODEL);
    pd_log_set_sink(sink, NULL);
    return 0;
}

/* Stops the watch, closes the test's timers, runs the loop dry: uv_loop_close must then
 * succeed (every handle closed, every job done). */
static int teardown(void **state)
{
    (void)state;
    if (!T.stopped)
        pd_repo_watch_stop(T.w);
    T.stopped = 1;
    uv_close((uv_handle_t *)&T.deadline, NULL);
    uv_close((uv_handle_t *)&T.action, NULL);
    uv_run(&T.loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&T.loop);
    pd_log_set_sink(NULL, NULL);
    nftw(g_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc == 0 && T.after_stop == 0 ? 0 : -1;
}

static void act_append(ctx_t *t)
{
    (void)t;
    put_mode("repo/a/1/m.json", " ", "a");
}

static void act_replace_file_path(ctx_t *t)
{
    (void)t;
    put("other/.single.json.tmp", MODEL);
    assert_int_equal(rename(at("other/.single.json.tmp"), at("other/single.json")), 0);
}

static void act_new_version(ctx_t *t)
{
    (void)t;
    mkd("repo/a/2");
}

static void act_write_new_version(ctx_t *t)
{
    (void)t;
    put("repo/a/2/m.json", MODEL);
}

static void act_rewrite_new_version(ctx_t *t)
{
    (void)t;
    put_mode("repo/a/2/m.json", " ", "a");
}

static void act_new_model(ctx_t *t)
{
    (void)t;
    mkd("repo/b");
    mkd("repo/b/1");
}

static void act_write_new_model(ctx_t *t)
{
    (void)t;
    put("repo/b/1/m.json", MODEL);
}

static void act_remove_version(ctx_t *t)
{
    (void)t;
    assert_int_equal(unlink(at("repo/a/2/m.json")), 0);
    assert_int_equal(rmdir(at("repo/a/2")), 0);
}

static void act_rename_model(ctx_t *t)
{
    (void)t;
    assert_int_equal(rename(at("repo/b"), at("repo/c")), 0);
}

static void act_write_renamed_model(ctx_t *t)
{
    (void)t;
    put("repo/c/1/m2.json", MODEL);
}

/* The same paths, new folders (new inodes): the old watchers watch deleted inodes. */
static void act_recreate_model(ctx_t *t)
{
    (void)t;
    assert_int_equal(unlink(at("repo/c/1/m.json")), 0);
    assert_int_equal(unlink(at("repo/c/1/m2.json")), 0);
    assert_int_equal(rmdir(at("repo/c/1")), 0);
    assert_int_equal(rmdir(at("repo/c")), 0);
    mkd("repo/c");
    mkd("repo/c/1");
}

static void act_write_recreated_model(ctx_t *t)
{
    (void)t;
    put("repo/c/1/m3.json", MODEL);
}

static void act_add_loose(ctx_t *t)
{
    (void)t;
    put("repo/new.json", MODEL);
}

static void test_changes(void **state)
{
    (void)state;
    const char *paths[] = {at("repo"), at("other/single.json")};
    start_armed(&T, paths, 2, NEVER_MS);
    assert_int_equal(pd_repo_watch_dirs(T.w), 5); /* repo, repo/a, repo/a/1, c-old, other */
    step(&T, act_append, "an in-place write to repo/a/1/m.json");
    step(&T, act_replace_file_path, "a rename over the file PATH other/single.json");
    step(&T, act_add_loose, "a new loose file");
    step(&T, act_new_version, "mkdir repo/a/2");
    assert_int_equal(pd_repo_watch_dirs(T.w), 6); /* cb runs after re-arming */
    step(&T, act_write_new_version, "a new file in repo/a/2 (made after start)");
    step(&T, act_rewrite_new_version, "a later write in repo/a/2");
    step(&T, act_new_model, "mkdir repo/b repo/b/1");
    assert_int_equal(pd_repo_watch_dirs(T.w), 8);
    step(&T, act_write_new_model, "a new file in repo/b/1");
    step(&T, act_remove_version, "rm -r repo/a/2");
    assert_int_equal(pd_repo_watch_dirs(T.w), 7);
    step(&T, act_rename_model, "mv repo/b repo/c");
    assert_int_equal(pd_repo_watch_dirs(T.w), 7);
    step(&T, act_write_renamed_model, "a new file in repo/c/1");
    step(&T, act_recreate_model, "rm -r repo/c; mkdir -p repo/c/1");
    assert_int_equal(pd_repo_watch_dirs(T.w), 7);
    step(&T, act_write_recreated_model, "a new file in the new repo/c/1");
}

static void act_recreate_version(ctx_t *t)
{
    (void)t;
    assert_int_equal(unlink(at("repo/a/1/m.json")), 0);
    assert_int_equal(rmdir(at("repo/a/1")), 0);
    mkd("repo/a/1");
}

static void act_write_version(ctx_t *t)
{
    (void)t;
    put("repo/a/1/m.json", MODEL);
}

/* A version folder deleted and made again under the same path often gets its inode number
 * back (ext4 reuses them at once), so the watcher must be re-armed on the "deleted" event,
 * not on a changed inode; repeated because the reuse is not certain in one round. */
static void test_recreate_rounds(void **state)
{
    (void)state;
    const char *paths[] = {at("repo")};
    start_armed(&T, paths, 1, NEVER_MS);
    for (int round = 0; round < 5; round++) {
        step(&T, act_recreate_version, "rm -r repo/a/1; mkdir repo/a/1");
        step(&T, act_write_version, "a new file in the new repo/a/1");
    }
}

static void on_write_tick(uv_timer_t *h)
{
    ctx_t *t = h->data;
    put_mode("repo/a/1/m.json", " ", "a");
    if (++t->writes >= t->max_writes)
        uv_timer_stop(h);
}

/* 20 writes 5 ms apart are one burst: one call (allow a straggler or two on a busy box;
 * without the debounce it would be about one call per write). */
static void test_debounce(void **state)
{
    (void)state;
    const char *paths[] = {at("repo")};
    start_armed(&T, paths, 1, NEVER_MS);
    T.max_writes = 20;
    uv_timer_start(&T.action, on_write_tick, 5, 5);
    assert_true(wait_calls(&T, 1, STEP_MS));
    run_for(&T, 2 * SETTLE_MS);
    assert_int_equal(T.writes, 20);
    assert_int_equal(T.writes_at_first_call, 20); /* nothing before the burst ended */
    assert_in_range(T.total, 1, 3);
    assert_int_equal(T.calls[PD_REPO_WATCH_EVENT], T.total);
}

/* A write every 20 ms for 1.6 s never leaves 100 ms of quiet: the call still comes about
 * PD_REPO_WATCH_MAX_DELAY_MS after the burst began, while it goes on. */
static void test_max_delay(void **state)
{
    (void)state;
    const char *paths[] = {at("repo")};
    start_armed(&T, paths, 1, NEVER_MS);
    T.max_writes = 80;
    uv_timer_start(&T.action, on_write_tick, 20, 20);
    assert_true(wait_calls(&T, 1, STEP_MS));
    assert_in_range(T.writes_at_first_call, 1, T.max_writes - 1);
    assert_true(wait_calls(&T, 2, STEP_MS)); /* and once more after the burst */
}

static void test_timer(void **state)
{
    (void)state;
    const char *paths[] = {at("repo")};
    start_armed(&T, paths, 1, 150);
    run_for(&T, 1000);
    assert_in_range(T.calls[PD_REPO_WATCH_TIMER], 2, 8);
    assert_int_equal(T.calls[PD_REPO_WATCH_EVENT], 0);
}

static void test_stop_before_armed(void **state)
{
    (void)state;
    const char *paths[] = {at("repo"), at("missing/x.json")};
    start(&T, paths, 2, 10);
    pd_repo_watch_stop(T.w);
    T.stopped = 1;
    run_for(&T, 200);
    assert_int_equal(T.total, 0);
}

static void test_stop_in_cb(void **state)
{
    (void)state;
    const char *paths[] = {at("repo")};
    T.stop_in_cb = 1;
    start(&T, paths, 1, 10);
    assert_true(wait_calls(&T, 1, STEP_MS));
    assert_int_equal(T.stopped, 1);
    put_mode("repo/a/1/m.json", " ", "a");
    run_for(&T, 300);
    assert_int_equal(T.total, 1);
}

static void act_write_then_stop(ctx_t *t)
{
    put_mode("repo/a/1/m.json", " ", "a");
    pd_repo_watch_stop(t->w);
    t->stopped = 1;
}

static void test_stop_during_burst(void **state)
{
    (void)state;
    const char *paths[] = {at("repo")};
    start_armed(&T, paths, 1, 50);
    T.act = act_write_then_stop;
    uv_timer_start(&T.action, on_action, 0, 0);
    run_for(&T, 400);
    assert_int_equal(T.stopped, 1);
    assert_int_equal(T.total, 0);
    pd_repo_watch_stop(NULL);
}

/* More folders than PD_REPO_WATCH_MAX_DIRS: the first ones (repositories, model folders)
 * are watched, one warning in all, new cycles do not repeat it. */
static void test_max_dirs(void **state)
{
    (void)state;
    char rel[64];
    for (int i = 0; i < PD_REPO_WATCH_MAX_DIRS + 10; i++) {
        snprintf(rel, sizeof rel, "repo/m%d", i);
        mkd(rel);
    }
    const char *paths[] = {at("repo")};
    start_armed(&T, paths, 1, 100);
    assert_int_equal(pd_repo_watch_dirs(T.w), PD_REPO_WATCH_MAX_DIRS);
    run_for(&T, 400);
    assert_true(T.calls[PD_REPO_WATCH_TIMER] >= 1);
    assert_int_equal(T.warnings, 1);
}

static void test_bad_args(void **state)
{
    (void)state;
    const char *paths[] = {at("repo")};
    const char *nullp[] = {NULL};
    pd_repo_watch_t *w = (pd_repo_watch_t *)&w;
    assert_int_equal(pd_repo_watch_start(&T.loop, paths, 1, 0, on_cb, &T, NULL), PD_EINVAL);
    assert_int_equal(pd_repo_watch_start(NULL, paths, 1, 0, on_cb, &T, &w), PD_EINVAL);
    assert_null(w);
    assert_int_equal(pd_repo_watch_start(&T.loop, paths, 0, 0, on_cb, &T, &w), PD_EINVAL);
    assert_int_equal(pd_repo_watch_start(&T.loop, paths, 1, 0, NULL, &T, &w), PD_EINVAL);
    assert_int_equal(pd_repo_watch_start(&T.loop, nullp, 1, 0, on_cb, &T, &w), PD_EINVAL);
    assert_int_equal(pd_repo_watch_start(&T.loop, paths, 1, PD_REPO_WATCH_MAX_INTERVAL_MS + 1,
                                         on_cb, &T, &w), PD_EINVAL);
    assert_null(w);
    assert_int_equal(pd_repo_watch_dirs(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recreate_rounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debounce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_before_armed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_in_cb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_during_burst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
