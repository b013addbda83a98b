/*
 * cmd_stream.c — `fraiseql-wire stream`: the documents of an entity as
 * NDJSON (or one JSON array) on stdout.
 *
 *   stream [OPTIONS] ENTITY    the query options of query_opts.h, and
 *   --parallel N, --array, --progress, --timeout SECONDS,
 *   --statement-timeout MS
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "query_opts.h"

enum {
    OPT_PARALLEL = FWC_OPT_FIRST_FREE,
    OPT_ARRAY,
    OPT_PROGRESS,
    OPT_TIMEOUT,
    OPT_STATEMENT_TIMEOUT,
};

typedef struct stream_opts {
    fwc_query_opts q;
    int array;
    int progress;
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

    g_cancel = fw_conn_get_cancel(conn);
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

void
fwc_usage_stream(FILE *out)
{
    fprintf(out,
            "fraiseql-wire stream — write the documents of v_ENTITY as NDJSON\n\n"
            "usage: fraiseql-wire stream [OPTIONS] ENTITY\n"
            "       fraiseql-wire stream [OPTIONS] --relation=NAME\n\n"
            "ENTITY is a name or schema.name: the documents come from the view v_ENTITY\n"
            "(--table: the table tv_ENTITY), one JSON document a line.  Ctrl-C cancels the\n"
            "query on the server; a second Ctrl-C closes the connection at once.\n\n"
            FWC_QUERY_USAGE
            "\nstream options:\n"
            "  --parallel=N             read N parts over N connections in one snapshot\n"
            "                           (unordered unless ordered by the key)\n"
            "  --array                  write one JSON array instead of NDJSON\n"
            "  --progress               rows, bytes and rows/s on stderr (the default when\n"
            "                           stderr is a terminal)\n"
            "  --timeout=SECONDS        cancel the query after this long (exit 1)\n"
            "  --statement-timeout=MS   statement_timeout for the stream\n"
            "  --help                   this help\n\n"
            FWC_CONN_USAGE
            "\nExit status: 0 ok, 1 error (usage, SQL, schema, --timeout), 2 connection\n"
            "failed or lost, 130/143 interrupted by SIGINT/SIGTERM.\n");
}

/* Parses argv after the subcommand's name: FWC_EXIT_OK, -1 for --help
 * (printed), or an exit status (message printed). */
static int
parse_stream_opts(int argc, char **argv, stream_opts *o, fwc_conn_opts *conn_opts)
{
    static const struct option longopts[] = {
        FWC_CONN_LONGOPTS,
        FWC_QUERY_LONGOPTS,
        {"parallel", required_argument, NULL, OPT_PARALLEL},
        {"array", no_argument, NULL, OPT_ARRAY},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"statement-timeout", required_argument, NULL, OPT_STATEMENT_TIMEOUT},
        {"help", no_argument, NULL, FWC_OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int c, r;
    int64_t n;
    char *end;

    memset(o, 0, sizeof *o);
    fwc_query_opts_init(&o->q);
    if (argc > 1 && strcmp(argv[1], "-?") == 0) {
        fwc_usage_stream(stdout);
        return -1;
    }
    argv[0] = "fraiseql-wire stream";   /* getopt's messages name it */
    fwc_getopt_reset();
    while ((c = getopt_long(argc, argv, FWC_CONN_SHORTOPTS, longopts, NULL)) != -1) {
        if (fwc_conn_option(c, optarg, conn_opts))
            continue;
        if ((r = fwc_query_option("stream", c, optarg, &o->q)) != 0) {
            if (r < 0)
                return FWC_EXIT_ERROR;
            continue;
        }
        switch (c) {
        case OPT_PARALLEL:
            if (fwc_parse_count("stream", optarg, "--parallel", 1024, &n) < 0)
                return FWC_EXIT_ERROR;
            if (n == 0)
                return fwc_usage_error("stream", "--parallel must be at least 1");
            o->q.parallel = (int)n;
            break;
        case OPT_ARRAY:
            o->array = 1;
            break;
        case OPT_PROGRESS:
            o->progress = 1;
            break;
        case OPT_TIMEOUT:
            errno = 0;
            o->timeout_s = strtod(optarg, &end);
            if (errno || end == optarg || *end != '\0' || !(o->timeout_s > 0) ||
                o->timeout_s > 1e7)
                return fwc_usage_error("stream", "invalid value \"%s\" for --timeout: expected "
                                       "a number of seconds greater than 0", optarg);
            break;
        case OPT_STATEMENT_TIMEOUT:
            if (fwc_parse_count("stream", optarg, "--statement-timeout", INT32_MAX, &n) < 0)
                return FWC_EXIT_ERROR;
            o->statement_timeout_ms = (int)n;
            break;
        case FWC_OPT_HELP:
            fwc_usage_stream(stdout);
            return -1;
        default:   /* getopt said what */
            return fwc_try_help("stream");
        }
    }
    if (fwc_query_operands("stream", argc, argv, optind, &o->q) < 0)
        return FWC_EXIT_ERROR;
    if (o->q.parallel > 1 && o->q.offset >= 0)
        return fwc_usage_error("stream", "--offset cannot be used with --parallel (each part "
                               "would skip its own rows)");
    return FWC_EXIT_OK;
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

    rc = parse_stream_opts(argc, argv, &o, conn_opts);
    if (rc != FWC_EXIT_OK)
        return rc < 0 ? FWC_EXIT_OK : rc;
    rc = fwc_query_build(&o.q, &q);
    if (rc != FWC_EXIT_OK)
        goto done;
    rc = fwc_connect(conn_opts, &conn, NULL);
    if (rc != FWC_EXIT_OK)
        goto done;
    if (o.q.max_row_bytes)
        fw_conn_set_max_row_bytes(conn, o.q.max_row_bytes);

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
        rc = g_phase ? FWC_EXIT_ERROR : fwc_report_query_error(conn, st, &o.q);
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
            rc = FWC_EXIT_ERROR;
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
        rc = FWC_EXIT_ERROR;
    } else if (write_failed) {
        /* The reader went away (e.g. `| head`): stop quietly. */
        rc = errno == EPIPE ? FWC_EXIT_OK : FWC_EXIT_ERROR;
        if (rc != FWC_EXIT_OK)
            fprintf(stderr, "fraiseql-wire: writing the output: %s\n", strerror(errno));
    } else if (st != FW_DONE) {
        rc = fwc_report_query_error(conn, st, &o.q);
    } else {
        if (o.array)
            fputs(n > 0 ? "\n]\n" : "]\n", stdout);
        rc = FWC_EXIT_OK;
    }
    if (progress)
        print_progress(fw_stream_rows(s), fw_stream_bytes(s), now_seconds() - start, 1);
    if (fflush(stdout) != 0 && rc == FWC_EXIT_OK && errno != EPIPE) {
        fprintf(stderr, "fraiseql-wire: writing the output: %s\n", strerror(errno));
        rc = FWC_EXIT_ERROR;
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
        rc = g_timed_out ? FWC_EXIT_ERROR : g_signal == SIGTERM ? 128 + SIGTERM : 128 + SIGINT;
    }
    remove_interrupts();
done:
    fw_stream_close(s);
    fw_conn_free(conn);
    fw_query_free(q);
    return rc;
}
