/* predict.c - `predictd predict MODEL --input X.csv [--output Y.csv] [--proba]
 * [--threads N]`: batch prediction from a CSV file to a CSV file (or stdout).
 *
 * Streams the input in blocks of whole lines (predict_rows.c), so memory stays bounded
 * whatever the file size; with --threads N, N threads each parse, predict and format
 * whole blocks (the model is shared read-only) while this thread reads and writes them in
 * order, so the output is the same bytes for every N. Output: header `prediction` (then `proba_<class>` with
 * --proba), numbers printed with %.17g so they read back exactly, class labels as labels.
 * --output is written to a temporary file beside it and renamed over it only when every
 * row was predicted, so a bad row (the error names its line) leaves no partial file; on
 * stdout the rows before it are already written.
 * Exit codes: 0 ok, 1 runtime error, 2 usage error; one line on stderr for either. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/predict_rows.h"
#include "common.h"
#include "model/csv.h"
#include "model/model.h"

#define PD_PREDICT_ERRLEN 1024

typedef struct {
    const char *model, *input, *output;
    int proba;
    long threads;
} args_t;

#define PD_PREDICT_USAGE                                                                    \
    "usage: predictd predict MODEL --input X.csv [--output Y.csv] [--proba] [--threads N]\n"

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "predictd predict: %s%s%s\n" PD_PREDICT_USAGE, msg, arg ? " " : "",
            arg ? arg : "");
    return 2;
}

/* --help: usage and what each option does, on stdout. Returns -1 (exit 0). */
static int help(void)
{
    fputs(PD_PREDICT_USAGE
          "\nPredicts every row of a CSV file (header row of feature names, any column order;\n"
          "extra columns ignored; an empty cell or nan is a missing value).\n\n"
          "options:\n"
          "  --input X.csv     the rows to predict (required)\n"
          "  --output Y.csv    where to write the predictions (default: stdout)\n"
          "  --proba           classifiers: also write the probability of every class\n"
          "                    (a regressor writes its values and a note on stderr)\n"
          "  --threads N       parse, predict and format on N threads (1..64, default 1);\n"
          "                    the output is the same for every N\n"
          "  -h, --help        show this help\n",
          stdout);
    return -1;
}

static int parse_args(int argc, char **argv, args_t *a)
{
    memset(a, 0, sizeof *a);
    a->threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)
            return help();
        if (strcmp(s, "--proba") == 0) {
            a->proba = 1;
        } else if (strcmp(s, "--input") == 0 || strcmp(s, "--output") == 0 ||
                   strcmp(s, "--threads") == 0) {
            if (i + 1 >= argc)
                return usage("missing value after", s);
            const char *v = argv[++i];
            if (s[2] == 'i')
                a->input = v;
            else if (s[2] == 'o')
                a->output = v;
            else {
                char *end;
                errno = 0;
                a->threads = strtol(v, &end, 10);
                if (errno || *end || end == v || a->threads < 1 ||
                    a->threads > PD_PREDICT_MAX_THREADS)
                    return usage("--threads wants an integer in 1..64, got", v);
            }
        } else if (s[0] == '-' && s[1] != '\0') {
            return usage("unknown option", s);
        } else if (!a->model) {
            a->model = s;
        } else {
            return usage("unexpected argument", s);
        }
    }
    if (!a->model)
        return usage("missing MODEL", NULL);
    if (!a->input)
        return usage("missing --input X.csv", NULL);
    return 0;
}

/* Writes s as one CSV cell, quoted when it holds a comma, quote or line break. */
static void put_cell(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void write_header(FILE *f, const pd_model_schema_t *s, int proba)
{
    fputs("prediction", f);
    for (size_t k = 0; proba && k < s->n_classes; k++) {
        fputc(',', f);
        if (s->labels_are_strings) {
            char *b = malloc(strlen(s->class_labels_str[k]) + 7);
            if (b) {
                strcpy(b, "proba_");
                strcat(b, s->class_labels_str[k]);
                put_cell(f, b);
                free(b);
            }
        } else {
            fprintf(f, "proba_%lld", (long long)s->class_labels_int[k]);
        }
    }
    fputc('\n', f);
}

/* Streams the CSV through the model (predict_rows.c). */
static int run(const args_t *a, const pd_model_t *m, FILE *in, FILE *out, char *err)
{
    const pd_model_schema_t *s = pd_model_schema(m);
    pd_csv_t *csv = NULL;
    int rc = pd_csv_open(in, a->input, &csv, err, PD_PREDICT_ERRLEN);
    if (rc == 0)
        rc = pd_csv_map(csv, s->feature_names, s->n_features, err, PD_PREDICT_ERRLEN);
    if (rc == 0) {
        pd_csv_set_inputs(csv, s->inputs);
        write_header(out, s, a->proba);
        pd_predict_rows_t r = {m, csv, a->input, out, a->proba, a->threads};
        rc = pd_predict_rows(&r, err, PD_PREDICT_ERRLEN);
    }
    if (rc == PD_ENOMEM && !err[0])
        snprintf(err, PD_PREDICT_ERRLEN, "out of memory");
    pd_csv_close(csv);
    return rc;
}

/* Opens a temporary file beside path (its name in tmp), so that a run that fails part
 * way leaves no half-written output: close_output renames it over path on success. A
 * path that exists and is not a regular file (/dev/null, a FIFO) is opened as is (tmp
 * empty): renaming over it would replace the device. */
static FILE *open_output(const char *path, char *tmp, size_t tmplen)
{
    struct stat st;
    tmp[0] = '\0';
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) /* /dev/null, a pipe: written as is */
        return fopen(path, "wb");
    if ((size_t)snprintf(tmp, tmplen, "%s.tmp.XXXXXX", path) >= tmplen) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int fd = mkstemp(tmp);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "wb");
    if (f == NULL) {
        close(fd);
        unlink(tmp);
    }
    return f;
}

/* Closes the temporary output and renames it over path when rc is 0 (else removes it).
 * Returns the exit code. */
static int close_output(FILE *f, const char *tmp, const char *path, int rc)
{
    if (fclose(f) != 0 && rc == 0) {
        fprintf(stderr, "predictd predict: %s: write failed: %s\n", path, strerror(errno));
        rc = 1;
    }
    if (!tmp[0]) /* not a regular file: nothing to rename or remove */
        return rc;
    if (rc == 0 && rename(tmp, path) != 0) {
        fprintf(stderr, "predictd predict: %s: %s\n", path, strerror(errno));
        rc = 1;
    }
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int pd_cli_predict(int argc, char **argv)
{
    args_t a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc; /* -1: --help was printed */
    char err[PD_PREDICT_ERRLEN] = "";
    pd_model_t *m = NULL;
    if (pd_model_load(a.model, &m, err, sizeof err)) {
        fprintf(stderr, "predictd predict: %s\n", err);
        return 1;
    }
    if (a.proba && pd_model_schema(m)->task != PD_TASK_CLASSIFICATION) {
        fprintf(stderr, "predictd predict: note: %s is a regressor, which has no "
                        "probabilities; writing its values\n", a.model);
        a.proba = 0;
    }
    FILE *in = fopen(a.input, "rb");
    char tmp[PATH_MAX];
    FILE *out = !in ? NULL : a.output ? open_output(a.output, tmp, sizeof tmp) : stdout;
    if (!in || !out) {
        fprintf(stderr, "predictd predict: %s: %s\n", !in ? a.input : a.output,
                strerror(errno));
        rc = 1;
    } else {
        rc = run(&a, m, in, out, err) ? 1 : 0;
        if (rc)
            fprintf(stderr, "predictd predict: %s\n", err);
        if (fflush(out) != 0 || ferror(out)) {
            if (!rc)
                fprintf(stderr, "predictd predict: %s: write failed: %s\n",
                        a.output ? a.output : "stdout", strerror(errno));
            rc = 1;
        }
    }
    if (in)
        fclose(in);
    if (out && out != stdout)
        rc = close_output(out, tmp, a.output, rc);
    pd_model_free(m);
    return rc;
}
