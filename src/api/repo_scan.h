/* repo_scan.h - "what does the model repository hold now": one pass over the model paths
 * given to `predictd serve PATH...` that lists every model version file with its identity
 * (docs/repository.md describes the layout).
 *
 *   PATH is a file            -> one entry: name "" (from the file's content), version 0
 *   PATH is a directory       -> a repository; each child, in name order:
 *     a model file            -> name "" (from content), version 0   (a "loose" file)
 *     name/ with N/ folders   -> one entry per version N (one model file in each N/)
 *     name/ with one file     -> name "name", version 0
 *     name/settings.json      -> the model's version_policy (Triton's), applied here
 *
 * A model file is recognised by content (first non-whitespace byte '{': JSON, or UBJSON's
 * object marker), never by extension; hidden and editor/temp names are skipped;
 * settings.json and *.settings.json are never models.
 *
 * The scan is a pure function of the file system: no state, no globals, no libuv, bounded
 * (PATHs, names per directory, entries, settings size, issues, depth name/N/file). It may
 * run on any thread, e.g. a libuv threadpool work callback. Its result is a plain value
 * owned by the caller, sorted by (name, version, path) so two scans diff easily. */
#ifndef PD_API_REPO_SCAN_H
#define PD_API_REPO_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define PD_REPO_NAME_MAX 128                /* chars of a model name: [A-Za-z0-9_.-]{1,128} */
#define PD_REPO_VERSION_MAX INT64_MAX       /* largest version number (2^63 - 1) */
#define PD_REPO_VERSION_DIGITS 19           /* decimal digits of PD_REPO_VERSION_MAX */
#define PD_REPO_MAX_PATHS 64                /* PATHs one scan accepts */
#define PD_REPO_MAX_ENTRIES_LIMIT 65536     /* largest max_entries accepted */
#define PD_REPO_MAX_DIR_NAMES 4096          /* names read from one directory */
#define PD_REPO_SNIFF_BYTES 256             /* bytes read to recognise a model file */
#define PD_REPO_SETTINGS_FILE "settings.json"
#define PD_REPO_SETTINGS_SUFFIX ".settings.json"
#define PD_REPO_SETTINGS_MAX_BYTES (64 * 1024)
#define PD_REPO_MAX_SPECIFIC 1024           /* versions a "specific" policy may list */
#define PD_REPO_MAX_ISSUES 256              /* issues kept per scan; more are only counted */

/* What tells a replaced file from an unchanged one: an atomic rename gives a new inode, an
 * in-place rewrite a new size or mtime (a same-size rewrite within the file system's
 * timestamp granularity is invisible: replace files by rename). Symbolic links are
 * followed: the identity is the target's. */
typedef struct pd_repo_identity_s {
    uint64_t dev;
    uint64_t ino;
    uint64_t size;
    int64_t mtime_ns; /* st_mtim in nanoseconds since the epoch */
} pd_repo_identity_t;

typedef enum {
    PD_REPO_POLICY_ALL = 0,      /* every version (the default) */
    PD_REPO_POLICY_LATEST = 1,   /* the `latest` highest versions */
    PD_REPO_POLICY_SPECIFIC = 2, /* the versions listed */
} pd_repo_policy_kind_t;

/* A model folder's version_policy (settings.json), Triton's vocabulary. */
typedef struct pd_repo_policy_s {
    pd_repo_policy_kind_t kind;
    uint64_t latest;    /* LATEST: how many of the highest versions, >= 1 */
    uint64_t *versions; /* SPECIFIC: owned, ascending, unique, 1..PD_REPO_MAX_SPECIFIC */
    size_t n_versions;
} pd_repo_policy_t;

/* A model folder `name/` found in a repository. */
typedef struct pd_repo_model_s {
    char *name;              /* owned: the folder's name (a valid model name) */
    char *dir;               /* owned: the folder's path */
    size_t root;             /* index into the scan's paths of the repository holding it */
    int versioned;           /* 1: numbered version folders; 0: one model file, version 0 */
    int failed;              /* 1: an error (unreadable folder, bad settings.json) kept its
                                versions from being returned: keep serving what you serve */
    pd_repo_policy_t policy; /* ALL when there is no settings.json (or it failed) */
    size_t n_found;          /* versions holding a model file, before the policy */
    size_t n_selected;       /* entries returned for it (after the policy) */
} pd_repo_model_t;

/* One model version file. */
typedef struct pd_repo_entry_s {
    char *name;                   /* owned: model name; "" = the name is in the file */
    uint64_t version;             /* 1..PD_REPO_VERSION_MAX, or 0 = unversioned */
    char *path;                   /* owned: the file (PATH joined with the names) */
    pd_repo_identity_t id;
    size_t root;                  /* index into the scan's paths it was found under */
    const pd_repo_model_t *model; /* its model folder (with the policy applied), or NULL
                                     for a loose file; points into the same scan */
    pd_repo_identity_t settings_id; /* of its settings file (pd_repo_settings_path), all
                                     zero when there is none: a change reloads the file */
} pd_repo_entry_t;

/* An error or a warning, e.g. {"models/c", "no model file"}. */
typedef struct pd_repo_issue_s {
    int is_error;    /* 1: an error; 0: a warning (something skipped or chosen) */
    char *path;      /* owned: the file or folder concerned */
    char *message;   /* owned: the reason, without the path */
    size_t root;     /* index into the scan's paths it was found under */
    int root_failed; /* 1: the PATH itself could not be read: nothing under it was
                        returned (keep serving what came from it) */
} pd_repo_issue_t;

/* The result of one scan. Every array is owned by it; free with pd_repo_scan_free. */
typedef struct pd_repo_scan_s {
    pd_repo_entry_t *entries; /* sorted by (name, version, path) */
    size_t n_entries;
    pd_repo_model_t *models; /* model folders, sorted by name (unique across PATHs) */
    size_t n_models;
    pd_repo_issue_t *issues; /* in the order found */
    size_t n_issues;
    size_t n_issues_dropped; /* issues beyond PD_REPO_MAX_ISSUES, not kept */
} pd_repo_scan_t;

/* Scans paths[0, n_paths) (1..PD_REPO_MAX_PATHS, each borrowed for the call only) and
 * returns at most max_entries (1..PD_REPO_MAX_ENTRIES_LIMIT) entries in *out, which the
 * caller owns and frees with pd_repo_scan_free. Problems with files and folders are
 * issues in the result, not failures: the call returns 0 with whatever it could read.
 * Returns PD_ETOOBIG when the repository holds more than max_entries entries: *out then
 * holds no entry, no model and one error issue saying so (still free it). Returns
 * PD_EINVAL (bad arguments) or PD_ENOMEM with *out == NULL. Any thread; no shared state. */
int pd_repo_scan(const char *const *paths, size_t n_paths, size_t max_entries,
                 pd_repo_scan_t **out);

/* Frees a scan and everything it owns. Accepts NULL. Any thread (one owner). */
void pd_repo_scan_free(pd_repo_scan_t *s);

/* The entry (name, version), or NULL (binary search). With name "" it returns the first
 * loose file of version 0; loose files are told apart by path. s and name are borrowed;
 * the result points into s. Any thread. */
const pd_repo_entry_t *pd_repo_scan_find(const pd_repo_scan_t *s, const char *name,
                                         uint64_t version);

/* The model folder `name`, or NULL (binary search); points into s. Any thread. */
const pd_repo_model_t *pd_repo_scan_model(const pd_repo_scan_t *s, const char *name);

/* 1 when a and b describe the same file content as far as stat can tell, else 0. */
int pd_repo_identity_equal(const pd_repo_identity_t *a, const pd_repo_identity_t *b);

/* The settings file of entry e (borrowed) into out (n bytes): its model folder's
 * settings.json, or for a loose file <stem>.settings.json beside it (stem: the file name
 * without its last extension: fraud.json -> fraud.settings.json). Returns 0 or
 * PD_ETOOBIG. Pure; any thread. */
int pd_repo_settings_path(const pd_repo_entry_t *e, char *out, size_t n);

/* Name rules shared with repo_watch (pure; any thread; s is borrowed):
 * 1 when a directory child named s is skipped: hidden (leading '.'), or an editor/temp
 * name (trailing '~', ".tmp", ".swp", ".part"). */
int pd_repo_name_skipped(const char *s);
/* 1 when s is a valid model name: 1..PD_REPO_NAME_MAX chars of [A-Za-z0-9_.-]. */
int pd_repo_name_valid(const char *s);
/* 1 when s names settings: "settings.json" or "*.settings.json". */
int pd_repo_name_is_settings(const char *s);
/* Parses a version folder's name: decimal digits, no sign, no leading zero,
 * 1..PD_REPO_VERSION_MAX. Returns 0 and sets *out, or PD_EINVAL. */
int pd_repo_version_parse(const char *s, uint64_t *out);

#endif
