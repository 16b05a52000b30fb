/* repo_fs.h - the file-system helpers of the repository scan (repo_scan.c): bounded, sorted
 * directory listings, reading the head of a regular file without blocking (a FIFO cannot
 * hang a scan), recognising a model file by content, and file identities. Internal to
 * src/api/. Stateless: any thread. */
#ifndef PD_API_REPO_FS_H
#define PD_API_REPO_FS_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "api/repo_scan.h"

/* Bytes of a strerror_r text. */
#define PD_REPO_ERRSTR_MAX 128

/* Makes room for element n of *arr (capacity *cap elements of elem bytes, doubling from
 * 16; *arr is the caller's, realloc'd). Returns 0 or PD_ENOMEM (*arr unchanged). */
int pd__repo_grow(void **arr, size_t *cap, size_t n, size_t elem);

/* The text of errno value e (GNU strerror_r: may return a static string, not buf). */
const char *pd__repo_errstr(int e, char *buf, size_t len);

/* *id = the identity (device, inode, size, mtime) of st. */
void pd__repo_identity_of(const struct stat *st, pd_repo_identity_t *id);

/* out = dir "/" name (dir's trailing slashes dropped). Returns 0, or PD_ETOOBIG past
 * PATH_MAX. */
int pd__repo_join(char out[PATH_MAX], const char *dir, const char *name);

/* strcmp of two char * array elements (qsort/bsearch). */
int pd__repo_cmp_str(const void *a, const void *b);

/* qsort, which must not see the NULL base of an empty array. */
void pd__repo_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* Frees n names and the array (as pd__repo_list_dir returns them). Accepts NULL. */
void pd__repo_free_names(char **names, size_t n);

/* Reads the names of dir that are not skipped (pd_repo_name_skipped), sorted, at most
 * PD_REPO_MAX_DIR_NAMES. Returns 0 (*names owned by the caller: pd__repo_free_names), or
 * PD_ENOMEM, or PD_EIO / PD_ETOOBIG with the reason in msg (msglen bytes). */
int pd__repo_list_dir(const char *dir, char ***names, size_t *n, char *msg, size_t msglen);

/* Reads up to cap bytes of the regular file path into buf (opened without blocking, so a
 * FIFO put in its place cannot hang the scan) and its identity. Returns the byte count, or
 * PD_EIO with *eno set (0: not a regular file). */
ssize_t pd__repo_read_head(const char *path, char *buf, size_t cap, pd_repo_identity_t *id,
                           int *eno);

/* 1 when the regular file path is a model by content: the first non-whitespace byte of
 * its first PD_REPO_SNIFF_BYTES is '{' (JSON; UBJSON's object marker is that byte, first);
 * 0 when not; PD_EIO with *eno set when it cannot be read (*eno 0: not a regular file). */
int pd__repo_sniff(const char *path, pd_repo_identity_t *id, int *eno);

#endif
