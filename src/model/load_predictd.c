/* load_predictd.c - the predictd model format (docs/model-format.md): top-level fields and
 * class labels, then the pipeline of "steps" (pipeline.c), each step loaded by its model
 * type (part.h, types.c). Every field is checked against the document; the first problem
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

/* "missing_values" (optional boolean): whether the model takes missing values. Its default
 * is whether a tree gave a missing-value direction; only tree ensembles may say true
 * (a linear model or an MLP would turn NaN into a NaN prediction). */
static int load_missing_values(pd__jctx_t *c, const json_t *root, pd_model_t *m)
{
    const json_t *v = json_object_get(root, "missing_values");
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        return pd__jfail(c, "$.missing_values", "expected true or false");
    int ok, nan_out;
    pd__parts_nan(m->parts, m->n_parts, 1, 1, &ok, &nan_out);
    if (json_is_true(v) && !ok)
        return pd__jfail(c, "$.missing_values", "a step of this pipeline does not take "
                         "missing values (tree ensembles, scalers and imputers do)");
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
    if ((rc = pd__jget(c, root, "$", "inputs", PD__J_OBJ, 0, &v, NULL)) ||
        (v && (rc = pd__inputs_load(c, m, v, "$.inputs"))))
        return rc;
    if ((rc = pd__jget(c, root, "$", "classes", PD__J_ARR, task == 0, &v, NULL)))
        return rc;
    if (v && task != 0)
        return pd__jfail(c, "$.classes", "a regression model has no classes");
    if (v && (rc = load_classes(c, v, m)))
        return rc;
    if ((rc = pd__jget(c, root, "$", "steps", PD__J_ARR, 1, &v, NULL)) ||
        (rc = pd__pipeline_load(c, m, v, "$.steps")) || (rc = pd__pipeline_finish(c, m)))
        return rc;
    return load_missing_values(c, root, m);
}
