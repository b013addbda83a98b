/*
 * The stream's side of the extended protocol against a scripted server on
 * 127.0.0.1: messages out of step after Describe break the connection, and
 * extra_float_digits is set per stream only when the server rounds.  Needs
 * no cluster.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_fake_server.h"
#include "fw_test.h"

/*
 * A server out of step after Describe (a DataRow before any
 * RowDescription, or ReadyForQuery with no Sync sent): the stream fails
 * with FW_ERR_PROTOCOL and the connection is not reused, whatever the
 * server sends next (it answers our Sync here, as if all were well).
 */
static void
out_of_step_after_describe(const uint8_t *bad, size_t bad_len)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    /* the per-stream setup statement's replies, then the query's */
    static const uint8_t parsed[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, FWT_MSG_DATA_ROW,
                                     'C', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0,
                                     '1', 0, 0, 0, 4, '2', 0, 0, 0, 4};
    static const uint8_t ready[] = {FWT_MSG_READY};
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(hello), FWT_EXPECT('H'), FWT_SEND(parsed),
                             FWT_SEND_N(bad, bad_len), FWT_EXPECT('S'), FWT_SEND(ready), FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_stream *s = NULL;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    st = fw_stream_sql(c, "SELECT data FROM v", 0, NULL, 0, &s);
    cr_assert_eq(st, FW_ERR_PROTOCOL, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_null(s);
    cr_assert_eq(fw_conn_ok(c), 0, "a connection out of step must not be reused");
    cr_assert_eq(fw_exec_simple(c, "SELECT 1"), FW_ERR_IO);
    fw_conn_free(c);
    fwt_fake_stop(&f);
}

Test(stream_messages, data_row_before_row_description_breaks_the_connection, .timeout = 30)
{
    static const uint8_t row[] = {FWT_MSG_DATA_ROW};

    out_of_step_after_describe(row, sizeof row);
}

Test(stream_messages, ready_for_query_before_sync_breaks_the_connection, .timeout = 30)
{
    static const uint8_t ready[] = {FWT_MSG_READY};

    out_of_step_after_describe(ready, sizeof ready);
}

/*
 * extra_float_digits per stream: the first stream sets it and reads the
 * server's value; when that is already >= 1 (exact since PostgreSQL 12)
 * later streams send no setup statement, else every stream sets it again.
 */
static void
float_digits_setup(char server_value, const char *want_types)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};
    const uint8_t setup_then_described[] = {
        '1', 0, 0, 0, 4, '2', 0, 0, 0, 4,
        'D', 0, 0, 0, 16, 0, 2, 0, 0, 0, 1, (uint8_t)server_value, 0, 0, 0, 1, '3',
        'C', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0,
        '1', 0, 0, 0, 4, '2', 0, 0, 0, 4, FWT_MSG_ROW_DESC_JSONB};
    static const uint8_t described[] = {'1', 0, 0, 0, 4, '2', 0, 0, 0, 4, FWT_MSG_ROW_DESC_JSONB};
    static const uint8_t rows_done[] = {FWT_MSG_DATA_ROW, 'C', 0, 0, 0, 13, 'S', 'E', 'L', 'E',
                                        'C', 'T', ' ', '1', 0};
    static const uint8_t ready[] = {FWT_MSG_READY};
    const int again = server_value < '1';
    fwt_fake_step steps[] = {FWT_STARTUP, FWT_SEND(hello), FWT_EXPECT('H'),
                             FWT_SEND(setup_then_described), FWT_EXPECT('H'), FWT_SEND(rows_done),
                             FWT_EXPECT('S'), FWT_SEND(ready), FWT_EXPECT('H'),
                             again ? (fwt_fake_step)FWT_SEND(setup_then_described)
                                   : (fwt_fake_step)FWT_SEND(described),
                             FWT_EXPECT('H'), FWT_SEND(rows_done), FWT_EXPECT('S'), FWT_SEND(ready),
                             FWT_END};
    fwt_fake f;
    fw_conn *c = NULL;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;

    fwt_fake_start(&f, steps, 0);
    st = fw_connect(fwt_fake_conninfo(&f, "sslmode=disable"), &c);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    fw_conn_set_timeout(c, 5000);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(fw_stream_sql(c, "SELECT data FROM v", 0, NULL, 0, &s), FW_OK, "%s",
                     fw_conn_error_message(c));
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK, "%s", fw_conn_error_message(c));
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE, "%s", fw_conn_error_message(c));
        cr_assert_eq(fw_stream_close(s), FW_OK);
    }
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d", f.failed_step);
    cr_assert_str_eq(f.types, want_types);
}

Test(stream_messages, float_digits_set_once_when_the_server_is_exact, .timeout = 30)
{
    /* Parse Bind Execute (setup), Parse Bind Describe Flush, Execute×2 Flush, Sync; then
     * the second stream without the setup. */
    float_digits_setup('1', "PBEPBDHEEHSPBDHEEHS");
}

Test(stream_messages, float_digits_set_in_every_stream_when_the_server_rounds, .timeout = 30)
{
    float_digits_setup('0', "PBEPBDHEEHSPBEPBDHEEHS");
}

