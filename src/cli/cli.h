/* cli.h - the predictd subcommands. Each takes the arguments after its own name
 * (argv[0] is the subcommand) and returns the process exit code:
 * 0 success, 1 runtime failure, 2 usage error (one clear line on stderr). */
#ifndef PD_CLI_H
#define PD_CLI_H

/* predictd serve [options] [MODEL_FILE|DIR ...]: runs the HTTP server until SIGTERM/SIGINT. */
int pd_cli_serve(int argc, char **argv);
/* predictd predict MODEL --input X.csv [--output Y.csv] [--proba] [--threads N] */
int pd_cli_predict(int argc, char **argv);
/* predictd inspect MODEL: prints the schema and sizes. */
int pd_cli_inspect(int argc, char **argv);

#endif
