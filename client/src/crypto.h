/*
 * crypto.h — the cryptographic primitives SCRAM and MD5 need, over OpenSSL.
 *
 * crypto.c and tls.c are the only files that include OpenSSL headers.
 * base64 is our own (no OpenSSL BIO for a few bytes).
 *
 * Failures inside OpenSSL (an algorithm disabled by policy, e.g. MD5 in
 * FIPS mode; no randomness) are FW_ERR_AUTH; an allocation failure is
 * FW_ERR_MEMORY.
 */
#ifndef FW_CRYPTO_H
#define FW_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "fraiseql_wire.h"

#define FW_SHA256_LEN 32

fw_status fw_sha256(const uint8_t *data, size_t len, uint8_t out[FW_SHA256_LEN]);
fw_status fw_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                         uint8_t out[FW_SHA256_LEN]);
/* SCRAM's Hi(): PBKDF2-HMAC-SHA-256 with the given iteration count. */
fw_status fw_scram_hi(const char *password, size_t pw_len, const uint8_t *salt, size_t salt_len,
                      int iterations, uint8_t out[FW_SHA256_LEN]);
/* "md5" + hex(md5(hex(md5(password + user)) + salt)): 35 chars + NUL. */
fw_status fw_md5_password(const char *password, const char *user, const uint8_t salt[4],
                          char out[36]);
/* Cryptographically strong random bytes. */
fw_status fw_random_bytes(uint8_t *out, size_t len);
/* Wipes secrets (not optimised away).  NULL is fine. */
void fw_secure_zero(void *p, size_t len);
/* 1 when a and b hold the same len bytes, in time independent of where
 * they differ (for signatures and proofs). */
int fw_ct_equal(const void *a, const void *b, size_t len);

/* base64 (RFC 4648, with padding).  encode: out needs 4*ceil(len/3)+1 bytes,
 * NUL-terminated, returns the length.  decode: returns the decoded length,
 * or -1 on invalid input or when it would not fit in out_cap.  Decoding is
 * strict: no whitespace, padding only at the end, and the canonical form
 * only (unused bits before the padding must be zero). */
#define FW_BASE64_ENCODED_LEN(n) (((n) + 2) / 3 * 4)
size_t fw_base64_encode(const uint8_t *in, size_t len, char *out);
long fw_base64_decode(const char *in, size_t len, uint8_t *out, size_t out_cap);

#endif /* FW_CRYPTO_H */
