/*
 * parallel.c — parallel streams over one exported snapshot
 * (fw_query_set_parallel; docs/client.md, "Parallel streams").
 *
 * Opening (fw_par_open; the details above open_drive): on the caller's
 * connection, in one round trip, BEGIN ISOLATION LEVEL REPEATABLE READ,
 * READ ONLY, the split from fraiseql_wire.parallel_parts() and
 * pg_export_snapshot(); while it runs, one more connection per further
 * part asked for (the caller's parameters, pinned to the same server
 * address) is made.  Then each part's messages are sent at once — on an
 * extra connection BEGIN … + SET TRANSACTION SNAPSHOT with the part's query
 * behind it — and the replies read.  Each part is an ordinary stream of the
 * query with its range ANDed in (fw_query_render_part: a block range, or a
 * key range for a stream in key order; bounds always as parameters).
 *
 * Reading: unordered, the parts are multiplexed in this thread on the
 * non-blocking core (fw_stream_try_next on each part, poll(2) over
 * fw_conn_socket/fw_conn_wants when none has a row) and each row is handed
 * out as it comes; ordered (ORDER BY the split key),
 * the parts are read one after the other, while the servers of the later
 * parts stop after the Executes in flight (at most FW_PIPELINE_DEPTH chunks
 * ahead, held by the sockets, not by us).  An error or a cancel on one part
 * cancels every part and is reported once, on the caller's connection.
 * Closing ends every transaction (ROLLBACK on the caller's connection; the
 * extra connections are terminated).
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json.h>

#include "internal.h"

/* How often a wait for rows looks at a cancel requested from another
 * thread. */
#define FW_PAR_SLICE_MS 100
/* The receive buffer of each part of an unordered stream (a Unix socket's
 * default send buffer holds about 208 KiB). */
#define FW_PAR_RBUF (256u * 1024)
/* pg_export_snapshot() ids are hex words joined by '-' ("00000003-0000001B-1"). */
#define FW_SNAPSHOT_ID_MAX 64

typedef struct par_part {
    int number;          /* the server's part number, 1-based */
    fw_conn *conn;       /* the caller's connection, or an owned one */
    int owned;
    fw_stream *stream;   /* the part's stream; kept until fw_par_close */
    int done;            /* ended (rows read, or drained after a cancel) */
    int waiting;         /* nothing to read without waiting: not tried again until
                          * poll(2) reports its socket ready for `events` */
    short events;
    int fresh;           /* poll reported it ready and no recv(2) ran since */
    char *lower, *upper; /* bounds, NULL = unbounded */
} par_part;

struct fw_par {
    int nparts;
    par_part *parts;     /* in reading order (reversed for a descending key) */
    char *key_column;
    int ordered;
    int cur;             /* ordered: the part being read */
    int rr;              /* unordered: the part the scan starts with */
    int active;          /* parts not done */
    int64_t limit;       /* -1 = none */
    int in_tx;           /* the caller's connection has our transaction open */
    int64_t woke_us;     /* unordered: when poll last reported a part ready (0 = never) */
    fw_par_counters counters;
};

/* ------------------------------------------------------------ conninfo */

fw_conninfo *
fw_par_pin_conninfo(const fw_conninfo *ci, const fw_ci_host *h, const fw_conn *c)
{
    const char *kw[FW_CI__COUNT + 1];
    const char *val[FW_CI__COUNT + 1];
    char port[16], addr[NI_MAXHOST];
    fw_conninfo *out = NULL;
    int n = 0;

    snprintf(port, sizeof port, "%d", h->port);
    addr[0] = '\0';
    if (!h->is_unix && (c->sock.addr.ss_family == AF_INET || c->sock.addr.ss_family == AF_INET6) &&
        getnameinfo((const struct sockaddr *)&c->sock.addr, c->sock.addrlen, addr, sizeof addr,
                    NULL, 0, NI_NUMERICHOST) != 0)
        addr[0] = '\0';
    for (int k = 0; k < FW_CI__COUNT; k++) {
        const char *v = ci->values[k];

        switch ((fw_ci_key)k) {
        case FW_CI_HOST:
            v = h->host;
            break;
        case FW_CI_HOSTADDR:
            v = addr[0] ? addr : h->hostaddr;
            break;
        case FW_CI_PORT:
            v = port;
            break;
        case FW_CI_TARGET_SESSION_ATTRS:
            v = "any";
            break;
        default:
            break;
        }
        if (v) {
            kw[n] = fw_ci_key_name((fw_ci_key)k);
            val[n] = v;
            n++;
        }
    }
    kw[n] = val[n] = NULL;
    if (fw_conninfo_parse_params(kw, val, 0, FW_CONNINFO_NO_ENV, &out) != FW_OK) {
        fw_conninfo_free(out);
        return NULL;
    }
    return out;
}

/* ------------------------------------------------------------- helpers */

static void
par_free(struct fw_par *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nparts; i++) {
        free(p->parts[i].lower);
        free(p->parts[i].upper);
    }
    free(p->parts);
    free(p->key_column);
    free(p);
}

static int
snapshot_id_ok(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > FW_SNAPSHOT_ID_MAX || id[0] == '-' || id[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = id[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F') || ch == '-'))
            return 0;
    }
    return 1;
}

/* Whether a key of this type sorts like the ORDER BY of its document field. */
static int
order_matches_key(const char *key_type, fw_order_type t)
{
    if (strcmp(key_type, "smallint") == 0 || strcmp(key_type, "integer") == 0 ||
        strcmp(key_type, "bigint") == 0 || strcmp(key_type, "numeric") == 0)
        return t == FW_ORDER_NUMERIC || t == FW_ORDER_JSONB;
    if (strcmp(key_type, "uuid") == 0)
        return t == FW_ORDER_TEXT;
    return 0;
}

/* Prefixes conn's error message with the part it concerns. */
static void
name_part(fw_conn *c, const par_part *pt, int nparts)
{
    char *msg = NULL;
    const char *old = c->err.message ? c->err.message : fw_status_name(c->err.cls);
    size_t n = strlen(old) + 64;

    if ((msg = malloc(n)) == NULL)
        return;
    snprintf(msg, n, "part %d of %d: %s", pt->number, nparts, old);
    free(c->err.message);
    c->err.message = msg;
}

/* Cancels every part still running but `except`, then reads each to its
 * end, so that every connection is idle in its transaction again. */
static void
stop_parts(struct fw_par *p, const par_part *except)
{
    const char *v;
    size_t len;

    for (int i = 0; i < p->nparts; i++) {
        par_part *pt = &p->parts[i];

        if (pt != except && pt->stream && !pt->done)
            (void)fw_stream_cancel(pt->stream);
    }
    for (int i = 0; i < p->nparts; i++) {
        par_part *pt = &p->parts[i];

        if (pt == except || !pt->stream || pt->done)
            continue;
        while (fw_stream_next(pt->stream, &v, &len) == FW_OK)
            ;
        pt->done = 1;
        p->active--;
    }
}

/* Ends the parallel stream with the failure of part pt (status st): the
 * other parts are cancelled, and the error, naming the part, is reported
 * once on the caller's connection. */
static fw_status
fail_with_part(fw_stream *s, par_part *pt, fw_status st)
{
    struct fw_par *p = s->par;
    fw_error e = {.cls = FW_OK};

    if (!pt->done) {
        pt->done = 1;
        p->active--;
    }
    fw_error_move(&e, &pt->conn->err);
    if (e.cls == FW_OK)
        fw_error_set(&e, st, "%s", fw_status_name(st));
    stop_parts(p, pt);
    if (s->conn) {
        fw_error_move(&s->conn->err, &e);
        if (st != FW_ERR_CANCELLED)
            name_part(s->conn, pt, p->nparts);
    } else {
        fw_error_clear(&e);
    }
    s->state = FW_ST_FAILED;
    s->result = st;
    s->finished_us = fw_now_us();
    return st;
}

static fw_status
finish_cancelled(fw_stream *s)
{
    struct fw_par *p = s->par;

    stop_parts(p, NULL);
    if (s->conn)
        fw_error_set(&s->conn->err, FW_ERR_CANCELLED, "the stream was cancelled");
    s->state = FW_ST_FAILED;
    s->result = FW_ERR_CANCELLED;
    s->finished_us = fw_now_us();
    return FW_ERR_CANCELLED;
}

static fw_status
finish_done(fw_stream *s)
{
    struct fw_par *p = s->par;

    if (p->active > 0)
        stop_parts(p, NULL);   /* LIMIT reached: the rest is not wanted */
    if (s->conn)
        fw_error_clear(&s->conn->err);
    s->state = FW_ST_DONE;
    s->result = FW_DONE;
    s->finished_us = fw_now_us();
    return FW_DONE;
}

/* One row from one part, with the statistics and the global LIMIT. */
static fw_status
part_next(fw_stream *s, par_part *pt, const char **json, size_t *len)
{
    uint64_t bytes = pt->stream->bytes, dropped = pt->stream->dropped;
    fw_status st = fw_stream_next(pt->stream, json, len);

    s->bytes += pt->stream->bytes - bytes;
    s->dropped += pt->stream->dropped - dropped;
    if (st == FW_OK) {
        s->rows++;
        if (s->first_row_us == 0)
            s->first_row_us = fw_now_us();
    } else if (st == FW_DONE) {
        pt->done = 1;
        s->par->active--;
    }
    return st;
}

/* ---------------------------------------------------------------- open */

/*
 * Opening is one poll(2) loop over every connection (open_drive), so that
 * nothing waits for what it does not need:
 *   - the caller's connection sends the split as one batch, answered in one
 *     round trip: BEGIN … as a simple Query, then parallel_parts() and
 *     pg_export_snapshot() as extended-protocol statements and one Sync
 *     (split_message reads the replies);
 *   - meanwhile the asked − 1 extra connections are made: they need the
 *     snapshot only later.  The split may return fewer parts: the others
 *     are closed as soon as it is known, and their failures do not count;
 *     a needed one that failed fails the open once the split is known;
 *   - then every part's messages go out at once, before any reply is read:
 *     on an extra connection the snapshot import (BEGIN …; SET TRANSACTION
 *     SNAPSHOT, a simple Query) with the part's query (Parse/Bind/Describe)
 *     behind it, on the caller's connection the query alone.  The replies
 *     are read in order: the import's up to its ReadyForQuery, then the
 *     stream's description; then the part's Executes are sent.
 * Any failure ends the open with one error, naming the part: a connection
 * refused, a failed import (the first error: the query behind it would
 * only see 25P02), a query refused.  Nothing here cancels: a query is never
 * left running by a successful open.
 */
typedef enum open_phase {
    OP_CONNECTING,  /* an extra connection being made */
    OP_WAITING,     /* connected; waits for the split */
    OP_SPLIT,       /* the caller's connection: the split's batch in flight */
    OP_IMPORT,      /* the snapshot import in flight, the part's query behind it */
    OP_DESCRIBE,    /* the part's query: its description awaited */
    OP_SENDING,     /* described: its Executes being sent */
    OP_READY,       /* the part runs */
    OP_FAILED,      /* could not connect (the error is on its connection) */
    OP_CLOSED       /* not started, or not needed and freed */
} open_phase;

typedef struct open_slot {
    fw_conn *c;        /* slot 0: the caller's connection; else owned by the open */
    open_phase phase;
    int wait;          /* nothing to do until poll(2) reports `events` (0: not polled) */
    short events;
    int import_failed; /* an ErrorResponse answered the import (kept on c->err) */
} open_slot;

/* The stages of the split's replies. */
enum { SPLIT_BEGIN, SPLIT_PARTS, SPLIT_SNAPSHOT, SPLIT_END };

typedef struct par_opening {
    fw_conn *conn;
    fw_query *q;
    struct fw_par *p;
    fw_query_par_order order;
    int asked;
    open_slot *slot;       /* asked of them: slot i becomes part i (reading order) */
    int split_done;
    int stage;             /* SPLIT_* */
    fw_error split_err;    /* the first error of the split */
    fw_error import_err;   /* the first snapshot import's ErrorResponse, kept
                            * apart so that the read failure after a FATAL one
                            * does not replace it */
    int import_err_slot;
    char *key_type, *doc_key, *snapshot;
    size_t chunk;          /* the query's, as fw_query_prepare gives them */
    const fw_predicate_entry *predicates;
    int npredicates;
} par_opening;

/* Moves part pt's connection error to the caller's connection, naming the
 * part. */
static fw_status
part_failed(fw_conn *conn, par_part *pt, int nparts, fw_status st)
{
    fw_error_move(&conn->err, &pt->conn->err);
    if (conn->err.cls == FW_OK)
        fw_error_set(&conn->err, st, "%s", fw_status_name(st));
    name_part(conn, pt, nparts);
    return st;
}

/* The failure st of part i (its error on its connection). */
static fw_status
slot_failed(par_opening *o, int i, fw_status st)
{
    par_part *pt = &o->p->parts[i];

    if (pt->conn == NULL)
        pt->conn = o->slot[i].c;
    if (pt->conn != o->conn)
        return part_failed(o->conn, pt, o->p->nparts, st);
    if (o->conn->err.cls == FW_OK)
        fw_error_set(&o->conn->err, st, "%s", fw_status_name(st));
    name_part(o->conn, pt, o->p->nparts);
    return st;
}

static void
close_slot(par_opening *o, int i)
{
    if (i > 0)
        fw_conn_free(o->slot[i].c);
    o->slot[i].c = NULL;
    o->slot[i].phase = OP_CLOSED;
    o->slot[i].wait = 1;
    o->slot[i].events = 0;
}

static fw_status
slot_wait(open_slot *sl, unsigned wants)
{
    sl->wait = 1;
    sl->events = (short)(((wants & FW_WANT_READ) ? POLLIN : 0) |
                         ((wants & FW_WANT_WRITE) ? POLLOUT : 0));
    if (sl->events == 0)
        sl->events = POLLIN;
    return FW_OK;
}

/* Undoes a failed open: the error on conn is kept.  The caller's part is
 * closed as a stream is (its connection stays usable); the extra
 * connections are terminated at once, whatever they were doing. */
static fw_status
open_failed(par_opening *o, fw_stream *s, fw_status st)
{
    fw_conn *conn = o->conn;
    struct fw_par *p = s->par;
    fw_error e = {.cls = FW_OK};

    fw_error_move(&e, &conn->err);
    if (e.cls == FW_OK)
        fw_error_set(&e, st, "%s", fw_status_name(st));
    for (int i = 0; p->parts && i < p->nparts; i++) {
        par_part *pt = &p->parts[i];

        if (!pt->stream)
            continue;
        if (pt->stream->conn != conn && pt->stream->conn) {
            pt->stream->conn->stream = NULL;
            pt->stream->conn = NULL;   /* freed below: no drain */
        }
        (void)fw_stream_close(pt->stream);
        pt->stream = NULL;
    }
    for (int i = 1; o->slot && i < o->asked; i++)
        fw_conn_free(o->slot[i].c);
    /* A split still in flight cannot be drained here: the connection goes. */
    if (conn->state == FW_CONN_BUSY && conn->stream == NULL)
        fw_conn_break(conn);
    if (conn->stream == s)
        conn->stream = NULL;
    if (p->in_tx && fw_conn_ok(conn))
        (void)fw_conn_exec(conn, "ROLLBACK");
    fw_error_move(&conn->err, &e);
    fw_error_clear(&o->split_err);
    fw_error_clear(&o->import_err);
    free(o->slot);
    free(o->key_type);
    free(o->doc_key);
    free(o->snapshot);
    par_free(p);
    free(s);
    return st;
}

/* Queues the split on the caller's connection: one batch, one Sync. */
static fw_status
queue_split(par_opening *o)
{
    static const char parts_sql[] =
        "SELECT pg_catalog.json_build_array(part, key_column, key_type::text, doc_key, "
        "lower_bound, upper_bound)::text "
        "FROM fraiseql_wire.parallel_parts($1::pg_catalog.regclass, $2::pg_catalog.int4, "
        "$3::pg_catalog.bool) ORDER BY part";
    fw_conn *conn = o->conn;
    char begin[128], nbuf[16];
    char *rel = fw_query_relation_quoted(o->q);
    const char *params[3] = {rel, nbuf, o->order.ordered ? "true" : "false"};
    fw_buf *b = &conn->wbuf;
    size_t mark = b->len;
    fw_status st;

    if (!rel) {
        fw_error_set(&conn->err, FW_ERR_MEMORY, "out of memory");
        return FW_ERR_MEMORY;
    }
    snprintf(nbuf, sizeof nbuf, "%d", o->asked);
    /* statement_timeout holds for the split as for any stream (the parts
     * set it again for themselves). */
    if (conn->statement_timeout_ms > 0)
        snprintf(begin, sizeof begin,
                 "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL statement_timeout = %d",
                 conn->statement_timeout_ms);
    else
        snprintf(begin, sizeof begin, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    if ((st = fw_enc_query(b, begin)) != FW_OK ||
        (st = fw_enc_parse(b, "", parts_sql, 0, NULL)) != FW_OK ||
        (st = fw_enc_bind(b, "", "", 3, params)) != FW_OK ||
        (st = fw_enc_execute(b, "", 0)) != FW_OK ||
        (st = fw_enc_parse(b, "", "SELECT pg_catalog.pg_export_snapshot()", 0, NULL)) != FW_OK ||
        (st = fw_enc_bind(b, "", "", 0, NULL)) != FW_OK ||
        (st = fw_enc_execute(b, "", 0)) != FW_OK || (st = fw_enc_sync(b)) != FW_OK) {
        b->len = mark;
        free(rel);
        if (st == FW_ERR_MEMORY)
            fw_error_set(&conn->err, st, "out of memory");
        else
            fw_error_set(&conn->err, st, "the relation's name cannot be sent");
        return st;
    }
    free(rel);
    conn->state = FW_CONN_BUSY;
    return FW_OK;
}

/* The split's error st (not an SQL error, which comes from the server). */
static void
split_error(par_opening *o, fw_status st, const char *msg)
{
    if (o->split_err.cls == FW_OK)
        fw_error_set(&o->split_err, st, "%s", msg);
}

/* One row of parallel_parts(): a JSON array (part, key_column, key_type,
 * doc_key, lower_bound, upper_bound), parts in order from 1. */
static void
split_part_row(par_opening *o, const uint8_t *v, uint32_t len)
{
    struct fw_par *p = o->p;
    struct json_tokener *tok;
    struct json_object *row = NULL, *f[6];
    int ok = 0, oom;
    par_part *pt;

    if (o->split_err.cls != FW_OK)
        return;   /* draining to the Sync */
    tok = json_tokener_new();
    if (tok && v && len < INT32_MAX) {
        row = json_tokener_parse_ex(tok, (const char *)v, (int)len);
        if (json_tokener_get_error(tok) != json_tokener_success) {
            json_object_put(row);
            row = NULL;
        }
    }
    json_tokener_free(tok);
    if (row && json_object_is_type(row, json_type_array) && json_object_array_length(row) == 6) {
        for (int k = 0; k < 6; k++)
            f[k] = json_object_array_get_idx(row, (size_t)k);
        ok = p->nparts < o->asked && json_object_is_type(f[0], json_type_int) &&
             json_object_get_int(f[0]) == p->nparts + 1 &&
             json_object_is_type(f[1], json_type_string) &&
             json_object_is_type(f[2], json_type_string) &&
             (f[3] == NULL || json_object_is_type(f[3], json_type_string)) &&
             (f[4] == NULL || json_object_is_type(f[4], json_type_string)) &&
             (f[5] == NULL || json_object_is_type(f[5], json_type_string)) &&
             (p->nparts == 0 || strcmp(p->key_column, json_object_get_string(f[1])) == 0);
    }
    if (!ok) {
        json_object_put(row);
        split_error(o, FW_ERR_PROTOCOL, "fraiseql_wire.parallel_parts() returned an unexpected row");
        return;
    }
    pt = &p->parts[p->nparts];
    pt->number = p->nparts + 1;
    pt->lower = f[4] ? strdup(json_object_get_string(f[4])) : NULL;
    pt->upper = f[5] ? strdup(json_object_get_string(f[5])) : NULL;
    oom = (f[4] && !pt->lower) || (f[5] && !pt->upper);
    if (p->nparts == 0) {
        p->key_column = strdup(json_object_get_string(f[1]));
        o->key_type = strdup(json_object_get_string(f[2]));
        o->doc_key = f[3] ? strdup(json_object_get_string(f[3])) : NULL;
        oom = oom || !p->key_column || !o->key_type || (f[3] && !o->doc_key);
    }
    p->nparts++;
    json_object_put(row);
    if (oom)
        split_error(o, FW_ERR_MEMORY, "out of memory");
}

/* One reply to the split's batch; *done after its last ReadyForQuery.  An
 * error from the server (or a row we refuse) is kept and the rest read up
 * to the Sync's ReadyForQuery, so that the connection stays in step. */
static fw_status
split_message(par_opening *o, const fw_msg *m, int *done)
{
    fw_conn *conn = o->conn;
    const uint8_t *v;
    uint32_t len;

    *done = 0;
    switch (m->type) {
    case FW_BE_READY_FOR_QUERY:
        if (fw_parse_ready(m, &conn->tx_status) != FW_OK)
            break;
        if (o->stage == SPLIT_BEGIN) {
            o->stage = SPLIT_PARTS;   /* the BEGIN's; the batch's own follows */
            return FW_OK;
        }
        conn->state = FW_CONN_IDLE;
        o->p->in_tx = conn->tx_status != FW_TX_IDLE;
        *done = 1;
        return FW_OK;
    case FW_BE_ERROR_RESPONSE:
        if (o->split_err.cls == FW_OK) {
            fw_conn_error_from_msg(conn, m, FW_ERR_SQL);
            fw_error_move(&o->split_err, &conn->err);
        }
        if (o->stage != SPLIT_BEGIN)
            o->stage = SPLIT_END;   /* the server skips to the Sync */
        return FW_OK;
    case FW_BE_COMMAND_COMPLETE:
        if (o->stage == SPLIT_PARTS)
            o->stage = SPLIT_SNAPSHOT;
        else if (o->stage == SPLIT_SNAPSHOT)
            o->stage = SPLIT_END;
        return FW_OK;
    case FW_BE_PARSE_COMPLETE:
    case FW_BE_BIND_COMPLETE:
        if (o->stage == SPLIT_PARTS || o->stage == SPLIT_SNAPSHOT)
            return FW_OK;
        break;
    case FW_BE_DATA_ROW:
        if (o->stage != SPLIT_PARTS && o->stage != SPLIT_SNAPSHOT)
            break;
        if (fw_parse_data_row1(m, &v, &len) != FW_OK)
            break;
        if (o->stage == SPLIT_PARTS) {
            split_part_row(o, v, len);
        } else if (o->snapshot || !v || len > FW_SNAPSHOT_ID_MAX) {
            split_error(o, FW_ERR_PROTOCOL,
                        "pg_export_snapshot() returned an unexpected snapshot id");
        } else if ((o->snapshot = strndup((const char *)v, len)) == NULL) {
            split_error(o, FW_ERR_MEMORY, "out of memory");
        }
        return FW_OK;
    default:
        break;
    }
    fw_error_set(&conn->err, FW_ERR_PROTOCOL,
                 "unexpected message type 0x%02x in reply to fraiseql_wire.parallel_parts()",
                 (unsigned char)m->type);
    fw_conn_break(conn);
    return FW_ERR_PROTOCOL;
}

/* Sends part i's messages: on an extra connection the snapshot import,
 * then (on every connection) the part's query; nothing is waited for. */
static fw_status
start_part(par_opening *o, int i)
{
    struct fw_par *p = o->p;
    par_part *pt = &p->parts[i];
    open_slot *sl = &o->slot[i];
    fw_conn *c = sl->c;
    fw_query_part qp = {.key_column = p->key_column,
                        .lower = pt->lower,
                        .upper = pt->upper,
                        .blocks = strcmp(o->key_type, "tid") == 0};
    char *sql = NULL, **params = NULL;
    int nparams = 0, nb = c->nonblocking;
    fw_status st;

    pt->conn = c;
    if ((st = fw_query_render_part(o->q, &qp, &sql, &params, &nparams)) != FW_OK) {
        fw_error_set(&o->conn->err, st, "out of memory rendering the query");
        return st;
    }
    if (i > 0) {
        char import[160 + FW_SNAPSHOT_ID_MAX];

        /* The id was checked: hex words and dashes only, so the literal
         * cannot end early. */
        snprintf(import, sizeof import,
                 "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT '%s'",
                 o->snapshot);
        if (fw_enc_query(&c->wbuf, import) != FW_OK) {
            free(sql);
            fw_query_free_params(params, nparams);
            fw_error_set(&o->conn->err, FW_ERR_MEMORY, "out of memory");
            return FW_ERR_MEMORY;
        }
    }
    c->nonblocking = 1;   /* the stream's messages are only queued */
    st = fw_stream_start_internal(c, sql, nparams, (const char *const *)params, o->chunk, 0,
                                  o->predicates, o->npredicates, &pt->stream);
    c->nonblocking = nb;
    free(sql);
    fw_query_free_params(params, nparams);
    if (st != FW_OK)
        return slot_failed(o, i, st);
    sl->phase = i > 0 ? OP_IMPORT : OP_DESCRIBE;
    sl->wait = 0;
    return FW_OK;
}

/* The order in which extra connections are given to parts: made, being
 * made, refused. */
static int
slot_rank(const open_slot *sl)
{
    return sl->phase == OP_WAITING ? 0 : sl->phase == OP_CONNECTING ? 1 : 2;
}

/* The split is known (its last ReadyForQuery came): checks it, closes the
 * extra connections it does not need, reports a needed one that failed,
 * and starts every part whose connection is ready. */
static fw_status
split_known(par_opening *o)
{
    fw_conn *conn = o->conn;
    struct fw_par *p = o->p;
    const char *sql0;
    const char *const *params0;
    int nparams0;
    fw_status st;

    if (o->split_err.cls != FW_OK) {
        fw_error_move(&conn->err, &o->split_err);
        if (conn->err.cls == FW_ERR_SQL && conn->err.sqlstate &&
            (strcmp(conn->err.sqlstate, "3F000") == 0 || strcmp(conn->err.sqlstate, "42883") == 0)) {
            free(conn->err.hint);
            conn->err.hint = strdup("Parallel streams need the fraiseql_wire extension in this "
                                    "database: run CREATE EXTENSION fraiseql_wire (see "
                                    "docs/extension.md).");
        }
        return conn->err.cls;
    }
    if (p->nparts == 0) {
        fw_error_set(&conn->err, FW_ERR_PROTOCOL, "fraiseql_wire.parallel_parts() returned no part");
        return FW_ERR_PROTOCOL;
    }
    if (o->order.ordered) {
        if (!o->doc_key || strcmp(o->doc_key, o->order.field) != 0) {
            fw_error_set(&conn->err, FW_ERR_CONFIG,
                         "ORDER BY \"%.64s\" cannot be used with parallel streams: the parts "
                         "are split on the key column \"%.64s\"%s%.64s%s; order by that field, "
                         "or read serially",
                         o->order.field, p->key_column,
                         o->doc_key ? " (document field \"" : ", which is not in the document",
                         o->doc_key ? o->doc_key : "", o->doc_key ? "\")" : "");
            return FW_ERR_CONFIG;
        }
        if (!order_matches_key(o->key_type, o->order.type)) {
            fw_error_set(&conn->err, FW_ERR_CONFIG,
                         "ORDER BY \"%.64s\" with parallel streams: the key column has type "
                         "%.64s, which this ORDER BY type does not sort in the same order "
                         "(integer and numeric keys: numeric or jsonb order; uuid keys: text "
                         "order)",
                         o->order.field, o->key_type);
            return FW_ERR_CONFIG;
        }
        if (o->order.desc)
            for (int i = 0, j = p->nparts - 1; i < j; i++, j--) {
                par_part t = p->parts[i];
                p->parts[i] = p->parts[j];
                p->parts[j] = t;
            }
    }
    if (p->nparts > 1) {
        if (!o->snapshot || !snapshot_id_ok(o->snapshot)) {
            fw_error_set(&conn->err, FW_ERR_PROTOCOL,
                         "pg_export_snapshot() returned an unexpected snapshot id");
            return FW_ERR_PROTOCOL;
        }
        if (!conn->reconnect_ci) {
            fw_error_set(&conn->err, FW_ERR_MEMORY,
                         "out of memory keeping the connection parameters for parallel streams");
            return FW_ERR_MEMORY;
        }
    }
    /* The parts take the connections made first, then those still being
     * made; a refused one only when nothing else is left (then the open
     * fails, naming it). */
    for (int i = 1; i < o->asked; i++)
        for (int j = i; j > 1 && slot_rank(&o->slot[j]) < slot_rank(&o->slot[j - 1]); j--) {
            open_slot t = o->slot[j];
            o->slot[j] = o->slot[j - 1];
            o->slot[j - 1] = t;
        }
    for (int i = p->nparts; i < o->asked; i++)
        close_slot(o, i);
    for (int i = 1; i < p->nparts; i++)
        if (o->slot[i].phase == OP_FAILED)
            return slot_failed(o, i, o->slot[i].c->err.cls != FW_OK ? o->slot[i].c->err.cls
                                                                    : FW_ERR_IO);
    if ((st = fw_query_prepare(o->q, &sql0, &nparams0, &params0, &o->chunk, &o->predicates,
                               &o->npredicates)) != FW_OK) {
        fw_error_set(&conn->err, st, "%s", fw_query_error_message(o->q) ? fw_query_error_message(o->q)
                                                              : "out of memory rendering the query");
        return st;
    }
    p->limit = fw_query_get_limit(o->q);
    o->split_done = 1;
    for (int i = 0; i < p->nparts; i++)
        if ((i == 0 || o->slot[i].phase == OP_WAITING) && (st = start_part(o, i)) != FW_OK)
            return st;
    /* Everything out before any reply is read: a send wakes that part's
     * backend, which may take this thread's core (step_slot reports a
     * connection that failed here). */
    for (int i = 0; i < p->nparts; i++)
        if (o->slot[i].phase == OP_IMPORT || o->slot[i].phase == OP_DESCRIBE) {
            unsigned ww;

            (void)fw_conn_flush_nb(o->slot[i].c, &ww);
        }
    return FW_OK;
}

/* Reads the replies on connection c without waiting: FW_OK with a
 * message, FW_AGAIN after slot_wait, or the connection's error. */
static fw_status
slot_read(open_slot *sl, fw_msg *m)
{
    fw_conn *c = sl->c;
    unsigned rw = 0, ww = 0;
    fw_status st = fw_conn_flush_nb(c, &ww);

    if (st != FW_OK && st != FW_AGAIN)
        return st;
    st = fw_conn_read_msg_nb(c, m, &rw);
    if (st == FW_AGAIN) {
        (void)slot_wait(sl, rw | (fw_conn_output_pending(c) ? ww : 0));
        return FW_AGAIN;
    }
    if (st == FW_ERR_LIMIT && c->state != FW_CONN_BAD)
        fw_conn_break(c);   /* nothing this large is expected here */
    return st;
}

/* Moves slot i on as far as it goes without waiting: FW_OK (it waits, or
 * is done), or the open's failure (the error on the caller's connection). */
static fw_status
step_slot(par_opening *o, int i)
{
    open_slot *sl = &o->slot[i];
    struct fw_par *p = o->p;
    fw_conn *c = sl->c;
    fw_status st;
    fw_msg m;
    int done;

    for (;;) {
        switch (sl->phase) {
        case OP_CONNECTING:
            st = fw_conn_connect_poll(c);
            if (st == FW_AGAIN)
                return slot_wait(sl, fw_conn_wants(c));
            if (st != FW_OK) {
                sl->phase = OP_FAILED;
                sl->wait = 1;
                sl->events = 0;
                /* Before the split: reported if the split needs the part. */
                return o->split_done ? slot_failed(o, i, st) : FW_OK;
            }
            if (!o->split_done) {
                sl->phase = OP_WAITING;
                sl->wait = 1;
                sl->events = 0;
                return FW_OK;
            }
            if ((st = start_part(o, i)) != FW_OK)
                return st;
            continue;
        case OP_SPLIT:
            if ((st = slot_read(sl, &m)) == FW_AGAIN)
                return FW_OK;
            if (st != FW_OK && o->split_err.cls != FW_OK) {
                /* The server said why before it closed (a FATAL error). */
                fw_error_move(&c->err, &o->split_err);
                return c->err.cls;
            }
            if (st != FW_OK)
                return st;
            if ((st = split_message(o, &m, &done)) != FW_OK)
                return st;
            if (done && (st = split_known(o)) != FW_OK)
                return st;
            continue;
        case OP_IMPORT:
            if ((st = slot_read(sl, &m)) == FW_AGAIN)
                return FW_OK;
            if (st != FW_OK) {
                if (sl->import_failed && o->import_err_slot == i &&
                    o->import_err.cls != FW_OK) {
                    /* The server said why before it closed (a FATAL error). */
                    fw_error_move(&c->err, &o->import_err);
                    st = c->err.cls;
                }
                return slot_failed(o, i, st);
            }
            switch (m.type) {
            case FW_BE_COMMAND_COMPLETE:
                continue;
            case FW_BE_ERROR_RESPONSE:
                if (!sl->import_failed) {
                    fw_conn_error_from_msg(c, &m, FW_ERR_SQL);
                    sl->import_failed = 1;
                    if (o->import_err.cls == FW_OK) {
                        fw_error_move(&o->import_err, &c->err);
                        o->import_err_slot = i;
                    }
                }
                continue;
            case FW_BE_READY_FOR_QUERY:
                if (sl->import_failed && o->import_err_slot == i && o->import_err.cls != FW_OK)
                    fw_error_move(&c->err, &o->import_err);
                if (fw_parse_ready(&m, &c->tx_status) == FW_OK && !sl->import_failed &&
                    c->tx_status == FW_TX_IN_BLOCK) {
                    sl->phase = OP_DESCRIBE;
                    continue;
                }
                if (!sl->import_failed)
                    fw_error_set(&c->err, FW_ERR_PROTOCOL,
                                 "the snapshot import did not leave a transaction open");
                return slot_failed(o, i, c->err.cls);
            default:
                fw_error_set(&c->err, FW_ERR_PROTOCOL,
                             "unexpected message type 0x%02x in reply to the snapshot import",
                             (unsigned char)m.type);
                fw_conn_break(c);
                return slot_failed(o, i, FW_ERR_PROTOCOL);
            }
        case OP_DESCRIBE:
            st = fw_stream_poll_described(p->parts[i].stream);
            if (st == FW_AGAIN)
                return slot_wait(sl, fw_conn_wants(c));
            if (st != FW_OK)
                return slot_failed(o, i, st);
            sl->phase = OP_SENDING;
            continue;
        case OP_SENDING: {
            unsigned ww = 0;

            st = fw_conn_flush_nb(c, &ww);
            if (st == FW_AGAIN)
                return slot_wait(sl, ww);
            if (st != FW_OK)
                return slot_failed(o, i, st);
            sl->phase = OP_READY;
            sl->wait = 1;
            sl->events = 0;
            return FW_OK;
        }
        default:
            sl->wait = 1;
            sl->events = 0;
            return FW_OK;
        }
    }
}

/* A wait reached the caller's timeout: the connections that were waiting
 * for their server cannot be brought back in step. */
static fw_status
open_timed_out(par_opening *o)
{
    int named = 0;

    for (int i = 0; i < o->asked; i++) {
        open_slot *sl = &o->slot[i];

        if (sl->phase != OP_SPLIT && sl->phase != OP_IMPORT && sl->phase != OP_DESCRIBE &&
            sl->phase != OP_SENDING)
            continue;
        fw_conn_break(sl->c);
        if (!named) {
            fw_error_set(&sl->c->err, FW_ERR_TIMEOUT, "timeout expired waiting for the server");
            if (sl->phase != OP_SPLIT)
                (void)slot_failed(o, i, FW_ERR_TIMEOUT);
            named = 1;
        }
    }
    return FW_ERR_TIMEOUT;
}

/* Drives every connection until every part runs, or the open fails. */
static fw_status
open_drive(par_opening *o)
{
    struct pollfd *pfd = calloc((size_t)o->asked, sizeof *pfd);
    int *pw = calloc((size_t)o->asked, sizeof *pw);
    int timeout_ms = o->conn->timeout_ms;
    int64_t waited_since = -1;
    fw_status st = FW_OK;

    if (!pfd || !pw) {
        fw_error_set(&o->conn->err, FW_ERR_MEMORY, "out of memory");
        st = FW_ERR_MEMORY;
        goto out;
    }
    for (;;) {
        int nfds = 0, timeout = -1, server = 0, ready, rc;

        for (int i = 0; i < o->asked; i++)
            if (!o->slot[i].wait && (st = step_slot(o, i)) != FW_OK)
                goto out;
        ready = o->split_done;   /* the split may have ended in this pass */
        for (int i = 0; ready && i < o->p->nparts; i++)
            ready = o->slot[i].phase == OP_READY;
        if (ready)
            goto out;
        for (int i = 0; i < o->asked; i++) {
            open_slot *sl = &o->slot[i];

            if (!sl->wait || sl->events == 0)
                continue;
            pfd[nfds].fd = fw_conn_socket(sl->c);
            pfd[nfds].events = sl->events;
            pfd[nfds].revents = 0;
            pw[nfds++] = i;
            if (sl->phase == OP_CONNECTING) {
                /* connect_timeout: fw_conn_connect_poll fails the attempt
                 * once its deadline has passed. */
                int left = fw_conn_timeout_ms(sl->c);

                if (left >= 0 && (timeout < 0 || left < timeout))
                    timeout = left;
            } else {
                server = 1;
            }
        }
        if (nfds == 0) {   /* cannot happen: every slot not done waits for something */
            fw_error_set(&o->conn->err, FW_ERR_PROTOCOL, "parallel open: nothing to wait for");
            st = FW_ERR_PROTOCOL;
            goto out;
        }
        if (server && timeout_ms > 0) {
            int64_t left;

            if (waited_since < 0)
                waited_since = fw_now_ms();
            left = waited_since + timeout_ms - fw_now_ms();
            if (left <= 0) {
                st = open_timed_out(o);
                goto out;
            }
            if (timeout < 0 || left < timeout)
                timeout = (int)left;
        }
        rc = poll(pfd, (nfds_t)nfds, timeout);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            fw_error_set(&o->conn->err, FW_ERR_IO, "poll() failed while opening the parts: %s",
                         strerror(errno));
            st = FW_ERR_IO;
            goto out;
        }
        if (rc == 0) {
            /* A deadline: the connections being made check theirs. */
            for (int k = 0; k < nfds; k++)
                if (o->slot[pw[k]].phase == OP_CONNECTING)
                    o->slot[pw[k]].wait = 0;
            continue;
        }
        waited_since = -1;
        for (int k = 0; k < nfds; k++)
            if (pfd[k].revents)
                o->slot[pw[k]].wait = 0;
    }
out:
    free(pfd);
    free(pw);
    return st;
}

fw_status
fw_par_open(fw_conn *conn, fw_query *q, fw_stream **out)
{
    par_opening o = {.conn = conn, .q = q, .split_err = {.cls = FW_OK}};
    char why[256];
    fw_stream *s;
    struct fw_par *p;
    fw_status st;

    *out = NULL;
    o.asked = fw_query_parts(q);
    if ((st = fw_query_parallel_order(q, &o.order, why, sizeof why)) != FW_OK) {
        fw_error_set(&conn->err, st, "%s", why);
        return st;
    }
    if (conn->tx_status != FW_TX_IDLE) {
        fw_error_set(&conn->err, FW_ERR_USAGE,
                     "parallel streams start their own transaction: the connection is inside one "
                     "(end it first)");
        return FW_ERR_USAGE;
    }
    s = calloc(1, sizeof *s);
    p = calloc(1, sizeof *p);
    if (!s || !p) {
        free(s);
        free(p);
        fw_error_set(&conn->err, FW_ERR_MEMORY, "out of memory");
        return FW_ERR_MEMORY;
    }
    s->conn = conn;
    s->par = p;
    s->state = FW_ST_ROWS;
    s->started_us = fw_now_us();
    atomic_init(&s->cancel_requested, 0);
    p->ordered = o.order.ordered;
    p->limit = -1;
    o.p = p;
    p->parts = calloc((size_t)o.asked, sizeof *p->parts);
    o.slot = calloc((size_t)o.asked, sizeof *o.slot);
    if (!p->parts || !o.slot) {
        fw_error_set(&conn->err, FW_ERR_MEMORY, "out of memory");
        return open_failed(&o, s, FW_ERR_MEMORY);
    }
    o.slot[0].c = conn;
    o.slot[0].phase = OP_SPLIT;
    if ((st = queue_split(&o)) != FW_OK)
        return open_failed(&o, s, st);
    /* The extra connections, started now: made while the split runs. */
    for (int i = 1; i < o.asked; i++) {
        open_slot *sl = &o.slot[i];
        fw_conn *c = NULL;

        if (!conn->reconnect_ci) {   /* out of memory: reported if the split needs them */
            sl->phase = OP_CLOSED;
            sl->wait = 1;
            continue;
        }
        st = fw_conn_connect_start_info(conn->reconnect_ci, &c);
        if (!c) {
            fw_error_set(&conn->err, FW_ERR_MEMORY, "out of memory");
            return open_failed(&o, s, FW_ERR_MEMORY);
        }
        sl->c = c;
        c->timeout_ms = conn->timeout_ms;
        c->statement_timeout_ms = conn->statement_timeout_ms;   /* each part's query sets it */
        fw_conn_set_max_row_bytes(c, conn->max_row_bytes);
        fw_conn_set_notice_callback(c, conn->notice_fn, conn->notice_arg);
        sl->phase = st == FW_OK ? OP_CONNECTING : OP_FAILED;
        sl->wait = st != FW_OK;
    }
    if ((st = open_drive(&o)) != FW_OK)
        return open_failed(&o, s, st);
    s->type_oid = p->parts[0].stream->type_oid;
    s->chunk = p->parts[0].stream->chunk;
    p->active = p->nparts;
    for (int i = 0; i < p->nparts; i++) {
        fw_buf *rb = &p->parts[i].conn->rbuf;

        p->parts[i].owned = i > 0;   /* the open's connections are the stream's now */
        p->parts[i].fresh = 1;
        /* Room for what a busy socket holds: one read takes it all while
         * the other parts' servers keep sending (no error if it cannot
         * grow: reads are only smaller). */
        if (!p->ordered && rb->len < FW_PAR_RBUF)
            (void)fw_buf_reserve(rb, FW_PAR_RBUF - rb->len);
    }
    conn->stream = s;
    fw_error_clear(&o.split_err);
    fw_error_clear(&o.import_err);
    free(o.slot);
    free(o.key_type);
    free(o.doc_key);
    free(o.snapshot);
    *out = s;
    return FW_OK;
}

/* ---------------------------------------------------------------- read */

static fw_status
next_ordered(fw_stream *s, const char **json, size_t *len)
{
    struct fw_par *p = s->par;

    while (p->cur < p->nparts) {
        par_part *pt = &p->parts[p->cur];
        fw_status st = part_next(s, pt, json, len);

        if (st == FW_OK)
            return FW_OK;
        if (st == FW_DONE) {
            p->cur++;
            continue;
        }
        if (st == FW_ERR_CANCELLED && atomic_load(&s->cancel_requested)) {
            pt->done = 1;
            p->active--;
            return finish_cancelled(s);
        }
        return fail_with_part(s, pt, st);
    }
    return finish_done(s);
}

/* Whether the connection can go on without reading its socket: a whole
 * message (or the rest of one being skipped) in its buffer, or bytes that
 * TLS has decrypted and not handed out (poll(2) does not see those). */
static int
part_has_message(const fw_conn *c)
{
    size_t avail = c->rbuf.len - c->rpos;
    size_t consumed;
    fw_msg m;

    if (c->sock.tls && fw_tls_pending(c->sock.tls))
        return 1;
    return avail > 0 && (c->skip > 0 || fw_msg_frame(c->rbuf.data + c->rpos, avail, UINT32_MAX,
                                                     &m, &consumed) != FW_FRAME_NEED_MORE);
}

/* Whether the connection's last read filled its receive buffer: the
 * socket may hold more (the read asks for all the room left, and only the
 * next read moves the buffer's contents). */
static int
read_filled(const fw_conn *c)
{
    return c->rbuf.cap > 0 && c->rbuf.len == c->rbuf.cap;
}

/* Tries one row from part i without waiting.  Returns 1 with *result set
 * when the caller returns it (a row, the end of the cancel, an error), 0
 * to go on (the part has nothing now, or it just ended). */
static int
take_from(fw_stream *s, int i, const char **json, size_t *len, fw_status *result)
{
    struct fw_par *p = s->par;
    par_part *pt = &p->parts[i];
    uint64_t bytes = pt->stream->bytes, dropped = pt->stream->dropped;
    fw_status st = fw_stream_try_next(pt->stream, json, len);

    s->bytes += pt->stream->bytes - bytes;
    s->dropped += pt->stream->dropped - dropped;
    p->counters.tries++;
    if (st == FW_AGAIN) {
        unsigned wants = fw_conn_wants(pt->conn);

        pt->waiting = 1;
        pt->events = (short)(((wants & FW_WANT_READ) ? POLLIN : 0) |
                             ((wants & FW_WANT_WRITE) ? POLLOUT : 0));
        p->counters.tries_again++;
        return 0;
    }
    if (st == FW_OK) {
        s->rows++;
        if (s->first_row_us == 0)
            s->first_row_us = fw_now_us();
        p->rr = i;
        *result = FW_OK;
        return 1;
    }
    if (st == FW_DONE) {
        pt->done = 1;
        p->active--;
        return 0;
    }
    if (st == FW_ERR_CANCELLED && atomic_load(&s->cancel_requested)) {
        pt->done = 1;
        p->active--;
        *result = finish_cancelled(s);
        return 1;
    }
    *result = fail_with_part(s, pt, st);
    return 1;
}

static fw_status
fail_local(fw_stream *s, fw_status st, const char *msg)
{
    if (s->conn)
        fw_error_set(&s->conn->err, st, "%s", msg);
    stop_parts(s->par, NULL);
    s->state = FW_ST_FAILED;
    s->result = st;
    s->finished_us = fw_now_us();
    return st;
}

/*
 * Unordered: the part the last row came from is asked first, so that what
 * one read brought in is handed out before anything else is tried (no
 * system call while a whole row is buffered).  A part whose try found
 * nothing (FW_AGAIN: no whole message buffered and its socket empty, or
 * output it could not write) waits: it is not tried again, so costs no
 * recv(2), until poll(2) reports its socket ready for what it wants
 * (fw_conn_socket, fw_conn_wants).  poll runs only when every part still
 * running waits, over all of them, in slices so that a cancel from another
 * thread is seen; every part it reports ready is tried, the first one
 * first.  A poll sooner than FW_PAR_NAP_US after the last wake-up is
 * preceded by a sleep for the rest (internal.h: fewer, larger batches).
 */
static fw_status
next_unordered(fw_stream *s, const char **json, size_t *len)
{
    struct fw_par *p = s->par;
    struct pollfd fds[64];
    int which[64];
    struct pollfd *pfd = fds;
    int *pw = which;
    fw_status result;
    int timeout_ms = s->conn ? s->conn->timeout_ms : 0;
    int64_t waited_since = -1;

    if (p->nparts > 64) {
        pfd = calloc((size_t)p->nparts, sizeof *pfd);
        pw = calloc((size_t)p->nparts, sizeof *pw);
        if (!pfd || !pw) {
            free(pfd == fds ? NULL : pfd);
            free(pw == which ? NULL : pw);
            return fail_local(s, FW_ERR_MEMORY, "out of memory");
        }
    }
    for (;;) {
        int nfds = 0, rc;

        if (atomic_load(&s->cancel_requested)) {
            result = finish_cancelled(s);
            goto out;
        }
        for (int k = 0; k < p->nparts; k++) {
            int i = (p->rr + k) % p->nparts;
            par_part *pt = &p->parts[i];

            if (pt->done || pt->waiting)
                continue;
            if (!part_has_message(pt->conn)) {
                if (!pt->fresh && !read_filled(pt->conn)) {
                    /* Its socket was read since poll last reported it, and
                     * that read took less than it asked for: the socket is
                     * empty (or nearly), and one poll over every part says
                     * so for less than a recv that fails on each. */
                    pt->waiting = 1;
                    pt->events = (short)(POLLIN |
                                         (fw_conn_output_pending(pt->conn) ? POLLOUT : 0));
                    continue;
                }
                if (!pt->fresh)
                    p->counters.tries_filled++;
                pt->fresh = 0;   /* this try reads */
            }
            if (take_from(s, i, json, len, &result))
                goto out;
        }
        if (p->active == 0) {
            result = finish_done(s);
            goto out;
        }
        /* Every part still running waits for its socket. */
        for (int i = 0; i < p->nparts; i++) {
            par_part *pt = &p->parts[i];

            if (pt->done)
                continue;
            pfd[nfds].fd = fw_conn_socket(pt->conn);
            pfd[nfds].events = pt->events ? pt->events : POLLIN;
            pfd[nfds].revents = 0;
            pw[nfds++] = i;
        }
        if (waited_since < 0)
            waited_since = fw_now_ms();
        if (p->woke_us > 0 && s->chunk >= FW_PAR_NAP_MIN_CHUNK) {
            int64_t since = fw_now_us() - p->woke_us;

            if (since >= 0 && since < FW_PAR_NAP_US) {
                struct timespec nap = {0, (long)(FW_PAR_NAP_US - since) * 1000L};

                p->counters.naps++;
                (void)nanosleep(&nap, NULL);   /* EINTR: poll comes sooner */
            }
        }
        p->counters.polls++;
        rc = poll(pfd, (nfds_t)nfds, FW_PAR_SLICE_MS);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            result = fail_local(s, FW_ERR_IO, "poll() failed");
            goto out;
        }
        if (rc == 0) {
            if (timeout_ms > 0 && fw_now_ms() - waited_since >= timeout_ms) {
                result = fail_local(s, FW_ERR_TIMEOUT, "timeout expired waiting for the server");
                goto out;
            }
            continue;
        }
        waited_since = -1;
        p->woke_us = fw_now_us();
        /* Every part reported ready (POLLERR and POLLHUP included: its next
         * try reports the error) is tried; the first one first. */
        for (int k = nfds - 1; k >= 0; k--)
            if (pfd[k].revents) {
                p->counters.ready++;
                p->parts[pw[k]].waiting = 0;
                p->parts[pw[k]].fresh = 1;
                p->rr = pw[k];
            }
    }
out:
    if (pfd != fds) {
        free(pfd);
        free(pw);
    }
    return result;
}

void
fw_par_get_counters(const fw_stream *s, fw_par_counters *out)
{
    memset(out, 0, sizeof *out);
    if (s && s->par)
        *out = s->par->counters;
}

fw_status
fw_par_try_next(fw_stream *s, const char **json, size_t *len)
{
    *json = NULL;
    *len = 0;
    if (s->conn)
        fw_error_set(&s->conn->err, FW_ERR_USAGE,
                     "a parallel stream reads several sockets: use fw_stream_next, not "
                     "fw_stream_try_next");
    return FW_ERR_USAGE;
}

fw_status
fw_par_next(fw_stream *s, const char **json, size_t *len)
{
    struct fw_par *p = s->par;

    if (s->state == FW_ST_DONE)
        return FW_DONE;
    if (s->state == FW_ST_FAILED)
        return s->result;
    if (!s->conn)
        return FW_ERR_USAGE;
    if (p->limit >= 0 && s->rows >= (uint64_t)p->limit)
        return finish_done(s);
    return p->ordered ? next_ordered(s, json, len) : next_unordered(s, json, len);
}

/* ------------------------------------------------------- cancel, close */

fw_status
fw_par_cancel(fw_stream *s)
{
    struct fw_par *p = s->par;
    fw_status result = FW_OK;

    if (atomic_exchange(&s->cancel_requested, 1))
        return FW_OK;
    /* The parts and their streams live until fw_par_close. */
    for (int i = 0; i < p->nparts; i++) {
        fw_stream *ps = p->parts[i].stream;

        if (ps) {
            fw_status st = fw_stream_cancel(ps);
            if (st != FW_OK && result == FW_OK)
                result = st;
        }
    }
    return result;
}

fw_status
fw_par_close(fw_stream *s)
{
    struct fw_par *p = s->par;
    fw_conn *conn = s->conn;
    fw_error keep = {.cls = FW_OK};
    fw_status st = FW_OK;

    if (conn && s->state == FW_ST_FAILED)
        fw_error_move(&keep, &conn->err);   /* the caller may still read it */
    for (int i = 0; i < p->nparts; i++) {
        par_part *pt = &p->parts[i];

        if (pt->stream)
            (void)fw_stream_close(pt->stream);
        pt->stream = NULL;
        if (pt->owned)
            fw_conn_free(pt->conn);
        pt->conn = NULL;
    }
    if (conn) {
        if (conn->stream == s)
            conn->stream = NULL;
        if (p->in_tx && fw_conn_ok(conn))
            (void)fw_conn_exec(conn, "ROLLBACK");
        if (fw_conn_ok(conn)) {
            if (keep.cls != FW_OK)
                fw_error_move(&conn->err, &keep);
        } else {
            if (keep.cls != FW_OK)
                fw_error_move(&conn->err, &keep);
            else if (conn->err.cls == FW_OK)
                fw_error_set(&conn->err, FW_ERR_IO, "connection is closed");
            st = conn->err.cls;
        }
    } else {
        st = FW_ERR_IO;
    }
    fw_error_clear(&keep);
    par_free(p);
    free(s);
    return st;
}

void
fw_par_detach(fw_stream *s)
{
    struct fw_par *p = s->par;

    /* Only the caller's connection goes: its part's stream must not touch
     * it any more (the extra connections are the stream's own). */
    for (int i = 0; i < p->nparts; i++)
        if (p->parts[i].conn == s->conn) {
            if (p->parts[i].stream)
                p->parts[i].stream->conn = NULL;
            p->parts[i].conn = NULL;
            if (!p->parts[i].done) {
                p->parts[i].done = 1;
                p->active--;
            }
        }
    p->in_tx = 0;
}

FW_API int
fw_stream_parts(const fw_stream *s)
{
    if (!s)
        return 0;
    return s->par ? s->par->nparts : 1;
}
