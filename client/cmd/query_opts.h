/*
 * query_opts.h — the query options that stream, explain and check share
 * (--where, --order-by, --limit, …): their getopt_long entries, parsing,
 * the fw_query they build, and the hint for an entity without its view.
 */
#ifndef FW_CMD_QUERY_OPTS_H
#define FW_CMD_QUERY_OPTS_H

#include <stdint.h>

#include "cmd.h"

/* getopt_long values of the long-only options (above any character). */
enum {
    FWC_OPT_HELP = 256,
    FWC_OPT_WHERE,
    FWC_OPT_ORDER_BY,
    FWC_OPT_LIMIT,
    FWC_OPT_OFFSET,
    FWC_OPT_CHUNK_SIZE,
    FWC_OPT_TABLE,
    FWC_OPT_RELATION,
    FWC_OPT_MAX_ROW_BYTES,
    FWC_OPT_FIRST_FREE   /* a subcommand's own options start here */
};

#define FWC_QUERY_LONGOPTS                                              \
    {"where", required_argument, NULL, FWC_OPT_WHERE},                  \
    {"order-by", required_argument, NULL, FWC_OPT_ORDER_BY},            \
    {"limit", required_argument, NULL, FWC_OPT_LIMIT},                  \
    {"offset", required_argument, NULL, FWC_OPT_OFFSET},                \
    {"chunk-size", required_argument, NULL, FWC_OPT_CHUNK_SIZE},        \
    {"table", no_argument, NULL, FWC_OPT_TABLE},                        \
    {"relation", required_argument, NULL, FWC_OPT_RELATION},            \
    {"max-row-bytes", required_argument, NULL, FWC_OPT_MAX_ROW_BYTES}

#define FWC_QUERY_USAGE                                                             \
    "query options:\n"                                                              \
    "  --where=JSON             filter document (docs/filters.md), run by the server\n" \
    "  --order-by=FIELD[:desc][:nulls-first|:nulls-last][:TYPE]\n"                  \
    "                           sort by a field path (a.b); TYPE text, numeric,\n"  \
    "                           timestamptz, date, boolean or jsonb; repeatable\n"  \
    "  --limit=N, --offset=N    row limit and offset\n"                             \
    "  --chunk-size=N           rows per Execute (default 1024)\n"                  \
    "  --table                  read tv_ENTITY instead of v_ENTITY\n"               \
    "  --relation=NAME          read this relation instead\n"                       \
    "  --max-row-bytes=N        refuse rows larger than N bytes\n"

typedef struct fwc_query_opts {
    const char *entity;
    const char *where;
    const char *relation;
    int table;
    int64_t limit, offset;   /* -1 = not given */
    size_t chunk;            /* 0 = the default */
    size_t max_row_bytes;    /* 0 = none */
    int parallel;            /* 0 = serial (stream only) */
    const char *order[32];
    int norder;
} fwc_query_opts;

void fwc_query_opts_init(fwc_query_opts *o);

/* Takes getopt_long's result c when it is a query option: 1 (stored), 0
 * (not one), -1 (bad value: message printed). */
int fwc_query_option(const char *cmd, int c, const char *arg, fwc_query_opts *o);

/* A whole number from 0 to max, else -1 with a usage error printed. */
int fwc_parse_count(const char *cmd, const char *text, const char *option, int64_t max,
                    int64_t *out);

/* The operands after the options (argv[optind..]): ENTITY, required unless
 * --relation.  Returns 0, or -1 with a usage error printed. */
int fwc_query_operands(const char *cmd, int argc, char **argv, int first, fwc_query_opts *o);

/* The fw_query of the options: FWC_EXIT_OK, or an exit status with the
 * message printed (*out may be set then too: free it). */
int fwc_query_build(const fwc_query_opts *o, fw_query **out);

/*
 * getopt_long over argv (after the subcommand's name) with longopts, which
 * hold FWC_CONN_LONGOPTS, {"help", …, FWC_OPT_HELP} and any of the query
 * options; then the ENTITY operand.  Returns FWC_EXIT_OK, -1 after printing
 * the help (-?, --help), or an exit status after a usage error.
 */
int fwc_query_parse(const char *cmd, int argc, char **argv, const struct option *longopts,
                    void (*usage)(FILE *), fwc_query_opts *o, fwc_conn_opts *conn_opts);

/* fwc_report_error, then, when the relation the entity names does not
 * exist (42P01), the extension call that creates it. */
int fwc_report_query_error(fw_conn *conn, fw_status st, const fwc_query_opts *o);

#endif /* FW_CMD_QUERY_OPTS_H */
