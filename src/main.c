/* main.c - predictd's entry point: dispatches to a subcommand (src/cli/). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
    fputs("predictd " PD_VERSION " - a prediction server for scikit-learn and XGBoost models\n"
          "\n"
          "usage: predictd serve [options] [MODEL_FILE|MODEL_DIR ...]   serve models over HTTP\n"
          "       predictd predict MODEL --input X.csv [--output Y.csv] [--proba] [--threads N]\n"
          "       predictd inspect MODEL                                print schema and sizes\n"
          "       predictd --version | --help\n"
          "\n"
          "'predictd serve --help' lists the server's options.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        puts("predictd " PD_VERSION);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0)
        return pd_cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "predict") == 0)
        return pd_cli_predict(argc - 1, argv + 1);
    if (strcmp(cmd, "inspect") == 0)
        return pd_cli_inspect(argc - 1, argv + 1);
    fprintf(stderr, "predictd: unknown command '%s' (try 'predictd --help')\n", cmd);
    return 2;
}
