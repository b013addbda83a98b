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
 *    end of a stream, not an error), or an error class (FW_ERR_*, negative).
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
#define FW_VERSION_MINOR 1
#define FW_VERSION_PATCH 0
#define FW_VERSION_STRING "0.1.0"
#define FW_VERSION_NUM (FW_VERSION_MAJOR * 10000 + FW_VERSION_MINOR * 100 + FW_VERSION_PATCH)

/* The version of the library actually loaded (FW_VERSION_NUM at its build). */
FW_API int fw_version_num(void);
FW_API const char *fw_version_string(void);

/* ------------------------------------------------------------------ status */

typedef enum fw_status {
    FW_OK = 0,
    FW_DONE = 1,             /* end of a stream: no more rows */
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

/* A short English name of a status ("io", "tls", "auth", …, "ok", "done").
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
FW_API const char *fw_conn_error_hint(const fw_conn *conn);
/* Cursor position in the query (1-based characters), 0 when absent. */
FW_API int fw_conn_error_position(const fw_conn *conn);
/* 1 when retrying the operation (on a new connection for io) can succeed:
 * io, timeout, and SQL errors of class 40 (serialization, deadlock),
 * 53 (insufficient resources), 57P01-57P03 (shutdown, cannot connect now). */
FW_API int fw_conn_error_retriable(const fw_conn *conn);

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

/*
 * The next row: *json points into the receive buffer (not NUL-terminated,
 * *len bytes), valid until the next call on the stream or its connection.
 * A SQL NULL data value gives *json == NULL, *len == 0.
 * Returns FW_OK (a row), FW_DONE (no more), or an error.
 */
FW_API fw_status fw_stream_next(fw_stream *stream, const char **json, size_t *len);

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
 * server already sent, so the connection can run the next query.  Frees
 * the stream; NULL is fine.  Returns the connection's state afterwards. */
FW_API fw_status fw_stream_close(fw_stream *stream);

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
 * rendered as data->$k->$m (jsonb order) or, with a type, as the cast text
 * value ((data#>>$k)::numeric, … COLLATE "C" for text).  Calls accumulate. */
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

#ifdef __cplusplus
}
#endif

#endif /* FRAISEQL_WIRE_H */
