/* predict_rows.c - the rows path of `predictd predict` (see predict_rows.h).
 *
 * The caller's thread reads the file in blocks of whole lines (at most
 * PD_PREDICT_CHUNK_ROWS lines, about PD_PREDICT_BLOCK_BYTES bytes: memchr finds the line
 * ends, nothing else is parsed there), numbering each block's first line. With N > 1
 * threads, N workers take the blocks in order, each parsing, checking, predicting and
 * formatting a whole block into the block's own output buffer with its own scratch (the
 * model and the CSV reader are shared read-only), while the caller reads the next blocks
 * and writes finished ones in file order. A ring of N * PD_PREDICT_SLOTS_PER_THREAD blocks
 * bounds memory: a block is reused once written. With N == 1 the caller does each block's
 * work itself, one block at a time.
 *
 * Errors: a worker stops at its block's first bad row and keeps the rows before it; the
 * caller writes blocks in order, so the first bad block it meets holds the first bad row
 * of the file: its good rows are written, then its error ends the run. Line numbers are
 * exact (the reader counts every block's lines); "row N" (pd_model_check) and the
 * PD_CSV_MAX_ROWS limit need the rows before a block, which the caller knows when it
 * writes it. Output bytes do not depend on N: each row's line is formatted the same way
 * whatever block it falls in. */
#include "cli/predict_rows.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define ERRLEN 1024
#define ROW_NUM_MAX 32 /* bytes of one formatted number, with its comma */

enum { FREE, FILLED, DONE };

typedef struct {
    char *in;           /* in_len bytes of whole lines, in_cap >= in_len + 1 */
    size_t in_len, in_cap;
    size_t first_line;  /* file line number of in's first line */
    size_t lines;       /* lines in `in` */
    int read_err;       /* the file could not be read after these lines */
    /* the worker's results */
    char *out;          /* out_len bytes: the formatted lines of rows [0, rows) */
    size_t out_len, out_cap;
    size_t rows;        /* rows formatted into out */
    size_t parsed;      /* rows parsed (>= rows: a row pd_model_check refused is parsed) */
    int rc;             /* 0 or the block's first error */
    int row_err;        /* rc is pd_model_check's: row `rows` of the block, why in err */
    size_t err_line;    /* a parse error's file line (0: none) */
    char err[ERRLEN];
    uint32_t row_line[PD_PREDICT_CHUNK_ROWS]; /* each parsed row's line, from first_line */
    int state;
} block_t;

typedef struct { /* one thread's scratch */
    double *x, *value, *proba;
    int32_t *cls;
    void *scratch;
    char **cells;
} worker_t;

typedef struct {
    const pd_predict_rows_t *r;
    const pd_model_schema_t *s;
    size_t row_max;           /* bytes a formatted line takes at most */
    char **label_cell;        /* classifiers: each class's CSV cell */
    size_t *label_len;
    /* reader (caller's thread only) */
    char *carry;              /* the start of a line read past the last block */
    size_t carry_len, carry_cap, want, next_line;
    int eof, ioerr;
    /* shared, under mu */
    block_t *slots;
    size_t nslots, filled, next_work;
    int reading, stop;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    /* writer (caller's thread only) */
    size_t row_base;
} pipe_t;

/* Grows *buf (capacity *cap) to hold at least need bytes. */
static int reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = PD_MAX(need, *cap * 2);
    char *p = realloc(*buf, n);
    if (!p)
        return PD_ENOMEM;
    *buf = p, *cap = n;
    return 0;
}

/* ---- reading: blocks of whole lines (caller's thread) ---- */

/* Counts up to PD_PREDICT_CHUNK_ROWS line ends in b->in; returns the bytes through the
 * last one counted (0: none) and their count in *lines. */
static size_t cut_lines(const block_t *b, size_t *lines)
{
    const char *p = b->in, *end = b->in + b->in_len, *nl;
    size_t n = 0;
    while (n < PD_PREDICT_CHUNK_ROWS && p < end && (nl = memchr(p, '\n', (size_t)(end - p))))
        p = nl + 1, n++;
    *lines = n;
    return (size_t)(p - b->in);
}

/* Reads into b until it holds a block: PD_PREDICT_CHUNK_ROWS lines, or all the whole
 * lines of `want` bytes, or the rest of the file. Sets b->last via *last. */
static int fill(pipe_t *p, block_t *b, int *last)
{
    FILE *f = pd_csv_file(p->r->csv);
    b->in_len = 0;
    if (reserve(&b->in, &b->in_cap, PD_MAX(p->carry_len, p->want) + 1))
        return PD_ENOMEM;
    if (p->carry_len)
        memcpy(b->in, p->carry, p->carry_len);
    b->in_len = p->carry_len, p->carry_len = 0;
    size_t cut, lines;
    for (;;) {
        if (reserve(&b->in, &b->in_cap, p->want + 1))
            return PD_ENOMEM;
        if (!p->eof && b->in_len < p->want) {
            size_t ask = p->want - b->in_len, got = fread(b->in + b->in_len, 1, ask, f);
            b->in_len += got;
            if (got < ask)
                p->eof = 1, p->ioerr = ferror(f) != 0;
        }
        cut = cut_lines(b, &lines);
        if (lines == PD_PREDICT_CHUNK_ROWS || (lines > 0 && !p->eof) || p->ioerr)
            break;
        if (p->eof) { /* the rest of the file; a last line may lack its newline */
            lines += cut < b->in_len;
            cut = b->in_len;
            break;
        }
        if (b->in_len > PD_CSV_MAX_LINE) { /* no line end: too long, the parse says so */
            cut = b->in_len, lines = 1;
            p->eof = 1;
            break;
        }
        p->want = PD_MIN(p->want * 2, PD_CSV_MAX_LINE + 1); /* a long line: read more */
    }
    if (lines == PD_PREDICT_CHUNK_ROWS) /* short lines: read about as much next time */
        p->want = PD_MIN(PD_PREDICT_BLOCK_BYTES, cut + cut / 8 + 256);
    else if (!p->eof)
        p->want = PD_MAX(p->want, PD_PREDICT_BLOCK_BYTES);
    size_t rest = b->in_len - cut;
    if (reserve(&p->carry, &p->carry_cap, rest + 1))
        return PD_ENOMEM;
    if (rest)
        memcpy(p->carry, b->in + cut, rest);
    p->carry_len = p->ioerr ? 0 : rest;
    b->in_len = cut, b->lines = lines, b->first_line = p->next_line;
    b->read_err = p->ioerr;
    p->next_line += lines;
    *last = p->eof && p->carry_len == 0;
    return 0;
}

/* ---- a block's work (a worker, or the caller when N == 1) ---- */

/* Appends rows [0, n) of w's results to b->out (room for n lines reserved). */
static void format_rows(const pipe_t *p, const worker_t *w, size_t n, block_t *b)
{
    const pd_model_schema_t *s = p->s;
    char *o = b->out + b->out_len;
    for (size_t r = 0; r < n; r++) {
        if (s->task == PD_TASK_REGRESSION) {
            o += pd_predict_fmt_g17(o, w->value[r]);
            *o++ = '\n';
            continue;
        }
        size_t k = (size_t)w->cls[r];
        memcpy(o, p->label_cell[k], p->label_len[k]);
        o += p->label_len[k];
        for (size_t j = 0; p->r->proba && j < s->n_classes; j++) {
            *o++ = ',';
            o += pd_predict_fmt_g17(o, w->proba[r * s->n_classes + j]);
        }
        *o++ = '\n';
    }
    b->out_len = (size_t)(o - b->out);
}

/* Parses, checks, predicts and formats block b with w's scratch. */
static void work(const pipe_t *p, worker_t *w, block_t *b)
{
    const pd_model_t *m = p->r->m;
    pd_csv_span_t sp;
    b->out_len = b->rows = b->parsed = b->err_line = 0, b->rc = b->row_err = 0;
    b->err[0] = '\0';
    int rc = pd_csv_parse_lines(p->r->csv, b->in, b->in_len, b->first_line, w->x,
                                PD_PREDICT_CHUNK_ROWS, w->cells, b->row_line, &sp, b->err,
                                ERRLEN);
    size_t n = sp.rows, bad;
    b->parsed = n;
    if (rc)
        b->rc = rc, b->err_line = b->first_line + sp.lines - 1;
    char why[PD_MODEL_CHECK_MSG];
    if (n && pd_model_check(m, w->x, n, &bad, why, sizeof why) < 0) {
        b->rc = PD_EINVAL, b->row_err = 1;
        snprintf(b->err, ERRLEN, "%s", why);
        n = bad;
    }
    if (n == 0)
        return;
    pd_predict_out_t out = {w->cls, w->value, w->proba};
    if ((rc = pd_model_predict(m, w->x, n, w->scratch, &out))) {
        b->rc = rc, b->row_err = 0;
        snprintf(b->err, ERRLEN, "prediction failed: %s", pd_strerror(rc));
        return;
    }
    if (reserve(&b->out, &b->out_cap, n * p->row_max)) {
        b->rc = PD_ENOMEM, b->row_err = 0;
        snprintf(b->err, ERRLEN, "%s", pd_strerror(PD_ENOMEM));
        return;
    }
    format_rows(p, w, n, b);
    b->rows = n;
}

static void *worker_main(void *arg);

/* ---- writing, in file order (caller's thread) ---- */

/* Writes b's lines; returns 0, or the run's error (message in err). */
static int write_block(pipe_t *p, block_t *b, char *err, size_t errlen)
{
    const char *label = p->r->label;
    size_t lim = PD_CSV_MAX_ROWS - p->row_base; /* the block's first row over the limit */
    size_t bad = b->row_err ? b->rows : b->parsed; /* its first bad row (or none) */
    if (lim < bad || (lim == bad && (b->err_line || b->row_err))) { /* limit first */
        size_t line = lim < b->parsed ? b->first_line + b->row_line[lim] : b->err_line;
        snprintf(err, errlen, "%s: line %zu: more than %zu rows", label, line,
                 PD_CSV_MAX_ROWS); /* (the block's rows before it are not written) */
        return PD_ETOOBIG;
    }
    if (b->out_len && fwrite(b->out, 1, b->out_len, p->r->out) != b->out_len) {
        snprintf(err, errlen, "write failed: %s", strerror(errno));
        return PD_EIO;
    }
    size_t base = p->row_base;
    p->row_base += b->rows;
    if (b->rc == 0 && b->read_err) {
        snprintf(err, errlen, "%s: line %zu: read error", label, b->first_line + b->lines - 1);
        return PD_EIO;
    }
    if (b->rc && b->row_err)
        snprintf(err, errlen, "%s: row %zu: %s", label, base + b->rows, b->err);
    else if (b->rc)
        snprintf(err, errlen, "%s", b->err);
    return b->rc;
}

/* ---- set-up ---- */

static void worker_free(worker_t *w)
{
    free(w->x), free(w->value), free(w->proba), free(w->cls), free(w->scratch);
    free(w->cells);
}

static int worker_alloc(const pipe_t *p, worker_t *w)
{
    size_t n = PD_PREDICT_CHUNK_ROWS, nc = p->s->n_classes ? p->s->n_classes : 1;
    size_t ss = pd_model_scratch_size(p->r->m, n);
    memset(w, 0, sizeof *w);
    w->x = malloc(n * PD_MAX(p->s->n_features, 1) * sizeof(double));
    w->value = malloc(n * sizeof(double));
    w->proba = malloc(n * nc * sizeof(double));
    w->cls = malloc(n * sizeof(int32_t));
    w->scratch = malloc(ss ? ss : 8);
    w->cells = malloc((pd_csv_ncols(p->r->csv) + 1) * sizeof *w->cells);
    return w->x && w->value && w->proba && w->cls && w->scratch && w->cells ? 0 : PD_ENOMEM;
}

/* The CSV cell of each class label (quoted when it holds a comma, quote or line break),
 * and the longest line a row can take. */
static int labels_alloc(pipe_t *p)
{
    const pd_model_schema_t *s = p->s;
    size_t nc = s->task == PD_TASK_CLASSIFICATION ? s->n_classes : 0, most = 0;
    p->label_cell = calloc(nc + 1, sizeof *p->label_cell);
    p->label_len = calloc(nc + 1, sizeof *p->label_len);
    if (!p->label_cell || !p->label_len)
        return PD_ENOMEM;
    for (size_t k = 0; k < nc; k++) {
        char num[32];
        const char *t = num;
        if (s->labels_are_strings)
            t = s->class_labels_str[k];
        else
            snprintf(num, sizeof num, "%lld", (long long)s->class_labels_int[k]);
        char *c = malloc(2 * strlen(t) + 3), *o = c;
        if (!(p->label_cell[k] = c))
            return PD_ENOMEM;
        int q = strpbrk(t, ",\"\r\n") != NULL;
        if (q)
            *o++ = '"';
        for (; *t; t++) {
            if (*t == '"')
                *o++ = '"';
            *o++ = *t;
        }
        if (q)
            *o++ = '"';
        p->label_len[k] = (size_t)(o - c);
        most = PD_MAX(most, p->label_len[k]);
    }
    p->row_max = nc ? most + 1 + (p->r->proba ? nc * ROW_NUM_MAX : 0) : ROW_NUM_MAX + 1;
    return 0;
}

static void pipe_free(pipe_t *p)
{
    for (size_t i = 0; p->label_cell && p->label_cell[i]; i++)
        free(p->label_cell[i]);
    free(p->label_cell), free(p->label_len), free(p->carry);
    for (size_t i = 0; p->slots && i < p->nslots; i++)
        free(p->slots[i].in), free(p->slots[i].out);
    free(p->slots);
}

typedef struct {
    pipe_t *p;
    worker_t w;
    pthread_t tid;
    int started;
} thread_t;

/* A worker: takes the filled blocks in order until the reader is done or the run stops. */
static void *worker_main(void *arg)
{
    thread_t *t = arg;
    pipe_t *p = t->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->next_work == p->filled && p->reading)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->stop || p->next_work == p->filled)
            break;
        block_t *b = &p->slots[p->next_work++ % p->nslots];
        pthread_mutex_unlock(&p->mu);
        work(p, &t->w, b);
        pthread_mutex_lock(&p->mu);
        b->state = DONE;
        pthread_cond_signal(&p->done_cv); /* the caller is the only one waiting on it */
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* N == 1: read, work and write each block in turn. */
static int run_serial(pipe_t *p, char *err, size_t errlen)
{
    worker_t w;
    int rc = worker_alloc(p, &w), last = 0;
    while (rc == 0 && !last)
        if ((rc = fill(p, &p->slots[0], &last)) == 0) {
            work(p, &w, &p->slots[0]);
            rc = write_block(p, &p->slots[0], err, errlen);
        }
    worker_free(&w);
    return rc;
}

/* The caller's loop with workers: fills every free slot, then writes the oldest block
 * once done; stops at the end of the file or the first error. Called and returns with
 * p->mu held. */
static int pump(pipe_t *p, char *err, size_t errlen)
{
    size_t written = 0;
    int rc = 0;
    for (;;) {
        while (p->reading && p->filled - written < p->nslots) {
            block_t *b = &p->slots[p->filled % p->nslots];
            int last = 0;
            pthread_mutex_unlock(&p->mu);
            rc = fill(p, b, &last);
            pthread_mutex_lock(&p->mu);
            if (rc)
                return rc;
            b->state = FILLED;
            p->filled++;
            p->reading = !last;
            pthread_cond_broadcast(&p->work_cv);
        }
        if (written == p->filled)
            return 0;
        block_t *b = &p->slots[written % p->nslots];
        while (b->state != DONE)
            pthread_cond_wait(&p->done_cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
        rc = write_block(p, b, err, errlen);
        pthread_mutex_lock(&p->mu);
        b->state = FREE;
        written++;
        if (rc)
            return rc;
    }
}

static int run_threads(pipe_t *p, char *err, size_t errlen)
{
    long n = p->r->threads;
    thread_t *t = calloc((size_t)n, sizeof *t);
    if (!t)
        return PD_ENOMEM;
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    for (long i = 0; i < n && rc == 0; i++) {
        t[i].p = p;
        if ((rc = worker_alloc(p, &t[i].w)) == 0)
            rc = pthread_create(&t[i].tid, NULL, worker_main, &t[i]) ? PD_ENOMEM : 0;
        t[i].started = rc == 0;
    }
    if (rc == 0)
        rc = pump(p, err, errlen);
    p->stop = 1; /* done or failed: idle workers leave, busy ones finish their block */
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (long i = 0; i < n; i++) {
        if (t[i].started)
            pthread_join(t[i].tid, NULL);
        worker_free(&t[i].w);
    }
    free(t);
    return rc;
}

int pd_predict_rows(const pd_predict_rows_t *r, char *err, size_t errlen)
{
    pipe_t p = {.r = r, .s = pd_model_schema(r->m), .want = PD_PREDICT_BLOCK_BYTES,
                .next_line = pd_csv_lines(r->csv) + 1, .reading = 1};
    int rc = labels_alloc(&p);
    p.nslots = r->threads > 1 ? (size_t)r->threads * PD_PREDICT_SLOTS_PER_THREAD : 1;
    p.slots = calloc(p.nslots, sizeof *p.slots);
    if (rc == 0 && !p.slots)
        rc = PD_ENOMEM;
    if (rc == 0 && r->threads <= 1) {
        rc = run_serial(&p, err, errlen);
    } else if (rc == 0) {
        pthread_mutex_init(&p.mu, NULL);
        pthread_cond_init(&p.work_cv, NULL);
        pthread_cond_init(&p.done_cv, NULL);
        rc = run_threads(&p, err, errlen);
        pthread_cond_destroy(&p.done_cv);
        pthread_cond_destroy(&p.work_cv);
        pthread_mutex_destroy(&p.mu);
    }
    if (rc == PD_ENOMEM && !err[0])
        snprintf(err, errlen, "out of memory");
    pipe_free(&p);
    return rc;
}
