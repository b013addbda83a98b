/*
 * TLS against a scripted server on 127.0.0.1 (with a throw-away self-signed
 * certificate): the answer to the SSLRequest ('N', or 'S' followed by bytes
 * that were not encrypted: CVE-2021-23222), root certificates named but
 * missing or present but unrelated, and a TLS peer that vanishes without
 * close_notify.  Needs no cluster.
 */
#define _GNU_SOURCE
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_fake_server.h"
#include "fw_test.h"

Test(tls_peer, prefer_goes_on_without_tls_when_the_server_has_none, .timeout = 30)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    /* FWT_NOTLS checks that the first message is the 8-byte SSLRequest */
    fwt_fake_step steps[] = {FWT_NOTLS, FWT_STARTUP, FWT_SEND(hello), FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=prefer"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_tls(c), 0);
    cr_assert_eq(fw_conn_backend_pid(c), FWT_BACKEND_PID);
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d", f.failed_step);
    cr_assert(fwt_fake_startup_has(&f, "user", "alice"));
}

Test(tls_peer, server_without_tls_refused_by_require, .timeout = 30)
{
    fwt_fake_step steps[] = {FWT_NOTLS, FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=require"), &c);
    cr_assert_eq(st, FW_ERR_TLS, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "SSL was required") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d", f.failed_step);
}

/* 'S' and more bytes in the same packet: a man in the middle injecting
 * plain text before the handshake (CVE-2021-23222). */
Test(tls_peer, bytes_after_ssl_response_are_refused, .timeout = 30)
{
    static const uint8_t reply[] = {'S', 'E', 0, 0, 0, 0x10, 'g', 'a', 'r', 'b', 'a', 'g', 'e', 0};
    fwt_fake_step steps[] = {FWT_SSLREQUEST, FWT_SEND(reply), FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=require"), &c);
    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "unencrypted data after SSL response") != NULL,
              "%s", fw_conn_error_message(c));
    fw_conn_free(c);
    fwt_fake_stop(&f);
}

/*
 * A TLS server that vanishes without close_notify (killed, network cut):
 * OpenSSL 3 reports "unexpected eof while reading"; that is a lost
 * connection (FW_ERR_IO, retriable), not a TLS failure.
 */
Test(tls_peer, tls_peer_gone_without_close_notify_is_io, .timeout = 30)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    fwt_fake_step steps[] = {FWT_TLS, FWT_STARTUP, FWT_SEND(hello), FWT_EXPECT('Q'), FWT_DROP,
                             FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 1);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=require"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_tls(c), 1);
    st = fw_exec_simple(c, "SELECT 1");
    cr_assert_eq(st, FW_ERR_IO, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_error_retriable(c), 1);
    cr_assert_eq(fw_conn_ok(c), 0);
    fw_conn_free(c);
    fwt_fake_stop(&f);
}

/*
 * sslrootcert naming a file that does not exist, as libpq: require does not
 * verify (no root certificate at hand), verify-ca/verify-full fail with a
 * message that says the file is missing.
 */
Test(tls_peer, missing_explicit_root_certificate, .timeout = 30)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    fwt_fake_step steps[] = {FWT_TLS, FWT_STARTUP, FWT_SEND(hello), FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 1);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=require sslrootcert=/nonexistent/root.crt"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_tls(c), 1);
    fw_conn_free(c);
    fwt_fake_stop(&f);

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
        fwt_fake_step tls_only[] = {FWT_TLS, FWT_END};

        fwt_fake_start(&f, tls_only, 1);
        c = NULL;
        st = fw_connect(
            fwt_fake_conninfo(&f, "sslmode=verify-full sslrootcert=/nonexistent/root.crt"), &c);
        cr_assert_eq(st, FW_ERR_TLS, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
        cr_assert(strstr(fw_conn_error_message(c),
                         "root certificate file \"/nonexistent/root.crt\" does not exist") != NULL,
                  "%s", fw_conn_error_message(c));
        fw_conn_free(c);
        fwt_fake_stop(&f);
    }
}

/*
 * sslmode=require with ~/.postgresql/root.crt present verifies the chain
 * (libpq): a server whose certificate that CA did not sign is refused
 * with FW_ERR_TLS and the verification error.
 */
Test(tls_peer, require_verifies_when_a_root_certificate_is_present, .timeout = 30)
{
    fwt_fake_step steps[] = {FWT_TLS, FWT_END};
    char home[] = "/tmp/fw_tls_peer_homeXXXXXX";
    char dir[256], path[300];
    fwt_fake f;
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

    fwt_fake_start(&f, steps, 1);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=require"), &c);
    cr_assert_eq(st, FW_ERR_TLS, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "certificate verification failed") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
    fwt_fake_stop(&f);
    unlink(path);
    rmdir(dir);
    rmdir(home);
}

