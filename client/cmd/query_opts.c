/*
 * query_opts.c — the query options of stream, explain and check, the
 * fw_query they build, and the hint for an entity whose v_/tv_ relation is
 * missing.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "query_opts.h"

void
fwc_query_opts_init(fwc_query_opts *o)
{
    memset(o, 0, sizeof *o);
    o->limit = o->offset = -1;
}

int
fwc_parse_count(const char *cmd, const char *text, const char *option, int64_t max, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < 0 || v > max) {
        fwc_usage_error(cmd, "invalid value \"%s\" for %s: expected a whole number from 0 to %"
                        PRId64, text, option, max);
        return -1;
    }
    *out = v;
    return 0;
}

int
fwc_query_option(const char *cmd, int c, const char *arg, fwc_query_opts *o)
{
    int64_t n;

    switch (c) {
    case FWC_OPT_WHERE:
        o->where = arg;
        return 1;
    case FWC_OPT_ORDER_BY:
        if (o->norder >= (int)(sizeof o->order / sizeof *o->order)) {
            fwc_usage_error(cmd, "too many --order-by options (at most %d)",
                            (int)(sizeof o->order / sizeof *o->order));
            return -1;
        }
        o->order[o->norder++] = arg;
        return 1;
    case FWC_OPT_LIMIT:
        return fwc_parse_count(cmd, arg, "--limit", INT64_MAX, &o->limit) < 0 ? -1 : 1;
    case FWC_OPT_OFFSET:
        return fwc_parse_count(cmd, arg, "--offset", INT64_MAX, &o->offset) < 0 ? -1 : 1;
    case FWC_OPT_CHUNK_SIZE:
        if (fwc_parse_count(cmd, arg, "--chunk-size", INT32_MAX, &n) < 0)
            return -1;
        if (n == 0) {
            fwc_usage_error(cmd, "--chunk-size must be at least 1");
            return -1;
        }
        o->chunk = (size_t)n;
        return 1;
    case FWC_OPT_MAX_ROW_BYTES:
        if (fwc_parse_count(cmd, arg, "--max-row-bytes", INT32_MAX, &n) < 0)
            return -1;
        o->max_row_bytes = (size_t)n;
        return 1;
    case FWC_OPT_RELATION:
        o->relation = arg;
        return 1;
    case FWC_OPT_TABLE:
        o->table = 1;
        return 1;
    default:
        return 0;
    }
}

int
fwc_query_operands(const char *cmd, int argc, char **argv, int first, fwc_query_opts *o)
{
    if (first < argc)
        o->entity = argv[first++];
    if (first < argc)
        return fwc_usage_error(cmd, "unexpected argument \"%s\"", argv[first]), -1;
    if (o->entity == NULL && o->relation == NULL)
        return fwc_usage_error(cmd, "missing ENTITY"), -1;
    if (o->table && o->relation)
        return fwc_usage_error(cmd, "--table and --relation exclude each other"), -1;
    return 0;
}

/* "field[:desc][:nulls-last][:numeric]" → fw_query_order_by. */
static int
apply_order(fw_query *q, const char *spec)
{
    char buf[1024];
    char *field = buf, *mods;
    unsigned flags = 0;
    fw_order_type type = FW_ORDER_JSONB;

    if (strlen(spec) >= sizeof buf) {
        fprintf(stderr, "fraiseql-wire: --order-by value too long\n");
        return FWC_EXIT_ERROR;
    }
    strcpy(buf, spec);
    mods = strchr(buf, ':');
    if (mods)
        *mods++ = '\0';
    while (mods && *mods) {
        char *next = strchr(mods, ':');
        if (next)
            *next++ = '\0';
        if (strcmp(mods, "desc") == 0)
            flags |= FW_ORDER_DESC;
        else if (strcmp(mods, "asc") == 0)
            flags &= ~(unsigned)FW_ORDER_DESC;
        else if (strcmp(mods, "nulls-first") == 0)
            flags |= FW_ORDER_NULLS_FIRST;
        else if (strcmp(mods, "nulls-last") == 0)
            flags |= FW_ORDER_NULLS_LAST;
        else if (strcmp(mods, "text") == 0)
            type = FW_ORDER_TEXT;
        else if (strcmp(mods, "numeric") == 0)
            type = FW_ORDER_NUMERIC;
        else if (strcmp(mods, "timestamptz") == 0)
            type = FW_ORDER_TIMESTAMPTZ;
        else if (strcmp(mods, "date") == 0)
            type = FW_ORDER_DATE;
        else if (strcmp(mods, "boolean") == 0)
            type = FW_ORDER_BOOLEAN;
        else if (strcmp(mods, "jsonb") == 0)
            type = FW_ORDER_JSONB;
        else {
            fprintf(stderr, "fraiseql-wire: invalid --order-by \"%s\": unknown modifier \"%s\" "
                    "(desc, asc, nulls-first, nulls-last, text, numeric, timestamptz, date, "
                    "boolean, jsonb)\n", spec, mods);
            return FWC_EXIT_ERROR;
        }
        mods = next;
    }
    if (fw_query_order_by(q, field, type, flags) != FW_OK) {
        fprintf(stderr, "fraiseql-wire: invalid --order-by \"%s\": %s\n", spec, fw_query_error(q));
        return FWC_EXIT_ERROR;
    }
    return FWC_EXIT_OK;
}

int
fwc_query_build(const fwc_query_opts *o, fw_query **out)
{
    fw_query *q = NULL;
    fw_status st = fw_query_new(o->entity ? o->entity : "relation", &q);

    *out = q;
    if (st == FW_ERR_MEMORY || !q) {
        fprintf(stderr, "fraiseql-wire: out of memory\n");
        return FWC_EXIT_ERROR;
    }
    if (st != FW_OK) {
        fprintf(stderr, "fraiseql-wire: %s\n", fw_query_error(q));
        return FWC_EXIT_ERROR;
    }
    if (o->relation && fw_query_set_relation(q, o->relation) != FW_OK) {
        fprintf(stderr, "fraiseql-wire: %s\n", fw_query_error(q));
        return FWC_EXIT_ERROR;
    }
    if (o->table && fw_query_use_table(q) != FW_OK) {
        fprintf(stderr, "fraiseql-wire: %s\n", fw_query_error(q));
        return FWC_EXIT_ERROR;
    }
    if (o->where && fw_query_where(q, o->where) != FW_OK) {
        fprintf(stderr, "fraiseql-wire: --where: %s\n", fw_query_error(q));
        return FWC_EXIT_ERROR;
    }
    for (int i = 0; i < o->norder; i++) {
        int rc = apply_order(q, o->order[i]);
        if (rc != FWC_EXIT_OK)
            return rc;
    }
    if ((o->limit >= 0 && fw_query_limit(q, o->limit) != FW_OK) ||
        (o->offset >= 0 && fw_query_offset(q, o->offset) != FW_OK) ||
        (o->chunk && fw_query_chunk_size(q, o->chunk) != FW_OK) ||
        (o->parallel && fw_query_parallel(q, o->parallel) != FW_OK)) {
        fprintf(stderr, "fraiseql-wire: %s\n", fw_query_error(q));
        return FWC_EXIT_ERROR;
    }
    return FWC_EXIT_OK;
}

/* s as the body of an SQL string literal (quotes doubled), into buf. */
static const char *
literal_body(const char *s, size_t n, char *buf, size_t size)
{
    size_t o = 0;

    for (size_t i = 0; i < n && s[i] && o + 3 < size; i++) {
        if (s[i] == '\'')
            buf[o++] = '\'';
        buf[o++] = s[i];
    }
    buf[o] = '\0';
    return buf;
}

int
fwc_report_query_error(fw_conn *conn, fw_status st, const fwc_query_opts *o)
{
    int rc = fwc_report_error(conn, st);
    const char *state = fw_conn_error_sqlstate(conn);
    const char *msg = fw_conn_error_message(conn);
    const char *prefix = o->table ? "tv_" : "v_";
    const char *name, *dot;
    char needle[300], entity[300], schema[300];

    if (st != FW_ERR_SQL || !state || strcmp(state, "42P01") != 0 || !msg || o->relation ||
        !o->entity || fw_conn_error_hint(conn))
        return rc;
    /* schema.entity: the relation is schema.v_entity */
    dot = strchr(o->entity, '.');
    name = dot ? dot + 1 : o->entity;
    snprintf(needle, sizeof needle, "%s%.200s\"", prefix, name);
    if (!strstr(msg, needle))
        return rc;   /* another relation is missing (one the view reads, say) */
    literal_body(name, strlen(name), entity, sizeof entity);
    literal_body(o->entity, dot ? (size_t)(dot - o->entity) : 0, schema, sizeof schema);
    fprintf(stderr, "HINT:  Create it with: SELECT fraiseql_wire.%s('%s', '%s%sSOURCE_TABLE'); "
            "(docs/extension.md)\n", o->table ? "create_table_view" : "create_view", entity,
            schema, dot ? "." : "");
    return rc;
}

int
fwc_query_parse(const char *cmd, int argc, char **argv, const struct option *longopts,
                void (*usage)(FILE *), fwc_query_opts *o, fwc_conn_opts *conn_opts)
{
    static char name[64];
    int c, r;

    fwc_query_opts_init(o);
    if (argc > 1 && strcmp(argv[1], "-?") == 0) {
        usage(stdout);
        return -1;
    }
    snprintf(name, sizeof name, "fraiseql-wire %s", cmd);
    argv[0] = name;   /* getopt's messages name it */
    fwc_getopt_reset();
    while ((c = getopt_long(argc, argv, FWC_CONN_SHORTOPTS, longopts, NULL)) != -1) {
        if (fwc_conn_option(c, optarg, conn_opts))
            continue;
        if (c == FWC_OPT_HELP) {
            usage(stdout);
            return -1;
        }
        if ((r = fwc_query_option(cmd, c, optarg, o)) < 0)
            return FWC_EXIT_ERROR;
        if (r == 0)   /* '?' or ':': getopt said what */
            return fwc_try_help(cmd);
    }
    if (fwc_query_operands(cmd, argc, argv, optind, o) < 0)
        return FWC_EXIT_ERROR;
    return FWC_EXIT_OK;
}
