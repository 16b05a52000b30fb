/* repo_fs.c - the repository scan's file-system helpers (see repo_fs.h). Every call is
 * bounded: a listing stops at PD_REPO_MAX_DIR_NAMES names, a head read at its cap, and a
 * file is opened O_NONBLOCK and checked to be regular before it is read. */
#include "api/repo_fs.h"
#include "api/repo_rules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

/* Makes room for element n of *arr (capacity *cap, doubling). 0 or PD_ENOMEM. */
int pd__repo_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, ncap * elem);
    if (p == NULL)
        return PD_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

const char *pd__repo_errstr(int e, char *buf, size_t len)
{
    return strerror_r(e, buf, len); /* GNU: returns a string, maybe not buf */
}

void pd__repo_identity_of(const struct stat *st, pd_repo_identity_t *id)
{
    id->dev = (uint64_t)st->st_dev;
    id->ino = (uint64_t)st->st_ino;
    id->size = (uint64_t)st->st_size;
    id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + (int64_t)st->st_mtim.tv_nsec;
}

/* out = dir "/" name (dir's trailing slashes dropped). PD_ETOOBIG past PATH_MAX. */
int pd__repo_join(char out[PATH_MAX], const char *dir, const char *name)
{
    size_t dlen = strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    const char *sep = dir[dlen - 1] == '/' ? "" : "/";
    int n = snprintf(out, PATH_MAX, "%.*s%s%s", (int)dlen, dir, sep, name);
    return (n < 0 || n >= PATH_MAX) ? PD_ETOOBIG : 0;
}

int pd__repo_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* qsort, which must not see the NULL base of an empty array. */
void pd__repo_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

void pd__repo_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Reads the names of dir that are not skipped, sorted, at most PD_REPO_MAX_DIR_NAMES.
 * Returns 0 (*names owned by the caller: pd__repo_free_names) or PD_ENOMEM, or PD_EIO / PD_ETOOBIG
 * with the reason in msg. */
int pd__repo_list_dir(const char *dir, char ***names, size_t *n, char *msg, size_t msglen)
{
    char eb[PD_REPO_ERRSTR_MAX];
    size_t cap = 0;
    int rc = 0;
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(msg, msglen, "%s", pd__repo_errstr(errno, eb, sizeof eb));
        return PD_EIO;
    }
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (pd_repo_name_skipped(e->d_name))
            continue;
        if (*n >= PD_REPO_MAX_DIR_NAMES) {
            snprintf(msg, msglen, "more than %d names in this folder", PD_REPO_MAX_DIR_NAMES);
            rc = PD_ETOOBIG;
        } else if (pd__repo_grow((void **)names, &cap, *n, sizeof **names) < 0 ||
                   ((*names)[*n] = strdup(e->d_name)) == NULL) {
            rc = PD_ENOMEM;
        } else {
            (*n)++;
        }
    }
    closedir(d);
    if (rc < 0) {
        pd__repo_free_names(*names, *n);
        *names = NULL;
        *n = 0;
        return rc;
    }
    pd__repo_sort(*names, *n, sizeof **names, pd__repo_cmp_str);
    return 0;
}

/* Reads up to cap bytes of the regular file path (opened without blocking, so a FIFO put
 * in its place cannot hang the scan) and its identity. Returns the byte count, or PD_EIO
 * with *eno set (0: not a regular file). */
ssize_t pd__repo_read_head(const char *path, char *buf, size_t cap, pd_repo_identity_t *id,
                         int *eno)
{
    struct stat st;
    size_t n = 0;
    ssize_t got = 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    int ok = fd >= 0 && fstat(fd, &st) == 0;
    if (!ok || !S_ISREG(st.st_mode)) {
        *eno = ok ? 0 : errno;
        if (fd >= 0)
            close(fd);
        return PD_EIO;
    }
    while (n < cap && got != 0) {
        got = read(fd, buf + n, cap - n);
        if (got > 0)
            n += (size_t)got;
        else if (got < 0 && errno != EINTR)
            break;
    }
    int failed = got < 0 && n < cap;
    *eno = failed ? errno : 0;
    close(fd);
    pd__repo_identity_of(&st, id);
    return failed ? PD_EIO : (ssize_t)n;
}

/* 1 when the regular file path is a model by content: the first non-whitespace byte of
 * its first PD_REPO_SNIFF_BYTES is '{' (JSON; UBJSON's object marker is that byte, first);
 * 0 when not; PD_EIO with *eno set when it cannot be read (*eno 0: not a regular file). */
int pd__repo_sniff(const char *path, pd_repo_identity_t *id, int *eno)
{
    char buf[PD_REPO_SNIFF_BYTES];
    ssize_t n = pd__repo_read_head(path, buf, sizeof buf, id, eno);
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n')
            return buf[i] == '{';
    return n < 0 ? PD_EIO : 0;
}

