/*
 * fw_stream_next_object against a scripted server on 127.0.0.1 that claims
 * a jsonb column and then sends rows no PostgreSQL would: text that is not
 * JSON, invalid UTF-8, nesting past the cap.  Each bad row is an error of
 * that row only; the rows around it still come, the stream ends normally
 * and the connection runs the next query.  Needs no cluster.
 */
#include <criterion/criterion.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_fake_server.h"
#include "fw_test.h"

typedef struct out_buf {
    uint8_t data[65536];
    size_t len;
} out_buf;

static void
put_bytes(out_buf *b, const void *p, size_t n)
{
    cr_assert_leq(b->len + n, sizeof b->data);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void
put_i32(out_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

    put_bytes(b, x, 4);
}

static void
put_i16(out_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};

    put_bytes(b, x, 2);
}

/* One message: type, then a body written by the caller between begin/end. */
static size_t
msg_begin(out_buf *b, char type)
{
    size_t at;

    put_bytes(b, &type, 1);
    at = b->len;
    put_i32(b, 0);
    return at;
}

static void
msg_end(out_buf *b, size_t at)
{
    uint32_t len = (uint32_t)(b->len - at);

    b->data[at] = (uint8_t)(len >> 24);
    b->data[at + 1] = (uint8_t)(len >> 16);
    b->data[at + 2] = (uint8_t)(len >> 8);
    b->data[at + 3] = (uint8_t)len;
}

static void
data_row(out_buf *b, const char *text, size_t len)
{
    size_t at = msg_begin(b, 'D');

    put_i16(b, 1);
    put_i32(b, (uint32_t)len);
    put_bytes(b, text, len);
    msg_end(b, at);
}

/* Every row of `rows` (NULL-terminated), then CommandComplete. */
static void
rows_done(out_buf *b, const char *const *rows)
{
    char tag[32];
    size_t at;
    int n = 0;

    for (const char *const *r = rows; *r; r++, n++)
        data_row(b, *r, strlen(*r));
    at = msg_begin(b, 'C');
    snprintf(tag, sizeof tag, "SELECT %d", n);
    put_bytes(b, tag, strlen(tag) + 1);
    msg_end(b, at);
}

Test(query_object, bad_rows_from_a_server_are_per_row_errors, .timeout = 30)
{
    char deep[1300];
    memset(deep, '[', 600);
    memset(deep + 600, ']', 600);
    deep[1200] = '\0';
    const char *const rows[] = {
        "{\"a\": 1}",
        "{\"a\": ",            /* truncated */
        "\"\xff\xfe\"",        /* not UTF-8 */
        "{\"a\": 1} {\"b\": 2}",   /* two values */
        deep,                  /* deeper than 512 */
        "nul",                 /* a truncated literal */
        "  [true, null]  ",    /* whitespace around is fine */
        "42",                  /* a scalar ending at the end of the row */
        "",                    /* empty text */
        "{\"a\": 9}",
        NULL,
    };
    static const fw_status want[] = {FW_OK, FW_ERR_PROTOCOL, FW_ERR_PROTOCOL, FW_ERR_PROTOCOL,
                                     FW_ERR_MEMORY, FW_ERR_PROTOCOL, FW_OK, FW_OK,
                                     FW_ERR_PROTOCOL, FW_OK};
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    /* the per-stream setup's replies (the server's extra_float_digits is 1:
     * the second stream sends none), then the query's RowDescription */
    static const uint8_t setup_then_described[] = {
        '1', 0, 0, 0, 4, '2', 0, 0, 0, 4,
        'D', 0, 0, 0, 16, 0, 2, 0, 0, 0, 1, '1', 0, 0, 0, 1, '3',
        'C', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0,
        '1', 0, 0, 0, 4, '2', 0, 0, 0, 4, FWT_MSG_ROW_DESC_JSONB};
    static const uint8_t described[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, FWT_MSG_ROW_DESC_JSONB};
    static const uint8_t ready[] = {FWT_MSG_READY};
    static out_buf rows_b;
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(hello),
                             /* first stream */
                             FWT_EXPECT('H'), FWT_SEND(setup_then_described), FWT_EXPECT('H'),
                             FWT_SEND_N(NULL, 0), FWT_EXPECT('S'), FWT_SEND(ready),
                             /* the same connection again */
                             FWT_EXPECT('H'), FWT_SEND(described), FWT_EXPECT('H'),
                             FWT_SEND_N(NULL, 0), FWT_EXPECT('S'), FWT_SEND(ready), FWT_END};
    fwt_fake f;
    fw_conn *c;
    fw_stream *s = NULL;
    struct json_object *o;
    fw_status st;

    rows_b.len = 0;
    rows_done(&rows_b, rows);
    steps[5].data = steps[11].data = rows_b.data;
    steps[5].len = steps[11].len = rows_b.len;
    fwt_fake_start(&f, steps, 0);
    c = fwt_connect(fwt_fake_conninfo(&f, "sslmode=disable"));
    for (int round = 0; round < 2; round++) {   /* the same connection twice */
        st = fw_stream_sql(c, "SELECT data FROM anything", 0, NULL, 0, &s);
        cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(c));
        cr_assert_str_eq(fw_stream_data_type(s), "jsonb");
        for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
            o = (struct json_object *)&rows_b;
            st = fw_stream_next_object(s, &o);
            cr_assert_eq(st, want[i], "row %zu (%s): %s, %s", i + 1, rows[i], fw_strerror(st),
                         fw_conn_error_message(c));
            if (st != FW_OK) {
                cr_assert_null(o, "no object with an error");
                cr_assert_eq(fw_conn_error_class(c), st);
                cr_assert_not_null(fw_conn_error_message(c));
                cr_assert(strstr(fw_conn_error_message(c), "row") != NULL, "%s",
                          fw_conn_error_message(c));
            }
            if (i == 0 || i == 9)
                cr_assert_eq(json_object_get_int(json_object_object_get(o, "a")), i == 0 ? 1 : 9);
            if (i == 6)
                cr_assert_eq(json_object_array_length(o), 2);
            if (i == 7)
                cr_assert_eq(json_object_get_int(o), 42);
            json_object_put(st == FW_OK ? o : NULL);
        }
        o = (struct json_object *)&rows_b;
        cr_assert_eq(fw_stream_next_object(s, &o), FW_DONE);
        cr_assert_null(o);
        cr_assert_eq(fw_stream_rows(s), 10, "every row was handed out, the bad ones too");
        cr_assert_eq(fw_stream_close(s), FW_OK);
        cr_assert(fw_conn_ok(c));
    }
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d (client sent %s)",
                 f.failed_step, f.types);
    cr_assert_str_eq(f.types, "PBEPBDHEEHSPBDHEEHS", "two queries, the setup once");
}
