/* repo_rules.c - what names and settings mean in a model repository: which directory
 * entries are skipped, which names are valid model names and version folders, and a model
 * folder's settings.json (Triton's version_policy). Pure functions: no state, any thread. */
#include "api/repo_rules.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* ---- name rules ---- */

int pd__repo_name_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int pd_repo_name_skipped(const char *s)
{
    return s[0] == '.' || pd__repo_name_has_suffix(s, "~") || pd__repo_name_has_suffix(s, ".tmp") || pd__repo_name_has_suffix(s, ".swp") ||
           pd__repo_name_has_suffix(s, ".part");
}

int pd_repo_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PD_REPO_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
            return 0;
    }
    return 1;
}

int pd_repo_name_is_settings(const char *s)
{
    return strcmp(s, PD_REPO_SETTINGS_FILE) == 0 || pd__repo_name_has_suffix(s, PD_REPO_SETTINGS_SUFFIX);
}

int pd_repo_settings_path(const pd_repo_entry_t *e, char *out, size_t n)
{
    int w;
    if (e->model != NULL) {
        w = snprintf(out, n, "%s/%s", e->model->dir, PD_REPO_SETTINGS_FILE);
    } else {
        const char *slash = strrchr(e->path, '/');
        const char *base = slash ? slash + 1 : e->path;
        const char *dot = strrchr(base, '.');
        size_t stem = dot && dot > base ? (size_t)(dot - base) : strlen(base);
        w = snprintf(out, n, "%.*s%.*s%s", (int)(base - e->path), e->path, (int)stem, base,
                     PD_REPO_SETTINGS_SUFFIX);
    }
    return w < 0 || (size_t)w >= n ? PD_ETOOBIG : 0;
}

int pd_repo_version_parse(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > PD_REPO_VERSION_DIGITS || s[0] == '0')
        return PD_EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return PD_EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot overflow 64 bits */
    }
    if (v > (uint64_t)PD_REPO_VERSION_MAX)
        return PD_EINVAL;
    *out = v;
    return 0;
}

int pd_repo_identity_equal(const pd_repo_identity_t *a, const pd_repo_identity_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* ---- settings.json and version_policy ---- */

void pd__repo_policy_free(pd_repo_policy_t *p)
{
    free(p->versions);
    memset(p, 0, sizeof *p);
}

/* A JSON integer in 1..PD_REPO_VERSION_MAX (json_int_t is long long: the top is implied). */
static int json_version(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return PD_EINVAL;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Triton's short form X or long form {"key": X}: returns X, or NULL when val is an object
 * other than exactly {"key": ...}. */
static json_t *unwrap(json_t *val, const char *key)
{
    if (!json_is_object(val))
        return val;
    return json_object_size(val) == 1 ? json_object_get(val, key) : NULL;
}

static int parse_specific(json_t *val, pd_repo_policy_t *p, char *msg, size_t len)
{
    json_t *arr = unwrap(val, "versions");
    const char *what = json_is_object(val) ? "version_policy.specific.versions"
                                           : "version_policy.specific";
    size_t n = json_array_size(arr), w = 0;
    if (!json_is_array(arr) || n == 0 || n > PD_REPO_MAX_SPECIFIC) {
        snprintf(msg, len, "%s must be an array of 1..%d version numbers", what,
                 PD_REPO_MAX_SPECIFIC);
        return PD_EFORMAT;
    }
    if ((p->versions = malloc(n * sizeof *p->versions)) == NULL)
        return PD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (json_version(json_array_get(arr, i), &p->versions[i]) < 0) {
            snprintf(msg, len, "%s[%zu] must be an integer >= 1", what, i);
            return PD_EFORMAT;
        }
    }
    qsort(p->versions, n, sizeof *p->versions, cmp_u64); /* n >= 1 */
    for (size_t i = 0; i < n; i++)
        if (w == 0 || p->versions[w - 1] != p->versions[i])
            p->versions[w++] = p->versions[i];
    p->n_versions = w;
    p->kind = PD_REPO_POLICY_SPECIFIC;
    return 0;
}

/* Parses Triton's version_policy object into p (which starts as ALL). Returns 0,
 * PD_ENOMEM, or PD_EFORMAT with the reason in msg. */
static int parse_policy(json_t *vp, pd_repo_policy_t *p, char *msg, size_t len)
{
    if (!json_is_object(vp) || json_object_size(vp) != 1) {
        snprintf(msg, len, "version_policy must be an object with one member: latest, "
                           "specific or all");
        return PD_EFORMAT;
    }
    const char *key = json_object_iter_key(json_object_iter(vp));
    json_t *val = json_object_iter_value(json_object_iter(vp));
    if (strcmp(key, "specific") == 0)
        return parse_specific(val, p, msg, len);
    if (strcmp(key, "latest") == 0) {
        if (json_version(unwrap(val, "num_versions"), &p->latest) < 0) {
            snprintf(msg, len, "version_policy.latest%s must be an integer >= 1",
                     json_is_object(val) ? ".num_versions" : "");
            return PD_EFORMAT;
        }
        p->kind = PD_REPO_POLICY_LATEST;
        return 0;
    }
    if (strcmp(key, "all") == 0 && json_is_object(val) && json_object_size(val) == 0)
        return 0;
    if (strcmp(key, "all") == 0)
        snprintf(msg, len, "version_policy.all must be {}");
    else
        snprintf(msg, len, "version_policy: unknown policy '%.64s' (latest, specific or all)",
                 key);
    return PD_EFORMAT;
}

int pd__repo_settings_parse(const char *text, size_t len, pd_repo_policy_t *p, char *msg,
                            size_t msglen)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc = PD_EFORMAT;
    if (root == NULL)
        snprintf(msg, msglen, "line %d: %s", jerr.line, jerr.text);
    else if (!json_is_object(root))
        snprintf(msg, msglen, "must be a JSON object");
    else if (json_object_get(root, "version_policy") == NULL)
        rc = 0;
    else
        rc = parse_policy(json_object_get(root, "version_policy"), p, msg, msglen);
    json_decref(root);
    return rc;
}
