/* test_api_repo_scan.c - pd_repo_scan() on repositories built in a mkdtemp directory:
 * every layout (loose files, model folders, version folders), recognition by content,
 * skipped hidden/temp names, settings.json never a model, bad names, version policies and
 * malformed settings, identity after an atomic rename and an in-place rewrite, the
 * max_entries and per-folder bounds, and bad arguments. Each test removes its directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/repo_scan.h"
#include "common.h"

#define MODEL "{\"format\": \"predictd-model\"}\n"

static char g_root[PATH_MAX];

static const char *at(const char *rel)
{
    static char buf[4][PATH_MAX];
    static int k;
    char *b = buf[k++ % 4];
    size_t n = strlen(g_root), m = strlen(rel);
    assert_true(n + 1 + m < PATH_MAX);
    memcpy(b, g_root, n);
    b[n] = '/';
    memcpy(b + n + 1, rel, m + 1);
    return b;
}

/* mkdir -p of rel's parent folders (and rel itself when dir). */
static void mkdirs(const char *rel, int dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", at(rel));
    size_t base = strlen(g_root) + 1;
    for (char *s = p + base; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
            *s = '/';
        }
    }
    if (dir)
        assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

static void put_bytes(const char *rel, const void *data, size_t n)
{
    mkdirs(rel, 0);
    FILE *f = fopen(at(rel), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void put(const char *rel, const char *text)
{
    put_bytes(rel, text, strlen(text));
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_root, sizeof g_root, "/tmp/pd_repo_scan_XXXXXX");
    return mkdtemp(g_root) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(g_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static pd_repo_scan_t *scan_paths(const char *const *paths, size_t n)
{
    pd_repo_scan_t *s = NULL;
    assert_int_equal(pd_repo_scan(paths, n, 1000, &s), 0);
    assert_non_null(s);
    return s;
}

static pd_repo_scan_t *scan_root(void)
{
    const char *paths[] = {g_root};
    return scan_paths(paths, 1);
}

/* The issue about a path ending in path_suffix whose message holds `text`, or NULL. */
static const pd_repo_issue_t *find_issue(const pd_repo_scan_t *s, const char *path_suffix,
                                         const char *text)
{
    for (size_t i = 0; i < s->n_issues; i++) {
        const pd_repo_issue_t *is = &s->issues[i];
        size_t n = strlen(is->path), m = strlen(path_suffix);
        if (n >= m && strcmp(is->path + n - m, path_suffix) == 0 &&
            strstr(is->message, text) != NULL)
            return is;
    }
    return NULL;
}

static void expect_issue(const pd_repo_scan_t *s, const char *path_suffix, const char *text,
                         int is_error)
{
    const pd_repo_issue_t *is = find_issue(s, path_suffix, text);
    if (is == NULL) {
        for (size_t i = 0; i < s->n_issues; i++)
            print_message("issue: %s: %s\n", s->issues[i].path, s->issues[i].message);
        fail_msg("no issue for *%s containing '%s'", path_suffix, text);
    }
    assert_int_equal(is->is_error, is_error);
}

static void expect_entry(const pd_repo_entry_t *e, const char *name, uint64_t version,
                         const char *rel)
{
    assert_non_null(e);
    assert_string_equal(e->name, name);
    assert_int_equal(e->version, version);
    assert_string_equal(e->path, at(rel));
}

static void test_layouts(void **state)
{
    (void)state;
    const unsigned char ubj[] = {'{', 'i', 4, 'n', 'a', 'm', 'e', 'S', 'i', 1, 'x', '}'};
    put("loose.json", MODEL);
    put("noext", " \n\t{\"format\": \"predictd-model\"}");
    put_bytes("model.ubj", ubj, sizeof ubj);
    put("notes.txt", "hello");
    put("list.json", "[1, 2]");
    put("settings.json", MODEL);
    put("iris.settings.json", MODEL);
    put(".hidden.json", MODEL);
    put("a.json~", MODEL);
    put("b.json.tmp", MODEL);
    put("c.json.swp", MODEL);
    put("d.json.part", MODEL);
    put(".git/HEAD", MODEL);
    put("vers/1/model.json", MODEL);
    put("vers/2/m", MODEL);
    put("vers/2/README", "not a model");
    mkdirs("vers/3", 1);
    put("vers/abc/model.json", MODEL);
    put("vers/01/model.json", MODEL);
    put("vers/.5/model.json", MODEL);
    put("flat/model.json", MODEL);
    put("flat/settings.json", "{}");
    put("multi/2/b.json", MODEL);
    put("multi/2/a.json", MODEL);
    put("multi/2/settings.json", MODEL);
    mkdirs("empty", 1);
    put("bad name/model.json", MODEL);

    pd_repo_scan_t *s = scan_root();
    assert_int_equal(s->n_entries, 7);
    expect_entry(&s->entries[0], "", 0, "loose.json");
    expect_entry(&s->entries[1], "", 0, "model.ubj");
    expect_entry(&s->entries[2], "", 0, "noext");
    expect_entry(&s->entries[3], "flat", 0, "flat/model.json");
    expect_entry(&s->entries[4], "multi", 2, "multi/2/a.json");
    expect_entry(&s->entries[5], "vers", 1, "vers/1/model.json");
    expect_entry(&s->entries[6], "vers", 2, "vers/2/m");
    for (size_t i = 0; i < s->n_entries; i++)
        assert_int_equal(s->entries[i].root, 0);
    assert_null(s->entries[0].model);

    expect_entry(pd_repo_scan_find(s, "vers", 2), "vers", 2, "vers/2/m");
    expect_entry(pd_repo_scan_find(s, "", 0), "", 0, "loose.json");
    assert_null(pd_repo_scan_find(s, "vers", 3));
    assert_null(pd_repo_scan_find(s, "nope", 0));

    /* model folders: empty is listed (nothing to serve), "bad name" is not */
    assert_int_equal(s->n_models, 4);
    assert_string_equal(s->models[0].name, "empty");
    assert_string_equal(s->models[3].name, "vers");
    const pd_repo_model_t *m = pd_repo_scan_model(s, "vers");
    assert_ptr_equal(s->entries[5].model, m);
    assert_int_equal(m->versioned, 1);
    assert_int_equal(m->failed, 0);
    assert_int_equal(m->n_found, 2);
    assert_int_equal(m->n_selected, 2);
    assert_int_equal(m->policy.kind, PD_REPO_POLICY_ALL);
    assert_int_equal(pd_repo_scan_model(s, "flat")->versioned, 0);
    assert_null(pd_repo_scan_model(s, "bad name"));

    expect_issue(s, "/list.json", "not a model file", 0);
    expect_issue(s, "/vers/3", "no model file", 0);
    expect_issue(s, "/vers/abc", "ignored", 0);
    expect_issue(s, "/vers/01", "ignored", 0);
    expect_issue(s, "/multi/2", "2 model files; using", 0);
    expect_issue(s, "/empty", "no model file", 1);
    expect_issue(s, "/bad name", "not a valid model name", 1);
    assert_null(find_issue(s, "notes.txt", ""));
    assert_null(find_issue(s, ".git", ""));
    assert_null(find_issue(s, "settings.json", ""));
    assert_int_equal(s->n_issues, 7);
    pd_repo_scan_free(s);
}

/* A PATH that is a file is served whatever its name or content (the loader judges it);
 * a missing PATH is an error marked root_failed; the other PATHs are still scanned. */
static void test_file_paths(void **state)
{
    (void)state;
    put("one.bin", "binary?");
    put("repo/a/1/m.json", MODEL);
    const char *paths[] = {at("one.bin"), at("missing"), at("repo/")};
    pd_repo_scan_t *s = scan_paths(paths, 3);
    assert_int_equal(s->n_entries, 2);
    expect_entry(&s->entries[0], "", 0, "one.bin");
    assert_int_equal(s->entries[0].root, 0);
    expect_entry(&s->entries[1], "a", 1, "repo/a/1/m.json"); /* trailing '/' dropped */
    assert_int_equal(s->entries[1].root, 2);
    const pd_repo_issue_t *is = find_issue(s, "/missing", "No such file");
    assert_non_null(is);
    assert_int_equal(is->is_error, 1);
    assert_int_equal(is->root_failed, 1);
    assert_int_equal(is->root, 1);
    assert_int_equal(s->n_issues, 1);
    pd_repo_scan_free(s);
}

static void versions(const char *model, int n)
{
    char rel[256];
    for (int v = 1; v <= n; v++) {
        snprintf(rel, sizeof rel, "%s/%d/model.json", model, v);
        put(rel, MODEL);
    }
}

static void expect_versions(const pd_repo_scan_t *s, const char *model, const uint64_t *want,
                            size_t n)
{
    const pd_repo_model_t *m = pd_repo_scan_model(s, model);
    assert_non_null(m);
    assert_int_equal(m->failed, 0);
    assert_int_equal(m->n_selected, n);
    const pd_repo_entry_t *e = pd_repo_scan_find(s, model, want[0]);
    for (size_t i = 0; i < n; i++, e++) {
        assert_non_null(e);
        assert_string_equal(e->name, model);
        assert_int_equal(e->version, want[i]);
        assert_ptr_equal(e->model, m);
    }
}

static void test_policies(void **state)
{
    (void)state;
    versions("lat", 4);
    put("lat/settings.json", "{\"version_policy\": {\"latest\": {\"num_versions\": 2}}}");
    versions("lat1", 4);
    put("lat1/settings.json", "{\"version_policy\": {\"latest\": 1}, \"other\": [1]}");
    versions("latbig", 2);
    put("latbig/settings.json", "{\"version_policy\": {\"latest\": 9}}");
    versions("spec", 4);
    put("spec/settings.json", "{\"version_policy\": {\"specific\": {\"versions\": [3, 1, 9, 3]}}}");
    versions("spec2", 3);
    put("spec2/settings.json", "{\"version_policy\": {\"specific\": [2]}}");
    versions("all", 3);
    put("all/settings.json", "{\"version_policy\": {\"all\": {}}}");
    versions("none", 2);
    put("none/settings.json", "{\"max_batch\": 8}");
    versions("plain", 2);
    put("flat/m.json", MODEL);
    put("flat/settings.json", "{\"version_policy\": {\"latest\": 1}}");
    /* version numbers are compared as numbers: 10 is the latest, not 9 */
    put("num/9/m.json", MODEL);
    put("num/10/m.json", MODEL);
    put("num/settings.json", "{\"version_policy\": {\"latest\": 1}}");
    put("big/9223372036854775807/m.json", MODEL);
    put("big/9223372036854775808/m.json", MODEL);

    pd_repo_scan_t *s = scan_root();
    expect_versions(s, "lat", (uint64_t[]){3, 4}, 2);
    assert_int_equal(pd_repo_scan_model(s, "lat")->policy.kind, PD_REPO_POLICY_LATEST);
    assert_int_equal(pd_repo_scan_model(s, "lat")->policy.latest, 2);
    assert_int_equal(pd_repo_scan_model(s, "lat")->n_found, 4);
    expect_versions(s, "lat1", (uint64_t[]){4}, 1);
    expect_versions(s, "latbig", (uint64_t[]){1, 2}, 2);
    expect_versions(s, "spec", (uint64_t[]){1, 3}, 2);
    const pd_repo_policy_t *p = &pd_repo_scan_model(s, "spec")->policy;
    assert_int_equal(p->kind, PD_REPO_POLICY_SPECIFIC);
    assert_int_equal(p->n_versions, 3); /* sorted, unique */
    assert_int_equal(p->versions[0], 1);
    assert_int_equal(p->versions[2], 9);
    expect_issue(s, "/spec", "1 of the 3 versions listed", 0);
    expect_versions(s, "spec2", (uint64_t[]){2}, 1);
    expect_versions(s, "all", (uint64_t[]){1, 2, 3}, 3);
    expect_versions(s, "none", (uint64_t[]){1, 2}, 2);
    expect_versions(s, "plain", (uint64_t[]){1, 2}, 2);
    expect_versions(s, "flat", (uint64_t[]){0}, 1);
    expect_issue(s, "/flat", "version_policy ignored", 0);
    expect_versions(s, "num", (uint64_t[]){10}, 1);
    expect_versions(s, "big", (uint64_t[]){INT64_MAX}, 1);
    expect_issue(s, "/big/9223372036854775808", "ignored", 0);
    pd_repo_scan_free(s);
}

static void test_bad_settings(void **state)
{
    (void)state;
    static const struct {
        const char *settings, *text;
    } cases[] = {
        {"{\"version_policy\": {\"latest\": 0}}", "version_policy.latest must be an integer >= 1"},
        {"{\"version_policy\": {\"latest\": 1.0}}", "version_policy.latest must be an integer"},
        {"{\"version_policy\": {\"latest\": {\"num_versions\": \"2\"}}}",
         "version_policy.latest.num_versions must be an integer >= 1"},
        {"{\"version_policy\": {\"latest\": {\"n\": 2}}}", "latest.num_versions must be"},
        {"{\"version_policy\": {\"specific\": []}}", "version_policy.specific must be an array"},
        {"{\"version_policy\": {\"specific\": {\"versions\": [1, -2]}}}",
         "version_policy.specific.versions[1] must be an integer >= 1"},
        {"{\"version_policy\": {\"specific\": 3}}", "version_policy.specific must be an array"},
        {"{\"version_policy\": {\"all\": {\"x\": 1}}}", "version_policy.all must be {}"},
        {"{\"version_policy\": {\"all\": true}}", "version_policy.all must be {}"},
        {"{\"version_policy\": {\"newest\": 1}}", "unknown policy 'newest'"},
        {"{\"version_policy\": {\"latest\": 1, \"all\": {}}}", "one member"},
        {"{\"version_policy\": [1]}", "one member"},
        {"{\"version_policy\": {}}", "one member"},
        {"not json", "line 1"},
        {"[1]", "must be a JSON object"},
        {"{\"a\": 1, \"a\": 2}", "duplicate"},
    };
    char rel[256];
    for (size_t i = 0; i < PD_ARRAY_SIZE(cases); i++) {
        snprintf(rel, sizeof rel, "m%zu/1/model.json", i);
        put(rel, MODEL);
        snprintf(rel, sizeof rel, "m%zu/settings.json", i);
        put(rel, cases[i].settings);
    }
    char *big = malloc(PD_REPO_SETTINGS_MAX_BYTES + 2);
    assert_non_null(big);
    memset(big, ' ', PD_REPO_SETTINGS_MAX_BYTES + 1);
    big[0] = '{';
    big[PD_REPO_SETTINGS_MAX_BYTES] = '}';
    big[PD_REPO_SETTINGS_MAX_BYTES + 1] = '\0';
    put("huge/1/model.json", MODEL);
    put("huge/settings.json", big);
    big[PD_REPO_SETTINGS_MAX_BYTES - 1] = '}'; /* exactly the limit: accepted */
    big[PD_REPO_SETTINGS_MAX_BYTES] = '\0';
    put("limit/1/model.json", MODEL);
    put("limit/settings.json", big);
    free(big);
    mkdirs("dirsettings/settings.json", 1);
    put("dirsettings/1/m.json", MODEL);

    pd_repo_scan_t *s = scan_root();
    for (size_t i = 0; i < PD_ARRAY_SIZE(cases); i++) {
        snprintf(rel, sizeof rel, "/m%zu/settings.json", i);
        expect_issue(s, rel, cases[i].text, 1);
        snprintf(rel, sizeof rel, "m%zu", i);
        const pd_repo_model_t *m = pd_repo_scan_model(s, rel);
        assert_non_null(m);
        assert_int_equal(m->failed, 1);
        assert_int_equal(m->n_selected, 0);
        assert_int_equal(m->policy.kind, PD_REPO_POLICY_ALL);
        assert_null(pd_repo_scan_find(s, rel, 1));
    }
    expect_issue(s, "/huge/settings.json", "over 65536 bytes", 1);
    assert_int_equal(pd_repo_scan_model(s, "huge")->failed, 1);
    expect_versions(s, "limit", (uint64_t[]){1}, 1);
    expect_issue(s, "/dirsettings/settings.json", "not a regular file", 1);
    assert_int_equal(s->n_entries, 1);
    pd_repo_scan_free(s);
}

static void test_identity(void **state)
{
    (void)state;
    put("a/1/model.json", MODEL);
    put("loose.json", MODEL);
    assert_int_equal(symlink(at("loose.json"), at("link.json")), 0);
    pd_repo_scan_t *s1 = scan_root(), *s2 = scan_root();
    const pd_repo_entry_t *e1 = pd_repo_scan_find(s1, "a", 1);
    assert_true(pd_repo_identity_equal(&e1->id, &pd_repo_scan_find(s2, "a", 1)->id));
    struct stat st;
    assert_int_equal(stat(at("a/1/model.json"), &st), 0);
    assert_int_equal(e1->id.ino, st.st_ino);
    assert_int_equal(e1->id.size, strlen(MODEL));
    /* the link is an entry of its own with its target's identity */
    assert_int_equal(s1->n_entries, 3);
    assert_true(pd_repo_identity_equal(&s1->entries[0].id, &s1->entries[1].id));

    /* atomic rename of a copy with the same size and mtime (cp -p, rsync -a): only the
     * inode tells */
    put("a/1/.model.json.tmp", MODEL);
    struct timespec same[2] = {st.st_atim, st.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, at("a/1/.model.json.tmp"), same, 0), 0);
    assert_int_equal(rename(at("a/1/.model.json.tmp"), at("a/1/model.json")), 0);
    pd_repo_scan_t *s3 = scan_root();
    const pd_repo_entry_t *e3 = pd_repo_scan_find(s3, "a", 1);
    assert_int_not_equal(e3->id.ino, e1->id.ino);
    assert_int_equal(e3->id.mtime_ns, e1->id.mtime_ns);
    assert_false(pd_repo_identity_equal(&e1->id, &e3->id));

    /* in-place rewrite within one timestamp tick: same inode and mtime, new size */
    put("a/1/model.json", MODEL " ");
    assert_int_equal(utimensat(AT_FDCWD, at("a/1/model.json"), same, 0), 0);
    pd_repo_scan_t *s4 = scan_root();
    const pd_repo_entry_t *e4 = pd_repo_scan_find(s4, "a", 1);
    assert_int_equal(e4->id.ino, e3->id.ino);
    assert_int_equal(e4->id.mtime_ns, e3->id.mtime_ns);
    assert_false(pd_repo_identity_equal(&e3->id, &e4->id));

    /* in-place rewrite of the same size: only the mtime tells (set it apart explicitly) */
    int fd = open(at("a/1/model.json"), O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "{", 1, 0), 1);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1000000, 5}};
    assert_int_equal(futimens(fd, ts), 0);
    close(fd);
    pd_repo_scan_t *s5 = scan_root();
    const pd_repo_entry_t *e5 = pd_repo_scan_find(s5, "a", 1);
    assert_int_equal(e5->id.size, e4->id.size);
    assert_int_equal(e5->id.mtime_ns, 1000000 * 1000000000LL + 5);
    assert_false(pd_repo_identity_equal(&e4->id, &e5->id));
    pd_repo_scan_free(s1);
    pd_repo_scan_free(s2);
    pd_repo_scan_free(s3);
    pd_repo_scan_free(s4);
    pd_repo_scan_free(s5);
}

static void test_bounds(void **state)
{
    (void)state;
    versions("a", 3);
    put("b.json", MODEL);
    put("c/1/m.json", MODEL);
    const char *paths[] = {g_root};
    pd_repo_scan_t *s = NULL;
    assert_int_equal(pd_repo_scan(paths, 1, 5, &s), 0);
    assert_int_equal(s->n_entries, 5);
    pd_repo_scan_free(s);
    assert_int_equal(pd_repo_scan(paths, 1, 4, &s), PD_ETOOBIG);
    assert_non_null(s);
    assert_int_equal(s->n_entries, 0);
    assert_int_equal(s->n_models, 0);
    assert_int_equal(s->n_issues, 1);
    assert_int_equal(s->issues[0].is_error, 1);
    assert_non_null(strstr(s->issues[0].message, "more than 4 model versions"));
    pd_repo_scan_free(s);

    /* one folder with more names than a scan reads: the whole PATH failed */
    char rel[64];
    for (int i = 0; i <= PD_REPO_MAX_DIR_NAMES; i++) {
        snprintf(rel, sizeof rel, "many/f%d", i);
        put(rel, "");
    }
    const char *many[] = {at("many")};
    s = scan_paths(many, 1);
    assert_int_equal(s->n_entries, 0);
    expect_issue(s, "/many", "more than 4096 names", 1);
    assert_int_equal(s->issues[0].root_failed, 1);
    pd_repo_scan_free(s);

    /* a model name of 128 characters is valid, 129 is not */
    char name[PD_REPO_NAME_MAX + 2];
    memset(name, 'n', sizeof name);
    name[PD_REPO_NAME_MAX] = '\0';
    char longrel[PATH_MAX];
    snprintf(longrel, sizeof longrel, "long/%s/m.json", name);
    put(longrel, MODEL);
    name[PD_REPO_NAME_MAX] = 'n';
    name[PD_REPO_NAME_MAX + 1] = '\0';
    snprintf(longrel, sizeof longrel, "long/%s/m.json", name);
    put(longrel, MODEL);
    const char *lp[] = {at("long")};
    s = scan_paths(lp, 1);
    assert_int_equal(s->n_entries, 1);
    assert_int_equal(strlen(s->entries[0].name), PD_REPO_NAME_MAX);
    snprintf(longrel, sizeof longrel, "/%s", name);
    expect_issue(s, longrel, "not a valid model name", 1);
    pd_repo_scan_free(s);
}

/* Two repositories with a model folder of the same name: the first PATH wins. */
static void test_duplicate_models(void **state)
{
    (void)state;
    put("r1/a/1/m.json", MODEL);
    put("r2/a/2/m.json", MODEL);
    put("r2/b/m.json", MODEL);
    const char *paths[] = {at("r1"), at("r2")};
    pd_repo_scan_t *s = scan_paths(paths, 2);
    assert_int_equal(s->n_entries, 2);
    expect_entry(&s->entries[0], "a", 1, "r1/a/1/m.json");
    expect_entry(&s->entries[1], "b", 0, "r2/b/m.json");
    assert_int_equal(s->entries[1].root, 1);
    const pd_repo_issue_t *is = find_issue(s, "/r2/a", "has the same name");
    assert_non_null(is);
    assert_int_equal(is->root, 1);
    pd_repo_scan_free(s);
}

static void test_bad_args(void **state)
{
    (void)state;
    pd_repo_scan_t *s = (pd_repo_scan_t *)&s;
    const char *paths[] = {g_root};
    const char *nullp[] = {NULL};
    const char *empty[] = {""};
    assert_int_equal(pd_repo_scan(paths, 1, 10, NULL), PD_EINVAL);
    assert_int_equal(pd_repo_scan(NULL, 1, 10, &s), PD_EINVAL);
    assert_null(s);
    assert_int_equal(pd_repo_scan(paths, 0, 10, &s), PD_EINVAL);
    assert_int_equal(pd_repo_scan(paths, 1, 0, &s), PD_EINVAL);
    assert_int_equal(pd_repo_scan(paths, 1, PD_REPO_MAX_ENTRIES_LIMIT + 1, &s), PD_EINVAL);
    assert_int_equal(pd_repo_scan(paths, PD_REPO_MAX_PATHS + 1, 10, &s), PD_EINVAL);
    assert_int_equal(pd_repo_scan(nullp, 1, 10, &s), PD_EINVAL);
    assert_int_equal(pd_repo_scan(empty, 1, 10, &s), PD_EINVAL);
    assert_null(s);
    pd_repo_scan_free(NULL);
}

static void test_name_rules(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(pd_repo_version_parse("1", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(pd_repo_version_parse("9223372036854775807", &v), 0);
    assert_int_equal(v, INT64_MAX);
    const char *bad[] = {"", "0", "01", "+1", "-1", "1a", " 1", "9223372036854775808",
                         "99999999999999999999"};
    for (size_t i = 0; i < PD_ARRAY_SIZE(bad); i++)
        assert_int_equal(pd_repo_version_parse(bad[i], &v), PD_EINVAL);
    assert_true(pd_repo_name_valid("iris-v2.1_x"));
    assert_false(pd_repo_name_valid(""));
    assert_false(pd_repo_name_valid("a b"));
    assert_false(pd_repo_name_valid("a/b"));
    assert_false(pd_repo_name_valid("caf\xc3\xa9"));
    assert_true(pd_repo_name_skipped(".x"));
    assert_true(pd_repo_name_skipped("x~"));
    assert_true(pd_repo_name_skipped("x.part"));
    assert_false(pd_repo_name_skipped("x.json"));
    assert_true(pd_repo_name_is_settings("settings.json"));
    assert_true(pd_repo_name_is_settings("iris.settings.json"));
    assert_false(pd_repo_name_is_settings("settings.json.bak"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_models, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
        cmocka_unit_test(test_name_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
