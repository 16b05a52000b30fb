/* rows.c - the request matrix (see rows.h). Grows by doubling up to max_rows; the first
 * PD_ROWS_INLINE values live inside the struct, so a one-row request allocates nothing. */
#include "api/rows.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

void pd_rows_init(pd_rows_t *r, size_t n_cols, size_t max_rows)
{
    memset(r, 0, offsetof(pd_rows_t, x_inline));
    r->n_cols = n_cols;
    r->max_rows = max_rows ? max_rows : PD_ROWS_DEFAULT_MAX;
    r->outputs = PD_OUT_LABEL;
    r->x = r->x_inline;
    r->cap_rows = n_cols ? PD_ROWS_INLINE / n_cols : PD_ROWS_INLINE;
}

static void fill_nan(double *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
}

/* Grows x to hold at least `need` rows (need <= max_rows). */
static int grow(pd_rows_t *r, size_t need)
{
    size_t cap = PD_MAX(r->cap_rows, (size_t)8);
    while (cap < need)
        cap = cap > r->max_rows / 2 ? r->max_rows : cap * 2;
    cap = PD_MIN(PD_MAX(cap, need), r->max_rows);
    size_t nc = PD_MAX(r->n_cols, (size_t)1);
    if (cap > SIZE_MAX / sizeof(double) / nc)
        return PD_ENOMEM;
    double *p = realloc(r->x_heap, cap * nc * sizeof(double));
    if (p == NULL)
        return PD_ENOMEM;
    if (r->x_heap == NULL && r->n_rows)
        memcpy(p, r->x_inline, r->n_rows * r->n_cols * sizeof(double));
    r->x_heap = p;
    r->x = p;
    r->cap_rows = cap;
    return 0;
}

int pd_rows_resize(pd_rows_t *r, size_t n_rows)
{
    if (n_rows > r->max_rows)
        return PD_ETOOBIG;
    if (n_rows > r->cap_rows) {
        int rc = grow(r, n_rows);
        if (rc < 0)
            return rc;
    }
    if (n_rows > r->n_rows)
        fill_nan(r->x + r->n_rows * r->n_cols, (n_rows - r->n_rows) * r->n_cols);
    r->n_rows = n_rows;
    return 0;
}

int pd_rows_add(pd_rows_t *r, double **row)
{
    int rc = pd_rows_resize(r, r->n_rows + 1);
    if (rc < 0)
        return rc;
    *row = r->x + (r->n_rows - 1) * r->n_cols;
    return 0;
}

int pd_rows_want_output(pd_rows_t *r, size_t k, size_t width)
{
    if (k >= PD_MODEL_MAX_OUTPUTS || width == 0 || width > PD_ROWS_MAX_COLS)
        return PD_EINVAL;
    r->extra_width[k] = width;
    r->outputs |= PD_OUT_NAMED(k);
    return 0;
}

int pd_rows_results(pd_rows_t *r, size_t n_classes)
{
    size_t n = r->n_rows;
    size_t np = (r->outputs & PD_OUT_PROBA) && n_classes ? n_classes : 0;
    /* per row: cls (int32, the whole column rounded up to doubles), val, proba, extras */
    size_t cls_d = (n * sizeof(int32_t) + sizeof(double) - 1) / sizeof(double);
    size_t per_row = 1 + np; /* widths are bounded (PD_ROWS_MAX_COLS): no overflow here */
    for (size_t k = 0; k < PD_MODEL_MAX_OUTPUTS; k++)
        if (r->outputs & PD_OUT_NAMED(k))
            per_row += r->extra_width[k];
    if (n > (SIZE_MAX / sizeof(double) - cls_d) / per_row)
        return PD_ENOMEM;
    size_t total = cls_d + n * per_row;
    double *base = r->res_inline;
    free(r->res_heap);
    r->res_heap = NULL;
    if (total > PD_ROWS_INLINE) {
        base = malloc(PD_MAX(total, (size_t)1) * sizeof(double));
        if (base == NULL)
            return PD_ENOMEM;
        r->res_heap = base;
    }
    r->n_classes = n_classes;
    r->cls = (int32_t *)(void *)base;
    r->val = base + cls_d;
    r->proba = np ? base + cls_d + n : NULL;
    double *at = base + cls_d + n + n * np;
    for (size_t k = 0; k < PD_MODEL_MAX_OUTPUTS; k++) {
        r->extra[k] = NULL;
        if (r->outputs & PD_OUT_NAMED(k)) {
            r->extra[k] = at;
            at += n * r->extra_width[k];
        }
    }
    return 0;
}

size_t pd_rows_values_per_row(const pd_rows_t *r)
{
    size_t n = 1 + (r->proba ? r->n_classes : 0);
    for (size_t k = 0; k < PD_MODEL_MAX_OUTPUTS; k++)
        n += r->extra[k] ? r->extra_width[k] : 0;
    return n;
}

void pd_rows_free(pd_rows_t *r)
{
    if (r == NULL)
        return;
    if (r->codec_state != NULL && r->codec_state_free != NULL)
        r->codec_state_free(r->codec_state);
    free(r->x_heap);
    free(r->res_heap);
    pd_rows_init(r, r->n_cols, r->max_rows);
}
