/*
 * fraiseql-wire — stream JSON documents out of PostgreSQL.
 */
#include <stdio.h>
#include <string.h>

#include "fraiseql_wire.h"

static void
usage(FILE *out)
{
    fprintf(out,
            "fraiseql-wire %s — stream JSON documents out of PostgreSQL\n\n"
            "usage: fraiseql-wire [OPTIONS] COMMAND [ARGS]\n\n"
            "commands:\n"
            "  conninfo [--parse-only] [--show-password] CONNINFO\n",
            fw_version_string());
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("fraiseql-wire %s\n", fw_version_string());
        return 0;
    }
    fprintf(stderr, "fraiseql-wire: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
