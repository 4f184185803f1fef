/* commands.h - the prunelab subcommands: each is a function taking argc/argv after the
 * subcommand name and returning the process exit status. main.c dispatches by name. */
#ifndef PL_CLI_COMMANDS_H
#define PL_CLI_COMMANDS_H

typedef int (*pl_command_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    pl_command_fn run;
    const char *summary; /* one line for `prunelab help` */
} pl_command;

int cmd_version(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_slurm(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_help(int argc, char **argv); /* `prunelab help <topic> ...` */

#endif
