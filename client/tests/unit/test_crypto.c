/*
 * The primitives under SCRAM and MD5 on known vectors (FIPS 180-2,
 * RFC 4231, RFC 7677's SaltedPassword, RFC 4648), and base64's refusals.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"

static void
hex(const uint8_t *p, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

Test(crypto, sha256_abc)
{
    uint8_t d[FW_SHA256_LEN];
    char h[65];

    cr_assert_eq(fw_sha256((const uint8_t *)"abc", 3, d), FW_OK);
    hex(d, sizeof(d), h);
    cr_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(crypto, hmac_sha256_rfc4231_case2)
{
    uint8_t d[FW_SHA256_LEN];
    char h[65];

    cr_assert_eq(fw_hmac_sha256((const uint8_t *)"Jefe", 4,
                                (const uint8_t *)"what do ya want for nothing?", 28, d),
                 FW_OK);
    hex(d, sizeof(d), h);
    cr_assert_str_eq(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

Test(crypto, hi_is_pbkdf2_hmac_sha256)
{
    uint8_t salt[16], d[FW_SHA256_LEN];
    char h[65];

    /* RFC 7677's salt and iteration count; SaltedPassword for "pencil". */
    cr_assert_eq(fw_base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof(salt)), 16);
    cr_assert_eq(fw_scram_hi("pencil", 6, salt, 16, 4096, d), FW_OK);
    hex(d, sizeof(d), h);
    cr_assert_str_eq(h, "c4a49510323ab4f952cac1fa99441939e78ea74d6be81ddf7096e87513dc615d");
    cr_assert_eq(fw_scram_hi("pencil", 6, salt, 16, 0, d), FW_ERR_AUTH);
}

Test(crypto, md5_password)
{
    char out[36];
    static const uint8_t salt1[4] = {'a', 'b', 'c', 'd'};
    static const uint8_t salt2[4] = {1, 2, 3, 4};

    /* select 'md5' || md5(md5('fw_md5_pw' || 'fw_md5') || 'abcd') */
    cr_assert_eq(fw_md5_password("fw_md5_pw", "fw_md5", salt1, out), FW_OK);
    cr_assert_str_eq(out, "md5318529210ce3993e9d734f4e5a5a86b2");
    cr_assert_eq(fw_md5_password("pw", "user", salt2, out), FW_OK);
    cr_assert_str_eq(out, "md546eacb7412409e1444bde22e56e70744");
    cr_assert_eq(strlen(out), 35);
}

Test(crypto, random_bytes_differ)
{
    uint8_t a[32], b[32];

    cr_assert_eq(fw_random_bytes(a, sizeof(a)), FW_OK);
    cr_assert_eq(fw_random_bytes(b, sizeof(b)), FW_OK);
    cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
}

Test(crypto, secure_zero_and_ct_equal)
{
    uint8_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, z[8] = {0};

    cr_assert(fw_ct_equal(a, a, sizeof(a)));
    cr_assert_not(fw_ct_equal(a, z, sizeof(a)));
    fw_secure_zero(a, sizeof(a));
    cr_assert(fw_ct_equal(a, z, sizeof(a)));
    fw_secure_zero(NULL, 3);
}

Test(base64, rfc4648_vectors_both_ways)
{
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    size_t i;

    for (i = 0; i < 7; i++) {
        char out[16];
        uint8_t back[16];
        size_t n = fw_base64_encode((const uint8_t *)plain[i], strlen(plain[i]), out);

        cr_assert_eq(n, strlen(enc[i]));
        cr_assert_eq(n, FW_BASE64_ENCODED_LEN(strlen(plain[i])));
        cr_assert_str_eq(out, enc[i]);
        cr_assert_eq(fw_base64_decode(enc[i], n, back, sizeof(back)), (long)strlen(plain[i]));
        cr_assert_arr_eq(back, plain[i], strlen(plain[i]));
    }
}

Test(base64, all_byte_values_round_trip)
{
    uint8_t in[256], back[256];
    char out[FW_BASE64_ENCODED_LEN(256) + 1];
    size_t n;
    int i;

    for (i = 0; i < 256; i++)
        in[i] = (uint8_t)i;
    n = fw_base64_encode(in, sizeof(in), out);
    cr_assert_eq(fw_base64_decode(out, n, back, sizeof(back)), 256);
    cr_assert_arr_eq(back, in, 256);
}

Test(base64, invalid_inputs)
{
    uint8_t out[16];
    static const char *bad[] = {
        "Zg=",      /* not a whole quad */
        "Z===",     /* too much padding */
        "Zg=a",     /* padding inside */
        "Zg==Zg==", /* padding before the end */
        "Zh==",     /* non-canonical: unused bits set */
        "Zm9=",     /* non-canonical */
        "Zm 9",     /* whitespace */
        "Zm9\n",
        "Zm-_",     /* URL alphabet */
        "====",
        "=Zg=",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(fw_base64_decode(bad[i], strlen(bad[i]), out, sizeof(out)), -1, "%s", bad[i]);
}

Test(base64, decode_respects_out_cap)
{
    uint8_t out[6];

    cr_assert_eq(fw_base64_decode("Zm9vYmFy", 8, out, 6), 6);
    cr_assert_eq(fw_base64_decode("Zm9vYmFy", 8, out, 5), -1);
    cr_assert_eq(fw_base64_decode("Zm9vYg==", 8, out, 4), 4);
    cr_assert_eq(fw_base64_decode("Zm9vYg==", 8, out, 3), -1);
    cr_assert_eq(fw_base64_decode("", 0, out, 0), 0);
}
