/* part.c - parts of a pipeline: finding a type in the one list (types.c), loading a step
 * as a part of that type, named outputs, scratch and free. Owns nothing itself: a part's
 * state belongs to the model it was loaded into. */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

const pd__part_ops_t *pd__part_find(const char *type)
{
    for (size_t i = 0; pd__part_types[i]; i++)
        if (strcmp(pd__part_types[i]->type, type) == 0)
            return pd__part_types[i];
    return NULL;
}

/* "unknown value" naming every registered type of the wanted role. */
static int unknown_type(pd__jctx_t *c, const char *path, const char *ts)
{
    char list[1024] = "";
    size_t used = 0;
    for (size_t i = 0; pd__part_types[i]; i++) {
        int k = snprintf(list + used, sizeof list - used, "%s\"%s\"", i ? ", " : "",
                         pd__part_types[i]->type);
        if (k > 0 && used + (size_t)k < sizeof list)
            used += (size_t)k;
    }
    return pd__jfail(c, path, "unknown value \"%.64s\" (expected one of %s)", ts, list);
}

int pd__part_init(pd_model_t *m, const pd__part_ops_t *ops, size_t n_in, pd_task_t task,
                  size_t n_classes, pd__part_t *p)
{
    memset(p, 0, sizeof *p);
    p->ops = ops;
    p->n_in = n_in;
    p->task = task;
    p->n_classes = n_classes;
    if (!(p->state = pd__model_calloc(m, 1, ops->state_size ? ops->state_size : 1)))
        return PD_ENOMEM;
    return 0;
}

int pd__part_load(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                  size_t n_in, int want_transform, pd_task_t task, size_t n_classes,
                  pd__part_t *p)
{
    char pt[PD__PATH_MAX];
    int rc;
    memset(p, 0, sizeof *p);
    if ((rc = pd__jcheck(c, step, path, PD__J_OBJ)))
        return rc;
    const char *ts = pd__jstr(c, step, path, "type", 1, NULL, &rc);
    if (rc)
        return rc;
    pd__jpath(pt, sizeof pt, path, ".type");
    const pd__part_ops_t *ops = pd__part_find(ts);
    if (!ops)
        return unknown_type(c, pt, ts);
    int is_transform = (ops->flags & PD__PART_TRANSFORM) != 0;
    if (is_transform != want_transform)
        return pd__jfail(c, pt, want_transform ? "an estimator (\"%s\") must be the last step"
                                               : "the last step must be an estimator, not "
                                                 "the transformer \"%s\"", ts);
    if ((ops->flags & PD__PART_INPUTS) && m->load_depth > 0)
        return pd__jfail(c, pt, "\"%s\" must be the model's only step: it cannot be a member "
                         "of \"%s\"", ts, m->loading_type ? m->loading_type : "a composite");
    if ((rc = pd__part_init(m, ops, n_in, task, n_classes, p))) {
        pd__jfail(c, path, "out of memory");
        return rc;
    }
    const char *outer = m->loading_type; /* composites load their members inside load */
    m->load_depth++;
    m->loading_type = ops->type;
    rc = ops->load(c, m, step, path, p);
    m->load_depth--;
    m->loading_type = outer;
    if (rc == PD_ENOMEM)
        pd__jfail(c, path, "out of memory");
    return rc;
}

int pd__part_add_output(pd__part_t *p, const char *name, size_t width, const char *desc)
{
    if (p->n_outputs >= PD_MODEL_MAX_OUTPUTS || width == 0)
        return PD_EFORMAT;
    p->outputs[p->n_outputs++] = (pd_model_output_t){name, width, desc};
    return 0;
}

void pd__part_free(pd__part_t *p)
{
    if (p && p->ops && p->ops->free)
        p->ops->free(p);
}

size_t pd__part_scratch(const pd__part_t *p)
{
    size_t n = p->ops->scratch ? p->ops->scratch(p) : 0;
    return (n + 7) & ~(size_t)7;
}

void pd__parts_nan(const pd__part_t *parts, size_t n, int nan_in, int flag_ok, int *ok,
                   int *nan_out)
{
    int may = nan_in, good = 1;
    for (size_t i = 0; i < n; i++) {
        const pd__part_t *p = &parts[i];
        unsigned f = p->ops->flags;
        int takes, emits;
        if (f & PD__PART_NAN_OWN) {
            takes = p->nan_in_ok;
            emits = p->nan_out;
        } else if (f & PD__PART_TRANSFORM) {
            takes = (f & PD__PART_NAN_OK) != 0;
            emits = takes;
        } else {
            takes = flag_ok ? (f & PD__PART_NAN_OK) != 0 : p->nan_default;
            emits = 0;
        }
        if (may && !takes)
            good = 0;
        may = may && emits;
    }
    *ok = good;
    *nan_out = may;
}
