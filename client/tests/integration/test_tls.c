/*
 * TLS against the throw-away cluster: sslmode, certificate and host name
 * verification, client certificates, channel binding, revocation lists.
 * The SSLRequest answer itself (exactly one byte, nothing buffered after
 * it: CVE-2021-23222) is checked against a scripted server in
 * protocol/test_tls_peer.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw_test.h"

static fw_status
try_connect(const char *conninfo, fw_conn **c)
{
    *c = NULL;
    return fw_connect(conninfo, c);
}

/* "prefix sslrootcert=$FW_TEST_TLS_DIR/ca suffix" */
static const char *
with_ca(const char *prefix, const char *ca, const char *suffix)
{
    static char buf[1024];

    snprintf(buf, sizeof buf, "%s sslrootcert=%s %s", prefix, fwt_tls_file(ca), suffix);
    return buf;
}

Test(tls, require_uses_tls)
{
    fw_conn *c;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_tcp("fw_tls", "sslmode=require password=fw_tls_pw"));
    cr_assert_eq(fw_conn_tls(c), 1);
    fw_conn_free(c);
}

Test(tls, verify_full_by_name_and_by_ip)
{
    char ci[1024];
    fw_conn *c;

    FWT_REQUIRE_SERVER();
    snprintf(ci, sizeof ci,
             "host=localhost hostaddr=127.0.0.1 port=%s user=fw_tls password=fw_tls_pw "
             "dbname=postgres sslmode=verify-full sslrootcert=%s",
             fwt_port(), fwt_tls_file("ca.crt"));
    c = fwt_connect(ci);
    cr_assert_eq(fw_conn_tls(c), 1);
    fw_conn_free(c);
    c = fwt_connect(fwt_tcp("fw_tls", with_ca("password=fw_tls_pw sslmode=verify-full", "ca.crt", "")));
    cr_assert_eq(fw_conn_tls(c), 1);
    fw_conn_free(c);
}

Test(tls, verify_full_wrong_ca_fails)
{
    fw_conn *c;
    fw_status st;

    FWT_REQUIRE_SERVER();
    st = try_connect(fwt_tcp("fw_tls", with_ca("password=fw_tls_pw sslmode=verify-full", "other-ca.crt", "")), &c);
    cr_assert_eq(st, FW_ERR_TLS, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "certificate verify") != NULL ||
              strstr(fw_conn_error_message(c), "verification failed") != NULL,
              "%s", fw_conn_error_message(c));
    fw_conn_free(c);
    st = try_connect(fwt_tcp("fw_tls", with_ca("password=fw_tls_pw sslmode=verify-ca", "other-ca.crt", "")), &c);
    cr_assert_eq(st, FW_ERR_TLS, "%s", fw_conn_error_message(c));
    fw_conn_free(c);
}

Test(tls, verify_full_wrong_host_name_fails_but_verify_ca_passes)
{
    char ci[1024];
    fw_conn *c;
    fw_status st;

    FWT_REQUIRE_SERVER();
    snprintf(ci, sizeof ci,
             "host=not-in-cert.invalid hostaddr=127.0.0.1 port=%s user=fw_tls "
             "password=fw_tls_pw dbname=postgres sslmode=verify-full sslrootcert=%s",
             fwt_port(), fwt_tls_file("ca.crt"));
    st = try_connect(ci, &c);
    cr_assert_eq(st, FW_ERR_TLS, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "does not match host name \"not-in-cert.invalid\"")
              != NULL, "%s", fw_conn_error_message(c));
    fw_conn_free(c);

    snprintf(ci, sizeof ci,
             "host=not-in-cert.invalid hostaddr=127.0.0.1 port=%s user=fw_tls "
             "password=fw_tls_pw dbname=postgres sslmode=verify-ca sslrootcert=%s",
             fwt_port(), fwt_tls_file("ca.crt"));
    c = fwt_connect(ci);
    fw_conn_free(c);
}

Test(tls, verify_without_root_certificate_fails)
{
    fw_conn *c;
    fw_status st;

    FWT_REQUIRE_SERVER();
    st = try_connect(fwt_tcp("fw_tls", "password=fw_tls_pw sslmode=verify-ca "
                                       "sslrootcert=/nonexistent/root.crt"), &c);
    cr_assert_eq(st, FW_ERR_TLS, "%s", fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "/nonexistent/root.crt") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
}

Test(tls, hostssl_role_refused_without_tls)
{
    fw_conn *c;
    fw_status st;

    FWT_REQUIRE_SERVER();
    st = try_connect(fwt_tcp("fw_tls", "password=fw_tls_pw sslmode=disable"), &c);
    cr_assert_eq(st, FW_ERR_AUTH, "%s", fw_conn_error_message(c));
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "28000");
    fw_conn_free(c);
}

Test(tls, client_certificate)
{
    char extra[1024];
    fw_conn *c;
    fw_status st;
    char *who;

    FWT_REQUIRE_SERVER();
    snprintf(extra, sizeof extra, "sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s",
             fwt_tls_file("ca.crt"), fwt_tls_file("client.crt"), fwt_tls_file("client.key"));
    c = fwt_connect(fwt_tcp("fw_cert", extra));
    who = fwt_one_row(c, "SELECT to_jsonb(current_user) AS data", 0, NULL);
    cr_assert_str_eq(who, "\"fw_cert\"");
    free(who);
    fw_conn_free(c);

    /* Without the certificate the server refuses. */
    st = try_connect(fwt_tcp("fw_cert", with_ca("sslmode=verify-full", "ca.crt", "sslcert=/nonexistent.crt")), &c);
    cr_assert_neq(st, FW_OK);
    fw_conn_free(c);
}

Test(tls, channel_binding_require)
{
    fw_conn *c;
    fw_status st;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_tcp("fw_tls", "password=fw_tls_pw sslmode=require channel_binding=require"));
    cr_assert_eq(fw_conn_tls(c), 1);
    fw_conn_free(c);
    /* verify-full + SCRAM-PLUS with the plain SCRAM role too */
    c = fwt_connect(fwt_tcp("fw_scram", with_ca("password=fw_scram_pw sslmode=verify-full", "ca.crt",
                                                "channel_binding=require")));
    fw_conn_free(c);

    st = try_connect(fwt_tcp("fw_scram", "password=fw_scram_pw sslmode=disable "
                                         "channel_binding=require"), &c);
    cr_assert_neq(st, FW_OK);
    cr_assert(strstr(fw_conn_error_message(c), "channel") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);

    st = try_connect(fwt_tcp("fw_trust", "sslmode=require channel_binding=require"), &c);
    cr_assert_eq(st, FW_ERR_AUTH, "%s", fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "without channel binding") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);

    st = try_connect(fwt_tcp("fw_md5", "password=fw_md5_pw sslmode=require "
                                       "channel_binding=require"), &c);
    cr_assert_eq(st, FW_ERR_AUTH, "%s", fw_conn_error_message(c));
    fw_conn_free(c);

    /* Over the socket there is no TLS, so no channel binding. */
    st = try_connect(fwt_sock("fw_scram", "password=fw_scram_pw channel_binding=require"), &c);
    cr_assert_eq(st, FW_ERR_AUTH, "%s", fw_conn_error_message(c));
    fw_conn_free(c);
}

Test(tls, channel_binding_disable_and_prefer)
{
    fw_conn *c;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_tcp("fw_tls", "password=fw_tls_pw sslmode=require channel_binding=disable"));
    fw_conn_free(c);
    c = fwt_connect(fwt_tcp("fw_tls", "password=fw_tls_pw sslmode=require channel_binding=prefer"));
    fw_conn_free(c);
}

Test(tls, allow_retries_with_tls_when_refused_without)
{
    fw_conn *c;

    FWT_REQUIRE_SERVER();
    /* fw_tls is hostssl only: the plain attempt is rejected, the TLS one passes. */
    c = fwt_connect(fwt_tcp("fw_tls", "password=fw_tls_pw sslmode=allow"));
    cr_assert_eq(fw_conn_tls(c), 1);
    fw_conn_free(c);
}

/* Makes dir/empty.crl and dir/revoked.crl (revoking the server's
 * certificate) with the test CA; 0 when the CA key is not readable. */
static int
make_crls(const char *dir)
{
    char cmd[4096];
    const char *tls = getenv("FW_TEST_TLS_DIR");

    if (!tls || access(fwt_tls_file("ca.key"), R_OK) != 0)
        return 0;
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'; touch index.txt; echo 01 > crlnumber; "
             "printf '[ca]\\ndefault_ca=d\\n[d]\\ndatabase=index.txt\\ncrlnumber=crlnumber\\n"
             "default_md=sha256\\ndefault_crl_days=2\\n' > ca.cnf; "
             "openssl ca -config ca.cnf -gencrl -keyfile '%s/ca.key' -cert '%s/ca.crt' "
             "-out empty.crl 2>/dev/null; "
             "openssl ca -config ca.cnf -revoke '%s/server.crt' -keyfile '%s/ca.key' "
             "-cert '%s/ca.crt' 2>/dev/null; "
             "openssl ca -config ca.cnf -gencrl -keyfile '%s/ca.key' -cert '%s/ca.crt' "
             "-out revoked.crl 2>/dev/null",
             dir, tls, tls, tls, tls, tls, tls, tls);
    return system(cmd) == 0;
}

Test(tls, certificate_revocation_list)
{
    char dir[] = "/tmp/fw_crl_XXXXXX";
    char extra[1024];
    fw_conn *c;
    fw_status st;
    char cleanup[128];

    FWT_REQUIRE_SERVER();
    cr_assert_not_null(mkdtemp(dir));
    if (!make_crls(dir))
        cr_skip_test("SKIPPED: cannot read the test CA key to make a CRL");
    snprintf(extra, sizeof extra, "password=fw_tls_pw sslmode=verify-full sslrootcert=%s "
             "sslcrl=%s/empty.crl", fwt_tls_file("ca.crt"), dir);
    c = fwt_connect(fwt_tcp("fw_tls", extra));
    fw_conn_free(c);
    snprintf(extra, sizeof extra, "password=fw_tls_pw sslmode=verify-full sslrootcert=%s "
             "sslcrl=%s/revoked.crl", fwt_tls_file("ca.crt"), dir);
    st = try_connect(fwt_tcp("fw_tls", extra), &c);
    cr_assert_eq(st, FW_ERR_TLS, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "revoked") != NULL, "%s", fw_conn_error_message(c));
    fw_conn_free(c);
    snprintf(cleanup, sizeof cleanup, "rm -rf '%s'", dir);
    (void)!system(cleanup);
}
