/*
 * cmd_conninfo.c — `fraiseql-wire conninfo`: the resolved connection
 * parameters, one keyword=value a line, in the library's stable order.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

enum { OPT_PARSE_ONLY = 256, OPT_SHOW_PASSWORD, OPT_HELP };

void
fwc_usage_conninfo(FILE *out)
{
    fprintf(out,
            "fraiseql-wire conninfo — print the resolved connection parameters\n\n"
            "usage: fraiseql-wire conninfo [OPTIONS] [CONNINFO]\n\n"
            "Prints every connection parameter that has a value, after the PG* variables\n"
            "and the defaults, as keyword=value lines.  CONNINFO is a database name, a\n"
            "keyword=value string or a postgresql:// URI (as psql's -d).  Without\n"
            "--parse-only it connects first and adds server_version, ssl, backend_pid.\n\n"
            "options:\n"
            "  --parse-only             only parse; do not connect\n"
            "  --show-password          print the password instead of ********\n"
            "  --help                   this help\n\n"
            FWC_CONN_USAGE
            "\nExit status: 0 ok, 1 error (usage, connection string), 2 connection failed.\n");
}

int
fwc_cmd_conninfo(int argc, char **argv, fwc_conn_opts *opts)
{
    static const struct option longopts[] = {
        FWC_CONN_LONGOPTS,
        {"parse-only", no_argument, NULL, OPT_PARSE_ONLY},
        {"show-password", no_argument, NULL, OPT_SHOW_PASSWORD},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int parse_only = 0, show_password = 0, c;
    const char *positional = NULL;

    if (argc > 1 && strcmp(argv[1], "-?") == 0) {
        fwc_usage_conninfo(stdout);
        return FWC_EXIT_OK;
    }
    argv[0] = "fraiseql-wire conninfo";   /* getopt's messages name it */
    fwc_getopt_reset();
    while ((c = getopt_long(argc, argv, FWC_CONN_SHORTOPTS, longopts, NULL)) != -1) {
        if (fwc_conn_option(c, optarg, opts))
            continue;
        switch (c) {
        case OPT_PARSE_ONLY:
            parse_only = 1;
            break;
        case OPT_SHOW_PASSWORD:
            show_password = 1;
            break;
        case OPT_HELP:
            fwc_usage_conninfo(stdout);
            return FWC_EXIT_OK;
        default:
            return fwc_try_help("conninfo");
        }
    }
    if (optind < argc)
        positional = argv[optind++];
    if (optind < argc)
        return fwc_usage_error("conninfo", "unexpected argument \"%s\"", argv[optind]);
    if (positional != NULL) {
        if (opts->dbname != NULL)
            return fwc_usage_error("conninfo", "give the connection string either with -d or "
                                   "as an argument, not both");
        opts->dbname = positional;
    }

    int status;
    fw_conn *conn = NULL;
    fw_conninfo *ci = NULL;
    if (!parse_only) {
        /* Connect first, so that what is printed is what the server took
         * (the password typed at a prompt included). */
        status = fwc_connect(opts, &conn, &ci);
        if (status != FWC_EXIT_OK)
            return status;
    }
    if (ci == NULL && (ci = fwc_conninfo(opts, NULL, &status)) == NULL) {
        fw_conn_free(conn);
        return status;
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
        return FWC_EXIT_ERROR;
    }
    return FWC_EXIT_OK;
}
