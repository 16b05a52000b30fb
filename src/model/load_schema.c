/* load_schema.c - model identity and schema fields shared by both loaders: names,
 * feature names (unique), class labels. Everything is copied into the model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model/load_common.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Finds a duplicate among n strings (sorting a copy of the pointers); NULL if none. */
static const char *find_dup(char *const *s, size_t n, int *oom)
{
    *oom = 0;
    const char **tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp) {
        *oom = 1;
        return NULL;
    }
    memcpy(tmp, s, n * sizeof *tmp);
    qsort(tmp, n, sizeof *tmp, cmp_str);
    const char *dup = NULL;
    for (size_t i = 1; i < n && !dup; i++)
        if (strcmp(tmp[i - 1], tmp[i]) == 0)
            dup = tmp[i];
    free(tmp);
    return dup;
}

int pd__load_features(pd__jctx_t *c, pd_model_t *m, const json_t *arr, const char *path)
{
    size_t n;
    int rc = pd__jlen(c, arr, path, 1, PD_MODEL_MAX_FEATURES, &n);
    if (rc)
        return rc;
    m->feature_names = pd__model_calloc(m, n, sizeof(char *));
    if (!m->feature_names)
        return PD_ENOMEM;
    m->schema.n_features = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        char p[PD__PATH_MAX];
        pd__jpath(p, sizeof p, path, "[%zu]", i);
        if ((rc = pd__jcheck(c, v, p, PD__J_STR)))
            return rc;
        if (json_string_length(v) == 0 || json_string_length(v) > 1024)
            return pd__jfail(c, p, "feature name must have 1..1024 bytes");
        if (!(m->feature_names[i] = pd__model_strdup(m, json_string_value(v))))
            return PD_ENOMEM;
    }
    int oom;
    const char *dup = find_dup(m->feature_names, n, &oom);
    if (oom)
        return PD_ENOMEM;
    if (dup)
        return pd__jfail(c, path, "duplicate feature name \"%.64s\"", dup);
    m->schema.feature_names = (const char *const *)m->feature_names;
    return pd__inputs_default(m);
}

int pd__gen_features(pd__jctx_t *c, pd_model_t *m, size_t n)
{
    (void)c;
    m->feature_names = pd__model_calloc(m, n, sizeof(char *));
    if (!m->feature_names)
        return PD_ENOMEM;
    m->schema.n_features = n;
    for (size_t i = 0; i < n; i++) {
        char b[32];
        snprintf(b, sizeof b, "f%zu", i);
        if (!(m->feature_names[i] = pd__model_strdup(m, b)))
            return PD_ENOMEM;
    }
    m->schema.feature_names = (const char *const *)m->feature_names;
    return pd__inputs_default(m);
}

int pd__gen_int_classes(pd__jctx_t *c, pd_model_t *m, size_t n)
{
    (void)c;
    if (!(m->class_int = pd__model_calloc(m, n, sizeof *m->class_int)))
        return PD_ENOMEM;
    for (size_t i = 0; i < n; i++)
        m->class_int[i] = (int64_t)i;
    m->schema.n_classes = n;
    m->schema.class_labels_int = m->class_int;
    return 0;
}

int pd__set_names(pd__jctx_t *c, pd_model_t *m, const char *name, const char *version,
                  const char *source, const char *kind)
{
    (void)c;
    m->name = pd__model_strdup(m, name);
    m->version = pd__model_strdup(m, version);
    m->source = pd__model_strdup(m, source);
    m->kind = pd__model_strdup(m, kind ? kind : "");
    if (!m->name || !m->version || !m->source || !m->kind)
        return PD_ENOMEM;
    m->schema.name = m->name;
    m->schema.version = m->version;
    m->schema.source = m->source;
    m->schema.kind = m->kind;
    return 0;
}

void pd__name_from_label(const char *label, char *dst)
{
    const char *b = strrchr(label, '/');
    b = b ? b + 1 : label;
    size_t n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".json") == 0)
        n -= 5;
    else if (n > 4 && strcmp(b + n - 4, ".ubj") == 0)
        n -= 4;
    if (n > PD_MODEL_MAX_NAME)
        n = PD_MODEL_MAX_NAME;
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
        dst[i] = ok ? ch : '_';
    }
    if (n == 0)
        dst[n++] = 'm';
    dst[n] = '\0';
}
