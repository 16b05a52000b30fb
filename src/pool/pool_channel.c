/* pool_channel.c - the pool's completion channels: one per event loop that submits jobs.
 *
 * A channel owns, on its loop: the uv_async_t the workers wake it with, the check/prepare
 * pair that wakes workers once per loop iteration for the jobs submitted in it, the count
 * of its jobs in flight, and the list of its finished jobs.
 *
 * Invariants:
 * - a job completes on the channel it was submitted through (job->pd_channel): its done()
 *   runs on that channel's loop thread only;
 * - ch->done is guarded by ch->cmu, which a worker takes without pool->mu; a worker
 *   appends a batch's jobs and sends the wake-up while holding cmu, so once the channel's
 *   thread has seen (under cmu) no job left in flight, no worker touches the channel again
 *   and it may be freed;
 * - ch->inflight, wake_pending and async_refd are touched on the channel's thread only;
 * - pool->channels[] is changed under pool->mu (a slot per open channel);
 * - done() callbacks (and the metrics recorded before them) run holding the app lock
 *   (util/applock.h), which is a no-op unless several loops serve. */
#include <pthread.h>
#include <stdlib.h>

#include "common.h"
#include "pool/pool_internal.h"
#include "util/applock.h"

static void on_handle_closed(uv_handle_t *h)
{
    free(h);
}

void pd__pool_channel_drain(pd_pool_channel_t *ch)
{
    pd_list_t done;
    pthread_mutex_lock(&ch->cmu);
    pd_list_move(&ch->done, &done);
    pthread_mutex_unlock(&ch->cmu);
    pd_pool_t *pool = ch->pool;
    pd_applock_enter(); /* done() is app code (util/applock.h; no-op with one loop) */
    while (!pd_list_empty(&done)) {
        pd_list_t *node = pd_list_head(&done);
        pd_list_remove(node); /* before done(), which may free the job */
        pd_job_t *j = pd_list_entry(node, pd_job_t, pd_link);
        ch->inflight--;
        if (pool->metrics)
            pd__pool_metrics_on_done(pool, j);
        j->done(j, j->status);
    }
    pd_applock_leave();
    if (ch->inflight == 0 && ch->async_refd) {
        uv_unref((uv_handle_t *)ch->async);
        ch->async_refd = 0;
    }
}

static void on_async(uv_async_t *h)
{
    pd__pool_channel_drain(h->data);
}

/* Wakes as many workers as jobs were submitted through ch since the last call (at most all
 * of them). Submitting only counts: this runs right after the I/O callbacks of each loop
 * iteration (check) and right before the loop blocks (prepare), so the requests read in
 * one iteration reach the workers together, batched, at one wake-up each, and no job is
 * left unsignaled while the loop sleeps. */
void pd_pool_channel_flush(pd_pool_channel_t *ch)
{
    unsigned n = PD_MIN(ch->wake_pending, ch->pool->n_workers);
    ch->wake_pending = 0;
    for (unsigned i = 0; i < n; i++)
        pthread_cond_signal(&ch->pool->cv);
}

void pd_pool_flush(pd_pool_t *pool)
{
    pd_pool_channel_flush(pool->main);
}

static void on_check(uv_check_t *h)
{
    pd_pool_channel_flush(h->data);
}

static void on_prepare(uv_prepare_t *h)
{
    pd_pool_channel_flush(h->data);
}

/* Takes a free slot in pool->channels for ch. Returns 0 or PD_EFULL. */
static int channel_register(pd_pool_t *pool, pd_pool_channel_t *ch)
{
    int rc = PD_EFULL;
    pthread_mutex_lock(&pool->mu);
    for (size_t i = 0; i < PD_POOL_MAX_CHANNELS; i++)
        if (pool->channels[i] == NULL) {
            pool->channels[i] = ch;
            ch->slot = i;
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&pool->mu);
    return rc;
}

/* Initializes ch's three handles on its loop, unreferenced. Returns 0, PD_ENOMEM, PD_EIO;
 * on failure nothing is left open. */
static int channel_handles(pd_pool_channel_t *ch)
{
    ch->async = malloc(sizeof *ch->async);
    ch->check = malloc(sizeof *ch->check);
    ch->prepare = malloc(sizeof *ch->prepare);
    if (ch->async == NULL || ch->check == NULL || ch->prepare == NULL)
        goto fail;
    if (uv_async_init(ch->loop, ch->async, on_async) != 0) {
        free(ch->check);
        free(ch->prepare);
        free(ch->async);
        return PD_EIO;
    }
    ch->async->data = ch->check->data = ch->prepare->data = ch;
    uv_unref((uv_handle_t *)ch->async);
    uv_check_init(ch->loop, ch->check);
    uv_prepare_init(ch->loop, ch->prepare);
    uv_check_start(ch->check, on_check);
    uv_prepare_start(ch->prepare, on_prepare);
    uv_unref((uv_handle_t *)ch->check);
    uv_unref((uv_handle_t *)ch->prepare);
    return 0;
fail:
    free(ch->async);
    free(ch->check);
    free(ch->prepare);
    return PD_ENOMEM;
}

int pd__pool_channel_open(pd_pool_t *pool, uv_loop_t *loop, pd_pool_channel_t **out)
{
    pd_pool_channel_t *ch = calloc(1, sizeof *ch);
    if (ch == NULL)
        return PD_ENOMEM;
    int rc = PD_ENOMEM;
    ch->pool = pool;
    ch->loop = loop;
    pd_list_init(&ch->done);
    if (pthread_mutex_init(&ch->cmu, NULL) != 0)
        goto fail_ch;
    if (pthread_cond_init(&ch->ccv, NULL) != 0)
        goto fail_mu;
    if ((rc = channel_register(pool, ch)) < 0)
        goto fail_cv;
    if ((rc = channel_handles(ch)) < 0)
        goto fail_slot;
    *out = ch;
    return 0;
fail_slot:
    pthread_mutex_lock(&pool->mu);
    pool->channels[ch->slot] = NULL;
    pthread_mutex_unlock(&pool->mu);
fail_cv:
    pthread_cond_destroy(&ch->ccv);
fail_mu:
    pthread_mutex_destroy(&ch->cmu);
fail_ch:
    free(ch);
    return rc;
}

void pd__pool_channel_close(pd_pool_channel_t *ch)
{
    pd_pool_t *pool = ch->pool;
    pthread_mutex_lock(&pool->mu);
    pool->channels[ch->slot] = NULL;
    pthread_mutex_unlock(&pool->mu);
    uv_close((uv_handle_t *)ch->check, on_handle_closed);
    uv_close((uv_handle_t *)ch->prepare, on_handle_closed);
    uv_close((uv_handle_t *)ch->async, on_handle_closed);
    pthread_cond_destroy(&ch->ccv);
    pthread_mutex_destroy(&ch->cmu);
    free(ch);
}

int pd_pool_channel_create(pd_pool_t *pool, uv_loop_t *loop, pd_pool_channel_t **out)
{
    *out = NULL;
    if (pool == NULL || loop == NULL)
        return PD_EINVAL;
    return pd__pool_channel_open(pool, loop, out);
}

void pd_pool_channel_destroy(pd_pool_channel_t *ch)
{
    if (ch == NULL)
        return;
    pd_pool_channel_flush(ch); /* jobs submitted in this iteration must reach a worker */
    for (;;) {
        pd__pool_channel_drain(ch);
        pd_pool_channel_flush(ch); /* a done() above may have submitted more */
        pthread_mutex_lock(&ch->cmu);
        while (ch->inflight > 0 && pd_list_empty(&ch->done))
            pthread_cond_wait(&ch->ccv, &ch->cmu);
        int idle = ch->inflight == 0; /* then no worker holds a job of ch: none touches it */
        pthread_mutex_unlock(&ch->cmu);
        if (idle)
            break;
    }
    pd__pool_channel_close(ch);
}

pd_pool_channel_t *pd_pool_main_channel(pd_pool_t *pool)
{
    return pool->main;
}

size_t pd_pool_channel_inflight(const pd_pool_channel_t *ch)
{
    return ch->inflight;
}

/* Index of ch in w->touched, adding it (with an empty job list) the first time. */
static size_t touched_slot(pd_pool_worker_t *w, size_t *n, pd_pool_channel_t *ch)
{
    for (size_t i = 0; i < *n; i++)
        if (w->touched[i] == ch)
            return i;
    w->touched[*n] = ch;
    pd_list_init(&w->touched_jobs[*n]);
    return (*n)++;
}

void pd__pool_channel_deliver(pd_pool_worker_t *w, pd_list_t *chain)
{
    size_t n = 0; /* at most PD_POOL_MAX_CHANNELS: every channel is distinct and open */
    while (!pd_list_empty(chain)) {
        pd_list_t *node = pd_list_head(chain);
        pd_list_remove(node);
        pd_job_t *j = pd_list_entry(node, pd_job_t, pd_link);
        pd_list_insert_tail(&w->touched_jobs[touched_slot(w, &n, j->pd_channel)], node);
    }
    for (size_t i = 0; i < n; i++) {
        pd_pool_channel_t *ch = w->touched[i];
        pthread_mutex_lock(&ch->cmu);
        pd_list_concat(&ch->done, &w->touched_jobs[i]);
        uv_async_send(ch->async); /* under cmu: ch cannot be freed meanwhile (see top) */
        pthread_cond_broadcast(&ch->ccv);
        pthread_mutex_unlock(&ch->cmu);
    }
}
