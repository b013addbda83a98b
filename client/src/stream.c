/*
 * stream.c — queries: fw_stream_sql (extended protocol, one chunk per
 * Execute), fw_stream_next (zero-copy rows), cancel and close (cancel, then
 * drain to ReadyForQuery so the connection is reused), and fw_exec_simple.
 *
 * The message sequence of a stream:
 *   Parse("") Bind("", "") Describe(portal) Flush   -> RowDescription checked
 *   Execute(chunk) Flush                             -> DataRow…, PortalSuspended
 *   Execute(chunk) Flush  (only when the caller wants the row past the chunk)
 *   …                                                -> CommandComplete
 *   Sync                                             -> ReadyForQuery
 * No Sync until the end: a Sync would end the implicit transaction and close
 * the portal.  The schema is checked before the first Execute, so a
 * statement of the wrong shape is never run.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define JSON_OID 114
#define JSONB_OID 3802

fw_status
fw_enc_copy_fail_local(fw_buf *b, const char *reason)
{
    size_t n = strlen(reason) + 1;
    fw_status st;

    if ((st = fw_buf_put_u8(b, 'f')) != FW_OK)
        return st;
    if ((st = fw_buf_put_i32(b, (int32_t)(4 + n))) != FW_OK)
        return st;
    return fw_buf_put_str(b, reason);
}

static fw_status
usable(fw_conn *c)
{
    if (!c)
        return FW_ERR_USAGE;
    if (c->state == FW_CONN_BUSY || c->stream) {
        fw_error_set(&c->err, FW_ERR_USAGE,
                     "another stream is open on this connection (close it first)");
        return FW_ERR_USAGE;
    }
    if (!fw_conn_ok(c)) {
        fw_error_set(&c->err, FW_ERR_IO, "connection is not open");
        return FW_ERR_IO;
    }
    fw_error_clear(&c->err);
    return FW_OK;
}

/* After a query that needed a big receive buffer, give the memory back. */
static void
shrink_rbuf(fw_conn *c)
{
    size_t limit = c->rbuf.limit;

    if (c->rbuf.cap <= 4 * FW_RBUF_INITIAL || c->rpos != c->rbuf.len || c->skip != 0)
        return;
    fw_buf_free(&c->rbuf);
    fw_buf_init(&c->rbuf, limit);
    c->rpos = 0;
    (void)fw_buf_reserve(&c->rbuf, FW_RBUF_INITIAL);   /* else it grows on the next read */
}

/* While draining a cancelled query, a CancelRequest is sent again after
 * this much silence: one that reached the backend between two protocol
 * messages (idle, so ignored) must not leave the query running. */
#define FW_RECANCEL_MS 1000

/* deadline (absolute, -1 none) also bounds the wait for the request's
 * connection, which a broken server may keep open. */
static void
send_cancel(fw_conn *c, int64_t deadline)
{
    fw_error ce = {.cls = FW_OK};
    int timeout = c->timeout_ms;

    if (deadline >= 0) {
        int64_t left = deadline - fw_now_ms();

        timeout = left < 1 ? 1 : left > 0x7fffffff ? 0x7fffffff : (int)left;
    }
    (void)fw_cancel_send(&c->sock.addr, c->sock.addrlen, c->be_pid, c->be_key, timeout, &ce);
    fw_error_clear(&ce);
}

/* How long a cancelled stream (fw_stream_close, or next after
 * fw_stream_cancel) waits for the server to end the query, when the
 * connection has no timeout of its own. */
#define FW_CANCEL_DRAIN_MS 5000

static int64_t
cancel_drain_deadline(const fw_conn *c)
{
    return fw_now_ms() + (c->timeout_ms > 0 ? c->timeout_ms : FW_CANCEL_DRAIN_MS);
}

/* The server did not end a cancelled query in time (silent, or still
 * sending): Terminate, best effort, and close without draining further. */
static fw_status
abandon(fw_conn *c)
{
    c->wbuf.len = 0;
    if (c->sock.fd >= 0 && fw_enc_terminate(&c->wbuf) == FW_OK) {
        fw_error e = {.cls = FW_OK};

        (void)fw_net_write_all(&c->sock, c->wbuf.data, c->wbuf.len, fw_now_ms() + 100, &e);
        fw_error_clear(&e);
    }
    fw_conn_break(c);
    fw_error_set(&c->err, FW_ERR_TIMEOUT,
                 "the server did not end the cancelled query in time; the connection was closed");
    return FW_ERR_TIMEOUT;
}

/*
 * Reads and discards up to ReadyForQuery (a Sync must be on its way).
 * The first ErrorResponse seen is kept in *first (when first is not NULL
 * and nothing is there yet); COPY is refused on the way.  cancelling:
 * repeat the CancelRequest while the server stays silent.  deadline
 * (absolute, -1 none): past it the connection is abandoned, whether the
 * server stays silent or keeps sending.
 */
static fw_status
drain(fw_conn *c, fw_error *first, int extended, int cancelling, int64_t deadline)
{
    fw_status st;
    fw_msg m;

    for (;;) {
        if (deadline >= 0) {
            for (;;) {
                int64_t left = deadline - fw_now_ms();

                if (left <= 0)
                    return abandon(c);
                if (fw_conn_wait_message(c, left < FW_RECANCEL_MS ? (int)left : FW_RECANCEL_MS) ==
                    FW_OK)
                    break;
                if (cancelling && c->be_pid != 0 && deadline - fw_now_ms() > 0)
                    send_cancel(c, deadline);
            }
            /* The deadline also bounds the rest of a message begun. */
            c->startup_deadline = deadline;
        }
        st = fw_conn_read_msg(c, &m);
        if (deadline >= 0) {
            c->startup_deadline = -1;
            if (st == FW_ERR_TIMEOUT)
                return abandon(c);
        }
        if (st == FW_ERR_MEMORY && c->state != FW_CONN_BAD)
            continue;   /* an oversized message was skipped */
        if (st != FW_OK)
            return st;
        switch (m.type) {
        case 'Z':
            if (fw_parse_ready(&m, &c->tx_status) != FW_OK) {
                fw_error_set(&c->err, FW_ERR_PROTOCOL, "malformed ReadyForQuery message");
                fw_conn_break(c);
                return FW_ERR_PROTOCOL;
            }
            c->state = FW_CONN_IDLE;
            shrink_rbuf(c);
            return FW_OK;
        case 'E':
            if (first && first->cls == FW_OK) {
                fw_conn_error_from_msg(c, &m, FW_ERR_SQL);
                fw_error_move(first, &c->err);
            }
            break;
        case 'G':
            /* COPY FROM STDIN: refuse.  In the extended protocol the server
             * then wants a Sync again (it ignores Sync during copy-in); in
             * the simple protocol a Sync would bring a second ReadyForQuery. */
            if (first && first->cls == FW_OK)
                fw_error_set(first, FW_ERR_PROTOCOL, "COPY is not supported");
            if (fw_enc_copy_fail_local(&c->wbuf, "COPY is not supported by fraiseql_wire") != FW_OK ||
                (extended && fw_enc_sync(&c->wbuf) != FW_OK)) {
                fw_error_set(&c->err, FW_ERR_MEMORY, "out of memory");
                fw_conn_break(c);
                return FW_ERR_MEMORY;
            }
            if ((st = fw_conn_flush(c)) != FW_OK)
                return st;
            break;
        case 'H':
        case 'W':
            if (first && first->cls == FW_OK)
                fw_error_set(first, FW_ERR_PROTOCOL, "COPY is not supported");
            break;
        default:
            break;   /* rows, completions, CopyData: discarded */
        }
    }
}

static fw_status
send_sync(fw_stream *s)
{
    fw_conn *c = s->conn;

    if (s->sync_sent)
        return FW_OK;
    s->sync_sent = 1;
    if (fw_enc_sync(&c->wbuf) != FW_OK) {
        fw_error_set(&c->err, FW_ERR_MEMORY, "out of memory");
        fw_conn_break(c);
        return FW_ERR_MEMORY;
    }
    return fw_conn_flush(c);
}

/*
 * Ends the stream with error e (moved in): cancels the query when asked,
 * syncs and drains so the connection is reusable, and leaves e on the
 * connection.  A broken connection keeps e too (the cause comes first).
 */
static fw_status
end_with(fw_stream *s, fw_error *e, int cancel)
{
    fw_conn *c = s->conn;
    fw_status cls = e->cls;
    int64_t deadline = cancel ? cancel_drain_deadline(c) : -1;

    if (cancel && c->state != FW_CONN_BAD)
        send_cancel(c, deadline);
    if (c->state != FW_CONN_BAD && send_sync(s) == FW_OK)
        (void)drain(c, NULL, 1, cancel, deadline);
    if (c->state != FW_CONN_IDLE)
        fw_conn_break(c);
    fw_error_move(&c->err, e);
    s->state = FW_ST_FAILED;
    s->result = cls;
    return cls;
}

static int
is_json_oid(uint32_t oid)
{
    return oid == JSON_OID || oid == JSONB_OID;
}

/* Checks the RowDescription: one json/jsonb column named data (any one
 * column for fw_stream_sql_text), and records its type. */
static fw_status
check_schema(fw_stream *s, const fw_msg *m, fw_error *e)
{
    int16_t n;
    size_t off = 2;
    fw_field_desc f;

    if (fw_parse_row_description(m, &n) != FW_OK) {
        fw_error_set(e, FW_ERR_PROTOCOL, "malformed RowDescription message");
        return FW_ERR_PROTOCOL;
    }
    if (n != 1) {
        fw_error_set(e, FW_ERR_SCHEMA, "the query returns %d columns, expected one column \"data\"",
                     (int)n);
        return FW_ERR_SCHEMA;
    }
    if (fw_parse_row_description_field(m, &off, &f) != FW_OK) {
        fw_error_set(e, FW_ERR_PROTOCOL, "malformed RowDescription message");
        return FW_ERR_PROTOCOL;
    }
    s->type_oid = f.type_oid;
    if (s->any_column)
        return FW_OK;
    if (strcmp(f.name, "data") != 0) {
        fw_error_set(e, FW_ERR_SCHEMA, "the query's column is named \"%.64s\", expected \"data\"",
                     f.name);
        return FW_ERR_SCHEMA;
    }
    if (!is_json_oid(f.type_oid)) {
        fw_error_set(e, FW_ERR_SCHEMA,
                     "column \"data\" has type OID %u, expected json (114) or jsonb (3802)",
                     f.type_oid);
        return FW_ERR_SCHEMA;
    }
    return FW_OK;
}

/* Tops the Executes in flight up to FW_PIPELINE_DEPTH, then flushes. */
static fw_status
send_execute(fw_stream *s)
{
    fw_conn *c = s->conn;

    while (s->inflight < FW_PIPELINE_DEPTH) {
        if (fw_enc_execute(&c->wbuf, "", s->chunk) != FW_OK) {
            fw_error_set(&c->err, FW_ERR_MEMORY, "out of memory");
            fw_conn_break(c);
            return FW_ERR_MEMORY;
        }
        s->inflight++;
    }
    if (fw_enc_flush(&c->wbuf) != FW_OK) {
        fw_error_set(&c->err, FW_ERR_MEMORY, "out of memory");
        fw_conn_break(c);
        return FW_ERR_MEMORY;
    }
    s->state = FW_ST_ROWS;
    return fw_conn_flush(c);
}

/*
 * The per-stream session settings, set in the stream's own (implicit)
 * transaction so that they hold for it alone and never leak to another
 * client of a transaction-pooling PgBouncer, which refuses them in the
 * startup packet: extra_float_digits=3 (documents built from float
 * columns render exactly whatever the server's setting) and, when asked,
 * statement_timeout.  Since PostgreSQL 12 every extra_float_digits >= 1
 * prints the same shortest exact form, so the first stream also reads the
 * server's value: when it is >= 1 later streams skip the setting (and the
 * statement, unless a statement_timeout is wanted).  The replies
 * (ParseComplete, BindComplete, one DataRow, CommandComplete) come before
 * the query's and are skipped.  *sent: whether a statement was encoded.
 */
static fw_status
encode_stream_setup(fw_conn *c, int *sent)
{
    char ms[16];
    const char *params[1] = {ms};
    int timeout = c->statement_timeout_ms > 0;
    const char *sql;
    fw_status st;

    *sent = 0;
    if (c->efd_state == FW_EFD_EXACT && !timeout)
        return FW_OK;
    snprintf(ms, sizeof ms, "%d", c->statement_timeout_ms);
    if (c->efd_state == FW_EFD_EXACT)
        sql = "SELECT pg_catalog.set_config('statement_timeout', $1, true)";
    else if (c->efd_state == FW_EFD_UNKNOWN)
        sql = timeout ? "SELECT e, pg_catalog.set_config('extra_float_digits', '3', true), "
                        "pg_catalog.set_config('statement_timeout', $1, true) "
                        "FROM pg_catalog.current_setting('extra_float_digits') AS e"
                      : "SELECT e, pg_catalog.set_config('extra_float_digits', '3', true) "
                        "FROM pg_catalog.current_setting('extra_float_digits') AS e";
    else
        sql = timeout ? "SELECT pg_catalog.set_config('extra_float_digits', '3', true), "
                        "pg_catalog.set_config('statement_timeout', $1, true)"
                      : "SELECT pg_catalog.set_config('extra_float_digits', '3', true)";
    if ((st = fw_enc_parse(&c->wbuf, "", sql, 0, NULL)) != FW_OK ||
        (st = fw_enc_bind(&c->wbuf, "", "", timeout ? 1 : 0, params)) != FW_OK ||
        (st = fw_enc_execute(&c->wbuf, "", 0)) != FW_OK)
        return st;
    *sent = 1;
    return FW_OK;
}

/* The setup's row, when it carries the server's extra_float_digits. */
static fw_status
note_float_digits(void *arg, int index, const uint8_t *value, int32_t len)
{
    fw_conn *c = arg;

    if (index == 0 && c->efd_state == FW_EFD_UNKNOWN) {
        int exact = value && len >= 1 && len <= 3 && value[0] >= '1' && value[0] <= '9';

        c->efd_state = exact ? FW_EFD_EXACT : FW_EFD_SET;
    }
    return FW_OK;
}

static fw_status
stream_start(fw_conn *conn, const char *sql, int nparams, const char *const *params,
             size_t chunk_size, int any_column, const fw_predicate_entry *predicates,
             int npredicates, fw_stream **out)
{
    fw_stream *s;
    fw_status st;
    fw_error e = {.cls = FW_OK};
    fw_msg m;
    int setup_sent = 0, setup_done = 0;   /* the setup statement's CommandComplete came */
    int efd_unknown = conn ? conn->efd_state == FW_EFD_UNKNOWN : 0;

    if (out)
        *out = NULL;
    if ((st = usable(conn)) != FW_OK)
        return st;
    if (!out || !sql || nparams < 0 || nparams > 32767 || (nparams > 0 && !params)) {
        fw_error_set(&conn->err, FW_ERR_USAGE, "invalid arguments to fw_stream_sql");
        return FW_ERR_USAGE;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        fw_error_set(&conn->err, FW_ERR_MEMORY, "out of memory");
        return FW_ERR_MEMORY;
    }
    s->conn = conn;
    s->any_column = any_column;
    s->started_us = fw_now_us();
    if (npredicates > 0) {
        memcpy(s->predicates, predicates, (size_t)npredicates * sizeof *predicates);
        s->npredicates = npredicates;
    }
    s->chunk = chunk_size == 0 ? FW_DEFAULT_CHUNK
                               : chunk_size > INT32_MAX ? INT32_MAX : (int32_t)chunk_size;
    atomic_init(&s->cancel_requested, 0);
    if ((st = encode_stream_setup(conn, &setup_sent)) != FW_OK ||
        (st = fw_enc_parse(&conn->wbuf, "", sql, 0, NULL)) != FW_OK ||
        (st = fw_enc_bind(&conn->wbuf, "", "", (int16_t)nparams, params)) != FW_OK ||
        (st = fw_enc_describe(&conn->wbuf, 'P', "")) != FW_OK ||
        (st = fw_enc_flush(&conn->wbuf)) != FW_OK) {
        conn->wbuf.len = 0;
        free(s);
        if (st == FW_ERR_MEMORY)
            fw_error_set(&conn->err, st, "out of memory building the query (or a message over "
                                         "the protocol's 1 GiB limit)");
        else
            fw_error_set(&conn->err, st, "the query or its parameters cannot be encoded");
        return st;
    }
    conn->state = FW_CONN_BUSY;
    conn->stream = s;
    if ((st = fw_conn_flush(conn)) != FW_OK)
        goto fail;
    for (;;) {
        st = fw_conn_read_msg(conn, &m);
        if (st == FW_ERR_MEMORY && conn->state != FW_CONN_BAD) {
            fw_error_move(&e, &conn->err);
            st = end_with(s, &e, 0);
            goto fail;
        }
        if (st != FW_OK)
            goto fail;
        if (m.type == '1' || m.type == '2')
            continue;
        if (setup_sent && !setup_done && (m.type == 'D' || m.type == 'C')) {
            /* the setup statement's one row and completion */
            if (m.type == 'D' && efd_unknown)
                (void)fw_parse_data_row(&m, note_float_digits, conn);
            setup_done = m.type == 'C';
            continue;
        }
        if (m.type == 'T') {
            if ((st = check_schema(s, &m, &e)) != FW_OK) {
                st = end_with(s, &e, 0);
                goto fail;
            }
            break;
        }
        if (m.type == 'n') {
            fw_error_set(&e, FW_ERR_SCHEMA,
                         "the statement returns no rows, expected one column \"data\"");
            st = end_with(s, &e, 0);
            goto fail;
        }
        if (m.type == 'E') {
            fw_conn_error_from_msg(conn, &m, FW_ERR_SQL);
            fw_error_move(&e, &conn->err);
            st = end_with(s, &e, 0);
            goto fail;
        }
        /* Out of step (a row before its description, ReadyForQuery with no
         * Sync sent): nothing the server says next can be trusted. */
        fw_error_set(&e, FW_ERR_PROTOCOL, "unexpected message type 0x%02x after Describe",
                     (unsigned char)m.type);
        fw_conn_break(conn);
        st = end_with(s, &e, 0);
        goto fail;
    }
    if ((st = send_execute(s)) != FW_OK)
        goto fail;
    *out = s;
    return FW_OK;
fail:
    fw_error_clear(&e);
    if (conn->state == FW_CONN_BUSY)
        fw_conn_break(conn);   /* out of step: cannot be reused */
    conn->stream = NULL;
    free(s);
    return st;
}

FW_API fw_status
fw_stream_sql(fw_conn *conn, const char *sql, int nparams, const char *const *params,
              size_t chunk_size, fw_stream **out)
{
    return stream_start(conn, sql, nparams, params, chunk_size, 0, NULL, 0, out);
}

FW_API fw_status
fw_stream_sql_text(fw_conn *conn, const char *sql, int nparams, const char *const *params,
                   size_t chunk_size, fw_stream **out)
{
    return stream_start(conn, sql, nparams, params, chunk_size, 1, NULL, 0, out);
}

FW_API fw_status
fw_stream_open(fw_conn *conn, fw_query *q, fw_stream **out)
{
    const char *sql;
    const char *const *params;
    int nparams, npredicates;
    size_t chunk;
    const fw_predicate_entry *predicates;
    fw_status st;

    if (out)
        *out = NULL;
    if ((st = usable(conn)) != FW_OK)
        return st;
    if (!q || !out) {
        fw_error_set(&conn->err, FW_ERR_USAGE, "invalid arguments to fw_stream_open");
        return FW_ERR_USAGE;
    }
    st = fw_query_prepare(q, &sql, &nparams, &params, &chunk, &predicates, &npredicates);
    if (st != FW_OK) {
        fw_error_set(&conn->err, st, "%s",
                     fw_query_error(q) ? fw_query_error(q) : "out of memory rendering the query");
        return st;
    }
    st = stream_start(conn, sql, nparams, params, chunk, 0, predicates, npredicates, out);
    /* A filter needs the extension in the database: say so, and how. */
    if (st == FW_ERR_SQL && conn->err.sqlstate && conn->err.message &&
        (strcmp(conn->err.sqlstate, "3F000") == 0 || strcmp(conn->err.sqlstate, "42883") == 0) &&
        strstr(conn->err.message, "fraiseql_wire") != NULL) {
        free(conn->err.hint);
        conn->err.hint = strdup("The fraiseql_wire extension is not installed in this database: "
                                "run CREATE EXTENSION fraiseql_wire (see docs/extension.md).");
    }
    return st;
}

/* The caller cancelled: finish the protocol and report it. */
static fw_status
finish_cancelled(fw_stream *s)
{
    fw_conn *c = s->conn;
    fw_error first = {.cls = FW_OK};
    fw_status st;

    st = send_sync(s);
    if (st == FW_OK)
        /* Suspended is not idle with Executes still in flight: the next
         * chunk may be running, and a CancelRequest that reached the
         * backend between two messages was ignored: keep cancelling. */
        st = drain(c, &first, 1, s->state == FW_ST_ROWS || s->inflight > 0,
                   cancel_drain_deadline(c));
    if (st != FW_OK || c->state != FW_CONN_IDLE) {
        fw_error_clear(&first);
        s->state = FW_ST_FAILED;
        s->result = c->err.cls != FW_OK ? c->err.cls : FW_ERR_IO;
        fw_conn_break(c);
        return s->result;
    }
    if (first.cls == FW_ERR_SQL && first.sqlstate && strcmp(first.sqlstate, "57014") == 0) {
        first.cls = FW_ERR_CANCELLED;
        fw_error_move(&c->err, &first);
    } else if (first.cls != FW_OK && first.cls != FW_ERR_SQL) {
        fw_error_move(&c->err, &first);
    } else {
        fw_error_clear(&first);
        fw_error_set(&c->err, FW_ERR_CANCELLED, "the stream was cancelled");
    }
    s->state = FW_ST_FAILED;
    s->result = c->err.cls;
    return s->result;
}

/*
 * Waits for the next message in slices, so that a cancel requested from
 * another thread is noticed even when the CancelRequest reached the
 * backend while it was idle between two messages (and was ignored).
 * FW_OK: a message can be read; FW_ERR_CANCELLED; FW_ERR_TIMEOUT (the
 * connection's timeout passed; the error is set).
 */
static fw_status
wait_or_cancelled(fw_stream *s)
{
    fw_conn *c = s->conn;
    int64_t deadline = c->timeout_ms > 0 ? fw_now_ms() + c->timeout_ms : -1;

    for (;;) {
        int slice = FW_RECANCEL_MS;

        if (deadline >= 0) {
            int64_t left = deadline - fw_now_ms();

            if (left <= 0) {
                fw_error_set(&c->err, FW_ERR_TIMEOUT, "timeout expired waiting for the server");
                return FW_ERR_TIMEOUT;
            }
            if (left < slice)
                slice = (int)left;
        }
        if (fw_conn_wait_message(c, slice) == FW_OK)
            return FW_OK;
        if (atomic_load(&s->cancel_requested))
            return FW_ERR_CANCELLED;
    }
}

FW_API fw_status
fw_stream_next(fw_stream *s, const char **json, size_t *len)
{
    fw_conn *c;
    fw_status st;
    fw_msg m;
    fw_error e = {.cls = FW_OK};

    if (json)
        *json = NULL;
    if (len)
        *len = 0;
    if (!s || !json || !len)
        return FW_ERR_USAGE;
    if (s->state == FW_ST_DONE)
        return FW_DONE;
    if (s->state == FW_ST_FAILED)
        return s->result;
    c = s->conn;
    if (!c)
        return FW_ERR_USAGE;
    if (atomic_load(&s->cancel_requested))
        return finish_cancelled(s);
    if (s->state == FW_ST_SUSPENDED && (st = send_execute(s)) != FW_OK)
        goto broken;
    for (;;) {
        if ((st = wait_or_cancelled(s)) != FW_OK) {
            if (st == FW_ERR_CANCELLED)
                return finish_cancelled(s);
            goto broken;
        }
        st = fw_conn_read_msg(c, &m);
        if (st == FW_ERR_MEMORY && c->state != FW_CONN_BAD) {
            fw_error_move(&e, &c->err);
            return end_with(s, &e, 1);
        }
        if (st != FW_OK)
            goto broken;
        switch (m.type) {
        case 'D': {
            const uint8_t *v;
            uint32_t vlen;

            if (fw_parse_data_row1(&m, &v, &vlen) != FW_OK) {
                fw_error_set(&e, FW_ERR_PROTOCOL, "malformed DataRow message");
                fw_conn_break(c);
                return end_with(s, &e, 0);
            }
            if (vlen > c->max_row_bytes) {
                fw_error_set(&e, FW_ERR_MEMORY, "row of %u bytes exceeds max_row_bytes (%zu)",
                             vlen, c->max_row_bytes);
                return end_with(s, &e, 1);
            }
            s->bytes += vlen;
            if (s->npredicates > 0) {
                int keep = 1;
                for (int i = 0; keep && i < s->npredicates; i++)
                    keep = s->predicates[i].fn(s->predicates[i].arg, (const char *)v,
                                               v ? vlen : 0);
                if (!keep) {
                    s->dropped++;
                    continue;
                }
            }
            if (s->first_row_us == 0)
                s->first_row_us = fw_now_us();
            s->rows++;
            *json = (const char *)v;
            *len = v ? vlen : 0;
            return FW_OK;
        }
        case 's':
            s->inflight--;
            if (atomic_load(&s->cancel_requested)) {
                s->state = FW_ST_SUSPENDED;
                return finish_cancelled(s);
            }
            if ((st = send_execute(s)) != FW_OK)
                goto broken;
            continue;
        case 'C':
        case 'I': {
            fw_error first = {.cls = FW_OK};

            if ((st = send_sync(s)) != FW_OK || (st = drain(c, &first, 1, 0, -1)) != FW_OK) {
                fw_error_clear(&first);
                goto broken;
            }
            if (first.cls != FW_OK) {   /* e.g. COMMIT of the implicit transaction failed */
                fw_error_move(&c->err, &first);
                s->state = FW_ST_FAILED;
                s->result = c->err.cls;
                return s->result;
            }
            s->state = FW_ST_DONE;
            s->result = FW_DONE;
            s->finished_us = fw_now_us();
            return FW_DONE;
        }
        case 'E':
            fw_conn_error_from_msg(c, &m, FW_ERR_SQL);
            fw_error_move(&e, &c->err);
            if (atomic_load(&s->cancel_requested) && e.sqlstate &&
                strcmp(e.sqlstate, "57014") == 0)
                e.cls = FW_ERR_CANCELLED;
            return end_with(s, &e, 0);
        case 'G':
        case 'H':
        case 'W':
            fw_error_set(&e, FW_ERR_PROTOCOL, "COPY is not supported");
            if (m.type == 'G' &&
                (fw_enc_copy_fail_local(&c->wbuf, "COPY is not supported by fraiseql_wire") != FW_OK ||
                 fw_conn_flush(c) != FW_OK))
                fw_conn_break(c);
            return end_with(s, &e, 0);
        default:
            fw_error_set(&e, FW_ERR_PROTOCOL, "unexpected message type 0x%02x in a stream",
                         (unsigned char)m.type);
            fw_conn_break(c);
            return end_with(s, &e, 0);
        }
    }
broken:
    fw_conn_break(c);
    s->state = FW_ST_FAILED;
    s->result = c->err.cls != FW_OK ? c->err.cls : FW_ERR_IO;
    return s->result;
}

FW_API fw_status
fw_stream_cancel(fw_stream *s)
{
    fw_conn *c;
    fw_error e = {.cls = FW_OK};
    fw_status st;

    if (!s || !s->conn)
        return FW_ERR_USAGE;
    c = s->conn;
    if (atomic_exchange(&s->cancel_requested, 1))
        return FW_OK;   /* already requested */
    if (c->be_pid == 0 || s->state == FW_ST_DONE || s->state == FW_ST_FAILED)
        return FW_OK;   /* nothing runs on the server for this stream */
    /* Reads only what does not change while a stream is open. */
    st = fw_cancel_send(&c->sock.addr, c->sock.addrlen, c->be_pid, c->be_key, c->timeout_ms, &e);
    fw_error_clear(&e);
    return st;
}

FW_API fw_status
fw_stream_close(fw_stream *s)
{
    fw_conn *c;
    fw_status st = FW_OK;

    if (!s)
        return FW_OK;
    c = s->conn;
    if (!c) {
        free(s);
        return FW_ERR_IO;
    }
    if (s->state == FW_ST_ROWS || s->state == FW_ST_SUSPENDED) {
        fw_error first = {.cls = FW_OK};

        /* A suspended portal with no Execute in flight runs nothing: Sync
         * alone ends it. */
        int running = s->state == FW_ST_ROWS || s->inflight > 0;
        int64_t deadline = cancel_drain_deadline(c);

        if (running && !atomic_load(&s->cancel_requested))
            send_cancel(c, deadline);
        st = send_sync(s);
        if (st == FW_OK)
            st = drain(c, &first, 1, running, deadline);
        fw_error_clear(&first);   /* the cancel's 57014 is expected */
        if (st != FW_OK || c->state != FW_CONN_IDLE)
            fw_conn_break(c);
    }
    if (c->stream == s)
        c->stream = NULL;
    if (c->state == FW_CONN_BUSY)
        fw_conn_break(c);
    free(s);
    if (fw_conn_ok(c))
        return FW_OK;
    if (c->err.cls == FW_OK)
        fw_error_set(&c->err, FW_ERR_IO, "connection is closed");
    return c->err.cls;
}

FW_API uint64_t
fw_stream_rows(const fw_stream *s)
{
    return s ? s->rows : 0;
}

FW_API uint64_t
fw_stream_bytes(const fw_stream *s)
{
    return s ? s->bytes : 0;
}

FW_API uint64_t
fw_stream_rows_dropped(const fw_stream *s)
{
    return s ? s->dropped : 0;
}

FW_API int64_t
fw_stream_first_row_usec(const fw_stream *s)
{
    return s && s->first_row_us ? s->first_row_us - s->started_us : -1;
}

FW_API int64_t
fw_stream_duration_usec(const fw_stream *s)
{
    if (!s)
        return -1;
    return (s->finished_us ? s->finished_us : fw_now_us()) - s->started_us;
}

FW_API int
fw_stream_row_buffered(const fw_stream *s)
{
    const fw_conn *c;
    size_t avail, consumed;
    fw_msg m;

    if (!s || !s->conn || s->state != FW_ST_ROWS)
        return 0;
    c = s->conn;
    avail = c->rbuf.len - c->rpos;
    if (c->skip > 0 || avail == 0 || c->rbuf.data[c->rpos] != 'D')
        return 0;
    return fw_msg_frame(c->rbuf.data + c->rpos, avail, UINT32_MAX, &m, &consumed) == FW_FRAME_OK;
}

FW_API const char *
fw_stream_data_type(const fw_stream *s)
{
    if (!s)
        return NULL;
    return s->type_oid == JSONB_OID ? "jsonb" : s->type_oid == JSON_OID ? "json" : "other";
}

FW_API fw_status
fw_exec_simple(fw_conn *conn, const char *sql)
{
    fw_error first = {.cls = FW_OK};
    fw_status st;

    if ((st = usable(conn)) != FW_OK)
        return st;
    if (!sql) {
        fw_error_set(&conn->err, FW_ERR_USAGE, "no SQL given");
        return FW_ERR_USAGE;
    }
    if (fw_enc_query(&conn->wbuf, sql) != FW_OK) {
        conn->wbuf.len = 0;
        fw_error_set(&conn->err, FW_ERR_MEMORY, "out of memory building the query");
        return FW_ERR_MEMORY;
    }
    conn->state = FW_CONN_BUSY;
    if ((st = fw_conn_flush(conn)) != FW_OK)
        return st;
    st = drain(conn, &first, 0, 0, -1);
    if (st != FW_OK) {
        fw_error_clear(&first);
        fw_conn_break(conn);
        return st;
    }
    if (first.cls != FW_OK) {
        fw_error_move(&conn->err, &first);
        return conn->err.cls;
    }
    return FW_OK;
}
