/*
 * cmd_common.c — psql's connection options, shared by every subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "conninfo.h"

static const struct {
    char short_name;
    const char *long_name;
    size_t offset;
} conn_options[] = {
    {'d', "dbname", offsetof(fwc_conn_opts, dbname)},
    {'h', "host", offsetof(fwc_conn_opts, host)},
    {'p', "port", offsetof(fwc_conn_opts, port)},
    {'U', "username", offsetof(fwc_conn_opts, user)},
};

int
fwc_conn_option(int argc, char **argv, int *i, fwc_conn_opts *opts)
{
    const char *arg = argv[*i];
    for (size_t k = 0; k < sizeof conn_options / sizeof conn_options[0]; k++) {
        const char *value = NULL;
        int took_next = 0;
        size_t ln = strlen(conn_options[k].long_name);
        if (arg[0] == '-' && arg[1] == conn_options[k].short_name) {
            if (arg[2] != '\0')
                value = arg + 2;
            else
                took_next = 1;
        } else if (strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, conn_options[k].long_name, ln) == 0 &&
                   (arg[2 + ln] == '\0' || arg[2 + ln] == '=')) {
            if (arg[2 + ln] == '=')
                value = arg + 3 + ln;
            else
                took_next = 1;
        } else {
            continue;
        }
        if (took_next) {
            if (*i + 1 >= argc) {
                fprintf(stderr, "fraiseql-wire: option %s needs a value\n", arg);
                return -1;
            }
            value = argv[++*i];
        }
        *(const char **)((char *)opts + conn_options[k].offset) = value;
        ++*i;
        return 1;
    }
    return 0;
}

fw_conninfo *
fwc_conninfo(const fwc_conn_opts *opts, int *exit_status)
{
    const char *keywords[] = {"host", "port", "user", "dbname", "fallback_application_name", NULL};
    const char *values[] = {opts->host, opts->port, opts->user, opts->dbname, "fraiseql-wire", NULL};
    fw_conninfo *ci = NULL;
    fw_status st = fw_conninfo_parse_params(keywords, values, 1, 0, &ci);
    if (st == FW_OK) {
        *exit_status = FWC_EXIT_OK;
        return ci;
    }
    if (st == FW_ERR_MEMORY || ci == NULL) {
        fprintf(stderr, "fraiseql-wire: out of memory\n");
        *exit_status = FWC_EXIT_RUNTIME;
    } else {
        fprintf(stderr, "fraiseql-wire: invalid connection string: %s\n", fw_conninfo_error_message(ci));
        *exit_status = FWC_EXIT_USAGE;
    }
    fw_conninfo_free(ci);
    return NULL;
}
