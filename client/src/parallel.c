/*
 * parallel.c — parallel streams over one exported snapshot
 * (fw_query_set_parallel; docs/client.md, "Parallel streams").
 *
 * Opening, on the caller's connection: BEGIN ISOLATION LEVEL REPEATABLE
 * READ, READ ONLY; the split from fraiseql_wire.parallel_parts(); and, when
 * there is more than one part, pg_export_snapshot().  Then one more
 * connection per further part (the caller's parameters, pinned to the same
 * server address), each BEGIN … + SET TRANSACTION SNAPSHOT, all before any
 * part's query starts.  Each part is an ordinary stream of the query with
 * its key range ANDed in ("key" >= $n AND "key" < $m, bounds as untyped
 * parameters, so the server reads them as the key's type).
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
    int connecting;      /* its connection is being made (connect_parts) */
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

/* Runs a one-column, one-row query and returns its text (malloc'd). */
static fw_status
query_one_text(fw_conn *c, const char *sql, int nparams, const char *const *params, char **out)
{
    fw_stream *s = NULL;
    const char *v;
    size_t len;
    fw_status st;

    *out = NULL;
    if ((st = fw_stream_start_internal(c, sql, nparams, params, 0, 1, NULL, 0, &s)) != FW_OK)
        return st;
    st = fw_stream_next(s, &v, &len);
    if (st == FW_OK && v && (*out = strndup(v, len)) == NULL) {
        fw_stream_close(s);
        fw_error_set(&c->err, FW_ERR_MEMORY, "out of memory");
        return FW_ERR_MEMORY;
    }
    if (st == FW_OK && v == NULL) {
        fw_stream_close(s);
        fw_error_set(&c->err, FW_ERR_PROTOCOL, "unexpected NULL from \"%s\"", sql);
        return FW_ERR_PROTOCOL;
    }
    if (st != FW_OK) {
        fw_stream_close(s);
        if (st == FW_DONE) {
            fw_error_set(&c->err, FW_ERR_PROTOCOL, "no row from \"%s\"", sql);
            return FW_ERR_PROTOCOL;
        }
        return st;
    }
    return fw_stream_close(s) == FW_OK ? FW_OK : c->err.cls;
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

/* Undoes a failed open: the error on conn is kept. */
static fw_status
open_failed(fw_conn *conn, fw_stream *s, fw_status st)
{
    struct fw_par *p = s->par;
    fw_error e = {.cls = FW_OK};

    fw_error_move(&e, &conn->err);
    if (e.cls == FW_OK)
        fw_error_set(&e, st, "%s", fw_status_name(st));
    for (int i = 0; p && i < p->nparts; i++) {
        par_part *pt = &p->parts[i];

        if (pt->stream)
            (void)fw_stream_close(pt->stream);
        if (pt->owned)
            fw_conn_free(pt->conn);
    }
    if (conn->stream == s)
        conn->stream = NULL;
    if (p && p->in_tx && fw_conn_ok(conn))
        (void)fw_conn_exec(conn, "ROLLBACK");
    fw_error_move(&conn->err, &e);
    par_free(p);
    free(s);
    return st;
}

/* Reads parallel_parts() into p (parts in server order). */
static fw_status
load_parts(fw_conn *conn, fw_query *q, struct fw_par *p, int asked, int by_key,
           char **key_type, char **doc_key)
{
    static const char sql[] =
        "SELECT pg_catalog.json_build_array(part, key_column, key_type::text, doc_key, "
        "lower_bound, upper_bound)::text "
        "FROM fraiseql_wire.parallel_parts($1::pg_catalog.regclass, $2::pg_catalog.int4, "
        "$3::pg_catalog.bool) ORDER BY part";
    char nbuf[16];
    char *rel = fw_query_relation_quoted(q);
    const char *params[3] = {rel, nbuf, by_key ? "true" : "false"};
    fw_stream *s = NULL;
    const char *v;
    size_t len;
    fw_status st;

    if (!rel) {
        fw_error_set(&conn->err, FW_ERR_MEMORY, "out of memory");
        return FW_ERR_MEMORY;
    }
    snprintf(nbuf, sizeof nbuf, "%d", asked);
    st = fw_stream_start_internal(conn, sql, 3, params, 0, 1, NULL, 0, &s);
    free(rel);
    if (st != FW_OK) {
        if (st == FW_ERR_SQL && conn->err.sqlstate &&
            (strcmp(conn->err.sqlstate, "3F000") == 0 || strcmp(conn->err.sqlstate, "42883") == 0)) {
            free(conn->err.hint);
            conn->err.hint = strdup("Parallel streams need the fraiseql_wire extension in this "
                                    "database: run CREATE EXTENSION fraiseql_wire (see "
                                    "docs/extension.md).");
        }
        return st;
    }
    p->parts = calloc((size_t)asked, sizeof *p->parts);
    if (!p->parts) {
        fw_stream_close(s);
        fw_error_set(&conn->err, FW_ERR_MEMORY, "out of memory");
        return FW_ERR_MEMORY;
    }
    while ((st = fw_stream_next(s, &v, &len)) == FW_OK) {
        struct json_tokener *tok = json_tokener_new();
        struct json_object *row = NULL, *f[6];
        int ok = 0;

        if (tok && v && len < INT32_MAX) {
            row = json_tokener_parse_ex(tok, v, (int)len);
            if (json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(row);
                row = NULL;
            }
        }
        json_tokener_free(tok);
        if (row && json_object_is_type(row, json_type_array) && json_object_array_length(row) == 6) {
            for (int k = 0; k < 6; k++)
                f[k] = json_object_array_get_idx(row, (size_t)k);
            ok = p->nparts < asked && json_object_is_type(f[0], json_type_int) &&
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
            fw_stream_close(s);
            fw_error_set(&conn->err, FW_ERR_PROTOCOL,
                         "fraiseql_wire.parallel_parts() returned an unexpected row");
            return FW_ERR_PROTOCOL;
        }
        par_part *pt = &p->parts[p->nparts];
        pt->number = p->nparts + 1;
        pt->lower = f[4] ? strdup(json_object_get_string(f[4])) : NULL;
        pt->upper = f[5] ? strdup(json_object_get_string(f[5])) : NULL;
        int oom = (f[4] && !pt->lower) || (f[5] && !pt->upper);
        if (p->nparts == 0) {
            p->key_column = strdup(json_object_get_string(f[1]));
            *key_type = strdup(json_object_get_string(f[2]));
            *doc_key = f[3] ? strdup(json_object_get_string(f[3])) : NULL;
            oom = oom || !p->key_column || !*key_type || (f[3] && !*doc_key);
        }
        p->nparts++;
        json_object_put(row);
        if (oom) {
            fw_stream_close(s);
            fw_error_set(&conn->err, FW_ERR_MEMORY, "out of memory");
            return FW_ERR_MEMORY;
        }
    }
    if (st != FW_DONE) {
        fw_stream_close(s);
        return st;
    }
    if (fw_stream_close(s) != FW_OK)
        return conn->err.cls;
    if (p->nparts == 0) {
        fw_error_set(&conn->err, FW_ERR_PROTOCOL, "fraiseql_wire.parallel_parts() returned no part");
        return FW_ERR_PROTOCOL;
    }
    return FW_OK;
}

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

/*
 * Opens the connections of parts 1.. (one each, the caller's parameters
 * pinned to its server) all at once: every connection is started, then
 * their state machines are driven together with one poll(2) over the
 * sockets, so the start-up round trips and the servers' backend starts
 * overlap instead of adding up.  Then each imports the snapshot.  On a
 * failure the error names the part; the connections already made are
 * pt->conn (owned), freed by the caller's cleanup.
 */
static fw_status
connect_parts(fw_conn *conn, struct fw_par *p, const char *snapshot)
{
    char sql[160 + FW_SNAPSHOT_ID_MAX];
    struct pollfd fds[64];
    int which[64];
    struct pollfd *pfd = fds;
    int *pw = which;
    int pending = 0;
    fw_status st = FW_OK;

    if (!conn->reconnect_ci) {
        fw_error_set(&conn->err, FW_ERR_MEMORY,
                     "out of memory keeping the connection parameters for parallel streams");
        return FW_ERR_MEMORY;
    }
    if (p->nparts > 64) {
        pfd = calloc((size_t)p->nparts, sizeof *pfd);
        pw = calloc((size_t)p->nparts, sizeof *pw);
        if (!pfd || !pw) {
            st = FW_ERR_MEMORY;
            fw_error_set(&conn->err, st, "out of memory");
            goto out;
        }
    }
    for (int i = 1; i < p->nparts; i++) {
        par_part *pt = &p->parts[i];
        fw_conn *c = NULL;

        st = fw_conn_connect_start_info(conn->reconnect_ci, &c);
        if (!c) {
            st = FW_ERR_MEMORY;
            fw_error_set(&conn->err, st, "out of memory");
            goto out;
        }
        pt->conn = c;
        pt->owned = 1;
        pt->connecting = 1;
        c->timeout_ms = conn->timeout_ms;
        fw_conn_set_max_row_bytes(c, conn->max_row_bytes);
        fw_conn_set_notice_callback(c, conn->notice_fn, conn->notice_arg);
        if (st != FW_OK) {
            part_failed(conn, pt, p->nparts, st);
            goto out;
        }
        pending++;
    }
    while (pending > 0) {
        int nfds = 0, timeout = -1, rc;

        for (int i = 1; i < p->nparts; i++) {
            par_part *pt = &p->parts[i];
            unsigned wants;
            int left;

            if (!pt->connecting)
                continue;
            st = fw_conn_connect_poll(pt->conn);
            if (st == FW_OK) {
                pt->connecting = 0;
                pending--;
                continue;
            }
            if (st != FW_AGAIN) {
                part_failed(conn, pt, p->nparts, st);
                goto out;
            }
            wants = fw_conn_wants(pt->conn);
            pfd[nfds].fd = fw_conn_socket(pt->conn);
            pfd[nfds].events = (short)(((wants & FW_WANT_READ) ? POLLIN : 0) |
                                       ((wants & FW_WANT_WRITE) ? POLLOUT : 0));
            if (pfd[nfds].events == 0)
                pfd[nfds].events = POLLIN;
            pfd[nfds].revents = 0;
            pw[nfds++] = i;
            /* connect_timeout: fw_conn_connect_poll fails the attempt once its
             * deadline has passed. */
            left = fw_conn_timeout_ms(pt->conn);
            if (left >= 0 && (timeout < 0 || left < timeout))
                timeout = left;
        }
        if (nfds == 0)
            break;
        rc = poll(pfd, (nfds_t)nfds, timeout);
        if (rc < 0 && errno != EINTR) {
            st = FW_ERR_IO;
            fw_error_set(&conn->err, st, "poll() failed while connecting the parts: %s",
                         strerror(errno));
            goto out;
        }
    }
    /* The id was checked: hex words and dashes only, so the literal cannot
     * end early. */
    snprintf(sql, sizeof sql,
             "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT '%s'",
             snapshot);
    for (int i = 1; i < p->nparts; i++)
        if ((st = fw_conn_exec(p->parts[i].conn, sql)) != FW_OK) {
            part_failed(conn, &p->parts[i], p->nparts, st);
            goto out;
        }
    st = FW_OK;
out:
    if (pfd != fds) {
        free(pfd);
        free(pw);
    }
    return st;
}

fw_status
fw_par_open(fw_conn *conn, fw_query *q, fw_stream **out)
{
    fw_query_par_order order;
    char why[256];
    char *key_type = NULL, *doc_key = NULL, *snapshot = NULL;
    fw_stream *s;
    struct fw_par *p;
    fw_status st;
    int asked = fw_query_parts(q);

    *out = NULL;
    if ((st = fw_query_parallel_order(q, &order, why, sizeof why)) != FW_OK) {
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
    p->ordered = order.ordered;
    p->limit = -1;

    if ((st = fw_conn_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")) != FW_OK)
        return open_failed(conn, s, st);
    p->in_tx = 1;
    if ((st = load_parts(conn, q, p, asked, order.ordered, &key_type, &doc_key)) != FW_OK)
        goto fail;
    if (order.ordered) {
        if (!doc_key || strcmp(doc_key, order.field) != 0) {
            fw_error_set(&conn->err, FW_ERR_CONFIG,
                         "ORDER BY \"%.64s\" cannot be used with parallel streams: the parts "
                         "are split on the key column \"%.64s\"%s%.64s%s; order by that field, "
                         "or read serially",
                         order.field, p->key_column,
                         doc_key ? " (document field \"" : ", which is not in the document",
                         doc_key ? doc_key : "", doc_key ? "\")" : "");
            st = FW_ERR_CONFIG;
            goto fail;
        }
        if (!order_matches_key(key_type, order.type)) {
            fw_error_set(&conn->err, FW_ERR_CONFIG,
                         "ORDER BY \"%.64s\" with parallel streams: the key column has type "
                         "%.64s, which this ORDER BY type does not sort in the same order "
                         "(integer and numeric keys: numeric or jsonb order; uuid keys: text "
                         "order)",
                         order.field, key_type);
            st = FW_ERR_CONFIG;
            goto fail;
        }
        if (order.desc)
            for (int i = 0, j = p->nparts - 1; i < j; i++, j--) {
                par_part t = p->parts[i];
                p->parts[i] = p->parts[j];
                p->parts[j] = t;
            }
    }
    if (p->nparts > 1) {
        if ((st = query_one_text(conn, "SELECT pg_catalog.pg_export_snapshot()", 0, NULL,
                                 &snapshot)) != FW_OK)
            goto fail;
        if (!snapshot_id_ok(snapshot)) {
            fw_error_set(&conn->err, FW_ERR_PROTOCOL,
                         "pg_export_snapshot() returned an unexpected snapshot id");
            st = FW_ERR_PROTOCOL;
            goto fail;
        }
    }
    /* The first part in reading order goes on the caller's connection. */
    p->parts[0].conn = conn;
    if (p->nparts > 1 && (st = connect_parts(conn, p, snapshot)) != FW_OK)
        goto fail;
    {
        const fw_predicate_entry *predicates;
        const char *sql0;
        const char *const *params0;
        int nparams0, npredicates;
        size_t chunk;

        if ((st = fw_query_prepare(q, &sql0, &nparams0, &params0, &chunk, &predicates,
                                   &npredicates)) != FW_OK) {
            fw_error_set(&conn->err, st, "%s", fw_query_error_message(q) ? fw_query_error_message(q)
                                                               : "out of memory rendering the query");
            goto fail;
        }
        p->limit = fw_query_get_limit(q);
        for (int i = 0; i < p->nparts; i++) {
            par_part *pt = &p->parts[i];
            fw_query_part qp = {.key_column = p->key_column,
                                .lower = pt->lower,
                                .upper = pt->upper,
                                .blocks = strcmp(key_type, "tid") == 0};
            char *sql = NULL, **params = NULL;
            int nparams = 0;

            st = fw_query_render_part(q, &qp, &sql, &params, &nparams);
            if (st != FW_OK) {
                fw_error_set(&conn->err, st, "out of memory rendering the query");
                goto fail;
            }
            st = fw_stream_start_internal(pt->conn, sql, nparams, (const char *const *)params, chunk,
                                          0, predicates, npredicates, &pt->stream);
            free(sql);
            fw_query_free_params(params, nparams);
            if (st != FW_OK) {
                if (pt->conn != conn) {
                    fw_error_move(&conn->err, &pt->conn->err);
                    name_part(conn, pt, p->nparts);
                } else {
                    name_part(conn, pt, p->nparts);
                }
                goto fail;
            }
        }
    }
    s->type_oid = p->parts[0].stream->type_oid;
    s->chunk = p->parts[0].stream->chunk;
    p->active = p->nparts;
    for (int i = 0; i < p->nparts; i++) {
        fw_buf *rb = &p->parts[i].conn->rbuf;

        p->parts[i].fresh = 1;
        /* Room for what a busy socket holds: one read takes it all while
         * the other parts' servers keep sending (no error if it cannot
         * grow: reads are only smaller). */
        if (!p->ordered && rb->len < FW_PAR_RBUF)
            (void)fw_buf_reserve(rb, FW_PAR_RBUF - rb->len);
    }
    conn->stream = s;
    free(key_type);
    free(doc_key);
    free(snapshot);
    *out = s;
    return FW_OK;
fail:
    free(key_type);
    free(doc_key);
    free(snapshot);
    return open_failed(conn, s, st);
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
 * first.
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
