/*
 * stream_cmd.c — the stream, explain and check subcommands of fraiseql-wire.
 *
 *   stream ENTITY [query options] [--parallel N] [--array] [--progress]
 *   explain ENTITY [query options]
 *   check ENTITY [--table | --relation NAME]
 *
 * Query options: --where JSON, --order-by FIELD[:desc][:asc][:nulls-first]
 * [:nulls-last][:text|:numeric|:timestamptz|:date|:boolean|:jsonb] (repeat
 * for several keys), --limit N, --offset N, --chunk-size N, --table,
 * --relation NAME, --max-row-bytes N.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fraiseql_wire.h"
#include "cmd.h"

#define EXIT_OK FWC_EXIT_OK
#define EXIT_RUNTIME FWC_EXIT_RUNTIME
#define EXIT_USAGE FWC_EXIT_USAGE

typedef struct stream_opts {
    const char *entity;
    const char *where;
    const char *relation;
    int table;
    int array;
    int progress;
    int64_t limit, offset;
    size_t chunk;
    size_t max_row_bytes;
    int parallel;            /* 0 = serial */
    const char *order[32];
    int norder;
} stream_opts;

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fraiseql-wire: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry \"fraiseql-wire --help\" for more information.\n");
    return EXIT_USAGE;
}

static int
parse_count(const char *text, const char *option, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < 0 || v > max) {
        fprintf(stderr, "fraiseql-wire: invalid value \"%s\" for %s: expected a whole number "
                "from 0 to %" PRId64 "\n", text, option, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Parses argv after the subcommand name.  Returns -1 on a usage error
 * (message printed). */
static int
parse_stream_opts(int argc, char **argv, stream_opts *o, int allow_output_opts,
                  fwc_conn_opts *conn_opts)
{
    memset(o, 0, sizeof *o);
    o->limit = o->offset = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        int64_t n;
        int took = fwc_conn_option(argc, argv, &i, conn_opts);
        if (took < 0)
            return -1;
        if (took > 0) {
            i--;   /* fwc_conn_option advanced past the option */
            continue;
        }
#define NEEDS_VALUE()                                                                 \
    do {                                                                              \
        if (i + 1 >= argc) {                                                          \
            usage_error("option %s needs a value", a);                                \
            return -1;                                                                \
        }                                                                             \
        val = argv[++i];                                                              \
    } while (0)
        if (strcmp(a, "--where") == 0) {
            NEEDS_VALUE();
            o->where = val;
        } else if (strcmp(a, "--order-by") == 0) {
            NEEDS_VALUE();
            if (o->norder >= (int)(sizeof o->order / sizeof *o->order)) {
                usage_error("too many %s options", a);
                return -1;
            }
            o->order[o->norder++] = val;
        } else if (strcmp(a, "--limit") == 0) {
            NEEDS_VALUE();
            if (parse_count(val, a, INT64_MAX, &o->limit) < 0)
                return -1;
        } else if (strcmp(a, "--offset") == 0) {
            NEEDS_VALUE();
            if (parse_count(val, a, INT64_MAX, &o->offset) < 0)
                return -1;
        } else if (strcmp(a, "--chunk-size") == 0) {
            NEEDS_VALUE();
            if (parse_count(val, a, INT32_MAX, &n) < 0)
                return -1;
            if (n == 0) {
                usage_error("%s must be at least 1", a);
                return -1;
            }
            o->chunk = (size_t)n;
        } else if (strcmp(a, "--max-row-bytes") == 0) {
            NEEDS_VALUE();
            if (parse_count(val, a, INT32_MAX, &n) < 0)
                return -1;
            o->max_row_bytes = (size_t)n;
        } else if (strcmp(a, "--relation") == 0) {
            NEEDS_VALUE();
            o->relation = val;
        } else if (strcmp(a, "--table") == 0) {
            o->table = 1;
        } else if (allow_output_opts && strcmp(a, "--parallel") == 0) {
            NEEDS_VALUE();
            if (parse_count(val, a, 1024, &n) < 0)
                return -1;
            if (n == 0) {
                usage_error("%s must be at least 1", a);
                return -1;
            }
            o->parallel = (int)n;
        } else if (allow_output_opts && strcmp(a, "--array") == 0) {
            o->array = 1;
        } else if (allow_output_opts && strcmp(a, "--progress") == 0) {
            o->progress = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            usage_error("unknown option %s", a);
            return -1;
        } else if (o->entity == NULL) {
            o->entity = a;
        } else {
            usage_error("unexpected argument \"%s\"", a);
            return -1;
        }
#undef NEEDS_VALUE
    }
    if (o->entity == NULL && o->relation == NULL) {
        usage_error("missing ENTITY");
        return -1;
    }
    if (o->table && o->relation) {
        usage_error("--table and --relation exclude each other");
        return -1;
    }
    if (o->parallel > 1 && o->offset >= 0) {
        usage_error("--offset cannot be used with --parallel (each part would skip its own rows)");
        return -1;
    }
    return 0;
}

/* "field[:desc][:nulls-last][:numeric]" → fw_query_order_by. */
static int
apply_order(fw_query *q, const char *spec)
{
    char buf[1024];
    if (strlen(spec) >= sizeof buf) {
        fprintf(stderr, "fraiseql-wire: --order-by value too long\n");
        return EXIT_USAGE;
    }
    strcpy(buf, spec);
    char *field = buf;
    char *mods = strchr(buf, ':');
    unsigned flags = 0;
    fw_order_type type = FW_ORDER_JSONB;
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
            return EXIT_USAGE;
        }
        mods = next;
    }
    if (fw_query_order_by(q, field, type, flags) != FW_OK) {
        fprintf(stderr, "fraiseql-wire: invalid --order-by \"%s\": %s\n", spec, fw_query_error(q));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static int
build_query(const stream_opts *o, fw_query **out)
{
    fw_query *q = NULL;
    fw_status st = fw_query_new(o->entity ? o->entity : "relation", &q);
    *out = q;
    if (st == FW_ERR_MEMORY || !q) {
        fprintf(stderr, "fraiseql-wire: out of memory\n");
        return EXIT_RUNTIME;
    }
    if (st != FW_OK) {
        fprintf(stderr, "fraiseql-wire: %s\n", fw_query_error(q));
        return EXIT_USAGE;
    }
    if (o->relation && fw_query_set_relation(q, o->relation) != FW_OK) {
        fprintf(stderr, "fraiseql-wire: %s\n", fw_query_error(q));
        return EXIT_USAGE;
    }
    if (o->table && fw_query_use_table(q) != FW_OK) {
        fprintf(stderr, "fraiseql-wire: %s\n", fw_query_error(q));
        return EXIT_USAGE;
    }
    if (o->where && fw_query_where(q, o->where) != FW_OK) {
        fprintf(stderr, "fraiseql-wire: --where: %s\n", fw_query_error(q));
        return EXIT_USAGE;
    }
    for (int i = 0; i < o->norder; i++) {
        int rc = apply_order(q, o->order[i]);
        if (rc != EXIT_OK)
            return rc;
    }
    if ((o->limit >= 0 && fw_query_limit(q, o->limit) != FW_OK) ||
        (o->offset >= 0 && fw_query_offset(q, o->offset) != FW_OK) ||
        (o->chunk && fw_query_chunk_size(q, o->chunk) != FW_OK) ||
        (o->parallel && fw_query_parallel(q, o->parallel) != FW_OK)) {
        fprintf(stderr, "fraiseql-wire: %s\n", fw_query_error(q));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Prints the connection's last error the way psql does, with the SQLSTATE. */
static int
report_error(fw_conn *conn, fw_status st)
{
    const char *msg = fw_conn_error_message(conn);
    const char *state = fw_conn_error_sqlstate(conn);
    fprintf(stderr, "fraiseql-wire: %s error", fw_strerror(st));
    if (state)
        fprintf(stderr, " (SQLSTATE %s)", state);
    fprintf(stderr, ": %s\n", msg ? msg : fw_strerror(st));
    if (fw_conn_error_detail(conn))
        fprintf(stderr, "DETAIL:  %s\n", fw_conn_error_detail(conn));
    if (fw_conn_error_hint(conn))
        fprintf(stderr, "HINT:  %s\n", fw_conn_error_hint(conn));
    return EXIT_RUNTIME;
}

static int
open_connection(const fwc_conn_opts *opts, fw_conn **out)
{
    int rc = EXIT_OK;
    fw_conninfo *ci = fwc_conninfo(opts, &rc);
    if (!ci)
        return rc;
    fw_status st = fw_connect_info(ci, out);
    fw_conninfo_free(ci);
    if (st == FW_OK)
        return EXIT_OK;
    if (!*out) {
        fprintf(stderr, "fraiseql-wire: out of memory\n");
        return EXIT_RUNTIME;
    }
    if (st == FW_ERR_CONFIG) {
        fprintf(stderr, "fraiseql-wire: invalid connection string: %s\n",
                fw_conn_error_message(*out));
        return EXIT_USAGE;
    }
    return report_error(*out, st);
}

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
print_progress(uint64_t rows, uint64_t bytes, double elapsed, int final)
{
    double rate = elapsed > 0 ? (double)rows / elapsed : 0.0;
    fprintf(stderr, "\r%" PRIu64 " rows, %.1f MB, %.0f rows/s%s", rows,
            (double)bytes / (1024.0 * 1024.0), rate, final ? "\n" : "   ");
}

int
fwc_cmd_stream(int argc, char **argv, fwc_conn_opts *conn_opts)
{
    stream_opts o;
    fw_query *q = NULL;
    fw_conn *conn = NULL;
    fw_stream *s = NULL;
    int rc;

    if (parse_stream_opts(argc, argv, &o, 1, conn_opts) < 0)
        return EXIT_USAGE;
    rc = build_query(&o, &q);
    if (rc != EXIT_OK)
        goto done;
    rc = open_connection(conn_opts, &conn);
    if (rc != EXIT_OK)
        goto done;
    if (o.max_row_bytes)
        fw_conn_set_max_row_bytes(conn, o.max_row_bytes);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    int progress = o.progress || isatty(STDERR_FILENO);

    fw_status st = fw_stream_open(conn, q, &s);
    if (st != FW_OK) {
        rc = report_error(conn, st);
        goto done;
    }
    double start = now_seconds(), last = start;
    uint64_t n = 0;
    const char *json;
    size_t len;
    int write_failed = 0;
    if (o.array)
        fputs("[", stdout);
    while (!interrupted && (st = fw_stream_next(s, &json, &len)) == FW_OK) {
        if (o.array && n > 0)
            fputc(',', stdout);
        if (o.array)
            fputc('\n', stdout);
        if (json)
            fwrite(json, 1, len, stdout);
        else
            fputs("null", stdout);
        if (!o.array)
            fputc('\n', stdout);
        n++;
        if (ferror(stdout)) {
            write_failed = 1;
            break;
        }
        if (progress && (n & 1023) == 0) {
            double t = now_seconds();
            if (t - last >= 0.5) {
                print_progress(fw_stream_rows(s), fw_stream_bytes(s), t - start, 0);
                last = t;
            }
        }
    }
    if (interrupted) {
        fw_stream_cancel(s);
        fprintf(stderr, "fraiseql-wire: cancelled\n");
        rc = 130;
    } else if (write_failed) {
        /* The reader went away (e.g. `| head`): stop quietly. */
        rc = errno == EPIPE ? EXIT_OK : EXIT_RUNTIME;
        if (rc != EXIT_OK)
            fprintf(stderr, "fraiseql-wire: writing the output: %s\n", strerror(errno));
    } else if (st != FW_DONE) {
        rc = report_error(conn, st);
    } else {
        if (o.array)
            fputs(n > 0 ? "\n]\n" : "]\n", stdout);
        rc = EXIT_OK;
    }
    if (progress)
        print_progress(fw_stream_rows(s), fw_stream_bytes(s), now_seconds() - start, 1);
    if (fflush(stdout) != 0 && rc == EXIT_OK && errno != EPIPE) {
        fprintf(stderr, "fraiseql-wire: writing the output: %s\n", strerror(errno));
        rc = EXIT_RUNTIME;
    }
done:
    fw_stream_close(s);
    fw_conn_free(conn);
    fw_query_free(q);
    return rc;
}

int
fwc_cmd_explain(int argc, char **argv, fwc_conn_opts *conn_opts)
{
    stream_opts o;
    fw_query *q = NULL;
    fw_conn *conn = NULL;
    fw_stream *s = NULL;
    int rc;

    if (parse_stream_opts(argc, argv, &o, 0, conn_opts) < 0)
        return EXIT_USAGE;
    rc = build_query(&o, &q);
    if (rc != EXIT_OK)
        goto done;
    const char *sql = fw_query_sql(q);
    if (!sql) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    printf("%s\n", sql);
    for (int i = 0; i < fw_query_nparams(q); i++)
        printf("  $%d = %s\n", i + 1, fw_query_param(q, i));
    rc = open_connection(conn_opts, &conn);
    if (rc != EXIT_OK)
        goto done;

    /* EXPLAIN with the same parameters: the server plans what it would run. */
    size_t n = strlen(sql) + sizeof "EXPLAIN ";
    char *explain = malloc(n);
    if (!explain) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    snprintf(explain, n, "EXPLAIN %s", sql);
    int np = fw_query_nparams(q);
    const char **params = calloc(np > 0 ? (size_t)np : 1, sizeof *params);
    if (!params) {
        free(explain);
        rc = EXIT_RUNTIME;
        goto done;
    }
    for (int i = 0; i < np; i++)
        params[i] = fw_query_param(q, i);
    fw_status st = fw_stream_sql_text(conn, explain, np, params, 0, &s);
    free(params);
    free(explain);
    if (st != FW_OK) {
        rc = report_error(conn, st);
        goto done;
    }
    printf("\n");
    const char *line;
    size_t len;
    while ((st = fw_stream_next(s, &line, &len)) == FW_OK)
        printf("%.*s\n", (int)len, line ? line : "");
    rc = st == FW_DONE ? EXIT_OK : report_error(conn, st);
done:
    fw_stream_close(s);
    fw_conn_free(conn);
    fw_query_free(q);
    return rc;
}

int
fwc_cmd_check(int argc, char **argv, fwc_conn_opts *conn_opts)
{
    stream_opts o;
    fw_query *q = NULL;
    fw_conn *conn = NULL;
    fw_stream *s = NULL;
    int rc;

    if (parse_stream_opts(argc, argv, &o, 0, conn_opts) < 0)
        return EXIT_USAGE;
    if (o.where || o.norder || o.limit >= 0 || o.offset >= 0) {
        fprintf(stderr, "fraiseql-wire: check takes ENTITY, --table or --relation only\n");
        return EXIT_USAGE;
    }
    rc = build_query(&o, &q);
    if (rc != EXIT_OK)
        goto done;
    /* LIMIT 0: the server describes the result without producing a row; the
     * client's RowDescription check is the check. */
    fw_query_limit(q, 0);
    rc = open_connection(conn_opts, &conn);
    if (rc != EXIT_OK)
        goto done;
    fw_status st = fw_stream_open(conn, q, &s);
    if (st != FW_OK) {
        rc = report_error(conn, st);
        goto done;
    }
    const char *json;
    size_t len;
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        ;
    if (st != FW_DONE) {
        rc = report_error(conn, st);
        goto done;
    }
    const char *prefix = o.relation ? "" : o.table ? "tv_" : "v_";
    const char *name = o.relation ? o.relation : o.entity;
    const char *dot = o.relation ? NULL : strchr(name, '.');   /* schema.entity */
    printf("ok: %.*s%s%s has one column \"data\" of type %s\n",
           dot ? (int)(dot - name + 1) : 0, name, prefix, dot ? dot + 1 : name,
           fw_stream_data_type(s));
    rc = EXIT_OK;
done:
    fw_stream_close(s);
    fw_conn_free(conn);
    fw_query_free(q);
    return rc;
}
