/*
 * event_loop.c — several fraiseql_wire streams at once in one thread,
 * driven by poll(2) with the non-blocking API (docs/client.md, "Non-blocking
 * use").
 *
 * One connection per filter: each connects without blocking
 * (fw_conn_connect_start, fw_conn_connect_poll), opens its query in non-blocking mode
 * (fw_conn_set_nonblocking, fw_stream_open only queues it) and is read with
 * fw_stream_try_next.  Whenever a call answers FW_AGAIN, the loop waits for
 * what fw_conn_wants() names on fw_conn_socket(), for every connection at
 * once.  Rows are printed as they arrive, "INDEX<TAB>JSON" a line, INDEX
 * being the filter's position (0, 1, …) on the command line.
 *
 *   cc -o event_loop event_loop.c $(pkg-config --cflags --libs fraiseql_wire)
 *   ./event_loop [-d CONNINFO] [-e ENTITY] FILTER_JSON...
 *   ./event_loop -d dbname=app -e user '{"team": {"eq": "core"}}' '{"team": {"eq": "ops"}}'
 *
 * ENTITY defaults to "user" (the view v_user, as in stream_users.c).
 * Exit status: 0 ok, 1 a runtime error on any connection (reported with its
 * SQLSTATE), 2 a usage error.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fraiseql_wire.h>

#define MAX_STREAMS 64

typedef enum phase { CONNECTING, STREAMING, FINISHED } phase;

typedef struct slot {
    int index;
    const char *filter;
    fw_conn *conn;
    fw_stream *stream;
    phase phase;
    int failed;
} slot;

static void
report(const slot *s, const char *what)
{
    const char *state = fw_conn_error_sqlstate(s->conn);

    fprintf(stderr, "event_loop: [%d] %s: %s%s%s%s\n", s->index, what,
            fw_conn_error_message(s->conn) ? fw_conn_error_message(s->conn) : "out of memory",
            state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "");
}

static void
finish(slot *s, int failed)
{
    s->failed = failed;
    s->phase = FINISHED;
    fw_stream_close(s->stream);   /* NULL is fine */
    s->stream = NULL;
}

/* Opens the slot's query on its connection (only queued: non-blocking). */
static int
open_query(slot *s, const char *entity)
{
    fw_query *q = NULL;
    fw_status st = fw_query_new(entity, &q);

    if (st == FW_OK)
        st = fw_query_set_filter(q, s->filter);
    if (st == FW_OK)
        st = fw_query_add_order_by(q, "id", FW_ORDER_NUMERIC, FW_ORDER_ASC);
    if (st != FW_OK) {
        fprintf(stderr, "event_loop: [%d] %s\n", s->index,
                fw_query_error_message(q) ? fw_query_error_message(q) : "out of memory");
        fw_query_free(q);
        return -1;
    }
    fw_conn_set_nonblocking(s->conn, 1);
    st = fw_stream_open(s->conn, q, &s->stream);
    fw_query_free(q);   /* the stream keeps what it needs */
    if (st != FW_OK) {
        report(s, "query");
        return -1;
    }
    return 0;
}

/* Runs one slot until it must wait (FW_AGAIN) or is finished. */
static void
advance(slot *s, const char *entity)
{
    fw_status st;
    const char *json;
    size_t len;

    if (s->phase == CONNECTING) {
        st = fw_conn_connect_poll(s->conn);
        if (st == FW_AGAIN)
            return;
        if (st != FW_OK) {
            report(s, "connect");
            finish(s, 1);
            return;
        }
        if (open_query(s, entity) != 0) {
            finish(s, 1);
            return;
        }
        s->phase = STREAMING;
    }
    while (s->phase == STREAMING) {
        st = fw_stream_try_next(s->stream, &json, &len);
        if (st == FW_AGAIN)
            return;
        if (st == FW_DONE) {
            finish(s, 0);
        } else if (st != FW_OK) {
            report(s, "stream");
            finish(s, 1);
        } else if (json) {
            printf("%d\t%.*s\n", s->index, (int)len, json);
        } else {
            printf("%d\tnull\n", s->index);
        }
    }
}

int
main(int argc, char **argv)
{
    const char *conninfo = "", *entity = "user";
    slot slots[MAX_STREAMS];
    int n = 0, opt, failed = 0;

    while ((opt = getopt(argc, argv, "d:e:")) != -1) {
        switch (opt) {
        case 'd':
            conninfo = optarg;
            break;
        case 'e':
            entity = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (optind >= argc || argc - optind > MAX_STREAMS)
        goto usage;

    for (int i = optind; i < argc; i++, n++) {
        slot *s = &slots[n];

        memset(s, 0, sizeof *s);
        s->index = n;
        s->filter = argv[i];
        if (fw_conn_connect_start(conninfo, &s->conn) != FW_OK) {
            if (!s->conn) {
                fprintf(stderr, "event_loop: out of memory\n");
                return 1;
            }
            report(s, "connection string");
            return fw_conn_error_class(s->conn) == FW_ERR_CONFIG ? 2 : 1;
        }
    }

    for (int i = 0; i < n; i++)
        advance(&slots[i], entity);
    for (;;) {
        struct pollfd pfd[MAX_STREAMS];
        slot *waiting[MAX_STREAMS];
        int nfds = 0, timeout = -1;

        /* Every slot not finished returned FW_AGAIN: wait for what its
         * connection asks for, on the socket it names now (it changes
         * while connecting, from one address to the next). */
        for (int i = 0; i < n; i++) {
            slot *s = &slots[i];
            unsigned wants = fw_conn_wants(s->conn);
            int t;

            if (s->phase == FINISHED)
                continue;
            pfd[nfds].fd = fw_conn_socket(s->conn);
            pfd[nfds].events = (short)(((wants & FW_WANT_READ) ? POLLIN : 0) |
                                       ((wants & FW_WANT_WRITE) ? POLLOUT : 0));
            pfd[nfds].revents = 0;
            waiting[nfds++] = s;
            /* While connecting, fw_conn_connect_poll must be called again by
             * connect_timeout's deadline (it then tries the next address). */
            t = s->phase == CONNECTING ? fw_conn_timeout_ms(s->conn) : -1;
            if (t >= 0 && (timeout < 0 || t < timeout))
                timeout = t;
        }
        if (nfds == 0)
            break;
        fflush(stdout);
        if (poll(pfd, (nfds_t)nfds, timeout) < 0) {
            perror("event_loop: poll");
            return 1;
        }
        for (int k = 0; k < nfds; k++) {
            slot *s = waiting[k];

            if (pfd[k].revents != 0 ||
                (s->phase == CONNECTING && fw_conn_timeout_ms(s->conn) == 0))
                advance(s, entity);
        }
    }

    for (int i = 0; i < n; i++) {
        failed |= slots[i].failed;
        fw_conn_free(slots[i].conn);
    }
    return failed ? 1 : 0;
usage:
    fprintf(stderr, "usage: event_loop [-d CONNINFO] [-e ENTITY] FILTER_JSON...\n");
    return 2;
}
