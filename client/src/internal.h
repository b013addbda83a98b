/*
 * internal.h — the private layout of a connection and a stream, and the
 * internal interfaces between net.c (sockets), tls.c (OpenSSL), conn.c
 * (the connection and its startup), msgread.c (the message reader),
 * auth.c (authentication, auth.h), stream.c (queries), cancel.c and error.c.
 *
 * Not installed; nothing here is part of the ABI.
 */
#ifndef FW_INTERNAL_H
#define FW_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "conninfo.h"
#include "fraiseql_wire.h"
#include "pgmsg.h"
#include "query.h"

/* Receive buffer: initial size, and the slack allowed above the largest
 * message accepted (so one recv() can bring the next header along). */
#define FW_RBUF_INITIAL (64u * 1024)
#define FW_RBUF_HEADROOM (64u * 1024)
/* Messages other than DataRow are accepted up to this size, whatever
 * max_row_bytes is (error texts, parameter values); a larger one is skipped
 * unbuffered and reported as FW_ERR_LIMIT. */
#define FW_MSG_FLOOR (1u * 1024 * 1024)
#define FW_DEFAULT_MAX_ROW (256u * 1024 * 1024)
/* Parameters of one Bind message: the protocol's count is an int16. */
#define FW_MAX_BIND_PARAMS 32767
/* Distinct ParameterStatus names kept (later new names are dropped). */
#define FW_MAX_PARAMS 256
/* Executes kept in flight: while the caller reads one chunk the server
 * already produces the next, so neither side waits for the other.  Memory
 * stays bounded (the socket buffers hold what is ahead; the receive buffer
 * never grows for it), and a paused stream makes the server produce at
 * most this many chunks past the rows read. */
#define FW_PIPELINE_DEPTH 2

/* ------------------------------------------------------------- error.c */

typedef struct fw_error {
    fw_status cls;
    char *message;
    char *sqlstate;
    char *detail;
    char *hint;
    int position;
} fw_error;

void fw_error_clear(fw_error *e);
/* Sets class and a printf-style message (other fields cleared). */
void fw_error_set(fw_error *e, fw_status cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* From an ErrorResponse's fields, with the given class. */
void fw_error_set_fields(fw_error *e, fw_status cls, const fw_pg_fields *f);
/* Moves src into dst (dst's previous content is freed). */
void fw_error_move(fw_error *dst, fw_error *src);
int fw_error_is_retriable(const fw_error *e);

/* --------------------------------------------------------------- tls.c */

typedef struct fw_tls fw_tls;

typedef struct fw_tls_config {
    fw_sslmode mode;
    const char *rootcert;   /* NULL: ~/.postgresql/root.crt */
    const char *cert;       /* NULL: ~/.postgresql/postgresql.crt when present */
    const char *key;        /* NULL: ~/.postgresql/postgresql.key when present */
    const char *crl;        /* NULL: ~/.postgresql/root.crl when present */
    const char *host;       /* the name checked against the certificate */
    int sni;                /* send SNI (never for IP literals) */
} fw_tls_config;

/* I/O results of the TLS layer besides a byte count. */
#define FW_TLS_WANT_READ (-2)
#define FW_TLS_WANT_WRITE (-3)

/* Starts a handshake on a connected non-blocking socket; the caller drives
 * it with fw_tls_handshake until FW_OK.  Errors carry a message in err. */
fw_status fw_tls_new(int fd, const fw_tls_config *cfg, fw_tls **out, fw_error *err);
/* 0 when done, FW_TLS_WANT_READ/WRITE to wait, -1 on failure (err set). */
int fw_tls_handshake(fw_tls *t, fw_error *err);
/* > 0 bytes, 0 = orderly close, FW_TLS_WANT_*, or -1 (err set). */
long fw_tls_read(fw_tls *t, void *p, size_t n, fw_error *err);
long fw_tls_write(fw_tls *t, const void *p, size_t n, fw_error *err);
/* The tls-server-end-point channel binding data (RFC 5929). */
fw_status fw_tls_server_end_point(fw_tls *t, uint8_t *out, size_t cap, size_t *len,
                                  fw_error *err);
/* 1 when decrypted bytes are waiting inside OpenSSL (poll cannot see them). */
int fw_tls_pending(fw_tls *t);
void fw_tls_free(fw_tls *t);  /* sends close_notify when possible */

/* --------------------------------------------------------------- net.c */

/* Milliseconds on CLOCK_MONOTONIC; deadlines are absolute, -1 = none. */
int64_t fw_now_ms(void);

typedef struct fw_sock {
    int fd;
    fw_tls *tls;
    size_t tls_wlen;   /* length of a TLS write to retry (OpenSSL wants it unchanged) */
    struct sockaddr_storage addr;  /* where we connected (for CancelRequest) */
    socklen_t addrlen;
} fw_sock;

/* Connects a non-blocking socket to one address before the deadline,
 * with keepalives and TCP_NODELAY on TCP. */
fw_status fw_net_connect(fw_sock *s, const struct sockaddr *addr, socklen_t len,
                         const fw_conninfo *ci, int64_t deadline, fw_error *err);
/* Starts connecting a non-blocking socket (s->fd set, keepalives and
 * TCP_NODELAY on TCP): FW_OK connected, FW_AGAIN in progress (wait for
 * writability, then fw_net_connect_check), or an error (no socket left). */
fw_status fw_net_connect_start(fw_sock *s, const struct sockaddr *addr, socklen_t len,
                               const fw_conninfo *ci, fw_error *err);
/* After fw_net_connect_start's FW_AGAIN: FW_OK connected, FW_AGAIN still in
 * progress, or the connect error (the socket stays for the caller to close). */
fw_status fw_net_connect_check(fw_sock *s, fw_error *err);
/* Waits until fd is readable (events POLLIN) or writable (POLLOUT). */
fw_status fw_net_wait(int fd, short events, int64_t deadline, fw_error *err);
/* The same for FW_WANT_* flags (0 waits for readability). */
fw_status fw_net_wait_wants(int fd, unsigned wants, int64_t deadline, fw_error *err);
/* One non-blocking write or read (TLS when s->tls): FW_OK with *put / *got
 * bytes (> 0 for a read; the peer closing is FW_ERR_IO), FW_AGAIN with
 * *wants (FW_WANT_READ / FW_WANT_WRITE), or an error. */
fw_status fw_net_write_nb(fw_sock *s, const uint8_t *p, size_t n, size_t *put, unsigned *wants,
                          fw_error *err);
fw_status fw_net_read_nb(fw_sock *s, uint8_t *p, size_t n, size_t *got, unsigned *wants,
                         fw_error *err);
/* Writes everything (TLS when s->tls) before the deadline. */
fw_status fw_net_write_all(fw_sock *s, const uint8_t *p, size_t n, int64_t deadline,
                           fw_error *err);
/* Reads at least one byte (up to n) before the deadline; *got > 0 on FW_OK.
 * The peer closing is FW_ERR_IO. */
fw_status fw_net_read_some(fw_sock *s, uint8_t *p, size_t n, int64_t deadline, size_t *got,
                           fw_error *err);
void fw_net_close(fw_sock *s);

/* -------------------------------------------------------------- conn.c */

typedef struct fw_param {
    char *name;
    char *value;
} fw_param;

typedef enum fw_conn_state {
    FW_CONN_BAD = 0,      /* never connected, or broken */
    FW_CONN_IDLE,         /* ReadyForQuery seen, no stream */
    FW_CONN_BUSY          /* a stream or a simple query is running */
} fw_conn_state;

struct fw_stream;
struct fw_connecting;   /* conn.c: the connection state machine while connecting */

/* What the first stream learnt of the server's extra_float_digits. */
#define FW_EFD_UNKNOWN 0   /* not asked yet (or the server did not say) */
#define FW_EFD_EXACT 1     /* >= 1: floats print exactly already, nothing to set */
#define FW_EFD_SET 2       /* <= 0: set 3 in every stream */


struct fw_conn {
    fw_sock sock;
    fw_conn_state state;
    fw_buf wbuf;            /* outgoing messages; bytes before wpos are sent */
    size_t wpos;
    int wbuf_secret;        /* wbuf holds a password or SCRAM proof: wiped once sent */
    unsigned wants;         /* FW_WANT_* after a non-blocking call returned FW_AGAIN */
    int nonblocking;        /* fw_conn_set_nonblocking */
    struct fw_connecting *cx;  /* while fw_conn_connect_poll has work to do */
    fw_buf rbuf;            /* received bytes; messages start at rpos */
    size_t rpos;
    size_t skip;            /* bytes of an oversized message still to discard */
    size_t max_row_bytes;
    int timeout_ms;         /* per wait; 0 = none (fw_conn_set_timeout) */
    int statement_timeout_ms; /* set per stream; 0 = the server's (fw_conn_set_statement_timeout) */
    int efd_state;          /* the server's extra_float_digits: FW_EFD_* */
    int64_t startup_deadline; /* during connect: connect_timeout; during the bounded
                                 drain of a cancelled stream: its end; else -1 */
    fw_error err;
    fw_param *params;
    size_t nparams;
    int32_t be_pid, be_key;
    char tx_status;
    fw_notice_fn notice_fn;
    void *notice_arg;
    struct fw_stream *stream;  /* the open stream, if any */
    fw_conninfo *reconnect_ci; /* the parameters that reached this server (parallel.c) */
    int password_needed;    /* the server asked for a password and none was given */
};

/* The deadline of one wait under the connection's timeout. */
int64_t fw_conn_deadline(const fw_conn *c);
/* Sends wbuf and empties it.  On failure the connection is broken. */
fw_status fw_conn_flush(fw_conn *c);
/* Sends what the socket takes now: FW_OK when wbuf is empty, FW_AGAIN with
 * *wants when output remains, or an error (the connection is broken). */
fw_status fw_conn_flush_nb(fw_conn *c, unsigned *wants);
/* 1 when queued output is not sent yet. */
int fw_conn_output_pending(const fw_conn *c);
/* Waits (poll) for c->wants on the socket until deadline (-1: none);
 * FW_OK, FW_ERR_TIMEOUT (nothing recorded), or FW_ERR_IO (err set). */
fw_status fw_conn_wait_wants(fw_conn *c, int64_t deadline);
/* Marks the connection unusable and closes the socket; keeps the error. */
void fw_conn_break(fw_conn *c);
/* Records an ErrorResponse as the connection's error. */
void fw_conn_error_from_msg(fw_conn *c, const fw_msg *m, fw_status cls);
/* Keeps a ParameterStatus (replacing a value; at most FW_MAX_PARAMS names;
 * out of memory drops it). */
void fw_conn_set_param(fw_conn *c, const char *name, const char *value);

/* ----------------------------------------------------------- msgread.c */

/*
 * Reads the next message into *m (valid until the next call).
 * Handles NoticeResponse, ParameterStatus and NotificationResponse itself.
 * A message over the cap is FW_ERR_LIMIT with the connection still in
 * step (its bytes are skipped); I/O and framing errors break it.
 */
fw_status fw_conn_read_msg(fw_conn *c, fw_msg *m);
/* As fw_conn_read_msg without waiting: FW_AGAIN with *wants when no whole
 * message is buffered and the socket has nothing more now. */
fw_status fw_conn_read_msg_nb(fw_conn *c, fw_msg *m, unsigned *wants);
/* FW_OK when a message can be read without blocking, or bytes arrive
 * within ms; FW_ERR_TIMEOUT otherwise (the connection is left as it is). */
fw_status fw_conn_wait_message(fw_conn *c, int ms);
/* The largest DataRow accepted under max_row_bytes (with its framing);
 * every other message type is capped at FW_MSG_FLOOR. */
uint32_t fw_conn_msg_cap(const fw_conn *c);

/* ------------------------------------------------------------ cancel.c */

/* Sends a CancelRequest for the connection's backend on a new socket and
 * waits for the server to close it (so the signal has been sent). */
fw_status fw_cancel_send(const struct sockaddr_storage *addr, socklen_t addrlen, int32_t pid,
                         int32_t key, int timeout_ms, fw_error *err);

/* ------------------------------------------------------------ stream.c */

typedef enum fw_stream_state {
    FW_ST_DESCRIBE,   /* Parse/Bind/Describe queued or sent; RowDescription awaited */
    FW_ST_ROWS,       /* Execute sent; rows arriving */
    FW_ST_SUSPENDED,  /* PortalSuspended seen; next Execute not sent yet */
    FW_ST_DRAIN,      /* Sync queued; reading up to ReadyForQuery (drain_kind says why) */
    FW_ST_DONE,       /* ReadyForQuery seen after CommandComplete */
    FW_ST_FAILED      /* ended with an error (kept in stream->result) */
} fw_stream_state;

typedef enum fw_drain_kind {
    FW_DRAIN_END,     /* CommandComplete: FW_DONE unless an error comes (COMMIT failed) */
    FW_DRAIN_ERROR,   /* an error ended the stream (kept in stream->pending) */
    FW_DRAIN_CANCEL   /* the caller cancelled: FW_ERR_CANCELLED */
} fw_drain_kind;

struct fw_stream {
    fw_conn *conn;
    fw_stream_state state;
    fw_status result;       /* FW_DONE or the error that ended it */
    int32_t chunk;
    int inflight;           /* Executes sent whose chunk has not ended yet */
    int sync_sent;          /* Sync is on its way: ReadyForQuery will come */
    fw_drain_kind drain_kind;
    int cancelling;         /* draining a query that may still run: repeat the CancelRequest */
    int64_t drain_deadline; /* a cancelled drain's end for the blocking drivers; -1 none */
    int setup_sent;         /* the per-stream setup statement precedes the query */
    int setup_done;         /* … and its CommandComplete came */
    int efd_unknown;        /* … and it reports the server's extra_float_digits */
    fw_error pending;       /* FW_DRAIN_ERROR: reported once drained */
    fw_error first;         /* the first error seen while draining */
    int extension_hint;     /* fw_stream_open: an SQL error may need the extension hint */
    atomic_int cancel_requested;
    uint64_t rows;          /* handed to the caller */
    uint64_t bytes;         /* of row data received, dropped rows included */
    uint64_t dropped;       /* rows refused by a client-side predicate */
    int any_column;         /* fw_stream_open_sql_text: one column of any name and type */
    uint32_t type_oid;      /* of the result column */
    int64_t started_us, first_row_us, finished_us;  /* fw_now_us(); 0 = not yet */
    fw_predicate_entry predicates[FW_MAX_PREDICATES];  /* copied from the query */
    int npredicates;
    struct fw_par *par;     /* a parallel stream (parallel.c): its parts */
};

/* Microseconds on CLOCK_MONOTONIC (stream statistics). */
int64_t fw_now_us(void);

/* Starts a stream (fw_stream_open_sql with predicates and the column check). */
fw_status fw_stream_start_internal(fw_conn *conn, const char *sql, int nparams,
                                   const char *const *params, size_t chunk_size, int any_column,
                                   const fw_predicate_entry *predicates, int npredicates,
                                   fw_stream **out);

/* Drives a stream started while its connection was non-blocking (the
 * messages only queued) until its RowDescription is checked, without
 * waiting: FW_OK (its Executes queued, perhaps not all sent: flush them),
 * FW_AGAIN (wait for fw_conn_wants), or the stream's error (on its
 * connection, which is idle again unless broken). */
fw_status fw_stream_poll_described(fw_stream *s);

/* ---------------------------------------------------------- parallel.c */

/* A copy of ci that reaches the same server as c did through host h (its
 * address pinned, target_session_attrs=any); NULL when out of memory. */
fw_conninfo *fw_par_pin_conninfo(const fw_conninfo *ci, const fw_ci_host *h, const fw_conn *c);
/* fw_stream_open of a query with fw_query_set_parallel > 1. */
fw_status fw_par_open(fw_conn *conn, fw_query *q, fw_stream **out);
fw_status fw_par_next(fw_stream *s, const char **json, size_t *len);
fw_status fw_par_try_next(fw_stream *s, const char **json, size_t *len);
fw_status fw_par_cancel(fw_stream *s);
fw_status fw_par_close(fw_stream *s);
/* The caller's connection is being freed under an open parallel stream. */
void fw_par_detach(fw_stream *s);
/* What the unordered multiplexer did (tests, benchmarks): tries of a part
 * (fw_stream_try_next), those that found nothing (FW_AGAIN), poll(2) calls,
 * parts poll reported ready, and reads tried without a report because the
 * part's last read filled its buffer. */
/* Wake-ups of an unordered parallel stream are at least FW_PAR_NAP_US apart:
 * when every part has been emptied sooner after the last wake-up, the reader
 * sleeps out the rest before it polls, so that each wake-up takes a batch
 * instead of the few rows a part has just sent (each wake-up costs the
 * reader and the waking server a context switch).  Half a millisecond of a
 * part's output (tens of kB) fits a socket buffer, so no server waits on
 * it; a server waits for the next Execute only after two chunks, so streams
 * with chunks under FW_PAR_NAP_MIN_CHUNK rows are not made to wait. */
#define FW_PAR_NAP_US 500
#define FW_PAR_NAP_MIN_CHUNK 512

typedef struct fw_par_counters {
    uint64_t tries, tries_again, polls, ready, tries_filled, naps;
} fw_par_counters;
void fw_par_get_counters(const fw_stream *s, fw_par_counters *out);

#endif /* FW_INTERNAL_H */
