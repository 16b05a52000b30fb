/* fsource_fetch.c - one request's lookup on the loop (fsource.h, fsource_impl.h): start
 * it on its source's store, expire it at its deadline (504), take the store's replies in
 * the order the keys were sent and fill the request's missing cells, decide its answer
 * (422 missing / not a number, 503 lost), cancel it when its client goes away.
 *
 * Invariants (loop thread): an attached fetch is in its source's waiting list, whose
 * order is deadline order (one timeout for all); done() is called at most once, only for
 * an attached fetch, and detaches it first; a detached fetch never touches rows, spec or
 * source again; the fetch is freed when neither the request nor the store holds it. The
 * first error of a lookup decides its answer; later replies are received and dropped. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fsource_impl.h"
#include "common.h"
#include "util/applock.h"
#include "model/model.h"

#define RETRY_AFTER "Retry-After: 1\r\n"

uint64_t pd__fsource_now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

static void destroy(pd_fetch_t *f)
{
    free(f->row_of);
    free(f->key_off);
    free(f->keys);
    free(f);
}

/* Records the lookup's first error. */
static void set_error(pd_fetch_t *f, int status, pd__ferr_t kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_error(pd_fetch_t *f, int status, pd__ferr_t kind, const char *fmt, ...)
{
    if (f->status != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof f->msg, fmt, ap);
    va_end(ap);
    f->status = status;
    f->err_kind = (int)kind;
    f->extra = status == 503 ? RETRY_AFTER : NULL;
}

/* Leaves the source: no more writes to rows, no done(). */
static void detach(pd_fetch_t *f)
{
    pd_list_remove(&f->link);
    pd_list_init(&f->link);
    f->src = NULL;
    f->spec = NULL;
    f->rows = NULL;
    f->done = NULL;
}

/* The attached lookup ends with its status: counted, observed, detached, answered. */
static void finish(pd_fetch_t *f)
{
    pd_fsource_t *src = f->src;
    pd_fetch_done_cb done = f->done;
    void *arg = f->arg;
    pd_metrics_observe(src->latency, (double)(uv_hrtime() - f->t0_ns) / 1e9);
    if (f->status != 0)
        pd__fsource_count(src, (pd__ferr_t)f->err_kind);
    detach(f);
    done(arg, f->status);
}

int pd_fetch_start(pd_fsources_t *fs, const pd_fsource_spec_t *spec, pd_fetch_t *f,
                   pd_rows_t *rows, pd_fetch_done_cb done, void *arg)
{
    pd_fsource_t *src = pd__fsources_get(fs, spec);
    if (f->status != 0) { /* a bad key field, found by pd_fetch_prepare */
        if (src != NULL)
            pd__fsource_count(src, (pd__ferr_t)f->err_kind);
        return f->status;
    }
    if (src == NULL) {
        set_error(f, 503, PD__FERR_UNAVAILABLE, "feature source %s cannot be opened: more "
                  "than %d sources, or out of memory", spec->display, PD_FSOURCE_MAX_SOURCES);
        return f->status;
    }
    pd_fstore_state_t st = src->ops->state(src->store);
    int rc = st == PD_FSTORE_UP ? src->ops->send(src->store, f, spec) : PD_ESHUTDOWN;
    if (rc == PD_EFULL)
        set_error(f, 503, PD__FERR_BUSY, "feature source %s is busy: %zu keys are in flight "
                  "(--feature-max-pending)", spec->display, fs->o.max_pending);
    else if (rc < 0)
        set_error(f, 503, PD__FERR_UNAVAILABLE, "feature source %s is unavailable (%s); "
                  "reconnecting", spec->display,
                  st == PD_FSTORE_CONNECTING ? "connecting" : "down");
    if (rc < 0) {
        pd__fsource_count(src, (pd__ferr_t)f->err_kind);
        return f->status;
    }
    f->by_store = 1;
    f->src = src;
    f->spec = spec;
    f->rows = rows;
    f->done = done;
    f->arg = arg;
    f->t0_ns = uv_hrtime();
    f->deadline_ms = pd__fsource_now_ms() + fs->o.timeout_ms;
    pd_list_insert_tail(&src->waiting, &f->link);
    pd_metrics_observe(src->keys, (double)f->n_keys);
    pd__fsource_arm(src);
    return 0;
}

void pd__fsource_arm(pd_fsource_t *src)
{
    if (pd_list_empty(&src->waiting)) {
        uv_timer_stop(&src->timer);
        return;
    }
    if (uv_is_active((uv_handle_t *)&src->timer))
        return; /* armed for an earlier (or the same) deadline: deadlines only grow along
                   the list, and the expiry re-arms for the next head */
    pd_fetch_t *f = pd_list_entry(pd_list_head(&src->waiting), pd_fetch_t, link);
    uint64_t now = pd__fsource_now_ms();
    uv_timer_start(&src->timer, pd__fsource_expire,
                   f->deadline_ms > now ? f->deadline_ms - now : 0, 0);
}

static void pd__fsource_expire_locked(uv_timer_t *t)
{
    pd_fsource_t *src = t->data;
    uint64_t now = pd__fsource_now_ms();
    while (!pd_list_empty(&src->waiting)) {
        pd_fetch_t *f = pd_list_entry(pd_list_head(&src->waiting), pd_fetch_t, link);
        if (f->deadline_ms > now)
            break;
        f->status = 0; /* a timeout wins over an error not yet answered */
        set_error(f, 504, PD__FERR_TIMEOUT, "feature lookup from %s timed out after %u ms "
                  "(--feature-timeout-ms)", src->display, src->owner->o.timeout_ms);
        finish(f);
    }
    uv_timer_stop(t);
    pd__fsource_arm(src);
}

/* pd__fsource_expire_locked under the app lock (util/applock.h): a loop callback into shared state. */
void pd__fsource_expire(uv_timer_t *t)
{
    pd_applock_enter();
    pd__fsource_expire_locked(t);
    pd_applock_leave();
}

/* Parses a stored value as a finite number: decimal digits, sign, point, exponent only
 * (no spaces, hex, nan or inf), at most PD_FSOURCE_NUMBER_MAX bytes. Returns 0 or -1. */
static int parse_number(const char *s, size_t len, double *out)
{
    char buf[PD_FSOURCE_NUMBER_MAX + 1];
    if (len == 0 || len > PD_FSOURCE_NUMBER_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '+' || s[i] == '.' ||
              s[i] == 'e' || s[i] == 'E'))
            return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double d = strtod(buf, &end);
    if (end != buf + len || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

void pd_fetch_set_inputs(pd_fetch_t *f, const pd_model_input_t *inputs)
{
    f->inputs = inputs;
}

/* A stored value of typed feature j into *x: 0, or -1 with the 422 set. */
static int typed_cell(pd_fetch_t *f, size_t j, const char *s, size_t len, double *x)
{
    const pd_model_input_t *in = &f->inputs[j];
    long code = in->type == PD_INPUT_STRING ? pd_model_input_code(in, s, len) : 0;
    if (in->type == PD_INPUT_STRING &&
        !(in->unknown_error && (code < 0 || (size_t)code >= in->n_known))) {
        *x = code < 0 ? PD_MODEL_CODE_UNKNOWN : (double)code;
        return 0;
    }
    if (in->type == PD_INPUT_NUMBER && parse_number(s, len, x) == 0 &&
        pd_model_input_known(in, *x))
        return 0;
    *x = NAN;
    size_t kl;
    const char *key = pd__fetch_key(f, f->replied, &kl);
    set_error(f, 422, PD__FERR_NAN, "feature source %s: entity '%.*s' field '%s' holds "
              "'%.*s'%s, %s", f->src->display, (int)PD_MIN(kl, PD_FSOURCE_KEY_QUOTE_MAX), key,
              f->spec->fields[j], (int)PD_MIN(len, PD_FSOURCE_QUOTE_MAX), s,
              len > PD_FSOURCE_QUOTE_MAX ? "..." : "", in->unknown_error ? "an unknown "
              "category (the model's encoder was fitted with handle_unknown='error')"
              : "not a number");
    return -1;
}

void pd__fetch_cell(pd_fetch_t *f, size_t j, const char *s, size_t len)
{
    size_t row = f->row_of[f->replied];
    f->row_cells++;
    if (s == NULL) {
        f->row_absent++;
        return;
    }
    if (j >= f->rows->n_cols || f->status != 0)
        return;
    double *x = f->rows->x + row * f->rows->n_cols + j;
    if (!isnan(*x))
        return; /* the request's own value wins */
    if (f->inputs && (f->inputs[j].type == PD_INPUT_STRING || f->inputs[j].unknown_error)) {
        typed_cell(f, j, s, len, x);
        return;
    }
    if (parse_number(s, len, x) == 0)
        return;
    size_t kl;
    const char *key = pd__fetch_key(f, f->replied, &kl);
    set_error(f, 422, PD__FERR_NAN, "feature source %s: entity '%.*s' field '%s' holds "
              "'%.*s'%s, not a number", f->src->display, (int)PD_MIN(kl, PD_FSOURCE_KEY_QUOTE_MAX), key,
              f->spec->fields[j], (int)PD_MIN(len, PD_FSOURCE_QUOTE_MAX), s,
              len > PD_FSOURCE_QUOTE_MAX ? "..." : "");
}

/* A model that takes no missing values: the first cell of the current row still NaN. */
static void check_missing(pd_fetch_t *f)
{
    if (f->status != 0 || f->spec->missing_ok)
        return;
    size_t row = f->row_of[f->replied], kl;
    const double *x = f->rows->x + row * f->rows->n_cols;
    const char *key = pd__fetch_key(f, f->replied, &kl);
    for (size_t j = 0; j < f->rows->n_cols; j++) {
        if (!isnan(x[j]))
            continue;
        if (f->row_absent == f->row_cells)
            set_error(f, 422, PD__FERR_MISSING, "feature source %s: no entity '%.*s' (the "
                      "request gives no '%s' and the model takes no missing values)",
                      f->src->display, (int)PD_MIN(kl, PD_FSOURCE_KEY_QUOTE_MAX), key, f->spec->fields[j]);
        else
            set_error(f, 422, PD__FERR_MISSING, "feature source %s: entity '%.*s' has no "
                      "field '%s' (the request gives none and the model takes no missing "
                      "values)", f->src->display, (int)PD_MIN(kl, PD_FSOURCE_KEY_QUOTE_MAX), key,
                      f->spec->fields[j]);
        return;
    }
}

void pd__fetch_reply_end(pd_fetch_t *f, pd__freply_t kind, const char *message)
{
    size_t kl;
    if (pd__fetch_wanted(f)) {
        const char *key = pd__fetch_key(f, f->replied, &kl);
        const char *src = f->src->display;
        if (kind == PD__FREPLY_OK)
            check_missing(f);
        else if (kind == PD__FREPLY_WRONGTYPE)
            set_error(f, 422, PD__FERR_WRONGTYPE, "feature source %s: key '%.*s' holds no "
                      "entity (%s)", src, (int)PD_MIN(kl, PD_FSOURCE_KEY_QUOTE_MAX), key,
                      message ? message : "another type");
        else if (kind == PD__FREPLY_ERROR)
            set_error(f, 503, PD__FERR_STORE, "feature source %s answered an error: %.*s",
                      src, PD_FSOURCE_STORE_QUOTE_MAX, message ? message : "unknown");
        else
            set_error(f, 503, PD__FERR_UNAVAILABLE, "feature source %s: the connection was "
                      "lost (%.*s); reconnecting", src, PD_FSOURCE_STORE_QUOTE_MAX,
                      message ? message : "closed");
    }
    f->row_cells = f->row_absent = 0;
    if (++f->replied < f->n_keys)
        return;
    f->by_store = 0;
    if (pd__fetch_wanted(f))
        finish(f);
    else if (!f->by_request)
        destroy(f);
}

void pd__fetch_truncate(pd_fetch_t *f, size_t sent)
{
    f->n_keys = sent;
    set_error(f, 503, PD__FERR_UNAVAILABLE, "feature lookup: only %zu keys could be sent "
              "(out of memory)", sent);
}

void pd_fetch_cancel(pd_fetch_t *f)
{
    if (f != NULL && f->rows != NULL)
        detach(f);
}

const char *pd_fetch_message(const pd_fetch_t *f)
{
    return f->msg[0] ? f->msg : "feature lookup failed";
}

const char *pd_fetch_extra_headers(const pd_fetch_t *f)
{
    return f->extra;
}

void pd_fetch_free(pd_fetch_t *f)
{
    if (f == NULL)
        return;
    pd_fetch_cancel(f);
    f->by_request = 0;
    if (!f->by_store)
        destroy(f);
}
