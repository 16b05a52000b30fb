/* repo_scan.c - walks the model paths into a pd_repo_scan_t (see repo_scan.h).
 *
 * Owns nothing between calls: every call builds a fresh result through a scan_ctx_t on its
 * own stack, so concurrent scans share nothing. Depth is fixed by the layout
 * (PATH/name/N/file, never recursive); a directory read stops at PD_REPO_MAX_DIR_NAMES
 * names, a content check reads PD_REPO_SNIFF_BYTES, settings.json is read up to
 * PD_REPO_SETTINGS_MAX_BYTES. Out of memory and "more than max_entries" are remembered in
 * the context and end the walk (stopped()); every other problem becomes an issue. */
#include "api/repo_scan.h"
#include "api/repo_fs.h"
#include "api/repo_rules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#define MSG_MAX 512   /* bytes of one issue message */

typedef struct scan_ctx_s {
    pd_repo_scan_t *s;
    size_t cap_entries, cap_models, cap_issues;
    size_t max_entries;
    size_t root; /* index of the PATH being scanned */
    int nomem;   /* an allocation failed: the result is discarded */
    int full;    /* more than max_entries entries */
} scan_ctx_t;

/* A version of one model folder before its policy is applied. */
typedef struct found_s {
    uint64_t version;
    char *path; /* owned */
    pd_repo_identity_t id;
} found_t;

static int stopped(const scan_ctx_t *c)
{
    return c->nomem || c->full;
}

static void issue(scan_ctx_t *c, int is_error, int root_failed, const char *path,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void issue(scan_ctx_t *c, int is_error, int root_failed, const char *path,
                  const char *fmt, ...)
{
    pd_repo_scan_t *s = c->s;
    if (s->n_issues >= PD_REPO_MAX_ISSUES) {
        s->n_issues_dropped++;
        return;
    }
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (pd__repo_grow((void **)&s->issues, &c->cap_issues, s->n_issues, sizeof *s->issues) < 0) {
        c->nomem = 1;
        return;
    }
    pd_repo_issue_t *is = &s->issues[s->n_issues];
    *is = (pd_repo_issue_t){is_error, strdup(path), strdup(msg), c->root, root_failed};
    if (is->path == NULL || is->message == NULL) {
        free(is->path);
        free(is->message);
        c->nomem = 1;
        return;
    }
    s->n_issues++;
}

/* ---- directories and files ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Finds the model file of a folder (a version folder or an unversioned model folder):
 * the first regular file among names (sorted) recognised by content, never settings.
 * Warns when there are several. Returns 1 with path/id set, or 0 when there is none. */
static int find_model_file(scan_ctx_t *c, const char *dir, char **names, size_t n,
                           char path[PATH_MAX], pd_repo_identity_t *id)
{
    char p[PATH_MAX], eb[PD_REPO_ERRSTR_MAX];
    size_t found = 0;
    for (size_t i = 0; i < n && !stopped(c); i++) {
        struct stat st;
        pd_repo_identity_t pid;
        int eno = 0;
        if (pd_repo_name_is_settings(names[i]) || pd__repo_join(p, dir, names[i]) < 0 ||
            stat(p, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        int rc = pd__repo_sniff(p, &pid, &eno);
        if (rc < 0 && eno != 0 && eno != ENOENT)
            issue(c, 0, 0, p, "cannot read: %s", pd__repo_errstr(eno, eb, sizeof eb));
        if (rc == 1 && found++ == 0) {
            memcpy(path, p, sizeof p);
            *id = pid;
        }
    }
    if (found > 1)
        issue(c, 0, 0, dir, "%zu model files; using %s", found, path);
    return found > 0;
}

/* Reads a model folder's settings.json (bounded) into p. Returns 0, or a negative code
 * after recording an error issue naming the file (or setting nomem); p is then ALL. */
static int read_settings(scan_ctx_t *c, const char *path, pd_repo_policy_t *p)
{
    char msg[MSG_MAX] = "", eb[PD_REPO_ERRSTR_MAX];
    pd_repo_identity_t id;
    int eno = 0, rc = PD_EFORMAT;
    char *buf = malloc(PD_REPO_SETTINGS_MAX_BYTES + 1);
    ssize_t n = buf ? pd__repo_read_head(path, buf, PD_REPO_SETTINGS_MAX_BYTES + 1, &id, &eno) : 0;
    if (buf == NULL)
        rc = PD_ENOMEM;
    else if (n < 0)
        snprintf(msg, sizeof msg, "%s", eno ? pd__repo_errstr(eno, eb, sizeof eb) : "not a regular file");
    else if (n > PD_REPO_SETTINGS_MAX_BYTES)
        snprintf(msg, sizeof msg, "over %d bytes", PD_REPO_SETTINGS_MAX_BYTES);
    else
        rc = pd__repo_settings_parse(buf, (size_t)n, p, msg, sizeof msg);
    free(buf);
    if (rc == PD_ENOMEM)
        c->nomem = 1;
    else if (rc < 0)
        issue(c, 1, 0, path, "%s", msg);
    if (rc < 0)
        pd__repo_policy_free(p);
    return rc;
}

/* ---- the walk ---- */

static int push_entry(scan_ctx_t *c, const char *name, uint64_t version, const char *path,
                      const pd_repo_identity_t *id)
{
    pd_repo_scan_t *s = c->s;
    if (s->n_entries >= c->max_entries) {
        c->full = 1;
        return PD_ETOOBIG;
    }
    if (pd__repo_grow((void **)&s->entries, &c->cap_entries, s->n_entries, sizeof *s->entries) < 0) {
        c->nomem = 1;
        return PD_ENOMEM;
    }
    pd_repo_entry_t *e = &s->entries[s->n_entries];
    *e = (pd_repo_entry_t){strdup(name), version, strdup(path), *id, c->root, NULL, {0}};
    if (e->name == NULL || e->path == NULL) {
        free(e->name);
        free(e->path);
        c->nomem = 1;
        return PD_ENOMEM;
    }
    s->n_entries++;
    return 0;
}

static int cmp_found(const void *a, const void *b)
{
    return cmp_u64(&((const found_t *)a)->version, &((const found_t *)b)->version);
}

/* Pushes the versions f[0, nf) (ascending) that the policy of model m selects. */
static void apply_policy(scan_ctx_t *c, pd_repo_model_t *m, const found_t *f, size_t nf)
{
    const pd_repo_policy_t *p = &m->policy;
    size_t from = 0, j = 0;
    if (!m->versioned && p->kind != PD_REPO_POLICY_ALL)
        issue(c, 0, 0, m->dir, "version_policy ignored: the model has no version folders");
    if (m->versioned && p->kind == PD_REPO_POLICY_LATEST && p->latest < nf)
        from = nf - (size_t)p->latest;
    for (size_t i = from; i < nf && !stopped(c); i++) {
        if (m->versioned && p->kind == PD_REPO_POLICY_SPECIFIC) {
            while (j < p->n_versions && p->versions[j] < f[i].version)
                j++;
            if (j == p->n_versions || p->versions[j] != f[i].version)
                continue;
        }
        if (push_entry(c, m->name, f[i].version, f[i].path, &f[i].id) == 0)
            m->n_selected++;
    }
    if (m->versioned && p->kind == PD_REPO_POLICY_SPECIFIC && m->n_selected < p->n_versions)
        issue(c, 0, 0, m->dir, "version_policy.specific: %zu of the %zu versions listed have "
              "no version folder with a model file", p->n_versions - m->n_selected,
              p->n_versions);
}

static void add_found(scan_ctx_t *c, found_t **f, size_t *nf, size_t *cap, uint64_t version,
                      const char *path, const pd_repo_identity_t *id)
{
    if (pd__repo_grow((void **)f, cap, *nf, sizeof **f) < 0 || ((*f)[*nf].path = strdup(path)) == NULL) {
        c->nomem = 1;
        return;
    }
    (*f)[*nf].version = version;
    (*f)[(*nf)++].id = *id;
}

/* Collects the model files of model m: one per numbered version folder (m->versioned),
 * else the one file of the folder (version 0). names: m->dir's sorted children. Sets
 * m->failed when a version folder cannot be read. */
static void collect(scan_ctx_t *c, pd_repo_model_t *m, char **names, size_t n, found_t **f,
                    size_t *nf)
{
    char p[PATH_MAX], file[PATH_MAX], msg[MSG_MAX];
    size_t cap = 0, vn;
    char **vnames;
    pd_repo_identity_t id;
    for (size_t i = 0; i < n && !stopped(c) && !m->failed; i++) {
        struct stat st;
        uint64_t v;
        if (pd__repo_join(p, m->dir, names[i]) < 0 || stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (pd_repo_version_parse(names[i], &v) < 0) {
            issue(c, 0, 0, p, "ignored: a version folder is named 1..%lld without leading "
                  "zeros", (long long)PD_REPO_VERSION_MAX);
            continue;
        }
        m->versioned = 1;
        int rc = pd__repo_list_dir(p, &vnames, &vn, msg, sizeof msg);
        c->nomem |= rc == PD_ENOMEM;
        m->failed = rc < 0;
        if (rc < 0 && rc != PD_ENOMEM)
            issue(c, 1, 0, p, "%s", msg);
        else if (rc == 0 && find_model_file(c, p, vnames, vn, file, &id))
            add_found(c, f, nf, &cap, v, file, &id);
        else if (rc == 0)
            issue(c, 0, 0, p, "no model file (version skipped)");
        pd__repo_free_names(vnames, vn);
    }
    if (m->failed || stopped(c))
        return;
    if (!m->versioned && find_model_file(c, m->dir, names, n, file, &id))
        add_found(c, f, nf, &cap, 0, file, &id);
    else if (*nf == 0)
        issue(c, 1, 0, m->dir, m->versioned ? "no version folder holds a model file"
                                            : "no model file");
}

/* Scans the model folder dir (its name valid and unique): settings, versions, policy. */
static void scan_model(scan_ctx_t *c, const char *dir, const char *name)
{
    char msg[MSG_MAX], p[PATH_MAX];
    const char *key = PD_REPO_SETTINGS_FILE;
    pd_repo_scan_t *s = c->s;
    char **names;
    size_t n, nf = 0;
    found_t *f = NULL;
    if (pd__repo_grow((void **)&s->models, &c->cap_models, s->n_models, sizeof *s->models) < 0) {
        c->nomem = 1;
        return;
    }
    pd_repo_model_t *m = &s->models[s->n_models++]; /* stable: models grow only here */
    *m = (pd_repo_model_t){.name = strdup(name), .dir = strdup(dir), .root = c->root};
    if (m->name == NULL || m->dir == NULL) {
        c->nomem = 1;
        return;
    }
    int rc = pd__repo_list_dir(dir, &names, &n, msg, sizeof msg);
    c->nomem |= rc == PD_ENOMEM;
    m->failed = rc < 0;
    if (rc < 0) {
        if (rc != PD_ENOMEM)
            issue(c, 1, 0, dir, "%s", msg);
        return;
    }
    if (n > 0 && bsearch(&key, names, n, sizeof *names, pd__repo_cmp_str) != NULL &&
        (pd__repo_join(p, dir, key) < 0 || read_settings(c, p, &m->policy) < 0))
        m->failed = 1;
    if (!m->failed)
        collect(c, m, names, n, &f, &nf);
    if (!m->failed && !stopped(c)) {
        pd__repo_sort(f, nf, sizeof *f, cmp_found);
        m->n_found = nf;
        apply_policy(c, m, f, nf);
    }
    if (m->failed)
        pd__repo_policy_free(&m->policy);
    for (size_t i = 0; i < nf; i++)
        free(f[i].path);
    free(f);
    pd__repo_free_names(names, n);
}

/* A child of a repository: a model folder (valid, not yet taken name), a loose model file
 * (by content), or nothing. */
static void scan_child(scan_ctx_t *c, const char *path, const char *name)
{
    char eb[PD_REPO_ERRSTR_MAX];
    struct stat st;
    pd_repo_identity_t id;
    int eno = 0;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT) /* else removed since readdir, or a dangling link */
            issue(c, 0, 0, path, "%s", pd__repo_errstr(errno, eb, sizeof eb));
    } else if (S_ISDIR(st.st_mode)) {
        for (size_t i = 0; i < c->s->n_models; i++) {
            if (strcmp(c->s->models[i].name, name) == 0) {
                issue(c, 1, 0, path, "ignored: %s has the same name", c->s->models[i].dir);
                return;
            }
        }
        if (pd_repo_name_valid(name))
            scan_model(c, path, name);
        else
            issue(c, 1, 0, path, "not a valid model name (1..%d characters of "
                  "[A-Za-z0-9_.-])", PD_REPO_NAME_MAX);
    } else if (S_ISREG(st.st_mode)) {
        int rc = pd__repo_sniff(path, &id, &eno);
        if (rc == 1)
            push_entry(c, "", 0, path, &id);
        else if (rc < 0 && eno != 0 && eno != ENOENT)
            issue(c, 0, 0, path, "cannot read: %s", pd__repo_errstr(eno, eb, sizeof eb));
        else if (rc == 0 && (pd__repo_name_has_suffix(name, ".json") ||
                             pd__repo_name_has_suffix(name, ".ubj")))
            issue(c, 0, 0, path, "ignored: not a model file (its content does not start "
                  "with '{')");
    }
}

/* One PATH of the command line: a model file, or a repository. */
static void scan_root(scan_ctx_t *c, const char *path)
{
    char eb[PD_REPO_ERRSTR_MAX], msg[MSG_MAX], p[PATH_MAX];
    struct stat st;
    pd_repo_identity_t id;
    char **names;
    size_t n;
    if (stat(path, &st) != 0) {
        issue(c, 1, 1, path, "%s", pd__repo_errstr(errno, eb, sizeof eb));
        return;
    }
    if (S_ISREG(st.st_mode)) {
        pd__repo_identity_of(&st, &id);
        push_entry(c, "", 0, path, &id);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        issue(c, 1, 1, path, "not a regular file or a directory");
        return;
    }
    int rc = pd__repo_list_dir(path, &names, &n, msg, sizeof msg);
    c->nomem |= rc == PD_ENOMEM;
    if (rc < 0 && rc != PD_ENOMEM)
        issue(c, 1, 1, path, "%s", msg);
    for (size_t i = 0; rc == 0 && i < n && !stopped(c); i++) {
        if (pd_repo_name_is_settings(names[i]))
            continue;
        if (pd__repo_join(p, path, names[i]) == 0)
            scan_child(c, p, names[i]);
        else
            issue(c, 0, 0, path, "ignored %.64s...: path too long", names[i]);
    }
    pd__repo_free_names(names, n);
}

/* ---- results ---- */

static void clear_results(pd_repo_scan_t *s, int issues_too)
{
    for (size_t i = 0; issues_too && i < s->n_issues; i++) {
        free(s->issues[i].path);
        free(s->issues[i].message);
    }
    if (issues_too)
        s->n_issues = s->n_issues_dropped = 0;
    for (size_t i = 0; i < s->n_entries; i++) {
        free(s->entries[i].name);
        free(s->entries[i].path);
    }
    for (size_t i = 0; i < s->n_models; i++) {
        free(s->models[i].name);
        free(s->models[i].dir);
        pd__repo_policy_free(&s->models[i].policy);
    }
    free(s->entries);
    free(s->models);
    s->entries = NULL;
    s->models = NULL;
    s->n_entries = s->n_models = 0;
}

void pd_repo_scan_free(pd_repo_scan_t *s)
{
    if (s == NULL)
        return;
    clear_results(s, 1);
    free(s->issues);
    free(s);
}

static int cmp_key(const char *name, uint64_t version, const pd_repo_entry_t *e)
{
    int r = strcmp(name, e->name);
    return r != 0 ? r : cmp_u64(&version, &e->version);
}

static int cmp_entry(const void *a, const void *b)
{
    const pd_repo_entry_t *x = a, *y = b;
    int r = cmp_key(x->name, x->version, y);
    return r != 0 ? r : strcmp(x->path, y->path);
}

static int cmp_model(const void *a, const void *b)
{
    return strcmp(((const pd_repo_model_t *)a)->name, ((const pd_repo_model_t *)b)->name);
}

const pd_repo_model_t *pd_repo_scan_model(const pd_repo_scan_t *s, const char *name)
{
    pd_repo_model_t key = {.name = (char *)name};
    if (s->n_models == 0)
        return NULL;
    return bsearch(&key, s->models, s->n_models, sizeof *s->models, cmp_model);
}

const pd_repo_entry_t *pd_repo_scan_find(const pd_repo_scan_t *s, const char *name,
                                         uint64_t version)
{
    size_t lo = 0, hi = s->n_entries; /* the first entry >= (name, version) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_key(name, version, &s->entries[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n_entries && cmp_key(name, version, &s->entries[lo]) == 0)
        return &s->entries[lo];
    return NULL;
}

/* Each entry's settings file identity (zero when it has none). */
static void settings_identities(pd_repo_scan_t *s)
{
    char p[PATH_MAX];
    struct stat st;
    for (size_t i = 0; i < s->n_entries; i++)
        if (pd_repo_settings_path(&s->entries[i], p, sizeof p) == 0 && stat(p, &st) == 0 &&
            S_ISREG(st.st_mode))
            pd__repo_identity_of(&st, &s->entries[i].settings_id);
}

int pd_repo_scan(const char *const *paths, size_t n_paths, size_t max_entries,
                 pd_repo_scan_t **out)
{
    if (out == NULL)
        return PD_EINVAL;
    *out = NULL;
    if (paths == NULL || n_paths == 0 || n_paths > PD_REPO_MAX_PATHS || max_entries == 0 ||
        max_entries > PD_REPO_MAX_ENTRIES_LIMIT)
        return PD_EINVAL;
    for (size_t i = 0; i < n_paths; i++)
        if (paths[i] == NULL || paths[i][0] == '\0' || strlen(paths[i]) >= PATH_MAX)
            return PD_EINVAL;
    scan_ctx_t c = {.max_entries = max_entries};
    if ((c.s = calloc(1, sizeof *c.s)) == NULL)
        return PD_ENOMEM;
    for (c.root = 0; c.root < n_paths && !stopped(&c); c.root++)
        scan_root(&c, paths[c.root]);
    int rc = 0;
    if (c.full && !c.nomem) { /* one error instead of a partial list */
        c.root--;
        clear_results(c.s, 1);
        issue(&c, 1, 0, paths[c.root], "more than %zu model versions (max_entries); nothing "
              "was returned", max_entries);
        rc = PD_ETOOBIG;
    }
    if (c.nomem) {
        pd_repo_scan_free(c.s);
        return PD_ENOMEM;
    }
    pd_repo_scan_t *s = c.s;
    pd__repo_sort(s->models, s->n_models, sizeof *s->models, cmp_model);
    pd__repo_sort(s->entries, s->n_entries, sizeof *s->entries, cmp_entry);
    for (size_t i = 0; i < s->n_entries; i++)
        if (s->entries[i].name[0] != '\0')
            s->entries[i].model = pd_repo_scan_model(s, s->entries[i].name);
    settings_identities(s);
    *out = s;
    return rc;
}
