/* load_xgboost.c - XGBoost's own JSON model (Booster.save_model("m.json"), 1.7 schema):
 * gbtree boosters with a numeric-split tree per (round, class), built into a pipeline of
 * one "tree_ensemble" part (tree.h). Reproduces XGBoost's
 * float32 prediction: margin = base_score (in margin space, float) + leaves in tree order
 * (float), then sigmoid/softmax in float. Refuses DART, gblinear, categorical splits and
 * objectives other than those listed in `objectives` with a message saying so. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model/load_common.h"
#include "model/tree.h"

#define GB "$.learner.gradient_booster"
#define TREES GB ".model.trees"

enum { OBJ_SQERR, OBJ_REGLOG, OBJ_BINLOG, OBJ_LOGITRAW, OBJ_SOFTPROB, OBJ_SOFTMAX, N_OBJ };
static const char *const objectives[N_OBJ] = {"reg:squarederror", "reg:logistic",
                                              "binary:logistic",  "binary:logitraw",
                                              "multi:softprob",   "multi:softmax"};

/* A numeric parameter stored as a JSON string ("5E-1", "3"). */
static int str_param(pd__jctx_t *c, const json_t *obj, const char *path, const char *key,
                     double lo, double hi, double *out)
{
    int rc;
    char p[PD__PATH_MAX];
    const char *s = pd__jstr(c, obj, path, key, 1, NULL, &rc);
    if (rc)
        return rc;
    pd__jpath(p, sizeof p, path, ".%s", key);
    char *end;
    double d = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(d) || d < lo || d > hi)
        return pd__jfail(c, p, "expected a number in [%g, %g] as a string, got \"%.32s\"", lo,
                         hi, s);
    *out = d;
    return 0;
}

typedef struct {
    int32_t *feature, *left, *right, *stype, *dl32;
    uint8_t *dl;
    double *thr;
} xbufs_t;

static int read_tree(pd__jctx_t *c, const json_t *tj, const char *path, pd_model_t *m,
                     pd__part_t *part, xbufs_t *b, size_t n, int32_t output)
{
    json_t *v;
    char p[PD__PATH_MAX];
    int rc;
    pd__tree_in_t in = {path, "split_indices", "left_children", "right_children", n,
                        b->feature, b->left, b->right, b->thr, b->dl, b->thr, output, 1, 0};
    if ((rc = pd__jget(c, tj, path, "split_indices", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jints(c, v, p, n, 0, INT32_MAX, b->feature)) ||
        (rc = pd__jget(c, tj, path, "left_children", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jints(c, v, p, n, INT32_MIN, INT32_MAX, b->left)) ||
        (rc = pd__jget(c, tj, path, "right_children", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jints(c, v, p, n, INT32_MIN, INT32_MAX, b->right)) ||
        (rc = pd__jget(c, tj, path, "split_conditions", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jdoubles(c, v, p, n, b->thr)) ||
        (rc = pd__jget(c, tj, path, "default_left", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jints(c, v, p, n, 0, 1, b->dl32)) ||
        (rc = pd__jget(c, tj, path, "split_type", PD__J_ARR, 0, &v, p)))
        return rc;
    if (v) {
        if ((rc = pd__jints(c, v, p, n, 0, 1, b->stype)))
            return rc;
        for (size_t i = 0; i < n; i++)
            if (b->stype[i] != 0 && b->left[i] != -1) {
                pd__jpath(p, sizeof p, path, ".split_type[%zu]", i);
                return pd__jfail(c, p, "categorical splits are not supported");
            }
    }
    for (size_t i = 0; i < n; i++)
        b->dl[i] = (uint8_t)b->dl32[i];
    return pd__tree_add(c, m, part->state, part->n_in, &in);
}

static int load_trees(pd__jctx_t *c, const json_t *model, pd_model_t *m, pd__part_t *part,
                      size_t n_groups)
{
    json_t *trees, *info, *v;
    char p[PD__PATH_MAX];
    size_t nt, ni, total = 0, maxn = 0;
    int rc;
    if ((rc = pd__jget(c, model, GB ".model", "trees", PD__J_ARR, 1, &trees, NULL)) ||
        (rc = pd__jlen(c, trees, TREES, 1, PD_MODEL_MAX_TREES, &nt)) ||
        (rc = pd__jget(c, model, GB ".model", "tree_info", PD__J_ARR, 1, &info, NULL)) ||
        (rc = pd__jlen(c, info, GB ".model.tree_info", nt, nt, &ni)))
        return rc;
    int32_t *groups = malloc(nt * sizeof *groups);
    if (!groups)
        return PD_ENOMEM;
    rc = pd__jints(c, info, GB ".model.tree_info", nt, 0, (int64_t)n_groups - 1, groups);
    for (size_t i = 0; i < nt && rc == 0; i++) {
        size_t n;
        const json_t *tj = json_array_get(trees, i);
        pd__jpath(p, sizeof p, TREES, "[%zu]", i);
        if ((rc = pd__jcheck(c, tj, p, PD__J_OBJ)) ||
            (rc = pd__jget(c, tj, p, "left_children", PD__J_ARR, 1, &v, p)) ||
            (rc = pd__jlen(c, v, p, 1, PD_MODEL_MAX_NODES, &n)))
            break;
        total += n;
        maxn = n > maxn ? n : maxn;
    }
    if (rc == 0)
        rc = pd__trees_alloc(m, part->state, nt, total);
    xbufs_t b = {0};
    if (rc == 0) {
        b.feature = malloc(maxn * sizeof(int32_t)), b.left = malloc(maxn * sizeof(int32_t));
        b.right = malloc(maxn * sizeof(int32_t)), b.stype = malloc(maxn * sizeof(int32_t));
        b.dl32 = malloc(maxn * sizeof(int32_t)), b.dl = malloc(maxn);
        b.thr = malloc(maxn * sizeof(double));
        if (!b.feature || !b.left || !b.right || !b.stype || !b.dl32 || !b.dl || !b.thr)
            rc = PD_ENOMEM;
    }
    for (size_t i = 0; i < nt && rc == 0; i++) {
        const json_t *tj = json_array_get(trees, i);
        pd__jpath(p, sizeof p, TREES, "[%zu]", i);
        size_t n = json_array_size(json_object_get(tj, "left_children"));
        rc = read_tree(c, tj, p, m, part, &b, n, groups[i]);
    }
    free(b.feature), free(b.left), free(b.right), free(b.stype), free(b.dl32), free(b.dl);
    free(b.thr);
    free(groups);
    if (rc == PD_ENOMEM)
        pd__jfail(c, TREES, "out of memory");
    return rc;
}

/* Objective -> task, classes, transform, base margin. */
static int setup_objective(pd__jctx_t *c, pd_model_t *m, pd__trees_t *t, int obj, double base,
                           size_t ncls)
{
    int logistic = obj == OBJ_REGLOG || obj == OBJ_BINLOG; /* logitraw: base is a margin */
    if (logistic && !(base > 0.0 && base < 1.0))
        return pd__jfail(c, "$.learner.learner_model_param.base_score",
                         "must be in (0, 1) for a logistic objective");
    t->n_outputs = obj >= OBJ_SOFTPROB ? ncls : 1;
    t->post = obj == OBJ_SQERR || obj == OBJ_LOGITRAW ? PD__POST_IDENTITY
              : obj >= OBJ_SOFTPROB                   ? PD__POST_SOFTMAX
                                                      : PD__POST_LOGISTIC;
    t->label_by_margin = obj == OBJ_SOFTMAX;
    t->aggregate_sum = 1;
    t->f32acc = 1;
    if (obj == OBJ_BINLOG || obj >= OBJ_SOFTPROB) {
        m->schema.task = PD_TASK_CLASSIFICATION;
        int rc = pd__gen_int_classes(c, m, obj == OBJ_BINLOG ? 2 : ncls);
        if (rc)
            return rc;
    } else {
        m->schema.task = PD_TASK_REGRESSION;
    }
    return 0;
}

static int load_features(pd__jctx_t *c, const json_t *learner, pd_model_t *m, size_t nf)
{
    json_t *names;
    int rc = pd__jget(c, learner, "$.learner", "feature_names", PD__J_ARR, 0, &names, NULL);
    if (rc)
        return rc;
    if (names && json_array_size(names) > 0) {
        if (json_array_size(names) != nf)
            return pd__jfail(c, "$.learner.feature_names",
                             "has %zu names but num_feature is %zu", json_array_size(names),
                             nf);
        return pd__load_features(c, m, names, "$.learner.feature_names");
    }
    return pd__gen_features(c, m, nf);
}

int pd__load_xgboost(pd__jctx_t *c, const void *rootv, pd_model_t *m)
{
    const json_t *root = rootv;
    json_t *learner, *mp, *objj, *gb, *model;
    int rc, obj;
    double base, nf, ncls;
    if ((rc = pd__jget(c, root, "$", "learner", PD__J_OBJ, 1, &learner, NULL)) ||
        (rc = pd__jget(c, learner, "$.learner", "learner_model_param", PD__J_OBJ, 1, &mp,
                       NULL)) ||
        (rc = pd__jget(c, learner, "$.learner", "objective", PD__J_OBJ, 1, &objj, NULL)) ||
        (rc = pd__jget(c, learner, "$.learner", "gradient_booster", PD__J_OBJ, 1, &gb, NULL)))
        return rc;
    const char *gbname = pd__jstr(c, gb, GB, "name", 1, NULL, &rc);
    if (rc)
        return rc;
    if (strcmp(gbname, "gbtree") != 0)
        return pd__jfail(c, GB ".name", "booster \"%.32s\" is not supported (only gbtree; "
                         "DART and gblinear are refused)", gbname);
    const char *oname = pd__jstr(c, objj, "$.learner.objective", "name", 1, NULL, &rc);
    if (rc || (rc = pd__jenum(c, oname, "$.learner.objective.name", objectives, N_OBJ, &obj)))
        return rc;
    const char *mpp = "$.learner.learner_model_param";
    if ((rc = str_param(c, mp, mpp, "base_score", -1e30, 1e30, &base)) ||
        (rc = str_param(c, mp, mpp, "num_feature", 1, PD_MODEL_MAX_FEATURES, &nf)) ||
        (rc = str_param(c, mp, mpp, "num_class", 0, PD_MODEL_MAX_CLASSES, &ncls)))
        return rc;
    if ((obj >= OBJ_SOFTPROB) != (ncls >= 2) || nf != floor(nf) || ncls != floor(ncls))
        return pd__jfail(c, "$.learner.learner_model_param.num_class",
                         "num_class %g does not fit objective %s", ncls, oname);
    char name[PD_MODEL_MAX_NAME + 1];
    pd__name_from_label(c->label, name);
    pd__trees_t tmp = {0}; /* objective fields, copied into the part below */
    if ((rc = pd__set_names(c, m, name, "1", "xgboost", "gbtree")) ||
        (rc = load_features(c, learner, m, (size_t)nf)) ||
        (rc = setup_objective(c, m, &tmp, obj, base, (size_t)ncls)) ||
        (rc = pd__jget(c, gb, GB, "model", PD__J_OBJ, 1, &model, NULL)))
        return rc;
    float bm = (float)base;
    if (obj == OBJ_REGLOG || obj == OBJ_BINLOG)
        bm = -logf(1.0f / bm - 1.0f); /* XGBoost's ProbToMargin, in float */
    pd__part_t *part = &m->parts[0];
    if ((rc = pd__part_init(m, &pd__trees_ops, (size_t)nf, m->schema.task,
                            m->schema.n_classes, part))) {
        pd__jfail(c, "$", "out of memory");
        return rc;
    }
    m->n_parts = 1;
    *(pd__trees_t *)part->state = tmp;
    part->has_proba = m->schema.task == PD_TASK_CLASSIFICATION;
    part->nan_default = 1; /* every split has its default direction for NaN */
    pd__trees_t *t = part->state;
    if ((rc = load_trees(c, model, m, part, t->n_outputs)))
        return rc;
    pd__trees_finish(m, t);
    for (size_t k = 0; k < t->n_outputs; k++)
        t->base[k] = (double)bm;
    return pd__pipeline_finish(c, m);
}
