/*
 * conn.c — connecting: host and address iteration, target_session_attrs,
 * SSLRequest and TLS per sslmode, the startup packet, authentication
 * (trust, cleartext, MD5, SCRAM-SHA-256[-PLUS]) with channel_binding, and
 * the messages up to ReadyForQuery.  Also the connection's message reader
 * shared with stream.c, and the connection accessors.
 */
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "crypto.h"
#include "internal.h"
#include "scram.h"

#define FW_SCRAM_MECH "SCRAM-SHA-256"
#define FW_SCRAM_PLUS_MECH "SCRAM-SHA-256-PLUS"

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

static uint32_t
msg_cap(const fw_conn *c)
{
    size_t cap = c->max_row_bytes > FW_MSG_FLOOR ? c->max_row_bytes : FW_MSG_FLOOR;

    cap += 64;   /* DataRow overhead: column count and value length */
    return cap > FW_MSG_DEFAULT_MAX + 64u ? FW_MSG_DEFAULT_MAX + 64u : (uint32_t)cap;
}

/* The limit for a message of type `type`: only DataRow grows with
 * max_row_bytes; everything else PostgreSQL sends (errors, notices,
 * parameters, authentication, descriptions) stays under FW_MSG_FLOOR, so a
 * hostile server cannot make us buffer more than that of one. */
static uint32_t
msg_cap_for(const fw_conn *c, uint8_t type)
{
    return type == 'D' ? msg_cap(c) : FW_MSG_FLOOR;
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

static void
set_param(fw_conn *c, const char *name, const char *value)
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

void
fw_conn_break(fw_conn *c)
{
    fw_net_close(&c->sock);
    c->state = FW_CONN_BAD;
    c->rbuf.len = 0;
    c->rpos = 0;
    c->skip = 0;
    c->wbuf.len = 0;
}

fw_status
fw_conn_flush(fw_conn *c)
{
    fw_status st;

    if (c->sock.fd < 0) {
        fw_error_set(&c->err, FW_ERR_IO, "connection is closed");
        return FW_ERR_IO;
    }
    st = fw_net_write_all(&c->sock, c->wbuf.data, c->wbuf.len, fw_conn_deadline(c), &c->err);
    c->wbuf.len = 0;
    if (c->wbuf.cap > 4 * FW_RBUF_INITIAL) {
        /* a query with big parameters: give the memory back */
        fw_buf_free(&c->wbuf);
        fw_buf_init(&c->wbuf, 0);
    }
    if (st != FW_OK)
        fw_conn_break(c);
    return st;
}

/* Sends a message carrying a secret and wipes it from the buffer. */
static fw_status
flush_secret(fw_conn *c)
{
    size_t n = c->wbuf.len;
    fw_status st = fw_net_write_all(&c->sock, c->wbuf.data, n, fw_conn_deadline(c), &c->err);

    fw_secure_zero(c->wbuf.data, n);
    c->wbuf.len = 0;
    if (st != FW_OK)
        fw_conn_break(c);
    return st;
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

static void
deliver_notice(fw_conn *c, const fw_msg *m)
{
    fw_pg_fields f;

    if (fw_parse_fields(m, &f) != FW_OK)
        return;   /* a malformed notice is dropped, not fatal */
    if (c->notice_fn)
        c->notice_fn(c->notice_arg, f.severity, f.sqlstate, f.message);
}

fw_status
fw_conn_read_msg(fw_conn *c, fw_msg *m)
{
    for (;;) {
        size_t avail = c->rbuf.len - c->rpos;
        size_t consumed = 0;
        fw_frame_result fr;
        fw_status st;
        size_t got;
        uint32_t cap = avail > 0 ? msg_cap_for(c, c->rbuf.data[c->rpos]) : msg_cap(c);

        /* connect_timeout bounds the whole start-up: a server that keeps
         * talking (notices, parameters) never lets a read wait, so the
         * deadline is checked for every message, not only in poll(). */
        if (c->startup_deadline >= 0 && fw_now_ms() >= c->startup_deadline) {
            fw_error_set(&c->err, FW_ERR_TIMEOUT, "timeout expired");
            fw_conn_break(c);
            return FW_ERR_TIMEOUT;
        }

        if (c->skip > 0 && avail > 0) {
            size_t n = avail < c->skip ? avail : c->skip;

            c->rpos += n;
            c->skip -= n;
            continue;
        }
        if (c->skip == 0) {
            fr = fw_msg_frame(c->rbuf.data + c->rpos, avail, cap, m, &consumed);
            if (fr == FW_FRAME_OK) {
                c->rpos += consumed;
                switch (m->type) {
                case 'N':
                    deliver_notice(c, m);
                    continue;
                case 'S': {
                    const char *name, *value;

                    if (fw_parse_parameter_status(m, &name, &value) != FW_OK) {
                        fw_error_set(&c->err, FW_ERR_PROTOCOL, "malformed ParameterStatus message");
                        fw_conn_break(c);
                        return FW_ERR_PROTOCOL;
                    }
                    set_param(c, name, value);
                    continue;
                }
                case 'A': {
                    int32_t pid;
                    const char *channel, *payload;

                    /* No LISTEN API: notifications are checked and dropped. */
                    if (fw_parse_notification(m, &pid, &channel, &payload) != FW_OK) {
                        fw_error_set(&c->err, FW_ERR_PROTOCOL, "malformed NotificationResponse");
                        fw_conn_break(c);
                        return FW_ERR_PROTOCOL;
                    }
                    continue;
                }
                default:
                    return FW_OK;
                }
            }
            if (fr == FW_FRAME_MALFORMED) {
                fw_error_set(&c->err, FW_ERR_PROTOCOL,
                             "invalid message length from server (message type 0x%02x)",
                             c->rbuf.data[c->rpos]);
                fw_conn_break(c);
                return FW_ERR_PROTOCOL;
            }
            if (fr == FW_FRAME_TOO_LARGE) {
                /* Skip it without buffering: the connection stays in step. */
                uint32_t len = fw_read_u32(c->rbuf.data + c->rpos + 1);
                size_t total = (size_t)len + 1;
                char type = (char)c->rbuf.data[c->rpos];
                size_t n = avail < total ? avail : total;

                c->rpos += n;
                c->skip = total - n;
                if (type == 'N' || type == 'A') {
                    /* Asynchronous: the query goes on without it; the
                     * notice callback hears that something was dropped. */
                    char text[160];

                    snprintf(text, sizeof text,
                             "fraiseql_wire: a server %s of %u bytes was dropped (over the "
                             "limit of %u)", type == 'N' ? "notice" : "notification", len - 4,
                             cap);
                    if (c->notice_fn)
                        c->notice_fn(c->notice_arg, "WARNING", NULL, text);
                    continue;
                }
                if (type == 'D')
                    fw_error_set(&c->err, FW_ERR_MEMORY,
                                 "row of %u bytes exceeds max_row_bytes (%zu)", len - 4,
                                 c->max_row_bytes);
                else
                    fw_error_set(&c->err, FW_ERR_MEMORY,
                                 "server message of %u bytes (type '%c') exceeds the limit of %u",
                                 len - 4, type >= 32 && type < 127 ? type : '?', cap);
                return FW_ERR_MEMORY;
            }
        } else {
            consumed = 0;
        }
        /* Need more bytes: keep the partial message at the start of the buffer. */
        if (c->rpos > 0) {
            size_t left = c->rbuf.len - c->rpos;

            if (left > 0)
                memmove(c->rbuf.data, c->rbuf.data + c->rpos, left);
            c->rbuf.len = left;
            c->rpos = 0;
        }
        {
            /* Room for the rest of this message, and preferably a good read. */
            size_t need = consumed > c->rbuf.len ? consumed - c->rbuf.len : 1;
            size_t want = need < 8192 ? 8192 : need;

            if (c->rbuf.cap - c->rbuf.len < want && fw_buf_reserve(&c->rbuf, want) != FW_OK &&
                fw_buf_reserve(&c->rbuf, need) != FW_OK) {
                fw_error_set(&c->err, FW_ERR_MEMORY, "out of memory for the receive buffer");
                fw_conn_break(c);
                return FW_ERR_MEMORY;
            }
        }
        if (c->sock.fd < 0) {
            fw_error_set(&c->err, FW_ERR_IO, "connection is closed");
            return FW_ERR_IO;
        }
        st = fw_net_read_some(&c->sock, c->rbuf.data + c->rbuf.len, c->rbuf.cap - c->rbuf.len,
                              fw_conn_deadline(c), &got, &c->err);
        if (st != FW_OK) {
            fw_conn_break(c);
            return st;
        }
        c->rbuf.len += got;
    }
}

fw_status
fw_conn_wait_message(fw_conn *c, int ms)
{
    size_t avail = c->rbuf.len - c->rpos;
    fw_msg m;
    size_t consumed;
    fw_error e = {.cls = FW_OK};
    fw_status st;

    if (c->sock.fd < 0)
        return FW_OK;   /* the read reports it */
    if (avail > 0 &&
        (c->skip > 0 || fw_msg_frame(c->rbuf.data + c->rpos, avail,
                                     msg_cap_for(c, c->rbuf.data[c->rpos]), &m,
                                     &consumed) != FW_FRAME_NEED_MORE))
        return FW_OK;
    if (c->sock.tls && fw_tls_pending(c->sock.tls))
        return FW_OK;
    st = fw_net_wait(c->sock.fd, POLLIN, fw_now_ms() + ms, &e);
    fw_error_clear(&e);
    return st == FW_ERR_TIMEOUT ? FW_ERR_TIMEOUT : FW_OK;
}

/* ------------------------------------------------------------ startup */

typedef struct attempt {
    const fw_conninfo *ci;
    const fw_ci_host *host;
    const char *target;   /* "at \"host\", port N" / "on socket \"path\"" for messages */
    int use_tls;
    int tls_on;           /* set by try_address: TLS was established */
} attempt;

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
negotiate_tls(fw_conn *c, const attempt *a, int *tls_on)
{
    uint8_t byte, extra;
    size_t got;
    fw_status st;
    ssize_t n;
    fw_tls_config cfg;
    const char *sni;

    *tls_on = 0;
    if ((st = fw_enc_ssl_request(&c->wbuf)) != FW_OK)
        return fail(c, st, "out of memory");
    if ((st = fw_conn_flush(c)) != FW_OK)
        return st;
    /* Exactly one byte: anything after it was sent before the handshake
     * and must not be taken as coming through TLS (CVE-2021-23222). */
    st = fw_net_read_some(&c->sock, &byte, 1, fw_conn_deadline(c), &got, &c->err);
    if (st != FW_OK)
        return st;
    if (byte == 'N') {
        if (a->ci->sslmode >= FW_SSL_REQUIRE)
            return fail(c, FW_ERR_TLS, "server does not support SSL, but SSL was required");
        return FW_OK;
    }
    if (byte == 'E')
        return fail(c, FW_ERR_PROTOCOL, "server sent an error response during SSL exchange");
    if (byte != 'S')
        return fail(c, FW_ERR_PROTOCOL, "received invalid response to SSL negotiation");
    n = recv(c->sock.fd, &extra, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0)
        return fail(c, FW_ERR_PROTOCOL,
                    "received unencrypted data after SSL response");

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
    for (;;) {
        int rc = fw_tls_handshake(c->sock.tls, &c->err);

        if (rc == 0)
            break;
        if (rc == FW_TLS_WANT_READ || rc == FW_TLS_WANT_WRITE) {
            st = fw_net_wait(c->sock.fd, rc == FW_TLS_WANT_READ ? POLLIN : POLLOUT,
                             fw_conn_deadline(c), &c->err);
            if (st != FW_OK)
                return st;
            continue;
        }
        return c->err.cls != FW_OK ? c->err.cls : FW_ERR_TLS;
    }
    *tls_on = 1;
    return FW_OK;
}

static fw_status
send_startup(fw_conn *c, const fw_conninfo *ci)
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
    return fw_conn_flush(c);
}

/* The password: the conninfo's, else the password file's.  malloc'd. */
static char *
get_password(fw_conn *c, const attempt *a)
{
    const char *pw = ci_val(a->ci, FW_CI_PASSWORD);
    const char *host = a->host->host && *a->host->host ? a->host->host : a->host->hostaddr;
    const char *user = ci_val(a->ci, FW_CI_USER);
    const char *db = ci_val(a->ci, FW_CI_DBNAME);
    char *warning = NULL;
    char *found;

    if (pw)
        return strdup(pw);
    if (!host || (a->host->is_unix && (strcmp(host, "/var/run/postgresql") == 0 ||
                                       strcmp(host, "/run/postgresql") == 0 ||
                                       strcmp(host, "/tmp") == 0)))
        host = "localhost";
    found = fw_pgpass_lookup(ci_val(a->ci, FW_CI_PASSFILE), host, a->host->port, db ? db : user,
                             user, &warning);
    if (warning) {
        if (c->notice_fn)
            c->notice_fn(c->notice_arg, "WARNING", NULL, warning);
        free(warning);
    }
    return found;
}

static void
free_password(char *pw)
{
    if (pw) {
        fw_secure_zero(pw, strlen(pw));
        free(pw);
    }
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

static fw_status
authenticate(fw_conn *c, const attempt *a)
{
    fw_cbind_mode cb = a->ci->channel_binding;
    fw_scram *scram = NULL;
    int sasl_started = 0, sasl_done = 0, cbind_used = 0, password_sent = 0;
    char ebuf[256];
    fw_status st;
    fw_msg m;
    fw_auth_msg am;
    char *pw = NULL;

    for (;;) {
        if ((st = fw_conn_read_msg(c, &m)) != FW_OK)
            goto out;
        if (m.type == 'E') {
            fw_conn_error_from_msg(c, &m, error_class_for_startup(&m));
            st = c->err.cls;
            goto out;
        }
        if (m.type == 'v') {
            if ((st = check_negotiate(c, &m)) != FW_OK)
                goto out;
            continue;
        }
        if (m.type != 'R') {
            st = fail(c, FW_ERR_PROTOCOL, "expected an authentication request from the server");
            goto out;
        }
        if (fw_parse_auth(&m, &am) != FW_OK) {
            st = fail(c, FW_ERR_PROTOCOL, "malformed authentication request");
            goto out;
        }
        switch (am.code) {
        case 0:
            if (cb == FW_CBIND_REQUIRE && !cbind_used) {
                st = fail(c, FW_ERR_AUTH,
                          "channel binding required, but server authenticated client without "
                          "channel binding");
                goto out;
            }
            if (sasl_started && !sasl_done) {
                st = fail(c, FW_ERR_AUTH, "server ended the SCRAM exchange without its proof");
                goto out;
            }
            st = FW_OK;
            goto out;
        case 3:
        case 5: {
            char md5[36];

            /* A server that began SCRAM, or already had the password, has
             * no business asking (again) for it: a downgrade attempt. */
            if (sasl_started) {
                st = fail(c, FW_ERR_PROTOCOL,
                          "server asked for a password after SASL authentication began");
                goto out;
            }
            if (password_sent) {
                st = fail(c, FW_ERR_PROTOCOL, "server asked for the password twice");
                goto out;
            }
            if (cb == FW_CBIND_REQUIRE) {
                st = fail(c, FW_ERR_AUTH,
                          "channel binding required but not supported by server's "
                          "authentication request");
                goto out;
            }
            free_password(pw);
            if (!(pw = get_password(c, a))) {
                st = fail(c, FW_ERR_AUTH, "password is required but none was given");
                goto out;
            }
            if (am.code == 3) {
                st = fw_enc_password(&c->wbuf, pw);
            } else {
                if (am.data_len != 4) {
                    st = fail(c, FW_ERR_PROTOCOL, "malformed MD5 authentication request");
                    goto out;
                }
                st = fw_md5_password(pw, ci_val(a->ci, FW_CI_USER), am.data, md5);
                if (st == FW_OK)
                    st = fw_enc_password(&c->wbuf, md5);
                fw_secure_zero(md5, sizeof md5);
            }
            if (st != FW_OK) {
                st = fail(c, st, "could not build the password message");
                goto out;
            }
            if ((st = flush_secret(c)) != FW_OK)
                goto out;
            password_sent = 1;
            break;
        }
        case 10: {
            int has_plus = 0, has_plain = 0;
            const char *mech;
            fw_scram_cbind how;
            uint8_t cbdata[64];
            size_t cblen = 0;
            const char *first;

            if (sasl_started || password_sent) {
                st = fail(c, FW_ERR_PROTOCOL, sasl_started
                                                  ? "duplicate SASL authentication request"
                                                  : "server asked for SASL authentication after "
                                                    "the password was sent");
                goto out;
            }
            for (int i = 0; i < am.nmechs; i++) {
                if (strcmp(am.mechs[i], FW_SCRAM_PLUS_MECH) == 0)
                    has_plus = 1;
                else if (strcmp(am.mechs[i], FW_SCRAM_MECH) == 0)
                    has_plain = 1;
            }
            if (c->sock.tls && cb != FW_CBIND_DISABLE && has_plus) {
                mech = FW_SCRAM_PLUS_MECH;
                how = FW_SCRAM_CBIND_TLS_SERVER_END_POINT;
                st = fw_tls_server_end_point(c->sock.tls, cbdata, sizeof cbdata, &cblen, &c->err);
                if (st != FW_OK)
                    goto out;
            } else if (cb == FW_CBIND_REQUIRE) {
                st = fail(c, FW_ERR_AUTH,
                          "channel binding is required, but server did not offer an "
                          "authentication method that supports channel binding");
                goto out;
            } else if (has_plain) {
                mech = FW_SCRAM_MECH;
                how = c->sock.tls && cb != FW_CBIND_DISABLE ? FW_SCRAM_CBIND_NOT_USED
                                                           : FW_SCRAM_CBIND_NONE;
            } else {
                st = fail(c, FW_ERR_AUTH,
                          "none of the server's SASL authentication mechanisms are supported");
                goto out;
            }
            free_password(pw);
            if (!(pw = get_password(c, a))) {
                st = fail(c, FW_ERR_AUTH, "password is required but none was given");
                goto out;
            }
            ebuf[0] = '\0';
            st = fw_scram_begin(pw, how, cblen ? cbdata : NULL, cblen, NULL, &scram, &first, ebuf,
                                sizeof ebuf);
            free_password(pw);
            pw = NULL;
            if (st != FW_OK) {
                st = fail(c, st == FW_ERR_MEMORY ? st : FW_ERR_AUTH,
                          ebuf[0] ? ebuf : "could not start SCRAM authentication");
                goto out;
            }
            sasl_started = 1;
            cbind_used = how == FW_SCRAM_CBIND_TLS_SERVER_END_POINT;
            st = fw_enc_sasl_initial(&c->wbuf, mech, (const uint8_t *)first, strlen(first));
            if (st != FW_OK) {
                st = fail(c, st, "out of memory");
                goto out;
            }
            if ((st = flush_secret(c)) != FW_OK)
                goto out;
            break;
        }
        case 11: {
            const char *final;

            if (!scram || sasl_done) {
                st = fail(c, FW_ERR_PROTOCOL, "unexpected SASL continue message");
                goto out;
            }
            ebuf[0] = '\0';
            st = fw_scram_continue(scram, (const char *)am.data, am.data_len, &final, ebuf,
                                   sizeof ebuf);
            if (st != FW_OK) {
                st = fail(c, st == FW_ERR_MEMORY ? st : FW_ERR_AUTH,
                          ebuf[0] ? ebuf : "invalid SCRAM server-first message");
                goto out;
            }
            st = fw_enc_sasl_response(&c->wbuf, (const uint8_t *)final, strlen(final));
            if (st != FW_OK) {
                st = fail(c, st, "out of memory");
                goto out;
            }
            if ((st = flush_secret(c)) != FW_OK)
                goto out;
            break;
        }
        case 12:
            if (!scram || sasl_done) {
                st = fail(c, FW_ERR_PROTOCOL, "unexpected SASL final message");
                goto out;
            }
            ebuf[0] = '\0';
            st = fw_scram_finish(scram, (const char *)am.data, am.data_len, ebuf, sizeof ebuf);
            if (st != FW_OK) {
                st = fail(c, FW_ERR_AUTH, ebuf[0] ? ebuf : "server SCRAM signature is invalid");
                goto out;
            }
            sasl_done = 1;
            break;
        default:
            fw_error_set(&c->err, FW_ERR_AUTH, "authentication method %d is not supported",
                         (int)am.code);
            st = FW_ERR_AUTH;
            goto out;
        }
    }
out:
    free_password(pw);
    fw_scram_free(scram);
    return st;
}

static fw_status
await_ready(fw_conn *c)
{
    fw_status st;
    fw_msg m;

    for (;;) {
        if ((st = fw_conn_read_msg(c, &m)) != FW_OK)
            return st;
        switch (m.type) {
        case 'K':
            if (fw_parse_backend_key(&m, &c->be_pid, &c->be_key) != FW_OK)
                return fail(c, FW_ERR_PROTOCOL, "malformed BackendKeyData message");
            break;
        case 'v':
            if ((st = check_negotiate(c, &m)) != FW_OK)
                return st;
            break;
        case 'E':
            fw_conn_error_from_msg(c, &m, error_class_for_startup(&m));
            return c->err.cls;
        case 'Z':
            if (fw_parse_ready(&m, &c->tx_status) != FW_OK)
                return fail(c, FW_ERR_PROTOCOL, "malformed ReadyForQuery message");
            return FW_OK;
        default:
            fw_error_set(&c->err, FW_ERR_PROTOCOL,
                         "unexpected message type 0x%02x during startup", (unsigned char)m.type);
            return FW_ERR_PROTOCOL;
        }
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

/* One connection attempt to one address, with or without TLS. */
static fw_status
try_address(fw_conn *c, attempt *a, const struct sockaddr *sa, socklen_t salen)
{
    int timeout = a->ci->connect_timeout;
    int tls_on = 0;
    fw_status st;

    reset_session(c);
    if (timeout > 0 && timeout < 2)
        timeout = 2;   /* libpq's floor */
    c->startup_deadline = timeout > 0 ? fw_now_ms() + (int64_t)timeout * 1000 : -1;
    st = fw_net_connect(&c->sock, sa, salen, a->ci, c->startup_deadline, &c->err);
    if (st == FW_OK && a->use_tls)
        st = negotiate_tls(c, a, &tls_on);
    a->tls_on = tls_on;
    if (st == FW_OK)
        st = send_startup(c, a->ci);
    if (st == FW_OK)
        st = authenticate(c, a);
    if (st == FW_OK)
        st = await_ready(c);
    c->startup_deadline = -1;
    if (st != FW_OK) {
        prefix_error(c, a->target);
        reset_session(c);
        return st;
    }
    c->state = FW_CONN_IDLE;
    fw_error_clear(&c->err);
    return FW_OK;
}

/* sslmode's fallbacks around try_address (libpq's allow/prefer rules). */
static fw_status
try_address_sslmode(fw_conn *c, attempt *a, const struct sockaddr *sa, socklen_t salen)
{
    fw_sslmode mode = a->ci->sslmode;
    fw_status st;

    if (sa->sa_family == AF_UNIX || mode == FW_SSL_DISABLE) {
        a->use_tls = 0;   /* never TLS over a Unix socket, as libpq */
        return try_address(c, a, sa, salen);
    }
    if (mode == FW_SSL_ALLOW) {
        a->use_tls = 0;
        st = try_address(c, a, sa, salen);
        if (st != FW_ERR_AUTH)
            return st;
        a->use_tls = 1;
        return try_address(c, a, sa, salen);
    }
    a->use_tls = 1;
    st = try_address(c, a, sa, salen);
    /* Without TLS only when TLS was the trouble: after a plain-text
     * failure (the server answered 'N') a second try changes nothing but
     * the message, and costs the server another failed login. */
    if (mode == FW_SSL_PREFER && (st == FW_ERR_TLS || (st == FW_ERR_AUTH && a->tls_on))) {
        a->use_tls = 0;
        return try_address(c, a, sa, salen);
    }
    return st;
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

static fw_status
try_host(fw_conn *c, const fw_conninfo *ci, const fw_ci_host *h, int standby_pass)
{
    char target[600];
    char port[16];
    attempt a = {.ci = ci, .host = h, .target = target};
    fw_status st = FW_ERR_IO;

    snprintf(port, sizeof port, "%d", h->port);
    if (h->is_unix) {
        struct sockaddr_un sun;
        int n;

        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        n = snprintf(sun.sun_path, sizeof sun.sun_path, "%s/.s.PGSQL.%d", h->host, h->port);
        snprintf(target, sizeof target, "on socket \"%s/.s.PGSQL.%d\"", h->host, h->port);
        if (n < 0 || (size_t)n >= sizeof sun.sun_path) {
            fw_error_set(&c->err, FW_ERR_CONFIG, "Unix-domain socket path \"%s/.s.PGSQL.%d\" is "
                         "too long", h->host, h->port);
            return FW_ERR_CONFIG;
        }
        st = try_address_sslmode(c, &a, (struct sockaddr *)&sun, sizeof sun);
    } else {
        struct addrinfo hints, *res = NULL;
        const char *name = h->hostaddr && *h->hostaddr ? h->hostaddr : h->host;
        int rc;

        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        if (h->hostaddr && *h->hostaddr)
            hints.ai_flags = AI_NUMERICHOST;
        if (!name || !*name)
            name = "localhost";
        rc = getaddrinfo(name, port, &hints, &res);
        if (rc != 0) {
            fw_error_set(&c->err, FW_ERR_IO, "could not translate host name \"%s\" to address: %s",
                         name, gai_strerror(rc));
            return FW_ERR_IO;
        }
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            char ip[64] = "?";

            (void)getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST);
            if (h->host && *h->host && strcmp(h->host, ip) != 0)
                snprintf(target, sizeof target, "at \"%s\" (%s), port %d", h->host, ip, h->port);
            else
                snprintf(target, sizeof target, "at \"%s\", port %d", ip, h->port);
            st = try_address_sslmode(c, &a, ai->ai_addr, ai->ai_addrlen);
            if (st == FW_OK) {
                if (session_fits(c, ci->target, standby_pass))
                    break;
                prefix_error(c, target);
                st = c->err.cls;
                reset_session(c);
            }
        }
        freeaddrinfo(res);
        return st;
    }
    if (st == FW_OK && !session_fits(c, ci->target, standby_pass)) {
        prefix_error(c, target);
        st = c->err.cls;
        reset_session(c);
    }
    return st;
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
    fw_buf_init(&c->rbuf, (size_t)msg_cap(c) + FW_RBUF_HEADROOM);
    if (fw_buf_reserve(&c->rbuf, FW_RBUF_INITIAL) != FW_OK) {
        free(c);
        return NULL;
    }
    return c;
}

FW_API fw_status
fw_connect_info(const fw_conninfo *ci, fw_conn **out)
{
    fw_conn *c;
    fw_status st = FW_ERR_CONFIG;
    int passes;

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
    passes = ci->target == FW_TARGET_PREFER_STANDBY ? 2 : 1;
    for (int pass = 0; pass < passes; pass++) {
        for (size_t i = 0; i < ci->nhosts; i++) {
            st = try_host(c, ci, &ci->hosts[i], pass == 0);
            if (st == FW_OK)
                return FW_OK;
        }
    }
    if (c->err.cls == FW_OK)
        fw_error_set(&c->err, FW_ERR_IO, "could not connect to any host");
    return c->err.cls;
}

FW_API fw_status
fw_connect(const char *conninfo, fw_conn **out)
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
    st = fw_connect_info(ci, out);
    fw_conninfo_free(ci);
    return st;
}

FW_API void
fw_conn_free(fw_conn *conn)
{
    if (!conn)
        return;
    if (conn->stream)
        conn->stream->conn = NULL;   /* the stream outlives nothing; its calls fail cleanly */
    if (conn->sock.fd >= 0 && conn->state != FW_CONN_BAD) {
        conn->wbuf.len = 0;
        conn->timeout_ms = conn->timeout_ms > 0 && conn->timeout_ms < 1000 ? conn->timeout_ms : 1000;
        if (fw_enc_terminate(&conn->wbuf) == FW_OK)
            (void)fw_net_write_all(&conn->sock, conn->wbuf.data, conn->wbuf.len,
                                   fw_conn_deadline(conn), &conn->err);
    }
    fw_net_close(&conn->sock);
    fw_buf_free(&conn->wbuf);
    fw_buf_free(&conn->rbuf);
    clear_params(conn);
    fw_error_clear(&conn->err);
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
    conn->rbuf.limit = (size_t)msg_cap(conn) + FW_RBUF_HEADROOM;
    if (conn->rbuf.limit < conn->rbuf.cap)
        conn->rbuf.limit = conn->rbuf.cap;   /* never below what is already allocated */
}

FW_API void
fw_conn_set_timeout(fw_conn *conn, int timeout_ms)
{
    if (conn)
        conn->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

FW_API void
fw_conn_set_statement_timeout(fw_conn *conn, int timeout_ms)
{
    if (conn)
        conn->statement_timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}
