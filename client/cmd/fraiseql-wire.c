/*
 * fraiseql-wire — stream JSON documents out of PostgreSQL.
 *
 * main() takes psql's connection options (-d -h -p -U) and the global
 * --help/--version, then hands the rest of argv to the subcommand, which may
 * take the connection options too.  A new subcommand is one line in
 * `commands` and one cmd_*.c file.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv, fwc_conn_opts *opts);
} commands[] = {
    {"stream", fwc_cmd_stream},
    {"explain", fwc_cmd_explain},
    {"check", fwc_cmd_check},
    {"conninfo", fwc_cmd_conninfo},
};

static void
usage(FILE *out)
{
    fprintf(out,
            "fraiseql-wire %s — stream JSON documents out of PostgreSQL\n\n"
            "usage: fraiseql-wire [OPTIONS] COMMAND [ARGS]\n\n"
            "options:\n"
            "  -d, --dbname=CONNINFO    database name or connection string\n"
            "  -h, --host=HOST          server host or socket directory\n"
            "  -p, --port=PORT          server port\n"
            "  -U, --username=USER      user name\n"
            "  -?, --help               this help\n"
            "  -V, --version            the version\n\n"
            "commands:\n"
            "  stream ENTITY [QUERY OPTIONS] [--array] [--progress] [--timeout SECONDS]\n"
            "         [--statement-timeout MS]\n"
            "                           write the documents of v_ENTITY as NDJSON; Ctrl-C\n"
            "                           cancels the query, a second Ctrl-C closes at once\n"
            "  explain ENTITY [QUERY OPTIONS]\n"
            "                           print the SQL, its parameters and the server's plan\n"
            "  check ENTITY [--table | --relation NAME]\n"
            "                           check that the relation has one json/jsonb column data\n"
            "  conninfo [--parse-only] [--show-password] [CONNINFO]\n"
            "                           print the resolved connection parameters\n\n"
            "query options:\n"
            "  --where JSON             filter document (docs/filters.md), run by the server\n"
            "  --order-by FIELD[:desc][:nulls-first|:nulls-last][:TYPE]\n"
            "                           sort by a field path (a.b); TYPE text, numeric,\n"
            "                           timestamptz, date, boolean or jsonb; repeatable\n"
            "  --limit N, --offset N    row limit and offset\n"
            "  --chunk-size N           rows per Execute (default 1024)\n"
            "  --table                  read tv_ENTITY instead of v_ENTITY\n"
            "  --relation NAME          read this relation instead\n"
            "  --max-row-bytes N        refuse rows larger than N bytes\n"
            "  --timeout SECONDS        (stream) cancel the query after this long\n"
            "  --statement-timeout MS   (stream) statement_timeout for the stream\n\n"
            "Unset parameters come from the PG* environment variables, as in psql.\n"
            "Exit status: 0 ok, 1 runtime error (or --timeout), 2 usage or connection string\n"
            "error, 130/143 interrupted by SIGINT/SIGTERM.\n",
            fw_version_string());
}

int
main(int argc, char **argv)
{
    fwc_conn_opts opts = {0};
    int i = 1;
    while (i < argc) {
        const char *arg = argv[i];
        int took = fwc_conn_option(argc, argv, &i, &opts);
        if (took < 0)
            return FWC_EXIT_USAGE;
        if (took > 0)
            continue;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-?") == 0) {
            usage(stdout);
            return FWC_EXIT_OK;
        }
        if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
            printf("fraiseql-wire %s\n", fw_version_string());
            return FWC_EXIT_OK;
        }
        if (arg[0] == '-') {
            fprintf(stderr, "fraiseql-wire: unknown option \"%s\"\n", arg);
            usage(stderr);
            return FWC_EXIT_USAGE;
        }
        break;
    }
    if (i >= argc) {
        fprintf(stderr, "fraiseql-wire: no command given\n");
        usage(stderr);
        return FWC_EXIT_USAGE;
    }
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].run(argc - i, argv + i, &opts);
    fprintf(stderr, "fraiseql-wire: unknown command \"%s\"\n", argv[i]);
    usage(stderr);
    return FWC_EXIT_USAGE;
}
