/* fsource_spec.c - a model's feature source as its settings describe it (fsource.h):
 * the "feature_source" member of settings.json / <stem>.settings.json parsed and checked
 * against the model's features, and the list of store kinds.
 *
 * Invariants: a spec is complete and valid or not returned at all; every string it keeps
 * is its own copy; parsing touches nothing but its arguments (any thread). */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fsource_impl.h"
#include "common.h"

/* The store kinds a settings file may name: one line per kind. */
static const pd_fsource_ops_t *const k_stores[] = {
    &pd_fsource_redis,
};

const pd_fsource_ops_t *pd__fsource_kind(const char *kind)
{
    for (size_t i = 0; i < PD_ARRAY_SIZE(k_stores); i++)
        if (strcmp(k_stores[i]->kind, kind) == 0)
            return k_stores[i];
    return NULL;
}

const pd_fsource_ops_t *pd__fsource_kind_at(size_t n)
{
    return n < PD_ARRAY_SIZE(k_stores) ? k_stores[n] : NULL;
}

const char *pd_fsource_spec_kind(const pd_fsource_spec_t *spec)
{
    return spec->ops->kind;
}

void pd_fsource_spec_free(pd_fsource_spec_t *s)
{
    if (s == NULL)
        return;
    free(s->url);
    free(s->display);
    free(s->key);
    free(s->parts);
    for (size_t i = 0; s->key_fields && i < s->n_key_fields; i++)
        free(s->key_fields[i]);
    free(s->key_fields);
    for (size_t i = 0; s->fields && i < s->n_features; i++)
        free(s->fields[i]);
    free(s->fields);
    free(s->field_lens);
    free(s);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return PD_EINVAL;
}

static int name_char(char c, int first)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

static long feature_index(const char *const *features, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(features[i], name) == 0)
            return (long)i;
    return -1;
}

/* The key field `name` (len bytes) of s, added when new; its index, or a negative code. */
static long key_field(pd_fsource_spec_t *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->n_key_fields; i++)
        if (strlen(s->key_fields[i]) == len && memcmp(s->key_fields[i], name, len) == 0)
            return (long)i;
    if (s->n_key_fields == PD_FSOURCE_MAX_KEY_FIELDS)
        return PD_ETOOBIG;
    if ((s->key_fields[s->n_key_fields] = strndup(name, len)) == NULL)
        return PD_ENOMEM;
    return (long)s->n_key_fields++;
}

/* Parses s->key ("user:{user_id}") into parts and key fields. */
static int parse_template(pd_fsource_spec_t *s, const char *const *features, size_t nf,
                          char *err, size_t errlen)
{
    const char *k = s->key;
    size_t n = strlen(k);
    if (n == 0 || n > PD_FSOURCE_TEMPLATE_MAX)
        return fail(err, errlen, "feature_source.key: 1 to %d bytes", PD_FSOURCE_TEMPLATE_MAX);
    s->parts = calloc(n, sizeof *s->parts); /* never more parts than bytes */
    s->key_fields = calloc(PD_FSOURCE_MAX_KEY_FIELDS, sizeof *s->key_fields);
    if (s->parts == NULL || s->key_fields == NULL)
        return PD_ENOMEM;
    for (size_t i = 0; i < n;) {
        pd_fsource_part_t *p = &s->parts[s->n_parts++];
        if (k[i] == '}')
            return fail(err, errlen, "feature_source.key: '}' at byte %zu closes nothing "
                        "(braces only enclose a field: {name})", i);
        if (k[i] != '{') {
            size_t j = i;
            while (j < n && k[j] != '{' && k[j] != '}')
                j++;
            *p = (pd_fsource_part_t){0, 0, k + i, j - i};
            i = j;
            continue;
        }
        size_t j = i + 1;
        while (j < n && name_char(k[j], j == i + 1))
            j++;
        if (j == n || k[j] != '}' || j == i + 1 || j - i - 1 > PD_FSOURCE_NAME_MAX)
            return fail(err, errlen, "feature_source.key: '{' at byte %zu must open a field "
                        "name of 1 to %d characters [A-Za-z_][A-Za-z0-9_]* closed by '}'", i,
                        PD_FSOURCE_NAME_MAX);
        long idx = key_field(s, k + i + 1, j - i - 1);
        if (idx == PD_ETOOBIG)
            return fail(err, errlen, "feature_source.key: more than %d distinct fields",
                        PD_FSOURCE_MAX_KEY_FIELDS);
        if (idx < 0)
            return (int)idx;
        if (feature_index(features, nf, s->key_fields[idx]) >= 0)
            return fail(err, errlen, "feature_source.key: {%s} is a feature of the model; "
                        "a key field must be another request field", s->key_fields[idx]);
        *p = (pd_fsource_part_t){1, (size_t)idx, NULL, 0};
        i = j + 1;
    }
    if (s->n_key_fields == 0)
        return fail(err, errlen, "feature_source.key: names no request field; write one "
                    "as {name}, e.g. \"user:{user_id}\"");
    return 0;
}

/* The stored field of each feature: "fields"[feature], else the feature's own name. */
static int parse_fields(pd_fsource_spec_t *s, json_t *fields, const char *const *features,
                        char *err, size_t errlen)
{
    const char *name;
    json_t *v;
    if (fields != NULL && !json_is_object(fields))
        return fail(err, errlen, "feature_source.fields: expected an object "
                    "{\"<feature>\": \"<stored field>\"}");
    json_object_foreach(fields, name, v) {
        if (feature_index(features, s->n_features, name) < 0)
            return fail(err, errlen, "feature_source.fields: '%.*s' is not a feature of "
                        "the model", PD_FSOURCE_KEY_QUOTE_MAX, name);
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > PD_FSOURCE_FIELD_MAX)
            return fail(err, errlen, "feature_source.fields.%.*s: expected a field name "
                        "of 1 to %d bytes", PD_FSOURCE_KEY_QUOTE_MAX, name, PD_FSOURCE_FIELD_MAX);
    }
    s->fields = calloc(s->n_features ? s->n_features : 1, sizeof *s->fields);
    s->field_lens = calloc(s->n_features ? s->n_features : 1, sizeof *s->field_lens);
    if (s->fields == NULL || s->field_lens == NULL)
        return PD_ENOMEM;
    for (size_t i = 0; i < s->n_features; i++) {
        json_t *m = fields ? json_object_get(fields, features[i]) : NULL;
        const char *f = m ? json_string_value(m) : features[i];
        if ((s->fields[i] = strdup(f)) == NULL)
            return PD_ENOMEM;
        s->field_lens[i] = strlen(f);
    }
    return 0;
}

/* The store member ("redis": URL): exactly one known kind. */
static int parse_store(pd_fsource_spec_t *s, json_t *fsrc, char *err, size_t errlen)
{
    const char *name;
    json_t *v;
    json_object_foreach(fsrc, name, v) {
        if (strcmp(name, "key") == 0 || strcmp(name, "fields") == 0)
            continue;
        const pd_fsource_ops_t *ops = pd__fsource_kind(name);
        if (ops == NULL)
            return fail(err, errlen, "feature_source: unknown member '%.*s' (expected a "
                        "store such as \"%s\", \"key\" and \"fields\")",
                        PD_FSOURCE_KEY_QUOTE_MAX, name, pd__fsource_kind_at(0)->kind);
        if (s->ops != NULL)
            return fail(err, errlen, "feature_source: names two stores (%s and %s)",
                        s->ops->kind, ops->kind);
        s->ops = ops;
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > PD_FSOURCE_URL_MAX)
            return fail(err, errlen, "feature_source.%s: expected a URL of 1 to %d bytes",
                        name, PD_FSOURCE_URL_MAX);
        char disp[PD_FSOURCE_URL_MAX + 1], why[256];
        if (ops->check(json_string_value(v), disp, sizeof disp, why, sizeof why) < 0)
            return fail(err, errlen, "feature_source.%s: %s", name, why);
        if ((s->url = strdup(json_string_value(v))) == NULL ||
            (s->display = strdup(disp)) == NULL)
            return PD_ENOMEM;
    }
    if (s->ops == NULL)
        return fail(err, errlen, "feature_source: names no store (e.g. \"%s\": \"%s://"
                    "HOST:PORT\")", pd__fsource_kind_at(0)->kind, pd__fsource_kind_at(0)->kind);
    return 0;
}

static int parse_member(json_t *fsrc, const char *const *features, size_t nf, int missing_ok,
                        pd_fsource_spec_t **out, char *err, size_t errlen)
{
    if (!json_is_object(fsrc))
        return fail(err, errlen, "feature_source: expected an object {\"%s\": URL, "
                    "\"key\": \"...{field}...\"}", pd__fsource_kind_at(0)->kind);
    pd_fsource_spec_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return PD_ENOMEM;
    s->n_features = nf;
    s->missing_ok = missing_ok;
    json_t *key = json_object_get(fsrc, "key");
    int rc = parse_store(s, fsrc, err, errlen);
    if (rc == 0 && !json_is_string(key))
        rc = fail(err, errlen, "feature_source.key: expected a string such as "
                  "\"user:{user_id}\"");
    if (rc == 0 && (s->key = strdup(json_string_value(key))) == NULL)
        rc = PD_ENOMEM;
    if (rc == 0)
        rc = parse_template(s, features, nf, err, errlen);
    if (rc == 0)
        rc = parse_fields(s, json_object_get(fsrc, "fields"), features, err, errlen);
    if (rc < 0) {
        if (rc == PD_ENOMEM)
            snprintf(err, errlen, "feature_source: out of memory");
        pd_fsource_spec_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int pd_fsource_spec_parse(const char *text, size_t len, const char *const *features,
                          size_t n_features, int missing_ok, pd_fsource_spec_t **out,
                          char *err, size_t errlen)
{
    json_error_t je;
    *out = NULL;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je); /* and \u0000 */
    if (root == NULL)
        return fail(err, errlen, "not valid JSON: %s (line %d)", je.text, je.line);
    int rc = 0;
    json_t *fsrc = json_object_get(root, "feature_source");
    if (!json_is_object(root))
        rc = fail(err, errlen, "expected a JSON object");
    else if (fsrc != NULL)
        rc = parse_member(fsrc, features, n_features, missing_ok, out, err, errlen);
    json_decref(root);
    return rc;
}

int pd_fsource_spec_read(const char *path, size_t max_bytes, const char *const *features,
                         size_t n_features, int missing_ok, pd_fsource_spec_t **out,
                         char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL && errno == ENOENT)
        return 0;
    if (f == NULL)
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    char *buf = malloc(max_bytes + 1);
    size_t n = buf ? fread(buf, 1, max_bytes + 1, f) : 0;
    int bad = buf ? ferror(f) : 0;
    fclose(f);
    int rc = 0;
    char why[PD_FSOURCE_MSG_MAX];
    if (buf == NULL)
        rc = fail(err, errlen, "%s: out of memory", path);
    else if (bad)
        rc = fail(err, errlen, "%s: cannot read it", path);
    else if (n > max_bytes)
        rc = fail(err, errlen, "%s: larger than %zu bytes", path, max_bytes);
    else if ((rc = pd_fsource_spec_parse(buf, n, features, n_features, missing_ok, out, why,
                                         sizeof why)) < 0)
        snprintf(err, errlen, "%s: %s", path, why);
    free(buf);
    return rc;
}
