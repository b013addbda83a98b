/*
 * The backend-message decoder on byte fixtures: framing (need more,
 * malformed, too large), and each parser on valid and malformed bodies.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "pgmsg.h"

/* A message view over a fixture body (sizeof - 1 drops the literal's NUL). */
#define MSG(t, lit) ((fw_msg){.type = (t), .body = (const uint8_t *)(lit), .len = sizeof(lit) - 1})

/* ------------------------------------------------------------ framing */

Test(frame, whole_message)
{
    static const uint8_t in[] = {'Z', 0, 0, 0, 5, 'I', 'X'};
    fw_msg m;
    size_t used;

    cr_assert_eq(fw_msg_frame(in, sizeof(in), 0, &m, &used), FW_FRAME_OK);
    cr_assert_eq(used, 6);
    cr_assert_eq(m.type, 'Z');
    cr_assert_eq(m.len, 1);
    cr_assert_eq(m.body, in + 5);
}

Test(frame, every_truncation_needs_more)
{
    /* A real ErrorResponse. */
    static const uint8_t in[] =
        "E\0\0\0\x28" "SERROR\0VERROR\0C42601\0Msyntax error\0\0";
    size_t total = sizeof(in) - 1, cut;
    fw_msg m;
    size_t used;

    cr_assert_eq(fw_read_u32(in + 1) + 1, total);
    for (cut = 0; cut < total; cut++) {
        cr_assert_eq(fw_msg_frame(in, cut, 0, &m, &used), FW_FRAME_NEED_MORE, "cut %zu", cut);
        if (cut >= 5)
            cr_assert_eq(used, total, "needed size reported at cut %zu", cut);
        else
            cr_assert_eq(used, 0);
    }
    cr_assert_eq(fw_msg_frame(in, total, 0, &m, &used), FW_FRAME_OK);
    cr_assert_eq(used, total);
}

Test(frame, length_below_four_is_malformed)
{
    uint8_t in[8] = {'D', 0, 0, 0, 3, 0, 0, 0};
    fw_msg m;
    size_t used;

    cr_assert_eq(fw_msg_frame(in, sizeof(in), 0, &m, &used), FW_FRAME_MALFORMED);
    in[4] = 0;
    cr_assert_eq(fw_msg_frame(in, sizeof(in), 0, &m, &used), FW_FRAME_MALFORMED);
    /* A "negative" length. */
    in[1] = 0x80;
    cr_assert_eq(fw_msg_frame(in, sizeof(in), 0, &m, &used), FW_FRAME_MALFORMED);
    memcpy(in + 1, "\xff\xff\xff\xff", 4);
    cr_assert_eq(fw_msg_frame(in, sizeof(in), 0, &m, &used), FW_FRAME_MALFORMED);
    /* Exactly four: an empty body. */
    memcpy(in + 1, "\0\0\0\x04", 4);
    cr_assert_eq(fw_msg_frame(in, 5, 0, &m, &used), FW_FRAME_OK);
    cr_assert_eq(m.len, 0);
    cr_assert_eq(fw_msg_expect_empty(&m), FW_OK);
}

Test(frame, over_the_cap_is_too_large)
{
    uint8_t in[5] = {'D', 0x10, 0, 0, 1};     /* 268435457 > 256 MiB */
    fw_msg m;
    size_t used;

    cr_assert_eq(fw_msg_frame(in, sizeof(in), 0, &m, &used), FW_FRAME_TOO_LARGE);
    cr_assert_eq(fw_msg_frame(in, sizeof(in), FW_MSG_DEFAULT_MAX, &m, &used), FW_FRAME_TOO_LARGE);
    memcpy(in + 1, "\0\0\x01\x01", 4);       /* 257 */
    cr_assert_eq(fw_msg_frame(in, sizeof(in), 256, &m, &used), FW_FRAME_TOO_LARGE);
    memcpy(in + 1, "\0\0\x01\x00", 4);       /* 256: at the cap is fine */
    cr_assert_eq(fw_msg_frame(in, sizeof(in), 256, &m, &used), FW_FRAME_NEED_MORE);
    cr_assert_eq(used, 257);
}

Test(frame, unknown_and_copy_tags_are_framed)
{
    static const uint8_t in[] = {'H', 0, 0, 0, 7, 0, 0, 0, '?', 0, 0, 0, 4};
    fw_msg m;
    size_t used;

    cr_assert_eq(fw_msg_frame(in, sizeof(in), 0, &m, &used), FW_FRAME_OK);
    cr_assert_eq(m.type, 'H');
    cr_assert_eq(m.len, 3);
    cr_assert_eq(fw_msg_frame(in + used, sizeof(in) - used, 0, &m, &used), FW_FRAME_OK);
    cr_assert_eq(m.type, '?');
    cr_assert_eq(m.len, 0);
}

Test(frame, expect_empty_refuses_a_body)
{
    fw_msg m = MSG('1', "x");

    cr_assert_eq(fw_msg_expect_empty(&m), FW_ERR_PROTOCOL);
}

/* ------------------------------------------------------ error/notice */

Test(fields, error_response_fields)
{
    fw_msg m = MSG('E', "SERREUR\0VERROR\0C42P01\0Mrelation \"x\" does not exist\0"
                        "Dsome detail\0Hsome hint\0P15\0Fparse_relation.c\0L1392\0\0");
    fw_pg_fields f;

    cr_assert_eq(fw_parse_fields(&m, &f), FW_OK);
    cr_assert_str_eq(f.severity, "ERROR");          /* V wins over localised S */
    cr_assert_str_eq(f.sqlstate, "42P01");
    cr_assert_str_eq(f.message, "relation \"x\" does not exist");
    cr_assert_str_eq(f.detail, "some detail");
    cr_assert_str_eq(f.hint, "some hint");
    cr_assert_str_eq(f.position, "15");
}

Test(fields, severity_falls_back_to_s_and_absent_fields_are_null)
{
    fw_msg m = MSG('N', "SNOTICE\0Mhello\0\0");
    fw_pg_fields f;

    cr_assert_eq(fw_parse_fields(&m, &f), FW_OK);
    cr_assert_str_eq(f.severity, "NOTICE");
    cr_assert_str_eq(f.message, "hello");
    cr_assert_null(f.sqlstate);
    cr_assert_null(f.detail);
    cr_assert_null(f.hint);
    cr_assert_null(f.position);
}

Test(fields, malformed)
{
    fw_pg_fields f;
    fw_msg empty = {.type = 'E', .body = (const uint8_t *)"", .len = 0};
    fw_msg no_terminator = MSG('E', "SERROR\0");
    fw_msg no_nul = MSG('E', "SERROR");
    fw_msg trailing = MSG('E', "SERROR\0\0x");
    fw_msg code_only = MSG('E', "S");

    cr_assert_eq(fw_parse_fields(&empty, &f), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_fields(&no_terminator, &f), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_fields(&no_nul, &f), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_fields(&trailing, &f), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_fields(&code_only, &f), FW_ERR_PROTOCOL);
}

/* ------------------------------------------------------ authentication */

Test(auth, ok_cleartext_md5)
{
    fw_auth_msg a;
    fw_msg ok = MSG('R', "\0\0\0\0");
    fw_msg clear = MSG('R', "\0\0\0\x03");
    fw_msg md5 = MSG('R', "\0\0\0\x05\x01\x02\x03\x04");

    cr_assert_eq(fw_parse_auth(&ok, &a), FW_OK);
    cr_assert_eq(a.code, 0);
    cr_assert_eq(fw_parse_auth(&clear, &a), FW_OK);
    cr_assert_eq(a.code, 3);
    cr_assert_eq(fw_parse_auth(&md5, &a), FW_OK);
    cr_assert_eq(a.code, 5);
    cr_assert_eq(a.data_len, 4);
    cr_assert_arr_eq(a.data, "\x01\x02\x03\x04", 4);
}

Test(auth, fixed_size_codes_refuse_extra_or_missing_bytes)
{
    fw_auth_msg a;
    fw_msg ok_extra = MSG('R', "\0\0\0\0x");
    fw_msg md5_short = MSG('R', "\0\0\0\x05\x01\x02\x03");
    fw_msg md5_long = MSG('R', "\0\0\0\x05\x01\x02\x03\x04\x05");
    fw_msg no_code = MSG('R', "\0\0\0");
    fw_msg gss_extra = MSG('R', "\0\0\0\x07z");

    cr_assert_eq(fw_parse_auth(&ok_extra, &a), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_auth(&md5_short, &a), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_auth(&md5_long, &a), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_auth(&no_code, &a), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_auth(&gss_extra, &a), FW_ERR_PROTOCOL);
}

Test(auth, sasl_mechanisms)
{
    fw_auth_msg a;
    fw_msg m = MSG('R', "\0\0\0\x0aSCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0");

    cr_assert_eq(fw_parse_auth(&m, &a), FW_OK);
    cr_assert_eq(a.code, 10);
    cr_assert_eq(a.nmechs, 2);
    cr_assert_str_eq(a.mechs[0], "SCRAM-SHA-256-PLUS");
    cr_assert_str_eq(a.mechs[1], "SCRAM-SHA-256");
}

Test(auth, sasl_mechanisms_malformed)
{
    fw_auth_msg a;
    fw_msg no_terminator = MSG('R', "\0\0\0\x0aSCRAM-SHA-256\0");
    fw_msg no_nul = MSG('R', "\0\0\0\x0aSCRAM-SHA-256");
    fw_msg none = MSG('R', "\0\0\0\x0a\0");
    fw_msg trailing = MSG('R', "\0\0\0\x0aSCRAM-SHA-256\0\0x");
    fw_msg bare = MSG('R', "\0\0\0\x0a");

    cr_assert_eq(fw_parse_auth(&no_terminator, &a), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_auth(&no_nul, &a), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_auth(&none, &a), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_auth(&trailing, &a), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_auth(&bare, &a), FW_ERR_PROTOCOL);
}

Test(auth, sasl_mechanism_list_is_capped)
{
    uint8_t body[4 + (FW_MSG_MAX_SASL_MECHS + 1) * 2 + 1];
    size_t n = 0;
    int i;
    fw_auth_msg a;
    fw_msg m;

    memcpy(body, "\0\0\0\x0a", 4);
    n = 4;
    for (i = 0; i < FW_MSG_MAX_SASL_MECHS; i++) {
        body[n++] = 'm';
        body[n++] = 0;
    }
    body[n++] = 0;
    m = (fw_msg){.type = 'R', .body = body, .len = (uint32_t)n};
    cr_assert_eq(fw_parse_auth(&m, &a), FW_OK);
    cr_assert_eq(a.nmechs, FW_MSG_MAX_SASL_MECHS);
    /* One more is refused. */
    body[n - 1] = 'm';
    body[n++] = 0;
    body[n++] = 0;
    m.len = (uint32_t)n;
    cr_assert_eq(fw_parse_auth(&m, &a), FW_ERR_PROTOCOL);
}

Test(auth, sasl_continue_and_final_carry_data)
{
    fw_auth_msg a;
    fw_msg cont = MSG('R', "\0\0\0\x0br=abc,s=c2FsdA==,i=4096");
    fw_msg fin = MSG('R', "\0\0\0\x0cv=xyz");
    fw_msg fin_empty = MSG('R', "\0\0\0\x0c");

    cr_assert_eq(fw_parse_auth(&cont, &a), FW_OK);
    cr_assert_eq(a.code, 11);
    cr_assert_eq(a.data_len, strlen("r=abc,s=c2FsdA==,i=4096"));
    cr_assert_arr_eq(a.data, "r=abc,s=c2FsdA==,i=4096", a.data_len);
    cr_assert_eq(fw_parse_auth(&fin, &a), FW_OK);
    cr_assert_eq(a.code, 12);
    cr_assert_eq(a.data_len, 5);
    cr_assert_eq(fw_parse_auth(&fin_empty, &a), FW_OK);
    cr_assert_eq(a.data_len, 0);
    cr_assert_null(a.data);
}

Test(auth, unknown_code_returned_for_the_caller)
{
    fw_auth_msg a;
    fw_msg m = MSG('R', "\0\0\0\x63whatever");
    fw_msg neg = MSG('R', "\xff\xff\xff\xff");

    cr_assert_eq(fw_parse_auth(&m, &a), FW_OK);
    cr_assert_eq(a.code, 99);
    cr_assert_eq(fw_parse_auth(&neg, &a), FW_OK);
    cr_assert_eq(a.code, -1);
}

/* ------------------------------------------------------ small messages */

Test(small, parameter_status)
{
    const char *name, *value;
    fw_msg m = MSG('S', "server_version\00015.8\0");
    fw_msg one = MSG('S', "server_version\0");
    fw_msg trailing = MSG('S', "a\0b\0c");
    fw_msg no_nul = MSG('S', "a\0b");

    cr_assert_eq(fw_parse_parameter_status(&m, &name, &value), FW_OK);
    cr_assert_str_eq(name, "server_version");
    cr_assert_str_eq(value, "15.8");
    cr_assert_eq(fw_parse_parameter_status(&one, &name, &value), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_parameter_status(&trailing, &name, &value), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_parameter_status(&no_nul, &name, &value), FW_ERR_PROTOCOL);
}

Test(small, backend_key)
{
    int32_t pid, key;
    fw_msg m = MSG('K', "\0\0\x30\x39\xff\xff\xff\xfe");
    fw_msg short_m = MSG('K', "\0\0\x30\x39\xff\xff\xff");
    fw_msg long_m = MSG('K', "\0\0\x30\x39\xff\xff\xff\xfe\0");

    cr_assert_eq(fw_parse_backend_key(&m, &pid, &key), FW_OK);
    cr_assert_eq(pid, 12345);
    cr_assert_eq(key, -2);
    cr_assert_eq(fw_parse_backend_key(&short_m, &pid, &key), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_backend_key(&long_m, &pid, &key), FW_ERR_PROTOCOL);
}

Test(small, ready_for_query)
{
    char st;
    fw_msg i = MSG('Z', "I"), t = MSG('Z', "T"), e = MSG('Z', "E");
    fw_msg bad = MSG('Z', "X"), two = MSG('Z', "II");
    fw_msg none = {.type = 'Z', .body = (const uint8_t *)"", .len = 0};

    cr_assert_eq(fw_parse_ready(&i, &st), FW_OK);
    cr_assert_eq(st, 'I');
    cr_assert_eq(fw_parse_ready(&t, &st), FW_OK);
    cr_assert_eq(st, 'T');
    cr_assert_eq(fw_parse_ready(&e, &st), FW_OK);
    cr_assert_eq(st, 'E');
    cr_assert_eq(fw_parse_ready(&bad, &st), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_ready(&two, &st), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_ready(&none, &st), FW_ERR_PROTOCOL);
}

Test(small, command_complete)
{
    const char *tag;
    fw_msg m = MSG('C', "SELECT 3\0");
    fw_msg no_nul = MSG('C', "SELECT 3");
    fw_msg trailing = MSG('C', "SELECT 3\0\0");

    cr_assert_eq(fw_parse_command_complete(&m, &tag), FW_OK);
    cr_assert_str_eq(tag, "SELECT 3");
    cr_assert_eq(fw_parse_command_complete(&no_nul, &tag), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_command_complete(&trailing, &tag), FW_ERR_PROTOCOL);
}

Test(small, notification)
{
    int32_t pid;
    const char *ch, *payload;
    fw_msg m = MSG('A', "\0\0\x01\x00" "chan\0hello\0");
    fw_msg no_payload = MSG('A', "\0\0\x01\x00" "chan\0");
    fw_msg short_pid = MSG('A', "\0\0\x01");

    cr_assert_eq(fw_parse_notification(&m, &pid, &ch, &payload), FW_OK);
    cr_assert_eq(pid, 256);
    cr_assert_str_eq(ch, "chan");
    cr_assert_str_eq(payload, "hello");
    cr_assert_eq(fw_parse_notification(&no_payload, &pid, &ch, &payload), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_notification(&short_pid, &pid, &ch, &payload), FW_ERR_PROTOCOL);
}

Test(small, negotiate_protocol_version_as_postgresql_15_sends_it)
{
    /* Captured from a real server asked for 3.1 with _pq_.fw_unknown. */
    static const uint8_t in[] = "v\0\0\0\x1c\0\x03\0\0\0\0\0\x01_pq_.fw_unknown\0";
    fw_msg m;
    size_t used;
    int32_t version, n;

    cr_assert_eq(fw_msg_frame(in, sizeof(in) - 1, 0, &m, &used), FW_FRAME_OK);
    cr_assert_eq(used, sizeof(in) - 1);
    cr_assert_eq(fw_parse_negotiate(&m, &version, &n), FW_OK);
    cr_assert_eq(version, 196608);
    cr_assert_eq(n, 1);
}

Test(small, negotiate_protocol_version)
{
    int32_t minor, n;
    fw_msg m = MSG('v', "\0\0\0\0\0\0\0\x02_pq_.a\0_pq_.b\0");
    fw_msg none = MSG('v', "\0\0\0\0\0\0\0\0");
    fw_msg missing = MSG('v', "\0\0\0\0\0\0\0\x02_pq_.a\0");
    fw_msg negative = MSG('v', "\0\0\0\0\xff\xff\xff\xff");
    fw_msg huge = MSG('v', "\0\0\0\0\x7f\xff\xff\xff" "a\0");
    fw_msg trailing = MSG('v', "\0\0\0\0\0\0\0\0x");

    cr_assert_eq(fw_parse_negotiate(&m, &minor, &n), FW_OK);
    cr_assert_eq(minor, 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(fw_parse_negotiate(&none, &minor, &n), FW_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(fw_parse_negotiate(&missing, &minor, &n), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_negotiate(&negative, &minor, &n), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_negotiate(&huge, &minor, &n), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_negotiate(&trailing, &minor, &n), FW_ERR_PROTOCOL);
}

/* ------------------------------------------------------ RowDescription */

/* "data" jsonb column as PostgreSQL sends it for SELECT data FROM v. */
#define RD_DATA "data\0" "\0\0\x40\x01" "\0\x02" "\0\0\x0e\xda" "\xff\xff" "\xff\xff\xff\xff" "\0\0"

Test(rowdesc, one_jsonb_column)
{
    fw_msg m = MSG('T', "\0\x01" RD_DATA);
    int16_t n;
    size_t off = 2;
    fw_field_desc fd;

    cr_assert_eq(fw_parse_row_description(&m, &n), FW_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(fw_parse_row_description_field(&m, &off, &fd), FW_OK);
    cr_assert_str_eq(fd.name, "data");
    cr_assert_eq(fd.table_oid, 16385u);
    cr_assert_eq(fd.attnum, 2);
    cr_assert_eq(fd.type_oid, 3802u);
    cr_assert_eq(fd.typlen, -1);
    cr_assert_eq(fd.typmod, -1);
    cr_assert_eq(fd.format, 0);
    cr_assert_eq(off, m.len);
    /* Walking past the end fails instead of reading beyond. */
    cr_assert_eq(fw_parse_row_description_field(&m, &off, &fd), FW_ERR_PROTOCOL);
}

Test(rowdesc, two_columns_and_zero)
{
    fw_msg m = MSG('T', "\0\x02" RD_DATA "id\0" "\0\0\0\0" "\0\0" "\0\0\0\x17" "\0\x04"
                        "\xff\xff\xff\xff" "\0\0");
    fw_msg zero = MSG('T', "\0\0");
    int16_t n;
    size_t off = 2;
    fw_field_desc fd;

    cr_assert_eq(fw_parse_row_description(&m, &n), FW_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(fw_parse_row_description_field(&m, &off, &fd), FW_OK);
    cr_assert_eq(fw_parse_row_description_field(&m, &off, &fd), FW_OK);
    cr_assert_str_eq(fd.name, "id");
    cr_assert_eq(fd.type_oid, 23u);
    cr_assert_eq(fd.typlen, 4);
    cr_assert_eq(off, m.len);
    cr_assert_eq(fw_parse_row_description(&zero, &n), FW_OK);
    cr_assert_eq(n, 0);
}

Test(rowdesc, malformed)
{
    int16_t n;
    fw_msg negative = MSG('T', "\xff\xff");
    fw_msg count_past_body = MSG('T', "\0\x02" RD_DATA);
    fw_msg too_many = MSG('T', "\x06\x81");               /* 1665 */
    fw_msg trailing = MSG('T', "\0\x01" RD_DATA "x");
    fw_msg short_field = MSG('T', "\0\x01" "data\0" "\0\0\x40\x01");
    fw_msg no_nul = MSG('T', "\0\x01" "dataxxxxxxxxxxxxxxxxxxxxxx");
    fw_msg no_count = MSG('T', "\0");

    cr_assert_eq(fw_parse_row_description(&negative, &n), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_row_description(&count_past_body, &n), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_row_description(&too_many, &n), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_row_description(&trailing, &n), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_row_description(&short_field, &n), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_row_description(&no_nul, &n), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_row_description(&no_count, &n), FW_ERR_PROTOCOL);
}

Test(rowdesc, walker_refuses_bad_offsets)
{
    fw_msg m = MSG('T', "\0\x01" RD_DATA);
    fw_field_desc fd;
    size_t off;

    off = 0;
    cr_assert_eq(fw_parse_row_description_field(&m, &off, &fd), FW_ERR_PROTOCOL);
    off = m.len + 1;
    cr_assert_eq(fw_parse_row_description_field(&m, &off, &fd), FW_ERR_PROTOCOL);
    off = SIZE_MAX;
    cr_assert_eq(fw_parse_row_description_field(&m, &off, &fd), FW_ERR_PROTOCOL);
}

/* ------------------------------------------------------------ DataRow */

Test(datarow, one_column_value_and_null)
{
    const uint8_t *v;
    uint32_t len;
    fw_msg m = MSG('D', "\0\x01\0\0\0\x07{\"a\":1}");
    fw_msg null = MSG('D', "\0\x01\xff\xff\xff\xff");
    fw_msg empty = MSG('D', "\0\x01\0\0\0\0");

    cr_assert_eq(fw_parse_data_row1(&m, &v, &len), FW_OK);
    cr_assert_eq(len, 7);
    cr_assert_arr_eq(v, "{\"a\":1}", 7);
    cr_assert_eq(fw_parse_data_row1(&null, &v, &len), FW_OK);
    cr_assert_null(v);
    cr_assert_eq(len, 0);
    cr_assert_eq(fw_parse_data_row1(&empty, &v, &len), FW_OK);
    cr_assert_not_null(v);
    cr_assert_eq(len, 0);
}

Test(datarow, one_column_malformed)
{
    const uint8_t *v;
    uint32_t len;
    fw_msg two = MSG('D', "\0\x02\0\0\0\x01x\0\0\0\x01y");
    fw_msg zero = MSG('D', "\0\0");
    fw_msg neg = MSG('D', "\0\x01\xff\xff\xff\xfe");
    fw_msg min = MSG('D', "\0\x01\x80\0\0\0");
    fw_msg past = MSG('D', "\0\x01\0\0\0\x08{\"a\":1}");
    fw_msg huge = MSG('D', "\0\x01\x7f\xff\xff\xff{}");
    fw_msg trailing = MSG('D', "\0\x01\0\0\0\x02{}x");
    fw_msg short_len = MSG('D', "\0\x01\0\0");
    fw_msg no_count = MSG('D', "\0");

    cr_assert_eq(fw_parse_data_row1(&two, &v, &len), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_data_row1(&zero, &v, &len), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_data_row1(&neg, &v, &len), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_data_row1(&min, &v, &len), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_data_row1(&past, &v, &len), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_data_row1(&huge, &v, &len), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_data_row1(&trailing, &v, &len), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_data_row1(&short_len, &v, &len), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_parse_data_row1(&no_count, &v, &len), FW_ERR_PROTOCOL);
}

typedef struct cols {
    int n;
    int32_t lens[4];
    const uint8_t *vals[4];
    int stop_at;
} cols;

static fw_status
collect(void *arg, int index, const uint8_t *value, int32_t len)
{
    cols *c = arg;

    if (index == c->stop_at)
        return FW_ERR_SCHEMA;
    c->lens[c->n] = len;
    c->vals[c->n] = value;
    c->n++;
    return FW_OK;
}

Test(datarow, any_columns)
{
    fw_msg m = MSG('D', "\0\x03\0\0\0\x02" "ab" "\xff\xff\xff\xff" "\0\0\0\0");
    cols c = {.stop_at = -1};

    cr_assert_eq(fw_parse_data_row(&m, collect, &c), FW_OK);
    cr_assert_eq(c.n, 3);
    cr_assert_eq(c.lens[0], 2);
    cr_assert_arr_eq(c.vals[0], "ab", 2);
    cr_assert_eq(c.lens[1], -1);
    cr_assert_null(c.vals[1]);
    cr_assert_eq(c.lens[2], 0);
}

Test(datarow, callback_stop_and_no_partial_calls_on_malformed)
{
    fw_msg m = MSG('D', "\0\x03\0\0\0\x02" "ab" "\xff\xff\xff\xff" "\0\0\0\0");
    fw_msg bad_last = MSG('D', "\0\x02\0\0\0\x02" "ab" "\xff\xff\xff\xfd");
    fw_msg too_many = MSG('D', "\x7f\xff");
    cols c = {.stop_at = 1};
    cols d = {.stop_at = -1};

    cr_assert_eq(fw_parse_data_row(&m, collect, &c), FW_ERR_SCHEMA);
    cr_assert_eq(c.n, 1);
    cr_assert_eq(fw_parse_data_row(&bad_last, collect, &d), FW_ERR_PROTOCOL);
    cr_assert_eq(d.n, 0);
    cr_assert_eq(fw_parse_data_row(&too_many, collect, &d), FW_ERR_PROTOCOL);
}

/* Every parser on every truncation of a valid body: refused, never read
 * past (ASan watches the build-asan run). */
Test(truncation, every_parser_every_prefix)
{
    static const struct {
        char type;
        const char *body;
        size_t len;
    } fx[] = {
#define FX(t, lit) {t, lit, sizeof(lit) - 1}
        FX('E', "SERROR\0VERROR\0C42601\0Msyntax error\0\0"),
        FX('R', "\0\0\0\x05\x01\x02\x03\x04"),
        FX('R', "\0\0\0\x0aSCRAM-SHA-256\0\0"),
        FX('S', "a\0b\0"),
        FX('K', "\0\0\x30\x39\xff\xff\xff\xfe"),
        FX('Z', "I"),
        FX('C', "SELECT 1\0"),
        FX('A', "\0\0\x01\x00" "chan\0hello\0"),
        FX('v', "\0\0\0\0\0\0\0\x01_pq_.a\0"),
        FX('T', "\0\x01" RD_DATA),
        FX('D', "\0\x01\0\0\0\x02{}"),
#undef FX
    };
    size_t i, cut;

    for (i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
        for (cut = 0; cut < fx[i].len; cut++) {
            /* A heap copy of exactly cut bytes, so ASan sees any overread. */
            uint8_t *copy = malloc(cut ? cut : 1);
            fw_msg m;
            fw_status st = FW_OK;
            fw_pg_fields f;
            fw_auth_msg a;
            const char *s1, *s2;
            int32_t i1, i2;
            char ch;
            int16_t n;
            const uint8_t *v;
            uint32_t vl;

            memcpy(copy, fx[i].body, cut);
            m = (fw_msg){.type = fx[i].type, .body = copy, .len = (uint32_t)cut};
            switch (fx[i].type) {
            case 'E': st = fw_parse_fields(&m, &f); break;
            case 'R': st = fw_parse_auth(&m, &a); break;
            case 'S': st = fw_parse_parameter_status(&m, &s1, &s2); break;
            case 'K': st = fw_parse_backend_key(&m, &i1, &i2); break;
            case 'Z': st = fw_parse_ready(&m, &ch); break;
            case 'C': st = fw_parse_command_complete(&m, &s1); break;
            case 'A': st = fw_parse_notification(&m, &i1, &s1, &s2); break;
            case 'v': st = fw_parse_negotiate(&m, &i1, &i2); break;
            case 'T': st = fw_parse_row_description(&m, &n); break;
            case 'D': st = fw_parse_data_row1(&m, &v, &vl); break;
            }
            free(copy);
            cr_assert_eq(st, FW_ERR_PROTOCOL, "type %c cut at %zu", fx[i].type, cut);
        }
    }
}
