/*
 * stream.c — queries: fw_stream_open_sql (extended protocol, one chunk per
 * Execute), fw_stream_try_next / fw_stream_next (zero-copy rows; one state
 * machine that never waits, and a poll(2) loop around it), cancel and close
 * (cancel, then drain to ReadyForQuery so the connection is reused; no
 * cancel when what has arrived shows that nothing runs any more), and
 * fw_conn_exec.
 *
 * The message sequence of a stream:
 *   Parse("") Bind("", "") Describe(portal) Flush   -> RowDescription checked
 *   Execute(chunk) Execute(chunk) Flush              -> DataRow…, PortalSuspended (×2)
 *   Execute(chunk) Flush  (one per PortalSuspended the caller has read up to,
 *                          so FW_PIPELINE_DEPTH = 2 chunks stay in flight)
 *   …                                                -> CommandComplete
 *   Sync                                             -> ReadyForQuery
 * A caller that stops reading stops the server after the chunk being read
 * plus the one in flight behind it.
 * No Sync until the end: a Sync would end the implicit transaction and close
 * the portal.  The schema is checked before the first Execute, so a
 * statement of the wrong shape is never run.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pgtype.h"

#define JSON_OID 114
#define JSONB_OID 3802

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
    if (c->cx) {
        fw_error_set(&c->err, FW_ERR_USAGE,
                     "the connection is not established yet (call fw_conn_connect_poll until FW_OK)");
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
    /* Not after half a message: the server would read Terminate as its rest. */
    int half_sent = c->wpos > 0 || c->sock.tls_wlen > 0;

    c->wbuf.len = 0;
    c->wpos = 0;
    if (c->sock.fd >= 0 && !half_sent && fw_enc_terminate(&c->wbuf) == FW_OK) {
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
        if (st == FW_ERR_LIMIT && c->state != FW_CONN_BAD)
            continue;   /* an oversized message was skipped */
        if (st != FW_OK)
            return st;
        switch (m.type) {
        case FW_BE_READY_FOR_QUERY:
            if (fw_parse_ready(&m, &c->tx_status) != FW_OK) {
                fw_error_set(&c->err, FW_ERR_PROTOCOL, "malformed ReadyForQuery message");
                fw_conn_break(c);
                return FW_ERR_PROTOCOL;
            }
            c->state = FW_CONN_IDLE;
            shrink_rbuf(c);
            return FW_OK;
        case FW_BE_ERROR_RESPONSE:
            if (first && first->cls == FW_OK) {
                fw_conn_error_from_msg(c, &m, FW_ERR_SQL);
                fw_error_move(first, &c->err);
            }
            break;
        case FW_BE_COPY_IN_RESPONSE:
            /* COPY FROM STDIN: refuse.  In the extended protocol the server
             * then wants a Sync again (it ignores Sync during copy-in); in
             * the simple protocol a Sync would bring a second ReadyForQuery. */
            if (first && first->cls == FW_OK)
                fw_error_set(first, FW_ERR_PROTOCOL, "COPY is not supported");
            if (fw_enc_copy_fail(&c->wbuf, "COPY is not supported by fraiseql_wire") != FW_OK ||
                (extended && fw_enc_sync(&c->wbuf) != FW_OK)) {
                fw_error_set(&c->err, FW_ERR_MEMORY, "out of memory");
                fw_conn_break(c);
                return FW_ERR_MEMORY;
            }
            if ((st = fw_conn_flush(c)) != FW_OK)
                return st;
            break;
        case FW_BE_COPY_OUT_RESPONSE:
        case FW_BE_COPY_BOTH_RESPONSE:
            if (first && first->cls == FW_OK)
                fw_error_set(first, FW_ERR_PROTOCOL, "COPY is not supported");
            break;
        default:
            break;   /* rows, completions, CopyData: discarded */
        }
    }
}

/* Queues Sync once: ReadyForQuery will end the drain. */
static fw_status
queue_sync(fw_stream *s)
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
    return FW_OK;
}

/* Queues Sync and sends everything queued, waiting. */
static fw_status
send_sync(fw_stream *s)
{
    fw_status st = queue_sync(s);

    return st != FW_OK ? st : fw_conn_flush(s->conn);
}

/* The stream ends with the error in s->pending, recorded on the
 * connection (which is broken unless it is idle again). */
static fw_status
finish_error(fw_stream *s)
{
    fw_conn *c = s->conn;

    if (c->state != FW_CONN_IDLE)
        fw_conn_break(c);
    if (s->pending.cls == FW_OK)
        fw_error_set(&s->pending, FW_ERR_IO, "connection is closed");
    fw_error_move(&c->err, &s->pending);
    fw_error_clear(&s->first);
    s->state = FW_ST_FAILED;
    s->result = c->err.cls;
    return s->result;
}

/* The connection failed under the stream (its error is on it). */
static fw_status
broken(fw_stream *s)
{
    fw_conn *c = s->conn;

    fw_conn_break(c);
    if (s->state == FW_ST_DRAIN && s->drain_kind == FW_DRAIN_ERROR)
        return finish_error(s);   /* the cause comes first */
    fw_error_clear(&s->first);
    fw_error_clear(&s->pending);
    s->state = FW_ST_FAILED;
    s->result = c->err.cls != FW_OK ? c->err.cls : FW_ERR_IO;
    return s->result;
}

/*
 * Ends the stream with error e (moved in): Sync, then the state machine
 * drains to ReadyForQuery so the connection is reusable, and e is reported
 * (a broken connection keeps e too: the cause comes first).  cancel: the
 * query may still be running (an oversized row); a blocking stream sends a
 * CancelRequest first, repeats it while the server stays silent, and gives
 * the connection up when the server has not ended the query in time.
 */
static void
fail_stream(fw_stream *s, fw_error *e, int cancel)
{
    fw_conn *c = s->conn;

    fw_error_move(&s->pending, e);
    cancel = cancel && !c->nonblocking;
    s->drain_deadline = cancel ? cancel_drain_deadline(c) : -1;
    if (cancel && c->state != FW_CONN_BAD)
        send_cancel(c, s->drain_deadline);
    if (c->state == FW_CONN_BAD || queue_sync(s) != FW_OK) {
        (void)finish_error(s);
        return;
    }
    s->state = FW_ST_DRAIN;
    s->drain_kind = FW_DRAIN_ERROR;
    s->cancelling = cancel;
}

/* The caller cancelled: Sync, drain, report FW_ERR_CANCELLED. */
static void
begin_cancel(fw_stream *s)
{
    /* Suspended is not idle with Executes still in flight: the next chunk
     * may be running, and a CancelRequest that reached the backend between
     * two messages was ignored: keep cancelling. */
    s->cancelling = s->state == FW_ST_ROWS || s->inflight > 0;
    s->drain_deadline = cancel_drain_deadline(s->conn);
    if (queue_sync(s) != FW_OK) {
        (void)broken(s);
        return;
    }
    s->state = FW_ST_DRAIN;
    s->drain_kind = FW_DRAIN_CANCEL;
}

/* ReadyForQuery ended the drain: the stream's outcome. */
static fw_status
drained(fw_stream *s)
{
    fw_conn *c = s->conn;

    switch (s->drain_kind) {
    case FW_DRAIN_ERROR:
        return finish_error(s);
    case FW_DRAIN_END:
        if (s->first.cls != FW_OK) {   /* e.g. COMMIT of the implicit transaction failed */
            fw_error_move(&c->err, &s->first);
            s->state = FW_ST_FAILED;
            s->result = c->err.cls;
            return s->result;
        }
        s->state = FW_ST_DONE;
        s->result = FW_DONE;
        s->finished_us = fw_now_us();
        return FW_DONE;
    case FW_DRAIN_CANCEL:
    default:
        if (s->first.cls == FW_ERR_SQL && s->first.sqlstate &&
            strcmp(s->first.sqlstate, "57014") == 0) {
            s->first.cls = FW_ERR_CANCELLED;
            fw_error_move(&c->err, &s->first);
        } else if (s->first.cls != FW_OK && s->first.cls != FW_ERR_SQL) {
            fw_error_move(&c->err, &s->first);
        } else {
            fw_error_clear(&s->first);
            fw_error_set(&c->err, FW_ERR_CANCELLED, "the stream was cancelled");
        }
        s->state = FW_ST_FAILED;
        s->result = c->err.cls;
        return s->result;
    }
}

/* One message while draining: *done once ReadyForQuery came. */
static fw_status
drain_message(fw_stream *s, const fw_msg *m, int *done)
{
    fw_conn *c = s->conn;
    int keep_first = s->drain_kind != FW_DRAIN_ERROR && s->first.cls == FW_OK;

    *done = 0;
    switch (m->type) {
    case FW_BE_READY_FOR_QUERY:
        if (fw_parse_ready(m, &c->tx_status) != FW_OK) {
            fw_error_set(&c->err, FW_ERR_PROTOCOL, "malformed ReadyForQuery message");
            return FW_ERR_PROTOCOL;
        }
        c->state = FW_CONN_IDLE;
        shrink_rbuf(c);
        *done = 1;
        return FW_OK;
    case FW_BE_ERROR_RESPONSE:
        if (keep_first) {
            fw_conn_error_from_msg(c, m, FW_ERR_SQL);
            fw_error_move(&s->first, &c->err);
        }
        return FW_OK;
    case FW_BE_COPY_IN_RESPONSE:
        /* COPY FROM STDIN: refuse; the server then wants a Sync again (it
         * ignores Sync during copy-in). */
        if (keep_first)
            fw_error_set(&s->first, FW_ERR_PROTOCOL, "COPY is not supported");
        if (fw_enc_copy_fail(&c->wbuf, "COPY is not supported by fraiseql_wire") != FW_OK ||
            fw_enc_sync(&c->wbuf) != FW_OK) {
            fw_error_set(&c->err, FW_ERR_MEMORY, "out of memory");
            return FW_ERR_MEMORY;
        }
        return FW_OK;
    case FW_BE_COPY_OUT_RESPONSE:
    case FW_BE_COPY_BOTH_RESPONSE:
        if (keep_first)
            fw_error_set(&s->first, FW_ERR_PROTOCOL, "COPY is not supported");
        return FW_OK;
    default:
        return FW_OK;   /* rows, completions, CopyData: discarded */
    }
}

static int
is_json_oid(uint32_t oid)
{
    return oid == JSON_OID || oid == JSONB_OID;
}

/* Checks the RowDescription: one json/jsonb column named data (any one
 * column for fw_stream_open_sql_text), and records its type. */
static fw_status
check_schema(fw_stream *s, const fw_msg *m, fw_error *e)
{
    int16_t n;
    size_t off = 2;
    fw_field_desc f;
    char tname[64];

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
        fw_error_set(e, FW_ERR_SCHEMA, "the query's column is named \"%.64s\" and has type %s, "
                     "expected one column \"data\" of type json or jsonb", f.name,
                     fw_pg_type_describe(f.type_oid, tname, sizeof tname));
        return FW_ERR_SCHEMA;
    }
    if (!is_json_oid(f.type_oid)) {
        fw_error_set(e, FW_ERR_SCHEMA, "column \"data\" has type %s, expected json or jsonb",
                     fw_pg_type_describe(f.type_oid, tname, sizeof tname));
        return FW_ERR_SCHEMA;
    }
    return FW_OK;
}

/* Tops the Executes in flight up to FW_PIPELINE_DEPTH, then Flush (queued). */
static fw_status
queue_execute(fw_stream *s)
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
    return FW_OK;
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

/* A filter needs the extension in the database: say so, and how. */
static void
add_extension_hint(fw_conn *c)
{
    if (c->err.cls == FW_ERR_SQL && c->err.sqlstate && c->err.message &&
        (strcmp(c->err.sqlstate, "3F000") == 0 || strcmp(c->err.sqlstate, "42883") == 0) &&
        strstr(c->err.message, "fraiseql_wire") != NULL) {
        free(c->err.hint);
        c->err.hint = strdup("The fraiseql_wire extension is not installed in this database: "
                             "run CREATE EXTENSION fraiseql_wire (see docs/extension.md).");
    }
}

/* One message before the first Execute. */
static void
describe_message(fw_stream *s, const fw_msg *m)
{
    fw_conn *c = s->conn;
    fw_error e = {.cls = FW_OK};

    if (s->setup_sent && !s->setup_done &&
        (m->type == FW_BE_DATA_ROW || m->type == FW_BE_COMMAND_COMPLETE)) {
        /* the setup statement's one row and completion */
        if (m->type == FW_BE_DATA_ROW && s->efd_unknown)
            (void)fw_parse_data_row(m, note_float_digits, c);
        s->setup_done = m->type == FW_BE_COMMAND_COMPLETE;
        return;
    }
    switch (m->type) {
    case FW_BE_PARSE_COMPLETE:
    case FW_BE_BIND_COMPLETE:
        return;
    case FW_BE_ROW_DESCRIPTION:
        if (check_schema(s, m, &e) != FW_OK) {
            fail_stream(s, &e, 0);
            return;
        }
        if (queue_execute(s) != FW_OK)
            (void)broken(s);
        return;
    case FW_BE_NO_DATA:
        fw_error_set(&e, FW_ERR_SCHEMA, "the statement returns no rows, expected one column \"data\"");
        fail_stream(s, &e, 0);
        return;
    case FW_BE_ERROR_RESPONSE:
        fw_conn_error_from_msg(c, m, FW_ERR_SQL);
        if (s->extension_hint)
            add_extension_hint(c);
        fw_error_move(&e, &c->err);
        fail_stream(s, &e, 0);
        return;
    default:
        /* Out of step (a row before its description, ReadyForQuery with no
         * Sync sent): nothing the server says next can be trusted. */
        fw_error_set(&e, FW_ERR_PROTOCOL, "unexpected message type 0x%02x after Describe",
                     (unsigned char)m->type);
        fw_conn_break(c);
        fail_stream(s, &e, 0);
        return;
    }
}

/* One message while rows arrive: FW_OK with a row in *json and *len, or
 * FW_AGAIN to go on (never returned to the caller as such). */
static fw_status
rows_message(fw_stream *s, const fw_msg *m, const char **json, size_t *len)
{
    fw_conn *c = s->conn;
    fw_error e = {.cls = FW_OK};

    switch (m->type) {
    case FW_BE_DATA_ROW: {
        const uint8_t *v;
        uint32_t vlen;

        if (fw_parse_data_row1(m, &v, &vlen) != FW_OK) {
            fw_error_set(&e, FW_ERR_PROTOCOL, "malformed DataRow message");
            fw_conn_break(c);
            fail_stream(s, &e, 0);
            return FW_AGAIN;
        }
        if (vlen > c->max_row_bytes) {
            fw_error_set(&e, FW_ERR_LIMIT, "row of %u bytes exceeds max_row_bytes (%zu)", vlen,
                         c->max_row_bytes);
            fail_stream(s, &e, 1);
            return FW_AGAIN;
        }
        s->bytes += vlen;
        if (s->npredicates > 0) {
            int keep = 1;

            for (int i = 0; keep && i < s->npredicates; i++)
                keep = s->predicates[i].fn(s->predicates[i].arg, (const char *)v, v ? vlen : 0);
            if (!keep) {
                s->dropped++;
                return FW_AGAIN;
            }
        }
        if (s->first_row_us == 0)
            s->first_row_us = fw_now_us();
        s->rows++;
        *json = (const char *)v;
        *len = v ? vlen : 0;
        return FW_OK;
    }
    case FW_BE_PORTAL_SUSPENDED:
        s->inflight--;
        if (atomic_load(&s->cancel_requested)) {
            s->state = FW_ST_SUSPENDED;   /* the next step begins the cancel */
            return FW_AGAIN;
        }
        if (queue_execute(s) != FW_OK)
            (void)broken(s);
        return FW_AGAIN;
    case FW_BE_COMMAND_COMPLETE:
    case FW_BE_EMPTY_QUERY_RESPONSE:
        if (queue_sync(s) != FW_OK) {
            (void)broken(s);
            return FW_AGAIN;
        }
        s->state = FW_ST_DRAIN;
        s->drain_kind = FW_DRAIN_END;
        s->cancelling = 0;
        return FW_AGAIN;
    case FW_BE_ERROR_RESPONSE:
        fw_conn_error_from_msg(c, m, FW_ERR_SQL);
        fw_error_move(&e, &c->err);
        if (atomic_load(&s->cancel_requested) && e.sqlstate && strcmp(e.sqlstate, "57014") == 0)
            e.cls = FW_ERR_CANCELLED;
        fail_stream(s, &e, 0);
        return FW_AGAIN;
    case FW_BE_COPY_IN_RESPONSE:
    case FW_BE_COPY_OUT_RESPONSE:
    case FW_BE_COPY_BOTH_RESPONSE:
        fw_error_set(&e, FW_ERR_PROTOCOL, "COPY is not supported");
        if (m->type == FW_BE_COPY_IN_RESPONSE &&
            fw_enc_copy_fail(&c->wbuf, "COPY is not supported by fraiseql_wire") != FW_OK)
            fw_conn_break(c);
        fail_stream(s, &e, 0);
        return FW_AGAIN;
    default:
        fw_error_set(&e, FW_ERR_PROTOCOL, "unexpected message type 0x%02x in a stream",
                     (unsigned char)m->type);
        fw_conn_break(c);
        fail_stream(s, &e, 0);
        return FW_AGAIN;
    }
}

/* stream_step's flags */
#define STEP_UNTIL_DESCRIBED 0x1   /* return FW_OK once the RowDescription passed (blocking open) */
#define STEP_BLOCKING 0x2          /* a blocking driver: a cancelled drain has a deadline */

/*
 * The stream's state machine: runs until it has a row (FW_OK), the end
 * (FW_DONE), an error, or cannot go on without waiting (FW_AGAIN with
 * c->wants).  Queued output is written as the socket takes it, before and
 * between reads, so neither side can block the other.
 */
static fw_status
stream_step(fw_stream *s, const char **json, size_t *len, unsigned flags)
{
    fw_conn *c = s->conn;
    int until_described = (flags & STEP_UNTIL_DESCRIBED) != 0;

    c->wants = 0;
    for (;;) {
        fw_status st;
        fw_msg m;
        unsigned rw = 0, ww = 0;
        int done;

        if (s->state == FW_ST_DONE)
            return FW_DONE;
        if (s->state == FW_ST_FAILED)
            return s->result;
        if (until_described && (s->state == FW_ST_ROWS || s->state == FW_ST_SUSPENDED))
            return FW_OK;
        if (s->state != FW_ST_DRAIN && atomic_load(&s->cancel_requested)) {
            begin_cancel(s);
            continue;
        }
        if (s->state == FW_ST_SUSPENDED && queue_execute(s) != FW_OK)
            return broken(s);
        /* The bound of a cancelled drain holds whether the server stays
         * silent (stream_wait) or keeps sending (here). */
        if ((flags & STEP_BLOCKING) && s->state == FW_ST_DRAIN && s->drain_deadline >= 0 &&
            fw_now_ms() >= s->drain_deadline) {
            (void)abandon(c);
            return broken(s);
        }
        st = fw_conn_flush_nb(c, &ww);
        if (st != FW_OK && st != FW_AGAIN)
            return broken(s);
        st = fw_conn_read_msg_nb(c, &m, &rw);
        if (st == FW_AGAIN) {
            c->wants = rw | (fw_conn_output_pending(c) ? ww : 0);
            if (c->wants == 0)
                c->wants = FW_WANT_READ;
            return FW_AGAIN;
        }
        if (st == FW_ERR_LIMIT && c->state != FW_CONN_BAD) {
            /* An oversized message was skipped; the connection is in step. */
            fw_error e = {.cls = FW_OK};

            if (s->state == FW_ST_DRAIN)
                continue;
            fw_error_move(&e, &c->err);
            fail_stream(s, &e, s->state == FW_ST_ROWS);
            continue;
        }
        if (st != FW_OK)
            return broken(s);
        switch (s->state) {
        case FW_ST_DESCRIBE:
            describe_message(s, &m);
            break;
        case FW_ST_ROWS:
            if (rows_message(s, &m, json, len) == FW_OK)
                return FW_OK;
            break;
        case FW_ST_DRAIN:
            if (drain_message(s, &m, &done) != FW_OK)
                return broken(s);
            if (done)
                return drained(s);
            break;
        default:
            break;
        }
    }
}

/*
 * The blocking drivers' wait after FW_AGAIN: in slices, so that a cancel
 * requested from another thread is noticed even when the CancelRequest
 * reached the backend while it was idle between two messages (and was
 * ignored), and a cancelled query that stays silent is cancelled again.
 * FW_OK: call stream_step again; else the stream has failed (timeout: the
 * connection's timeout passed without I/O).
 */
static fw_status
stream_wait(fw_stream *s)
{
    fw_conn *c = s->conn;
    int64_t deadline = c->timeout_ms > 0 ? fw_now_ms() + c->timeout_ms : -1;

    for (;;) {
        int64_t slice_end = fw_now_ms() + FW_RECANCEL_MS;
        int draining = s->state == FW_ST_DRAIN && s->drain_deadline >= 0;
        fw_status st;

        if (draining && s->drain_deadline - fw_now_ms() <= 0) {
            (void)abandon(c);   /* the cancelled query did not end in time */
            return broken(s);
        }
        if (deadline >= 0) {
            if (deadline - fw_now_ms() <= 0) {
                fw_error_set(&c->err, FW_ERR_TIMEOUT, "timeout expired waiting for the server");
                return broken(s);
            }
            if (deadline < slice_end)
                slice_end = deadline;
        }
        if (draining && s->drain_deadline < slice_end)
            slice_end = s->drain_deadline;
        st = fw_conn_wait_wants(c, slice_end);
        if (st == FW_OK)
            return FW_OK;
        if (st != FW_ERR_TIMEOUT)
            return broken(s);
        fw_error_clear(&c->err);   /* the slice's "timeout expired" */
        if (s->state != FW_ST_DRAIN && atomic_load(&s->cancel_requested))
            return FW_OK;
        if (s->state == FW_ST_DRAIN && s->cancelling && c->be_pid != 0 &&
            (deadline < 0 || deadline - fw_now_ms() > 0) &&
            (!draining || s->drain_deadline - fw_now_ms() > 0))
            send_cancel(c, draining ? s->drain_deadline : deadline);
    }
}

static fw_status
stream_start(fw_conn *conn, const char *sql, int nparams, const char *const *params,
             size_t chunk_size, int any_column, const fw_predicate_entry *predicates,
             int npredicates, int extension_hint, fw_stream **out)
{
    fw_stream *s;
    fw_status st;
    size_t mark;
    const char *json;
    size_t len;

    if (out)
        *out = NULL;
    if ((st = usable(conn)) != FW_OK)
        return st;
    if (!out || !sql || nparams < 0 || (nparams > 0 && !params)) {
        fw_error_set(&conn->err, FW_ERR_USAGE, "invalid arguments to fw_stream_open_sql");
        return FW_ERR_USAGE;
    }
    if (nparams > FW_MAX_BIND_PARAMS) {
        fw_error_set(&conn->err, FW_ERR_LIMIT, "%d parameters are more than the protocol's "
                     "limit of %d", nparams, FW_MAX_BIND_PARAMS);
        return FW_ERR_LIMIT;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        fw_error_set(&conn->err, FW_ERR_MEMORY, "out of memory");
        return FW_ERR_MEMORY;
    }
    s->conn = conn;
    s->any_column = any_column;
    s->extension_hint = extension_hint;
    s->started_us = fw_now_us();
    s->state = FW_ST_DESCRIBE;
    if (npredicates > 0) {
        memcpy(s->predicates, predicates, (size_t)npredicates * sizeof *predicates);
        s->npredicates = npredicates;
    }
    s->chunk = chunk_size == 0 ? FW_DEFAULT_CHUNK
                               : chunk_size > INT32_MAX ? INT32_MAX : (int32_t)chunk_size;
    atomic_init(&s->cancel_requested, 0);
    s->drain_deadline = -1;
    s->efd_unknown = conn->efd_state == FW_EFD_UNKNOWN;
    mark = conn->wbuf.len;
    if ((st = encode_stream_setup(conn, &s->setup_sent)) != FW_OK ||
        (st = fw_enc_parse(&conn->wbuf, "", sql, 0, NULL)) != FW_OK ||
        (st = fw_enc_bind(&conn->wbuf, "", "", (int16_t)nparams, params)) != FW_OK ||
        (st = fw_enc_describe(&conn->wbuf, FW_KIND_PORTAL, "")) != FW_OK ||
        (st = fw_enc_flush(&conn->wbuf)) != FW_OK) {
        conn->wbuf.len = mark;
        free(s);
        if (st == FW_ERR_MEMORY)
            fw_error_set(&conn->err, st, "out of memory building the query");
        else if (st == FW_ERR_LIMIT)
            fw_error_set(&conn->err, st, "the query or its parameters are over the protocol's "
                                         "limit of 1 GiB a message");
        else
            fw_error_set(&conn->err, st, "the query or its parameters cannot be encoded");
        return st;
    }
    conn->state = FW_CONN_BUSY;
    conn->stream = s;
    if (conn->nonblocking) {
        /* fw_stream_try_next sends it and checks the description. */
        *out = s;
        return FW_OK;
    }
    /* Blocking: the same state machine, waited on until the schema is
     * checked (the statement of a wrong shape is never executed). */
    while ((st = stream_step(s, &json, &len, STEP_UNTIL_DESCRIBED | STEP_BLOCKING)) == FW_AGAIN)
        if ((st = stream_wait(s)) != FW_OK)
            break;
    if (st == FW_OK && (s->state == FW_ST_ROWS || s->state == FW_ST_SUSPENDED) &&
        (st = fw_conn_flush(conn)) == FW_OK) {
        *out = s;
        return FW_OK;
    }
    if (st == FW_OK)
        st = s->result != FW_OK ? s->result : FW_ERR_IO;
    fw_error_clear(&s->pending);
    fw_error_clear(&s->first);
    if (conn->state == FW_CONN_BUSY)
        fw_conn_break(conn);   /* out of step: cannot be reused */
    conn->stream = NULL;
    free(s);
    return st;
}

fw_status
fw_stream_start_internal(fw_conn *conn, const char *sql, int nparams, const char *const *params,
                         size_t chunk_size, int any_column, const fw_predicate_entry *predicates,
                         int npredicates, fw_stream **out)
{
    return stream_start(conn, sql, nparams, params, chunk_size, any_column, predicates,
                        npredicates, !any_column, out);
}

FW_API fw_status
fw_stream_open_sql(fw_conn *conn, const char *sql, int nparams, const char *const *params,
                   size_t chunk_size, fw_stream **out)
{
    return stream_start(conn, sql, nparams, params, chunk_size, 0, NULL, 0, 0, out);
}

FW_API fw_status
fw_stream_open_sql_text(fw_conn *conn, const char *sql, int nparams, const char *const *params,
                        size_t chunk_size, fw_stream **out)
{
    return stream_start(conn, sql, nparams, params, chunk_size, 1, NULL, 0, 0, out);
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
    if (fw_query_parts(q) > 1)
        return fw_par_open(conn, q, out);
    st = fw_query_prepare(q, &sql, &nparams, &params, &chunk, &predicates, &npredicates);
    if (st != FW_OK) {
        fw_error_set(&conn->err, st, "%s",
                     fw_query_error_message(q) ? fw_query_error_message(q) : "out of memory rendering the query");
        return st;
    }
    return stream_start(conn, sql, nparams, params, chunk, 0, predicates, npredicates, 1, out);
}

/* Argument checks shared by fw_stream_next and fw_stream_try_next: FW_OK
 * to go on, else what to return. */
static fw_status
next_args(fw_stream *s, const char **json, size_t *len)
{
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
    if (!s->conn)
        return FW_ERR_USAGE;
    return FW_OK;
}

FW_API fw_status
fw_stream_try_next(fw_stream *s, const char **json, size_t *len)
{
    fw_status st;

    if (s && s->par && json && len)
        return fw_par_try_next(s, json, len);
    st = next_args(s, json, len);

    if (st != FW_OK)
        return st;
    return stream_step(s, json, len, 0);
}

FW_API fw_status
fw_stream_next(fw_stream *s, const char **json, size_t *len)
{
    fw_status st;

    if (s && s->par && json && len)
        return fw_par_next(s, json, len);
    st = next_args(s, json, len);

    if (st != FW_OK)
        return st;
    while ((st = stream_step(s, json, len, STEP_BLOCKING)) == FW_AGAIN)
        if ((st = stream_wait(s)) != FW_OK)
            return st;
    return st;
}

FW_API fw_status
fw_stream_cancel(fw_stream *s)
{
    fw_conn *c;
    fw_error e = {.cls = FW_OK};
    fw_status st;

    if (!s || !s->conn)
        return FW_ERR_USAGE;
    if (s->par)
        return fw_par_cancel(s);
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

/*
 * Before a close cancels a portal that may still run: the messages that
 * have arrived already (buffered, or in the socket now: no wait) are
 * read and discarded, since the close drains them anyway.  They may show
 * that nothing runs any more: the query's CommandComplete (the caller
 * read the last row, e.g. of a one-row query, but not the completion
 * behind it), an error, or every Execute in flight back suspended.  Then
 * no CancelRequest is sent (it costs a connection to the postmaster and
 * a wait for the postmaster to close it).  1 when nothing runs; at most
 * FW_CLOSE_SETTLE_MS are spent reading a server that keeps sending.
 */
#define FW_CLOSE_SETTLE_MS 50

static int
close_settles(fw_stream *s)
{
    fw_conn *c = s->conn;
    int64_t until = fw_now_ms() + FW_CLOSE_SETTLE_MS;   /* a server that keeps sending: cancel */

    while (fw_now_ms() < until) {
        unsigned wants;
        fw_msg m;
        fw_status st = fw_conn_read_msg_nb(c, &m, &wants);

        if (st == FW_ERR_LIMIT && c->state != FW_CONN_BAD) {
            fw_error_clear(&c->err);   /* an oversized row, skipped */
            continue;
        }
        if (st != FW_OK)
            return 0;   /* nothing more now, or the connection failed (the close reports it) */
        switch (m.type) {
        case FW_BE_DATA_ROW:
            continue;
        case FW_BE_PORTAL_SUSPENDED:
            if (--s->inflight <= 0)
                return 1;
            continue;
        case FW_BE_COMMAND_COMPLETE:
        case FW_BE_EMPTY_QUERY_RESPONSE:
        case FW_BE_ERROR_RESPONSE:
            return 1;   /* the server skips to the Sync */
        default:
            return 0;
        }
    }
    return 0;
}

fw_status
fw_stream_poll_described(fw_stream *s)
{
    const char *json;
    size_t len;

    return stream_step(s, &json, &len, STEP_UNTIL_DESCRIBED);
}

FW_API fw_status
fw_stream_close(fw_stream *s)
{
    fw_conn *c;
    fw_status st = FW_OK;

    if (!s)
        return FW_OK;
    if (s->par)
        return fw_par_close(s);
    c = s->conn;
    fw_error_clear(&s->pending);
    fw_error_clear(&s->first);
    if (!c) {
        free(s);
        return FW_ERR_IO;
    }
    if (s->state == FW_ST_DESCRIBE || s->state == FW_ST_ROWS || s->state == FW_ST_SUSPENDED ||
        s->state == FW_ST_DRAIN) {
        fw_error first = {.cls = FW_OK};

        /* A suspended portal with no Execute in flight runs nothing, nor
         * does a statement not executed yet: Sync alone ends it.  A drain
         * under way goes on as it was. */
        int running = s->state == FW_ST_DRAIN ? s->cancelling
                      : s->state == FW_ST_ROWS || s->inflight > 0;
        int64_t deadline = cancel_drain_deadline(c);

        if (running && s->state != FW_ST_DRAIN && !atomic_load(&s->cancel_requested) &&
            c->state != FW_CONN_BAD && close_settles(s))
            running = 0;
        if (running && s->state != FW_ST_DRAIN && !atomic_load(&s->cancel_requested))
            send_cancel(c, deadline);
        st = c->state == FW_CONN_BAD ? FW_ERR_IO : send_sync(s);
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
    if (c->skip > 0 || avail == 0 || c->rbuf.data[c->rpos] != FW_BE_DATA_ROW)
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
fw_conn_exec(fw_conn *conn, const char *sql)
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
