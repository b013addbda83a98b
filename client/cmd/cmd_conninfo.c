/*
 * cmd_conninfo.c — `fraiseql-wire conninfo`: the resolved connection
 * parameters, one keyword=value a line, in the library's stable order.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static void
conninfo_usage(FILE *out)
{
    fprintf(out,
            "usage: fraiseql-wire conninfo [--parse-only] [--show-password] [CONNINFO]\n\n"
            "Prints every connection parameter that has a value, after the PG* variables\n"
            "and the defaults, as keyword=value lines.  CONNINFO is a database name, a\n"
            "keyword=value string or a postgresql:// URI (as psql's -d).\n\n"
            "  --parse-only      only parse; do not connect\n"
            "  --show-password   print the password instead of ********\n"
            "  -d, -h, -p, -U    as psql's connection options\n");
}

int
fwc_cmd_conninfo(int argc, char **argv, fwc_conn_opts *opts)
{
    int parse_only = 0, show_password = 0;
    const char *positional = NULL;
    for (int i = 1; i < argc;) {
        const char *arg = argv[i];
        int took = fwc_conn_option(argc, argv, &i, opts);
        if (took < 0)
            return FWC_EXIT_USAGE;
        if (took > 0)
            continue;
        if (strcmp(arg, "--parse-only") == 0) {
            parse_only = 1;
        } else if (strcmp(arg, "--show-password") == 0) {
            show_password = 1;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-?") == 0) {
            conninfo_usage(stdout);
            return FWC_EXIT_OK;
        } else if (strcmp(arg, "--") == 0 && i + 1 < argc && positional == NULL && i + 2 == argc) {
            positional = argv[++i];
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "fraiseql-wire: conninfo: unknown option \"%s\"\n", arg);
            conninfo_usage(stderr);
            return FWC_EXIT_USAGE;
        } else if (positional == NULL) {
            positional = arg;
        } else {
            fprintf(stderr, "fraiseql-wire: conninfo: extra argument \"%s\"\n", arg);
            conninfo_usage(stderr);
            return FWC_EXIT_USAGE;
        }
        i++;
    }
    if (positional != NULL) {
        if (opts->dbname != NULL) {
            fprintf(stderr, "fraiseql-wire: conninfo: give the connection string either with -d "
                            "or as an argument, not both\n");
            return FWC_EXIT_USAGE;
        }
        opts->dbname = positional;
    }

    int status;
    fw_conninfo *ci = fwc_conninfo(opts, &status);
    if (ci == NULL)
        return status;
    fw_conn *conn = NULL;
    if (!parse_only) {
        /* Connect first, so that what is printed is what the server took. */
        fw_status st = fw_conn_connect_info(ci, &conn);
        if (st != FW_OK) {
            const char *state = fw_conn_error_sqlstate(conn);
            fprintf(stderr, "fraiseql-wire: %s error%s%s%s: %s\n", fw_status_name(st),
                    state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "",
                    conn && fw_conn_error_message(conn) ? fw_conn_error_message(conn)
                                                        : fw_status_name(st));
            fw_conn_free(conn);
            fw_conninfo_free(ci);
            return st == FW_ERR_CONFIG ? FWC_EXIT_USAGE : FWC_EXIT_RUNTIME;
        }
    }
    size_t n = fw_conninfo_count(ci);
    for (size_t k = 0; k < n; k++) {
        const char *value;
        const char *keyword = fw_conninfo_keyword(ci, k, &value);
        if (value == NULL)
            continue;
        if (strcmp(keyword, "password") == 0 && !show_password)
            value = "********";
        printf("%s=%s\n", keyword, value);
    }
    if (conn) {
        const char *version = fw_conn_parameter(conn, "server_version");
        printf("server_version=%s\n", version ? version : "");
        printf("ssl=%s\n", fw_conn_tls(conn) ? "on" : "off");
        printf("backend_pid=%d\n", fw_conn_backend_pid(conn));
        fw_conn_free(conn);
    }
    fw_conninfo_free(ci);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("fraiseql-wire: stdout");
        return FWC_EXIT_RUNTIME;
    }
    return FWC_EXIT_OK;
}
