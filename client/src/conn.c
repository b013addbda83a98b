/*
 * conn.c — the connection's life: connecting as a state machine (host and
 * address iteration, target_session_attrs, SSLRequest and TLS per sslmode,
 * the startup packet, the authentication phase, the messages up to
 * ReadyForQuery), the output buffer and its flushing, Terminate and free,
 * and the connection accessors.  Each AuthenticationRequest is answered
 * in auth.c; messages are read by msgread.c.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "auth.h"
#include "crypto.h"
#include "internal.h"

/* ------------------------------------------------------------ helpers */

static void
default_notice(void *arg, const char *severity, const char *sqlstate, const char *message)
{
    (void)arg;
    (void)sqlstate;
    fprintf(stderr, "%s:  %s\n", severity ? severity : "NOTICE", message ? message : "");
}

int64_t
fw_conn_deadline(const fw_conn *c)
{
    if (c->startup_deadline >= 0)
        return c->startup_deadline;
    return c->timeout_ms > 0 ? fw_now_ms() + c->timeout_ms : -1;
}

static void
clear_params(fw_conn *c)
{
    for (size_t i = 0; i < c->nparams; i++) {
        free(c->params[i].name);
        free(c->params[i].value);
    }
    free(c->params);
    c->params = NULL;
    c->nparams = 0;
}

void
fw_conn_set_param(fw_conn *c, const char *name, const char *value)
{
    fw_param *np;
    char *v;

    for (size_t i = 0; i < c->nparams; i++) {
        if (strcmp(c->params[i].name, name) == 0) {
            if ((v = strdup(value)) != NULL) {
                free(c->params[i].value);
                c->params[i].value = v;
            }
            return;
        }
    }
    /* PostgreSQL reports about fifteen; a server that invents names
     * without end must not make the list grow without end. */
    if (c->nparams >= FW_MAX_PARAMS)
        return;
    np = realloc(c->params, (c->nparams + 1) * sizeof *np);
    if (!np)
        return;   /* a missing parameter is not worth failing the connection */
    c->params = np;
    np[c->nparams].name = strdup(name);
    np[c->nparams].value = strdup(value);
    if (!np[c->nparams].name || !np[c->nparams].value) {
        free(np[c->nparams].name);
        free(np[c->nparams].value);
        return;
    }
    c->nparams++;
}

/* Empties the output buffer (wiping a secret), giving big buffers back. */
static void
reset_wbuf(fw_conn *c)
{
    if (c->wbuf_secret && c->wbuf.data)
        fw_secure_zero(c->wbuf.data, c->wbuf.len);
    c->wbuf_secret = 0;
    c->wbuf.len = 0;
    c->wpos = 0;
    if (c->wbuf.cap > 4 * FW_RBUF_INITIAL) {
        /* a query with big parameters: give the memory back */
        fw_buf_free(&c->wbuf);
        fw_buf_init(&c->wbuf, 0);
    }
}

void
fw_conn_break(fw_conn *c)
{
    fw_net_close(&c->sock);
    c->state = FW_CONN_BAD;
    c->rbuf.len = 0;
    c->rpos = 0;
    c->skip = 0;
    reset_wbuf(c);
}

int
fw_conn_output_pending(const fw_conn *c)
{
    return c->wpos < c->wbuf.len;
}

fw_status
fw_conn_flush_nb(fw_conn *c, unsigned *wants)
{
    *wants = 0;
    if (c->wpos >= c->wbuf.len) {
        reset_wbuf(c);
        return FW_OK;
    }
    if (c->sock.fd < 0) {
        fw_error_set(&c->err, FW_ERR_IO, "connection is closed");
        reset_wbuf(c);
        return FW_ERR_IO;
    }
    while (c->wpos < c->wbuf.len) {
        size_t put;
        fw_status st = fw_net_write_nb(&c->sock, c->wbuf.data + c->wpos, c->wbuf.len - c->wpos,
                                       &put, wants, &c->err);

        if (st == FW_AGAIN)
            return FW_AGAIN;
        if (st != FW_OK) {
            fw_conn_break(c);
            return st;
        }
        c->wpos += put;
    }
    reset_wbuf(c);
    return FW_OK;
}

fw_status
fw_conn_wait_wants(fw_conn *c, int64_t deadline)
{
    if (c->sock.fd < 0)
        return FW_OK;   /* the next call reports it */
    return fw_net_wait_wants(c->sock.fd, c->wants, deadline, &c->err);
}

fw_status
fw_conn_flush(fw_conn *c)
{
    for (;;) {
        unsigned wants;
        fw_status st = fw_conn_flush_nb(c, &wants);

        if (st != FW_AGAIN)
            return st;
        c->wants = wants;
        st = fw_conn_wait_wants(c, fw_conn_deadline(c));
        c->wants = 0;
        if (st != FW_OK) {
            fw_conn_break(c);
            return st;
        }
    }
}

void
fw_conn_error_from_msg(fw_conn *c, const fw_msg *m, fw_status cls)
{
    fw_pg_fields f;

    if (fw_parse_fields(m, &f) != FW_OK) {
        fw_error_set(&c->err, FW_ERR_PROTOCOL, "malformed ErrorResponse from server");
        return;
    }
    fw_error_set_fields(&c->err, cls, &f);
}

/* ------------------------------------------------------------ startup */

/*
 * The connection state machine (fw_connect_poll; fw_connect drives it with
 * poll(2)).  Hosts in order (twice for prefer-standby), each host's
 * addresses in order, each address once or twice (sslmode's fallbacks);
 * one attempt runs through these phases, each of which returns FW_AGAIN
 * when the socket is not ready:
 *
 *   CX_ATTEMPT     socket(), connect() started       -> CX_CONNECTING / CX_CONNECTED
 *   CX_CONNECTING  connect() completing (writable)   -> CX_CONNECTED
 *   CX_CONNECTED   SSLRequest queued (use_tls)       -> CX_SSL_SEND, else startup -> CX_STARTUP
 *   CX_SSL_SEND    SSLRequest written                -> CX_SSL_REPLY
 *   CX_SSL_REPLY   one byte: accepted -> CX_TLS, refused -> startup packet -> CX_STARTUP
 *   CX_TLS         handshake (may want read or write) -> startup packet -> CX_STARTUP
 *   CX_STARTUP     startup packet written            -> CX_AUTH
 *   CX_AUTH        authentication requests answered  -> AuthenticationOk -> CX_READY
 *   CX_READY       BackendKeyData, ParameterStatus   -> ReadyForQuery: done
 */
typedef enum cx_phase {
    CX_NEXT_HOST, CX_NEXT_ADDR, CX_ATTEMPT, CX_CONNECTING, CX_CONNECTED, CX_SSL_SEND,
    CX_SSL_REPLY, CX_TLS, CX_STARTUP, CX_AUTH, CX_READY
} cx_phase;

typedef struct attempt {
    const fw_conninfo *ci;
    const fw_ci_host *host;
    const char *target;   /* "at \"host\", port N" / "on socket \"path\"" for messages */
    int use_tls;
    int tls_on;           /* TLS was established */
} attempt;

struct fw_connecting {
    fw_conninfo *ci;          /* owned copy */
    cx_phase phase;
    int pass, passes;         /* prefer-standby: a second pass over the hosts */
    size_t host;              /* the current host */
    struct addrinfo *res, *ai; /* the current host's addresses; ai: the current one */
    struct sockaddr_un sun;   /* the current host, when a socket directory */
    int unix_left;            /* the socket address is still to be tried */
    const struct sockaddr *sa;
    socklen_t salen;
    int second_try;           /* this address is being retried (sslmode allow/prefer) */
    char target[600];
    attempt a;
    fw_auth auth;             /* this attempt's authentication exchange (auth.c) */
};

static const char *
ci_val(const fw_conninfo *ci, fw_ci_key k)
{
    const char *v = ci->values[k];

    return v && *v ? v : NULL;
}

/* Prefixes the current error message with the server it concerns. */
static void
prefix_error(fw_conn *c, const char *target)
{
    char *old = c->err.message;
    size_t n;
    char *msg;

    if (!old || c->err.sqlstate)
        return;   /* server messages stay as the server wrote them */
    n = strlen(old) + strlen(target) + 64;
    msg = malloc(n);
    if (!msg)
        return;
    snprintf(msg, n, "connection to server %s failed: %s", target, old);
    free(old);
    c->err.message = msg;
}

static fw_status
fail(fw_conn *c, fw_status cls, const char *msg)
{
    fw_error_set(&c->err, cls, "%s", msg);
    return cls;
}

static fw_status
queue_startup(fw_conn *c, const fw_conninfo *ci)
{
    const char *params[32];
    int n = 0;
    const char *user = ci_val(ci, FW_CI_USER);
    const char *db = ci_val(ci, FW_CI_DBNAME);
    const char *app = ci_val(ci, FW_CI_APPLICATION_NAME);
    const char *opts = ci_val(ci, FW_CI_OPTIONS);
    fw_status st;

    if (!user)
        return fail(c, FW_ERR_CONFIG, "no user name given and none could be determined");
    if (!app)
        app = ci_val(ci, FW_CI_FALLBACK_APPLICATION_NAME);
    params[n++] = "user";
    params[n++] = user;
    params[n++] = "database";
    params[n++] = db ? db : user;
    if (app) {
        params[n++] = "application_name";
        params[n++] = app;
    }
    if (opts) {
        params[n++] = "options";
        params[n++] = opts;
    }
    /* The deterministic rendering settings every session starts with. */
    params[n++] = "client_encoding";
    params[n++] = "UTF8";
    params[n++] = "DateStyle";
    params[n++] = "ISO";
    params[n++] = "TimeZone";
    params[n++] = "UTC";
    /* Only parameters a stock PgBouncer accepts (it refuses the session
     * with 08P01 for any other): extra_float_digits is set per stream
     * instead (stream.c, encode_stream_setup). */
    params[n] = NULL;
    if ((st = fw_enc_startup(&c->wbuf, params)) != FW_OK)
        return fail(c, st, "out of memory");
    return FW_OK;
}

static int
error_class_for_startup(const fw_msg *m)
{
    fw_pg_fields f;

    if (fw_parse_fields(m, &f) == FW_OK && f.sqlstate && strncmp(f.sqlstate, "28", 2) == 0)
        return FW_ERR_AUTH;
    return FW_ERR_SQL;
}

static fw_status
check_negotiate(fw_conn *c, const fw_msg *m)
{
    int32_t minor, nopts;

    if (fw_parse_negotiate(m, &minor, &nopts) != FW_OK)
        return fail(c, FW_ERR_PROTOCOL, "malformed NegotiateProtocolVersion message");
    /* We ask for 3.0 and send no _pq_ options: nothing may be refused. */
    if (minor < 0 || nopts > 0)
        return fail(c, FW_ERR_PROTOCOL,
                    "server does not support protocol version 3.0 as this client uses it");
    return FW_OK;
}

/*
 * One message of the authentication exchange: the server's error and its
 * protocol negotiation are the startup's; the requests are auth.c's.
 * FW_OK: go on (a reply may be queued; x->phase is CX_READY after
 * AuthenticationOk); else the error.
 */
static fw_status
auth_phase_message(fw_conn *c, struct fw_connecting *x, const fw_msg *m)
{
    int done = 0;
    fw_status st;

    if (m->type == FW_BE_ERROR_RESPONSE) {
        fw_conn_error_from_msg(c, m, error_class_for_startup(m));
        return c->err.cls;
    }
    if (m->type == FW_BE_NEGOTIATE_PROTOCOL_VERSION)
        return check_negotiate(c, m);
    st = fw_auth_message(c, &x->auth, m, &done);
    if (st == FW_OK && done)
        x->phase = CX_READY;
    return st;
}

/* One message after AuthenticationOk: FW_OK (*ready once ReadyForQuery
 * came), or the error. */
static fw_status
ready_message(fw_conn *c, const fw_msg *m, int *ready)
{
    *ready = 0;
    switch (m->type) {
    case FW_BE_BACKEND_KEY_DATA:
        if (fw_parse_backend_key(m, &c->be_pid, &c->be_key) != FW_OK)
            return fail(c, FW_ERR_PROTOCOL, "malformed BackendKeyData message");
        return FW_OK;
    case FW_BE_NEGOTIATE_PROTOCOL_VERSION:
        return check_negotiate(c, m);
    case FW_BE_ERROR_RESPONSE:
        fw_conn_error_from_msg(c, m, error_class_for_startup(m));
        return c->err.cls;
    case FW_BE_READY_FOR_QUERY:
        if (fw_parse_ready(m, &c->tx_status) != FW_OK)
            return fail(c, FW_ERR_PROTOCOL, "malformed ReadyForQuery message");
        *ready = 1;
        return FW_OK;
    default:
        fw_error_set(&c->err, FW_ERR_PROTOCOL, "unexpected message type 0x%02x during startup",
                     (unsigned char)m->type);
        return FW_ERR_PROTOCOL;
    }
}

static void
reset_session(fw_conn *c)
{
    fw_conn_break(c);
    clear_params(c);
    c->be_pid = c->be_key = 0;
    c->tx_status = 0;
    c->efd_state = FW_EFD_UNKNOWN;   /* another server: ask again */
}

/* The SSL answer byte arrived: FW_SSL_REPLY_ACCEPT starts the handshake. */
static fw_status
ssl_reply(fw_conn *c, struct fw_connecting *x, uint8_t byte)
{
    const attempt *a = &x->a;
    uint8_t extra;
    ssize_t n;
    fw_tls_config cfg;
    const char *sni;
    fw_status st;

    if (byte == FW_SSL_REPLY_REFUSE) {
        if (a->ci->sslmode >= FW_SSL_REQUIRE)
            return fail(c, FW_ERR_TLS, "server does not support SSL, but SSL was required");
        if ((st = queue_startup(c, a->ci)) != FW_OK)
            return st;
        x->phase = CX_STARTUP;
        return FW_OK;
    }
    if (byte == FW_BE_ERROR_RESPONSE)
        return fail(c, FW_ERR_PROTOCOL, "server sent an error response during SSL exchange");
    if (byte != FW_SSL_REPLY_ACCEPT)
        return fail(c, FW_ERR_PROTOCOL, "received invalid response to SSL negotiation");
    /* Exactly one byte: anything after it was sent before the handshake
     * and must not be taken as coming through TLS (CVE-2021-23222). */
    n = recv(c->sock.fd, &extra, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0)
        return fail(c, FW_ERR_PROTOCOL, "received unencrypted data after SSL response");
    memset(&cfg, 0, sizeof cfg);
    cfg.mode = a->ci->sslmode;
    cfg.rootcert = ci_val(a->ci, FW_CI_SSLROOTCERT);
    cfg.cert = ci_val(a->ci, FW_CI_SSLCERT);
    cfg.key = ci_val(a->ci, FW_CI_SSLKEY);
    cfg.crl = ci_val(a->ci, FW_CI_SSLCRL);
    cfg.host = a->host->host && *a->host->host ? a->host->host : a->host->hostaddr;
    sni = ci_val(a->ci, FW_CI_SSLSNI);
    cfg.sni = !sni || strcmp(sni, "0") != 0;
    st = fw_tls_new(c->sock.fd, &cfg, &c->sock.tls, &c->err);
    if (st != FW_OK)
        return st;
    x->phase = CX_TLS;
    return FW_OK;
}

/*
 * Runs the current attempt as far as it goes without waiting: FW_AGAIN
 * (c->wants set), FW_OK (ReadyForQuery: the session is up), or the error
 * that ended the attempt.
 */
static fw_status
attempt_step(fw_conn *c, struct fw_connecting *x)
{
    fw_status st;
    unsigned wants = 0;
    fw_msg m;

    for (;;) {
        if (x->phase != CX_ATTEMPT && c->startup_deadline >= 0 &&
            fw_now_ms() >= c->startup_deadline)
            return fail(c, FW_ERR_TIMEOUT, "timeout expired");
        switch (x->phase) {
        case CX_ATTEMPT: {
            int timeout = x->ci->connect_timeout;

            reset_session(c);
            fw_auth_begin(&x->auth, x->ci, x->a.host);
            x->a.tls_on = 0;
            if (timeout > 0 && timeout < 2)
                timeout = 2;   /* libpq's floor */
            c->startup_deadline = timeout > 0 ? fw_now_ms() + (int64_t)timeout * 1000 : -1;
            st = fw_net_connect_start(&c->sock, x->sa, x->salen, x->ci, &c->err);
            if (st == FW_AGAIN) {
                x->phase = CX_CONNECTING;
                c->wants = FW_WANT_WRITE;
                return FW_AGAIN;
            }
            if (st != FW_OK)
                return st;
            x->phase = CX_CONNECTED;
            break;
        }
        case CX_CONNECTING:
            st = fw_net_connect_check(&c->sock, &c->err);
            if (st == FW_AGAIN) {
                c->wants = FW_WANT_WRITE;
                return FW_AGAIN;
            }
            if (st != FW_OK)
                return st;
            x->phase = CX_CONNECTED;
            break;
        case CX_CONNECTED:
            if (x->a.use_tls) {
                if ((st = fw_enc_ssl_request(&c->wbuf)) != FW_OK)
                    return fail(c, st, "out of memory");
                x->phase = CX_SSL_SEND;
            } else {
                if ((st = queue_startup(c, x->ci)) != FW_OK)
                    return st;
                x->phase = CX_STARTUP;
            }
            break;
        case CX_SSL_SEND:
            if ((st = fw_conn_flush_nb(c, &wants)) != FW_OK) {
                c->wants = wants;
                return st;
            }
            x->phase = CX_SSL_REPLY;
            break;
        case CX_SSL_REPLY: {
            uint8_t byte;
            ssize_t n = recv(c->sock.fd, &byte, 1, 0);

            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                c->wants = FW_WANT_READ;
                return FW_AGAIN;
            }
            if (n < 0) {
                fw_error_set(&c->err, FW_ERR_IO, "could not receive data from server: %s",
                             strerror(errno));
                return FW_ERR_IO;
            }
            if (n == 0)
                return fail(c, FW_ERR_IO, "server closed the connection unexpectedly");
            if ((st = ssl_reply(c, x, byte)) != FW_OK)
                return st;
            break;
        }
        case CX_TLS: {
            int rc = fw_tls_handshake(c->sock.tls, &c->err);

            if (rc == FW_TLS_WANT_READ || rc == FW_TLS_WANT_WRITE) {
                c->wants = rc == FW_TLS_WANT_READ ? FW_WANT_READ : FW_WANT_WRITE;
                return FW_AGAIN;
            }
            if (rc != 0)
                return c->err.cls != FW_OK ? c->err.cls : FW_ERR_TLS;
            x->a.tls_on = 1;
            if ((st = queue_startup(c, x->ci)) != FW_OK)
                return st;
            x->phase = CX_STARTUP;
            break;
        }
        case CX_STARTUP:
        case CX_AUTH:
        case CX_READY: {
            int ready = 0;

            /* The server answers only what it has read: write first. */
            if ((st = fw_conn_flush_nb(c, &wants)) != FW_OK) {
                c->wants = wants;
                return st;
            }
            if (x->phase == CX_STARTUP)
                x->phase = CX_AUTH;
            st = fw_conn_read_msg_nb(c, &m, &wants);
            if (st == FW_AGAIN) {
                c->wants = wants;
                return FW_AGAIN;
            }
            if (st != FW_OK)
                return st;
            if (x->phase == CX_AUTH) {
                if ((st = auth_phase_message(c, x, &m)) != FW_OK)
                    return st;
                break;
            }
            if ((st = ready_message(c, &m, &ready)) != FW_OK)
                return st;
            if (ready)
                return FW_OK;
            break;
        }
        default:
            return fail(c, FW_ERR_USAGE, "connection state machine out of step");
        }
    }
}

static const char *
param_or(const fw_conn *c, const char *name)
{
    const char *v = fw_conn_parameter(c, name);

    return v ? v : "";
}

/* target_session_attrs: 1 when the server fits, else 0 with err set. */
static int
session_fits(fw_conn *c, fw_target_attrs want, int standby_pass)
{
    const char *ro = fw_conn_parameter(c, "default_transaction_read_only");
    const char *hs = fw_conn_parameter(c, "in_hot_standby");
    int read_only, standby;

    if (want == FW_TARGET_ANY || (want == FW_TARGET_PREFER_STANDBY && !standby_pass))
        return 1;
    if (!hs || (!ro && (want == FW_TARGET_READ_WRITE || want == FW_TARGET_READ_ONLY))) {
        fw_error_set(&c->err, FW_ERR_CONFIG,
                     "server does not report in_hot_standby (PostgreSQL 14 or later is needed "
                     "for target_session_attrs)");
        return 0;
    }
    standby = strcmp(param_or(c, "in_hot_standby"), "on") == 0;
    read_only = standby || strcmp(param_or(c, "default_transaction_read_only"), "on") == 0;
    switch (want) {
    case FW_TARGET_READ_WRITE:
        if (!read_only)
            return 1;
        fw_error_set(&c->err, FW_ERR_IO, "session is read-only");
        return 0;
    case FW_TARGET_READ_ONLY:
        if (read_only)
            return 1;
        fw_error_set(&c->err, FW_ERR_IO, "session is not read-only");
        return 0;
    case FW_TARGET_PRIMARY:
        if (!standby)
            return 1;
        fw_error_set(&c->err, FW_ERR_IO, "server is in hot standby mode");
        return 0;
    default: /* standby, prefer-standby's first pass */
        if (standby)
            return 1;
        fw_error_set(&c->err, FW_ERR_IO, "server is not in hot standby mode");
        return 0;
    }
}

static void
connecting_free(fw_conn *c)
{
    struct fw_connecting *x = c->cx;

    if (!x)
        return;
    fw_auth_end(&x->auth);
    if (x->res)
        freeaddrinfo(x->res);
    fw_conninfo_free(x->ci);
    free(x);
    c->cx = NULL;
    c->startup_deadline = -1;
}

/* Sets up the current host's addresses: FW_OK (x->phase = CX_NEXT_ADDR) or
 * an error for this host. */
static fw_status
host_begin(fw_conn *c, struct fw_connecting *x)
{
    const fw_ci_host *h = &x->ci->hosts[x->host];
    char port[16];

    if (x->res) {
        freeaddrinfo(x->res);
        x->res = NULL;
    }
    x->ai = NULL;
    x->unix_left = 0;
    x->a.host = h;
    snprintf(port, sizeof port, "%d", h->port);
    if (h->is_unix) {
        int n;

        memset(&x->sun, 0, sizeof x->sun);
        x->sun.sun_family = AF_UNIX;
        n = snprintf(x->sun.sun_path, sizeof x->sun.sun_path, "%s/.s.PGSQL.%d", h->host, h->port);
        if (n < 0 || (size_t)n >= sizeof x->sun.sun_path) {
            fw_error_set(&c->err, FW_ERR_CONFIG, "Unix-domain socket path \"%s/.s.PGSQL.%d\" is "
                         "too long", h->host, h->port);
            return FW_ERR_CONFIG;
        }
        x->unix_left = 1;
    } else {
        struct addrinfo hints;
        const char *name = h->hostaddr && *h->hostaddr ? h->hostaddr : h->host;
        int rc;

        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        if (h->hostaddr && *h->hostaddr)
            hints.ai_flags = AI_NUMERICHOST;
        if (!name || !*name)
            name = "localhost";
        rc = getaddrinfo(name, port, &hints, &x->res);   /* may block (as libpq's) */
        if (rc != 0) {
            x->res = NULL;
            fw_error_set(&c->err, FW_ERR_IO, "could not translate host name \"%s\" to address: %s",
                         name, gai_strerror(rc));
            return FW_ERR_IO;
        }
        x->ai = x->res;
    }
    x->phase = CX_NEXT_ADDR;
    return FW_OK;
}

/* Moves to the next address of the current host: 1, or 0 when none is left. */
static int
next_address(struct fw_connecting *x)
{
    const fw_ci_host *h = x->a.host;
    fw_sslmode mode = x->ci->sslmode;

    if (h->is_unix) {
        if (!x->unix_left)
            return 0;
        x->unix_left = 0;
        x->sa = (const struct sockaddr *)&x->sun;
        x->salen = sizeof x->sun;
        snprintf(x->target, sizeof x->target, "on socket \"%s/.s.PGSQL.%d\"", h->host, h->port);
    } else {
        char ip[64] = "?";
        struct addrinfo *ai = x->ai;

        if (!ai)
            return 0;
        x->ai = ai->ai_next;
        x->sa = ai->ai_addr;
        x->salen = ai->ai_addrlen;
        (void)getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST);
        if (h->host && *h->host && strcmp(h->host, ip) != 0)
            snprintf(x->target, sizeof x->target, "at \"%s\" (%s), port %d", h->host, ip,
                     h->port);
        else
            snprintf(x->target, sizeof x->target, "at \"%s\", port %d", ip, h->port);
    }
    /* Never TLS over a Unix socket, as libpq; allow tries plain text first. */
    x->a.use_tls = !(x->sa->sa_family == AF_UNIX || mode == FW_SSL_DISABLE || mode == FW_SSL_ALLOW);
    x->second_try = 0;
    return 1;
}

/* sslmode's fallbacks (libpq's allow/prefer rules): 1 to retry the same
 * address with the other choice. */
static int
retry_other_tls(const struct fw_connecting *x, fw_status st)
{
    fw_sslmode mode = x->ci->sslmode;

    if (x->second_try || x->sa->sa_family == AF_UNIX)
        return 0;
    if (mode == FW_SSL_ALLOW)
        return st == FW_ERR_AUTH;
    /* Without TLS only when TLS was the trouble: after a plain-text
     * failure (the server refused TLS) a second try changes nothing but
     * the message, and costs the server another failed login. */
    return mode == FW_SSL_PREFER && (st == FW_ERR_TLS || (st == FW_ERR_AUTH && x->a.tls_on));
}

FW_API fw_status
fw_connect_poll(fw_conn *c)
{
    struct fw_connecting *x;
    fw_status st;

    if (!c)
        return FW_ERR_USAGE;
    c->wants = 0;
    x = c->cx;
    if (!x) {
        if (fw_conn_ok(c) || c->state == FW_CONN_BUSY)
            return FW_OK;
        if (c->err.cls != FW_OK)
            return c->err.cls;
        return fail(c, FW_ERR_USAGE, "the connection was not started with fw_connect_start");
    }
    for (;;) {
        switch (x->phase) {
        case CX_NEXT_HOST:
            if (x->host >= x->ci->nhosts) {
                if (++x->pass >= x->passes) {
                    connecting_free(c);
                    if (c->err.cls == FW_OK)
                        fw_error_set(&c->err, FW_ERR_IO, "could not connect to any host");
                    return c->err.cls;
                }
                x->host = 0;
            }
            if (host_begin(c, x) != FW_OK)
                x->host++;
            continue;
        case CX_NEXT_ADDR:
            if (!next_address(x)) {
                x->host++;
                x->phase = CX_NEXT_HOST;
                continue;
            }
            x->phase = CX_ATTEMPT;
            continue;
        default:
            break;
        }
        st = attempt_step(c, x);
        if (st == FW_AGAIN)
            return FW_AGAIN;
        if (st == FW_OK) {
            if (session_fits(c, x->ci->target, x->pass == 0)) {
                c->state = FW_CONN_IDLE;
                fw_error_clear(&c->err);
                c->password_needed = 0;
                /* For parallel streams' extra connections (NULL when out
                 * of memory: only those fail, with a clear error). */
                fw_conninfo_free(c->reconnect_ci);
                c->reconnect_ci = fw_par_pin_conninfo(x->ci, &x->ci->hosts[x->host], c);
                connecting_free(c);
                return FW_OK;
            }
            st = c->err.cls;
            prefix_error(c, x->target);
            reset_session(c);
            x->phase = CX_NEXT_ADDR;
            continue;
        }
        c->startup_deadline = -1;
        prefix_error(c, x->target);
        reset_session(c);
        if (retry_other_tls(x, st)) {
            x->a.use_tls = !x->a.use_tls;
            x->second_try = 1;
            x->phase = CX_ATTEMPT;
        } else {
            x->phase = CX_NEXT_ADDR;
        }
    }
}

/* --------------------------------------------------------------- public */

static fw_conn *
conn_new(void)
{
    fw_conn *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    c->sock.fd = -1;
    c->state = FW_CONN_BAD;
    c->max_row_bytes = FW_DEFAULT_MAX_ROW;
    c->startup_deadline = -1;
    c->err.cls = FW_OK;
    c->notice_fn = default_notice;
    fw_buf_init(&c->wbuf, 0);
    fw_buf_init(&c->rbuf, (size_t)fw_conn_msg_cap(c) + FW_RBUF_HEADROOM);
    if (fw_buf_reserve(&c->rbuf, FW_RBUF_INITIAL) != FW_OK) {
        free(c);
        return NULL;
    }
    return c;
}

FW_API fw_status
fw_connect_start_info(const fw_conninfo *ci, fw_conn **out)
{
    fw_conn *c;
    struct fw_connecting *x;

    if (!out)
        return FW_ERR_USAGE;
    *out = c = conn_new();
    if (!c)
        return FW_ERR_MEMORY;
    if (!ci) {
        fw_error_set(&c->err, FW_ERR_USAGE, "no connection parameters given");
        return FW_ERR_USAGE;
    }
    if (ci->error) {
        fw_error_set(&c->err, FW_ERR_CONFIG, "%s", ci->error);
        return FW_ERR_CONFIG;
    }
    if (ci->nhosts == 0) {
        fw_error_set(&c->err, FW_ERR_CONFIG, "no host to connect to");
        return FW_ERR_CONFIG;
    }
    if (ci->channel_binding == FW_CBIND_REQUIRE && ci->sslmode == FW_SSL_DISABLE) {
        fw_error_set(&c->err, FW_ERR_CONFIG,
                     "channel_binding=require cannot be used with sslmode=disable");
        return FW_ERR_CONFIG;
    }
    x = calloc(1, sizeof *x);
    if (!x || !(x->ci = fw_conninfo_dup(ci))) {
        free(x);
        fw_error_set(&c->err, FW_ERR_MEMORY, "out of memory");
        return FW_ERR_MEMORY;
    }
    x->phase = CX_NEXT_HOST;
    x->passes = ci->target == FW_TARGET_PREFER_STANDBY ? 2 : 1;
    x->a.ci = x->ci;
    x->a.target = x->target;
    c->cx = x;
    return FW_OK;
}

FW_API fw_status
fw_connect_start(const char *conninfo, fw_conn **out)
{
    fw_conninfo *ci = NULL;
    fw_status st;

    if (!out)
        return FW_ERR_USAGE;
    *out = NULL;
    st = fw_conninfo_parse(conninfo ? conninfo : "", 0, &ci);
    if (!ci)
        return FW_ERR_MEMORY;
    if (st != FW_OK) {
        fw_conn *c = conn_new();

        *out = c;
        if (!c) {
            fw_conninfo_free(ci);
            return FW_ERR_MEMORY;
        }
        fw_error_set(&c->err, st, "%s",
                     fw_conninfo_error(ci) ? fw_conninfo_error(ci) : "invalid connection string");
        fw_conninfo_free(ci);
        return st;
    }
    st = fw_connect_start_info(ci, out);
    fw_conninfo_free(ci);
    return st;
}

/* The blocking connect: the same state machine, waited on with poll(2);
 * a wait that reaches connect_timeout lets fw_connect_poll fail the attempt. */
static fw_status
connect_wait(fw_conn *c, fw_status st)
{
    while (st == FW_AGAIN) {
        fw_status w = fw_conn_wait_wants(c, c->startup_deadline);

        if (w != FW_OK && w != FW_ERR_TIMEOUT) {
            connecting_free(c);
            reset_session(c);
            return w;
        }
        st = fw_connect_poll(c);
    }
    return st;
}

FW_API fw_status
fw_connect_info(const fw_conninfo *ci, fw_conn **out)
{
    fw_status st = fw_connect_start_info(ci, out);

    if (st != FW_OK)
        return st;
    return connect_wait(*out, fw_connect_poll(*out));
}

FW_API fw_status
fw_connect(const char *conninfo, fw_conn **out)
{
    fw_status st = fw_connect_start(conninfo, out);

    if (st != FW_OK)
        return st;
    return connect_wait(*out, fw_connect_poll(*out));
}

FW_API void
fw_conn_free(fw_conn *conn)
{
    if (!conn)
        return;
    if (conn->stream) {
        if (conn->stream->par)
            fw_par_detach(conn->stream);
        conn->stream->conn = NULL;   /* the stream outlives nothing; its calls fail cleanly */
    }
    connecting_free(conn);
    /* Terminate unless a message is half sent (the server would read it
     * as the rest of that one). */
    if (conn->sock.fd >= 0 && conn->state != FW_CONN_BAD && conn->wpos == 0 &&
        conn->sock.tls_wlen == 0) {
        reset_wbuf(conn);
        conn->timeout_ms = conn->timeout_ms > 0 && conn->timeout_ms < 1000 ? conn->timeout_ms : 1000;
        if (fw_enc_terminate(&conn->wbuf) == FW_OK)
            (void)fw_net_write_all(&conn->sock, conn->wbuf.data, conn->wbuf.len,
                                   fw_conn_deadline(conn), &conn->err);
    }
    reset_wbuf(conn);
    fw_net_close(&conn->sock);
    fw_buf_free(&conn->wbuf);
    fw_buf_free(&conn->rbuf);
    clear_params(conn);
    fw_error_clear(&conn->err);
    fw_conninfo_free(conn->reconnect_ci);
    free(conn);
}

FW_API int
fw_conn_ok(const fw_conn *conn)
{
    return conn && conn->state == FW_CONN_IDLE && conn->sock.fd >= 0;
}

FW_API const char *
fw_conn_parameter(const fw_conn *conn, const char *name)
{
    if (!conn || !name)
        return NULL;
    for (size_t i = 0; i < conn->nparams; i++)
        if (strcmp(conn->params[i].name, name) == 0)
            return conn->params[i].value;
    return NULL;
}

FW_API int
fw_conn_backend_pid(const fw_conn *conn)
{
    return conn ? conn->be_pid : 0;
}

FW_API int
fw_conn_tls(const fw_conn *conn)
{
    return conn && conn->sock.tls != NULL;
}

FW_API void
fw_conn_set_notice_callback(fw_conn *conn, fw_notice_fn fn, void *arg)
{
    if (!conn)
        return;
    conn->notice_fn = fn ? fn : default_notice;
    conn->notice_arg = fn ? arg : NULL;
}

FW_API void
fw_conn_set_max_row_bytes(fw_conn *conn, size_t max_row_bytes)
{
    if (!conn)
        return;
    if (max_row_bytes == 0 || max_row_bytes > FW_MSG_DEFAULT_MAX)
        max_row_bytes = FW_MSG_DEFAULT_MAX;
    conn->max_row_bytes = max_row_bytes;
    conn->rbuf.limit = (size_t)fw_conn_msg_cap(conn) + FW_RBUF_HEADROOM;
    if (conn->rbuf.limit < conn->rbuf.cap)
        conn->rbuf.limit = conn->rbuf.cap;   /* never below what is already allocated */
}

FW_API void
fw_conn_set_timeout(fw_conn *conn, int timeout_ms)
{
    if (conn)
        conn->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

FW_API int
fw_conn_socket(const fw_conn *conn)
{
    return conn ? conn->sock.fd : -1;
}

FW_API unsigned
fw_conn_wants(const fw_conn *conn)
{
    return conn ? conn->wants : 0;
}

FW_API int
fw_conn_timeout_ms(const fw_conn *conn)
{
    if (!conn)
        return -1;
    if (conn->cx) {
        int64_t left;

        if (conn->startup_deadline < 0)
            return -1;
        left = conn->startup_deadline - fw_now_ms();
        return left <= 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
    }
    return conn->timeout_ms > 0 ? conn->timeout_ms : -1;
}

FW_API void
fw_conn_set_nonblocking(fw_conn *conn, int on)
{
    if (conn)
        conn->nonblocking = on != 0;
}

FW_API int
fw_conn_is_nonblocking(const fw_conn *conn)
{
    return conn ? conn->nonblocking : 0;
}

FW_API void
fw_conn_set_statement_timeout(fw_conn *conn, int timeout_ms)
{
    if (conn)
        conn->statement_timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}
