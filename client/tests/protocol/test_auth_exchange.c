/*
 * Authentication requests from a scripted server on 127.0.0.1: a method we
 * do not support, a password request with no password at hand, and the
 * requests a hostile server (or a man in the middle) would make to get the
 * password or skip a step of SCRAM.  Each is refused with a clear error and
 * the password never leaves the client.  Needs no cluster.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_fake_server.h"
#include "fw_test.h"

Test(auth_exchange, unsupported_auth_method, .timeout = 30)
{
    static const uint8_t gss[] = {'R', 0, 0, 0, 8, 0, 0, 0, 7};
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(gss), FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_ERR_AUTH, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "authentication method 7 is not supported") != NULL,
              "%s", fw_conn_error_message(c));
    fw_conn_free(c);
    fwt_fake_stop(&f);
}

Test(auth_exchange, cleartext_without_password, .timeout = 30)
{
    static const uint8_t clear[] = {FWT_MSG_AUTH_CLEARTEXT};
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(clear), FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable passfile=/nonexistent"), &c);
    cr_assert_eq(st, FW_ERR_AUTH, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "password is required") != NULL, "%s",
              fw_conn_error_message(c));
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_str_eq(f.types, "", "client sent %s", f.types);
}

/*
 * A server that starts SCRAM and then asks for the password in clear text
 * (or as MD5) must not get it: SCRAM was chosen so that the password never
 * leaves the client, and a man in the middle could otherwise downgrade.
 */
static void
no_password_after_sasl(const uint8_t *second, size_t second_len)
{
    static const uint8_t sasl[] = {FWT_MSG_AUTH_SASL};
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(sasl), FWT_EXPECT('p'),
                             FWT_SEND_N(second, second_len), FWT_EXPECT('p'), FWT_DROP, FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable password=s3cr3t-pw"), &c);
    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "SASL") != NULL, "%s", fw_conn_error_message(c));
    cr_assert_null(strstr(fw_conn_error_message(c), "s3cr3t"));
    fw_conn_free(c);
    fwt_fake_stop(&f);
    /* One 'p' (SASLInitialResponse) only, and no password in it. */
    cr_assert_str_eq(f.types, "p", "client sent %s", f.types);
    cr_assert_null(memmem(f.last_p, f.last_p_len, "s3cr3t", 6));
}

Test(auth_exchange, no_cleartext_password_after_sasl_began, .timeout = 30)
{
    static const uint8_t clear[] = {FWT_MSG_AUTH_CLEARTEXT};

    no_password_after_sasl(clear, sizeof clear);
}

Test(auth_exchange, no_md5_password_after_sasl_began, .timeout = 30)
{
    static const uint8_t md5[] = {FWT_MSG_AUTH_MD5};

    no_password_after_sasl(md5, sizeof md5);
}

/* A second password request after the first was answered is refused too. */
Test(auth_exchange, no_second_password_request, .timeout = 30)
{
    static const uint8_t clear[] = {FWT_MSG_AUTH_CLEARTEXT};
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(clear), FWT_EXPECT('p'), FWT_SEND(clear),
                             FWT_EXPECT('p'), FWT_DROP, FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable password=pw"), &c);
    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_str_eq(f.types, "p", "client sent %s", f.types);
}

/* SASLFinal with no SASLContinue before it, AuthenticationOk twice. */
Test(auth_exchange, sasl_final_without_continue_is_refused, .timeout = 30)
{
    static const uint8_t sasl[] = {FWT_MSG_AUTH_SASL};
    static const uint8_t final[] = {'R', 0, 0, 0, 12, 0, 0, 0, 12, 'v', '=', 'x'};
    static const uint8_t ok[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(sasl), FWT_EXPECT('p'), FWT_SEND(final),
                             FWT_SEND(ok), FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable password=pw"), &c);
    cr_assert(st == FW_ERR_PROTOCOL || st == FW_ERR_AUTH, "%s: %s", fw_strerror(st),
              fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 0);
    fw_conn_free(c);
    fwt_fake_stop(&f);
}

Test(auth_exchange, authentication_ok_twice_is_refused, .timeout = 30)
{
    static const uint8_t twice[] = {FWT_MSG_AUTH_OK, FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY,
                                    FWT_MSG_READY};
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(twice), FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    fw_conn_free(c);
    fwt_fake_stop(&f);
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
    fwt_fake_step steps[] = {FWT_NOTLS, FWT_STARTUP, FWT_SEND_N(auth, auth_len), FWT_EXPECT('p'),
                             FWT_DROP, FWT_END};
    fwt_fake_step allow[] = {FWT_STARTUP, FWT_SEND_N(auth, auth_len), FWT_EXPECT('p'), FWT_DROP,
                             FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_status st;

    fwt_fake_start(&f, strcmp(sslmode, "allow") == 0 ? allow : steps, 0);
    /* allow then tries TLS on a second connection, which nobody answers */
    snprintf(extra, sizeof extra,
             "sslmode=%s channel_binding=require password=s3cr3t connect_timeout=2", sslmode);
    st = fw_connect(fwt_fake_conninfo(&f, extra), &c);
    cr_assert_neq(st, FW_OK);
    if (strcmp(sslmode, "allow") != 0)
        cr_assert(strstr(fw_conn_error_message(c), "channel binding") != NULL, "%s",
                  fw_conn_error_message(c));
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_str_eq(f.types, "", "client sent %s", f.types);
}

Test(auth_exchange, prefer_never_downgrades_channel_binding_require, .timeout = 30)
{
    static const uint8_t sasl[] = {FWT_MSG_AUTH_SASL};
    static const uint8_t clear[] = {FWT_MSG_AUTH_CLEARTEXT};
    static const uint8_t md5[] = {FWT_MSG_AUTH_MD5};

    no_downgrade_of_channel_binding("prefer", sasl, sizeof sasl);
    no_downgrade_of_channel_binding("prefer", clear, sizeof clear);
    no_downgrade_of_channel_binding("prefer", md5, sizeof md5);
    no_downgrade_of_channel_binding("allow", sasl, sizeof sasl);
    no_downgrade_of_channel_binding("allow", clear, sizeof clear);
}

