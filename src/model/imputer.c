/* imputer.c - "simple_imputer" (scikit-learn's SimpleImputer, any strategy: the exporter
 * writes the fitted statistics) and "missing_indicator" (MissingIndicator, and
 * SimpleImputer's add_indicator columns), in code space (a string column's missing value
 * is NaN or the code of its missing string).
 *
 *  simple_imputer: {"missing": null | [n_in numbers], "columns": [kept column indexes]
 *    (default all), "fill": [one number per kept column], "indicator": [column indexes]
 *    (optional)}. Output: each kept column with its missing values replaced by its fill,
 *    then one 0/1 column per indicator column (1 where the input was missing).
 *  missing_indicator: {"missing": ..., "indicator": [column indexes]}.
 *
 * "missing": null means NaN is the missing value (np.nan); an array gives each column's
 * missing value (missing_values=v, or a string's code). With an array, NaN is not taken
 * (scikit-learn refuses NaN input when missing_values is not NaN). Nothing here emits NaN
 * once NaN is the missing value. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

typedef struct {
    double *missing; /* n_in per-column missing values, or NULL: NaN */
    size_t n_keep;
    int32_t *keep;   /* n_keep input columns */
    double *fill;    /* n_keep */
    size_t n_ind;
    int32_t *ind;    /* n_ind input columns */
} imp_t;

static int idx_list(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                    const char *key, int required, size_t n_in, size_t *n, int32_t **out)
{
    json_t *v;
    char q[PD__PATH_MAX];
    int rc;
    *n = 0;
    if ((rc = pd__jget(c, step, path, key, PD__J_ARR, required, &v, q)) || !v)
        return rc;
    if ((rc = pd__jlen(c, v, q, 0, PD_MODEL_MAX_FEATURES, n)))
        return rc;
    if (!(*out = pd__model_calloc(m, *n ? *n : 1, sizeof(int32_t))))
        return PD_ENOMEM;
    return pd__jints(c, v, q, *n, 0, (int64_t)n_in - 1, *out);
}

static int load_missing(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                        pd__part_t *p)
{
    imp_t *s = p->state;
    json_t *v;
    char q[PD__PATH_MAX];
    int rc = pd__jget(c, step, path, "missing", PD__J_ANY, 0, &v, q);
    if (rc || !v || json_is_null(v)) {
        p->nan_in_ok = 1;
        return rc;
    }
    if ((rc = pd__jcheck(c, v, q, PD__J_ARR)))
        return rc;
    if (!(s->missing = pd__model_calloc(m, p->n_in, sizeof(double))))
        return PD_ENOMEM;
    p->nan_in_ok = 0;
    return pd__jdoubles(c, v, q, p->n_in, s->missing);
}

static int imputer_load(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                        pd__part_t *p)
{
    imp_t *s = p->state;
    json_t *v;
    char q[PD__PATH_MAX];
    int rc;
    if ((rc = load_missing(c, m, step, path, p)) ||
        (rc = idx_list(c, m, step, path, "columns", 0, p->n_in, &s->n_keep, &s->keep)))
        return rc;
    if (!s->keep) { /* every column kept */
        s->n_keep = p->n_in;
        if (!(s->keep = pd__model_calloc(m, p->n_in, sizeof(int32_t))))
            return PD_ENOMEM;
        for (size_t j = 0; j < p->n_in; j++)
            s->keep[j] = (int32_t)j;
    }
    if ((rc = pd__jget(c, step, path, "fill", PD__J_ARR, 1, &v, q)))
        return rc;
    if (!(s->fill = pd__model_calloc(m, s->n_keep ? s->n_keep : 1, sizeof(double))))
        return PD_ENOMEM;
    if ((rc = pd__jdoubles(c, v, q, s->n_keep, s->fill)) ||
        (rc = idx_list(c, m, step, path, "indicator", 0, p->n_in, &s->n_ind, &s->ind)))
        return rc;
    p->n_out = s->n_keep + s->n_ind;
    if (p->n_out == 0)
        return pd__jfail(c, path, "the imputer writes no column");
    m->n_params += s->n_keep;
    p->nan_out = 0;
    return 0;
}

static int indicator_load(pd__jctx_t *c, pd_model_t *m, const json_t *step,
                          const char *path, pd__part_t *p)
{
    imp_t *s = p->state;
    int rc;
    if ((rc = load_missing(c, m, step, path, p)) ||
        (rc = idx_list(c, m, step, path, "indicator", 1, p->n_in, &s->n_ind, &s->ind)))
        return rc;
    if (s->n_ind == 0)
        return pd__jfail(c, path, "the indicator writes no column");
    p->n_out = s->n_ind;
    p->nan_out = 0;
    return 0;
}

static int is_missing(const imp_t *s, double v, size_t col)
{
    return s->missing ? v == s->missing[col] : isnan(v);
}

static void transform(const pd__part_t *p, const double *x, size_t nrows, double *y,
                      void *ws)
{
    (void)ws;
    const imp_t *s = p->state;
    for (size_t r = 0; r < nrows; r++) {
        const double *row = x + r * p->n_in;
        double *o = y + r * p->n_out;
        for (size_t k = 0; k < s->n_keep; k++) {
            double v = row[s->keep[k]];
            o[k] = is_missing(s, v, (size_t)s->keep[k]) ? s->fill[k] : v;
        }
        for (size_t k = 0; k < s->n_ind; k++)
            o[s->n_keep + k] = is_missing(s, row[s->ind[k]], (size_t)s->ind[k]) ? 1.0 : 0.0;
    }
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const imp_t *s = p->state;
    return snprintf(buf, n, "%zu columns imputed, %zu indicators", s->n_keep, s->n_ind);
}

const pd__part_ops_t pd__simple_imputer_ops = {
    .type = "simple_imputer", .flags = PD__PART_TRANSFORM | PD__PART_NAN_OWN,
    .state_size = sizeof(imp_t), .load = imputer_load, .transform = transform,
    .describe = describe,
};
const pd__part_ops_t pd__missing_indicator_ops = {
    .type = "missing_indicator", .flags = PD__PART_TRANSFORM | PD__PART_NAN_OWN,
    .state_size = sizeof(imp_t), .load = indicator_load, .transform = transform,
    .describe = describe,
};
