/*
 * The authentication exchange on its own (auth.c): canned
 * AuthenticationRequests in, the answer queued or the refusal out, with its
 * error class and message.  No server, no socket: the connection handle is
 * a bare one whose output buffer is inspected.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "crypto.h"
#include "internal.h"

/* One test's connection, conninfo and exchange. */
typedef struct fixture {
    fw_conn *c;
    fw_conninfo *ci;
    fw_auth a;
    uint8_t body[128];
} fixture;

static void
setup(fixture *f, const char *conninfo)
{
    memset(f, 0, sizeof *f);
    cr_assert_eq(fw_conninfo_parse(conninfo, FW_CONNINFO_NO_ENV, &f->ci), FW_OK, "%s",
                 f->ci && fw_conninfo_error_message(f->ci) ? fw_conninfo_error_message(f->ci) : "");
    cr_assert_gt(f->ci->nhosts, 0);
    f->c = calloc(1, sizeof *f->c);
    cr_assert_not_null(f->c);
    f->c->sock.fd = -1;
    f->c->err.cls = FW_OK;
    fw_buf_init(&f->c->wbuf, 0);
    fw_auth_begin(&f->a, f->ci, &f->ci->hosts[0]);
}

static void
teardown(fixture *f)
{
    fw_auth_end(&f->a);
    fw_buf_free(&f->c->wbuf);
    fw_error_clear(&f->c->err);
    free(f->c);
    fw_conninfo_free(f->ci);
}

static void
put_be32(uint8_t *p, int32_t v)
{
    p[0] = (uint8_t)((uint32_t)v >> 24);
    p[1] = (uint8_t)((uint32_t)v >> 16);
    p[2] = (uint8_t)((uint32_t)v >> 8);
    p[3] = (uint8_t)v;
}

/* An AuthenticationRequest: the code, then `extra` (len bytes). */
static fw_msg
request(fixture *f, fw_auth_code code, const void *extra, size_t len)
{
    fw_msg m;

    cr_assert_leq(4 + len, sizeof f->body);
    put_be32(f->body, (int32_t)code);
    if (len > 0)
        memcpy(f->body + 4, extra, len);
    m.type = FW_BE_AUTHENTICATION;
    m.body = f->body;
    m.len = (uint32_t)(4 + len);
    return m;
}

static fw_status
send_request(fixture *f, fw_auth_code code, const void *extra, size_t len, int *done)
{
    fw_msg m = request(f, code, extra, len);

    return fw_auth_message(f->c, &f->a, &m, done);
}

static void
assert_refused(fixture *f, fw_status got, fw_status cls, const char *message)
{
    cr_assert_eq(got, cls, "status %d, expected %d (%s)", got, cls,
                 f->c->err.message ? f->c->err.message : "no message");
    cr_assert_eq(f->c->err.cls, cls);
    cr_assert_str_eq(f->c->err.message, message);
    cr_assert_eq(f->c->wbuf.len, 0, "nothing is sent after a refusal");
}

#define CONNINFO "host=127.0.0.1 port=5432 user=alice password=s3cret passfile=/nonexistent"

Test(auth_methods, refuses_methods_it_does_not_speak)
{
    static const fw_auth_code refused[] = {FW_AUTH_KERBEROS_V5, FW_AUTH_SCM_CREDENTIAL,
                                           FW_AUTH_GSS, FW_AUTH_GSS_CONTINUE, FW_AUTH_SSPI};

    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        fixture f;
        char want[64];
        int done = -1;

        setup(&f, CONNINFO);
        snprintf(want, sizeof want, "authentication method %d is not supported", (int)refused[i]);
        assert_refused(&f, send_request(&f, refused[i], NULL, 0, &done), FW_ERR_AUTH, want);
        cr_assert_eq(done, 0);
        teardown(&f);
    }
}

Test(auth_methods, refuses_an_unknown_code)
{
    fixture f;
    int done;

    setup(&f, CONNINFO);
    assert_refused(&f, send_request(&f, (fw_auth_code)99, NULL, 0, &done), FW_ERR_AUTH,
                   "authentication method 99 is not supported");
    teardown(&f);
}

Test(auth_methods, only_authentication_requests_are_expected)
{
    fixture f;
    fw_msg m;
    int done;

    setup(&f, CONNINFO);
    m = request(&f, FW_AUTH_OK, NULL, 0);
    m.type = FW_BE_READY_FOR_QUERY;
    assert_refused(&f, fw_auth_message(f.c, &f.a, &m, &done), FW_ERR_PROTOCOL,
                   "expected an authentication request from the server");
    teardown(&f);
}

Test(auth_methods, ok_without_a_password)
{
    fixture f;
    int done = 0;

    setup(&f, CONNINFO);
    cr_assert_eq(send_request(&f, FW_AUTH_OK, NULL, 0, &done), FW_OK);
    cr_assert_eq(done, 1);
    cr_assert_eq(f.c->wbuf.len, 0);
    teardown(&f);
}

Test(auth_methods, cleartext_sends_the_password_marked_secret)
{
    static const uint8_t want[] = {'p', 0, 0, 0, 11, 's', '3', 'c', 'r', 'e', 't', 0};
    fixture f;
    int done = -1;

    setup(&f, CONNINFO);
    cr_assert_eq(send_request(&f, FW_AUTH_CLEARTEXT_PASSWORD, NULL, 0, &done), FW_OK);
    cr_assert_eq(done, 0);
    cr_assert_eq(f.c->wbuf.len, sizeof want);
    cr_assert_arr_eq(f.c->wbuf.data, want, sizeof want);
    cr_assert_eq(f.c->wbuf_secret, 1, "the password is wiped from the buffer once sent");
    teardown(&f);
}

/* Without a password the password file's is sent, found by the rule of
 * fw_pgpass_for_host: the default socket directory is "localhost", and the
 * database defaults to the user name. */
Test(auth_methods, cleartext_sends_the_password_files_password)
{
    static const uint8_t want[] = {'p', 0, 0, 0, 11, 'f', 'r', 'o', 'm', 'p', 'f', 0};
    char path[] = "/tmp/fw_auth_pgpass_XXXXXX";
    char conninfo[256];
    int fd = mkstemp(path);
    fixture f;
    int done = -1;

    cr_assert_geq(fd, 0);
    cr_assert_eq(fchmod(fd, 0600), 0);
    cr_assert_gt(dprintf(fd, "localhost:5432:bob:alice:wrong\n"
                             "localhost:5432:alice:alice:frompf\n"
                             "/tmp:5432:alice:alice:tmp-pw\n"), 0);
    close(fd);
    snprintf(conninfo, sizeof conninfo, "host=%s port=5432 user=alice passfile=%s",
             FW_CI_DEFAULT_SOCKET_DIR, path);
    setup(&f, conninfo);
    cr_assert_eq(send_request(&f, FW_AUTH_CLEARTEXT_PASSWORD, NULL, 0, &done), FW_OK, "%s",
                 f.c->err.message ? f.c->err.message : "");
    cr_assert_eq(f.c->wbuf.len, sizeof want);
    cr_assert_arr_eq(f.c->wbuf.data, want, sizeof want);
    teardown(&f);
    /* Another socket directory is its own key, as in libpq (and in the
     * documented rule): /tmp is not "localhost". */
    snprintf(conninfo, sizeof conninfo, "host=/tmp port=5432 user=alice passfile=%s", path);
    setup(&f, conninfo);
    cr_assert_eq(send_request(&f, FW_AUTH_CLEARTEXT_PASSWORD, NULL, 0, &done), FW_OK);
    cr_assert_eq(f.c->wbuf.len, 12);
    cr_assert_arr_eq(f.c->wbuf.data + 5, "tmp-pw", 7);
    teardown(&f);
    unlink(path);
}

Test(auth_methods, md5_sends_the_salted_hash_marked_secret)
{
    static const uint8_t salt[4] = {1, 2, 3, 4};
    char md5[36];
    fixture f;
    int done;

    setup(&f, CONNINFO);
    cr_assert_eq(fw_md5_password("s3cret", "alice", salt, md5), FW_OK);
    cr_assert_eq(send_request(&f, FW_AUTH_MD5_PASSWORD, salt, sizeof salt, &done), FW_OK);
    cr_assert_eq(f.c->wbuf.len, 1 + 4 + strlen(md5) + 1);
    cr_assert_eq(f.c->wbuf.data[0], FW_FE_PASSWORD);
    cr_assert_str_eq((const char *)f.c->wbuf.data + 5, md5);
    cr_assert_eq(strncmp(md5, "md5", 3), 0);
    cr_assert_eq(f.c->wbuf_secret, 1);
    teardown(&f);
}

Test(auth_methods, a_password_is_not_asked_for_twice)
{
    fixture f;
    int done;

    setup(&f, CONNINFO);
    cr_assert_eq(send_request(&f, FW_AUTH_CLEARTEXT_PASSWORD, NULL, 0, &done), FW_OK);
    f.c->wbuf.len = 0;   /* as if sent */
    assert_refused(&f, send_request(&f, FW_AUTH_CLEARTEXT_PASSWORD, NULL, 0, &done),
                   FW_ERR_PROTOCOL, "server asked for the password twice");
    teardown(&f);
}

Test(auth_methods, no_password_given)
{
    fixture f;
    int done;

    setup(&f, "host=127.0.0.1 port=5432 user=alice passfile=/nonexistent");
    assert_refused(&f, send_request(&f, FW_AUTH_CLEARTEXT_PASSWORD, NULL, 0, &done),
                   FW_ERR_AUTH, "password is required but none was given");
    teardown(&f);
}

Test(auth_methods, channel_binding_require_refuses_a_password)
{
    static const uint8_t salt[4] = {1, 2, 3, 4};
    fixture f;
    int done;

    setup(&f, CONNINFO " channel_binding=require");
    assert_refused(&f, send_request(&f, FW_AUTH_CLEARTEXT_PASSWORD, NULL, 0, &done),
                   FW_ERR_AUTH,
                   "channel binding required but not supported by server's authentication "
                   "request");
    assert_refused(&f, send_request(&f, FW_AUTH_MD5_PASSWORD, salt, sizeof salt, &done),
                   FW_ERR_AUTH,
                   "channel binding required but not supported by server's authentication "
                   "request");
    teardown(&f);
}

Test(auth_methods, channel_binding_require_refuses_plain_scram)
{
    static const char mechs[] = "SCRAM-SHA-256\0";   /* and the terminating empty name */
    fixture f;
    int done;

    setup(&f, CONNINFO " channel_binding=require");
    assert_refused(&f, send_request(&f, FW_AUTH_SASL, mechs, sizeof mechs, &done), FW_ERR_AUTH,
                   "channel binding is required, but server did not offer an authentication "
                   "method that supports channel binding");
    teardown(&f);
}

Test(auth_methods, channel_binding_require_refuses_ok_without_binding)
{
    fixture f;
    int done = 0;

    setup(&f, CONNINFO " channel_binding=require");
    assert_refused(&f, send_request(&f, FW_AUTH_OK, NULL, 0, &done), FW_ERR_AUTH,
                   "channel binding required, but server authenticated client without channel "
                   "binding");
    cr_assert_eq(done, 0);
    teardown(&f);
}

Test(auth_methods, unknown_sasl_mechanisms_are_refused)
{
    static const char mechs[] = "SCRAM-SHA-1\0";
    fixture f;
    int done;

    setup(&f, CONNINFO);
    assert_refused(&f, send_request(&f, FW_AUTH_SASL, mechs, sizeof mechs, &done), FW_ERR_AUTH,
                   "none of the server's SASL authentication mechanisms are supported");
    teardown(&f);
}

Test(auth_methods, scram_without_tls_begins_and_refuses_downgrades)
{
    static const char mechs[] = "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0";
    fixture f;
    int done = 0;

    setup(&f, CONNINFO);
    cr_assert_eq(send_request(&f, FW_AUTH_SASL, mechs, sizeof mechs, &done), FW_OK);
    /* SASLInitialResponse: 'p', length, the mechanism without -PLUS (no TLS),
     * then the client-first message with "n,," (no channel binding). */
    cr_assert_eq(f.c->wbuf.data[0], FW_FE_PASSWORD);
    cr_assert_str_eq((const char *)f.c->wbuf.data + 5, "SCRAM-SHA-256");
    cr_assert_eq(memcmp(f.c->wbuf.data + 5 + sizeof "SCRAM-SHA-256" + 4, "n,,", 3), 0);
    cr_assert_eq(f.c->wbuf_secret, 1);
    f.c->wbuf.len = 0;

    assert_refused(&f, send_request(&f, FW_AUTH_CLEARTEXT_PASSWORD, NULL, 0, &done),
                   FW_ERR_PROTOCOL, "server asked for a password after SASL authentication began");
    assert_refused(&f, send_request(&f, FW_AUTH_SASL, mechs, sizeof mechs, &done),
                   FW_ERR_PROTOCOL, "duplicate SASL authentication request");
    assert_refused(&f, send_request(&f, FW_AUTH_OK, NULL, 0, &done), FW_ERR_AUTH,
                   "server ended the SCRAM exchange without its proof");
    cr_assert_eq(done, 0);
    teardown(&f);
}

Test(auth_methods, sasl_continue_and_final_need_a_sasl_exchange)
{
    fixture f;
    int done;

    setup(&f, CONNINFO);
    assert_refused(&f, send_request(&f, FW_AUTH_SASL_CONTINUE, "r=x", 3, &done), FW_ERR_PROTOCOL,
                   "unexpected SASL continue message");
    assert_refused(&f, send_request(&f, FW_AUTH_SASL_FINAL, "v=x", 3, &done), FW_ERR_PROTOCOL,
                   "unexpected SASL final message");
    teardown(&f);
}

Test(auth_methods, malformed_md5_request)
{
    fixture f;
    int done;

    setup(&f, CONNINFO);
    /* the parser wants exactly the 4-byte salt */
    assert_refused(&f, send_request(&f, FW_AUTH_MD5_PASSWORD, "ab", 2, &done), FW_ERR_PROTOCOL,
                   "malformed authentication request");
    teardown(&f);
}
