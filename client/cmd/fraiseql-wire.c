/*
 * fraiseql-wire — stream JSON documents out of PostgreSQL.
 *
 * main() takes psql's connection options (-d -h -p -U -W -w) and the
 * global --help/--version up to the subcommand's name, then hands the rest
 * of argv to the subcommand, which parses its own options (the connection
 * options too) with getopt_long.  `fraiseql-wire help CMD` is CMD --help.
 * A new subcommand is one line in `commands` and one cmd_*.c file.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv, fwc_conn_opts *opts);
    void (*usage)(FILE *out);
    const char *summary;
} commands[] = {
    {"stream", fwc_cmd_stream, fwc_usage_stream,
     "write the documents of v_ENTITY as NDJSON"},
    {"explain", fwc_cmd_explain, fwc_usage_explain,
     "print the SQL, its parameters and the server's plan"},
    {"check", fwc_cmd_check, fwc_usage_check,
     "check that the relation has one json/jsonb column data"},
    {"conninfo", fwc_cmd_conninfo, fwc_usage_conninfo,
     "print the resolved connection parameters"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void
usage(FILE *out)
{
    fprintf(out,
            "fraiseql-wire %s — stream JSON documents out of PostgreSQL\n\n"
            "usage: fraiseql-wire [OPTIONS] COMMAND [COMMAND OPTIONS] [ARGS]\n"
            "       fraiseql-wire help COMMAND\n\n"
            "commands:\n", fw_version_string());
    for (size_t c = 0; c < NCOMMANDS; c++)
        fprintf(out, "  %-10s %s\n", commands[c].name, commands[c].summary);
    fprintf(out,
            "\n'fraiseql-wire COMMAND --help' (or 'fraiseql-wire help COMMAND') shows the\n"
            "options of a command, among them stream's --where, --order-by, --limit.\n\n"
            "options:\n"
            "  -?, --help               this help\n"
            "  -V, --version            the version\n\n"
            FWC_CONN_USAGE
            "\nThe connection options may come before or after COMMAND.  Unset parameters\n"
            "come from the PG* environment variables, as in psql.\n"
            "Exit status (psql's): 0 ok, 1 error (usage, connection string, SQL, schema,\n"
            "output), 2 connection failed or lost, 130/143 interrupted by SIGINT/SIGTERM.\n");
}

static int
find_command(const char *name)
{
    for (size_t c = 0; c < NCOMMANDS; c++)
        if (strcmp(name, commands[c].name) == 0)
            return (int)c;
    return -1;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        FWC_CONN_LONGOPTS,
        {"help", no_argument, NULL, '?'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    fwc_conn_opts opts = {0};
    int c, k;

    /* psql's way with -?: only as the first argument */
    if (argc > 1 && strcmp(argv[1], "-?") == 0) {
        usage(stdout);
        return FWC_EXIT_OK;
    }
    argv[0] = "fraiseql-wire";   /* getopt's messages name the command, not its path */
    fwc_getopt_reset();
    /* '+': stop at the first operand, the subcommand's name */
    while ((c = getopt_long(argc, argv, "+" FWC_CONN_SHORTOPTS "V", longopts, NULL)) != -1) {
        if (fwc_conn_option(c, optarg, &opts))
            continue;
        if (c == 'V') {
            printf("fraiseql-wire %s\n", fw_version_string());
            return FWC_EXIT_OK;
        }
        if (c == '?' && optopt == 0 && strcmp(argv[optind - 1], "--help") == 0) {
            usage(stdout);
            return FWC_EXIT_OK;
        }
        return fwc_try_help(NULL);   /* getopt said what */
    }
    if (optind >= argc)
        return fwc_usage_error(NULL, "no command given");
    if (strcmp(argv[optind], "help") == 0) {
        if (optind + 1 >= argc) {
            usage(stdout);
            return FWC_EXIT_OK;
        }
        if ((k = find_command(argv[optind + 1])) < 0)
            return fwc_usage_error(NULL, "unknown command \"%s\"", argv[optind + 1]);
        commands[k].usage(stdout);
        return FWC_EXIT_OK;
    }
    if ((k = find_command(argv[optind])) < 0)
        return fwc_usage_error(NULL, "unknown command \"%s\"", argv[optind]);
    return commands[k].run(argc - optind, argv + optind, &opts);
}
