/*
 * crypto.c — SHA-256, HMAC, PBKDF2, MD5 and randomness over OpenSSL 3, and
 * base64 of our own.  With tls.c, the only file that includes OpenSSL.
 *
 * A failure inside OpenSSL (an algorithm disabled by policy, e.g. MD5
 * under FIPS, or the random generator unavailable) is FW_ERR_AUTH: it
 * only ever happens while authenticating, and it ends the attempt.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypto.h"

fw_status
fw_sha256(const uint8_t *data, size_t len, uint8_t out[FW_SHA256_LEN])
{
    unsigned int outlen = 0;

    if (EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) != 1 || outlen != FW_SHA256_LEN)
        return FW_ERR_AUTH;
    return FW_OK;
}

fw_status
fw_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
               uint8_t out[FW_SHA256_LEN])
{
    unsigned int outlen = 0;

    if (key_len > INT_MAX)
        return FW_ERR_AUTH;
    if (HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &outlen) == NULL ||
        outlen != FW_SHA256_LEN)
        return FW_ERR_AUTH;
    return FW_OK;
}

fw_status
fw_scram_hi(const char *password, size_t pw_len, const uint8_t *salt, size_t salt_len,
            int iterations, uint8_t out[FW_SHA256_LEN])
{
    if (pw_len > INT_MAX || salt_len > INT_MAX || iterations < 1)
        return FW_ERR_AUTH;
    if (PKCS5_PBKDF2_HMAC(password, (int)pw_len, salt, (int)salt_len, iterations, EVP_sha256(),
                          FW_SHA256_LEN, out) != 1)
        return FW_ERR_AUTH;
    return FW_OK;
}

static void
to_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

/* MD5 of a || b, as 32 hex digits. */
static fw_status
md5_hex2(const void *a, size_t alen, const void *b, size_t blen, char out[33])
{
    EVP_MD_CTX *ctx;
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    int ok;

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return FW_ERR_MEMORY;
    ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 && EVP_DigestUpdate(ctx, a, alen) == 1 &&
         EVP_DigestUpdate(ctx, b, blen) == 1 && EVP_DigestFinal_ex(ctx, digest, &dlen) == 1 &&
         dlen == 16;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(digest, sizeof(digest));
        return FW_ERR_AUTH;
    }
    to_hex(digest, 16, out);
    OPENSSL_cleanse(digest, sizeof(digest));
    return FW_OK;
}

fw_status
fw_md5_password(const char *password, const char *user, const uint8_t salt[4], char out[36])
{
    char inner[33];
    fw_status st;

    st = md5_hex2(password, strlen(password), user, strlen(user), inner);
    if (st == FW_OK) {
        memcpy(out, "md5", 3);
        st = md5_hex2(inner, 32, salt, 4, out + 3);
    }
    OPENSSL_cleanse(inner, sizeof(inner));
    return st;
}

fw_status
fw_random_bytes(uint8_t *out, size_t len)
{
    if (len > INT_MAX)
        return FW_ERR_AUTH;
    if (RAND_bytes(out, (int)len) != 1)
        return FW_ERR_AUTH;
    return FW_OK;
}

void
fw_secure_zero(void *p, size_t len)
{
    if (p != NULL && len > 0)
        OPENSSL_cleanse(p, len);
}

int
fw_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

/* ------------------------------------------------------------- base64 */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
fw_base64_encode(const uint8_t *in, size_t len, char *out)
{
    size_t i, o = 0;

    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];

        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;

        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);

        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

static int
b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict: whole quads, padding only at the end, no whitespace, and the
 * unused bits before the padding zero (the canonical encoding only). */
long
fw_base64_decode(const char *in, size_t len, uint8_t *out, size_t out_cap)
{
    size_t i, o = 0;

    if (len % 4 != 0 || len / 4 * 3 > (size_t)LONG_MAX)
        return -1;
    for (i = 0; i < len; i += 4) {
        int v0 = b64_value(in[i]), v1 = b64_value(in[i + 1]);
        int v2, v3, pad = 0;
        uint32_t v;

        if (v0 < 0 || v1 < 0)
            return -1;
        if (i + 4 == len && in[i + 3] == '=') {
            pad = in[i + 2] == '=' ? 2 : 1;
        }
        v2 = pad == 2 ? 0 : b64_value(in[i + 2]);
        v3 = pad >= 1 ? 0 : b64_value(in[i + 3]);
        if (v2 < 0 || v3 < 0)
            return -1;
        v = ((uint32_t)v0 << 18) | ((uint32_t)v1 << 12) | ((uint32_t)v2 << 6) | (uint32_t)v3;
        if ((pad == 2 && (v & 0xffff) != 0) || (pad == 1 && (v & 0xff) != 0))
            return -1;
        if (out_cap - o < (size_t)(3 - pad))
            return -1;
        out[o++] = (uint8_t)(v >> 16);
        if (pad < 2)
            out[o++] = (uint8_t)(v >> 8);
        if (pad < 1)
            out[o++] = (uint8_t)v;
    }
    return (long)o;
}
