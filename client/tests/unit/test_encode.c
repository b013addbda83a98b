/*
 * Frontend messages compared byte for byte with hand-written expectations
 * (protocol-message-formats.html), and the encoders' refusals.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "pgmsg.h"

/* Asserts the buffer holds exactly the literal (without its final NUL). */
#define ASSERT_BYTES(b, lit)                                                     \
    do {                                                                         \
        cr_assert_eq((b)->len, sizeof(lit) - 1, "length %zu, want %zu", (b)->len, \
                     sizeof(lit) - 1);                                           \
        cr_assert_arr_eq((b)->data, lit, sizeof(lit) - 1);                       \
    } while (0)

Test(encode, startup)
{
    fw_buf b;
    const char *params[] = {"user", "alice", "database", "db", NULL};

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_enc_startup(&b, params), FW_OK);
    ASSERT_BYTES(&b, "\0\0\0\x20" "\0\x03\0\0" "user\0alice\0database\0db\0" "\0");
    fw_buf_free(&b);
}

Test(encode, startup_refuses_odd_pairs)
{
    fw_buf b;
    const char *odd[] = {"user", NULL};
    const char *empty_name[] = {"", "x", NULL};

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_buf_put_u8(&b, 'q'), FW_OK);
    cr_assert_eq(fw_enc_startup(&b, odd), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_startup(&b, empty_name), FW_ERR_USAGE);
    ASSERT_BYTES(&b, "q");     /* rolled back */
    cr_assert_eq(fw_enc_startup(&b, NULL), FW_OK);
    ASSERT_BYTES(&b, "q" "\0\0\0\x09" "\0\x03\0\0" "\0");
    fw_buf_free(&b);
}

Test(encode, ssl_and_cancel_requests)
{
    fw_buf b;

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_enc_ssl_request(&b), FW_OK);
    ASSERT_BYTES(&b, "\0\0\0\x08\x04\xd2\x16\x2f");
    b.len = 0;
    cr_assert_eq(fw_enc_cancel_request(&b, 12345, -2), FW_OK);
    ASSERT_BYTES(&b, "\0\0\0\x10\x04\xd2\x16\x2e" "\0\0\x30\x39" "\xff\xff\xff\xfe");
    fw_buf_free(&b);
}

Test(encode, password_and_sasl)
{
    fw_buf b;

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_enc_password(&b, "secret"), FW_OK);
    ASSERT_BYTES(&b, "p\0\0\0\x0bsecret\0");
    b.len = 0;
    cr_assert_eq(fw_enc_sasl_initial(&b, "SCRAM-SHA-256", (const uint8_t *)"n,,n=,r=abc", 11),
                 FW_OK);
    ASSERT_BYTES(&b, "p\0\0\0\x21" "SCRAM-SHA-256\0" "\0\0\0\x0b" "n,,n=,r=abc");
    b.len = 0;
    cr_assert_eq(fw_enc_sasl_initial(&b, "X", NULL, 0), FW_OK);
    ASSERT_BYTES(&b, "p\0\0\0\x0a" "X\0" "\xff\xff\xff\xff");
    b.len = 0;
    cr_assert_eq(fw_enc_sasl_response(&b, (const uint8_t *)"c=biws", 6), FW_OK);
    ASSERT_BYTES(&b, "p\0\0\0\x0a" "c=biws");
    fw_buf_free(&b);
}

Test(encode, query)
{
    fw_buf b;

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_enc_query(&b, "SELECT 1"), FW_OK);
    ASSERT_BYTES(&b, "Q\0\0\0\x0dSELECT 1\0");
    fw_buf_free(&b);
}

Test(encode, parse)
{
    fw_buf b;
    const uint32_t types[] = {3802, 23};

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_enc_parse(&b, "", "SELECT $1", 0, NULL), FW_OK);
    ASSERT_BYTES(&b, "P\0\0\0\x11" "\0" "SELECT $1\0" "\0\0");
    b.len = 0;
    cr_assert_eq(fw_enc_parse(&b, "s1", "SELECT $1, $2", 2, types), FW_OK);
    ASSERT_BYTES(&b, "P\0\0\0\x1f" "s1\0" "SELECT $1, $2\0" "\0\x02" "\0\0\x0e\xda" "\0\0\0\x17");
    fw_buf_free(&b);
}

Test(encode, bind)
{
    fw_buf b;
    const char *values[] = {"{\"a\":1}", NULL, ""};

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_enc_bind(&b, "", "", 3, values), FW_OK);
    ASSERT_BYTES(&b, "B\0\0\0\x1f" "\0" "\0" "\0\0" "\0\x03"
                     "\0\0\0\x07{\"a\":1}" "\xff\xff\xff\xff" "\0\0\0\0" "\0\0");
    b.len = 0;
    cr_assert_eq(fw_enc_bind(&b, "p", "s", 0, NULL), FW_OK);
    ASSERT_BYTES(&b, "B\0\0\0\x0e" "p\0" "s\0" "\0\0" "\0\0" "\0\0");
    fw_buf_free(&b);
}

Test(encode, describe_execute_close)
{
    fw_buf b;

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_enc_describe(&b, 'P', ""), FW_OK);
    ASSERT_BYTES(&b, "D\0\0\0\x06P\0");
    b.len = 0;
    cr_assert_eq(fw_enc_execute(&b, "", 256), FW_OK);
    ASSERT_BYTES(&b, "E\0\0\0\x09\0\0\0\x01\0");
    b.len = 0;
    cr_assert_eq(fw_enc_close(&b, 'S', "s1"), FW_OK);
    ASSERT_BYTES(&b, "C\0\0\0\x08Ss1\0");
    fw_buf_free(&b);
}

Test(encode, sync_flush_terminate)
{
    fw_buf b;

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_enc_sync(&b), FW_OK);
    cr_assert_eq(fw_enc_flush(&b), FW_OK);
    cr_assert_eq(fw_enc_terminate(&b), FW_OK);
    ASSERT_BYTES(&b, "S\0\0\0\x04H\0\0\0\x04X\0\0\0\x04");
    fw_buf_free(&b);
}

Test(encode, an_extended_query_round_trips_through_the_framer)
{
    fw_buf b;
    const char *v[] = {"x"};
    size_t off = 0, used;
    fw_msg m;
    const char want[] = "PBDES";
    int i = 0;

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_enc_parse(&b, "", "SELECT $1::jsonb AS data", 0, NULL), FW_OK);
    cr_assert_eq(fw_enc_bind(&b, "", "", 1, v), FW_OK);
    cr_assert_eq(fw_enc_describe(&b, 'P', ""), FW_OK);
    cr_assert_eq(fw_enc_execute(&b, "", 10), FW_OK);
    cr_assert_eq(fw_enc_sync(&b), FW_OK);
    while (off < b.len) {
        cr_assert_eq(fw_msg_frame(b.data + off, b.len - off, 0, &m, &used), FW_FRAME_OK);
        cr_assert_eq(m.type, want[i]);
        i++;
        off += used;
    }
    cr_assert_eq(i, 5);
    fw_buf_free(&b);
}

Test(encode, usage_errors_leave_the_buffer_alone)
{
    fw_buf b;
    const uint32_t types[] = {23};

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_enc_query(&b, NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_password(&b, NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_parse(&b, "", "x", -1, types), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_parse(&b, "", "x", 1, NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_parse(&b, NULL, "x", 0, NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_bind(&b, "", "", -1, NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_bind(&b, "", "", 1, NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_describe(&b, 'X', ""), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_close(&b, 'S', NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_execute(&b, "", -1), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_sasl_initial(&b, NULL, NULL, 0), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_sasl_initial(&b, "X", NULL, 3), FW_ERR_USAGE);
    cr_assert_eq(fw_enc_sasl_response(&b, NULL, 3), FW_ERR_USAGE);
    cr_assert_eq(b.len, 0);
    fw_buf_free(&b);
}

Test(encode, a_buffer_limit_fails_whole_and_rolls_back)
{
    fw_buf b;
    char sql[64];

    memset(sql, 'x', sizeof(sql) - 1);
    sql[sizeof(sql) - 1] = '\0';
    fw_buf_init(&b, 300);
    cr_assert_eq(fw_enc_sync(&b), FW_OK);
    cr_assert_eq(fw_enc_query(&b, sql), FW_OK);
    cr_assert_eq(b.len, 5 + 5 + 64);
    /* 74 + 69*3 = 281 fits, the fourth does not. */
    cr_assert_eq(fw_enc_query(&b, sql), FW_OK);
    cr_assert_eq(fw_enc_query(&b, sql), FW_OK);
    cr_assert_eq(fw_enc_query(&b, sql), FW_OK);
    cr_assert_eq(fw_enc_query(&b, sql), FW_ERR_LIMIT);
    cr_assert_eq(b.len, 5 + 4 * 69);
    cr_assert_leq(b.cap, 300);
    fw_buf_free(&b);
}

Test(encode, over_int32_is_refused)
{
    fw_buf b;
    static const uint8_t small[8];
    size_t n = (size_t)INT32_MAX + 10;

    fw_buf_init(&b, 0);
    /* Refused before reading the data (ASan would see the overread) or
     * allocating for it. */
    cr_assert_eq(fw_enc_sasl_response(&b, small, n), FW_ERR_LIMIT);
    cr_assert_eq(fw_enc_sasl_initial(&b, "SCRAM-SHA-256", small, n), FW_ERR_LIMIT);
    cr_assert_eq(fw_enc_sasl_response(&b, small, (size_t)INT32_MAX - 3), FW_ERR_LIMIT);
    cr_assert_eq(b.len, 0);
    fw_buf_free(&b);
}
