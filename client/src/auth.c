/*
 * auth.c — answering the server's AuthenticationRequests during the
 * startup: one function per method (cleartext password, MD5 password,
 * SASL with SCRAM-SHA-256 or SCRAM-SHA-256-PLUS), the decisions that refuse
 * a method (Kerberos, SCM, GSS, SSPI, unknown codes), a downgrade or an
 * unmet channel_binding=require, and the password lookup (conninfo, then
 * the password file).  The SCRAM computation itself is scram.c's; conn.c
 * drives the startup and hands each message here.
 *
 * Every buffer that held a password, an MD5 hash or a SCRAM message is
 * wiped: passwords when freed, the output buffer once sent (mark_secret).
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "crypto.h"

#define FW_SCRAM_MECH "SCRAM-SHA-256"
#define FW_SCRAM_PLUS_MECH "SCRAM-SHA-256-PLUS"

static fw_status
fail(fw_conn *c, fw_status cls, const char *msg)
{
    fw_error_set(&c->err, cls, "%s", msg);
    return cls;
}

static const char *
ci_val(const fw_conninfo *ci, fw_ci_key k)
{
    const char *v = ci->values[k];

    return v && *v ? v : NULL;
}

/* The server asked for a password and none was given: an authentication
 * error, remembered so that a caller can ask for one and try again
 * (fw_conn_needs_password). */
static fw_status
no_password(fw_conn *c)
{
    c->password_needed = 1;
    return fail(c, FW_ERR_AUTH, "password is required but none was given");
}

/* The password: the conninfo's, else the password file's.  malloc'd; the
 * caller frees it with free_password. */
static char *
get_password(fw_conn *c, const fw_auth *a)
{
    const char *pw = ci_val(a->ci, FW_CI_PASSWORD);
    char *warning = NULL;
    char *found;

    if (pw)
        return strdup(pw);
    found = fw_pgpass_for_host(a->ci, a->host, &warning);
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

/* Queues a message carrying a secret: wiped from the buffer once sent. */
static void
mark_secret(fw_conn *c)
{
    c->wbuf_secret = 1;
}

/* AuthenticationOk: refused when channel_binding=require was not met or a
 * SCRAM exchange ended before the server proved it knows the password. */
static fw_status
auth_ok(fw_conn *c, const fw_auth *a, int *done)
{
    if (a->ci->channel_binding == FW_CBIND_REQUIRE && !a->cbind_used)
        return fail(c, FW_ERR_AUTH,
                    "channel binding required, but server authenticated client without "
                    "channel binding");
    if (a->sasl_started && !a->sasl_done)
        return fail(c, FW_ERR_AUTH, "server ended the SCRAM exchange without its proof");
    *done = 1;
    return FW_OK;
}

/* Queues a PasswordMessage carrying `secret` (the password, or its MD5
 * hash), marked to be wiped once sent. */
static fw_status
send_password(fw_conn *c, fw_auth *a, const char *secret)
{
    fw_status st = fw_enc_password(&c->wbuf, secret);

    mark_secret(c);
    if (st != FW_OK)
        return fail(c, st, "could not build the password message");
    a->password_sent = 1;
    return FW_OK;
}

/* Whether a password may be sent in answer to CleartextPassword or
 * MD5Password: FW_OK, or the refusal. */
static fw_status
password_allowed(fw_conn *c, const fw_auth *a)
{
    /* A server that began SCRAM, or already had the password, has no
     * business asking (again) for it: a downgrade attempt. */
    if (a->sasl_started)
        return fail(c, FW_ERR_PROTOCOL,
                    "server asked for a password after SASL authentication began");
    if (a->password_sent)
        return fail(c, FW_ERR_PROTOCOL, "server asked for the password twice");
    if (a->ci->channel_binding == FW_CBIND_REQUIRE)
        return fail(c, FW_ERR_AUTH,
                    "channel binding required but not supported by server's "
                    "authentication request");
    return FW_OK;
}

/* AuthenticationCleartextPassword: the password as it is. */
static fw_status
auth_cleartext(fw_conn *c, fw_auth *a)
{
    fw_status st;
    char *pw;

    if ((st = password_allowed(c, a)) != FW_OK)
        return st;
    if (!(pw = get_password(c, a)))
        return no_password(c);
    st = send_password(c, a, pw);
    free_password(pw);
    return st;
}

/* AuthenticationMD5Password: "md5" and the hash of the password, the
 * user name and the 4-byte salt. */
static fw_status
auth_md5(fw_conn *c, fw_auth *a, const fw_auth_msg *am)
{
    char md5[36];
    fw_status st;
    char *pw;

    if ((st = password_allowed(c, a)) != FW_OK)
        return st;
    if (!(pw = get_password(c, a)))
        return no_password(c);
    if (am->data_len != 4) {
        free_password(pw);
        return fail(c, FW_ERR_PROTOCOL, "malformed MD5 authentication request");
    }
    st = fw_md5_password(pw, ci_val(a->ci, FW_CI_USER), am->data, md5);
    free_password(pw);
    if (st != FW_OK)
        return fail(c, st, "could not build the password message");
    st = send_password(c, a, md5);
    fw_secure_zero(md5, sizeof md5);
    return st;
}

/* The SASL mechanism among the server's: SCRAM-SHA-256-PLUS over TLS
 * unless channel_binding=disable (*cblen bytes of tls-server-end-point in
 * cbdata), else SCRAM-SHA-256 unless channel_binding=require.  FW_OK, or
 * the refusal. */
static fw_status
sasl_choose(fw_conn *c, const fw_auth *a, const fw_auth_msg *am, const char **mech,
            fw_scram_cbind *how, uint8_t *cbdata, size_t cbcap, size_t *cblen)
{
    fw_cbind_mode cb = a->ci->channel_binding;
    int has_plus = 0, has_plain = 0;

    for (int i = 0; i < am->nmechs; i++) {
        if (strcmp(am->mechs[i], FW_SCRAM_PLUS_MECH) == 0)
            has_plus = 1;
        else if (strcmp(am->mechs[i], FW_SCRAM_MECH) == 0)
            has_plain = 1;
    }
    if (c->sock.tls && cb != FW_CBIND_DISABLE && has_plus) {
        *mech = FW_SCRAM_PLUS_MECH;
        *how = FW_SCRAM_CBIND_TLS_SERVER_END_POINT;
        return fw_tls_server_end_point(c->sock.tls, cbdata, cbcap, cblen, &c->err);
    }
    if (cb == FW_CBIND_REQUIRE)
        return fail(c, FW_ERR_AUTH,
                    "channel binding is required, but server did not offer an "
                    "authentication method that supports channel binding");
    if (!has_plain)
        return fail(c, FW_ERR_AUTH,
                    "none of the server's SASL authentication mechanisms are supported");
    *mech = FW_SCRAM_MECH;
    /* "y": we could have bound the channel, the server did not offer it. */
    *how = c->sock.tls && cb != FW_CBIND_DISABLE ? FW_SCRAM_CBIND_NOT_USED : FW_SCRAM_CBIND_NONE;
    return FW_OK;
}

/* AuthenticationSASL: SCRAM-SHA-256[-PLUS], the client-first message. */
static fw_status
auth_sasl(fw_conn *c, fw_auth *a, const fw_auth_msg *am)
{
    const char *mech = NULL;
    fw_scram_cbind how = FW_SCRAM_CBIND_NONE;
    uint8_t cbdata[64];
    size_t cblen = 0;
    const char *first;
    char ebuf[256];
    fw_status st;
    char *pw;

    if (a->sasl_started || a->password_sent)
        return fail(c, FW_ERR_PROTOCOL, a->sasl_started
                                            ? "duplicate SASL authentication request"
                                            : "server asked for SASL authentication after "
                                              "the password was sent");
    if ((st = sasl_choose(c, a, am, &mech, &how, cbdata, sizeof cbdata, &cblen)) != FW_OK)
        return st;
    if (!(pw = get_password(c, a)))
        return no_password(c);
    ebuf[0] = '\0';
    st = fw_scram_begin(pw, how, cblen ? cbdata : NULL, cblen, NULL, &a->scram, &first, ebuf,
                        sizeof ebuf);
    free_password(pw);
    if (st != FW_OK)
        return fail(c, st == FW_ERR_MEMORY ? st : FW_ERR_AUTH,
                    ebuf[0] ? ebuf : "could not start SCRAM authentication");
    a->sasl_started = 1;
    a->cbind_used = how == FW_SCRAM_CBIND_TLS_SERVER_END_POINT;
    st = fw_enc_sasl_initial(&c->wbuf, mech, (const uint8_t *)first, strlen(first));
    mark_secret(c);
    if (st != FW_OK)
        return fail(c, st, "out of memory");
    return FW_OK;
}

/* AuthenticationSASLContinue: the server-first message, answered with the
 * client-final message (the proof). */
static fw_status
auth_sasl_continue(fw_conn *c, fw_auth *a, const fw_auth_msg *am)
{
    const char *final;
    char ebuf[256];
    fw_status st;

    if (!a->scram || a->sasl_done)
        return fail(c, FW_ERR_PROTOCOL, "unexpected SASL continue message");
    ebuf[0] = '\0';
    st = fw_scram_continue(a->scram, (const char *)am->data, am->data_len, &final, ebuf,
                           sizeof ebuf);
    if (st != FW_OK)
        return fail(c, st == FW_ERR_MEMORY ? st : FW_ERR_AUTH,
                    ebuf[0] ? ebuf : "invalid SCRAM server-first message");
    st = fw_enc_sasl_response(&c->wbuf, (const uint8_t *)final, strlen(final));
    mark_secret(c);
    if (st != FW_OK)
        return fail(c, st, "out of memory");
    return FW_OK;
}

/* AuthenticationSASLFinal: the server's signature, checked. */
static fw_status
auth_sasl_final(fw_conn *c, fw_auth *a, const fw_auth_msg *am)
{
    char ebuf[256];
    fw_status st;

    if (!a->scram || a->sasl_done)
        return fail(c, FW_ERR_PROTOCOL, "unexpected SASL final message");
    ebuf[0] = '\0';
    st = fw_scram_finish(a->scram, (const char *)am->data, am->data_len, ebuf, sizeof ebuf);
    if (st != FW_OK)
        return fail(c, FW_ERR_AUTH, ebuf[0] ? ebuf : "server SCRAM signature is invalid");
    a->sasl_done = 1;
    return FW_OK;
}

/* KerberosV5, SCMCredential, GSS, GSSContinue, SSPI and unknown codes. */
static fw_status
auth_refuse(fw_conn *c, int32_t code)
{
    fw_error_set(&c->err, FW_ERR_AUTH, "authentication method %d is not supported", (int)code);
    return FW_ERR_AUTH;
}

fw_status
fw_auth_message(fw_conn *c, fw_auth *a, const fw_msg *m, int *done)
{
    fw_auth_msg am;

    *done = 0;
    if (m->type != FW_BE_AUTHENTICATION)
        return fail(c, FW_ERR_PROTOCOL, "expected an authentication request from the server");
    if (fw_parse_auth(m, &am) != FW_OK)
        return fail(c, FW_ERR_PROTOCOL, "malformed authentication request");
    switch (am.code) {
    case FW_AUTH_OK:
        return auth_ok(c, a, done);
    case FW_AUTH_CLEARTEXT_PASSWORD:
        return auth_cleartext(c, a);
    case FW_AUTH_MD5_PASSWORD:
        return auth_md5(c, a, &am);
    case FW_AUTH_SASL:
        return auth_sasl(c, a, &am);
    case FW_AUTH_SASL_CONTINUE:
        return auth_sasl_continue(c, a, &am);
    case FW_AUTH_SASL_FINAL:
        return auth_sasl_final(c, a, &am);
    case FW_AUTH_KERBEROS_V5:
    case FW_AUTH_SCM_CREDENTIAL:
    case FW_AUTH_GSS:
    case FW_AUTH_GSS_CONTINUE:
    case FW_AUTH_SSPI:
    default:
        return auth_refuse(c, am.code);
    }
}

void
fw_auth_end(fw_auth *a)
{
    fw_scram_free(a->scram);
    a->scram = NULL;
    a->sasl_started = a->sasl_done = a->cbind_used = a->password_sent = 0;
}

void
fw_auth_begin(fw_auth *a, const fw_conninfo *ci, const fw_ci_host *host)
{
    fw_auth_end(a);
    a->ci = ci;
    a->host = host;
}
