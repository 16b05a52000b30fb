/* load_xgboost.c - XGBoost's own model (Booster.save_model("m.json") or "m.ubj", 1.7
 * schema; json_read.h turns either into the same tree): gbtree boosters with a numeric-split
 * tree per (round, class), built into a pipeline of one "tree_ensemble" part (tree.h).
 * Reproduces XGBoost's float32 prediction: margin = base_score (through the objective's
 * ProbToMargin, in float) + leaves in tree order (float), then the objective's transform
 * in float (sigmoid, softmax, exp). Categorical splits (enable_categorical: split_type
 * 1 with the categories_* arrays) become tree_cat.c's splits. Refuses DART, gblinear and
 * objectives other than those listed in `objectives` with a message saying so. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model/load_common.h"
#include "model/tree.h"

#define GB "$.learner.gradient_booster"
#define TREES GB ".model.trees"

/* What an objective predicts: the kind of output, the transform of the float32 margin
 * (XGBoost's PredTransform) and how base_score becomes a margin (its ProbToMargin). */
typedef enum { K_REG, K_BINARY, K_MULTI, K_MULTI_LABEL } kind_t;
typedef enum { B_IDENTITY, B_LOGIT, B_LOG } base_t;
typedef struct {
    const char *name;
    kind_t kind;
    pd__post_t post;
    base_t base;
} objective_t;

static const objective_t objectives[] = {
    {"reg:squarederror", K_REG, PD__POST_IDENTITY, B_IDENTITY},
    {"reg:squaredlogerror", K_REG, PD__POST_IDENTITY, B_IDENTITY},
    {"reg:absoluteerror", K_REG, PD__POST_IDENTITY, B_IDENTITY},
    {"reg:pseudohubererror", K_REG, PD__POST_IDENTITY, B_IDENTITY},
    {"reg:logistic", K_REG, PD__POST_LOGISTIC, B_LOGIT},
    {"binary:logistic", K_BINARY, PD__POST_LOGISTIC, B_LOGIT},
    {"binary:logitraw", K_REG, PD__POST_IDENTITY, B_IDENTITY},
    {"multi:softprob", K_MULTI, PD__POST_SOFTMAX, B_IDENTITY},
    {"multi:softmax", K_MULTI_LABEL, PD__POST_SOFTMAX, B_IDENTITY},
    {"count:poisson", K_REG, PD__POST_EXP, B_LOG},
    {"reg:gamma", K_REG, PD__POST_EXP, B_LOG},
    {"reg:tweedie", K_REG, PD__POST_EXP, B_LOG},
    {"survival:cox", K_REG, PD__POST_EXP, B_LOG},
    {"survival:aft", K_REG, PD__POST_EXP_F64, B_LOG}, /* exp in double (1 ulp apart) */
    {"rank:pairwise", K_REG, PD__POST_IDENTITY, B_IDENTITY},
    {"rank:ndcg", K_REG, PD__POST_IDENTITY, B_IDENTITY},
    {"rank:map", K_REG, PD__POST_IDENTITY, B_IDENTITY},
};
#define N_OBJ (sizeof objectives / sizeof *objectives)

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
    int32_t *feature, *left, *right, *stype, *dl32, *cat;
    uint8_t *dl;
    double *thr;
} xbufs_t;

/* The categorical splits of one tree (split_type 1): node categories_nodes[k] sends the
 * categories categories[categories_segments[k] ..][: categories_sizes[k]] right and every
 * other value left (XGBoost 1.7's common::Decision: a category not in the set, negative
 * or past 2^24 goes left; NaN takes default_left). Fills b->cat (-1: numeric). */
static int read_categories(pd__jctx_t *c, const json_t *tj, const char *path, pd_model_t *m,
                           pd__trees_t *t, xbufs_t *b, size_t n)
{
    const char *keys[4] = {"categories", "categories_nodes", "categories_segments",
                           "categories_sizes"};
    json_t *v[4];
    char p[4][PD__PATH_MAX], q[PD__PATH_MAX];
    size_t len[4];
    int rc = 0;
    for (int k = 0; k < 4 && rc == 0; k++)
        if ((rc = pd__jget(c, tj, path, keys[k], PD__J_ARR, 1, &v[k], p[k])) == 0)
            rc = pd__jlen(c, v[k], p[k], k == 0 ? 0 : 1,
                          k == 0 ? PD_MODEL_MAX_ARRAY : n, &len[k]);
    if (rc)
        return rc;
    if (len[2] != len[1] || len[3] != len[1])
        return pd__jfail(c, p[2], "categories_nodes, _segments and _sizes differ in length "
                         "(%zu, %zu, %zu)", len[1], len[2], len[3]);
    int32_t *cats = malloc((len[0] + 1) * sizeof *cats), *idx = malloc(3 * len[1] * sizeof *idx);
    int32_t *nodes = idx, *seg = idx + len[1], *size = idx + 2 * len[1];
    if (!cats || !idx)
        rc = PD_ENOMEM;
    if (rc == 0 && ((rc = pd__jints(c, v[0], p[0], len[0], 0, PD__CAT_MAX, cats)) ||
                    (rc = pd__jints(c, v[1], p[1], len[1], 0, (int64_t)n - 1, nodes)) ||
                    (rc = pd__jints(c, v[2], p[2], len[1], 0, (int64_t)len[0], seg)) ||
                    (rc = pd__jints(c, v[3], p[3], len[1], 0, (int64_t)len[0], size))))
        goto out;
    for (size_t i = 0; i < n; i++)
        b->cat[i] = -1;
    for (size_t k = 0; k < len[1] && rc == 0; k++) {
        int32_t nd = nodes[k];
        pd__jpath(q, sizeof q, path, ".categories_nodes[%zu]", k);
        if (b->stype[nd] != 1 || b->left[nd] == -1 || b->cat[nd] != -1)
            rc = pd__jfail(c, q, "node %d is not a categorical split listed once", nd);
        else if ((size_t)seg[k] + (size_t)size[k] > len[0])
            rc = pd__jfail(c, q, "segment [%d, +%d) past the %zu categories", seg[k], size[k],
                           len[0]);
        else
            rc = pd__trees_add_catsplit(c, m, t, q, NULL, 0, cats + seg[k], (size_t)size[k], 1,
                                        &b->cat[nd]);
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        if (b->stype[i] == 1 && b->left[i] != -1 && b->cat[i] == -1) {
            pd__jpath(q, sizeof q, path, ".split_type[%zu]", i);
            rc = pd__jfail(c, q, "categorical node %zu has no categories_nodes entry", i);
        }
out:
    free(cats);
    free(idx);
    if (rc == PD_ENOMEM)
        pd__jfail(c, path, "out of memory");
    return rc;
}

static int read_tree(pd__jctx_t *c, const json_t *tj, const char *path, pd_model_t *m,
                     pd__part_t *part, xbufs_t *b, size_t n, int32_t output)
{
    json_t *v;
    char p[PD__PATH_MAX];
    int rc;
    pd__tree_in_t in = {path, "split_indices", "left_children", "right_children", n,
                        b->feature, b->left, b->right, b->thr, b->dl, b->thr, output, 1, 0,
                        NULL};
    if ((rc = pd__jget(c, tj, path, "split_indices", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jints(c, v, p, n, 0, INT32_MAX, b->feature)) ||
        (rc = pd__jget(c, tj, path, "left_children", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jints(c, v, p, n, INT32_MIN, INT32_MAX, b->left)) ||
        (rc = pd__jget(c, tj, path, "right_children", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jints(c, v, p, n, INT32_MIN, INT32_MAX, b->right)) ||
        (rc = pd__jget(c, tj, path, "split_conditions", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jdoubles_nf(c, v, p, n, b->thr)) || /* NaN on categorical splits */
        (rc = pd__jget(c, tj, path, "default_left", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jints(c, v, p, n, 0, 1, b->dl32)) ||
        (rc = pd__jget(c, tj, path, "split_type", PD__J_ARR, 0, &v, p)))
        return rc;
    int any_cat = 0;
    if (v) {
        if ((rc = pd__jints(c, v, p, n, 0, 1, b->stype)))
            return rc;
        for (size_t i = 0; i < n; i++)
            any_cat |= b->stype[i] == 1 && b->left[i] != -1;
    }
    if (any_cat) {
        if ((rc = read_categories(c, tj, path, m, part->state, b, n)))
            return rc;
        in.cat_split = b->cat;
    }
    for (size_t i = 0; i < n; i++) {
        b->dl[i] = (uint8_t)b->dl32[i];
        if (any_cat && b->cat[i] >= 0)
            continue; /* its split_conditions entry is NaN, unused */
        if (!isfinite(b->thr[i])) { /* a leaf value or a numeric threshold */
            pd__jpath(p, sizeof p, path, ".split_conditions[%zu]", i);
            return pd__jfail(c, p, "%s of node %zu is not finite",
                             b->left[i] == -1 ? "leaf value" : "threshold", i);
        }
    }
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
        b.thr = malloc(maxn * sizeof(double)), b.cat = malloc(maxn * sizeof(int32_t));
        if (!b.feature || !b.left || !b.right || !b.stype || !b.dl32 || !b.dl || !b.thr ||
            !b.cat)
            rc = PD_ENOMEM;
    }
    for (size_t i = 0; i < nt && rc == 0; i++) {
        const json_t *tj = json_array_get(trees, i);
        pd__jpath(p, sizeof p, TREES, "[%zu]", i);
        size_t n = json_array_size(json_object_get(tj, "left_children"));
        rc = read_tree(c, tj, p, m, part, &b, n, groups[i]);
    }
    free(b.feature), free(b.left), free(b.right), free(b.stype), free(b.dl32), free(b.dl);
    free(b.thr), free(b.cat);
    free(groups);
    if (rc == PD_ENOMEM)
        pd__jfail(c, TREES, "out of memory");
    return rc;
}

/* Objective -> task, classes, transform; the base margin into *bm (float, as XGBoost). */
static int setup_objective(pd__jctx_t *c, pd_model_t *m, pd__trees_t *t, const objective_t *o,
                           double base, size_t ncls, float *bm)
{
    const char *bp = "$.learner.learner_model_param.base_score";
    int multi = o->kind == K_MULTI || o->kind == K_MULTI_LABEL;
    *bm = (float)base;
    if (o->base == B_LOGIT) {
        if (!(base > 0.0 && base < 1.0))
            return pd__jfail(c, bp, "must be in (0, 1) for objective %s", o->name);
        *bm = -logf(1.0f / *bm - 1.0f); /* XGBoost's ProbToMargin, in float */
    } else if (o->base == B_LOG) {
        if (!(base > 0.0))
            return pd__jfail(c, bp, "must be > 0 for objective %s", o->name);
        *bm = logf(*bm);
    }
    t->n_outputs = multi ? ncls : 1;
    t->post = o->post;
    t->label_by_margin = o->kind == K_MULTI_LABEL;
    t->aggregate_sum = 1;
    t->f32acc = 1;
    if (o->kind == K_REG) {
        m->schema.task = PD_TASK_REGRESSION;
        return 0;
    }
    m->schema.task = PD_TASK_CLASSIFICATION;
    return pd__gen_int_classes(c, m, o->kind == K_BINARY ? 2 : ncls);
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
    float bm;
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
    const char *names[N_OBJ];
    for (size_t i = 0; i < N_OBJ; i++)
        names[i] = objectives[i].name;
    if (rc || (rc = pd__jenum(c, oname, "$.learner.objective.name", names, N_OBJ, &obj)))
        return rc;
    const objective_t *o = &objectives[obj];
    const char *mpp = "$.learner.learner_model_param";
    if ((rc = str_param(c, mp, mpp, "base_score", -1e30, 1e30, &base)) ||
        (rc = str_param(c, mp, mpp, "num_feature", 1, PD_MODEL_MAX_FEATURES, &nf)) ||
        (rc = str_param(c, mp, mpp, "num_class", 0, PD_MODEL_MAX_CLASSES, &ncls)))
        return rc;
    int multi = o->kind == K_MULTI || o->kind == K_MULTI_LABEL;
    if (multi != (ncls >= 2) || nf != floor(nf) || ncls != floor(ncls))
        return pd__jfail(c, "$.learner.learner_model_param.num_class",
                         "num_class %g does not fit objective %s", ncls, oname);
    char name[PD_MODEL_MAX_NAME + 1];
    pd__name_from_label(c->label, name);
    pd__trees_t tmp = {0}; /* objective fields, copied into the part below */
    if ((rc = pd__set_names(c, m, name, "1", "xgboost", "gbtree")) ||
        (rc = load_features(c, learner, m, (size_t)nf)) ||
        (rc = setup_objective(c, m, &tmp, o, base, (size_t)ncls, &bm)) ||
        (rc = pd__jget(c, gb, GB, "model", PD__J_OBJ, 1, &model, NULL)))
        return rc;
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
