/* inspect.c - `predictd inspect MODEL`: loads the model (every check the server makes)
 * and prints its schema and sizes as "key: value" lines on stdout. Exit 0, 1 when the
 * model does not load (the loader's one-line message on stderr), 2 on usage errors. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "model/model.h"

static void put_list(const char *key, const char *const *names, size_t n)
{
    printf("%s (%zu):", key, n);
    for (size_t i = 0; i < n; i++)
        printf(" %s%s", names[i], i + 1 < n ? "," : "");
    putchar('\n');
}

/* "string_inputs (2): plan (4 categories), city (7 categories, unknown refused)" for a
 * model with string columns; nothing otherwise. */
static void put_strings(const pd_model_schema_t *s)
{
    size_t n = 0;
    for (size_t i = 0; s->has_strings && i < s->n_features; i++)
        n += s->inputs[i].type == PD_INPUT_STRING;
    if (n == 0)
        return;
    printf("string_inputs (%zu):", n);
    for (size_t i = 0, k = 0; i < s->n_features; i++) {
        const pd_model_input_t *in = &s->inputs[i];
        if (in->type != PD_INPUT_STRING)
            continue;
        printf(" %s (%zu categories%s)%s", s->feature_names[i], in->n_categories,
               in->unknown_error ? ", unknown refused" : "", ++k < n ? "," : "");
    }
    putchar('\n');
}

int pd_cli_inspect(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "predictd inspect: expected exactly one MODEL file\n"
                        "usage: predictd inspect MODEL\n");
        return 2;
    }
    char err[1024];
    pd_model_t *m = NULL;
    if (pd_model_load(argv[1], &m, err, sizeof err)) {
        fprintf(stderr, "predictd inspect: %s\n", err);
        return 1;
    }
    const pd_model_schema_t *s = pd_model_schema(m);
    pd_model_stats_t st;
    pd_model_stats(m, &st);
    printf("name: %s\nversion: %s\nsource: %s\nkind: %s\ntask: %s\n", s->name, s->version,
           s->source, s->kind, s->task == PD_TASK_CLASSIFICATION ? "classification"
                                                                 : "regression");
    put_list("features", s->feature_names, s->n_features);
    put_strings(s);
    if (s->task == PD_TASK_CLASSIFICATION) {
        if (s->labels_are_strings) {
            put_list("classes", s->class_labels_str, s->n_classes);
        } else {
            printf("classes (%zu):", s->n_classes);
            for (size_t i = 0; i < s->n_classes; i++)
                printf(" %lld%s", (long long)s->class_labels_int[i],
                       i + 1 < s->n_classes ? "," : "");
            putchar('\n');
        }
    }
    printf("trees: %zu\nnodes: %zu\nlayers: %zu\nparameters: %zu\nmemory_bytes: %zu\n",
           st.n_trees, st.n_nodes, st.n_layers, st.n_params, st.bytes);
    pd_model_free(m);
    return 0;
}
