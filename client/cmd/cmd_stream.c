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
 * --relation NAME, --max-row-bytes N; stream also --timeout SECONDS and
 * --statement-timeout MS.  Every option's value may also be attached
 * (--limit=10).
 *
 * Interrupts (psql's habit, plus a way out): the first SIGINT or SIGTERM
 * sends the CancelRequest from the signal handler itself (fw_cancel_request
 * is async-signal-safe), so a server that is silent (a slow sort, a stall)
 * ends the query at once; a second signal, or FWC_CANCEL_GRACE_S seconds
 * without an answer, shuts the socket down (fw_cancel_abort) and the
 * command exits without draining.  --timeout does the same on SIGALRM.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
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
    double timeout_s;          /* --timeout; 0 = none */
    int statement_timeout_ms;  /* --statement-timeout; 0 = the server's */
} stream_opts;

/* Seconds between the cancel and closing the socket without draining. */
#define FWC_CANCEL_GRACE_S 3

/* Shared with the signal handlers; set before they are installed. */
static fw_cancel *g_cancel;
static volatile sig_atomic_t g_phase;       /* 0 running, 1 cancel sent, 2 socket shut */
static volatile sig_atomic_t g_signal;      /* the first SIGINT/SIGTERM, 0 = none */
static volatile sig_atomic_t g_timed_out;   /* --timeout passed first */

static void
interrupt_now(void)
{
    if (g_phase == 0) {
        g_phase = 1;
        (void)fw_cancel_request(g_cancel, 1000, NULL, 0);
        alarm(FWC_CANCEL_GRACE_S);
    } else if (g_phase == 1) {
        g_phase = 2;
        (void)fw_cancel_abort(g_cancel);
    }
}

static void
on_interrupt(int sig)
{
    if (g_phase == 0 && !g_timed_out)
        g_signal = sig;
    interrupt_now();
}

static void
on_alarm(int sig)
{
    (void)sig;
    if (g_phase == 0)
        g_timed_out = 1;
    interrupt_now();
}

/* Installs the handlers for a connection (after connecting: an interrupt
 * while connecting keeps its default action) and starts --timeout. */
static void
install_interrupts(fw_conn *conn, double timeout_s)
{
    struct sigaction sa;

    g_cancel = fw_cancel_new(conn);
    g_phase = 0;
    g_signal = 0;
    g_timed_out = 0;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGALRM);
    /* SA_RESTART: stdio writes resume; the library's waits resume too and
     * end on the server's answer to the cancel, or on the shut socket. */
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = g_cancel ? on_interrupt : SIG_DFL;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    if (timeout_s > 0 && g_cancel) {
        struct itimerval it;

        memset(&it, 0, sizeof it);
        it.it_value.tv_sec = (time_t)timeout_s;
        it.it_value.tv_usec = (suseconds_t)((timeout_s - (double)(time_t)timeout_s) * 1e6);
        if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
            it.it_value.tv_usec = 1;
        setitimer(ITIMER_REAL, &it, NULL);
    }
}

/* Before the connection is freed: no handler may touch it any more. */
static void
remove_interrupts(void)
{
    struct itimerval off;
    struct sigaction sa;

    memset(&off, 0, sizeof off);
    setitimer(ITIMER_REAL, &off, NULL);
    alarm(0);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGALRM, &sa, NULL);
    /* A late interrupt now only ends the process (the query is over). */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fw_cancel_free(g_cancel);
    g_cancel = NULL;
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
        const char *attached = NULL;   /* --name=value */
        char name[64];
        int64_t n;
        int took = fwc_conn_option(argc, argv, &i, conn_opts);
        if (took < 0)
            return -1;
        if (took > 0) {
            i--;   /* fwc_conn_option advanced past the option */
            continue;
        }
        if (a[0] == '-' && a[1] == '-' && strchr(a, '=') && strchr(a, '=') - a < (long)sizeof name) {
            size_t nl = (size_t)(strchr(a, '=') - a);
            memcpy(name, a, nl);
            name[nl] = '\0';
            attached = a + nl + 1;
            a = name;
        }
#define NEEDS_VALUE()                                                                 \
    do {                                                                              \
        if (attached) {                                                               \
            val = attached;                                                           \
            attached = NULL;                                                          \
            break;                                                                    \
        }                                                                             \
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
        } else if (allow_output_opts && strcmp(a, "--timeout") == 0) {
            char *end;
            NEEDS_VALUE();
            errno = 0;
            o->timeout_s = strtod(val, &end);
            if (errno || end == val || *end != '\0' || !(o->timeout_s > 0) ||
                o->timeout_s > 1e7) {
                usage_error("invalid value \"%s\" for %s: expected a number of seconds "
                            "greater than 0", val, a);
                return -1;
            }
        } else if (allow_output_opts && strcmp(a, "--statement-timeout") == 0) {
            NEEDS_VALUE();
            if (parse_count(val, a, INT32_MAX, &n) < 0)
                return -1;
            o->statement_timeout_ms = (int)n;
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
        }
        if (attached) {
            usage_error("option %s takes no value", a);
            return -1;
        } else if (a[0] == '-' && a[1] != '\0') {
            ;   /* handled above */
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

/* "field[:desc][:nulls-last][:numeric]" → fw_query_add_order_by. */
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
    if (fw_query_add_order_by(q, field, type, flags) != FW_OK) {
        fprintf(stderr, "fraiseql-wire: invalid --order-by \"%s\": %s\n", spec, fw_query_error_message(q));
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
        fprintf(stderr, "fraiseql-wire: %s\n", fw_query_error_message(q));
        return EXIT_USAGE;
    }
    if (o->relation && fw_query_set_relation(q, o->relation) != FW_OK) {
        fprintf(stderr, "fraiseql-wire: %s\n", fw_query_error_message(q));
        return EXIT_USAGE;
    }
    if (o->table && fw_query_use_table(q) != FW_OK) {
        fprintf(stderr, "fraiseql-wire: %s\n", fw_query_error_message(q));
        return EXIT_USAGE;
    }
    if (o->where && fw_query_set_filter(q, o->where) != FW_OK) {
        fprintf(stderr, "fraiseql-wire: --where: %s\n", fw_query_error_message(q));
        return EXIT_USAGE;
    }
    for (int i = 0; i < o->norder; i++) {
        int rc = apply_order(q, o->order[i]);
        if (rc != EXIT_OK)
            return rc;
    }
    if ((o->limit >= 0 && fw_query_set_limit(q, o->limit) != FW_OK) ||
        (o->offset >= 0 && fw_query_set_offset(q, o->offset) != FW_OK) ||
        (o->chunk && fw_query_set_chunk_size(q, o->chunk) != FW_OK) ||
        (o->parallel && fw_query_set_parallel(q, o->parallel) != FW_OK)) {
        fprintf(stderr, "fraiseql-wire: %s\n", fw_query_error_message(q));
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
    fprintf(stderr, "fraiseql-wire: %s error", fw_status_name(st));
    if (state)
        fprintf(stderr, " (SQLSTATE %s)", state);
    fprintf(stderr, ": %s\n", msg ? msg : fw_status_name(st));
    if (fw_conn_error_detail(conn))
        fprintf(stderr, "DETAIL:  %s\n", fw_conn_error_detail(conn));
    if (fw_conn_error_hint(conn))
        fprintf(stderr, "HINT:  %s\n", fw_conn_error_hint(conn));
    else if (st == FW_ERR_LIMIT && msg && strstr(msg, "max_row_bytes"))
        fprintf(stderr, "HINT:  Raise the limit with --max-row-bytes.\n");
    return EXIT_RUNTIME;
}

static int
open_connection(const fwc_conn_opts *opts, fw_conn **out)
{
    int rc = EXIT_OK;
    fw_conninfo *ci = fwc_conninfo(opts, &rc);
    if (!ci)
        return rc;
    fw_status st = fw_conn_connect_info(ci, out);
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

/* A json (not jsonb) document is the text as stored: it may hold raw line
 * breaks between tokens (inside strings PostgreSQL requires them escaped).
 * NDJSON needs one document a line: whitespace control characters outside
 * strings become spaces, any raw control character inside a string (a
 * server that let one through) its \u escape. */
typedef struct ndjson_buf {
    char *p;
    size_t cap;
} ndjson_buf;

static int
one_line(ndjson_buf *b, const char **json, size_t *len)
{
    const unsigned char *in = (const unsigned char *)*json;
    size_t n = *len, i, o = 0;
    int in_string = 0, escaped = 0;

    for (i = 0; i < n && in[i] >= 0x20; i++)
        ;
    if (i == n)
        return 0;   /* the usual case: nothing to change */
    if (n > (SIZE_MAX - 1) / 6)
        return -1;
    if (b->cap < n * 6 + 1) {
        char *np = realloc(b->p, n * 6 + 1);
        if (!np)
            return -1;
        b->p = np;
        b->cap = n * 6 + 1;
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = in[i];
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (ch == '\\')
                escaped = 1;
            else if (ch == '"')
                in_string = 0;
            if (ch < 0x20) {
                o += (size_t)snprintf(b->p + o, 7, "\\u%04x", ch);
                continue;
            }
        } else if (ch == '"') {
            in_string = 1;
        } else if (ch < 0x20) {
            ch = ' ';
        }
        b->p[o++] = (char)ch;
    }
    *json = b->p;
    *len = o;
    return 0;
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

    if (o.statement_timeout_ms > 0)
        fw_conn_set_statement_timeout(conn, o.statement_timeout_ms);
    install_interrupts(conn, o.timeout_s);
    signal(SIGPIPE, SIG_IGN);

    /* A regular file is written in big blocks (flushed at least every
     * second while rows arrive); a pipe or a terminal gets what arrived
     * whenever the stream is about to wait for the network. */
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    struct stat sb;
    int to_file = fstat(STDOUT_FILENO, &sb) == 0 && S_ISREG(sb.st_mode);
    int progress = o.progress || isatty(STDERR_FILENO);

    fw_status st = fw_stream_open(conn, q, &s);
    if (st != FW_OK) {
        rc = g_phase ? EXIT_RUNTIME : report_error(conn, st);
        goto interrupted;
    }
    int is_json = strcmp(fw_stream_data_type(s), "json") == 0;
    double start = now_seconds(), last = start, last_flush = start;
    uint64_t n = 0;
    const char *json;
    size_t len;
    int write_failed = 0;
    ndjson_buf line = {0};
    if (o.array)
        fputs("[", stdout);
    while (!g_phase && (st = fw_stream_next(s, &json, &len)) == FW_OK) {
        if (o.array && n > 0)
            fputc(',', stdout);
        if (o.array)
            fputc('\n', stdout);
        if (json && is_json && one_line(&line, &json, &len) != 0) {
            fprintf(stderr, "fraiseql-wire: out of memory\n");
            rc = EXIT_RUNTIME;
            free(line.p);
            goto interrupted;
        }
        if (json)
            fwrite(json, 1, len, stdout);
        else
            fputs("null", stdout);
        if (!o.array)
            fputc('\n', stdout);
        n++;
        if (!fw_stream_row_buffered(s)) {
            double t = now_seconds();
            if (!to_file || t - last_flush >= 1.0) {
                fflush(stdout);
                last_flush = t;
            }
        }
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
    free(line.p);
    if (g_phase) {
        /* The query was cancelled (from the handler), or the socket shut. */
        rc = EXIT_RUNTIME;
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
interrupted:
    /* Closing cancels what still runs; bounded (fw_stream_close), and cut
     * short by a second interrupt. */
    fw_stream_close(s);
    s = NULL;
    if (g_phase) {
        if (g_timed_out)
            fprintf(stderr, "fraiseql-wire: timeout: the stream did not end within %g s "
                    "(--timeout); the query was cancelled\n", o.timeout_s);
        else
            fprintf(stderr, "fraiseql-wire: cancelled (%s)\n",
                    g_signal == SIGTERM ? "SIGTERM" : "SIGINT");
        if (g_phase == 2)
            fprintf(stderr, "fraiseql-wire: the server did not end the query in time; the "
                    "connection was closed without waiting\n");
        rc = g_timed_out ? EXIT_RUNTIME : g_signal == SIGTERM ? 128 + SIGTERM : 128 + SIGINT;
    }
    remove_interrupts();
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
    fw_status st = fw_stream_open_sql_text(conn, explain, np, params, 0, &s);
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
    fw_query_set_limit(q, 0);
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
