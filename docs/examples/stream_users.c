/*
 * stream_users.c — a complete libfraiseql_wire program.
 *
 * Streams the users of one team out of the view v_user as NDJSON (one JSON
 * document a line) on stdout: filtered by the server, ordered by name,
 * at most LIMIT rows, and passed through a client-side predicate that drops
 * documents larger than MAX_BYTES.
 *
 *   cc -o stream_users stream_users.c $(pkg-config --cflags --libs fraiseql_wire)
 *   ./stream_users [-d CONNINFO] [-t TEAM] [-n LIMIT] [-m MAX_BYTES]
 *
 * CONNINFO is a libpq-style connection string or URI ("dbname=app",
 * "postgresql://app@db/app"); what it leaves unset comes from the PG*
 * environment variables, as in psql.  The database needs the
 * fraiseql_wire extension and a view v_user, for example:
 *
 *   CREATE EXTENSION fraiseql_wire;
 *   CREATE TABLE "user" (id int PRIMARY KEY, name text, team text);
 *   SELECT fraiseql_wire.create_view('user', 'user');
 *
 * Exit status: 0 ok, 1 a runtime error (reported with its SQLSTATE),
 * 2 a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fraiseql_wire.h>

/* Client-side predicate: keep documents of at most *max_bytes bytes.  It
 * sees the row's text before the caller does; json is NULL for a SQL NULL
 * (dropped here too). */
static int
small_enough(void *arg, const char *json, size_t len)
{
    const size_t *max_bytes = arg;

    return json != NULL && len <= *max_bytes;
}

/*
 * The filter is a JSON document sent as a query parameter, never SQL: the
 * team name only has to be a correct JSON string.  Writes
 * {"team": {"eq": "<team>"}} into a malloc'd buffer (NULL when memory runs out).
 */
static char *
team_filter(const char *team)
{
    static const char head[] = "{\"team\": {\"eq\": \"", tail[] = "\"}}";
    size_t n = strlen(team);
    char *out = malloc(sizeof head + 6 * n + sizeof tail);   /* \u00XX is 6 bytes */
    char *p = out;

    if (!out)
        return NULL;
    memcpy(p, head, sizeof head - 1);
    p += sizeof head - 1;
    for (const unsigned char *s = (const unsigned char *)team; *s; s++) {
        if (*s == '"' || *s == '\\') {
            *p++ = '\\';
            *p++ = (char)*s;
        } else if (*s < 0x20) {
            p += sprintf(p, "\\u%04x", *s);
        } else {
            *p++ = (char)*s;   /* UTF-8 passes through as is */
        }
    }
    memcpy(p, tail, sizeof tail);   /* with its NUL */
    return out;
}

/* Prints the connection's last error the way psql would. */
static void
print_error(const char *what, fw_status st, const fw_conn *conn)
{
    const char *sqlstate = fw_conn_error_sqlstate(conn);
    const char *message = fw_conn_error_message(conn);

    fprintf(stderr, "stream_users: %s: %s error", what, fw_status_name(st));
    if (sqlstate)
        fprintf(stderr, " (SQLSTATE %s)", sqlstate);
    fprintf(stderr, ": %s\n", message ? message : "(no message)");
    if (fw_conn_error_detail(conn))
        fprintf(stderr, "DETAIL:  %s\n", fw_conn_error_detail(conn));
    if (fw_conn_error_hint(conn))
        fprintf(stderr, "HINT:  %s\n", fw_conn_error_hint(conn));
}

int
main(int argc, char **argv)
{
    const char *conninfo = "", *team = "core";
    long limit = 100;
    size_t max_bytes = 4096;
    int opt, status = 1;
    fw_conn *conn = NULL;
    fw_query *q = NULL;
    fw_stream *stream = NULL;
    char *filter = NULL;
    const char *json;
    size_t len;
    fw_status st;

    while ((opt = getopt(argc, argv, "d:t:n:m:")) != -1) {
        switch (opt) {
        case 'd': conninfo = optarg; break;
        case 't': team = optarg; break;
        case 'n': limit = atol(optarg); break;
        case 'm': max_bytes = (size_t)atol(optarg); break;
        default:
            fprintf(stderr, "usage: stream_users [-d CONNINFO] [-t TEAM] [-n LIMIT] "
                            "[-m MAX_BYTES]\n");
            return 2;
        }
    }

    /* 1. The query.  Every call returns a status; on FW_ERR_CONFIG the
     *    message is in fw_query_error_message(q).  Names are validated and quoted,
     *    values are parameters: nothing here is spliced into SQL. */
    if (fw_query_new("user", &q) != FW_OK) {   /* reads v_user */
        fprintf(stderr, "stream_users: %s\n", q ? fw_query_error_message(q) : "out of memory");
        fw_query_free(q);
        return 2;
    }
    filter = team_filter(team);
    if (!filter || fw_query_set_filter(q, filter) != FW_OK ||
        fw_query_add_order_by(q, "name", FW_ORDER_TEXT, FW_ORDER_ASC) != FW_OK ||
        fw_query_add_order_by(q, "id", FW_ORDER_NUMERIC, FW_ORDER_ASC) != FW_OK ||
        fw_query_set_limit(q, limit) != FW_OK ||
        fw_query_set_chunk_size(q, 500) != FW_OK ||   /* rows per round trip: the memory bound */
        fw_query_add_predicate(q, small_enough, &max_bytes) != FW_OK) {
        fprintf(stderr, "stream_users: %s\n", filter ? fw_query_error_message(q) : "out of memory");
        status = 2;
        goto done;
    }

    /* 2. The connection.  fw_conn_connect always hands back a handle (unless
     *    memory ran out): on failure it carries the error. */
    st = fw_conn_connect(conninfo, &conn);
    if (st != FW_OK) {
        if (conn)
            print_error("connect", st, conn);
        else
            fprintf(stderr, "stream_users: out of memory\n");
        status = st == FW_ERR_CONFIG ? 2 : 1;
        goto done;
    }

    /* 3. The stream.  Rows arrive a chunk at a time; each row is a view
     *    into the receive buffer (not NUL-terminated), valid until the next
     *    call, so it is written out at once. */
    st = fw_stream_open(conn, q, &stream);
    if (st != FW_OK) {
        print_error("query", st, conn);
        goto done;
    }
    while ((st = fw_stream_next(stream, &json, &len)) == FW_OK) {
        fwrite(json, 1, len, stdout);
        putchar('\n');
    }
    if (st != FW_DONE) {   /* FW_DONE is the normal end, anything else an error */
        print_error("stream", st, conn);
        goto done;
    }
    fprintf(stderr, "stream_users: %llu rows, %llu dropped by the size predicate, %.1f ms\n",
            (unsigned long long)fw_stream_rows(stream),
            (unsigned long long)fw_stream_rows_dropped(stream),
            (double)fw_stream_duration_usec(stream) / 1000.0);
    status = 0;

done:
    /* Every free/close accepts NULL.  Closing a stream that still has rows
     * cancels the query so the connection could run the next one. */
    fw_stream_close(stream);
    fw_conn_free(conn);
    fw_query_free(q);
    free(filter);
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}
