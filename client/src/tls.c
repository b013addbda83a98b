/*
 * tls.c — TLS over OpenSSL: the context per sslmode, certificate and host
 * name verification, the handshake on a non-blocking socket, reads and
 * writes, and the tls-server-end-point channel binding data.
 *
 * With crypto.c the only file that includes OpenSSL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "internal.h"

struct fw_tls {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO_METHOD *bio_method;   /* a socket BIO whose writes never raise SIGPIPE */
    int fd;
    int verify_host;
    char *host;
};

/* The last OpenSSL error as text (the queue is emptied). */
static const char *
ssl_errstr(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    unsigned long next;

    if (e == 0) {
        snprintf(buf, len, "no error detail");
        return buf;
    }
    while ((next = ERR_get_error()) != 0)
        e = next;   /* keep the deepest one: usually the cause */
    ERR_error_string_n(e, buf, len);
    return buf;
}

/* ~/.postgresql/<name>, or NULL when HOME is unknown. */
static char *
home_file(const char *name)
{
    const char *home = getenv("HOME");
    char *path;
    size_t n;

    if (!home || !*home)
        return NULL;
    n = strlen(home) + strlen("/.postgresql/") + strlen(name) + 1;
    path = malloc(n);
    if (path)
        snprintf(path, n, "%s/.postgresql/%s", home, name);
    return path;
}

static int
file_exists(const char *path)
{
    struct stat st;

    return path && stat(path, &st) == 0;
}

static int
is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* libpq's rule for the private key file: not readable by others, unless
 * root owns it with at most group read (0640). */
static int
key_permissions_ok(const char *path, fw_error *err)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        fw_error_set(err, FW_ERR_TLS, "could not open private key file \"%s\": %s", path,
                     strerror(errno));
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        fw_error_set(err, FW_ERR_TLS, "private key file \"%s\" is not a regular file", path);
        return 0;
    }
    if ((st.st_uid != 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) ||
        (st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)))) {
        fw_error_set(err, FW_ERR_TLS,
                     "private key file \"%s\" has group or world access; permissions should be "
                     "u=rw (0600) or less",
                     path);
        return 0;
    }
    return 1;
}

static fw_status
configure(fw_tls *t, const fw_tls_config *cfg, fw_error *err)
{
    char ebuf[256];
    char *def_root = NULL, *def_cert = NULL, *def_key = NULL, *def_crl = NULL;
    const char *root = cfg->rootcert, *cert = cfg->cert, *key = cfg->key, *crl = cfg->crl;
    int verify_ca = cfg->mode == FW_SSL_VERIFY_CA || cfg->mode == FW_SSL_VERIFY_FULL;
    fw_status st = FW_ERR_TLS;

    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx) {
        fw_error_set(err, FW_ERR_TLS, "could not create TLS context: %s",
                     ssl_errstr(ebuf, sizeof ebuf));
        return FW_ERR_TLS;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    if (!root || !*root) {
        def_root = home_file("root.crt");
        root = file_exists(def_root) ? def_root : NULL;
    }
    /* As libpq: with a root certificate at hand, require verifies the chain. */
    if (root && cfg->mode == FW_SSL_REQUIRE)
        verify_ca = 1;
    if (verify_ca) {
        if (!root) {
            fw_error_set(err, FW_ERR_TLS,
                         "root certificate file \"%s\" does not exist; either provide the file "
                         "or change sslmode to disable server certificate verification",
                         def_root ? def_root : "~/.postgresql/root.crt");
            goto out;
        }
        if (SSL_CTX_load_verify_locations(t->ctx, root, NULL) != 1) {
            fw_error_set(err, FW_ERR_TLS, "could not read root certificate file \"%s\": %s",
                         root, ssl_errstr(ebuf, sizeof ebuf));
            goto out;
        }
        if (!crl || !*crl) {
            def_crl = home_file("root.crl");
            crl = file_exists(def_crl) ? def_crl : NULL;
        }
        if (crl) {
            X509_STORE *store = SSL_CTX_get_cert_store(t->ctx);

            if (X509_STORE_load_locations(store, crl, NULL) != 1) {
                fw_error_set(err, FW_ERR_TLS, "could not read certificate revocation list \"%s\": %s",
                             crl, ssl_errstr(ebuf, sizeof ebuf));
                goto out;
            }
            X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
        }
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
    }

    if (!cert || !*cert) {
        def_cert = home_file("postgresql.crt");
        cert = file_exists(def_cert) ? def_cert : NULL;
    }
    if (cert) {
        if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
            fw_error_set(err, FW_ERR_TLS, "could not read certificate file \"%s\": %s", cert,
                         ssl_errstr(ebuf, sizeof ebuf));
            goto out;
        }
        if (!key || !*key) {
            def_key = home_file("postgresql.key");
            key = def_key;
        }
        if (!key || !key_permissions_ok(key, err))
            goto out;
        if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1) {
            fw_error_set(err, FW_ERR_TLS, "could not load private key file \"%s\": %s", key,
                         ssl_errstr(ebuf, sizeof ebuf));
            goto out;
        }
        if (SSL_CTX_check_private_key(t->ctx) != 1) {
            fw_error_set(err, FW_ERR_TLS, "certificate does not match private key file \"%s\"",
                         key);
            goto out;
        }
    }
    t->verify_host = cfg->mode == FW_SSL_VERIFY_FULL;
    st = FW_OK;
out:
    free(def_root);
    free(def_cert);
    free(def_key);
    free(def_crl);
    return st;
}

/*
 * OpenSSL's socket BIO writes with write(), which raises SIGPIPE when the
 * server has gone; a library must not kill its caller for that.  Writes go
 * through send(MSG_NOSIGNAL) instead; everything else is the stock socket
 * BIO's.
 */
static int
bio_nosigpipe_write(BIO *b, const char *data, int len)
{
    int fd = (int)BIO_get_fd(b, NULL);
    ssize_t n;

    BIO_clear_retry_flags(b);
    n = send(fd, data, (size_t)len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)n;
}

static fw_status
attach_socket(fw_tls *t, int fd)
{
    const BIO_METHOD *base = BIO_s_socket();
    BIO *bio;

    t->bio_method = BIO_meth_new(BIO_TYPE_SOCKET, "fraiseql_wire socket");
    if (!t->bio_method ||
        !BIO_meth_set_write(t->bio_method, bio_nosigpipe_write) ||
        !BIO_meth_set_read(t->bio_method, BIO_meth_get_read(base)) ||
        !BIO_meth_set_puts(t->bio_method, BIO_meth_get_puts(base)) ||
        !BIO_meth_set_ctrl(t->bio_method, BIO_meth_get_ctrl(base)) ||
        !BIO_meth_set_create(t->bio_method, BIO_meth_get_create(base)) ||
        !BIO_meth_set_destroy(t->bio_method, BIO_meth_get_destroy(base)))
        return FW_ERR_TLS;
    bio = BIO_new(t->bio_method);
    if (!bio)
        return FW_ERR_TLS;
    BIO_set_fd(bio, fd, BIO_NOCLOSE);
    SSL_set_bio(t->ssl, bio, bio);
    return FW_OK;
}

fw_status
fw_tls_new(int fd, const fw_tls_config *cfg, fw_tls **out, fw_error *err)
{
    char ebuf[256];
    fw_tls *t = calloc(1, sizeof *t);

    *out = NULL;
    if (!t) {
        fw_error_set(err, FW_ERR_MEMORY, "out of memory");
        return FW_ERR_MEMORY;
    }
    t->fd = fd;
    if (cfg->host && !(t->host = strdup(cfg->host))) {
        free(t);
        fw_error_set(err, FW_ERR_MEMORY, "out of memory");
        return FW_ERR_MEMORY;
    }
    ERR_clear_error();
    if (configure(t, cfg, err) != FW_OK) {
        fw_tls_free(t);
        return FW_ERR_TLS;
    }
    t->ssl = SSL_new(t->ctx);
    if (!t->ssl || attach_socket(t, fd) != FW_OK) {
        fw_error_set(err, FW_ERR_TLS, "could not establish TLS connection: %s",
                     ssl_errstr(ebuf, sizeof ebuf));
        fw_tls_free(t);
        return FW_ERR_TLS;
    }
    if (cfg->sni && cfg->host && *cfg->host && !is_ip_literal(cfg->host) &&
        SSL_set_tlsext_host_name(t->ssl, cfg->host) != 1) {
        fw_error_set(err, FW_ERR_TLS, "could not set TLS Server Name Indication: %s",
                     ssl_errstr(ebuf, sizeof ebuf));
        fw_tls_free(t);
        return FW_ERR_TLS;
    }
    *out = t;
    return FW_OK;
}

/* verify-full: SAN DNS entries (the CN only without any), or IP entries. */
static int
check_host(fw_tls *t, fw_error *err)
{
    X509 *peer = SSL_get1_peer_certificate(t->ssl);
    int ok;

    if (!peer) {
        fw_error_set(err, FW_ERR_TLS, "server did not present a certificate");
        return 0;
    }
    if (!t->host || !*t->host) {
        X509_free(peer);
        fw_error_set(err, FW_ERR_TLS, "host name must be specified for a verified TLS connection");
        return 0;
    }
    if (is_ip_literal(t->host))
        ok = X509_check_ip_asc(peer, t->host, 0) == 1;
    else
        ok = X509_check_host(peer, t->host, strlen(t->host), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                             NULL) == 1;
    X509_free(peer);
    if (!ok)
        fw_error_set(err, FW_ERR_TLS, "server certificate does not match host name \"%s\"",
                     t->host);
    return ok;
}

int
fw_tls_handshake(fw_tls *t, fw_error *err)
{
    char ebuf[256];
    int rc;

    ERR_clear_error();
    rc = SSL_connect(t->ssl);
    if (rc == 1) {
        if (t->verify_host && !check_host(t, err))
            return -1;
        return 0;
    }
    switch (SSL_get_error(t->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        return FW_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return FW_TLS_WANT_WRITE;
    case SSL_ERROR_SYSCALL:
        fw_error_set(err, FW_ERR_TLS, "TLS handshake failed: %s",
                     errno ? strerror(errno) : "server closed the connection");
        return -1;
    default: {
        long vr = SSL_get_verify_result(t->ssl);

        if (vr != X509_V_OK)
            fw_error_set(err, FW_ERR_TLS, "server certificate verification failed: %s",
                         X509_verify_cert_error_string(vr));
        else
            fw_error_set(err, FW_ERR_TLS, "TLS handshake failed: %s",
                         ssl_errstr(ebuf, sizeof ebuf));
        return -1;
    }
    }
}

static long
io_result(fw_tls *t, int rc, const char *what, fw_error *err)
{
    char ebuf[256];

    switch (SSL_get_error(t->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        return FW_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return FW_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0 || errno == EPIPE || errno == ECONNRESET)
            return 0;   /* the peer went away: the caller reports a closed connection */
        fw_error_set(err, FW_ERR_IO, "TLS %s failed: %s", what, strerror(errno));
        return -1;
    default:
        fw_error_set(err, FW_ERR_TLS, "TLS %s failed: %s", what, ssl_errstr(ebuf, sizeof ebuf));
        return -1;
    }
}

long
fw_tls_read(fw_tls *t, void *p, size_t n, fw_error *err)
{
    int rc;

    if (n > 0x7fffffff)
        n = 0x7fffffff;
    ERR_clear_error();
    errno = 0;
    rc = SSL_read(t->ssl, p, (int)n);
    return rc > 0 ? rc : io_result(t, rc, "read", err);
}

long
fw_tls_write(fw_tls *t, const void *p, size_t n, fw_error *err)
{
    int rc;
    long r;

    if (n > 0x7fffffff)
        n = 0x7fffffff;
    ERR_clear_error();
    errno = 0;
    rc = SSL_write(t->ssl, p, (int)n);
    if (rc > 0)
        return rc;
    r = io_result(t, rc, "write", err);
    if (r == 0) {
        fw_error_set(err, FW_ERR_IO, "server closed the connection unexpectedly");
        return -1;
    }
    return r;
}

fw_status
fw_tls_server_end_point(fw_tls *t, uint8_t *out, size_t cap, size_t *len, fw_error *err)
{
    X509 *peer = SSL_get1_peer_certificate(t->ssl);
    int md_nid = NID_undef, pk_nid;
    const EVP_MD *md;
    unsigned int n = 0;

    *len = 0;
    if (!peer) {
        fw_error_set(err, FW_ERR_AUTH, "could not get server certificate for channel binding");
        return FW_ERR_AUTH;
    }
    if (!OBJ_find_sigid_algs(X509_get_signature_nid(peer), &md_nid, &pk_nid)) {
        X509_free(peer);
        fw_error_set(err, FW_ERR_AUTH, "could not determine server certificate signature algorithm");
        return FW_ERR_AUTH;
    }
    /* RFC 5929 section 4.1: MD5 and SHA-1 are replaced by SHA-256. */
    if (md_nid == NID_md5 || md_nid == NID_sha1)
        md_nid = NID_sha256;
    md = EVP_get_digestbynid(md_nid);
    if (!md || (size_t)EVP_MD_get_size(md) > cap || X509_digest(peer, md, out, &n) != 1) {
        X509_free(peer);
        fw_error_set(err, FW_ERR_AUTH,
                     "could not hash server certificate for channel binding (algorithm %s)",
                     OBJ_nid2sn(md_nid));
        return FW_ERR_AUTH;
    }
    X509_free(peer);
    *len = n;
    return FW_OK;
}

int
fw_tls_pending(fw_tls *t)
{
    return t && t->ssl && SSL_pending(t->ssl) > 0;
}

void
fw_tls_free(fw_tls *t)
{
    if (!t)
        return;
    if (t->ssl) {
        ERR_clear_error();
        (void)SSL_shutdown(t->ssl);   /* best effort on a non-blocking socket */
        SSL_free(t->ssl);
    }
    SSL_CTX_free(t->ctx);
    BIO_meth_free(t->bio_method);   /* after SSL_free released the BIO */
    free(t->host);
    free(t);
    ERR_clear_error();
}
