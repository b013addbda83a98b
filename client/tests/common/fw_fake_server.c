/*
 * fw_fake_server.c — the scripted server of fw_fake_server.h.
 */
#include "fw_fake_server.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SSL_REQUEST_CODE 80877103u
#define CANCEL_REQUEST_CODE 80877102u

uint32_t
fwt_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
io_read(fwt_fake *f, uint8_t *p, size_t n)
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
io_write(fwt_fake *f, const uint8_t *p, size_t n)
{
    if (f->ssl)
        return SSL_write(f->ssl, p, (int)n) == (int)n;
    return send(f->fd, p, n, MSG_NOSIGNAL) == (ssize_t)n;
}

/* Reads one typed client message; its body (first 512 bytes) in last_p when 'p'. */
static int
read_msg(fwt_fake *f, char *type)
{
    uint8_t h[5];
    uint32_t len;
    uint8_t *body;
    int ok;

    if (!io_read(f, h, 5))
        return 0;
    len = fwt_be32(h + 1);
    if (len < 4 || len > (1u << 20))
        return 0;
    *type = (char)h[0];
    if (f->ntypes < sizeof f->types - 1)
        f->types[f->ntypes++] = (char)h[0];
    {
        char *ct = f->conn_types[f->cur];
        size_t n = strlen(ct);

        if (n < sizeof f->conn_types[0] - 1)
            ct[n] = (char)h[0];
    }
    body = malloc(len - 4 + 1);
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

/* The 8-byte SSLRequest, in clear text. */
static int
read_ssl_request(fwt_fake *f)
{
    uint8_t req[8];

    return io_read(f, req, 8) && fwt_be32(req) == 8 && fwt_be32(req + 4) == SSL_REQUEST_CODE;
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

static int
play(fwt_fake *f, const fwt_fake_step *st)
{
    switch (st->k) {
    case FWT_FAKE_SEND:
        return io_write(f, st->data, st->len);
    case FWT_FAKE_STARTUP: {
        uint8_t h[4];
        uint32_t len;

        if (!io_read(f, h, 4) || (len = fwt_be32(h)) < 8 || len - 4 > sizeof f->startup - 1)
            return 0;
        f->startup_len = len - 4;
        return io_read(f, f->startup, len - 4);
    }
    case FWT_FAKE_EXPECT: {
        char t = 0;
        int ok;

        while ((ok = read_msg(f, &t)) && t != st->type)
            ;
        return ok;
    }
    case FWT_FAKE_SSLREQUEST:
        return read_ssl_request(f);
    case FWT_FAKE_TLS:
        if (!read_ssl_request(f) || send(f->fd, "S", 1, MSG_NOSIGNAL) != 1)
            return 0;
        f->ssl = SSL_new(f->ctx);
        SSL_set_fd(f->ssl, f->fd);
        return SSL_accept(f->ssl) == 1;
    case FWT_FAKE_NOTLS:
        return read_ssl_request(f) && send(f->fd, "N", 1, MSG_NOSIGNAL) == 1;
    case FWT_FAKE_CANCEL: {
        int cfd = accept(f->lfd, NULL, NULL);
        uint8_t req[16];
        size_t got = 0;
        int ok = cfd >= 0;

        while (ok && got < sizeof req) {
            ssize_t r = recv(cfd, req + got, sizeof req - got, 0);

            if (r <= 0)
                break;
            got += (size_t)r;
        }
        ok = ok && got == sizeof req && fwt_be32(req + 4) == CANCEL_REQUEST_CODE;
        if (ok) {
            f->ncancels++;
            memcpy(f->cancel_req, req, sizeof req);
        }
        if (cfd >= 0)
            close(cfd);
        return ok;
    }
    case FWT_FAKE_DROP:
        close(f->fd);   /* no SSL_shutdown: no close_notify */
        f->fd = -1;
        return 1;
    case FWT_FAKE_FLOOD: {
        time_t until = time(NULL) + 20;

        while (time(NULL) < until && io_write(f, st->data, st->len))
            ;
        return 1;
    }
    case FWT_FAKE_ACCEPT: {
        int fd;

        if (f->nconns >= FWT_FAKE_MAX_CONNS)
            return 0;
        fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            return 0;
        f->fds[f->cur] = f->fd;
        f->ssls[f->cur] = f->ssl;
        f->cur = f->nconns++;
        f->fd = f->fds[f->cur] = fd;
        f->ssl = f->ssls[f->cur] = NULL;
        return 1;
    }
    case FWT_FAKE_USE:
        if (st->n < 0 || st->n >= f->nconns)
            return 0;
        f->fds[f->cur] = f->fd;
        f->ssls[f->cur] = f->ssl;
        f->cur = st->n;
        f->fd = f->fds[f->cur];
        f->ssl = f->ssls[f->cur];
        return 1;
    case FWT_FAKE_SLEEP: {
        struct timespec ts = {.tv_sec = st->n / 1000, .tv_nsec = (long)(st->n % 1000) * 1000000};

        nanosleep(&ts, NULL);
        return 1;
    }
    case FWT_FAKE_END:
        break;
    }
    return 1;
}

static void *
serve(void *arg)
{
    fwt_fake *f = arg;
    const fwt_fake_step *st;
    int i = 0;

    f->fd = accept(f->lfd, NULL, NULL);
    if (f->fd < 0)
        return NULL;
    f->fds[0] = f->fd;
    f->nconns = 1;
    for (st = f->steps; st->k != FWT_FAKE_END; st++, i++) {
        if (!play(f, st)) {
            f->failed_step = i;
            break;
        }
        if (f->fd < 0 && f->nconns == 1) {   /* dropped: the steps after it cannot run */
            st++;
            break;
        }
    }
    if (st->k == FWT_FAKE_END)
        f->failed_step = -1;
    f->fds[f->cur] = f->fd;
    f->ssls[f->cur] = f->ssl;
    for (int k = 0; k < f->nconns; k++) {
        /* Until the client closes (or 5 s). */
        struct pollfd pfd = {.fd = f->fds[k], .events = POLLIN};

        if (pfd.fd < 0)
            continue;
        while (poll(&pfd, 1, 5000) > 0) {
            uint8_t sink[256];

            if (recv(pfd.fd, sink, sizeof sink, 0) <= 0)
                break;
        }
    }
    return NULL;
}

/* Unsets every PG* variable of this (per-test) process. */
static void
clear_pg_environment(void)
{
    extern char **environ;
    char name[256];

    for (;;) {
        char **e = environ;
        const char *eq = NULL;

        while (*e && !(strncmp(*e, "PG", 2) == 0 && (eq = strchr(*e, '=')) != NULL))
            e++;
        if (!*e)
            return;
        cr_assert_lt((size_t)(eq - *e), sizeof name);
        memcpy(name, *e, (size_t)(eq - *e));
        name[eq - *e] = '\0';
        cr_assert_eq(unsetenv(name), 0);
    }
}

void
fwt_fake_start(fwt_fake *f, const fwt_fake_step *steps, int tls)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;

    clear_pg_environment();
    memset(f, 0, sizeof *f);
    f->steps = steps;
    f->fd = -1;
    for (int k = 0; k < FWT_FAKE_MAX_CONNS; k++)
        f->fds[k] = -1;
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
    cr_assert_eq(pthread_create(&f->thread, NULL, serve, f), 0);
}

void
fwt_fake_stop(fwt_fake *f)
{
    pthread_join(f->thread, NULL);
    if (f->nconns == 0) {   /* the thread accepted nothing */
        f->fds[0] = f->fd;
        f->ssls[0] = f->ssl;
        f->nconns = 1;
    }
    for (int k = 0; k < f->nconns; k++) {
        if (f->ssls[k])
            SSL_free(f->ssls[k]);
        if (f->fds[k] >= 0)
            close(f->fds[k]);
        f->ssls[k] = NULL;
        f->fds[k] = -1;
    }
    f->ssl = NULL;
    f->fd = -1;
    if (f->ctx)
        SSL_CTX_free(f->ctx);
    f->ctx = NULL;
    /* Connections made that the script did not accept. */
    for (;;) {
        struct pollfd pfd = {.fd = f->lfd, .events = POLLIN};
        int fd;

        if (poll(&pfd, 1, 0) <= 0 || (fd = accept(f->lfd, NULL, NULL)) < 0)
            break;
        f->unexpected++;
        close(fd);
    }
    close(f->lfd);
    f->lfd = -1;
}

const char *
fwt_fake_conninfo(const fwt_fake *f, const char *extra)
{
    static char bufs[4][512];
    static int next;
    char *ci = bufs[next++ % 4];

    snprintf(ci, sizeof bufs[0],
             "host=127.0.0.1 port=%d user=alice dbname=db connect_timeout=10 %s", f->port,
             extra ? extra : "");
    return ci;
}

int
fwt_fake_startup_has(const fwt_fake *f, const char *name, const char *value)
{
    size_t i = 4;   /* after the protocol version; startup[] ends with a NUL */

    while (i < f->startup_len && f->startup[i]) {
        const char *n = (const char *)f->startup + i;
        const char *v = n + strlen(n) + 1;

        if ((size_t)(v - (const char *)f->startup) >= f->startup_len)
            return 0;
        if (strcmp(n, name) == 0 && strcmp(v, value) == 0)
            return 1;
        i += strlen(n) + 1 + strlen(v) + 1;
    }
    return 0;
}
