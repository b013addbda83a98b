/*
 * A hostile or broken server, scripted step by step on 127.0.0.1 (optionally
 * behind TLS with a throw-away self-signed certificate): messages in the
 * wrong order, oversized non-row messages, a TLS peer that vanishes without
 * close_notify.  Needs no cluster.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fw_test.h"

/* ------------------------------------------------------------- server */

typedef enum kind {
    SEND,       /* send data/len */
    STARTUP,    /* read the startup packet */
    EXPECT,     /* read client messages until one of type `type` */
    TLS,        /* read SSLRequest, answer 'S', accept TLS */
    NOTLS,      /* read SSLRequest, answer 'N' */
    CANCEL,     /* accept one more connection: a CancelRequest, read and ignored */
    DROP,       /* close the socket at once (no close_notify under TLS) */
    FLOOD,      /* send data/len again and again until the client goes (or 20 s) */
    END
} kind;

typedef struct step {
    kind k;
    const uint8_t *data;
    size_t len;
    char type;
} step;

typedef struct fake {
    int lfd;
    int port;
    const step *steps;
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    /* what the client sent: message types in order, the last 'p' body */
    char types[64];
    size_t ntypes;
    uint8_t last_p[512];
    size_t last_p_len;
    int failed_step;   /* -1 when every step ran */
    int ncancels;
    uint8_t cancel_req[16];   /* the last CancelRequest */
} fake;

static int
io_read(fake *f, uint8_t *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        int r;

        if (f->ssl)
            r = SSL_read(f->ssl, p + got, (int)(n - got));
        else
            r = (int)recv(f->fd, p + got, n - got, 0);
        if (r <= 0)
            return 0;
        got += (size_t)r;
    }
    return 1;
}

static int
io_write(fake *f, const uint8_t *p, size_t n)
{
    if (f->ssl)
        return SSL_write(f->ssl, p, (int)n) == (int)n;
    return send(f->fd, p, n, MSG_NOSIGNAL) == (ssize_t)n;
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads one typed client message; its body (first 512 bytes) in last_p when 'p'. */
static int
read_msg(fake *f, char *type)
{
    uint8_t h[5];
    uint32_t len;

    if (!io_read(f, h, 5))
        return 0;
    len = be32(h + 1);
    if (len < 4 || len > (1u << 20))
        return 0;
    *type = (char)h[0];
    if (f->ntypes < sizeof f->types - 1)
        f->types[f->ntypes++] = (char)h[0];
    {
        uint8_t *body = malloc(len - 4 + 1);
        int ok;

        if (!body)
            return 0;
        ok = len == 4 || io_read(f, body, len - 4);
        if (ok && h[0] == 'p') {
            f->last_p_len = len - 4 < sizeof f->last_p ? len - 4 : sizeof f->last_p;
            memcpy(f->last_p, body, f->last_p_len);
        }
        free(body);
        return ok;
    }
}

static SSL_CTX *
self_signed_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name;

    cr_assert(ctx && key && x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"fake", -1, -1, 0);
    X509_set_issuer_name(x, name);
    cr_assert(X509_sign(x, key, EVP_sha256()) > 0);
    cr_assert_eq(SSL_CTX_use_certificate(ctx, x), 1);
    cr_assert_eq(SSL_CTX_use_PrivateKey(ctx, key), 1);
    X509_free(x);
    EVP_PKEY_free(key);
    return ctx;
}

static void *
serve(void *arg)
{
    fake *f = arg;
    const step *st;
    int i = 0;

    f->fd = accept(f->lfd, NULL, NULL);
    if (f->fd < 0)
        return NULL;
    for (st = f->steps; st->k != END; st++, i++) {
        int ok = 1;

        switch (st->k) {
        case SEND:
            ok = io_write(f, st->data, st->len);
            break;
        case STARTUP: {
            uint8_t h[4], body[1024];
            uint32_t len;

            ok = io_read(f, h, 4) && (len = be32(h)) >= 8 && len - 4 <= sizeof body &&
                 io_read(f, body, len - 4);
            break;
        }
        case EXPECT: {
            char t = 0;

            while ((ok = read_msg(f, &t)) && t != st->type)
                ;
            break;
        }
        case TLS: {
            uint8_t req[8];

            ok = io_read(f, req, 8) && be32(req + 4) == 80877103u &&
                 send(f->fd, "S", 1, MSG_NOSIGNAL) == 1;
            if (ok) {
                f->ssl = SSL_new(f->ctx);
                SSL_set_fd(f->ssl, f->fd);
                ok = SSL_accept(f->ssl) == 1;
            }
            break;
        }
        case NOTLS: {
            uint8_t req[8];

            ok = io_read(f, req, 8) && be32(req + 4) == 80877103u &&
                 send(f->fd, "N", 1, MSG_NOSIGNAL) == 1;
            break;
        }
        case CANCEL: {
            int cfd = accept(f->lfd, NULL, NULL);
            uint8_t req[16];
            size_t got = 0;

            ok = cfd >= 0;
            while (ok && got < sizeof req) {
                ssize_t r = recv(cfd, req + got, sizeof req - got, 0);

                if (r <= 0)
                    break;
                got += (size_t)r;
            }
            ok = ok && got == sizeof req && be32(req + 4) == 80877102u;
            if (ok) {
                f->ncancels++;
                memcpy(f->cancel_req, req, sizeof req);
            }
            if (cfd >= 0)
                close(cfd);
            break;
        }
        case DROP:
            close(f->fd);
            f->fd = -1;
            break;
        case FLOOD: {
            time_t until = time(NULL) + 20;

            while (time(NULL) < until && io_write(f, st->data, st->len))
                ;
            break;
        }
        default:
            break;
        }
        if (!ok) {
            f->failed_step = i;
            break;
        }
        if (f->fd < 0)
            break;
    }
    if (st->k == END)
        f->failed_step = -1;
    if (f->fd >= 0) {
        /* Until the client closes (or 5 s). */
        struct pollfd pfd = {.fd = f->fd, .events = POLLIN};

        while (poll(&pfd, 1, 5000) > 0) {
            uint8_t sink[256];

            if (recv(f->fd, sink, sizeof sink, 0) <= 0)
                break;
        }
    }
    return NULL;
}

static void
fake_start(fake *f, const step *steps, int tls, pthread_t *th)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;

    memset(f, 0, sizeof *f);
    f->steps = steps;
    f->fd = -1;
    f->failed_step = -2;
    if (tls)
        f->ctx = self_signed_ctx();
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(f->lfd, 0);
    cr_assert_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(f->lfd, 4), 0);
    cr_assert_eq(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
    f->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(th, NULL, serve, f), 0);
}

static void
fake_stop(fake *f, pthread_t th)
{
    pthread_join(th, NULL);
    if (f->ssl)
        SSL_free(f->ssl);
    if (f->fd >= 0)
        close(f->fd);
    if (f->ctx)
        SSL_CTX_free(f->ctx);
    close(f->lfd);
}

static const char *
ci_for(const fake *f, const char *extra)
{
    static char ci[512];

    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d user=alice dbname=db connect_timeout=10 %s",
             f->port, extra);
    return ci;
}

/* ----------------------------------------------------------- messages */

#define R_OK_MSG 'R', 0, 0, 0, 8, 0, 0, 0, 0
#define K_MSG 'K', 0, 0, 0, 12, 0, 0, 0x30, 0x39, 0, 0, 0, 7
#define Z_MSG 'Z', 0, 0, 0, 5, 'I'
#define R_CLEARTEXT 'R', 0, 0, 0, 8, 0, 0, 0, 3
#define R_MD5 'R', 0, 0, 0, 12, 0, 0, 0, 5, 1, 2, 3, 4
/* AuthenticationSASL offering SCRAM-SHA-256 */
#define R_SASL 'R', 0, 0, 0, 23, 0, 0, 0, 10, 'S', 'C', 'R', 'A', 'M', '-', 'S', 'H', 'A', '-', \
               '2', '5', '6', 0, 0
/* RowDescription: one column "data" of type jsonb */
#define T_DATA 'T', 0, 0, 0, 29, 0, 1, 'd', 'a', 't', 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0e, \
               0xda, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0
#define D_ROW 'D', 0, 0, 0, 13, 0, 1, 0, 0, 0, 3, '{', '}', ' '

#define ST_SEND(a) {.k = SEND, .data = a, .len = sizeof a}
#define ST_STARTUP {.k = STARTUP}
#define ST_EXPECT(t) {.k = EXPECT, .type = t}
#define ST_TLS {.k = TLS}
#define ST_NOTLS {.k = NOTLS}
#define ST_CANCEL {.k = CANCEL}
#define ST_DROP {.k = DROP}
#define ST_FLOOD(a) {.k = FLOOD, .data = a, .len = sizeof a}
#define ST_END {.k = END}

/* ------------------------------------------------------------- tests */

/*
 * A server that starts SCRAM and then asks for the password in clear text
 * (or as MD5) must not get it: SCRAM was chosen so that the password never
 * leaves the client, and a man in the middle could otherwise downgrade.
 */
static void
no_password_after_sasl(const uint8_t *second, size_t second_len)
{
    static const uint8_t sasl[] = {R_SASL};
    step steps[] = {ST_STARTUP, ST_SEND(sasl), ST_EXPECT('p'),
                    {.k = SEND, .data = second, .len = second_len}, ST_EXPECT('p'),
                    ST_DROP, ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_status st;

    fake_start(&f, steps, 0, &th);
    st = fw_connect(ci_for(&f, "sslmode=disable password=s3cr3t-pw"), &c);
    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "SASL") != NULL, "%s", fw_conn_error_message(c));
    cr_assert_null(strstr(fw_conn_error_message(c), "s3cr3t"));
    fw_conn_free(c);
    fake_stop(&f, th);
    /* One 'p' (SASLInitialResponse) only, and no password in it. */
    cr_assert_str_eq(f.types, "p", "client sent %s", f.types);
    cr_assert_null(memmem(f.last_p, f.last_p_len, "s3cr3t", 6));
}

Test(review_fake, no_cleartext_password_after_sasl_began, .timeout = 30)
{
    static const uint8_t clear[] = {R_CLEARTEXT};

    no_password_after_sasl(clear, sizeof clear);
}

Test(review_fake, no_md5_password_after_sasl_began, .timeout = 30)
{
    static const uint8_t md5[] = {R_MD5};

    no_password_after_sasl(md5, sizeof md5);
}

/* A second password request after the first was answered is refused too. */
Test(review_fake, no_second_password_request, .timeout = 30)
{
    static const uint8_t clear[] = {R_CLEARTEXT};
    step steps[] = {ST_STARTUP, ST_SEND(clear), ST_EXPECT('p'), ST_SEND(clear), ST_EXPECT('p'),
                    ST_DROP, ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_status st;

    fake_start(&f, steps, 0, &th);
    st = fw_connect(ci_for(&f, "sslmode=disable password=pw"), &c);
    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    fw_conn_free(c);
    fake_stop(&f, th);
    cr_assert_str_eq(f.types, "p", "client sent %s", f.types);
}

/*
 * A TLS server that vanishes without close_notify (killed, network cut):
 * OpenSSL 3 reports "unexpected eof while reading"; that is a lost
 * connection (FW_ERR_IO, retriable), not a TLS failure.
 */
Test(review_fake, tls_peer_gone_without_close_notify_is_io, .timeout = 30)
{
    static const uint8_t hello[] = {R_OK_MSG, K_MSG, Z_MSG};
    step steps[] = {ST_TLS, ST_STARTUP, ST_SEND(hello), ST_EXPECT('Q'), ST_DROP, ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_status st;

    fake_start(&f, steps, 1, &th);
    st = fw_connect(ci_for(&f, "sslmode=require"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_tls(c), 1);
    st = fw_exec_simple(c, "SELECT 1");
    cr_assert_eq(st, FW_ERR_IO, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_error_retriable(c), 1);
    cr_assert_eq(fw_conn_ok(c), 0);
    fw_conn_free(c);
    fake_stop(&f, th);
}

/* A message of `len` body bytes: type, length, body filled with 'x' and a
 * NUL-terminated prefix (so that it parses as the type's fields). */
static uint8_t *
big_msg(char type, const char *prefix, size_t prefix_len, size_t len)
{
    uint8_t *m = malloc(5 + len);

    cr_assert_not_null(m);
    m[0] = (uint8_t)type;
    m[1] = (uint8_t)((len + 4) >> 24);
    m[2] = (uint8_t)((len + 4) >> 16);
    m[3] = (uint8_t)((len + 4) >> 8);
    m[4] = (uint8_t)(len + 4);
    memset(m + 5, 'x', len);
    memcpy(m + 5, prefix, prefix_len);
    m[5 + len - 1] = 0;
    if (type == 'N' || type == 'E')
        m[5 + len - 2] = 0;   /* field value ends, then the terminator */
    return m;
}

/*
 * The receive buffer bound: messages other than DataRow are small in
 * PostgreSQL (ParameterStatus, authentication, errors); a hostile server
 * must not make the client buffer max_row_bytes (256 MiB by default) of
 * one before authentication.
 */
Test(review_fake, huge_parameter_status_is_refused_unbuffered, .timeout = 30)
{
    static const uint8_t ok[] = {R_OK_MSG};
    static const uint8_t ready[] = {K_MSG, Z_MSG};
    size_t len = 3u << 20;
    uint8_t *big = big_msg('S', "big", 4, len);
    step steps[] = {ST_STARTUP, ST_SEND(ok), {.k = SEND, .data = big, .len = 5 + len},
                    ST_SEND(ready), ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_status st;

    fake_start(&f, steps, 0, &th);
    st = fw_connect(ci_for(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_ERR_MEMORY, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "type 'S'") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
    fake_stop(&f, th);
    free(big);
}

static void
count_notice(void *arg, const char *severity, const char *sqlstate, const char *message)
{
    if (message && strcmp(message, "small") == 0)
        ((int *)arg)[0]++;
    else if (message && strcmp(severity, "WARNING") == 0 && !sqlstate &&
             strstr(message, "notice of 3145728 bytes was dropped") != NULL)
        ((int *)arg)[2]++;
    else
        ((int *)arg)[1]++;
}

/* Mid-session, a huge NoticeResponse is skipped and the connection stays in step. */
Test(review_fake, huge_notice_is_skipped_and_the_connection_stays_in_step, .timeout = 30)
{
    static const uint8_t hello[] = {R_OK_MSG, K_MSG, Z_MSG};
    static const uint8_t rest[] = {'N', 0, 0, 0, 18, 'S', 'W', 'A', 'R', 'N', 0, 'M', 's', 'm',
                                   'a', 'l', 'l', 0, 0, 'C', 0, 0, 0, 13, 'S', 'E', 'L', 'E',
                                   'C', 'T', ' ', '1', 0, Z_MSG};
    size_t len = 3u << 20;
    uint8_t *big = big_msg('N', "SWARN\0Mx", 8, len);
    step steps[] = {ST_STARTUP, ST_SEND(hello), ST_EXPECT('Q'),
                    {.k = SEND, .data = big, .len = 5 + len}, ST_SEND(rest), ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_status st;
    int seen[3] = {0, 0, 0};

    fake_start(&f, steps, 0, &th);
    st = fw_connect(ci_for(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    fw_conn_set_notice_callback(c, count_notice, seen);
    st = fw_exec_simple(c, "SELECT 1");
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(seen[0], 1, "the small notice after the big one arrives");
    cr_assert_eq(seen[1], 0, "the 3 MiB notice is not delivered");
    cr_assert_eq(seen[2], 1, "the callback hears that a notice was dropped");
    cr_assert_eq(fw_conn_ok(c), 1);
    fw_conn_free(c);
    fake_stop(&f, th);
    free(big);
}

/*
 * A server out of step after Describe (a DataRow before any
 * RowDescription, or ReadyForQuery with no Sync sent): the stream fails
 * with FW_ERR_PROTOCOL and the connection is not reused, whatever the
 * server sends next (it answers our Sync here, as if all were well).
 */
static void
out_of_step_after_describe(const uint8_t *bad, size_t bad_len)
{
    static const uint8_t hello[] = {R_OK_MSG, K_MSG, Z_MSG};
    /* the per-stream setup statement's replies, then the query's */
    static const uint8_t parsed[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, D_ROW,
                                     'C', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0,
                                     '1', 0, 0, 0, 4, '2', 0, 0, 0, 4};
    static const uint8_t ready[] = {Z_MSG};
    step steps[] = {ST_STARTUP,
                    ST_SEND(hello),
                    ST_EXPECT('H'),
                    ST_SEND(parsed),
                    {.k = SEND, .data = bad, .len = bad_len},
                    ST_EXPECT('S'),
                    ST_SEND(ready),
                    ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_stream *s = NULL;
    fw_status st;

    fake_start(&f, steps, 0, &th);
    st = fw_connect(ci_for(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    st = fw_stream_sql(c, "SELECT data FROM v", 0, NULL, 0, &s);
    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_null(s);
    cr_assert_eq(fw_conn_ok(c), 0, "a connection out of step must not be reused");
    cr_assert_eq(fw_exec_simple(c, "SELECT 1"), FW_ERR_IO);
    fw_conn_free(c);
    fake_stop(&f, th);
}

Test(review_fake, data_row_before_row_description_breaks_the_connection, .timeout = 30)
{
    static const uint8_t row[] = {D_ROW};

    out_of_step_after_describe(row, sizeof row);
}

Test(review_fake, ready_for_query_before_sync_breaks_the_connection, .timeout = 30)
{
    static const uint8_t ready[] = {Z_MSG};

    out_of_step_after_describe(ready, sizeof ready);
}

/* SASLFinal with no SASLContinue before it, AuthenticationOk twice. */
Test(review_fake, sasl_final_without_continue_is_refused, .timeout = 30)
{
    static const uint8_t sasl[] = {R_SASL};
    static const uint8_t final[] = {'R', 0, 0, 0, 12, 0, 0, 0, 12, 'v', '=', 'x'};
    static const uint8_t ok[] = {R_OK_MSG, K_MSG, Z_MSG};
    step steps[] = {ST_STARTUP, ST_SEND(sasl), ST_EXPECT('p'), ST_SEND(final), ST_SEND(ok),
                    ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_status st;

    fake_start(&f, steps, 0, &th);
    st = fw_connect(ci_for(&f, "sslmode=disable password=pw"), &c);
    cr_assert(st == FW_ERR_PROTOCOL || st == FW_ERR_AUTH, "%s: %s", fw_strerror(st),
              fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 0);
    fw_conn_free(c);
    fake_stop(&f, th);
}

Test(review_fake, authentication_ok_twice_is_refused, .timeout = 30)
{
    static const uint8_t twice[] = {R_OK_MSG, R_OK_MSG, K_MSG, Z_MSG};
    step steps[] = {ST_STARTUP, ST_SEND(twice), ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_status st;

    fake_start(&f, steps, 0, &th);
    st = fw_connect(ci_for(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    fw_conn_free(c);
    fake_stop(&f, th);
}

/*
 * sslmode=prefer (or allow) falls back to plain text, but never below
 * channel_binding=require: the server that refused TLS and offers SCRAM
 * without -PLUS, or a password, gets no answer from the client.
 */
static void
no_downgrade_of_channel_binding(const char *sslmode, const uint8_t *auth, size_t auth_len)
{
    char extra[128];
    step steps[] = {ST_NOTLS, ST_STARTUP, {.k = SEND, .data = auth, .len = auth_len},
                    ST_EXPECT('p'), ST_DROP, ST_END};
    step allow[] = {ST_STARTUP, {.k = SEND, .data = auth, .len = auth_len}, ST_EXPECT('p'),
                    ST_DROP, ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_status st;

    fake_start(&f, strcmp(sslmode, "allow") == 0 ? allow : steps, 0, &th);
    /* allow then tries TLS on a second connection, which nobody answers */
    snprintf(extra, sizeof extra,
             "sslmode=%s channel_binding=require password=s3cr3t connect_timeout=2", sslmode);
    st = fw_connect(ci_for(&f, extra), &c);
    cr_assert_neq(st, FW_OK);
    if (strcmp(sslmode, "allow") != 0)
        cr_assert(strstr(fw_conn_error_message(c), "channel binding") != NULL, "%s",
                  fw_conn_error_message(c));
    fw_conn_free(c);
    fake_stop(&f, th);
    cr_assert_str_eq(f.types, "", "client sent %s", f.types);
}

Test(review_fake, prefer_never_downgrades_channel_binding_require, .timeout = 30)
{
    static const uint8_t sasl[] = {R_SASL};
    static const uint8_t clear[] = {R_CLEARTEXT};
    static const uint8_t md5[] = {R_MD5};

    no_downgrade_of_channel_binding("prefer", sasl, sizeof sasl);
    no_downgrade_of_channel_binding("prefer", clear, sizeof clear);
    no_downgrade_of_channel_binding("prefer", md5, sizeof md5);
    no_downgrade_of_channel_binding("allow", sasl, sizeof sasl);
    no_downgrade_of_channel_binding("allow", clear, sizeof clear);
}

/*
 * sslrootcert naming a file that does not exist, as libpq: require does not
 * verify (no root certificate at hand), verify-ca/verify-full fail with a
 * message that says the file is missing.
 */
Test(review_fake, missing_explicit_root_certificate, .timeout = 30)
{
    static const uint8_t hello[] = {R_OK_MSG, K_MSG, Z_MSG};
    step steps[] = {ST_TLS, ST_STARTUP, ST_SEND(hello), ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_status st;

    fake_start(&f, steps, 1, &th);
    st = fw_connect(ci_for(&f, "sslmode=require sslrootcert=/nonexistent/root.crt"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_tls(c), 1);
    fw_conn_free(c);
    fake_stop(&f, th);

    for (int i = 0; i < 2; i++) {
        c = NULL;
        st = fw_connect(i == 0 ? "host=127.0.0.1 port=1 user=u dbname=d sslmode=verify-full "
                                 "sslrootcert=/nonexistent/root.crt"
                               : "host=127.0.0.1 port=1 user=u dbname=d sslmode=verify-ca "
                                 "sslrootcert=/nonexistent/root.crt",
                        &c);
        cr_assert_neq(st, FW_OK);
        fw_conn_free(c);
    }
    /* the message, from a server that offers TLS */
    {
        step tls_only[] = {ST_TLS, ST_END};

        fake_start(&f, tls_only, 1, &th);
        c = NULL;
        st = fw_connect(ci_for(&f, "sslmode=verify-full sslrootcert=/nonexistent/root.crt"), &c);
        cr_assert_eq(st, FW_ERR_TLS, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
        cr_assert(strstr(fw_conn_error_message(c),
                         "root certificate file \"/nonexistent/root.crt\" does not exist") != NULL,
                  "%s", fw_conn_error_message(c));
        fw_conn_free(c);
        fake_stop(&f, th);
    }
}

/* A server inventing ParameterStatus names without end: the list the
 * client keeps is bounded (known names still update). */
Test(review_fake, parameter_names_are_bounded, .timeout = 30)
{
    enum { N = 5000 };
    static const uint8_t ok[] = {R_OK_MSG};
    static const uint8_t tail[] = {'S', 0, 0, 0, 12, 'p', '1', 0, 'l', 'a', 's', 't', 0,
                                   K_MSG, Z_MSG};
    uint8_t *many = malloc((size_t)N * 20);
    size_t n = 0;
    step steps[] = {ST_STARTUP, ST_SEND(ok), {.k = SEND, .data = NULL, .len = 0}, ST_SEND(tail),
                    ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_status st;

    cr_assert_not_null(many);
    for (int i = 0; i < N; i++) {
        char name[12];
        size_t nl = (size_t)snprintf(name, sizeof name, "p%d", i) + 1;
        size_t len = 4 + nl + 2;

        many[n++] = 'S';
        many[n++] = 0;
        many[n++] = 0;
        many[n++] = (uint8_t)(len >> 8);
        many[n++] = (uint8_t)len;
        memcpy(many + n, name, nl);
        n += nl;
        many[n++] = 'v';
        many[n++] = 0;
    }
    steps[2].data = many;
    steps[2].len = n;
    fake_start(&f, steps, 0, &th);
    st = fw_connect(ci_for(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_str_eq(fw_conn_parameter(c, "p0"), "v");
    cr_assert_str_eq(fw_conn_parameter(c, "p1"), "last", "a known name still updates");
    cr_assert_null(fw_conn_parameter(c, "p4999"), "the list grew to every invented name");
    fw_conn_free(c);
    fake_stop(&f, th);
    free(many);
}

/*
 * sslmode=require with ~/.postgresql/root.crt present verifies the chain
 * (libpq): a server whose certificate that CA did not sign is refused
 * with FW_ERR_TLS and the verification error.
 */
Test(review_fake, require_verifies_when_a_root_certificate_is_present, .timeout = 30)
{
    step steps[] = {ST_TLS, ST_END};
    char home[] = "/tmp/fw_review_homeXXXXXX";
    char dir[256], path[300];
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_status st;
    FILE *fp;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *ca = X509_new();

    /* an unrelated CA certificate as root.crt */
    cr_assert_not_null(mkdtemp(home));
    snprintf(dir, sizeof dir, "%s/.postgresql", home);
    cr_assert_eq(mkdir(dir, 0700), 0);
    snprintf(path, sizeof path, "%s/root.crt", dir);
    ASN1_INTEGER_set(X509_get_serialNumber(ca), 7);
    X509_gmtime_adj(X509_getm_notBefore(ca), -60);
    X509_gmtime_adj(X509_getm_notAfter(ca), 3600);
    X509_set_pubkey(ca, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(ca), "CN", MBSTRING_ASC,
                               (const unsigned char *)"unrelated CA", -1, -1, 0);
    X509_set_issuer_name(ca, X509_get_subject_name(ca));
    cr_assert(X509_sign(ca, key, EVP_sha256()) > 0);
    fp = fopen(path, "w");
    cr_assert_not_null(fp);
    cr_assert_eq(PEM_write_X509(fp, ca), 1);
    fclose(fp);
    X509_free(ca);
    EVP_PKEY_free(key);
    setenv("HOME", home, 1);

    fake_start(&f, steps, 1, &th);
    st = fw_connect(ci_for(&f, "sslmode=require"), &c);
    cr_assert_eq(st, FW_ERR_TLS, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "certificate verification failed") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
    fake_stop(&f, th);
    unlink(path);
    rmdir(dir);
    rmdir(home);
}

/*
 * Two Executes are in flight.  The caller cancels after the first chunk's
 * PortalSuspended was sent, and the CancelRequest reaches a backend that
 * ignores it (it was reading the next message, as PostgreSQL does).  The
 * second Execute then runs: the drain must repeat the CancelRequest while
 * the server stays silent, not wait for the whole chunk.
 */
static void *
cancel_soon(void *arg)
{
    usleep(200 * 1000);
    (void)fw_stream_cancel(arg);
    return NULL;
}

Test(review_fake, cancel_repeated_while_the_next_chunk_runs, .timeout = 30)
{
    static const uint8_t hello[] = {R_OK_MSG, K_MSG, Z_MSG};
    static const uint8_t described[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, T_DATA};
    static const uint8_t row[] = {D_ROW};
    static const uint8_t suspended[] = {'s', 0, 0, 0, 4};
    static const uint8_t cancelled[] = {
        'E', 0, 0, 0, 25, 'S', 'E', 'R', 'R', 'O', 'R', 0, 'C', '5', '7', '0', '1', '4', 0,
        'M', 'c', 'a', 'n', 'c', 0, 0, Z_MSG};
    step steps[] = {ST_STARTUP,      ST_SEND(hello),     ST_EXPECT('H'), ST_SEND(described),
                    ST_EXPECT('H'),  ST_SEND(row),       ST_CANCEL,      ST_SEND(suspended),
                    ST_EXPECT('S'),  ST_CANCEL,          ST_SEND(cancelled), ST_END};
    pthread_t canceller;
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;

    fake_start(&f, steps, 0, &th);
    st = fw_connect(ci_for(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    fw_conn_set_timeout(c, 8000);
    cr_assert_eq(fw_stream_sql(c, "SELECT data FROM v", 0, NULL, 1, &s), FW_OK, "%s",
                 fw_conn_error_message(c));
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK, "%s", fw_conn_error_message(c));
    /* next waits; the cancel comes from another thread; the server then
     * ends the chunk (PortalSuspended) and starts the next one. */
    cr_assert_eq(pthread_create(&canceller, NULL, cancel_soon, s), 0);
    st = fw_stream_next(s, &json, &len);
    pthread_join(canceller, NULL);
    cr_assert_eq(st, FW_ERR_CANCELLED, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 1);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    fw_conn_free(c);
    fake_stop(&f, th);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d", f.failed_step);
    cr_assert_eq(f.ncancels, 2);
}

/* --------------------------------------------- interruptibility, bounds */

static int64_t
ms_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * connect_timeout covers the whole start-up, also against a server that
 * never stops talking (ParameterStatus after ParameterStatus, so a read
 * never has to wait and poll's deadline is never consulted).
 */
Test(review_fake, connect_timeout_bounds_a_server_that_keeps_talking, .timeout = 40)
{
    static const uint8_t ok[] = {R_OK_MSG, K_MSG};
    /* ParameterStatus "pNNNNN" = "v", all names distinct: the client
     * compares each with the (at most 256) names it keeps, so it reads
     * slower than the server writes and a read never has to wait. */
    static uint8_t params[8192 * 14];
    step steps[] = {ST_STARTUP, ST_SEND(ok), ST_FLOOD(params), ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_status st;
    int64_t t0, took;

    for (int i = 0; i < 8192; i++) {
        uint8_t *p = params + i * 14;

        memcpy(p, "S\0\0\0\x0d", 5);
        p[5] = 'p';
        for (int k = 0, v = i; k < 5; k++, v /= 10)
            p[10 - k] = (uint8_t)('0' + v % 10);
        p[11] = 0;
        memcpy(p + 12, "v", 2);
    }
    fake_start(&f, steps, 0, &th);
    t0 = ms_now();
    {
        char ci[256];

        snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d user=alice dbname=db connect_timeout=2 "
                 "sslmode=disable", f.port);
        st = fw_connect(ci, &c);
    }
    took = ms_now() - t0;
    cr_assert_eq(st, FW_ERR_TIMEOUT, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "timeout expired") != NULL, "%s",
              fw_conn_error_message(c));
    cr_assert_lt(took, 4000, "connect took %lld ms with connect_timeout=2", (long long)took);
    cr_assert_geq(took, 1900);
    fw_conn_free(c);
    fake_stop(&f, th);
}

/* The steps of a stream whose first row arrived; then what the server does. */
#define HELLO_STREAM_ROW                                                                    \
    ST_STARTUP, ST_SEND(hello), ST_EXPECT('H'), ST_SEND(described), ST_EXPECT('H'),         \
        ST_SEND(row)

static fw_conn *
connect_and_read_one(fake *f, fw_stream **s, int timeout_ms)
{
    fw_conn *c = NULL;
    const char *json;
    size_t len;
    fw_status st = fw_connect(ci_for(f, "sslmode=disable"), &c);

    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    fw_conn_set_timeout(c, timeout_ms);
    cr_assert_eq(fw_stream_sql(c, "SELECT data FROM v", 0, NULL, 1, s), FW_OK, "%s",
                 fw_conn_error_message(c));
    cr_assert_eq(fw_stream_next(*s, &json, &len), FW_OK, "%s", fw_conn_error_message(c));
    return c;
}

/*
 * fw_stream_close against a server that takes the CancelRequest and then
 * ignores it, silent: the drain ends at the connection's timeout, Sync and
 * then Terminate were sent, and the connection is closed (FW_ERR_TIMEOUT).
 */
Test(review_fake, close_is_bounded_when_the_server_ignores_the_cancel, .timeout = 30)
{
    static const uint8_t hello[] = {R_OK_MSG, K_MSG, Z_MSG};
    static const uint8_t described[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, T_DATA};
    static const uint8_t row[] = {D_ROW};
    step steps[] = {HELLO_STREAM_ROW, ST_CANCEL, ST_EXPECT('S'), ST_EXPECT('X'), ST_END};
    fake f;
    pthread_t th;
    fw_stream *s = NULL;
    fw_conn *c;
    fw_status st;
    int64_t t0, took;

    fake_start(&f, steps, 0, &th);
    c = connect_and_read_one(&f, &s, 1500);
    t0 = ms_now();
    st = fw_stream_close(s);
    took = ms_now() - t0;
    cr_assert_eq(st, FW_ERR_TIMEOUT, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "did not end the cancelled query") != NULL, "%s",
              fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 0);
    cr_assert_lt(took, 3500, "close took %lld ms with a 1500 ms timeout", (long long)took);
    fw_conn_free(c);
    fake_stop(&f, th);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d (types %s)", f.failed_step,
                 f.types);
    cr_assert_geq(f.ncancels, 1);
}

/* The same with no timeout set (the 5 s default) and a server that keeps
 * sending rows instead of ending the query. */
Test(review_fake, close_is_bounded_when_the_server_keeps_sending, .timeout = 40)
{
    static const uint8_t hello[] = {R_OK_MSG, K_MSG, Z_MSG};
    static const uint8_t described[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, T_DATA};
    static const uint8_t row[] = {D_ROW};
    static const uint8_t rows[] = {D_ROW, D_ROW, D_ROW, D_ROW, D_ROW, D_ROW, D_ROW, D_ROW};
    step steps[] = {HELLO_STREAM_ROW, ST_FLOOD(rows), ST_END};
    fake f;
    pthread_t th;
    fw_stream *s = NULL;
    fw_conn *c;
    fw_status st;
    int64_t t0, took;

    fake_start(&f, steps, 0, &th);
    c = connect_and_read_one(&f, &s, 0);
    t0 = ms_now();
    st = fw_stream_close(s);
    took = ms_now() - t0;
    cr_assert_eq(st, FW_ERR_TIMEOUT, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 0);
    cr_assert_geq(took, 4500);
    cr_assert_lt(took, 8000, "close took %lld ms (default bound 5 s)", (long long)took);
    fw_conn_free(c);
    fake_stop(&f, th);
}

/* The cancel handle: the request it sends, from any thread; NULL-safety. */
Test(review_fake, cancel_handle_sends_the_backend_key, .timeout = 30)
{
    static const uint8_t hello[] = {R_OK_MSG, K_MSG, Z_MSG};
    step steps[] = {ST_STARTUP, ST_SEND(hello), ST_CANCEL, ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_cancel *k;
    char ebuf[128] = "unchanged";
    fw_status st;

    cr_assert_null(fw_conn_get_cancel(NULL));
    cr_assert_eq(fw_cancel_request(NULL, 0, ebuf, sizeof ebuf), FW_ERR_USAGE);
    cr_assert_str_eq(ebuf, "no cancel handle");
    cr_assert_eq(fw_cancel_abort(NULL), FW_ERR_USAGE);
    fw_cancel_free(NULL);
    fake_start(&f, steps, 0, &th);
    st = fw_connect(ci_for(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    k = fw_conn_get_cancel(c);
    cr_assert_not_null(k);
    st = fw_cancel_request(k, 3000, ebuf, sizeof ebuf);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), ebuf);
    fw_conn_free(c);
    fake_stop(&f, th);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d", f.failed_step);
    cr_assert_eq(f.ncancels, 1);
    cr_assert_eq(be32(f.cancel_req), 16);
    cr_assert_eq(be32(f.cancel_req + 8), 12345, "the backend pid");
    cr_assert_eq(be32(f.cancel_req + 12), 7, "the secret key");
    /* The handle outlives the connection; the server is gone now. */
    st = fw_cancel_request(k, 2000, ebuf, sizeof ebuf);
    cr_assert_eq(st, FW_ERR_IO, "%s", fw_strerror(st));
    cr_assert(strstr(ebuf, "could not connect to send cancel request: errno ") == ebuf, "%s", ebuf);
    fw_cancel_free(k);
}

static void *
abort_soon(void *arg)
{
    usleep(300 * 1000);
    (void)fw_cancel_abort(arg);
    return NULL;
}

/* fw_cancel_abort from another thread (or a signal handler) ends a read
 * blocked on a silent server at once: the way out when a cancel is ignored. */
Test(review_fake, cancel_abort_ends_a_blocked_read, .timeout = 30)
{
    static const uint8_t hello[] = {R_OK_MSG, K_MSG, Z_MSG};
    static const uint8_t described[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, T_DATA};
    static const uint8_t row[] = {D_ROW};
    step steps[] = {HELLO_STREAM_ROW, ST_END};
    fake f;
    pthread_t th, aborter;
    fw_stream *s = NULL;
    fw_conn *c;
    fw_cancel *k;
    const char *json;
    size_t len;
    fw_status st;
    int64_t t0, took;

    fake_start(&f, steps, 0, &th);
    c = connect_and_read_one(&f, &s, 0);
    k = fw_conn_get_cancel(c);
    cr_assert_not_null(k);
    cr_assert_eq(pthread_create(&aborter, NULL, abort_soon, k), 0);
    t0 = ms_now();
    st = fw_stream_next(s, &json, &len);
    took = ms_now() - t0;
    pthread_join(aborter, NULL);
    cr_assert_eq(st, FW_ERR_IO, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_lt(took, 2000, "next returned after %lld ms", (long long)took);
    t0 = ms_now();
    cr_assert_neq(fw_stream_close(s), FW_OK);
    cr_assert_lt(ms_now() - t0, 500, "close of an aborted stream does not drain");
    fw_cancel_free(k);
    fw_conn_free(c);
    fake_stop(&f, th);
}

/*
 * extra_float_digits per stream: the first stream sets it and reads the
 * server's value; when that is already >= 1 (exact since PostgreSQL 12)
 * later streams send no setup statement, else every stream sets it again.
 */
static void
float_digits_setup(char server_value, const char *want_types)
{
    static const uint8_t hello[] = {R_OK_MSG, K_MSG, Z_MSG};
    const uint8_t setup_then_described[] = {
        '1', 0, 0, 0, 4, '2', 0, 0, 0, 4,
        'D', 0, 0, 0, 16, 0, 2, 0, 0, 0, 1, (uint8_t)server_value, 0, 0, 0, 1, '3',
        'C', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0,
        '1', 0, 0, 0, 4, '2', 0, 0, 0, 4, T_DATA};
    static const uint8_t described[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, T_DATA};
    static const uint8_t rows_done[] = {D_ROW, 'C', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ',
                                        '1', 0};
    static const uint8_t ready[] = {Z_MSG};
    const int again = server_value < '1';
    step steps[] = {ST_STARTUP, ST_SEND(hello),
                    ST_EXPECT('H'), ST_SEND(setup_then_described), ST_EXPECT('H'),
                    ST_SEND(rows_done), ST_EXPECT('S'), ST_SEND(ready),
                    ST_EXPECT('H'),
                    again ? (step)ST_SEND(setup_then_described) : (step)ST_SEND(described),
                    ST_EXPECT('H'), ST_SEND(rows_done), ST_EXPECT('S'), ST_SEND(ready), ST_END};
    fake f;
    pthread_t th;
    fw_conn *c = NULL;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;

    fake_start(&f, steps, 0, &th);
    st = fw_connect(ci_for(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    fw_conn_set_timeout(c, 5000);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(fw_stream_sql(c, "SELECT data FROM v", 0, NULL, 0, &s), FW_OK, "%s",
                     fw_conn_error_message(c));
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK, "%s", fw_conn_error_message(c));
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE, "%s", fw_conn_error_message(c));
        cr_assert_eq(fw_stream_close(s), FW_OK);
    }
    fw_conn_free(c);
    fake_stop(&f, th);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d", f.failed_step);
    cr_assert_str_eq(f.types, want_types);
}

Test(review_fake, float_digits_set_once_when_the_server_is_exact, .timeout = 30)
{
    /* Parse Bind Execute (setup), Parse Bind Describe Flush, Execute×2 Flush, Sync; then
     * the second stream without the setup. */
    float_digits_setup('1', "PBEPBDHEEHSPBDHEEHS");
}

Test(review_fake, float_digits_set_in_every_stream_when_the_server_rounds, .timeout = 30)
{
    float_digits_setup('0', "PBEPBDHEEHSPBEPBDHEEHS");
}
