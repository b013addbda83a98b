/*
 * scram.c — the client side of SCRAM-SHA-256(-PLUS), RFC 5802 / RFC 7677,
 * as PostgreSQL speaks it.
 *
 *   client-first  gs2-header "n=" user ",r=" c-nonce
 *   server-first  "r=" c-nonce s-nonce ",s=" salt ",i=" iterations
 *   client-final  "c=" base64(gs2-header [cbind-data]) ",r=" nonce ",p=" proof
 *   server-final  "v=" server-signature  |  "e=" server-error
 *
 * The server messages are parsed strictly, as libpq does: attributes in
 * exactly this order, nothing after them, no mandatory extension (m=).
 * Malformed server messages are FW_ERR_PROTOCOL; a nonce that does not
 * extend ours, an iteration count over our cap, a server error (e=) and a
 * server signature that does not verify are FW_ERR_AUTH.
 *
 * The password goes through SASLprep (saslprep.c) exactly as the server
 * prepares it: unchanged when pure ASCII, mapped and NFKC-normalised
 * otherwise, and the raw bytes when SASLprep refuses it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "saslprep.h"
#include "scram.h"

#define NONCE_RAW_LEN 24
#define MAX_SALT_LEN 1024           /* PostgreSQL's is 16 bytes */
#define ERR_TEXT_MAX 200            /* of the server's e= value, in err */
#define MAX_SERVER_MSG 65536        /* PostgreSQL's are under 200 bytes */

enum scram_state { S_BEGUN, S_CONTINUED, S_DONE, S_FAILED };

struct fw_scram {
    enum scram_state state;
    char *password;         /* wiped on free */
    size_t pw_len;
    fw_scram_cbind cbind;
    uint8_t *cbind_data;
    size_t cbind_len;
    char *client_nonce;
    char *client_first;     /* gs2-header + client-first-bare */
    size_t gs2_len;         /* client_first + gs2_len = client-first-bare */
    char *client_final;
    uint8_t server_signature[FW_SHA256_LEN];   /* expected; wiped on free */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static fw_status
fail(fw_scram *s, fw_status st, char *err, size_t errlen, const char *msg)
{
    if (s != NULL)
        s->state = S_FAILED;
    set_err(err, errlen, "%s", msg);
    return st;
}

/* printable = %x21-2B / %x2D-7E (RFC 5802): the nonce alphabet. */
static int
is_printable(char c)
{
    return c >= 0x21 && c <= 0x7e && c != ',';
}

static const char *
gs2_header(fw_scram_cbind cbind)
{
    switch (cbind) {
    case FW_SCRAM_CBIND_NOT_USED: return "y,,";
    case FW_SCRAM_CBIND_TLS_SERVER_END_POINT: return "p=tls-server-end-point,,";
    default: return "n,,";
    }
}

/* saslname: ',' and '=' escaped as =2C and =3D; out needs 3*len+1. */
static void
escape_saslname(const char *in, char *out)
{
    for (; *in != '\0'; in++) {
        if (*in == ',') {
            memcpy(out, "=2C", 3);
            out += 3;
        } else if (*in == '=') {
            memcpy(out, "=3D", 3);
            out += 3;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
}

fw_status
fw_scram_begin_user(const char *password, const char *user, fw_scram_cbind cbind,
                    const uint8_t *cbind_data, size_t cbind_len, const char *nonce,
                    fw_scram **out, const char **client_first, char *err, size_t errlen)
{
    fw_scram *s;
    const char *gs2;
    char *user_esc;
    size_t n, ulen;
    fw_status st;

    *out = NULL;
    *client_first = NULL;
    if (password == NULL || user == NULL || cbind < FW_SCRAM_CBIND_NONE ||
        cbind > FW_SCRAM_CBIND_TLS_SERVER_END_POINT)
        return fail(NULL, FW_ERR_USAGE, err, errlen, "invalid SCRAM arguments");
    if (cbind == FW_SCRAM_CBIND_TLS_SERVER_END_POINT && (cbind_data == NULL || cbind_len == 0))
        return fail(NULL, FW_ERR_USAGE, err, errlen, "channel binding requires the server certificate hash");
    if (cbind_len > 1024)
        return fail(NULL, FW_ERR_USAGE, err, errlen, "channel binding data too long");
    if (nonce != NULL) {
        size_t i;

        if (nonce[0] == '\0' || strlen(nonce) > 256)
            return fail(NULL, FW_ERR_USAGE, err, errlen, "invalid SCRAM nonce");
        for (i = 0; nonce[i] != '\0'; i++) {
            if (!is_printable(nonce[i]))
                return fail(NULL, FW_ERR_USAGE, err, errlen, "invalid SCRAM nonce");
        }
    }
    ulen = strlen(user);
    if (ulen > 1024)
        return fail(NULL, FW_ERR_USAGE, err, errlen, "SCRAM user name too long");

    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return fail(NULL, FW_ERR_MEMORY, err, errlen, "out of memory");
    s->cbind = cbind;
    /* SASLprep as the server applies it; where it fails (invalid UTF-8,
     * prohibited characters) the server uses the raw bytes, and so do we. */
    switch (fw_saslprep(password, &s->password)) {
    case FW_SASLPREP_OK:
        break;
    case FW_SASLPREP_OOM:
        goto oom;
    default:
        s->password = strdup(password);
        if (s->password == NULL)
            goto oom;
        break;
    }
    s->pw_len = strlen(s->password);
    if (cbind == FW_SCRAM_CBIND_TLS_SERVER_END_POINT) {
        s->cbind_data = malloc(cbind_len);
        if (s->cbind_data == NULL)
            goto oom;
        memcpy(s->cbind_data, cbind_data, cbind_len);
        s->cbind_len = cbind_len;
    }

    if (nonce != NULL) {
        s->client_nonce = strdup(nonce);
        if (s->client_nonce == NULL)
            goto oom;
    } else {
        uint8_t raw[NONCE_RAW_LEN];

        s->client_nonce = malloc(FW_BASE64_ENCODED_LEN(NONCE_RAW_LEN) + 1);
        if (s->client_nonce == NULL)
            goto oom;
        st = fw_random_bytes(raw, sizeof(raw));
        if (st != FW_OK) {
            fw_scram_free(s);
            return fail(NULL, st, err, errlen, "could not generate a SCRAM nonce");
        }
        fw_base64_encode(raw, sizeof(raw), s->client_nonce);
        fw_secure_zero(raw, sizeof(raw));
    }

    gs2 = gs2_header(cbind);
    s->gs2_len = strlen(gs2);
    user_esc = malloc(3 * ulen + 1);
    if (user_esc == NULL)
        goto oom;
    escape_saslname(user, user_esc);
    n = s->gs2_len + strlen("n=") + strlen(user_esc) + strlen(",r=") + strlen(s->client_nonce) + 1;
    s->client_first = malloc(n);
    if (s->client_first == NULL) {
        free(user_esc);
        goto oom;
    }
    snprintf(s->client_first, n, "%sn=%s,r=%s", gs2, user_esc, s->client_nonce);
    free(user_esc);

    s->state = S_BEGUN;
    *out = s;
    *client_first = s->client_first;
    return FW_OK;

oom:
    fw_scram_free(s);
    return fail(NULL, FW_ERR_MEMORY, err, errlen, "out of memory");
}

fw_status
fw_scram_begin(const char *password, fw_scram_cbind cbind, const uint8_t *cbind_data,
               size_t cbind_len, const char *nonce, fw_scram **out, const char **client_first,
               char *err, size_t errlen)
{
    /* PostgreSQL takes the user from the startup packet: n= is empty. */
    return fw_scram_begin_user(password, "", cbind, cbind_data, cbind_len, nonce, out,
                               client_first, err, errlen);
}

/*
 * Reads "<name>=<value>" at *p (within end), the value running to the next
 * ',' or end.  Returns 0 when the attribute name differs or there is no '='.
 */
static int
read_attr(const char **p, const char *end, char name, const char **val, size_t *vlen)
{
    const char *q = *p, *comma;

    if (end - q < 2 || q[0] != name || q[1] != '=')
        return 0;
    q += 2;
    comma = memchr(q, ',', (size_t)(end - q));
    *val = q;
    *vlen = comma != NULL ? (size_t)(comma - q) : (size_t)(end - q);
    *p = comma != NULL ? comma + 1 : end;
    return 1;
}

/* The proof and the expected server signature for an AuthMessage. */
static fw_status
compute_keys(fw_scram *s, const uint8_t *salt, size_t salt_len, int iterations,
             const char *auth_msg, size_t auth_len, uint8_t proof[FW_SHA256_LEN])
{
    uint8_t salted[FW_SHA256_LEN], client_key[FW_SHA256_LEN], stored_key[FW_SHA256_LEN];
    uint8_t client_sig[FW_SHA256_LEN], server_key[FW_SHA256_LEN];
    fw_status st;
    int i;

    st = fw_scram_hi(s->password, s->pw_len, salt, salt_len, iterations, salted);
    if (st == FW_OK)
        st = fw_hmac_sha256(salted, sizeof(salted), (const uint8_t *)"Client Key", 10, client_key);
    if (st == FW_OK)
        st = fw_sha256(client_key, sizeof(client_key), stored_key);
    if (st == FW_OK)
        st = fw_hmac_sha256(stored_key, sizeof(stored_key), (const uint8_t *)auth_msg, auth_len,
                            client_sig);
    if (st == FW_OK)
        st = fw_hmac_sha256(salted, sizeof(salted), (const uint8_t *)"Server Key", 10, server_key);
    if (st == FW_OK)
        st = fw_hmac_sha256(server_key, sizeof(server_key), (const uint8_t *)auth_msg, auth_len,
                            s->server_signature);
    if (st == FW_OK) {
        for (i = 0; i < FW_SHA256_LEN; i++)
            proof[i] = client_key[i] ^ client_sig[i];
    }
    fw_secure_zero(salted, sizeof(salted));
    fw_secure_zero(client_key, sizeof(client_key));
    fw_secure_zero(stored_key, sizeof(stored_key));
    fw_secure_zero(client_sig, sizeof(client_sig));
    fw_secure_zero(server_key, sizeof(server_key));
    return st;
}

fw_status
fw_scram_continue(fw_scram *s, const char *server_first, size_t len, const char **client_final,
                  char *err, size_t errlen)
{
    const char *p, *end, *nonce, *salt64, *iter;
    size_t nonce_len, salt64_len, iter_len, i, cn_len;
    uint8_t salt[MAX_SALT_LEN];
    long salt_len;
    long iterations = 0;
    char *cbind_input = NULL, *cbind64 = NULL, *auth = NULL, *final = NULL;
    size_t cbind_input_len, without_proof_len, auth_len, final_cap;
    uint8_t proof[FW_SHA256_LEN];
    char proof64[FW_BASE64_ENCODED_LEN(FW_SHA256_LEN) + 1];
    fw_status st;

    if (client_final != NULL)
        *client_final = NULL;
    if (s == NULL || client_final == NULL || server_first == NULL)
        return fail(s, FW_ERR_USAGE, err, errlen, "invalid SCRAM arguments");
    if (s->state != S_BEGUN)
        return fail(s, FW_ERR_USAGE, err, errlen, "SCRAM exchange out of order");
    if (len > MAX_SERVER_MSG)
        return fail(s, FW_ERR_PROTOCOL, err, errlen, "malformed SCRAM message (too long)");
    if (memchr(server_first, '\0', len) != NULL)
        return fail(s, FW_ERR_PROTOCOL, err, errlen, "malformed SCRAM message (NUL in server-first-message)");

    p = server_first;
    end = server_first + len;
    if (len >= 2 && p[0] == 'm' && p[1] == '=')
        return fail(s, FW_ERR_PROTOCOL, err, errlen,
                    "unsupported SCRAM extension (m= in server-first-message)");
    if (!read_attr(&p, end, 'r', &nonce, &nonce_len))
        return fail(s, FW_ERR_PROTOCOL, err, errlen, "malformed SCRAM message (nonce expected)");
    for (i = 0; i < nonce_len; i++) {
        if (!is_printable(nonce[i]))
            return fail(s, FW_ERR_PROTOCOL, err, errlen, "malformed SCRAM message (invalid nonce)");
    }
    cn_len = strlen(s->client_nonce);
    if (nonce_len <= cn_len || memcmp(nonce, s->client_nonce, cn_len) != 0)
        return fail(s, FW_ERR_AUTH, err, errlen,
                    "SCRAM server nonce does not extend the client nonce");

    if (!read_attr(&p, end, 's', &salt64, &salt64_len))
        return fail(s, FW_ERR_PROTOCOL, err, errlen, "malformed SCRAM message (salt expected)");
    salt_len = fw_base64_decode(salt64, salt64_len, salt, sizeof(salt));
    if (salt_len <= 0)
        return fail(s, FW_ERR_PROTOCOL, err, errlen, "malformed SCRAM message (invalid salt)");

    /* i= is the last attribute: the value runs to the end. */
    if (!read_attr(&p, end, 'i', &iter, &iter_len) || iter + iter_len != end || iter_len == 0)
        return fail(s, FW_ERR_PROTOCOL, err, errlen,
                    "malformed SCRAM message (iteration count expected, and nothing after it)");
    for (i = 0; i < iter_len; i++) {
        if (iter[i] < '0' || iter[i] > '9')
            return fail(s, FW_ERR_PROTOCOL, err, errlen,
                        "malformed SCRAM message (invalid iteration count)");
        if (iterations <= FW_SCRAM_MAX_ITERATIONS)
            iterations = iterations * 10 + (iter[i] - '0');
    }
    if (iterations == 0)
        return fail(s, FW_ERR_PROTOCOL, err, errlen,
                    "malformed SCRAM message (invalid iteration count)");
    if (iterations > FW_SCRAM_MAX_ITERATIONS)
        return fail(s, FW_ERR_AUTH, err, errlen,
                    "SCRAM iteration count is over the client's limit");

    /* c=: base64(gs2-header [+ channel binding data]). */
    cbind_input_len = s->gs2_len + s->cbind_len;
    cbind_input = malloc(cbind_input_len);
    cbind64 = malloc(FW_BASE64_ENCODED_LEN(cbind_input_len) + 1);
    if (cbind_input == NULL || cbind64 == NULL)
        goto oom;
    memcpy(cbind_input, s->client_first, s->gs2_len);
    if (s->cbind_len > 0)
        memcpy(cbind_input + s->gs2_len, s->cbind_data, s->cbind_len);
    fw_base64_encode((const uint8_t *)cbind_input, cbind_input_len, cbind64);

    /* client-final-without-proof, written where the final message goes. */
    final_cap = strlen("c=") + strlen(cbind64) + strlen(",r=") + nonce_len + strlen(",p=") +
                sizeof(proof64);
    final = malloc(final_cap);
    if (final == NULL)
        goto oom;
    without_proof_len = (size_t)snprintf(final, final_cap, "c=%s,r=%.*s", cbind64,
                                         (int)nonce_len, nonce);

    /* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
    {
        const char *bare = s->client_first + s->gs2_len;
        size_t bare_len = strlen(bare);

        auth_len = bare_len + 1 + len + 1 + without_proof_len;
        auth = malloc(auth_len);
        if (auth == NULL)
            goto oom;
        memcpy(auth, bare, bare_len);
        auth[bare_len] = ',';
        memcpy(auth + bare_len + 1, server_first, len);
        auth[bare_len + 1 + len] = ',';
        memcpy(auth + bare_len + 2 + len, final, without_proof_len);
    }

    st = compute_keys(s, salt, (size_t)salt_len, (int)iterations, auth, auth_len, proof);
    if (st != FW_OK) {
        fw_secure_zero(proof, sizeof(proof));
        free(cbind_input);
        free(cbind64);
        free(auth);
        free(final);
        return fail(s, st, err, errlen, "could not compute the SCRAM proof");
    }
    fw_base64_encode(proof, sizeof(proof), proof64);
    snprintf(final + without_proof_len, final_cap - without_proof_len, ",p=%s", proof64);
    fw_secure_zero(proof, sizeof(proof));
    fw_secure_zero(proof64, sizeof(proof64));

    free(cbind_input);
    free(cbind64);
    free(auth);
    s->client_final = final;
    s->state = S_CONTINUED;
    *client_final = final;
    return FW_OK;

oom:
    free(cbind_input);
    free(cbind64);
    free(auth);
    free(final);
    return fail(s, FW_ERR_MEMORY, err, errlen, "out of memory");
}

fw_status
fw_scram_finish(fw_scram *s, const char *server_final, size_t len, char *err, size_t errlen)
{
    const char *p, *end, *val;
    size_t vlen;
    uint8_t sig[FW_SHA256_LEN + 3];
    long sig_len;

    if (s == NULL || server_final == NULL)
        return fail(s, FW_ERR_USAGE, err, errlen, "invalid SCRAM arguments");
    if (s->state != S_CONTINUED)
        return fail(s, FW_ERR_USAGE, err, errlen, "SCRAM exchange out of order");
    if (len > MAX_SERVER_MSG)
        return fail(s, FW_ERR_PROTOCOL, err, errlen, "malformed SCRAM message (too long)");
    if (memchr(server_final, '\0', len) != NULL)
        return fail(s, FW_ERR_PROTOCOL, err, errlen, "malformed SCRAM message (NUL in server-final-message)");

    p = server_final;
    end = server_final + len;
    if (read_attr(&p, end, 'e', &val, &vlen)) {
        /* server-error: report its value, printable ASCII only, bounded. */
        char text[ERR_TEXT_MAX + 1];
        size_t i, n = vlen < ERR_TEXT_MAX ? vlen : ERR_TEXT_MAX;

        for (i = 0; i < n; i++)
            text[i] = (val[i] >= 0x20 && val[i] <= 0x7e) ? val[i] : '?';
        text[n] = '\0';
        s->state = S_FAILED;
        set_err(err, errlen, "SCRAM authentication failed: the server reported \"%s\"", text);
        return FW_ERR_AUTH;
    }
    if (!read_attr(&p, end, 'v', &val, &vlen) || val + vlen != end)
        return fail(s, FW_ERR_PROTOCOL, err, errlen,
                    "malformed SCRAM message (server signature expected, and nothing after it)");
    sig_len = fw_base64_decode(val, vlen, sig, sizeof(sig));
    if (sig_len != FW_SHA256_LEN)
        return fail(s, FW_ERR_PROTOCOL, err, errlen, "malformed SCRAM message (invalid server signature)");
    if (!fw_ct_equal(sig, s->server_signature, FW_SHA256_LEN))
        return fail(s, FW_ERR_AUTH, err, errlen,
                    "SCRAM server signature does not match: the server did not prove it knows the password");
    s->state = S_DONE;
    return FW_OK;
}

void
fw_scram_free(fw_scram *s)
{
    if (s == NULL)
        return;
    if (s->password != NULL) {
        fw_secure_zero(s->password, s->pw_len);
        free(s->password);
    }
    free(s->cbind_data);
    free(s->client_nonce);
    free(s->client_first);
    if (s->client_final != NULL) {
        /* It carries the proof, which a replay could use. */
        fw_secure_zero(s->client_final, strlen(s->client_final));
        free(s->client_final);
    }
    fw_secure_zero(s, sizeof(*s));
    free(s);
}
