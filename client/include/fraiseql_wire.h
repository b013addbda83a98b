/*
 * fraiseql_wire.h — the public interface of libfraiseql_wire.
 *
 * libfraiseql_wire streams JSON documents out of PostgreSQL over its own
 * implementation of the v3 wire protocol (no libpq), with memory bounded by
 * the chunk size rather than the result size.
 *
 * Conventions (every function follows them):
 *  - Handles are opaque.  Every *_free() and every accessor accepts NULL.
 *  - Functions that can fail return an fw_status: FW_OK (0), FW_DONE (1, the
 *    end of a stream, not an error), FW_AGAIN (2, only from the non-blocking
 *    calls: wait for the socket, then call again), or an error class
 *    (FW_ERR_*, negative).
 *    The handle keeps the details of the last error: fw_conn_error_*().
 *  - A constructor that fails still hands back a handle that carries the
 *    error (fw_connect, fw_conninfo_parse), unless memory itself ran out,
 *    in which case *out is NULL and the status is FW_ERR_MEMORY.
 *  - Ownership is stated next to every function that returns memory.
 *    "borrowed" = owned by the handle, valid until the stated point;
 *    "owned" = the caller frees it with the stated function.
 *  - A connection and its streams are used by one thread at a time.
 */
#ifndef FRAISEQL_WIRE_H
#define FRAISEQL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(FW_BUILDING_LIBRARY)
#define FW_API __attribute__((visibility("default")))
#else
#define FW_API
#endif

/* Checked against default_version in fraiseql_wire.control by `make check`. */
#define FW_VERSION_MAJOR 0
#define FW_VERSION_MINOR 2
#define FW_VERSION_PATCH 0
#define FW_VERSION_STRING "0.2.0"
#define FW_VERSION_NUM (FW_VERSION_MAJOR * 10000 + FW_VERSION_MINOR * 100 + FW_VERSION_PATCH)

/* The version of the library actually loaded (FW_VERSION_NUM at its build). */
FW_API int fw_version_num(void);
FW_API const char *fw_version_string(void);

/* ------------------------------------------------------------------ status */

typedef enum fw_status {
    FW_OK = 0,
    FW_DONE = 1,             /* end of a stream: no more rows */
    FW_AGAIN = 2,            /* non-blocking call: cannot progress without I/O; wait for
                                what fw_conn_wants() says, then call again */
    FW_ERR_IO = -1,          /* socket, DNS, connection lost; retriable */
    FW_ERR_TLS = -2,         /* handshake, certificate, host name */
    FW_ERR_AUTH = -3,        /* rejected credentials, server failed to prove itself */
    FW_ERR_PROTOCOL = -4,    /* malformed or unexpected message from the server */
    FW_ERR_SQL = -5,         /* ErrorResponse from the server (see the SQLSTATE) */
    FW_ERR_SCHEMA = -6,      /* result is not one json/jsonb column named data */
    FW_ERR_CANCELLED = -7,   /* the stream was cancelled by the caller */
    FW_ERR_TIMEOUT = -8,     /* connect_timeout or another deadline passed; retriable */
    FW_ERR_CONFIG = -9,      /* bad connection string, option or argument */
    FW_ERR_MEMORY = -10,     /* allocation failed, or a limit (max_row_bytes) was hit */
    FW_ERR_USAGE = -11       /* API misuse: wrong state, NULL handle, busy connection */
} fw_status;

/* A short English name of a status ("io", "tls", "auth", …, "ok", "done",
 * "again").
 * Borrowed, static. */
FW_API const char *fw_strerror(fw_status status);

/* ---------------------------------------------------------------- conninfo */

typedef struct fw_conninfo fw_conninfo;

/*
 * Parses a connection string as libpq does: a postgresql:// or postgres://
 * URI, or keyword=value pairs, then fills what it leaves unset from the PG*
 * environment variables and the defaults (and, when a password is needed
 * and not given, from ~/.pgpass or PGPASSFILE at connect time).
 * *out is always set (NULL only on FW_ERR_MEMORY); on FW_ERR_CONFIG it
 * carries the message (fw_conninfo_error).  Owned: fw_conninfo_free().
 */
#define FW_CONNINFO_NO_ENV 0x1       /* ignore PG* variables (for tests, tools) */
FW_API fw_status fw_conninfo_parse(const char *conninfo, unsigned flags, fw_conninfo **out);
/*
 * libpq's PQconnectdbParams as a parser: keywords[i] = values[i] until
 * keywords[i] is NULL (keywords NULL = none).  A NULL or empty value is
 * skipped (the keyword stays unset, so the PG* variable or the default
 * applies); the last non-empty value of a keyword wins.  An unknown keyword
 * is FW_ERR_CONFIG with "invalid connection option \"KEYWORD\"" in
 * fw_conninfo_error.  With expand_dbname non-zero, the first dbname value
 * that holds '=' or starts with postgresql:// or postgres:// is parsed as a
 * whole connection string in its place: its settings override the entries
 * before it, the entries after it override its settings (psql's -d).  Then
 * the environment and the defaults as fw_conninfo_parse, with the same
 * flags and the same contract for *out and the status; values NULL with
 * keywords not NULL is FW_ERR_USAGE with *out NULL.  Owned: fw_conninfo_free().
 */
FW_API fw_status fw_conninfo_parse_params(const char *const *keywords, const char *const *values,
                                          int expand_dbname, unsigned flags, fw_conninfo **out);
FW_API void fw_conninfo_free(fw_conninfo *ci);
/* The parse error, or NULL.  Borrowed until fw_conninfo_free. */
FW_API const char *fw_conninfo_error(const fw_conninfo *ci);
/* The value of one keyword ("host", "port", "sslmode", …) after defaults, or
 * NULL when unset.  Borrowed until fw_conninfo_free. */
FW_API const char *fw_conninfo_get(const fw_conninfo *ci, const char *keyword);
/* Iterates every known keyword in a stable order: index 0 .. count-1.
 * Returns the keyword and sets *value (NULL when unset).  Borrowed. */
FW_API size_t fw_conninfo_count(const fw_conninfo *ci);
FW_API const char *fw_conninfo_keyword(const fw_conninfo *ci, size_t index, const char **value);

/* ------------------------------------------------------------- connection */

typedef struct fw_conn fw_conn;

/*
 * Connects (trying each host in turn, honouring target_session_attrs),
 * negotiates TLS per sslmode, authenticates (trust, cleartext, MD5,
 * SCRAM-SHA-256, SCRAM-SHA-256-PLUS), and sets the session to
 * client_encoding=UTF8, DateStyle=ISO, TimeZone=UTC, extra_float_digits=3.
 * *out is always set (NULL only on FW_ERR_MEMORY): on failure it carries the
 * error.  Owned: fw_conn_free().
 */
FW_API fw_status fw_connect(const char *conninfo, fw_conn **out);
FW_API fw_status fw_connect_info(const fw_conninfo *ci, fw_conn **out);
/* ------------------------------------------------------- non-blocking use
 *
 * For event loops (poll, epoll, libuv, …), in libpq's PQconnectPoll style:
 *
 *   fw_connect_start(conninfo, &conn);          never waits on the network
 *   while ((st = fw_connect_poll(conn)) == FW_AGAIN)
 *       wait until fw_conn_socket(conn) is ready for fw_conn_wants(conn),
 *       at most fw_conn_timeout_ms(conn) milliseconds;
 *   fw_conn_set_nonblocking(conn, 1);
 *   fw_stream_sql(conn, …, &s) / fw_stream_open(conn, q, &s);   only queue
 *   while ((st = fw_stream_try_next(s, &json, &len)) != FW_DONE) {
 *       FW_OK: a row; FW_AGAIN: wait as above, then call again; < 0: error
 *   }
 *
 * The blocking calls (fw_connect, fw_stream_next) are these same state
 * machines driven by a poll(2) loop with the connection's deadlines.
 * Name resolution (getaddrinfo) still blocks inside fw_connect_start and
 * fw_connect_poll, as in libpq; pass hostaddr= to avoid it.  The socket may
 * change while connecting (each host and address is a new socket): read
 * fw_conn_socket() again after every FW_AGAIN.
 */

/* Begins a connection without waiting on the network (see above).  *out is
 * always set (NULL only on FW_ERR_MEMORY).  FW_OK means "started": drive it
 * with fw_connect_poll.  On an error (bad conninfo) the handle carries it,
 * and fw_connect_poll returns it again.  The fw_conninfo is copied: it may
 * be freed at once.  Owned: fw_conn_free(). */
FW_API fw_status fw_connect_start(const char *conninfo, fw_conn **out);
FW_API fw_status fw_connect_start_info(const fw_conninfo *ci, fw_conn **out);

/*
 * Advances a connection begun with fw_connect_start as far as it can without
 * waiting.  FW_OK: ready for queries (and on every later call); FW_AGAIN:
 * wait for fw_conn_wants() on fw_conn_socket(), then call again; an error
 * status: every host failed (the error record says why, as fw_connect's).
 * Multiple hosts, target_session_attrs, the sslmode fallbacks (allow,
 * prefer), TLS and every authentication method run here.
 * connect_timeout is enforced by this function, per address tried as in
 * fw_connect: once the attempt's deadline has passed, the next call fails
 * that attempt with "timeout expired" and goes on with the next address or
 * host.  So the caller must call it again by then: fw_conn_timeout_ms()
 * says how long its wait may last.
 */
FW_API fw_status fw_connect_poll(fw_conn *conn);

/* The socket, or -1 when there is none (not connected, broken, freed). */
FW_API int fw_conn_socket(const fw_conn *conn);

/* What to wait for after a call returned FW_AGAIN: FW_WANT_READ,
 * FW_WANT_WRITE or both (TLS may want to write while reading and the other
 * way round; a stream with output still queued wants both).  Never 0 after
 * FW_AGAIN; 0 otherwise. */
#define FW_WANT_READ 1u
#define FW_WANT_WRITE 2u
FW_API unsigned fw_conn_wants(const fw_conn *conn);

/* While connecting: the milliseconds left before the current attempt's
 * connect_timeout passes (0 when it has: call fw_connect_poll now), the
 * longest the caller may wait before calling fw_connect_poll again; -1
 * when there is no deadline.  Otherwise the connection's timeout
 * (fw_conn_set_timeout), -1 when none: fw_stream_try_next itself never
 * times out; an event loop that wants a bound on a silent server applies
 * this one and gives up with fw_stream_cancel / fw_conn_free. */
FW_API int fw_conn_timeout_ms(const fw_conn *conn);

/*
 * Non-blocking mode for streams (default off).  When on, fw_stream_sql,
 * fw_stream_sql_text and fw_stream_open only queue the query's messages and
 * return the stream at once (no round trip; a schema error or an SQL error
 * of the statement comes from the first fw_stream_try_next instead), and
 * fw_stream_try_next sends and receives without waiting.  fw_stream_next
 * works on such a stream too (it waits).  fw_exec_simple and
 * fw_stream_close still wait: fw_stream_close is bounded (it drains what the
 * server already sent, after a CancelRequest when rows remain, each wait
 * limited by fw_conn_set_timeout when set).
 */
FW_API void fw_conn_set_nonblocking(fw_conn *conn, int on);
FW_API int fw_conn_is_nonblocking(const fw_conn *conn);

/* Sends Terminate (when connected) and frees everything; NULL is fine. */
FW_API void fw_conn_free(fw_conn *conn);

/* True once the connection is ready for a query. */
FW_API int fw_conn_ok(const fw_conn *conn);
/* A run-time parameter the server reported (ParameterStatus), e.g.
 * "server_version", or NULL.  Borrowed until the next call on conn. */
FW_API const char *fw_conn_parameter(const fw_conn *conn, const char *name);
/* The server's backend process id (0 before startup completes). */
FW_API int fw_conn_backend_pid(const fw_conn *conn);
/* 1 when the connection uses TLS. */
FW_API int fw_conn_tls(const fw_conn *conn);

/* Notices (NoticeResponse) go to this callback; the default writes
 * "NOTICE:  message" to stderr.  severity and message are borrowed for the
 * duration of the call. */
typedef void (*fw_notice_fn)(void *arg, const char *severity, const char *sqlstate,
                             const char *message);
FW_API void fw_conn_set_notice_callback(fw_conn *conn, fw_notice_fn fn, void *arg);

/* ------------------------------------------------------------------ errors */
/* The last error on a connection (or on a stream of it).  Strings are
 * borrowed until the next call on the connection; NULL when not present. */
FW_API fw_status fw_conn_error_class(const fw_conn *conn);
FW_API const char *fw_conn_error_message(const fw_conn *conn);
FW_API const char *fw_conn_error_sqlstate(const fw_conn *conn);
FW_API const char *fw_conn_error_detail(const fw_conn *conn);
/* The server's HINT; for a connection the server did not accept (connect()
 * failed) libpq's hint: "Is the server running on that host and accepting
 * TCP/IP connections?" or, for a Unix socket, "Is the server running
 * locally and accepting connections on that socket?". */
FW_API const char *fw_conn_error_hint(const fw_conn *conn);
/* Cursor position in the query (1-based characters), 0 when absent. */
FW_API int fw_conn_error_position(const fw_conn *conn);
/* 1 when retrying the operation (on a new connection for io) can succeed:
 * io, timeout, and SQL errors of class 40 (serialization, deadlock),
 * 53 (insufficient resources), 57P01-57P03 (shutdown, cannot connect now). */
FW_API int fw_conn_error_retriable(const fw_conn *conn);
/* 1 when the connection failed because the server asked for a password
 * and none was given (neither the password keyword nor the password file
 * had one): libpq's PQconnectionNeedsPassword.  A caller may ask the user
 * and connect again with the password set.  0 otherwise, and on NULL. */
FW_API int fw_conn_needs_password(const fw_conn *conn);

/* ------------------------------------------------------------------ streams */

typedef struct fw_stream fw_stream;

/*
 * Runs one SQL statement with the extended protocol (unnamed statement and
 * portal) and streams its rows chunk_size at a time (Execute with a row
 * limit; 0 means the default, 1024).  Parameters travel as text, $1..$n;
 * a NULL entry is SQL NULL.  The result must be exactly one column named
 * "data" of type json or jsonb, else FW_ERR_SCHEMA before any row is read.
 * The SQL is the caller's own: this is the raw entry point for trusted code.
 * Owned: fw_stream_close().  One open stream per connection at a time.
 */
FW_API fw_status fw_stream_sql(fw_conn *conn, const char *sql, int nparams,
                               const char *const *params, size_t chunk_size,
                               fw_stream **out);

/*
 * As fw_stream_sql, but the result may be one column of any name and type
 * (its text form is returned by fw_stream_next): for EXPLAIN and other
 * trusted single-column queries.
 */
FW_API fw_status fw_stream_sql_text(fw_conn *conn, const char *sql, int nparams,
                                    const char *const *params, size_t chunk_size,
                                    fw_stream **out);

/* The type of the result column: "json", "jsonb", or (fw_stream_sql_text)
 * "other".  Borrowed, static. */
FW_API const char *fw_stream_data_type(const fw_stream *stream);

/* 1 when the next row is already received, whole, so that fw_stream_next
 * returns it without waiting for the network; 0 otherwise (also on NULL).
 * A writer that buffers its output flushes when this is 0: rows reach its
 * reader as they arrive, and a pipe is not written once per row. */
FW_API int fw_stream_row_buffered(const fw_stream *stream);

/*
 * The next row: *json points into the receive buffer (not NUL-terminated,
 * *len bytes), valid until the next call on the stream or its connection.
 * A SQL NULL data value gives *json == NULL, *len == 0.
 * Returns FW_OK (a row), FW_DONE (no more), or an error.
 */
FW_API fw_status fw_stream_next(fw_stream *stream, const char **json, size_t *len);

/*
 * The next row without waiting: FW_OK with a row (as fw_stream_next),
 * FW_DONE at the end, FW_AGAIN when no whole row is buffered and the socket
 * has nothing more now (wait for fw_conn_wants() on fw_conn_socket(), then
 * call again), or an error.  Works on any stream; on a stream opened in
 * non-blocking mode it also sends the queued query and checks the schema.
 * Queued output is written as the socket allows, so a reader never
 * deadlocks with a server that is sending.  A stream cancelled with
 * fw_stream_cancel drains without waiting too; unlike fw_stream_next it
 * does not repeat the CancelRequest while the server stays silent (call
 * fw_stream_cancel again, or fw_stream_close).
 */
FW_API fw_status fw_stream_try_next(fw_stream *stream, const char **json, size_t *len);

/*
 * The next row as a json-c object (json-c 0.15 or later; link json-c
 * yourself, e.g. pkg-config --libs json-c).  Owned: the caller holds one
 * reference and releases it with json_object_put().
 * A SQL NULL and the JSON value null both give *out == NULL with FW_OK
 * (json-c represents null as NULL).  Returns FW_OK, FW_DONE (*out NULL) or
 * an error; a row that does not parse is an error of that row only
 * (recorded on the connection; the stream goes on: call again for the next
 * row, or fw_stream_close): FW_ERR_PROTOCOL when it is not exactly one
 * strict JSON value, FW_ERR_MEMORY when it nests deeper than 512 levels or
 * memory runs out.  json-c keeps integers as int64/uint64: a larger integer
 * is clamped (read fw_stream_next's text when exact big numbers matter).
 * Client-side predicates still see the text.
 */
struct json_object;
FW_API fw_status fw_stream_next_object(fw_stream *stream, struct json_object **out);

/* Sends a CancelRequest for the running query (on a new plain connection
 * to the same server, as libpq); the next fw_stream_next discards what is
 * left and returns FW_ERR_CANCELLED (or FW_DONE if the stream had already
 * ended), and the connection stays usable.  Unlike every other call, this
 * one may be made from another thread while fw_stream_next waits; its
 * status is FW_OK once the request was delivered (the connection's error
 * record is not touched). */
FW_API fw_status fw_stream_cancel(fw_stream *stream);

/* Ends the stream: if rows remain, cancels the query and drains what the
 * server already sent, so the connection can run the next query.  The
 * drain is bounded (the connection's timeout, else 5 s): a server that
 * ignores the cancel gets a Terminate and the connection is closed
 * (FW_ERR_TIMEOUT).  Frees the stream; NULL is fine.  Returns the
 * connection's state afterwards. */
FW_API fw_status fw_stream_close(fw_stream *stream);

/*
 * Cancel handles (libpq's PQgetCancel/PQcancel), for signal handlers.
 *
 * fw_conn_get_cancel precomputes the CancelRequest of the connection's
 * backend and the address the session was made on (TCP, TLS or Unix
 * socket); NULL when the connection is not open or memory ran out.  Owned:
 * fw_cancel_free (safe on NULL).  The handle stays valid after the
 * connection is freed, but fw_cancel_abort must then not be called.
 *
 * fw_cancel_request sends the request on a new plain connection (never TLS,
 * as libpq 15 whatever sslmode says: it carries only the backend's pid and
 * secret key) and waits until the server closed it, at most timeout_ms
 * (0: 10 s).  It is async-signal-safe (socket, connect, poll, send, recv,
 * close; no allocation, no stdio, no locks; errno is preserved), so a
 * SIGINT handler may call it.  On failure a message is written to errbuf
 * (may be NULL).  FW_OK means delivered, not that a query was running.
 *
 * fw_cancel_abort shuts the connection's socket down (shutdown(2), not
 * close), so that a call blocked on it returns FW_ERR_IO at once and the
 * connection is broken: the way out when the server ignores a cancel.
 * Async-signal-safe; only while the connection is open (not freed).
 */
typedef struct fw_cancel fw_cancel;
FW_API fw_cancel *fw_conn_get_cancel(const fw_conn *conn);
FW_API void fw_cancel_free(fw_cancel *cancel);
FW_API fw_status fw_cancel_request(const fw_cancel *cancel, int timeout_ms, char *errbuf,
                                   size_t errlen);
FW_API fw_status fw_cancel_abort(const fw_cancel *cancel);

/* Rows handed out so far, and bytes of row data received. */
FW_API uint64_t fw_stream_rows(const fw_stream *stream);
FW_API uint64_t fw_stream_bytes(const fw_stream *stream);

/*
 * Runs SQL with the simple query protocol and discards any rows (for SET,
 * DDL, and trusted maintenance).  Several statements are allowed.
 */
FW_API fw_status fw_exec_simple(fw_conn *conn, const char *sql);

/* ----------------------------------------------------------------- queries */

/*
 * A query on one entity: SELECT data FROM v_<entity> [WHERE …] [ORDER BY …]
 * [LIMIT $n] [OFFSET $n].  Names are identifiers (validated and quoted,
 * never spliced); the filter, order keys, limit and offset travel as
 * parameters.  Errors: FW_ERR_CONFIG with the message in fw_query_error().
 * Owned: fw_query_free().
 */
typedef struct fw_query fw_query;

/* entity: [a-zA-Z_][a-zA-Z0-9_$]* or schema.entity; the entity at most 60
 * bytes (so that "tv_" + entity fits PostgreSQL's 63-byte names), the schema
 * at most 63.  Case is kept (names are always quoted).  It reads the
 * relation v_<entity> in that schema (or on the search_path). */
FW_API fw_status fw_query_new(const char *entity, fw_query **out);
FW_API void fw_query_free(fw_query *q);
/* The message of the last failed call on q, or NULL.  Borrowed. */
FW_API const char *fw_query_error(const fw_query *q);

/* Read tv_<entity> (the materialised table) instead of v_<entity>. */
FW_API fw_status fw_query_use_table(fw_query *q);
/* Read this relation instead ("name" or "schema.name", any identifier
 * PostgreSQL accepts; quoted as given). */
FW_API fw_status fw_query_set_relation(fw_query *q, const char *relation);

/* A filter document (docs/filters.md), sent as a jsonb parameter to
 * fraiseql_wire.matches(data, $n).  It must be a JSON object; the server
 * validates the rest (SQLSTATE 22023 with the path of the bad part).
 * Calling it again replaces the filter. */
FW_API fw_status fw_query_where(fw_query *q, const char *filter_json);

/* ORDER BY a field path ("name", "author.name"; keys separated by dots),
 * rendered as data->$k->$m (jsonb order), as the extension's sort key
 * fraiseql_wire.sort_key_text/_numeric/_boolean(data, $k, $m) (text with
 * COLLATE "C"; on a v_ view the server orders an integer, text or boolean
 * column by its index), or as (data->>$k)::date / ::timestamptz.  Calls
 * accumulate. */
#define FW_ORDER_ASC 0x0
#define FW_ORDER_DESC 0x1
#define FW_ORDER_NULLS_FIRST 0x2
#define FW_ORDER_NULLS_LAST 0x4
typedef enum fw_order_type {
    FW_ORDER_JSONB = 0,   /* jsonb's own ordering */
    FW_ORDER_TEXT,        /* the value as text, by code point (COLLATE "C") */
    FW_ORDER_NUMERIC,
    FW_ORDER_TIMESTAMPTZ,
    FW_ORDER_DATE,
    FW_ORDER_BOOLEAN
} fw_order_type;
FW_API fw_status fw_query_order_by(fw_query *q, const char *field_path, fw_order_type type,
                                   unsigned flags);

/* LIMIT and OFFSET (>= 0), sent as parameters; -1 removes them. */
FW_API fw_status fw_query_limit(fw_query *q, int64_t limit);
FW_API fw_status fw_query_offset(fw_query *q, int64_t offset);
/* Rows per Execute (how far the server may run ahead of a paused reader);
 * 0 = the default, 1024. */
FW_API fw_status fw_query_chunk_size(fw_query *q, size_t rows);

/*
 * Parallel streams (docs/client.md, "Parallel streams"): fw_stream_open then
 * reads the relation as up to `parts` disjoint parts, each on its own
 * connection, all in one snapshot.  conn opens a REPEATABLE READ, READ ONLY
 * transaction and exports its snapshot; parts - 1 more connections (made
 * with conn's parameters, to the same server) import it; the split comes
 * from fraiseql_wire.parallel_parts() (fewer parts when the relation is
 * small).  Rows come in the order they arrive, unless ORDER BY is exactly
 * the split key (the relation's first primary key column, present in the
 * document), which keeps them in order.  LIMIT is global; OFFSET, other
 * ORDER BYs and a trusted ORDER BY are refused by fw_stream_open
 * (FW_ERR_CONFIG).  The stream owns the extra connections and ends every
 * transaction when it is closed.  An error or a cancel on one part cancels
 * all; the error is reported once on conn, its message naming the part.
 * 1 (the default) reads serially.  Errors: FW_ERR_CONFIG outside 1..1024.
 */
FW_API fw_status fw_query_parallel(fw_query *q, int parts);
/* The parts a parallel stream reads (1 for a serial stream). */
FW_API int fw_stream_parts(const fw_stream *stream);

/* Raw SQL for trusted callers only: ANDed into WHERE / used as ORDER BY as
 * written.  Never pass user input here. */
FW_API fw_status fw_query_where_sql_trusted(fw_query *q, const char *sql);
FW_API fw_status fw_query_order_by_sql_trusted(fw_query *q, const char *sql);

/* Client-side predicates: each row is offered to every predicate (ANDed,
 * in the order added) before the caller sees it; a predicate returns 1 to
 * keep the row, 0 to drop it.  json/len are as in fw_stream_next (json is
 * NULL for a SQL NULL). */
typedef int (*fw_predicate_fn)(void *arg, const char *json, size_t len);
FW_API fw_status fw_query_add_predicate(fw_query *q, fw_predicate_fn fn, void *arg);

/* The SQL text the query sends, and its parameters (for explain and logs).
 * Borrowed until the next call on q. */
FW_API const char *fw_query_sql(fw_query *q);
FW_API int fw_query_nparams(const fw_query *q);
FW_API const char *fw_query_param(const fw_query *q, int index);

/* Runs the query on conn (see fw_stream_sql).  The query may be freed or
 * reused once the stream is open. */
FW_API fw_status fw_stream_open(fw_conn *conn, fw_query *q, fw_stream **out);

/* Per-stream statistics: rows dropped by client-side predicates; the time
 * from opening the stream to its first row handed out (-1 before one), and
 * to its end (or until now while it runs), in microseconds. */
FW_API uint64_t fw_stream_rows_dropped(const fw_stream *stream);
FW_API int64_t fw_stream_first_row_usec(const fw_stream *stream);
FW_API int64_t fw_stream_duration_usec(const fw_stream *stream);

/* -------------------------------------------------------- connection limits */

/* The largest row (DataRow message) accepted; bigger is FW_ERR_MEMORY and
 * the connection is drained.  Default 256 MiB. */
FW_API void fw_conn_set_max_row_bytes(fw_conn *conn, size_t max_row_bytes);

/* The longest wait for the server on an established connection, per read
 * or write, in milliseconds (0, the default, waits forever: a long query
 * is not an error).  When it passes, the call returns FW_ERR_TIMEOUT and
 * the connection is closed (it cannot be brought back in step).  Connecting
 * is bounded by connect_timeout instead. */
FW_API void fw_conn_set_timeout(fw_conn *conn, int timeout_ms);

/* statement_timeout for each stream opened from now on, in milliseconds
 * (0, the default: the server's setting).  Set with set_config(…, true) in
 * the stream's own transaction, before its query, so it covers the whole
 * stream (paused time included), ends with it, and is safe behind a
 * transaction-pooling PgBouncer.  A stream that runs over ends with
 * FW_ERR_SQL, SQLSTATE 57014. */
FW_API void fw_conn_set_statement_timeout(fw_conn *conn, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* FRAISEQL_WIRE_H */
