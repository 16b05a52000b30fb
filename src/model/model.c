/* model.c - the public model API except prediction (pipeline.c): reading a file
 * (bounded), parsing it (JSON text or UBJSON, json_read.h), dispatching to the file
 * format's loader, stats, description and freeing.
 *
 * Owns every allocation of a pd_model_t: all are made through pd__model_calloc, which
 * lists them (so pd_model_free releases whatever a failed load had built) and counts them
 * into m->bytes. A model is immutable after pd_model_load returns. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "model/json_read.h"
#include "model/json_budget.h"
#include "model/ubjson.h"
#include "model/json_util.h"
#include "model/model_impl.h"

/* Header of one model allocation: the list pd_model_free walks. Its size keeps the block
 * after it aligned as malloc's. */
struct pd__alloc_s {
    struct pd__alloc_s *next;
    size_t size;
} __attribute__((aligned(16)));

void *pd__model_calloc(pd_model_t *m, size_t n, size_t size)
{
    if (n == 0)
        n = 1;
    if (size && n > (SIZE_MAX - sizeof(struct pd__alloc_s)) / size)
        return NULL;
    struct pd__alloc_s *a = calloc(1, sizeof *a + n * size);
    if (!a)
        return NULL;
    a->size = n * size;
    a->next = m->allocs;
    m->allocs = a;
    m->bytes += a->size;
    return a + 1;
}

void *pd__model_realloc(pd_model_t *m, void *p, size_t n, size_t size)
{
    if (n == 0)
        n = 1;
    if (size && n > (SIZE_MAX - sizeof(struct pd__alloc_s)) / size)
        return NULL;
    struct pd__alloc_s **link = &m->allocs;
    while (*link && *link + 1 != p)
        link = &(*link)->next;
    if (!*link)
        return NULL; /* not this model's: a bug of the caller, refused */
    struct pd__alloc_s *old = *link, *a = realloc(old, sizeof *a + n * size);
    if (!a)
        return NULL;
    m->bytes = m->bytes - a->size + n * size;
    a->size = n * size;
    *link = a;
    return a + 1;
}

char *pd__model_strdup(pd_model_t *m, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = pd__model_calloc(m, n, 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

void pd_model_free(pd_model_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_parts; i++)
        pd__part_free(&m->parts[i]);
    for (struct pd__alloc_s *a = m->allocs, *next; a; a = next) {
        next = a->next;
        free(a);
    }
    free(m);
}

#define MIB ((size_t)1 << 20)

/* The error of a parse over its memory budget: at least `need` bytes, over `budget`. */
static int parse_too_big(pd__jctx_t *c, size_t need, size_t budget)
{
    pd__jfail(c, "$", "model parse would need more than %zu MiB of memory (limit %zu MiB: "
              "%d times the file's size, at least %zu MiB, at most %zu MiB as "
              "--max-model-memory says)", need / MIB, budget / MIB,
              PD_MODEL_PARSE_FACTOR, PD_MODEL_PARSE_FLOOR / MIB, pd_model_max_parse_bytes() / MIB);
    return PD_ETOOBIG;
}

/* Parses data (JSON text or UBJSON: json_read.h) under the file's memory budget
 * (json_budget.h): refused before parsing when even a lower bound of its cost is over it
 * (JSON text; the bound reads text), or when an allocation of the parse would pass it.
 * *root is the caller's. */
static int parse_bounded(pd__jctx_t *c, const char *data, size_t len, json_t **root)
{
    size_t budget = pd__jbudget_for(len);
    if (!pd__ubjson_sniff(data, len)) {
        size_t least = pd__jbudget_min_bytes(data, len);
        if (least > budget)
            return parse_too_big(c, least, budget);
    }
    pd__jbudget_t jb;
    pd__jbudget_begin(&jb, budget);
    int rc = pd__json_read(c, data, len, root);
    pd__jbudget_end(&jb); /* the tree is freed later, outside the budget: not counted */
    if (rc != 0 && jb.exceeded)
        return parse_too_big(c, budget + 1, budget);
    return rc;
}

int pd_model_load_buffer(const char *data, size_t len, const char *label, pd_model_t **out,
                         char *err, size_t errlen)
{
    pd__jctx_t c = {label ? label : "model", err, errlen};
    if (err && errlen)
        err[0] = '\0';
    *out = NULL;
    if (len > PD_MODEL_MAX_FILE_BYTES)
    {
        pd__jfail(&c, "$", "file has %zu bytes, over the %zu limit", len, PD_MODEL_MAX_FILE_BYTES);
        return PD_ETOOBIG;
    }
    json_t *root;
    int rc = parse_bounded(&c, data, len, &root);
    if (rc)
        return rc;
    pd_model_t *m = calloc(1, sizeof *m);
    if (!m) {
        json_decref(root);
        pd__jfail(&c, "$", "out of memory");
        return PD_ENOMEM;
    }
    m->bytes = sizeof *m;
    if (!json_is_object(root))
        rc = pd__jfail(&c, "$", "expected a JSON object at the top level");
    else if (json_object_get(root, "learner"))
        rc = pd__load_xgboost(&c, root, m);
    else if (json_object_get(root, "format"))
        rc = pd__load_predictd(&c, root, m);
    else
        rc = pd__jfail(&c, "$", "neither a predictd model (no \"format\") nor an XGBoost "
                                "JSON model (no \"learner\")");
    json_decref(root);
    if (rc) {
        pd_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int pd_model_load(const char *path, pd_model_t **out, char *err, size_t errlen)
{
    pd__jctx_t c = {path, err, errlen};
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below);
     * a regular file ignores the flag. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        pd__jfail(&c, "$", "cannot open: %s", strerror(errno));
        return PD_EIO;
    }
    struct stat st;
    FILE *f = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        pd__jfail(&c, "$", "not a regular file");
        return PD_EIO;
    }
    if ((f = fdopen(fd, "rb")) == NULL) {
        close(fd);
        pd__jfail(&c, "$", "cannot open: %s", strerror(errno));
        return PD_EIO;
    }
    if ((uint64_t)st.st_size > PD_MODEL_MAX_FILE_BYTES) {
        fclose(f);
        pd__jfail(&c, "$", "file has %lld bytes, over the %zu limit", (long long)st.st_size,
                  PD_MODEL_MAX_FILE_BYTES);
        return PD_ETOOBIG;
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        pd__jfail(&c, "$", "out of memory reading %zu bytes", n);
        return PD_ENOMEM;
    }
    size_t got = fread(buf, 1, n, f);
    int ioerr = ferror(f);
    fclose(f);
    if (ioerr || got != n) {
        free(buf);
        pd__jfail(&c, "$", "read failed");
        return PD_EIO;
    }
    buf[n] = '\0';
    int rc = pd_model_load_buffer(buf, n, path, out, err, errlen);
    free(buf);
    return rc;
}

const pd_model_schema_t *pd_model_schema(const pd_model_t *m)
{
    return &m->schema;
}

void pd_model_stats(const pd_model_t *m, pd_model_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < m->n_parts; i++)
        if (m->parts[i].ops->stats)
            m->parts[i].ops->stats(&m->parts[i], out);
    out->n_params = m->n_params;
    out->bytes = m->bytes;
}

int pd_model_describe(const pd_model_t *m, char *buf, size_t n)
{
    char tmp[1];
    size_t used = 0; /* what the full text needs */
    if (!buf || n == 0)
        buf = tmp, n = sizeof tmp;
    buf[0] = '\0';
    for (size_t i = 0; i < m->n_parts; i++) {
        const pd__part_t *p = &m->parts[i];
        size_t at = PD_MIN(used, n - 1);
        int k = snprintf(buf + at, n - at, "%s%s", i ? " > " : "", p->ops->type);
        used += k > 0 ? (size_t)k : 0;
        if (!p->ops->describe)
            continue;
        at = PD_MIN(used, n - 1);
        k = snprintf(buf + at, n - at, "(");
        used += k > 0 ? (size_t)k : 0;
        at = PD_MIN(used, n - 1);
        k = p->ops->describe(p, buf + at, n - at);
        used += k > 0 ? (size_t)k : 0;
        at = PD_MIN(used, n - 1);
        k = snprintf(buf + at, n - at, ")");
        used += k > 0 ? (size_t)k : 0;
    }
    return (int)used;
}
