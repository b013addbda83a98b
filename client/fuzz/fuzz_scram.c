/*
 * fuzz_scram.c — libFuzzer target for the SCRAM client's parsing of the
 * server's messages, and for base64.
 *
 * Input: server-first-message, a newline, server-final-message.  The
 * exchange runs with RFC 7677's password and client nonce so that a seed
 * holding the RFC's messages reaches fw_scram_finish.  The input also
 * goes through base64 decode/encode and, as a password, SASLprep.  Iteration counts
 * over 4096 are skipped (PBKDF2 at up to FW_SCRAM_MAX_ITERATIONS would
 * only slow the fuzzer down; the cap itself is unit-tested).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "saslprep.h"
#include "scram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value of the first "i=" after a ',' if it is all digits, else 0. */
static unsigned long
iterations_in(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i + 3 <= n; i++) {
        if (p[i] == ',' && p[i + 1] == 'i' && p[i + 2] == '=') {
            unsigned long v = 0;
            size_t j;

            for (j = i + 3; j < n && p[j] >= '0' && p[j] <= '9'; j++) {
                if (v > 100000000ul)
                    return v;
                v = v * 10 + (unsigned long)(p[j] - '0');
            }
            return v;
        }
    }
    return 0;
}

/* The whole input as a password (up to its first NUL) through SASLprep. */
static void
fuzz_saslprep(const uint8_t *data, size_t size)
{
    char *pw = malloc(size + 1), *out = NULL;
    fw_saslprep_result r;

    if (pw == NULL)
        return;
    memcpy(pw, data, size);
    pw[size] = '\0';
    r = fw_saslprep(pw, &out);
    if ((r == FW_SASLPREP_OK) != (out != NULL))
        abort();
    free(out);
    free(pw);
}

static void
fuzz_base64(const uint8_t *data, size_t size)
{
    uint8_t *dec = malloc(size + 1);
    char *enc;
    long n;

    if (dec == NULL)
        return;
    n = fw_base64_decode((const char *)data, size, dec, size);
    if (n >= 0) {
        /* What decodes re-encodes to the same text (canonical only). */
        enc = malloc(FW_BASE64_ENCODED_LEN((size_t)n) + 1);
        if (enc != NULL) {
            size_t m = fw_base64_encode(dec, (size_t)n, enc);

            if (m != size || memcmp(enc, data, size) != 0)
                abort();
            free(enc);
        }
    }
    free(dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t first_len = nl != NULL ? (size_t)(nl - data) : size;
    char *first, *final_msg;
    size_t final_len = nl != NULL ? size - first_len - 1 : 0;
    fw_scram *s = NULL;
    const char *cf, *cfinal;
    char err[256] = "";

    fuzz_base64(data, size);
    fuzz_saslprep(data, size);
    if (iterations_in((const char *)data, first_len) > 4096)
        return 0;

    /* Exact-size copies: ASan sees any read past either message. */
    first = malloc(first_len ? first_len : 1);
    final_msg = malloc(final_len ? final_len : 1);
    if (first == NULL || final_msg == NULL)
        goto out;
    memcpy(first, data, first_len);
    if (final_len > 0)
        memcpy(final_msg, nl + 1, final_len);

    if (fw_scram_begin("pencil", FW_SCRAM_CBIND_NONE, NULL, 0, "rOprNGfwEbeRWgbNEkqO", &s, &cf,
                       err, sizeof(err)) != FW_OK)
        abort();
    if (fw_scram_continue(s, first, first_len, &cfinal, err, sizeof(err)) == FW_OK) {
        if (strncmp(cfinal, "c=biws,r=rOprNGfwEbeRWgbNEkqO", 29) != 0)
            abort();
        (void)fw_scram_finish(s, final_msg, final_len, err, sizeof(err));
    }
    if (memchr(err, '\0', sizeof(err)) == NULL)
        abort();
out:
    fw_scram_free(s);
    free(first);
    free(final_msg);
    return 0;
}
