/* load_predictd.c - the predictd model format (docs/model-format.md): top-level fields,
 * class labels, scalers, linear and MLP estimators; tree ensembles are in
 * load_predictd_trees.c. Every field is checked against the document; the first problem
 * found is reported with its JSON path. */
#include <string.h>

#include "common.h"
#include "model/load_common.h"

static int check_name(pd__jctx_t *c, const char *s, const char *path)
{
    size_t n = strlen(s);
    if (n < 1 || n > PD_MODEL_MAX_NAME)
        return pd__jfail(c, path, "name must have 1..%d characters", PD_MODEL_MAX_NAME);
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return pd__jfail(c, path, "name may only use [A-Za-z0-9_.-]");
    }
    return 0;
}

static int load_classes(pd__jctx_t *c, const json_t *arr, pd_model_t *m)
{
    const char *path = "$.classes";
    size_t n;
    int rc = pd__jlen(c, arr, path, 2, PD_MODEL_MAX_CLASSES, &n);
    if (rc)
        return rc;
    int strings = json_is_string(json_array_get(arr, 0));
    if (strings)
        m->class_str = pd__model_calloc(m, n, sizeof(char *));
    else
        m->class_int = pd__model_calloc(m, n, sizeof(int64_t));
    if (!m->class_str && !m->class_int)
        return PD_ENOMEM;
    m->schema.n_classes = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        char p[PD__PATH_MAX];
        pd__jpath(p, sizeof p, path, "[%zu]", i);
        if ((rc = pd__jcheck(c, v, p, strings ? PD__J_STR : PD__J_INT)))
            return pd__jfail(c, p, "class labels must be all integers or all strings");
        if (strings) {
            if (json_string_length(v) > 1024)
                return pd__jfail(c, p, "class label longer than 1024 bytes");
            if (!(m->class_str[i] = pd__model_strdup(m, json_string_value(v))))
                return PD_ENOMEM;
        } else {
            m->class_int[i] = (int64_t)json_integer_value(v);
        }
        for (size_t j = 0; j < i; j++)
            if (strings ? strcmp(m->class_str[j], m->class_str[i]) == 0
                        : m->class_int[j] == m->class_int[i])
                return pd__jfail(c, p, "duplicate class label");
    }
    m->schema.labels_are_strings = strings;
    m->schema.class_labels_str = (const char *const *)m->class_str;
    m->schema.class_labels_int = m->class_int;
    return 0;
}

/* An optional (or required) array of n_features finite numbers into a new array. */
static int feature_vec(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                       const char *key, int required, double **out)
{
    json_t *v;
    char p[PD__PATH_MAX];
    int rc = pd__jget(c, step, path, key, PD__J_ARR, required, &v, p);
    if (rc || !v)
        return rc;
    if (!(*out = pd__model_calloc(m, m->schema.n_features, sizeof(double))))
        return PD_ENOMEM;
    m->n_params += m->schema.n_features;
    return pd__jdoubles(c, v, p, m->schema.n_features, *out);
}

static int load_scaler(pd__jctx_t *c, const json_t *step, const char *path, int type,
                       pd_model_t *m)
{
    if (m->n_scalers >= PD_MODEL_MAX_STEPS - 1)
        return pd__jfail(c, path, "more than %d scalers", PD_MODEL_MAX_STEPS - 1);
    pd__scaler_t *s = &m->scalers[m->n_scalers++];
    int rc;
    switch (type) {
    case 0: /* standard */
    case 3: /* robust: same arithmetic, other names */
        s->kind = PD__SCALER_STANDARD;
        rc = feature_vec(c, m, step, path, type == 0 ? "mean" : "center", 0, &s->a);
        if (!rc)
            rc = feature_vec(c, m, step, path, "scale", 0, &s->b);
        return rc;
    case 1:
        s->kind = PD__SCALER_MINMAX;
        rc = feature_vec(c, m, step, path, "scale", 1, &s->a);
        if (!rc)
            rc = feature_vec(c, m, step, path, "min", 1, &s->b);
        return rc;
    default:
        s->kind = PD__SCALER_MAXABS;
        return feature_vec(c, m, step, path, "scale", 1, &s->b);
    }
}

static int load_linear(pd__jctx_t *c, const json_t *step, const char *path, pd_model_t *m)
{
    static const char *const links[] = {"identity", "logistic", "softmax", "ovr"};
    int rc, li;
    char p[PD__PATH_MAX];
    const char *ls = pd__jstr(c, step, path, "link", 1, NULL, &rc);
    pd__jpath(p, sizeof p, path, ".link");
    if (rc || (rc = pd__jenum(c, ls, p, links, 4, &li)))
        return rc;
    pd__linear_t *L = &m->linear;
    L->link = (pd__link_t)li;
    int cls = m->schema.task == PD_TASK_CLASSIFICATION;
    if (cls != (li != 0) || (li == 1 && m->schema.n_classes != 2))
        return pd__jfail(c, p, "link \"%s\" does not fit a %s model with %zu classes", ls,
                         cls ? "classification" : "regression", m->schema.n_classes);
    L->n_rows = li <= 1 ? 1 : m->schema.n_classes;
    size_t nf = m->schema.n_features;
    json_t *coef, *icpt;
    char pc[PD__PATH_MAX], pi[PD__PATH_MAX];
    if ((rc = pd__jget(c, step, path, "coef", PD__J_ARR, 1, &coef, pc)) ||
        (rc = pd__jget(c, step, path, "intercept", PD__J_ARR, 1, &icpt, pi)))
        return rc;
    size_t nr;
    if ((rc = pd__jlen(c, coef, pc, L->n_rows, L->n_rows, &nr)))
        return rc;
    L->coef = pd__model_calloc(m, L->n_rows * nf, sizeof(double));
    L->intercept = pd__model_calloc(m, L->n_rows, sizeof(double));
    if (!L->coef || !L->intercept)
        return PD_ENOMEM;
    for (size_t k = 0; k < L->n_rows; k++) {
        pd__jpath(p, sizeof p, pc, "[%zu]", k);
        if ((rc = pd__jdoubles(c, json_array_get(coef, k), p, nf, L->coef + k * nf)))
            return rc;
    }
    m->n_params += L->n_rows * (nf + 1);
    m->est = PD__EST_LINEAR;
    return pd__jdoubles(c, icpt, pi, L->n_rows, L->intercept);
}

static int load_layer(pd__jctx_t *c, const json_t *lj, const char *path, size_t n_in,
                      pd__layer_t *L, pd_model_t *m)
{
    json_t *w, *b;
    char pw[PD__PATH_MAX], pb[PD__PATH_MAX], p[PD__PATH_MAX];
    int rc;
    size_t n, n_out;
    if ((rc = pd__jcheck(c, lj, path, PD__J_OBJ)) ||
        (rc = pd__jget(c, lj, path, "weights", PD__J_ARR, 1, &w, pw)) ||
        (rc = pd__jget(c, lj, path, "bias", PD__J_ARR, 1, &b, pb)) ||
        (rc = pd__jlen(c, w, pw, n_in, n_in, &n)) ||
        (rc = pd__jlen(c, b, pb, 1, PD_MODEL_MAX_LAYER_WIDTH, &n_out)))
        return rc;
    if (n_in > SIZE_MAX / n_out / sizeof(double) || n_in * n_out > PD_MODEL_MAX_LAYER_WEIGHTS)
        return pd__jfail(c, pw, "layer too large (%zu x %zu)", n_in, n_out);
    L->n_in = n_in, L->n_out = n_out;
    L->w = pd__model_calloc(m, n_in * n_out, sizeof(double));
    L->b = pd__model_calloc(m, n_out, sizeof(double));
    if (!L->w || !L->b)
        return PD_ENOMEM;
    for (size_t i = 0; i < n_in; i++) {
        pd__jpath(p, sizeof p, pw, "[%zu]", i);
        if ((rc = pd__jdoubles(c, json_array_get(w, i), p, n_out, L->w + i * n_out)))
            return rc;
    }
    m->n_params += (n_in + 1) * n_out;
    return pd__jdoubles(c, b, pb, n_out, L->b);
}

static int load_mlp(pd__jctx_t *c, const json_t *step, const char *path, pd_model_t *m)
{
    static const char *const acts[] = {"identity", "relu", "tanh", "logistic"};
    static const char *const outs[] = {"identity", "logistic", "softmax"};
    pd__mlp_t *M = &m->mlp;
    int rc, a, o;
    char p[PD__PATH_MAX], po[PD__PATH_MAX];
    const char *as = pd__jstr(c, step, path, "activation", 1, NULL, &rc);
    pd__jpath(p, sizeof p, path, ".activation");
    if (rc || (rc = pd__jenum(c, as, p, acts, 4, &a)))
        return rc;
    const char *os = pd__jstr(c, step, path, "output_activation", 1, NULL, &rc);
    pd__jpath(po, sizeof po, path, ".output_activation");
    if (rc || (rc = pd__jenum(c, os, po, outs, 3, &o)))
        return rc;
    M->act = (pd__act_t)a;
    M->out = o == 0 ? PD__LINK_IDENTITY : o == 1 ? PD__LINK_LOGISTIC : PD__LINK_SOFTMAX;
    int cls = m->schema.task == PD_TASK_CLASSIFICATION;
    size_t want = o == 2 ? m->schema.n_classes : 1;
    if (cls != (o != 0) || (o == 1 && m->schema.n_classes != 2))
        return pd__jfail(c, po, "\"%s\" does not fit a %s model with %zu classes", os,
                         cls ? "classification" : "regression", m->schema.n_classes);
    json_t *layers;
    char pl[PD__PATH_MAX];
    size_t n;
    if ((rc = pd__jget(c, step, path, "layers", PD__J_ARR, 1, &layers, pl)) ||
        (rc = pd__jlen(c, layers, pl, 1, PD_MODEL_MAX_LAYERS, &n)))
        return rc;
    if (!(M->layers = pd__model_calloc(m, n, sizeof *M->layers)))
        return PD_ENOMEM;
    size_t n_in = m->schema.n_features;
    M->max_width = n_in;
    for (size_t i = 0; i < n; i++) {
        pd__jpath(p, sizeof p, pl, "[%zu]", i);
        M->n_layers = i + 1;
        if ((rc = load_layer(c, json_array_get(layers, i), p, n_in, &M->layers[i], m)))
            return rc;
        n_in = M->layers[i].n_out;
        M->max_width = n_in > M->max_width ? n_in : M->max_width;
    }
    if (n_in != want)
        return pd__jfail(c, p, "last layer has %zu outputs, expected %zu", n_in, want);
    m->est = PD__EST_MLP;
    return 0;
}

static int load_steps(pd__jctx_t *c, const json_t *steps, pd_model_t *m)
{
    static const char *const types[] = {"standard_scaler", "minmax_scaler", "maxabs_scaler",
                                        "robust_scaler",   "linear",        "tree_ensemble",
                                        "mlp"};
    size_t n;
    int rc = pd__jlen(c, steps, "$.steps", 1, PD_MODEL_MAX_STEPS, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        char p[PD__PATH_MAX], pt[PD__PATH_MAX];
        pd__jpath(p, sizeof p, "$.steps", "[%zu]", i);
        pd__jpath(pt, sizeof pt, p, ".type");
        const json_t *st = json_array_get(steps, i);
        int t;
        const char *ts;
        if ((rc = pd__jcheck(c, st, p, PD__J_OBJ)))
            return rc;
        ts = pd__jstr(c, st, p, "type", 1, NULL, &rc);
        if (rc || (rc = pd__jenum(c, ts, pt, types, PD_ARRAY_SIZE(types), &t)))
            return rc;
        int last = i + 1 == n;
        if ((t >= 4) != last)
            return pd__jfail(c, pt, last ? "the last step must be an estimator"
                                         : "an estimator must be the last step");
        if (t < 4)
            rc = load_scaler(c, st, p, t, m);
        else if (t == 4)
            rc = load_linear(c, st, p, m);
        else if (t == 5)
            rc = pd__load_tree_ensemble(c, st, p, m);
        else
            rc = load_mlp(c, st, p, m);
        if (rc)
            return rc;
    }
    return 0;
}

/* "missing_values" (optional boolean): whether the model takes missing values. Its default
 * is whether a tree gave a missing-value direction; only tree ensembles may say true
 * (a linear model or an MLP would turn NaN into a NaN prediction). */
static int load_missing_values(pd__jctx_t *c, const json_t *root, pd_model_t *m)
{
    const json_t *v = json_object_get(root, "missing_values");
    m->schema.missing_ok = m->missing_left_seen;
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        return pd__jfail(c, "$.missing_values", "expected true or false");
    if (json_is_true(v) && m->est != PD__EST_TREES)
        return pd__jfail(c, "$.missing_values", "only tree ensembles take missing values");
    m->schema.missing_ok = json_is_true(v);
    return 0;
}

int pd__load_predictd(pd__jctx_t *c, const void *rootv, pd_model_t *m)
{
    const json_t *root = rootv;
    int rc;
    const char *fmt = pd__jstr(c, root, "$", "format", 1, NULL, &rc);
    if (rc)
        return rc;
    if (strcmp(fmt, "predictd-model") != 0)
        return pd__jfail(c, "$.format", "expected \"predictd-model\"");
    json_t *v;
    if ((rc = pd__jget(c, root, "$", "version", PD__J_INT, 1, &v, NULL)))
        return rc;
    if (json_integer_value(v) != 1)
        return pd__jfail(c, "$.version", "unsupported format version %lld (this predictd "
                         "reads version 1)", (long long)json_integer_value(v));
    const char *name = pd__jstr(c, root, "$", "name", 1, NULL, &rc);
    if (rc || (rc = check_name(c, name, "$.name")))
        return rc;
    const char *ver = pd__jstr(c, root, "$", "model_version", 0, "1", &rc);
    if (rc)
        return rc;
    if (strlen(ver) < 1 || strlen(ver) > PD_MODEL_MAX_NAME)
        return pd__jfail(c, "$.model_version", "must have 1..%d characters", PD_MODEL_MAX_NAME);
    const char *src = pd__jstr(c, root, "$", "source", 0, "", &rc);
    const char *kind = rc ? NULL : pd__jstr(c, root, "$", "kind", 0, "", &rc);
    if (rc || (rc = pd__set_names(c, m, name, ver, src, kind)))
        return rc;
    static const char *const tasks[] = {"classification", "regression"};
    const char *ts = pd__jstr(c, root, "$", "task", 1, NULL, &rc);
    int task;
    if (rc || (rc = pd__jenum(c, ts, "$.task", tasks, 2, &task)))
        return rc;
    m->schema.task = task == 0 ? PD_TASK_CLASSIFICATION : PD_TASK_REGRESSION;
    if ((rc = pd__jget(c, root, "$", "features", PD__J_ARR, 1, &v, NULL)) ||
        (rc = pd__load_features(c, m, v, "$.features")))
        return rc;
    if ((rc = pd__jget(c, root, "$", "classes", PD__J_ARR, task == 0, &v, NULL)))
        return rc;
    if (v && task != 0)
        return pd__jfail(c, "$.classes", "a regression model has no classes");
    if (v && (rc = load_classes(c, v, m)))
        return rc;
    if ((rc = pd__jget(c, root, "$", "steps", PD__J_ARR, 1, &v, NULL)) ||
        (rc = load_steps(c, v, m)))
        return rc;
    return load_missing_values(c, root, m);
}
